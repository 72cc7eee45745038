package registry

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// importHeader is a usable subset of the template's columns.
const importHeader = "姓名,证件号码,性别,出生日期,联系电话,人口类型,网格代码,楼栋地址,单元,户室号,人房关系,特殊人群,备注"

func importCSV(rows ...string) string { return importHeader + "\n" + strings.Join(rows, "\n") + "\n" }

// writeTemp writes content into a file of the test's temporary directory.
func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runImport opens path and imports it as ctx.
func (f *fixture) runImport(t *testing.T, ctx context.Context, path string, check bool) (ImportReport, error) {
	t.Helper()
	rows, _, err := OpenImportFile(path)
	if err != nil {
		return ImportReport{}, err
	}
	defer rows.Close()
	return f.svc.ImportResidents(ctx, rows, ImportOptions{CheckOnly: check})
}

func (f *fixture) residentCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.Q(context.Background()).QueryRowContext(context.Background(), "SELECT COUNT(*) FROM registry_residents").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// problems lists an import error's fields as "where: message key".
func problems(err error) string {
	var out []string
	for _, f := range errs.As(err).Fields {
		out = append(out, f.Field+": "+f.Key)
	}
	return strings.Join(out, "\n")
}

func TestImportCSVInGBKAndReimport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.building(t, f.worker, f.grid1.Code)
		zhang, li := makeID("370613", "19450312", 122), makeID("370613", "19800101", 131)
		content := importCSV(
			"张桂兰,"+zhang+",女,1945/3/12,138 1234 5678,户籍,,岱山路12号海韵小区3号楼,1,301,产权人,独居老人、低保,",
			"李强,"+strings.ToLower(li)+",,,,流动,"+f.grid1.Code+",,,,,,租住")
		path := writeTemp(t, "gbk.csv", gbk(t, content))
		var seen []ImportProgress
		rows, _, err := OpenImportFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.ImportResidents(f.worker, rows, ImportOptions{Progress: func(p ImportProgress) { seen = append(seen, p) }})
		rows.Close()
		if err != nil {
			t.Fatalf("import: %v\n%s", err, problems(err))
		}
		if rep.Rows != 2 || rep.Created != 2 || rep.Updated != 0 || len(seen) == 0 || seen[len(seen)-1].Phase != "done" {
			t.Fatalf("report %+v, progress %+v", rep, seen)
		}
		page, err := f.svc.Residents(f.worker, ResidentQuery{IDNumber: zhang})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("find by ID: %v %+v", err, page)
		}
		r, err := f.svc.Resident(f.worker, page.Items[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != "张桂兰" || r.Sex != Female || r.BirthDate != "1945-03-12" || r.Phone != "138****5678" || r.CareLevel != "high" ||
			strings.Join(r.Groups, ",") != "dibao,elderly_alone" || len(r.Rooms) != 1 || r.Rooms[0].Role != RoleOwner || r.Grid != f.grid1.Code {
			t.Fatalf("imported resident: %+v", r)
		}
		// The same file again: nobody twice, the rows update their people.
		rep, err = f.runImport(t, f.worker, path, false)
		if err != nil || rep.Created != 0 || rep.Updated != 2 || f.residentCount(t) != 2 {
			t.Fatalf("re-import: %+v %v, %d residents", rep, err, f.residentCount(t))
		}
		r, _ = f.svc.Resident(f.worker, page.Items[0].ID)
		if len(r.Rooms) != 1 {
			t.Fatalf("re-import linked the room again: %+v", r.Rooms)
		}
		// A corrected file updates: 李强's phone and note.
		path2 := writeTemp(t, "fix.csv", []byte(importCSV("李强,"+li+",男,1980-01-01,13900001111,流动,"+f.grid1.Code+",,,,,,搬来三年")))
		if rep, err = f.runImport(t, f.worker, path2, false); err != nil || rep.Updated != 1 {
			t.Fatalf("update: %+v %v", rep, err)
		}
		page, _ = f.svc.Residents(f.worker, ResidentQuery{IDNumber: li})
		if len(page.Items) != 1 || page.Items[0].Phone != "139****1111" || page.Items[0].Note != "搬来三年" {
			t.Fatalf("updated: %+v", page.Items)
		}
	})
}

func TestImportXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var buf bytes.Buffer
		w, err := sheet.NewXLSXWriter(&buf, "居民", ImportTemplateHeader())
		if err != nil {
			t.Fatal(err)
		}
		cells := make([]any, len(importColumns))
		for i := range cells {
			cells[i] = ""
		}
		cells[1], cells[2], cells[7], cells[15] = "王芳", makeID("370613", "19900505", 222), f.grid1.Code, "残疾人"
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := f.runImport(t, f.staff, writeTemp(t, "r.xlsx", buf.Bytes()), false)
		if err != nil || rep.Created != 1 {
			t.Fatalf("xlsx: %+v %v\n%s", rep, err, problems(err))
		}
		page, _ := f.svc.Residents(f.staff, ResidentQuery{Name: "王芳"})
		if len(page.Items) != 1 || page.Items[0].CareLevel != "priority" || page.Items[0].Sex != Female {
			t.Fatalf("%+v", page.Items)
		}
	})
}

// Every bad input gets a clear message and changes nothing.
func TestImportRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.building(t, f.worker, f.grid1.Code)
		known := makeID("370613", "19700101", 111)
		if _, err := f.svc.CreateResident(f.worker, ResidentInput{Grid: f.grid1.Code, Name: "赵敏", IDNumber: known}); err != nil {
			t.Fatal(err)
		}
		good := makeID("370613", "19800101", 131)
		badCheck := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1']
		base := f.residentCount(t)
		g1 := f.grid1.Code
		cases := []struct {
			name    string
			content []byte
			want    string // in the problems or the message
		}{
			{"wrong check character", []byte(importCSV("李强," + badCheck + ",,,,," + g1 + ",,,,,,")), "证件号码: err.registry.id_check"},
			{"impossible date", []byte(importCSV("李强,37061319800230" + "1234" + ",,,,," + g1 + ",,,,,,")), "证件号码: err.registry.id"},
			{"sex against the ID", []byte(importCSV("李强," + good + ",女,,,," + g1 + ",,,,,,")), "性别: err.registry.sex_mismatch"},
			{"birth date against the ID", []byte(importCSV("李强," + good + ",,1980-02-01,,," + g1 + ",,,,,,")), "出生日期: err.registry.birth_mismatch"},
			{"bad phone", []byte(importCSV("李强," + good + ",,,12345,," + g1 + ",,,,,,")), "联系电话: err.registry.phone"},
			{"duplicate in the file", []byte(importCSV("李强,"+good+",,,,,"+g1+",,,,,,", "李四,"+good+",,,,,"+g1+",,,,,,")),
				"第 3 行 / row 3 · 证件号码: err.registry.import_id_repeated"},
			{"registered under another name", []byte(importCSV("钱七," + known + ",,,,," + g1 + ",,,,,,")), "证件号码: err.registry.import_id_other"},
			{"unknown grid", []byte(importCSV("李强," + good + ",,,,,370613001009009,,,,,,")), "网格代码: err.registry.grid_unknown"},
			{"unknown room", []byte(importCSV("李强," + good + ",,,,,,岱山路12号 海韵小区 3号楼,1,999,,,")), "户室号: err.registry.import_room_unknown"},
			{"unknown building", []byte(importCSV("李强," + good + ",,,,,,不存在路1号 1号楼,1,301,,,")), "楼栋地址: err.registry.import_building_unknown"},
			{"unknown group", []byte(importCSV("李强," + good + ",,,,," + g1 + ",,,,,外星人,")), "特殊人群: err.registry.group"},
			{"unknown population type", []byte(importCSV("李强," + good + ",,,,火星," + g1 + ",,,,,,")), "人口类型: err.registry.pop_type"},
			{"wrong headers", []byte("名字,身份证,手机\n李强," + good + ",13800000000\n"), "err.registry.import_column_unknown"},
			{"no ID column", []byte("姓名,网格代码\n李强," + g1 + "\n"), "header: err.registry.import_column_missing"},
			{"only a header", []byte(importHeader + "\n"), "file: err.registry.import_no_rows"},
			{"empty file", nil, "err.import.file"},
			{"not a spreadsheet", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "err.import.file"},
			{"mixed encodings", append([]byte(importCSV("李强,"+good+",,,,,"+g1+",,,,,,")), gbk(t, "王五,"+known+",,,,,"+g1+",,,,,,\n")...), "err.import.file"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.runImport(t, f.worker, writeTemp(t, "bad.csv", c.content), false)
				if err == nil {
					t.Fatal("accepted")
				}
				all := problems(err) + "\n" + errs.As(err).Key
				if !strings.Contains(all, c.want) {
					t.Fatalf("want %q in:\n%s\n(%v)", c.want, all, err)
				}
				if n := f.residentCount(t); n != base {
					t.Fatalf("%d residents after a refused import, want %d", n, base)
				}
			})
		}
		t.Run("zip bomb", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bomb.xlsx")
			out, _ := os.Create(path)
			zw := zip.NewWriter(out)
			for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
				w, _ := zw.Create(name)
				io.WriteString(w, "<x/>")
			}
			w, _ := zw.Create("xl/worksheets/sheet1.xml")
			io.CopyN(w, zeroReader{}, 32<<20)
			zw.Close()
			out.Close()
			_, err := f.runImport(t, f.worker, path, false)
			if errs.CodeOf(err) != errs.TooLarge || !strings.Contains(errs.As(err).Args[0].(string), "zip bomb") {
				t.Fatalf("bomb: %v", err)
			}
		})
		// Every problem of a file is listed, not just the first.
		_, err := f.runImport(t, f.worker, writeTemp(t, "many.csv", []byte(importCSV(
			"李强,"+badCheck+",,,,,"+g1+",,,,,,", ",123,,,,,,,,,,,", "王五,"+good+",,,,,370613001009009,,,,,,"))), false)
		if got := len(errs.As(err).Fields); got < 4 {
			t.Fatalf("only %d problems listed:\n%s", got, problems(err))
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A grid worker imports into their own grid only; a check writes nothing.
func TestImportScopeAndCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		id := makeID("370613", "19800101", 131)
		other := writeTemp(t, "other.csv", []byte(importCSV("李强,"+id+",,,,,"+f.grid2.Code+",,,,,,")))
		_, err := f.runImport(t, f.worker, other, false)
		if !strings.Contains(problems(err), "网格代码: err.registry.import_grid_scope") || f.residentCount(t) != 0 {
			t.Fatalf("another grid: %v\n%s", err, problems(err))
		}
		rep, err := f.runImport(t, f.other, other, true)
		if err != nil || !rep.Checked || rep.Created != 1 || f.residentCount(t) != 0 {
			t.Fatalf("check: %+v %v", rep, err)
		}
		if _, err := f.runImport(t, f.other, other, false); err != nil || f.residentCount(t) != 1 {
			t.Fatalf("own grid: %v", err)
		}
		// The worker of grid 1 cannot update a resident of grid 2 either.
		mine := writeTemp(t, "mine.csv", []byte(importCSV("李强,"+id+",,,,,"+f.grid1.Code+",,,,,,")))
		if _, err := f.runImport(t, f.worker, mine, false); !strings.Contains(problems(err), "err.registry.import_id_scope") {
			t.Fatalf("moving someone else's resident: %v", err)
		}
		resident := auth.WithPrincipal(context.Background(), &auth.Principal{Name: "r", Grants: []auth.GrantInfo{{Role: auth.Resident,
			AreaID: f.grid1.ID, AreaPath: f.grid1.Path, AreaCode: f.grid1.Code}}})
		if _, err := f.runImport(t, resident, mine, false); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a resident imports: %v", err)
		}
	})
}

func TestExportXLSXMaskedUnlessRevealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		id := makeID("370613", "19450312", 122)
		if _, err := f.svc.CreateResident(f.worker, ResidentInput{Grid: f.grid1.Code, Name: "张桂兰", IDNumber: id, Phone: "13812345678",
			Groups: []string{"dibao"}}); err != nil {
			t.Fatal(err)
		}
		read := func(opt ExportOptions) ([][]string, error) {
			var buf bytes.Buffer
			if _, err := f.svc.ExportResidentsXLSX(f.worker, ResidentQuery{}, &buf, opt); err != nil {
				return nil, err
			}
			r, err := sheet.Open(writeTemp(t, "e.xlsx", buf.Bytes()), sheet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var out [][]string
			for {
				row, err := r.Next()
				if err == io.EOF {
					return out, nil
				}
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, row.Cells)
			}
		}
		rows, err := read(ExportOptions{})
		if err != nil || len(rows) != 1 || rows[0][5] != "370613********"+id[14:] || rows[0][6] != "138****5678" || rows[0][8] != "低保" {
			t.Fatalf("masked export: %v %q", err, rows)
		}
		if _, err := read(ExportOptions{Reveal: true}); !strings.Contains(fieldsOf(err), "reason:err.registry.reason") {
			t.Fatalf("reveal without a reason: %v", err)
		}
		rows, err = read(ExportOptions{Reveal: true, Reason: "民政核对低保名单"})
		if err != nil || rows[0][5] != id || rows[0][6] != "13812345678" {
			t.Fatalf("revealed export: %v %q", err, rows)
		}
		var detail string
		f.db.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT detail FROM audit_log WHERE action = 'registry.resident.export' ORDER BY id DESC LIMIT 1").Scan(&detail)
		if !strings.Contains(detail, "1 in clear: 民政核对低保名单") {
			t.Fatalf("audit detail %q", detail)
		}
	})
}

