package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
)

// The figures as dashboards and exports ask for them. They are read from
// case_stats_rollup, where every area has rows of its own, by day, that add
// up its cases and those of every area below it, and rows by category and
// by unit for what lies below it (what lies on it is in case_stats). So an
// area's figures cost the same whatever the number of cases and grids
// under it. Both tables get each move's counters through
// case_stats_pending (see addStats), which every reading applies first, and
// VerifyStats recomputes both from the log.

// Group is how a report breaks its figures down.
type Group string

const (
	ByArea     Group = "area"     // the areas directly under the chosen one
	ByUnit     Group = "unit"     // handling units; the intake moves, made before any unit, form a row of their own
	ByCategory Group = "category" // categories (小类)
	ByDay      Group = "day"
	ByWeek     Group = "week" // ISO weeks, Monday to Sunday
	ByMonth    Group = "month"
)

// Groups lists the groupings in the order a form offers them.
var Groups = []Group{ByArea, ByUnit, ByCategory, ByDay, ByWeek, ByMonth}

// Period reports whether g breaks the figures down by time.
func (g Group) Period() bool { return g == ByDay || g == ByWeek || g == ByMonth }

// KPIQuery selects the cases of a dashboard.
type KPIQuery struct {
	AreaCode string    // "" for everything the caller may read
	From, To string    // China-time dates YYYY-MM-DD, inclusive; "" for open ends
	Group    Group     // for KPIReport; "" is ByArea
	Lang     i18n.Lang // for KPIReport: the language of category names
}

// maxPeriods bounds the rows of a time series (ten years of days).
const maxPeriods = 3700

// KPIRow is one line of a report: an area, a unit, a category or a period.
type KPIRow struct {
	// Key is the area, unit or category code, or the period: "2026-11-26",
	// "2026-W48" (ISO week) or "2026-11". It is "" for the cases that have
	// none: located in no area, or not dispatched to a unit (yet).
	Key  string `json:"key"`
	Name string `json:"name"`
	KPIs
}

// AreaRef names an area.
type AreaRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// KPIReport is what a dashboard shows: the figures of a set of cases over a
// period, broken down one way, and their total.
type KPIReport struct {
	Area  *AreaRef `json:"area"` // what the figures cover; nil for all the caller may read
	From  string   `json:"from"` // the period asked for; "" for an open end
	To    string   `json:"to"`
	Group Group    `json:"group"`
	Rows  []KPIRow `json:"rows"`
	Total KPIs     `json:"total"`
}

// KPIs adds up the daily counters of the cases in the caller's scope (and
// under AreaCode) over the period. Errors as KPIReport's.
func (s *Service) KPIs(ctx context.Context, q KPIQuery) (KPIs, error) {
	sel, err := s.selectStats(ctx, q)
	if err != nil {
		return KPIs{}, err
	}
	sums, err := s.sumTotals(ctx, sel, ids(sel.cover), "")
	var total counters
	for _, g := range sums {
		total.add(g.c)
	}
	return s.kpis(total), err
}

// KPIReport adds up the daily counters of the cases in the caller's scope
// (and under q.AreaCode) over the period, by q.Group, in one grouped query;
// the total is the sum of the rows. Errors: Invalid (an unknown group, a
// date not written YYYY-MM-DD, from after to, a series of more than
// maxPeriods periods), NotFound (an area the caller may not read),
// Forbidden (no right to read cases).
func (s *Service) KPIReport(ctx context.Context, q KPIQuery) (KPIReport, error) {
	sel, err := s.selectStats(ctx, q)
	if err != nil {
		return KPIReport{}, err
	}
	q = sel.q
	r := KPIReport{From: q.From, To: q.To, Group: q.Group}
	if sel.area != nil {
		r.Area = &AreaRef{Code: sel.area.Code, Name: sel.area.Name}
	}
	var total counters
	switch q.Group {
	case ByArea:
		r.Rows, total, err = s.areaRows(ctx, sel)
	case ByUnit:
		r.Rows, total, err = s.unitRows(ctx, sel)
	case ByCategory:
		r.Rows, total, err = s.categoryRows(ctx, sel)
	default:
		r.Rows, total, err = s.periodRows(ctx, sel)
	}
	if err != nil {
		return KPIReport{}, err
	}
	for i := range r.Rows {
		r.Rows[i].KPIs = s.kpis(r.Rows[i].Counts)
	}
	r.Total = s.kpis(total)
	return r, nil
}

