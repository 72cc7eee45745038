package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// sheetFile writes a header and rows as a CSV or xlsx file.
func sheetFile(t *testing.T, format string, header []string, rows [][]string) string {
	t.Helper()
	var buf bytes.Buffer
	var w sheet.Writer
	var err error
	if format == "xlsx" {
		w, err = sheet.NewXLSXWriter(&buf, "表", header)
	} else {
		w, err = sheet.NewCSVWriter(&buf, header)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		cells := make([]any, len(r))
		for i, c := range r {
			cells[i] = c
		}
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "f."+format, buf.Bytes())
}

// readSheet reads a file's header and rows back.
func readSheet(t *testing.T, content []byte, format string) ([]string, [][]string) {
	t.Helper()
	r, err := sheet.Open(writeTemp(t, "back."+format, content), sheet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rows [][]string
	for {
		row, err := r.Next()
		if err == io.EOF {
			return r.Header(), rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row.Cells)
	}
}

func (f *fixture) importKind(t *testing.T, ctx context.Context, kind ImportKind, path string, check bool) (ImportReport, error) {
	t.Helper()
	rows, _, err := OpenImportFile(path)
	if err != nil {
		return ImportReport{}, err
	}
	defer rows.Close()
	return f.svc.Import(ctx, kind, rows, ImportOptions{CheckOnly: check})
}

// counts is the number of rows of each table an import writes to.
func (f *fixture) counts(t *testing.T) string {
	t.Helper()
	var out []string
	for _, table := range []string{"registry_buildings", "registry_rooms", "registry_households", "registry_places"} {
		var n int
		if err := f.db.Q(context.Background()).QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

// goodRows are a valid file of each kind, in its export's columns; the
// households live in the buildings' rooms.
func goodRows(grid string) map[ImportKind][][]string {
	return map[ImportKind][][]string{
		KindBuildings: {
			{grid, "海韵小区", "岱山路", "12号", "3号楼", "6", "2", "121.4265", "37.4825", "1", "301", "3", "自住"},
			{grid, "海韵小区", "岱山路", "12号", "3号楼", "6", "2", "121.4265", "37.4825", "1", "302", "3", "出租"},
			{grid, "", "岱山路", "14号", "1号楼", "", "", "", "", "", "", "", ""},
		},
		KindHouseholds: {
			{"H001", grid, "岱山路12号 海韵小区 3号楼", "1", "301"},
			{"H002", grid, "", "", ""},
			{"", grid, "岱山路12号 海韵小区 3号楼", "1", "302"},
		},
		KindPlaces: {
			{grid, "海韵便民超市", "商铺", "91370613MA3C5K8X2P", "岱山路12号 底商5号", "121.4266", "37.4826", "王建国", "13912345678"},
			{grid, "岱山小学", "学校", "", "岱山路20号", "", "", "", ""},
		},
	}
}

func exportHeaderOf(kind ImportKind) []string {
	e := objectExports[kind]
	return exportColumns(e.kind.columns, e.skip)
}

// A good file of each kind, in each format, is imported, exported and read
// back equal; importing it (or its export) again changes nothing.
func TestImportExportObjectsRoundTrip(t *testing.T) {
	for _, format := range []string{"csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newFixture(t, d)
				good := goodRows(f.grid1.Code)
				for _, kind := range []ImportKind{KindBuildings, KindHouseholds, KindPlaces} {
					path := sheetFile(t, format, exportHeaderOf(kind), good[kind])
					rep, err := f.importKind(t, f.worker, kind, path, false)
					if err != nil || rep.Rows != len(good[kind]) || rep.Created != rep.Rows {
						t.Fatalf("%s: %+v %v\n%s", kind, rep, err, problems(err))
					}
					before := f.counts(t)
					var buf bytes.Buffer
					n, err := f.svc.Export(f.worker, kind, format, ExportQuery{}, &buf, ExportOptions{Reveal: kind == KindPlaces, Reason: "核对"})
					header, back := readSheet(t, buf.Bytes(), format)
					if err != nil || n != len(good[kind]) || !slices.Equal(header, exportHeaderOf(kind)) || !equalRows(back, good[kind]) {
						t.Fatalf("%s export: %d %v\n%q\n%q", kind, n, err, header, back)
					}
					exported := writeTemp(t, "export."+format, buf.Bytes())
					for _, again := range []string{path, exported} {
						rep, err = f.importKind(t, f.worker, kind, again, false)
						if err != nil || rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != len(good[kind]) || f.counts(t) != before {
							t.Fatalf("%s again: %+v %v, %s (was %s)\n%s", kind, rep, err, f.counts(t), before, problems(err))
						}
					}
				}
			})
		})
	}
}

