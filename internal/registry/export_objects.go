package registry

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// Exporting buildings with their rooms, households and places. An export
// has its kind's template columns (without 序号), so that a clerk can
// correct it in Excel and import it again; places' contact phones are
// masked unless revealed as residents' numbers are (ExportOptions), and a
// masked number imported again keeps the stored one. Pages of the caller's
// scope are read by id and written as they come, and the export is audited
// with its row count once complete.

// ExportQuery selects what an export of buildings, households or places
// holds: the caller's grids, or one of them.
type ExportQuery struct {
	Grid string
}

// exportCursor is an export's position and counts.
type exportCursor struct {
	p        *auth.Principal
	grid     string
	after    int64
	reveal   bool
	revealed int
}

// exportPages reads the next page of a kind's export as rows of cells;
// more is false after the last page.
type exportPages func(s *Service, ctx context.Context, c *exportCursor) (rows [][]any, more bool, err error)

// objectExports are the exports of each kind besides residents.
var objectExports = map[ImportKind]struct {
	kind  *objectKind
	skip  []string // template columns the export leaves out
	pages exportPages
}{
	KindBuildings:  {&buildingKind, nil, buildingPage},
	KindHouseholds: {&householdKind, []string{"room_id"}, householdPage},
	KindPlaces:     {&placeKind, nil, placePage},
}

// Export writes the kind's objects in the caller's scope as CSV (UTF-8
// with a BOM) or xlsx, and returns how many rows it wrote. Residents are
// exported as ExportResidents and ExportResidentsXLSX export them (q.Grid
// selecting the grid); opt.Reveal applies to residents and places, the
// only kinds with sealed numbers.
func (s *Service) Export(ctx context.Context, kind ImportKind, format string, q ExportQuery, w io.Writer, opt ExportOptions) (int, error) {
	if format != "csv" && format != "xlsx" {
		return 0, errs.OnField("format", "err.registry.export_format")
	}
	if kind == KindResidents {
		open := func() (sheet.Writer, error) { return sheet.NewXLSXWriter(w, "居民", exportHeader) }
		if format == "csv" {
			open = func() (sheet.Writer, error) {
				cw, err := sheet.NewCSVWriter(w, exportHeader)
				return dateText{cw}, err
			}
		}
		return s.export(ctx, ResidentQuery{Grid: q.Grid}, opt, open)
	}
	e, ok := objectExports[kind]
	if !ok {
		return 0, errs.E(errs.NotFound, "err.registry.import_kind", string(kind))
	}
	if kind != KindPlaces {
		opt = ExportOptions{}
	}
	if err := s.CheckExport(ctx, opt); err != nil {
		return 0, err
	}
	if q.Grid != "" {
		if _, err := s.grid(ctx, q.Grid, auth.RegistryRead); err != nil {
			return 0, err
		}
	}
	header := exportColumns(e.kind.columns, e.skip)
	var out sheet.Writer
	var err error
	if format == "xlsx" {
		out, err = sheet.NewXLSXWriter(w, e.kind.sheet, header)
	} else {
		out, err = sheet.NewCSVWriter(w, header)
	}
	if err != nil {
		return 0, err
	}
	c := &exportCursor{p: auth.From(ctx), grid: q.Grid, reveal: opt.Reveal}
	n, err := s.writePages(ctx, out, e.pages, c)
	if err != nil {
		return n, err
	}
	detail := strconv.Itoa(n) + " rows"
	if kind == KindPlaces {
		detail += ", masked"
	}
	if opt.Reveal {
		detail = strconv.Itoa(n) + " rows, " + strconv.Itoa(c.revealed) + " in clear: " + strings.TrimSpace(opt.Reason)
	}
	return n, s.audit.Record(ctx, audit.Entry{Action: "registry." + e.kind.target + ".export", TargetType: e.kind.target, Detail: detail})
}

// exportColumns is a template's header without 序号 and skip.
func exportColumns(cols []importColumn, skip []string) []string {
	var out []string
	for _, c := range cols {
		if c.key != "seq" && !containsString(skip, c.key) {
			out = append(out, c.header)
		}
	}
	return out
}