// statSelection is what a query covers: the areas whose rollup rows add up
// to the cases asked for, and the days.
type statSelection struct {
	q    KPIQuery
	area *area.Area // the chosen area, if any
	// whole is set when the caller may read every case under area.
	whole bool
	// cover are areas whose subtrees do not overlap and together hold
	// exactly the cases the caller asked for and may read. ID 0 stands for
	// the cases located in no area (seen by global grants only).
	cover []area.Area
}

// selectStats checks q and works out the areas it covers.
func (s *Service) selectStats(ctx context.Context, q KPIQuery) (statSelection, error) {
	p := auth.From(ctx)
	if !p.CanAnywhere(auth.CaseRead) {
		return statSelection{}, p.Require(auth.CaseRead, "")
	}
	q.AreaCode, q.From, q.To = strings.TrimSpace(q.AreaCode), strings.TrimSpace(q.From), strings.TrimSpace(q.To)
	if q.Group == "" {
		q.Group = ByArea
	}
	var v errs.Validation
	v.Check(slices.Contains(Groups, q.Group), "group", "err.kpi.group", string(q.Group))
	v.Check(validDay(q.From), "from", "err.kpi.date", q.From)
	v.Check(validDay(q.To), "to", "err.kpi.date", q.To)
	v.Check(q.From == "" || q.To == "" || !validDay(q.From) || !validDay(q.To) || q.From <= q.To, "to", "err.kpi.range", q.From, q.To)
	if err := v.Err(); err != nil {
		return statSelection{}, err
	}
	if err := s.store.flushStats(ctx); err != nil {
		return statSelection{}, err
	}
	sel := statSelection{q: q}
	if q.AreaCode != "" {
		a, err := s.areas.Get(ctx, q.AreaCode)
		if err != nil {
			return statSelection{}, err
		}
		sel.area = &a
		if p.Can(auth.CaseRead, a.Path) {
			sel.whole, sel.cover = true, []area.Area{a}
			return sel, nil
		}
	}
	tops, global, err := s.scopeTops(ctx, p)
	switch {
	case err != nil:
		return statSelection{}, err
	case sel.area != nil: // the parts of the area the caller may read
		for _, t := range tops {
			if strings.HasPrefix(t.Path, sel.area.Path) {
				sel.cover = append(sel.cover, t)
			}
		}
	case global:
		sel.cover = append(tops, area.Area{}) // and the cases located nowhere
	case len(tops) == 1:
		sel.area, sel.whole, sel.cover = &tops[0], true, tops
	default:
		sel.cover = tops
	}
	return sel, nil
}

// scopeTops returns the highest areas in which p may read cases, by code;
// for a global grant, the roots of the area tree.
func (s *Service) scopeTops(ctx context.Context, p *auth.Principal) (tops []area.Area, global bool, err error) {
	if p.Can(auth.CaseRead, "") {
		tops, err = db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (area.Area, error) {
			var a area.Area
			err := row.Scan(&a.ID, &a.Code, &a.Name, &a.Path)
			return a, err
		}, "SELECT id, code, name, path FROM areas WHERE parent_id IS NULL ORDER BY code")
		return tops, true, err
	}
	var paths []string
	for _, g := range p.Grants {
		if g.AreaID != 0 && p.Can(auth.CaseRead, g.AreaPath) && !slices.Contains(paths, g.AreaPath) {
			paths = append(paths, g.AreaPath)
		}
	}
	slices.Sort(paths) // an area comes before the areas under it
	var top []string
	for _, path := range paths {
		if !slices.ContainsFunc(top, func(t string) bool { return strings.HasPrefix(path, t) }) {
			top = append(top, path)
		}
	}
	for _, g := range p.Grants {
		if i := slices.Index(top, g.AreaPath); i >= 0 {
			top[i] = "" // once per area
			tops = append(tops, area.Area{ID: g.AreaID, Code: g.AreaCode, Name: g.AreaName, Path: g.AreaPath})
		}
	}
	slices.SortFunc(tops, func(a, b area.Area) int { return strings.Compare(a.Code, b.Code) })
	return tops, false, nil
}