// equalRows compares rows read back with the rows written, whose trailing
// empty cells a sheet may not keep.
func equalRows(got, want [][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			return false
		}
	}
	return true
}

// A place's phone is masked in an export unless revealed; the masked
// export imports again without losing the number, and a changed file
// updates the register.
func TestExportPlacesMaskedAndUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		good := goodRows(f.grid1.Code)[KindPlaces]
		if _, err := f.importKind(t, f.worker, KindPlaces, sheetFile(t, "csv", exportHeaderOf(KindPlaces), good), false); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := f.svc.Export(f.staff, KindPlaces, "csv", ExportQuery{}, &buf, ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		_, back := readSheet(t, buf.Bytes(), "csv")
		if back[0][8] != "139****5678" {
			t.Fatalf("masked export: %q", back)
		}
		back[0][7] = "李娜"
		rep, err := f.importKind(t, f.worker, KindPlaces, sheetFile(t, "csv", exportHeaderOf(KindPlaces), back), false)
		if err != nil || rep.Updated != 1 || rep.Unchanged != 1 {
			t.Fatalf("masked re-import: %+v %v\n%s", rep, err, problems(err))
		}
		page, _ := f.svc.Places(f.worker, PlaceQuery{Name: "海韵"})
		phone, err := f.svc.RevealPlaceContact(f.worker, page.Items[0].ID, "核对")
		if err != nil || phone != "13912345678" || page.Items[0].ContactName != "李娜" {
			t.Fatalf("after the masked import: %q %v %+v", phone, err, page.Items[0])
		}
		back[0][8] = "138****0000"
		_, err = f.importKind(t, f.worker, KindPlaces, sheetFile(t, "csv", exportHeaderOf(KindPlaces), back), false)
		if !strings.Contains(problems(err), "联系电话: err.registry.import_phone_masked") {
			t.Fatalf("another masked number: %v", problems(err))
		}
		var detail string
		f.db.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT detail FROM audit_log WHERE action = 'registry.place.export' ORDER BY id DESC LIMIT 1").Scan(&detail)
		if detail != "2 rows, masked" {
			t.Fatalf("audit detail %q", detail)
		}
	})
}

// Every bad row of a file is listed by row and column, and nothing is
// written.
func TestImportObjectsRefuseBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		g := f.grid1.Code
		f.building(t, f.worker, g) // 岱山路12号 海韵小区 3号楼, room 1-301
		before := f.counts(t)
		cases := []struct {
			kind ImportKind
			rows [][]string
			want []string
		}{
			{KindBuildings, [][]string{
				{"370613001009009", "", "岱山路", "1号", "1号楼", "", "", "", "", "", "", "", ""},
				{g, "", "", "2号", "1号楼", "六", "", "", "", "", "", "", ""},
				{g, "", "岱山路", "3号", "1号楼", "", "", "37.48", "121.42", "", "", "", ""},
				{g, "", "岱山路", "4号", "1号楼", "", "", "", "", "1", "101", "", "仓库"},
				{g, "", "岱山路", "4号", "1号楼", "6", "", "", "", "1", "101", "", ""},
				{g, "", "岱山路", "4号", "1号楼", "9", "", "", "", "1", "102", "", ""},
				{g, "", "岱山路", "5号", "1号楼", "", "", "NaN", "37", "", "", "", ""},
				{g, "", "岱山路", "6号", "1号楼", "", "", "", "", "1", "", "", ""},
			}, []string{
				"第 2 行 / row 2 · 网格代码: err.registry.grid_unknown",
				"第 3 行 / row 3 · 层数: err.registry.floors",
				"第 3 行 / row 3 · 街路巷: err.registry.road",
				"第 4 行 / row 4 · 经度: err.registry.import_location_china",
				"第 5 行 / row 5 · 房屋用途: err.registry.usage",
				"第 7 行 / row 7 · 层数: err.registry.import_building_differs",
				"第 8 行 / row 8 · 经度: err.registry.import_location",
				"第 9 行 / row 9 · 户室号: err.registry.room_number",
			}},
			{KindBuildings, [][]string{
				{g, "", "岱山路", "8号", "1号楼", "", "", "", "", "1", "101", "", ""},
				{g, "", "岱山路", "8号", "1号楼", "", "", "", "", "1单元", "101", "", ""},
				{g, "", "岱山路", "9号", "1号楼", "", "", "", "", "", "", "", ""},
				{g, "", "岱山路", "9号", "1号楼", "", "", "", "", "", "", "", ""},
			}, []string{
				"第 3 行 / row 3 · 户室号: err.registry.import_room_repeated",
				"第 5 行 / row 5 · 楼栋: err.registry.import_building_repeated",
			}},
			{KindHouseholds, [][]string{
				{"H1", g, "岱山路12号 海韵小区 3号楼", "1", "999"},
				{"", g, "", "", ""},
				{"H2", g, "", "", ""},
				{"H2", g, "", "", ""},
				{"H3", "", "不存在路1号", "1", "101"},
			}, []string{
				"第 2 行 / row 2 · 户室号: err.registry.import_room_unknown",
				"第 3 行 / row 3 · 户号: err.registry.import_household_key",
				"第 5 行 / row 5 · 户号: err.registry.import_household_repeated",
				"第 6 行 / row 6 · 楼栋地址: err.registry.import_building_unknown",
			}},
			{KindPlaces, [][]string{
				{g, "超市", "菜场", "", "", "", "", "", ""},
				{g, "超市", "商铺", "123", "", "", "", "", "12345"},
				{g, "", "商铺", "", "", "", "", "", ""},
				{g, "书店", "商铺", "", "岱山路1号", "", "", "", ""},
				{g, "书 店", "商铺", "", "岱山路 1号", "", "", "", ""},
			}, []string{
				"第 2 行 / row 2 · 类型: err.registry.place_kind",
				"第 3 行 / row 3 · 统一社会信用代码: err.registry.credit_code",
				"第 3 行 / row 3 · 联系电话: err.registry.phone",
				"第 4 行 / row 4 · 名称: err.registry.place_name",
				"第 6 行 / row 6 · 名称: err.registry.import_place_repeated",
			}},
		}
		for _, c := range cases {
			for _, format := range []string{"csv", "xlsx"} {
				_, err := f.importKind(t, f.worker, c.kind, sheetFile(t, format, exportHeaderOf(c.kind), c.rows), false)
				if got := problems(err); got != strings.Join(c.want, "\n") {
					t.Errorf("%s %s: got\n%s\nwant\n%s", c.kind, format, got, strings.Join(c.want, "\n"))
				}
				if f.counts(t) != before {
					t.Fatalf("%s: written: %s, was %s", c.kind, f.counts(t), before)
				}
			}
		}
	})
}

