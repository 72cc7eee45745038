package registry

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// Importing buildings with their rooms, households, and places from a
// spreadsheet, the way residents are imported (see import.go): the same
// header binding, the same first pass over the file (readRows), every bad
// cell listed by row and column, all or nothing, the same upload jobs and
// progress. These registers are small (thousands of rows, not millions),
// so a kind keeps its checked rows as plain structs and writes them one by
// one.
//
// Re-importing: each kind has a natural key, and a row whose key is
// registered updates that object instead of adding a second one. An
// optional cell left empty keeps what is stored (as the forms keep an
// empty phone), so a file with fewer columns never erases data. A row
// that would change nothing is counted as unchanged and not written.
//   - building (楼栋): 街路巷 + 门牌号 + 楼栋, the register's unique
//     standard address; one registered in another grid is refused, not
//     moved (moving a building is done on its page, audited on its own).
//   - room (户室): its building + 单元 + 户室号 (a trailing 单元 is dropped).
//   - household (户): 网格 + 户号; without a 户号, its room (one household
//     without a number per room).
//   - place (场所/单位): 网格 + 名称 + 地址, spaces ignored.

// ImportKind names what a file holds.
type ImportKind string

const (
	KindResidents  ImportKind = "residents"
	KindBuildings  ImportKind = "buildings"
	KindHouseholds ImportKind = "households"
	KindPlaces     ImportKind = "places"
)

// ImportKinds lists every kind, in the order the import page offers them.
var ImportKinds = []ImportKind{KindResidents, KindBuildings, KindHouseholds, KindPlaces}

// objectKind is one kind of register object besides residents: its
// template, and the first pass and write of a file of it.
type objectKind struct {
	sheet    string // the xlsx sheet's name
	columns  []importColumn
	required []string // columns a file must have
	example  []string // the template's example row
	audit    string   // the audit action of an import
	target   string   // the audit's target type
	// header checks what bindHeader cannot: columns that go together.
	header func(col map[string]int, v *errs.Validation)
	// rows starts a file's rows.
	rows func(b *sheetImport) objectRows
}

// objectRows are the checked rows of one file of a kind.
type objectRows interface {
	// row checks one row; every fault is recorded in the sheetImport's
	// problems, a good row is kept (and counted in n). An error is a fault
	// of the database, which ends the import.
	row(ctx context.Context, line int, get func(string) string) error
	// plan matches the kept rows with the register, recording rows that
	// may not be applied as problems, and counts what applying would do.
	// It may run again (a retried transaction) and starts over then.
	plan(ctx context.Context) (objectCounts, error)
	// write applies the plan, in the import's transaction.
	write(ctx context.Context, now time.Time) error
}

// objectCounts is what a plan would do, by row.
type objectCounts struct{ created, updated, unchanged int }

// outcome is what applying one row does.
type outcome uint8

const (
	unchanged outcome = iota
	updates
	creates
)

func (c *objectCounts) add(o outcome) {
	switch o {
	case creates:
		c.created++
	case updates:
		c.updated++
	default:
		c.unchanged++
	}
}

// objectKinds are the kinds importObjects handles.
var objectKinds = map[ImportKind]*objectKind{
	KindBuildings:  &buildingKind,
	KindHouseholds: &householdKind,
	KindPlaces:     &placeKind,
}

// ParseImportKind checks a kind named in a URL or a form; "" is residents.
func ParseImportKind(s string) (ImportKind, error) {
	if s == "" {
		return KindResidents, nil
	}
	for _, k := range ImportKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", errs.E(errs.NotFound, "err.registry.import_kind", s)
}

// TemplateOf is a kind's downloadable template: the xlsx sheet's name,
// the Chinese header and a valid example row.
func TemplateOf(kind ImportKind) (sheetName string, header, example []string) {
	if k, ok := objectKinds[kind]; ok {
		return k.sheet, templateHeader(k.columns), k.example
	}
	return "居民", ImportTemplateHeader(), ImportTemplateExample()
}