// validDay accepts "" (an open end) and a real date written YYYY-MM-DD.
func validDay(d string) bool {
	_, ok := parseDay(d)
	return ok || d == ""
}

// parseDay reads a real date written YYYY-MM-DD, and nothing else.
func parseDay(d string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, d)
	return t, err == nil && t.Format(time.DateOnly) == d
}

func ids(as []area.Area) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// groupSum is the counters of one group: an area, unit or category id, or
// a day.
type groupSum struct {
	key string
	c   counters
}

// sumCols are the counters' SUMs over rows aliased r, in the order Scan
// takes them.
var sumCols = func() string {
	var sums []string
	for _, c := range statCols {
		sums = append(sums, "SUM(r."+c+")")
	}
	return strings.Join(sums, ", ")
}()

// areaArgs starts the arguments of a query with the area ids, padded to a
// power of two with the last one (which changes nothing in an IN list), so
// that the prepared-statement cache holds a few query texts rather than
// one per number of areas, and appends the selected days. It returns the
// IN list and the conditions on the days of rows aliased as alias.
func areaArgs(sel statSelection, areaIDs []int64, alias string, args []any) (in, days string, out []any) {
	n := 1
	for n < len(areaIDs) {
		n *= 2
	}
	var ph []string
	for i := range n {
		args = append(args, areaIDs[min(i, len(areaIDs)-1)])
		ph = append(ph, "$"+strconv.Itoa(len(args)))
	}
	for _, d := range []struct{ v, op string }{{sel.q.From, ">="}, {sel.q.To, "<="}} {
		if d.v != "" {
			args = append(args, d.v)
			days += " AND " + alias + ".day " + d.op + " $" + strconv.Itoa(len(args))
		}
	}
	return "(" + strings.Join(ph, ", ") + ")", days, args
}

// sumTotals adds up the rollup's day rows ('t') of the areas over the
// selected days, grouped by "area" (the area id), by "day", or not at all
// (""). Groups without rows are absent.
func (s *Service) sumTotals(ctx context.Context, sel statSelection, areaIDs []int64, by string) ([]groupSum, error) {
	if len(areaIDs) == 0 {
		return nil, nil
	}
	in, days, args := areaArgs(sel, areaIDs, "r", nil)
	key, group := "''", " GROUP BY r.dim" // one row, or none without figures
	switch by {
	case "area":
		key, group = "r.area_id", " GROUP BY r.area_id"
	case "day":
		key, group = "r.day", " GROUP BY r.day"
	}
	return s.scanSums(ctx, "SELECT "+key+", "+sumCols+" FROM case_stats_rollup r WHERE r.area_id IN "+in+
		" AND r.dim = 't'"+days+group, args)
}

// sumByDim adds up the figures of the areas over the selected days by
// category (dim 'c') or unit ('u'), by id: the rollup's rows for what lies
// below the areas, and their own case_stats rows for the cases located on
// them (a grid's are all its cases).
func (s *Service) sumByDim(ctx context.Context, sel statSelection, areaIDs []int64, dim byte) ([]groupSum, error) {
	if len(areaIDs) == 0 {
		return nil, nil
	}
	in, days, args := areaArgs(sel, areaIDs, "r", []any{string(dim)})
	col := "category_id"
	if dim == 'u' {
		col = "unit_id"
	}
	cols := "r." + strings.Join(statCols, ", r.")
	query := "SELECT r.k, " + sumCols + " FROM (" +
		"SELECT r.dim_id AS k, " + cols + " FROM case_stats_rollup r WHERE r.area_id IN " + in + " AND r.dim = $1" + days +
		" UNION ALL SELECT r." + col + " AS k, " + cols + " FROM case_stats r WHERE r.area_id IN " + in + days +
		") r GROUP BY r.k"
	return s.scanSums(ctx, query, args)
}

