package sheet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

const register = "姓名,身份证号,电话,地址\r\n" +
	"张三,11010519491231002X,13800138000,幸福路 1 号\r\n" +
	"李四, 370602200002290015 ,,\"和平街 2 号, 3 单元\"\r\n"

var registerRows = []Row{
	{Line: 2, Cells: []string{"张三", "11010519491231002X", "13800138000", "幸福路 1 号"}},
	{Line: 3, Cells: []string{"李四", "370602200002290015", "", "和平街 2 号, 3 单元"}},
}

// readAll reads every row, collecting row errors, and fails the test on a
// file error.
func readAll(t *testing.T, r Reader) ([]Row, []*RowError) {
	t.Helper()
	var rows []Row
	var bad []*RowError
	for {
		row, err := r.Next()
		var re *RowError
		switch {
		case errors.Is(err, io.EOF):
			return rows, bad
		case errors.As(err, &re):
			bad = append(bad, re)
		case err != nil:
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		default:
			rows = append(rows, row)
		}
	}
}

func openString(t *testing.T, b []byte) Reader {
	t.Helper()
	r, err := OpenCSV(bytes.NewReader(b), Options{})
	if err != nil {
		t.Fatalf("OpenCSV: %v", err)
	}
	return r
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16(t *testing.T, s string, order unicode.Endianness) []byte {
	t.Helper()
	b, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSVEncodings(t *testing.T) {
	tsv := strings.NewReplacer("\"和平街 2 号, 3 单元\"", "和平街 2 号, 3 单元", ",", "\t").Replace(register)
	files := map[string][]byte{
		"UTF-8":        []byte(register),
		"UTF-8 BOM":    append([]byte("\uFEFF"), register...),
		"GBK":          gbk(t, register),
		"UTF-16LE":     utf16(t, tsv, unicode.LittleEndian),
		"UTF-16BE":     utf16(t, tsv, unicode.BigEndian),
		"tab in UTF-8": []byte(tsv),
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			r := openString(t, b)
			if h := r.Header(); !reflect.DeepEqual(h, []string{"姓名", "身份证号", "电话", "地址"}) {
				t.Errorf("header %q", h)
			}
			rows, bad := readAll(t, r)
			if !reflect.DeepEqual(rows, registerRows) || bad != nil {
				t.Errorf("rows %+v, errors %v", rows, bad)
			}
		})
	}
}

// A GBK file whose first 64 KiB are ASCII is still read as GBK: the sample
// cannot tell, and ASCII is the same in both.
func TestCSVGBKAfterLongASCII(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("id,name\n")
	n := 0
	for b.Len() < 2*sampleLen {
		n++
		b.WriteString("12345,abcdef\n")
	}
	b.Write(gbk(t, "99,王五\n"))
	rows, bad := readAll(t, openString(t, b.Bytes()))
	if len(rows) != n+1 || bad != nil || rows[n].Cells[1] != "王五" || rows[n].Line != n+2 {
		t.Fatalf("%d rows, last %v, errors %v", len(rows), rows[len(rows)-1], bad)
	}
}

