package cases_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
	"github.com/linli/linli/internal/platform/sheet"
)

const hotlineHeader = "工单编号,来电时间,诉求分类,诉求内容,事发地址,所属社区,联系人,联系电话,经度,纬度\n"

// writeFile writes content to a file of the test's own and returns its
// path.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(b)
}

func importFile(ctx context.Context, f *fixture, path string, opt cases.HotlineOptions) (cases.HotlineReport, error) {
	rows, err := sheet.Open(path, sheet.Options{})
	if err != nil {
		return cases.HotlineReport{}, err
	}
	defer rows.Close()
	if opt.Mapping.ExternalID == "" {
		opt.Mapping = cases.DefaultHotlineMapping()
	}
	return f.svc.ImportHotline(ctx, rows, opt)
}

func countCases(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.Q(context.Background()).QueryRowContext(context.Background(), "SELECT count(*) FROM cases").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A 12345 export saved by Chinese Excel (GBK) becomes cases on channel
// 12345: located by its GCJ-02 point, by its community's name, or flagged
// for routing; importing it again creates nothing.
func TestHotlineImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		gcj := geo.WGS84ToGCJ02(orb.Point{121.445, 37.465}) // inside 岱山's grid
		lon, lat := strconv.FormatFloat(gcj[0], 'f', 6, 64), strconv.FormatFloat(gcj[1], 'f', 6, 64)
		csv := hotlineHeader +
			"SD001,2026-11-25 09:30:00,E0101,小区门口垃圾堆了三天,岱山社区东门,,王先生,+86 138-0000-1111," + lon + "," + lat + "\n" +
			"SD002,2026/11/25 10:05,,楼道灯坏了,岱山社区 3 号楼,岱山社区,,,,\n" +
			"SD003,,政策咨询,咨询低保办理,,,李女士,0535-6221234,,\n"
		path := writeFile(t, "12345.csv", gbk(t, csv))

		check, err := importFile(f.as["staff"], f, path, cases.HotlineOptions{CheckOnly: true})
		if err != nil || check.Imported != 3 || check.Routing != 1 || countCases(t, d) != 0 {
			t.Fatalf("check: %+v %v, want 3 to import, 1 to route, nothing written", check, err)
		}
		rep, err := importFile(f.as["staff"], f, path, cases.HotlineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 3 || rep.Imported != 3 || rep.Known != 0 || rep.Routing != 1 || len(rep.Numbers) != 3 {
			t.Fatalf("report %+v, want 3 imported, 1 needing routing", rep)
		}
		byPoint, err := f.svc.Get(f.as["staff"], rep.Numbers[0])
		if err != nil {
			t.Fatal(err)
		}
		if byPoint.Channel != cases.Channel12345 || byPoint.ExternalID != "SD001" || byPoint.State != cases.Reported ||
			byPoint.GridName != "一网格" || !byPoint.CreatedAt.Equal(time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC)) {
			t.Errorf("SD001: %+v, want channel 12345 in 一网格, reported at 09:30 China time", byPoint)
		}
		byName, _ := f.svc.Get(f.as["staff"], rep.Numbers[1])
		if byName.NeedsRouting || byName.CategoryCode != "S0201" {
			t.Errorf("SD002 with 岱山社区 and no category: routing %v, category %s; want located, the default S0201", byName.NeedsRouting, byName.CategoryCode)
		}
		if c, _ := f.svc.Get(system, rep.Numbers[2]); !c.NeedsRouting {
			t.Errorf("SD003 without a place: %+v, want flagged for routing", c)
		}

		again, err := importFile(f.as["staff"], f, path, cases.HotlineOptions{})
		if err != nil || again.Imported != 0 || again.Known != 3 {
			t.Fatalf("the same file again: %+v %v, want all 3 known and nothing new", again, err)
		}
		if n := countCases(t, d); n != 3 {
			t.Errorf("%d cases after importing twice, want 3", n)
		}
		k, _ := f.svc.KPIs(system, cases.KPIQuery{})
		if k.Reported != 3 {
			t.Errorf("reported %d, want 3", k.Reported)
		}
		assertStatsMatchLog(t, f)
	})
}