// Another grid is refused, a building registered in another grid too; a
// check writes nothing; a resident may not import at all.
func TestImportObjectsScopeAndCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.building(t, f.other, f.grid2.Code) // 岱山路12号 海韵小区 3号楼, in grid 2
		before := f.counts(t)
		header := exportHeaderOf(KindPlaces)
		path := sheetFile(t, "csv", header, [][]string{{f.grid2.Code, "超市", "商铺", "", "", "", "", "", ""}})
		if _, err := f.importKind(t, f.worker, KindPlaces, path, false); !strings.Contains(problems(err), "网格代码: err.registry.import_grid_scope") {
			t.Fatalf("another grid: %v", problems(err))
		}
		rows := goodRows(f.grid1.Code)[KindBuildings]
		_, err := f.importKind(t, f.worker, KindBuildings, sheetFile(t, "csv", exportHeaderOf(KindBuildings), rows), false)
		if !strings.Contains(problems(err), "第 2 行 / row 2 · 楼栋: err.registry.import_building_scope") {
			t.Fatalf("a building of another grid: %v", problems(err))
		}
		_, err = f.importKind(t, f.staff, KindBuildings, sheetFile(t, "csv", exportHeaderOf(KindBuildings), rows), false)
		if !strings.Contains(problems(err), "第 2 行 / row 2 · 网格代码: err.registry.import_building_grid") {
			t.Fatalf("a building moved by a file: %v", problems(err))
		}
		rep, err := f.importKind(t, f.other, KindPlaces, path, true)
		if err != nil || !rep.Checked || rep.Created != 1 || f.counts(t) != before {
			t.Fatalf("check: %+v %v", rep, err)
		}
		resident := auth.WithPrincipal(context.Background(), &auth.Principal{Name: "r", Grants: []auth.GrantInfo{{Role: auth.Resident,
			AreaID: f.grid1.ID, AreaPath: f.grid1.Path, AreaCode: f.grid1.Code}}})
		if _, err := f.importKind(t, resident, KindPlaces, path, false); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a resident imports: %v", err)
		}
		if _, err := f.svc.Export(resident, KindPlaces, "csv", ExportQuery{}, io.Discard, ExportOptions{}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a resident exports: %v", err)
		}
		// The worker of grid 1 exports nothing of grid 2, and may not ask for it.
		var buf bytes.Buffer
		if n, err := f.svc.Export(f.worker, KindBuildings, "csv", ExportQuery{}, &buf, ExportOptions{}); err != nil || n != 0 {
			t.Fatalf("export of another grid's building: %d %v", n, err)
		}
		if _, err := f.svc.Export(f.worker, KindBuildings, "csv", ExportQuery{Grid: f.grid2.Code}, io.Discard, ExportOptions{}); err == nil {
			t.Fatal("export of another grid by name")
		}
	})
}