func TestCSVMixedEncodings(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		line int
		msg  string
	}{
		{"UTF-8 then GBK", append([]byte("姓名,地址\n张三,幸福路\n"), gbk(t, "李四,和平街\n")...), 3, "the line is not UTF-8 although the file before it is"},
		{"GBK then UTF-8", append(gbk(t, "姓名,地址\n张三,幸福路\n李四,和平街\n"), "王五,长江路\n"...), 4, "looks like UTF-8 although the file before it is GBK"},
		{"GBK then garbage", append(gbk(t, "姓名,地址\n张三,幸福路\n"), "\xff\xff,x\n"...), 3, "neither UTF-8 nor GBK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openString(t, tt.file)
			var err error
			for err == nil {
				_, err = r.Next()
			}
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != KindEncoding || fe.Line != tt.line || !strings.Contains(fe.En, tt.msg) {
				t.Fatalf("got %v; want an encoding error at line %d", err, tt.line)
			}
			if want := "第 " + itoa(tt.line) + " 行 / line " + itoa(tt.line) + ": "; !strings.HasPrefix(fe.Error(), want) {
				t.Errorf("message %q does not start with %q", fe.Error(), want)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after the error gave %v", again)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCSVRowErrors(t *testing.T) {
	file := "a,b,c\n" +
		"1,2,3\n" +
		"1,2\n" + // line 3: too few
		"1,2,3,4\n" + // line 4: too many
		"1,2,3,,\n" + // line 5: empty extra cells are fine
		"1,x\"y,3\n" + // line 6: bare quote
		",,\n" + // line 7: blank, skipped
		"\"multi\nline\",2,3\n" + // lines 8–9
		"7,8,9\n" // line 10
	rows, bad := readAll(t, openString(t, []byte(file)))
	lines := func() (l []int) {
		for _, r := range rows {
			l = append(l, r.Line)
		}
		return
	}()
	if !reflect.DeepEqual(lines, []int{2, 5, 8, 10}) || rows[2].Cells[0] != "multi\nline" {
		t.Errorf("rows %+v", rows)
	}
	if len(bad) != 3 {
		t.Fatalf("row errors %v", bad)
	}
	if e := bad[0]; e.Line != 3 || e.Kind != KindFieldCount || e.Want != 3 || e.Got != 2 || e.Error() != "第 3 行 / line 3: 只有 2 个单元格，少于表头的 3 列 / it has 2 cells, fewer than the header's 3 columns" {
		t.Errorf("too few: %+v", e)
	}
	if e := bad[1]; e.Line != 4 || e.Kind != KindFieldCount || e.Want != 3 || e.Got != 4 {
		t.Errorf("too many: %+v", e)
	}
	if e := bad[2]; e.Line != 6 || e.Kind != KindSyntax || !strings.Contains(e.En, "quote") {
		t.Errorf("bare quote: %+v", e)
	}
}

func TestCSVUnclosedQuote(t *testing.T) {
	_, bad := readAll(t, openString(t, []byte("a,b\n1,2\n\"3,4\n5,6\n")))
	if len(bad) != 1 || bad[0].Line != 3 || bad[0].Kind != KindSyntax || !strings.Contains(bad[0].En, "not closed") {
		t.Fatalf("errors %v", bad)
	}
}

func TestCSVEmptyAndHeaderOnly(t *testing.T) {
	for name, file := range map[string]string{"empty": "", "BOM only": "\uFEFF", "blank lines": "\n\r\n,,\n"} {
		_, err := OpenCSV(strings.NewReader(file), Options{})
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindEmpty || !strings.Contains(fe.Error(), "文件是空的") {
			t.Errorf("%s: %v", name, err)
		}
	}
	r := openString(t, []byte("\uFEFF\uFEFF姓名, 电话 ,,\r\n"))
	if h := r.Header(); !reflect.DeepEqual(h, []string{"姓名", "电话"}) {
		t.Errorf("header %q", h)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next on a header-only file: %v", err)
	}
}

func TestCSVSkipRows(t *testing.T) {
	r, err := OpenCSV(strings.NewReader("幸福社区居民花名册,,\n\n姓名,电话,备注\n张三,138,\n"), Options{SkipRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := readAll(t, r)
	if !reflect.DeepEqual(r.Header(), []string{"姓名", "电话", "备注"}) || len(rows) != 1 || rows[0].Line != 4 {
		t.Errorf("header %q rows %v", r.Header(), rows)
	}
}

func TestCSVRefusesBinary(t *testing.T) {
	for name, tt := range map[string]struct {
		file []byte
		msg  string
	}{
		"xlsx":   {[]byte("PK\x03\x04rest"), "zip"},
		"xls":    {append(append([]byte{}, oleMagic...), 0, 0), ".xls"},
		"binary": {[]byte("a,b\n\x00\x01\x02"), "NUL"},
	} {
		_, err := OpenCSV(bytes.NewReader(tt.file), Options{})
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindFormat || !strings.Contains(fe.En, tt.msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOpenCSVFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upload.xlsx") // the name lies; the content decides
	if err := os.WriteFile(path, gbk(t, register), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, _ := readAll(t, r)
	if !reflect.DeepEqual(rows, registerRows) {
		t.Errorf("rows %+v", rows)
	}
}

func TestCSVWriterRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewCSVWriter(&b, []string{"名称", "数量", "说明"})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]any{{"张三", 3, "=HYPERLINK(\"http://x\")"}, {"李四", 2.5, "说,\"明\"\n第二行"}, {nil, true, "-1"}} {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\uFEFF名称,数量,说明\r\n")) {
		t.Errorf("no BOM or header: %q", b.String()[:20])
	}
	rows, bad := readAll(t, openString(t, b.Bytes()))
	want := []Row{
		{Line: 2, Cells: []string{"张三", "3", "'=HYPERLINK(\"http://x\")"}},
		{Line: 3, Cells: []string{"李四", "2.5", "说,\"明\"\n第二行"}},
		{Line: 5, Cells: []string{"", "TRUE", "'-1"}},
	}
	if !reflect.DeepEqual(rows, want) || bad != nil {
		t.Errorf("rows %+v, errors %v", rows, bad)
	}
}

func TestCSVLongLine(t *testing.T) {
	file := "a,b\n1,2\n" + strings.Repeat("x", maxLineLen+10) + ",3\n"
	r := openString(t, []byte(file))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindTooLarge || fe.Line != 3 {
		t.Fatalf("got %v", err)
	}
}
