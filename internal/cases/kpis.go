package cases

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

// KPIs adds up the daily counters of the cases in the caller's scope (and
// under AreaCode) over the period.
func (s *Service) KPIs(ctx context.Context, q KPIQuery) (KPIs, error) {
	sel, err := s.selectStats(ctx, q)
	if err != nil {
		return KPIs{}, err
	}
	sums, err := s.sumBy(ctx, sel, "")
	if err != nil || len(sums) == 0 {
		return s.kpis(counters{}), err
	}
	return s.kpis(sums[0].c), nil
}

// KPIRow is one line of a report: an area, a unit, a category or a period.
type KPIRow struct {
	// Key is the area, unit or category code, or the period: "2026-11-26",
	// "2026-W48" (ISO week) or "2026-11". It is "" for the cases that have
	// none: not located in any area, or not dispatched to a unit (yet).
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

// KPIReport adds up the daily counters of the cases in the caller's scope
// (and under q.AreaCode) over the period, by q.Group. Every figure comes
// from one grouped pass over case_stats; the total is the sum of the rows.
// Errors: Invalid (unknown group, a date not YYYY-MM-DD, from after to, a
// daily series over ten years), NotFound (an area the caller cannot read),
// Forbidden.
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
	var sums []groupSum
	switch q.Group {
	case ByArea:
		sums, err = s.sumBy(ctx, sel, "t.area_id")
		if err == nil {
			r.Rows, r.Area, err = s.areaRows(ctx, sel, sums)
		}
	case ByUnit:
		sums, err = s.sumBy(ctx, sel, "t.unit_id")
		if err == nil {
			r.Rows, err = s.unitRows(ctx, sums)
		}
	case ByCategory:
		sums, err = s.sumBy(ctx, sel, "t.category_id")
		if err == nil {
			r.Rows, err = s.categoryRows(ctx, sums, q.Lang)
		}
	default:
		sums, err = s.sumBy(ctx, sel, "t.day")
		if err == nil {
			r.Rows, err = s.periodRows(q, sums)
		}
	}
	if err != nil {
		return KPIReport{}, err
	}
	var total counters
	for _, g := range sums {
		total.add(g.c)
	}
	for i := range r.Rows {
		r.Rows[i].KPIs = s.kpis(r.Rows[i].Counts)
	}
	r.Total = s.kpis(total)
	return r, nil
}

// statSelection is a set of case_stats rows (aliased t): an SQL condition
// with its arguments, and the area it was narrowed to.
type statSelection struct {
	q     KPIQuery
	area  *area.Area
	where string
	args  []any
}

// selectStats checks q and turns it into the condition on case_stats.
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
	sel := statSelection{q: q}
	cond, args := p.Filter(auth.CaseRead, "t.area_id", 1)
	where := []string{cond}
	if q.AreaCode != "" {
		a, err := s.areas.Get(ctx, q.AreaCode)
		if err != nil {
			return statSelection{}, err
		}
		sel.area = &a
		args = append(args, a.Path, auth.PathEnd(a.Path))
		where = append(where, fmt.Sprintf("t.area_id IN (SELECT id FROM areas WHERE path >= $%d AND path < $%d)", len(args)-1, len(args)))
	}
	if q.From != "" {
		args = append(args, q.From)
		where = append(where, "t.day >= $"+strconv.Itoa(len(args)))
	}
	if q.To != "" {
		args = append(args, q.To)
		where = append(where, "t.day <= $"+strconv.Itoa(len(args)))
	}
	sel.where, sel.args = strings.Join(where, " AND "), args
	return sel, nil
}

// validDay accepts "" (an open end) and a real date written YYYY-MM-DD.
func validDay(d string) bool {
	if d == "" {
		return true
	}
	t, err := time.Parse(time.DateOnly, d)
	return err == nil && t.Format(time.DateOnly) == d
}

// groupSum is the counters of one group: an area's path, a unit or
// category id, or a day.
type groupSum struct {
	key string
	c   counters
}