func (s *Service) scanSums(ctx context.Context, query string, args []any) ([]groupSum, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (groupSum, error) {
		var g groupSum
		c := &g.c
		err := row.Scan(append([]any{&g.key}, c.ptrs()...)...)
		return g, err
	}, query, args...)
}

// areaRows breaks the figures down by the areas directly under the chosen
// one (or under the one area of the caller's scope); an area with no
// children is its own row. Without such an area (several areas of scope,
// a global grant, or a chosen area the caller may read only parts of),
// the rows are the areas of the cover. Areas without cases get a row of
// zeros; cases on the chosen area itself get its row, and cases located in
// no area a row with key "".
func (s *Service) areaRows(ctx context.Context, sel statSelection) ([]KPIRow, counters, error) {
	var total counters
	rows, index := []KPIRow{}, map[string]int{}
	addRow := func(a area.Area) {
		index[strconv.FormatInt(a.ID, 10)] = len(rows)
		rows = append(rows, KPIRow{Key: a.Code, Name: a.Name})
	}
	if !sel.whole {
		for _, a := range sel.cover {
			addRow(a)
		}
		sums, err := s.sumTotals(ctx, sel, ids(sel.cover), "area")
		for _, g := range sums {
			rows[index[g.key]].Counts.add(g.c)
			total.add(g.c)
		}
		rows = slices.DeleteFunc(rows, func(r KPIRow) bool { return r.Key == "" && r.Counts == counters{} })
		return rows, total, err
	}
	parent := *sel.area
	var children []area.Area
	for after := ""; ; {
		page, err := s.areas.List(ctx, area.ListQuery{Parent: parent.Code, After: after, Limit: 500})
		if err != nil {
			return nil, total, err
		}
		children = append(children, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Code
	}
	for _, a := range children {
		addRow(a)
	}
	sums, err := s.sumTotals(ctx, sel, append(ids(children), parent.ID), "area")
	if err != nil {
		return nil, total, err
	}
	var below counters
	for _, g := range sums {
		if i, ok := index[g.key]; ok {
			rows[i].Counts.add(g.c)
			below.add(g.c)
		} else {
			total = g.c // the parent's own rows hold everything under it
		}
	}
	if own := total.minus(below); own != (counters{}) || len(children) == 0 {
		rows = append(rows, KPIRow{Key: parent.Code, Name: parent.Name, KPIs: KPIs{Counts: own}})
	}
	return rows, total, nil
}

// unitRows breaks the figures down by handling unit, by code; the intake
// moves, made before any dispatch, come last with key "".
func (s *Service) unitRows(ctx context.Context, sel statSelection) ([]KPIRow, counters, error) {
	var total counters
	sums, err := s.sumByDim(ctx, sel, ids(sel.cover), 'u')
	if err != nil {
		return nil, total, err
	}
	type unit struct{ id, code, name string }
	units, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (unit, error) {
		var u unit
		err := row.Scan(&u.id, &u.code, &u.name)
		return u, err
	}, "SELECT id, code, name FROM units")
	if err != nil {
		return nil, total, err
	}
	byID := map[string]unit{}
	for _, u := range units {
		byID[u.id] = u
	}
	rows := make([]KPIRow, 0, len(sums))
	for _, g := range sums {
		u := byID[g.key] // unit 0 (none) is the zero unit
		rows = append(rows, KPIRow{Key: u.code, Name: u.name, KPIs: KPIs{Counts: g.c}})
		total.add(g.c)
	}
	slices.SortFunc(rows, func(a, b KPIRow) int { return cmpKeys(a.Key, b.Key) })
	return rows, total, nil
}

