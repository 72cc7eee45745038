package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
	"github.com/linli/linli/internal/platform/sheet"
)

// The city hotline (12345) hands its tickets to the street or community
// as a CSV export. ImportHotline turns every ticket of such a file into a
// case on channel 12345, waiting to be accepted like any other report. A
// file is taken whole or not at all: every row is checked first, and one
// bad row means nothing is imported and every bad row is listed, so that
// the operator fixes the file and tries again. A ticket imported before
// (same 工单编号) is skipped, so importing a file twice is harmless.

// HotlineMapping says which column of a hotline export holds each field of
// a ticket. Values are column names of the header, matched exactly or else
// ignoring case. docs/hotline.md documents every key.
type HotlineMapping struct {
	TimeZone    string   `json:"time_zone"`    // IANA zone of times without an offset; default Asia/Shanghai
	TimeLayouts []string `json:"time_layouts"` // Go layouts, tried in order; default the usual Chinese ones
	ExternalID  string   `json:"external_id"`  // required: the ticket number (工单编号)
	ReportedAt  string   `json:"reported_at"`  // when the call came in; empty cells: at import
	Description string   `json:"description"`  // required: what the caller asked for (诉求内容)
	Category    string   `json:"category"`     // the hotline's category of the ticket
	// Categories translates the hotline's categories into Linli's leaf
	// codes. A value not listed is looked up as a leaf's code or its
	// Chinese or English name; an empty cell takes DefaultCategory.
	Categories      map[string]string `json:"categories"`
	DefaultCategory string            `json:"default_category"`
	Address         string            `json:"address"`
	Area            string            `json:"area"` // a community or grid, by code or name: where a ticket without a point goes
	Name            string            `json:"name"`
	Phone           string            `json:"phone"`
	Lat             string            `json:"lat"`
	Lon             string            `json:"lon"`
	// Coordinates is the datum of lat/lon: wgs84 (default), gcj02 (most
	// Chinese map services) or bd09 (Baidu).
	Coordinates string `json:"coordinates"`
	// Optional columns may be missing from the file: the default mapping
	// names the usual headers, and not every export has all of them. In a
	// mapping of one's own a missing column is an error, since it is most
	// likely misspelt.
	OptionalColumns bool `json:"optional_columns"`
}

// DefaultHotlineMapping reads the usual headers of a 12345 work-order
// export; tickets without a category become 生活求助 (S0201) cases.
func DefaultHotlineMapping() HotlineMapping {
	return HotlineMapping{ExternalID: "工单编号", ReportedAt: "来电时间", Description: "诉求内容", Category: "诉求分类",
		DefaultCategory: "S0201", Address: "事发地址", Area: "所属社区", Name: "联系人", Phone: "联系电话",
		Lat: "纬度", Lon: "经度", Coordinates: "gcj02", OptionalColumns: true}
}

// MaxHotlineRows bounds one import: a district's hotline sends hundreds of
// tickets a day, and a whole file is one transaction.
const MaxHotlineRows = 50000

var defaultHotlineLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04",
	"2006年1月2日 15:04:05", "2006年1月2日 15:04", "2006-01-02T15:04:05Z07:00", "2006-01-02"}

// ParseHotlineMapping reads a mapping file; unknown keys are refused so
// that a misspelt key does not silently drop a column.
func ParseHotlineMapping(r io.Reader) (HotlineMapping, error) {
	var m HotlineMapping
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return HotlineMapping{}, fieldErr("mapping", "err.hotline.mapping_json", err.Error())
	}
	_, err := m.prepare()
	return m, err
}

// prepare checks the mapping, fills its defaults and returns its zone.
func (m *HotlineMapping) prepare() (*time.Location, error) {
	if m.TimeZone == "" {
		m.TimeZone = "Asia/Shanghai"
	}
	if len(m.TimeLayouts) == 0 {
		m.TimeLayouts = defaultHotlineLayouts
	}
	if m.Coordinates == "" {
		m.Coordinates = "wgs84"
	}
	var v errs.Validation
	v.Check(m.ExternalID != "", "mapping.external_id", "err.hotline.mapping_required", "external_id")
	v.Check(m.Description != "", "mapping.description", "err.hotline.mapping_required", "description")
	v.Check(m.Category != "" || m.DefaultCategory != "", "mapping.category", "err.hotline.mapping_category")
	v.Check((m.Lat == "") == (m.Lon == ""), "mapping.lat", "err.hotline.mapping_latlon")
	v.Check(m.Coordinates == "wgs84" || m.Coordinates == "gcj02" || m.Coordinates == "bd09", "mapping.coordinates",
		"err.hotline.mapping_datum", m.Coordinates)
	loc, err := time.LoadLocation(m.TimeZone)
	v.Check(err == nil, "mapping.time_zone", "err.hotline.mapping_zone", m.TimeZone)
	return loc, v.Err()
}