// sumBy adds up the selected counters by dim ("" for one total). Areas
// come back as their paths, so that one pass serves any level of the tree.
func (s *Service) sumBy(ctx context.Context, sel statSelection, dim string) ([]groupSum, error) {
	var sums, outer []string
	for _, c := range statCols {
		sums = append(sums, "SUM(t."+c+") AS "+c)
		outer = append(outer, "COALESCE(g."+c+", 0)")
	}
	var query string
	switch dim {
	case "":
		query = "SELECT '', " + strings.Join(outer, ", ") + " FROM (SELECT " + strings.Join(sums, ", ") +
			" FROM case_stats t WHERE " + sel.where + ") g"
	case "t.area_id":
		query = "SELECT COALESCE(a.path, ''), " + strings.Join(outer, ", ") + " FROM (SELECT t.area_id AS k, " + strings.Join(sums, ", ") +
			" FROM case_stats t WHERE " + sel.where + " GROUP BY t.area_id) g LEFT JOIN areas a ON a.id = g.k"
	default:
		query = "SELECT g.k, " + strings.Join(outer, ", ") + " FROM (SELECT " + dim + " AS k, " + strings.Join(sums, ", ") +
			" FROM case_stats t WHERE " + sel.where + " GROUP BY " + dim + ") g"
	}
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (groupSum, error) {
		var g groupSum
		c := &g.c
		err := row.Scan(&g.key, &c.reported, &c.accepted, &c.rejected, &c.dispatched, &c.closed, &c.closedOnTime, &c.closedDeferred,
			&c.feedbacks, &c.reworked, &c.extended, &c.callbacks, &c.contacted, &c.solved, &c.satisfied, &c.basicallySatisfied, &c.unsatisfied)
		return g, err
	}, query, sel.args...)
}

// areaRows breaks the sums down by the areas directly under the chosen
// area, each with every area below it. Without a chosen area it starts
// from the top of the caller's scope: the one area of their grants, or
// each of several, or the roots of the tree for a global grant. Areas
// with no cases get a row of zeros; cases on the chosen area itself get
// its row, cases located nowhere a row with key "".
func (s *Service) areaRows(ctx context.Context, sel statSelection, sums []groupSum) ([]KPIRow, *AreaRef, error) {
	parent := sel.area
	var children []area.Area
	if parent == nil {
		tops, global := scopeTops(auth.From(ctx))
		switch {
		case global:
			roots, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (area.Area, error) {
				var a area.Area
				err := row.Scan(&a.Code, &a.Name, &a.Path)
				return a, err
			}, "SELECT code, name, path FROM areas WHERE parent_id IS NULL ORDER BY code")
			if err != nil {
				return nil, nil, err
			}
			children = roots
		case len(tops) == 1:
			a, err := s.areas.Get(ctx, tops[0])
			if err != nil {
				return nil, nil, err
			}
			parent = &a
		default:
			for _, code := range tops {
				a, err := s.areas.Get(ctx, code)
				if err != nil {
					return nil, nil, err
				}
				children = append(children, a)
			}
		}
	}
	if parent != nil {
		for after := ""; ; {
			page, err := s.areas.List(ctx, area.ListQuery{Parent: parent.Code, After: after, Limit: 500})
			if err != nil {
				return nil, nil, err
			}
			children = append(children, page...)
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].Code
		}
		if len(children) == 0 {
			children = []area.Area{*parent}
		}
	}
	rows := make([]KPIRow, len(children))
	byPath := make(map[string]int, len(children))
	for i, a := range children {
		rows[i] = KPIRow{Key: a.Code, Name: a.Name}
		byPath[a.Path] = i
	}
	var own, nowhere *KPIRow
	for _, g := range sums {
		if i, ok := childOf(g.key, byPath); ok {
			rows[i].Counts.add(g.c)
			continue
		}
		at := &nowhere
		if parent != nil && g.key == parent.Path {
			at = &own
		}
		if *at == nil {
			*at = &KPIRow{}
			if at == &own {
				**at = KPIRow{Key: parent.Code, Name: parent.Name}
			}
		}
		(*at).Counts.add(g.c)
	}
	for _, extra := range []*KPIRow{own, nowhere} {
		if extra != nil {
			rows = append(rows, *extra)
		}
	}
	var ref *AreaRef
	if parent != nil {
		ref = &AreaRef{Code: parent.Code, Name: parent.Name}
	}
	return rows, ref, nil
}

// childOf finds the row of the area whose path is a prefix of path.
func childOf(path string, byPath map[string]int) (int, bool) {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			if row, ok := byPath[path[:i+1]]; ok {
				return row, true
			}
		}
	}
	return 0, false
}