// writePages writes every page and closes the file. An error after the
// first row cuts the file short; the caller audits only a complete one.
func (s *Service) writePages(ctx context.Context, out sheet.Writer, pages exportPages, c *exportCursor) (int, error) {
	n := 0
	for more := true; more; {
		var rows [][]any
		var err error
		if rows, more, err = pages(s, ctx, c); err != nil {
			return n, err
		}
		for _, cells := range rows {
			if err := out.Write(cells); err != nil {
				return n, err
			}
		}
		n += len(rows)
	}
	return n, out.Close()
}

// zeroEmpty writes an unknown number (0) as an empty cell, which an
// import reads as "keep what is registered".
func zeroEmpty(n int) any {
	if n == 0 {
		return ""
	}
	return n
}

// pointCells are a location's 经度 and 纬度 cells.
func pointCells(p *Point) (any, any) {
	if p == nil {
		return "", ""
	}
	return p.Lon, p.Lat
}

// buildingPage is a page of buildings, a row for each room (in the order
// of the building's page) or one for a building without rooms.
func buildingPage(s *Service, ctx context.Context, c *exportCursor) ([][]any, bool, error) {
	items, err := s.store.buildings(ctx, c.p, BuildingQuery{Grid: c.grid, After: c.after, Limit: exportPage})
	if err != nil || len(items) == 0 {
		return nil, false, err
	}
	ids := make([]int64, len(items))
	for i, b := range items {
		ids[i] = b.ID
	}
	rooms, err := s.store.roomsOf(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	var rows [][]any
	for _, b := range items {
		lon, lat := pointCells(b.Location)
		head := []any{b.Grid, b.Estate, b.Road, b.DoorNo, b.Name, zeroEmpty(b.Floors), zeroEmpty(b.Units), lon, lat}
		if len(rooms[b.ID]) == 0 {
			rows = append(rows, append(head, "", "", "", "")) // every row as wide as the header, for CSV readers
		}
		for _, r := range rooms[b.ID] {
			rows = append(rows, append(head[:len(head):len(head)], r.Unit, r.Number, zeroEmpty(r.Floor), usageNames[r.Usage]))
		}
	}
	c.after = items[len(items)-1].ID
	return rows, len(items) == exportPage, nil
}

func householdPage(s *Service, ctx context.Context, c *exportCursor) ([][]any, bool, error) {
	items, err := s.store.households(ctx, c.p, c.grid, c.after, exportPage)
	if err != nil || len(items) == 0 {
		return nil, false, err
	}
	rows := make([][]any, len(items))
	for i, h := range items {
		rows[i] = []any{h.Number, h.Grid, h.Address, h.Unit, h.RoomNumber}
	}
	c.after = items[len(items)-1].ID
	return rows, len(items) == exportPage, nil
}

// placePage is a page of places, the contact phone masked unless the
// export reveals and the caller may reveal in the place's grid.
func placePage(s *Service, ctx context.Context, c *exportCursor) ([][]any, bool, error) {
	items, err := s.store.places(ctx, c.p, PlaceQuery{Grid: c.grid, After: c.after, Limit: exportPage})
	if err != nil || len(items) == 0 {
		return nil, false, err
	}
	rows := make([][]any, len(items))
	for i, pl := range items {
		phone, err := s.box.Open(fieldContactPhone, pl.phoneSealed)
		if err != nil {
			return nil, false, errs.Wrap(err, "err.internal")
		}
		if c.reveal && c.p.Can(auth.RegistryReveal, pl.AreaPath) {
			c.revealed++
		} else {
			phone = crypto.MaskPhone(phone)
		}
		lon, lat := pointCells(pl.Location)
		rows[i] = []any{pl.Grid, pl.Name, placeKindNames[pl.Kind], pl.CreditCode, pl.Address, lon, lat, pl.ContactName, phone}
	}
	c.after = items[len(items)-1].ID
	return rows, len(items) == exportPage, nil
}