type hotlineField struct {
	key, column string
	required    bool
}

func (m HotlineMapping) fields() []hotlineField {
	return []hotlineField{{"external_id", m.ExternalID, true}, {"description", m.Description, true},
		{"reported_at", m.ReportedAt, false}, {"category", m.Category, false}, {"address", m.Address, false},
		{"area", m.Area, false}, {"name", m.Name, false}, {"phone", m.Phone, false}, {"lat", m.Lat, false}, {"lon", m.Lon, false}}
}

// HotlineReport is what an import did, or would do when it was a check.
type HotlineReport struct {
	Rows     int      `json:"rows"`     // tickets in the file
	Imported int      `json:"imported"` // cases created
	Known    int      `json:"known"`    // tickets imported before: skipped
	Routing  int      `json:"needs_routing"`
	Numbers  []string `json:"numbers"` // the new cases, in file order
	Checked  bool     `json:"checked_only,omitempty"`
}

// HotlineOptions configure ImportHotline.
type HotlineOptions struct {
	Mapping HotlineMapping
	// CheckOnly validates the file and counts what an import would do,
	// writing nothing.
	CheckOnly bool
}

// ImportHotline imports a hotline export read by rows (a CSV or xlsx file
// opened with platform/sheet). The caller needs case.accept: taking in the
// hotline's tickets is the intake desk's work. A bad file or any bad row
// is an Invalid error whose fields name every bad row and column (the
// first sheet.MaxListed of them); nothing is written then.
func (s *Service) ImportHotline(ctx context.Context, rows sheet.Reader, opt HotlineOptions) (HotlineReport, error) {
	p := auth.From(ctx)
	if !p.CanAnywhere(auth.CaseAccept) {
		return HotlineReport{}, p.Require(auth.CaseAccept, "")
	}
	m := opt.Mapping
	loc, err := m.prepare()
	if err != nil {
		return HotlineReport{}, err
	}
	col, err := bindHotline(m, rows.Header())
	if err != nil {
		return HotlineReport{}, err
	}
	refs, err := s.hotlineRefs(ctx, m)
	if err != nil {
		return HotlineReport{}, err
	}
	rd := &hotlineReader{svc: s, m: m, loc: loc, col: col, refs: refs, seen: map[string]int{}, now: s.now()}
	tickets, err := rd.readAll(rows)
	if err != nil {
		return HotlineReport{}, err
	}
	rep := HotlineReport{Rows: len(tickets), Checked: opt.CheckOnly}
	known, err := s.knownTickets(ctx, tickets)
	if err != nil {
		return HotlineReport{}, err
	}
	rep.Known = len(known)
	if opt.CheckOnly {
		rep.Imported = len(tickets) - rep.Known
		rep.Routing, err = s.unrouted(ctx, tickets, known)
		return rep, err
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		rep.Imported, rep.Routing, rep.Numbers = 0, 0, nil
		for _, t := range tickets {
			if known[t.nc.ExternalID] {
				continue
			}
			rc, err := s.Report(ctx, t.nc)
			if err != nil {
				return fmt.Errorf("row %d: %w", t.line, err)
			}
			rep.Imported++
			rep.Numbers = append(rep.Numbers, rc.Number)
			if rc.Routing {
				rep.Routing++
			}
		}
		return nil
	})
	if err != nil {
		return HotlineReport{}, err
	}
	return rep, nil
}

// bindHotline finds each mapped column in the header.
func bindHotline(m HotlineMapping, header []string) (map[string]int, error) {
	col := map[string]int{}
	var v errs.Validation
	for _, f := range m.fields() {
		if f.column == "" {
			continue
		}
		i := columnIndex(header, f.column)
		switch {
		case i >= 0:
			col[f.key] = i
		case f.required || !m.OptionalColumns:
			v.Add("header", "err.hotline.column_missing", f.column, f.key, strings.Join(header, ", "))
		}
	}
	return col, v.Err()
}

// hotlineRefs are the categories and areas a ticket's cells may name.
type hotlineRefs struct {
	categories map[string]string // code, zh name or en name of an active leaf → code
	areas      map[string]string // code or name of an area in the caller's scope → code
}

func (s *Service) hotlineRefs(ctx context.Context, m HotlineMapping) (hotlineRefs, error) {
	refs := hotlineRefs{categories: map[string]string{}, areas: map[string]string{}}
	cats, err := s.Categories(AsSystem(ctx))
	if err != nil {
		return refs, err
	}
	parents := map[string]bool{}
	for _, c := range cats {
		parents[c.Parent] = true
	}
	for _, c := range cats {
		if c.Active && !parents[c.Code] {
			refs.categories[c.Code], refs.categories[c.NameZH], refs.categories[c.NameEN] = c.Code, c.Code, c.Code
		}
	}
	if m.Area == "" {
		return refs, nil
	}
	return refs, s.eachArea(ctx, func(a area.Area) {
		refs.areas[a.Code] = a.Code
		for _, name := range spokenNames(a.Name) {
			if _, taken := refs.areas[name]; !taken { // the first (upper) area of a name wins
				refs.areas[name] = a.Code
			}
		}
	})
}