// scopeTops returns the highest areas the principal may read cases in,
// by code, or global when a grant covers everything.
func scopeTops(p *auth.Principal) (codes []string, global bool) {
	if p.Can(auth.CaseRead, "") {
		return nil, true
	}
	var paths []string
	byPath := map[string]string{}
	for _, g := range p.Grants {
		if g.AreaID != 0 && p.Can(auth.CaseRead, g.AreaPath) {
			if _, dup := byPath[g.AreaPath]; !dup {
				paths = append(paths, g.AreaPath)
				byPath[g.AreaPath] = g.AreaCode
			}
		}
	}
	slices.Sort(paths)
	for i, path := range paths {
		covered := false
		for _, other := range paths[:i] {
			covered = covered || strings.HasPrefix(path, other)
		}
		if !covered {
			codes = append(codes, byPath[path])
		}
	}
	slices.Sort(codes)
	return codes, false
}

// unitRows names the units of the sums, by code; the intake moves, made
// before any dispatch, come last with key "".
func (s *Service) unitRows(ctx context.Context, sums []groupSum) ([]KPIRow, error) {
	type unit struct{ id, code, name string }
	units, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (unit, error) {
		var u unit
		err := row.Scan(&u.id, &u.code, &u.name)
		return u, err
	}, "SELECT id, code, name FROM units")
	if err != nil {
		return nil, err
	}
	byID := map[string]unit{}
	for _, u := range units {
		byID[u.id] = u
	}
	rows := make([]KPIRow, 0, len(sums))
	for _, g := range sums {
		u := byID[g.key] // unit 0 (none) is the zero unit
		rows = append(rows, KPIRow{Key: u.code, Name: u.name, KPIs: KPIs{Counts: g.c}})
	}
	slices.SortFunc(rows, func(a, b KPIRow) int { return cmpKeys(a.Key, b.Key) })
	return rows, nil
}

// categoryRows names the categories of the sums in lang, in the order of
// the category tree.
func (s *Service) categoryRows(ctx context.Context, sums []groupSum, lang i18n.Lang) ([]KPIRow, error) {
	cats, err := s.Categories(ctx)
	if err != nil {
		return nil, err
	}
	order := map[string]int{}
	byID := map[string]Category{}
	for i, c := range cats {
		id := strconv.FormatInt(c.ID, 10)
		byID[id], order[c.Code] = c, i
	}
	rows := make([]KPIRow, 0, len(sums))
	for _, g := range sums {
		var r KPIRow
		if c, ok := byID[g.key]; ok {
			r = KPIRow{Key: c.Code, Name: c.Name(lang)}
		}
		r.Counts = g.c
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b KPIRow) int {
		if a.Key == "" || b.Key == "" {
			return cmpKeys(a.Key, b.Key)
		}
		return order[a.Key] - order[b.Key]
	})
	return rows, nil
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

// periodRows adds the days of the sums up by day, ISO week or month, with
// a row for every period from the start of the query (or the first day
// with figures) to its end (or the last), so that a chart shows quiet
// periods as zeros.
func (s *Service) periodRows(q KPIQuery, sums []groupSum) ([]KPIRow, error) {
	first, last := q.From, q.To
	for _, g := range sums {
		if q.From == "" && (first == "" || g.key < first) {
			first = g.key
		}
		if q.To == "" && g.key > last {
			last = g.key
		}
	}
	if first == "" || last == "" {
		return []KPIRow{}, nil
	}
	start, err1 := time.Parse(time.DateOnly, first)
	end, err2 := time.Parse(time.DateOnly, last)
	if err := errors.Join(err1, err2); err != nil {
		return nil, errs.Wrap(err, "err.internal") // a day in case_stats not written by dayOf
	}
	var rows []KPIRow
	index := map[string]int{}
	for t := periodStart(start, q.Group); !t.After(end); t = nextPeriod(t, q.Group) {
		if len(rows) == maxPeriods {
			return nil, fieldErr("group", "err.kpi.too_many_periods", maxPeriods)
		}
		k := periodKey(t, q.Group)
		index[k] = len(rows)
		rows = append(rows, KPIRow{Key: k, Name: k})
	}
	for _, g := range sums {
		t, err := time.Parse(time.DateOnly, g.key)
		if err != nil {
			return nil, errs.Wrap(err, "err.internal")
		}
		if i, ok := index[periodKey(t, q.Group)]; ok {
			rows[i].Counts.add(g.c)
		}
	}
	return rows, nil
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