// Import imports a file of any kind: see ImportResidents; the other kinds
// answer the same way, with Unchanged counted too.
func (s *Service) Import(ctx context.Context, kind ImportKind, rows sheet.Reader, opt ImportOptions) (ImportReport, error) {
	if kind == KindResidents {
		return s.ImportResidents(ctx, rows, opt)
	}
	k, ok := objectKinds[kind]
	if !ok {
		return ImportReport{}, errs.E(errs.NotFound, "err.registry.import_kind", string(kind))
	}
	return s.importObjects(ctx, k, rows, opt)
}

// importObjects is the import of buildings, households or places. The plan
// is made again inside the write's transaction, so that what is written
// matches the register as it is then.
func (s *Service) importObjects(ctx context.Context, k *objectKind, rows sheet.Reader, opt ImportOptions) (ImportReport, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return ImportReport{}, err
	}
	col, v := bindHeader(k.columns, rows.Header(), k.required...)
	if k.header != nil {
		k.header(col, v)
	}
	if err := v.Err(); err != nil {
		return ImportReport{}, err
	}
	b := s.newSheetImport(ctx, k.columns, col, opt.Progress)
	o := k.rows(&b)
	err := b.readRows(ctx, rows, func(line int, cells []string) error { return o.row(ctx, line, b.getter(cells)) })
	if err != nil {
		return ImportReport{}, err
	}
	if err := b.verdict("err.registry.import_empty"); err != nil {
		return ImportReport{}, err
	}
	var c objectCounts
	if opt.CheckOnly {
		if c, err = b.planned(ctx, o); err != nil {
			return ImportReport{}, err
		}
	} else if c, err = s.writeObjects(ctx, k, &b, o); err != nil {
		return ImportReport{}, err
	}
	b.report(ImportProgress{Phase: "done", Read: b.n, Written: c.created + c.updated, Total: b.n})
	return ImportReport{Rows: b.n, Created: c.created, Updated: c.updated, Unchanged: c.unchanged, Checked: opt.CheckOnly}, nil
}

// planned runs the plan and turns the rows it refuses into the error.
func (b *sheetImport) planned(ctx context.Context, o objectRows) (objectCounts, error) {
	b.problems = sheet.Problems{}
	c, err := o.plan(ctx)
	if err != nil {
		return c, err
	}
	return c, b.problems.Err()
}

// writeObjects plans and writes in one transaction, audited.
func (s *Service) writeObjects(ctx context.Context, k *objectKind, b *sheetImport, o objectRows) (objectCounts, error) {
	var c objectCounts
	err := s.db.Write(ctx, func(ctx context.Context) error {
		var err error
		if c, err = b.planned(ctx, o); err != nil {
			return err
		}
		b.report(ImportProgress{Phase: "write", Read: b.n, Total: b.n})
		err = o.write(ctx, s.now().UTC())
		if db.IsUnique(err) {
			return errs.E(errs.Conflict, "err.registry.import_raced_object")
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: k.audit, TargetType: k.target,
			Detail: fmt.Sprintf("%d rows: %d new, %d updated, %d unchanged", b.n, c.created, c.updated, c.unchanged)})
	})
	return c, err
}

// --- cells every kind reads ---

// gridCell resolves a required grid code in the caller's edit scope; -1
// when it cannot be used (the problem is recorded).
func (b *sheetImport) gridCell(ctx context.Context, line int, code string) int32 {
	if code == "" {
		b.add(line, "grid", "err.registry.grid_missing")
		return -1
	}
	g := b.gridOf(ctx, code)
	if g.err != "" {
		b.add(line, "grid", g.err, code)
		return -1
	}
	return g.i
}

// intCell reads a whole number; set is false for an empty cell.
func (b *sheetImport) intCell(line int, key, cell, msg string) (n int, set bool) {
	if cell == "" {
		return 0, false
	}
	n, err := strconv.Atoi(cell)
	if err != nil {
		b.add(line, key, msg)
	}
	return n, true
}

// fieldKeys maps the fields of a form's validation to the columns of a
// kind's template where the names differ; to "" for a field the import
// has checked itself.
type fieldKeys map[string]string