// spokenNames are the names a hotline writes for an area: its official
// name and, for a community, the name without the committee's suffix
// (岱山社区居委会 → 岱山社区).
func spokenNames(name string) []string {
	names := []string{name}
	for _, suffix := range []string{"居民委员会", "居委会", "村民委员会", "村委会"} {
		if short, ok := strings.CutSuffix(name, suffix); ok && short != "" {
			names = append(names, short)
		}
	}
	return names
}

// eachArea calls f for every area the caller may read, page by page.
func (s *Service) eachArea(ctx context.Context, f func(area.Area)) error {
	after := ""
	for {
		page, err := s.areas.List(ctx, area.ListQuery{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, a := range page {
			f(a)
		}
		if len(page) < 500 {
			return nil
		}
		after = page[len(page)-1].Code
	}
}

// unrouted counts the new tickets that would need routing by hand: no
// area, and no point inside a grid.
func (s *Service) unrouted(ctx context.Context, tickets []ticket, known map[string]bool) (int, error) {
	n := 0
	for _, t := range tickets {
		if known[t.nc.ExternalID] || t.nc.AreaCode != "" {
			continue
		}
		located := false
		if t.nc.Point != nil {
			_, ok, err := s.areas.Locate(ctx, *t.nc.Point)
			if err != nil {
				return 0, err
			}
			located = ok
		}
		if !located {
			n++
		}
	}
	return n, nil
}

// knownTickets returns the external ids of the tickets imported before.
func (s *Service) knownTickets(ctx context.Context, tickets []ticket) (map[string]bool, error) {
	known := map[string]bool{}
	for start := 0; start < len(tickets); start += 500 {
		batch := tickets[start:min(start+500, len(tickets))]
		args := []any{string(Channel12345)}
		ph := make([]string, len(batch))
		for i, t := range batch {
			args = append(args, t.nc.ExternalID)
			ph[i] = "$" + strconv.Itoa(i+2)
		}
		ids, err := db.All(ctx, s.db.Q(ctx), scanString, knownTicketsSQL(ph), args...)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			known[id] = true
		}
	}
	return known, nil
}

// knownTicketsSQL finds which of the ticket numbers at the placeholders
// are stored. Ticket numbers are never empty (every row must have one),
// and the query says so to use the partial index cases_external.
func knownTicketsSQL(placeholders []string) string {
	return "SELECT external_id FROM cases WHERE channel = $1 AND external_id <> '' AND external_id IN (" +
		strings.Join(placeholders, ", ") + ")"
}

// ticket is a row ready to import.
type ticket struct {
	line int
	nc   NewCase
}

// hotlineReader checks rows and turns them into tickets.
type hotlineReader struct {
	svc  *Service
	m    HotlineMapping
	loc  *time.Location
	col  map[string]int
	refs hotlineRefs
	seen map[string]int // external id → the line it was first seen on
	now  time.Time

	problems sheet.Problems
}

// readAll reads every row; any bad row makes the result an Invalid error
// listing them.
func (rd *hotlineReader) readAll(rows sheet.Reader) ([]ticket, error) {
	var out []ticket
	for {
		row, err := rows.Next()
		if err == io.EOF {
			break
		}
		var bad *sheet.RowError
		if errors.As(err, &bad) {
			rd.add(bad.Line, "", "err.hotline.row_unreadable", bad.Zh+" / "+bad.En)
			continue
		}
		if err != nil {
			return nil, sheet.AsError(err)
		}
		if len(out)+rd.problems.Count() >= MaxHotlineRows {
			return nil, fieldErr("file", "err.hotline.too_many_rows", MaxHotlineRows)
		}
		if t, ok := rd.ticket(row.Line, row.Cells); ok {
			out = append(out, t)
		}
	}
	if err := rd.problems.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fieldErr("file", "err.hotline.no_rows")
	}
	return out, nil
}

// add records a bad cell of the column of key ("" for the whole row).
func (rd *hotlineReader) add(line int, key, msg string, args ...any) {
	column := ""
	if key != "" {
		column = rd.columnOf(key)
	}
	rd.problems.Add(line, column, msg, args...)
}

func (rd *hotlineReader) columnOf(key string) string {
	for _, f := range rd.m.fields() {
		if f.key == key {
			return f.column
		}
	}
	return key
}

