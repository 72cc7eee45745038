package registry

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// FuzzImportRow puts one register row of arbitrary cells through the
// import's validator (ImportResidents, checking only). Either the import
// names the row's problems (an Invalid error whose fields all point at
// line 2 of the file, or, for a cell the reader cannot decode, the
// reader's message about line 2) or it accepts the row, and then the row's values
// validate again on their own: a name of 1–50 characters without control
// characters, an ID number that parses (or an overseas resident's
// passport number) and agrees with the sex and birth date given, a phone
// number that normalises, a note of at most 500 characters.
//
//	go test -run '^$' -fuzz FuzzImportRow -fuzztime 60s ./internal/registry/
func FuzzImportRow(f *testing.F) {
	const grid = "370613001001001"
	f.Add("张桂兰", "370613194503121223", "女", "1945/3/12", "138 1234 5678", "户籍", grid, "独居")
	f.Add("李强", "370613198001011318", "", "", "", "流动", grid, "")
	f.Add("John SMITH", "E12345678", "male", "1980-01-01", "+86 138 0013 8000", "境外", grid, "")
	f.Add("王五", "370613198001011310", "男", "19800101", "0535-1234567", "", grid, "校验位错")
	f.Add("", "11010519491231002x", "女", "1949年12月31日", "12345", "户籍人口", "", "")
	f.Add("赵\x07六", "110105194912310021", "X", "1949.13.1", "+1 555 0100", "游客", "999", strings.Repeat("长", 501))
	f.Add("阿卜杜·热合曼", " 650102 19900101 0011 ", "m", "1990-1-1", "（0991）1234567", "registered", grid, "a\r\nb")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	d := dbtest.Open(f, "sqlite:"+f.TempDir()+"/linli.db")
	log := audit.New(d, clock)
	areas := area.NewService(d, log, auth.NewService(d, log, clock), clock)
	box, err := crypto.New([]byte(strings.Repeat("k", crypto.KeySize)))
	if err != nil {
		f.Fatal(err)
	}
	svc := NewService(d, log, box, areas, clock)
	admin := auth.WithPrincipal(context.Background(), auth.System())
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: grid, Name: "岱山第一网格", Level: area.Grid, Parent: "370613001001"},
	} {
		if _, err := areas.Create(admin, na); err != nil {
			f.Fatalf("%s: %v", na.Code, err)
		}
	}
	header := []string{"姓名", "证件号码", "性别", "出生日期", "联系电话", "人口类型", "网格代码", "备注"}
	f.Fuzz(func(t *testing.T, name, id, sex, birth, phone, pop, gridCode, note string) {
		cells := []string{name, id, sex, birth, phone, pop, gridCode, note}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(header)
		w.Write(cells)
		w.Flush()
		rows, err := sheet.OpenCSV(bytes.NewReader(buf.Bytes()), sheet.Options{})
		if err != nil {
			return // not a file the sheet reader takes (e.g. a cell in another encoding)
		}
		defer rows.Close()
		rep, err := svc.ImportResidents(admin, rows, ImportOptions{CheckOnly: true})
		if err != nil {
			e, ok := err.(*errs.Error)
			// A cell the reader cannot take (another encoding) fails the
			// file as a whole: err.import.file with the reader's message.
			if !ok || e.Code != errs.Invalid || (len(e.Fields) == 0 && (e.Key != "err.import.file" || len(e.Args) == 0)) {
				t.Fatalf("row %q: %#v names no problem", cells, err)
			}
			for _, fe := range e.Fields {
				if !strings.HasPrefix(fe.Field, "第 2 行 / row 2") && fe.Field != "file" {
					t.Fatalf("row %q: problem %+v is not on line 2", cells, fe)
				}
			}
			return
		}
		if rep.Rows != 1 || rep.Created != 1 {
			t.Fatalf("row %q: report %+v", cells, rep)
		}
		// The row as the reader handed it over: cells trimmed.
		name, id, sex, birth, phone, pop = fuzzTrim(name), normaliseID(fuzzTrim(id)), fuzzTrim(sex), fuzzTrim(birth), fuzzTrim(phone), fuzzTrim(pop)
		if name == "" || !textOK(name, 50) || !textOK(fuzzTrim(note), 500) {
			t.Fatalf("row %q: accepted name %q / note", cells, name)
		}
		if _, ok := normalisePhone(phone); !ok {
			t.Fatalf("row %q: accepted phone %q", cells, phone)
		}
		if popByName[strings.ToLower(pop)] == Overseas && passportRE.MatchString(id) {
			return
		}
		parsed, err := parseIDNumber(id, now)
		if err != nil {
			t.Fatalf("row %q: accepted ID number %q: %v", cells, id, err)
		}
		if sex != "" && sexNames[strings.ToLower(sex)] != parsed.Sex {
			t.Fatalf("row %q: accepted sex %q for an ID number of sex %s", cells, sex, parsed.Sex)
		}
		if birth != "" {
			match := false
			for _, layout := range dateLayouts {
				if b, err := time.Parse(layout, birth); err == nil {
					match = b.Format(time.DateOnly) == parsed.Birth
					break
				}
			}
			if !match {
				t.Fatalf("row %q: accepted birth date %q for an ID number born %s", cells, birth, parsed.Birth)
			}
		}
	})
}

// fuzzTrim trims a cell as the sheet reader does: Unicode white space,
// the full-width space included, and stray byte-order marks.
func fuzzTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
}