// One bad row means nothing is imported, and every bad row is named by
// its line and column.
func TestHotlineImportRefusesAFileWithBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		csv := hotlineHeader +
			"SD101,2026-11-25 09:30:00,E0101,好的一行,,,,,,\n" + // line 2: fine
			",2026-11-25 09:30:00,E0101,没有编号,,,,,,\n" + // 3
			"SD101,2026-11-25 09:30:00,E0101,编号重复,,,,,,\n" + // 4
			"SD104,昨天上午,E0101,时间不对,,,,,,\n" + // 5
			"SD105,2026-11-25 09:30:00,不存在的分类,分类不对,,,,,,\n" + // 6
			"SD106,2026-11-25 09:30:00,E0101,,,,,,,\n" + // 7: no description
			"SD107,2026-11-25 09:30:00,E0101,电话不对,,,,12345,,\n" + // 8
			"SD108,2026-11-25 09:30:00,E0101,坐标不对,,,,,abc,37.4\n" + // 9
			"SD109,2026-11-25 09:30:00,E0101,别的社区,,黄海社区,,,,\n" + // 10: outside staff's scope
			"SD110,2030-01-01 00:00:00,E0101,未来的时间,,,,,,\n" + // 11
			"SD111,2026-11-25 09:30:00,E0101,\"引号没关,,,,,,\n" // 12: malformed
		path := writeFile(t, "bad.csv", []byte(csv))
		_, err := importFile(f.as["staff"], f, path, cases.HotlineOptions{})
		e := errs.As(err)
		if e.Code != errs.Invalid {
			t.Fatalf("a file with bad rows: %v, want invalid", err)
		}
		want := []string{"第 3 行 / row 3 · 工单编号", "第 4 行 / row 4 · 工单编号", "第 5 行 / row 5 · 来电时间",
			"第 6 行 / row 6 · 诉求分类", "第 7 行 / row 7 · 诉求内容", "第 8 行 / row 8 · 联系电话", "第 9 行 / row 9 · 纬度",
			"第 10 行 / row 10 · 所属社区", "第 11 行 / row 11 · 来电时间", "第 12 行 / row 12"}
		var got []string
		for _, fl := range e.Fields {
			got = append(got, fl.Field)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("bad rows named:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := countCases(t, d); n != 0 {
			t.Errorf("%d cases left behind by a refused file", n)
		}
	})
}

// A mapping of one's own reads another export; a column it names that the
// file lacks is an error naming it and the file's header. An xlsx file
// works like a CSV, and a check writes nothing.
func TestHotlineMappingAndXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		m, err := cases.ParseHotlineMapping(strings.NewReader(`{"external_id": "Ticket", "description": "Content",
			"category": "Type", "categories": {"Rubbish": "E0101"}, "reported_at": "Opened", "area": "Community"}`))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "export.xlsx")
		out, _ := os.Create(path)
		w, err := sheet.NewXLSXWriter(out, "工单", []string{"Ticket", "Opened", "Type", "Content", "Community"})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]any{"T-1", "2026-11-25 08:00", "Rubbish", "Bags left by the bins", "370613001001"})
		w.Write([]any{"T-2", "2026-11-25 08:10", "Rubbish", "More bags", "岱山社区"})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out.Close()

		rep, err := importFile(f.as["staff"], f, path, cases.HotlineOptions{Mapping: m, CheckOnly: true})
		if err != nil || !rep.Checked || rep.Imported != 2 || countCases(t, d) != 0 {
			t.Fatalf("check: %+v %v; %d cases", rep, err, countCases(t, d))
		}
		rep, err = importFile(f.as["staff"], f, path, cases.HotlineOptions{Mapping: m})
		if err != nil || rep.Imported != 2 || rep.Routing != 0 {
			t.Fatalf("import: %+v %v", rep, err)
		}

		m.Phone = "Tel"
		_, err = importFile(f.as["staff"], f, path, cases.HotlineOptions{Mapping: m})
		if e := errs.As(err); e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "header" ||
			!strings.Contains(e.Fields[0].Args[0].(string), "Tel") || !strings.Contains(e.Fields[0].Args[2].(string), "Ticket, Opened") {
			t.Fatalf("a mapped column missing: %+v", e)
		}
		if _, err := cases.ParseHotlineMapping(strings.NewReader(`{"external_id": "a", "descripton": "b"}`)); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("a misspelt key: %v", err)
		}
		if _, err := importFile(f.as["worker"], f, path, cases.HotlineOptions{Mapping: m}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a grid worker imports: %v, want forbidden", err)
		}
	})
}