// ticket checks one row; every fault of the row is recorded.
func (rd *hotlineReader) ticket(line int, cells []string) (ticket, bool) {
	before := rd.problems.Count()
	get := func(key string) string {
		if i, ok := rd.col[key]; ok && i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
		return ""
	}
	nc := NewCase{Channel: Channel12345, ExternalID: get("external_id"), Description: get("description"),
		Address: get("address"), Name: get("name"), Phone: normalPhone(get("phone"))}
	switch first, dup := rd.seen[nc.ExternalID]; {
	case nc.ExternalID == "":
		rd.add(line, "external_id", "err.hotline.id_missing")
	case dup:
		rd.add(line, "external_id", "err.hotline.id_repeated", nc.ExternalID, first)
	case utf8.RuneCountInString(nc.ExternalID) > 64:
		rd.add(line, "external_id", "err.hotline.id_long")
	default:
		rd.seen[nc.ExternalID] = line
	}
	rd.checkText(line, nc)
	nc.At = rd.reportedAt(line, get("reported_at"))
	nc.Category = rd.category(line, get("category"))
	nc.Point = rd.point(line, get("lat"), get("lon"))
	if cell := get("area"); cell != "" {
		if code, ok := rd.refs.areas[cell]; ok {
			nc.AreaCode = code
		} else {
			rd.add(line, "area", "err.hotline.area_unknown", cell)
		}
	}
	return ticket{line: line, nc: nc}, rd.problems.Count() == before
}

// normalPhone writes a mobile number as its 11 digits (callers' numbers
// come as "+86 138-0000-0000" and the like); a landline keeps its form.
func normalPhone(s string) string {
	s = strings.NewReplacer(" ", "", "－", "-").Replace(s)
	digits := strings.ReplaceAll(s, "-", "")
	for _, prefix := range []string{"+86", "86", ""} {
		if rest, ok := strings.CutPrefix(digits, prefix); ok && len(rest) == 11 && rest[0] == '1' {
			return rest
		}
	}
	return s
}

func (rd *hotlineReader) checkText(line int, nc NewCase) {
	switch n := utf8.RuneCountInString(nc.Description); {
	case n == 0:
		rd.add(line, "description", "err.case.description_missing")
	case n > MaxDescription:
		rd.add(line, "description", "err.case.description_long", MaxDescription)
	}
	if utf8.RuneCountInString(nc.Address) > 200 {
		rd.add(line, "address", "err.case.address_long")
	}
	if utf8.RuneCountInString(nc.Name) > 50 {
		rd.add(line, "name", "err.case.name_long")
	}
	if nc.Phone != "" && !mobileRE.MatchString(nc.Phone) && !landlineRE.MatchString(nc.Phone) {
		rd.add(line, "phone", "err.case.phone")
	}
}

// reportedAt is the call's time, or the import's when the cell is empty.
// A time in the future is a wrong cell (or zone), not a ticket to trust.
func (rd *hotlineReader) reportedAt(line int, cell string) time.Time {
	if cell == "" {
		return time.Time{}
	}
	for _, layout := range rd.m.TimeLayouts {
		if t, err := time.ParseInLocation(layout, cell, rd.loc); err == nil {
			if t.After(rd.now.Add(time.Hour)) {
				rd.add(line, "reported_at", "err.hotline.time_future", cell)
			}
			return t.UTC()
		}
	}
	rd.add(line, "reported_at", "err.hotline.time", cell, strings.Join(rd.m.TimeLayouts, " | "))
	return time.Time{}
}

func (rd *hotlineReader) category(line int, cell string) string {
	if cell == "" {
		if rd.m.DefaultCategory == "" {
			rd.add(line, "category", "err.hotline.category_missing")
			return ""
		}
		cell = rd.m.DefaultCategory
	}
	if mapped, ok := rd.m.Categories[cell]; ok {
		cell = mapped
	}
	code, ok := rd.refs.categories[cell]
	if !ok {
		rd.add(line, "category", "err.hotline.category_unknown", cell)
	}
	return code
}

// point reads the ticket's location in the mapping's datum as WGS84. Both
// cells empty is no point; anything else must be a real coordinate.
func (rd *hotlineReader) point(line int, lat, lon string) *orb.Point {
	if lat == "" && lon == "" {
		return nil
	}
	y, err1 := strconv.ParseFloat(lat, 64)
	x, err2 := strconv.ParseFloat(lon, 64)
	// Written as "not within", so that NaN (which ParseFloat accepts and
	// which compares false with anything) is refused too.
	if err1 != nil || err2 != nil || !(math.Abs(y) <= 90) || !(math.Abs(x) <= 180) {
		rd.add(line, "lat", "err.hotline.point", lat, lon)
		return nil
	}
	p := orb.Point{x, y}
	switch rd.m.Coordinates {
	case "gcj02":
		p = geo.GCJ02ToWGS84(p)
	case "bd09":
		p = geo.BD09ToWGS84(p)
	}
	return &p
}