// The template's example row is valid: a clerk who uploads the template
// as downloaded sees it imported (into the fixture's building and grid,
// which the example names).
func TestImportTemplateExample(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.building(t, f.worker, f.grid1.Code)
		var buf bytes.Buffer
		w, err := sheet.NewCSVWriter(&buf, ImportTemplateHeader())
		if err != nil {
			t.Fatal(err)
		}
		var cells []any
		for _, c := range ImportTemplateExample() {
			cells = append(cells, c)
		}
		w.Write(cells)
		w.Close()
		rep, err := f.runImport(t, f.worker, writeTemp(t, "template.csv", buf.Bytes()), false)
		if err != nil || rep.Created != 1 {
			t.Fatalf("the template's example: %+v %v\n%s", rep, err, problems(err))
		}
	})
}

// A large load on SQLite drops the residents' secondary indexes and builds
// them again in its transaction: afterwards they are all there, the same,
// and the name search uses them.
func TestImportRebuildsIndexes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Kind != db.SQLite {
			t.Skip("SQLite only")
		}
		f := newFixture(t, d)
		old := bulkRows
		bulkRows = 2
		defer func() { bulkRows = old }()
		indexes := func() string {
			var out []string
			rows, err := d.Q(context.Background()).QueryContext(context.Background(), `SELECT name, sql FROM sqlite_master
				WHERE type = 'index' AND tbl_name IN ('registry_residents', 'registry_resident_rooms') ORDER BY name`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				var def *string
				rows.Scan(&name, &def)
				out = append(out, name)
			}
			return strings.Join(out, ",")
		}
		// The rebuild sorts with a small cache and on disk; the writer's
		// own settings come back afterwards.
		writerSettings := func() (settings [2]int64) {
			err := d.Write(context.Background(), func(ctx context.Context) error {
				q := d.Q(ctx)
				if err := q.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&settings[0]); err != nil {
					return err
				}
				return q.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&settings[1])
			})
			if err != nil {
				t.Fatal(err)
			}
			return settings
		}
		settings := writerSettings()
		if settings[1] != 2 {
			t.Fatalf("the writer's temp_store is %d, want 2 (memory)", settings[1])
		}
		before := indexes()
		path := writeTemp(t, "r.csv", []byte(importCSV(
			"李强,"+makeID("370613", "19800101", 131)+",,,,,"+f.grid1.Code+",,,,,,",
			"王芳,"+makeID("370613", "19900505", 222)+",,,,,"+f.grid1.Code+",,,,,,",
			"张伟,"+makeID("370613", "19850707", 311)+",,,,,"+f.grid1.Code+",,,,,,")))
		if rep, err := f.runImport(t, f.worker, path, false); err != nil || rep.Created != 3 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		if after := indexes(); after != before || !strings.Contains(after, "registry_residents_name_path") {
			t.Fatalf("indexes before %s, after %s", before, after)
		}
		if after := writerSettings(); after != settings {
			t.Fatalf("the writer's cache_size and temp_store after the import: %v, before %v", after, settings)
		}
		var plan string
		d.Q(context.Background()).QueryRowContext(context.Background(),
			"EXPLAIN QUERY PLAN SELECT id FROM registry_residents WHERE name_key >= '王' AND name_key < '王\U0010FFFF'").Scan(new(int), new(int), new(int), &plan)
		if page, _ := f.svc.Residents(f.worker, ResidentQuery{Name: "王"}); len(page.Items) != 1 || !strings.Contains(plan, "INDEX") {
			t.Fatalf("search after the rebuild: %+v, plan %q", page.Items, plan)
		}
	})
}