// addInvalid records the fields of a form's validation error as bad cells
// of the row, so that a row is held to exactly the rules of the form.
func (b *sheetImport) addInvalid(line int, err error, keys fieldKeys) {
	for _, f := range errs.As(err).Fields {
		key, mapped := keys[f.Field]
		switch {
		case !mapped:
			key = f.Field
		case key == "":
			continue // checked by the import already, with the cell's text
		}
		b.add(line, key, f.Key, f.Args...)
	}
}

// pointCell reads 经度 and 纬度 (WGS84): both or neither, finite numbers,
// inside China and, when the grid has a boundary, inside the grid. A
// point outside is most likely swapped or in another coordinate system.
func (b *sheetImport) pointCell(ctx context.Context, line int, get func(string) string, grid int32) (*Point, error) {
	lonText, latText := get("lon"), get("lat")
	if lonText == "" && latText == "" {
		return nil, nil
	}
	lon, err1 := strconv.ParseFloat(lonText, 64)
	lat, err2 := strconv.ParseFloat(latText, 64)
	if err1 != nil || err2 != nil || math.IsNaN(lon+lat) || math.IsInf(lon+lat, 0) {
		b.add(line, "lon", "err.registry.import_location", lonText, latText)
		return nil, nil
	}
	pt := orb.Point{lon, lat}
	if !area.China.Contains(pt) {
		b.add(line, "lon", "err.registry.import_location_china", lonText, latText)
		return nil, nil
	}
	if grid < 0 {
		return &Point{Lon: lon, Lat: lat}, nil
	}
	shape, err := b.gridShape(ctx, grid)
	if err != nil {
		return nil, err
	}
	if shape != nil && !contains(shape, pt) {
		b.add(line, "lon", "err.registry.import_location_grid", lonText, latText, b.grids[grid].Grid)
	}
	return &Point{Lon: lon, Lat: lat}, nil
}

// boundaries is what pointCell needs of the area module beyond Areas: the
// grid's polygon. Asked for as an option, so that an Areas without
// polygons still imports (against China's bounds only).
type boundaries interface {
	BoundaryAt(ctx context.Context, code string, t time.Time) (area.Boundary, error)
}

// gridShape is the grid's current boundary, nil when it has none, read
// once per import.
func (b *sheetImport) gridShape(ctx context.Context, grid int32) (orb.Geometry, error) {
	if b.shapes == nil {
		b.shapes = map[int32]orb.Geometry{}
	}
	if g, ok := b.shapes[grid]; ok {
		return g, nil
	}
	var shape orb.Geometry
	if bs, ok := b.svc.areas.(boundaries); ok {
		bd, err := bs.BoundaryAt(ctx, b.grids[grid].Grid, b.now)
		switch {
		case err == nil:
			shape = bd.Geometry
		case errs.CodeOf(err) != errs.NotFound:
			return nil, err
		}
	}
	b.shapes[grid] = shape
	return shape, nil
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return true
}

// unique keeps count of a good row whose natural key is new in the file;
// a row repeating one is a problem on column, naming the first row.
func (b *sheetImport) unique(at firstRow, key string, line int, column, msg string) bool {
	if first := at.seen(key, line); first != 0 {
		b.add(line, column, msg, first)
		return false
	}
	b.n++
	return true
}

// perGrid reads what load says of a grid once per plan.
func perGrid[T any](load func(grid int32) (T, error)) func(int32) (T, error) {
	done := map[int32]T{}
	return func(grid int32) (T, error) {
		if v, ok := done[grid]; ok {
			return v, nil
		}
		v, err := load(grid)
		if err == nil {
			done[grid] = v
		}
		return v, err
	}
}

// firstRow remembers the first row of each key in a file, for naming the
// row a later one repeats.
type firstRow map[string]int

// seen records line under key; it returns the earlier line, or 0.
func (f firstRow) seen(key string, line int) int {
	if first, ok := f[key]; ok {
		return first
	}
	f[key] = line
	return 0
}