// categoryRows breaks the figures down by category, named in the query's
// language, in the order of the category tree.
func (s *Service) categoryRows(ctx context.Context, sel statSelection) ([]KPIRow, counters, error) {
	var total counters
	sums, err := s.sumByDim(ctx, sel, ids(sel.cover), 'c')
	if err != nil {
		return nil, total, err
	}
	cats, err := s.Categories(ctx)
	if err != nil {
		return nil, total, err
	}
	order := map[string]int{}
	byID := map[string]Category{}
	for i, c := range cats {
		byID[strconv.FormatInt(c.ID, 10)], order[c.Code] = c, i
	}
	rows := make([]KPIRow, 0, len(sums))
	for _, g := range sums {
		var r KPIRow
		if c, ok := byID[g.key]; ok {
			r = KPIRow{Key: c.Code, Name: c.Name(sel.q.Lang)}
		}
		r.Counts = g.c
		rows = append(rows, r)
		total.add(g.c)
	}
	slices.SortFunc(rows, func(a, b KPIRow) int {
		if a.Key == "" || b.Key == "" {
			return cmpKeys(a.Key, b.Key)
		}
		return order[a.Key] - order[b.Key]
	})
	return rows, total, nil
}

// cmpKeys orders codes, with "" (none) last.
func cmpKeys(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// periodRows breaks the figures down by day, ISO week or month, with a row
// for every period from the start of the query (or the first day with
// figures) to its end (or the last), so that a chart shows quiet periods
// as zeros.
func (s *Service) periodRows(ctx context.Context, sel statSelection) ([]KPIRow, counters, error) {
	var total counters
	q := sel.q
	sums, err := s.sumTotals(ctx, sel, ids(sel.cover), "day")
	if err != nil {
		return nil, total, err
	}
	first, last := q.From, q.To
	for _, g := range sums {
		if q.From == "" && (first == "" || g.key < first) {
			first = g.key
		}
		if q.To == "" && g.key > last {
			last = g.key
		}
	}
	rows := []KPIRow{}
	if first == "" || last == "" {
		return rows, total, nil
	}
	start, err1 := time.Parse(time.DateOnly, first)
	end, err2 := time.Parse(time.DateOnly, last)
	if err := errors.Join(err1, err2); err != nil {
		return nil, total, errs.Wrap(err, "err.internal") // not a day written by dayOf
	}
	index := map[string]int{}
	for t := periodStart(start, q.Group); !t.After(end); t = nextPeriod(t, q.Group) {
		if len(rows) == maxPeriods {
			return nil, total, fieldErr("group", "err.kpi.too_many_periods", maxPeriods)
		}
		k := periodKey(t, q.Group)
		index[k] = len(rows)
		rows = append(rows, KPIRow{Key: k, Name: k})
	}
	for _, g := range sums {
		t, err := time.Parse(time.DateOnly, g.key)
		if err != nil {
			return nil, total, errs.Wrap(err, "err.internal")
		}
		rows[index[periodKey(t, q.Group)]].Counts.add(g.c)
		total.add(g.c)
	}
	return rows, total, nil
}

func periodStart(t time.Time, g Group) time.Time {
	switch g {
	case ByWeek:
		return t.AddDate(0, 0, -(int(t.Weekday())+6)%7) // back to Monday
	case ByMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func nextPeriod(t time.Time, g Group) time.Time {
	switch g {
	case ByWeek:
		return t.AddDate(0, 0, 7)
	case ByMonth:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// periodKey names the period of a day: 2026-11-26, 2026-W48, 2026-11.
func periodKey(t time.Time, g Group) string {
	switch g {
	case ByWeek:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case ByMonth:
		return t.Format("2006-01")
	}
	return t.Format(time.DateOnly)
}