// Wrong headers, an empty file and a file with only a header are refused
// with a clear message.
func TestImportObjectsBadFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		cases := []struct {
			kind    ImportKind
			content string
			want    string
		}{
			{KindPlaces, "名字,地址\n超市,岱山路\n", "err.registry.import_column_unknown"},
			{KindPlaces, "名字,地址\n超市,岱山路\n", "header: err.registry.import_column_missing"},
			{KindBuildings, "网格代码,街路巷,门牌号,楼栋,单元\n", "header: err.registry.import_column_room_number"},
			{KindHouseholds, "户号\nH1\n", "header: err.registry.import_column_household"},
			{KindBuildings, "", "err.import.file"},
			{KindPlaces, strings.Join(exportHeaderOf(KindPlaces), ",") + "\n", "file: err.registry.import_empty"},
		}
		for _, c := range cases {
			_, err := f.importKind(t, f.worker, c.kind, writeTemp(t, "bad.csv", []byte(c.content)), false)
			if all := problems(err) + "\n" + errs.As(err).Key; err == nil || !strings.Contains(all, c.want) {
				t.Errorf("%s %q: want %q in\n%s", c.kind, c.content, c.want, all)
			}
		}
		if _, err := f.svc.Export(f.worker, "rooms", "csv", ExportQuery{}, io.Discard, ExportOptions{}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unknown kind: %v", err)
		}
	})
}

// A point must lie in its grid when the grid has a boundary.
func TestImportPointInGrid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		square := orb.Polygon{{{121.40, 37.47}, {121.45, 37.47}, {121.45, 37.50}, {121.40, 37.50}, {121.40, 37.47}}}
		if err := f.svc.areas.(*area.Service).SetBoundary(f.admin, f.grid1.Code, square, "test"); err != nil {
			t.Fatal(err)
		}
		rows := [][]string{
			{f.grid1.Code, "书店", "商铺", "", "", "121.42", "37.48", "", ""},
			{f.grid1.Code, "药店", "商铺", "", "", "116.40", "39.90", "", ""},
		}
		_, err := f.importKind(t, f.worker, KindPlaces, sheetFile(t, "csv", exportHeaderOf(KindPlaces), rows), false)
		if problems(err) != "第 3 行 / row 3 · 经度: err.registry.import_location_grid" {
			t.Fatalf("point outside the grid: %s", problems(err))
		}
	})
}

// Every kind's template example is a valid row once its building exists.
func TestImportObjectTemplates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, kind := range []ImportKind{KindBuildings, KindHouseholds, KindPlaces} {
			_, header, example := TemplateOf(kind)
			path := sheetFile(t, "xlsx", header, [][]string{example})
			if rep, err := f.importKind(t, f.worker, kind, path, false); err != nil || rep.Created != 1 {
				t.Fatalf("%s template: %+v %v\n%s", kind, rep, err, problems(err))
			}
		}
	})
}

// A street's file holds more buildings than one lookup statement takes:
// imported again with one room changed, every other building and room is
// found and left alone.
func TestImportManyBuildingsAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		const buildings = 2*lookupBatch + 7
		var rows [][]string
		for i := range buildings {
			for _, room := range []string{"101", "102"} {
				rows = append(rows, []string{f.grid1.Code, "", "岱山路", fmt.Sprintf("%d号", i+1), "1号楼",
					"", "", "", "", "1", room, "1", "自住"})
			}
		}
		header := exportHeaderOf(KindBuildings)
		if rep, err := f.importKind(t, f.worker, KindBuildings, sheetFile(t, "csv", header, rows), false); err != nil || rep.Created != len(rows) {
			t.Fatalf("first import: %+v %v\n%s", rep, err, problems(err))
		}
		before := f.counts(t)
		rows[len(rows)-1][12] = "出租" // the last building's second room, in the last statement
		rep, err := f.importKind(t, f.worker, KindBuildings, sheetFile(t, "csv", header, rows), false)
		if err != nil || rep.Created != 0 || rep.Updated != 1 || rep.Unchanged != len(rows)-1 || f.counts(t) != before {
			t.Fatalf("again: %+v %v, %s (was %s)\n%s", rep, err, f.counts(t), before, problems(err))
		}
	})
}
