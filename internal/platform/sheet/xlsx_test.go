package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openFile(t *testing.T, path string, opt Options) Reader {
	t.Helper()
	r, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestXLSXRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewXLSXWriter(&b, "居民", []string{"姓名", "年龄", "登记日期", "备注"})
	if err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	day := time.Date(2024, 3, 8, 0, 0, 0, 0, shanghai)
	for _, row := range [][]any{{"张三", 76, day, "=1+1"}, {"李四", 3.5, day.Add(90 * time.Minute), " 空格 "}, {}, {"王五"}} {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := openFile(t, writeFile(t, "export.csv", b.Bytes()), Options{}) // the name lies; the content decides
	if h := r.Header(); !reflect.DeepEqual(h, []string{"姓名", "年龄", "登记日期", "备注"}) {
		t.Errorf("header %q", h)
	}
	rows, bad := readAll(t, r)
	want := []Row{
		{Line: 2, Cells: []string{"张三", "76", "2024-03-08", "=1+1"}},
		{Line: 3, Cells: []string{"李四", "3.5", "2024-03-08 01:30:00", "空格"}},
		{Line: 5, Cells: []string{"王五", "", "", ""}},
	}
	if !reflect.DeepEqual(rows, want) || bad != nil {
		t.Errorf("rows %+v, errors %v", rows, bad)
	}
}

// newWorkbook builds a test workbook with excelize: sheets maps a name to
// its rows; hidden names sheets to hide.
func newWorkbook(t *testing.T, sheets []string, rows map[string][][]any, hidden ...string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range sheets {
		if i == 0 {
			f.SetSheetName("Sheet1", name)
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for j, row := range rows[name] {
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range hidden {
		f.SetActiveSheet(len(sheets) - 1) // Excel does not hide the active sheet
		if err := f.SetSheetVisible(name, false); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "book.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestXLSXSheetChoice(t *testing.T) {
	path := newWorkbook(t, []string{"字典", "数据", "其他"}, map[string][][]any{
		"字典": {{"代码", "名称"}, {"1", "汉族"}},
		"数据": {{"花名册"}, {}, {"姓名", "电话", ""}, {"张三", 138}, {nil, nil}, {"李四", nil, nil, "多余"}},
		"其他": {{"x"}},
	}, "字典")
	r := openFile(t, path, Options{SkipRows: 1})
	rows, bad := readAll(t, r)
	if !reflect.DeepEqual(r.Header(), []string{"姓名", "电话"}) || !reflect.DeepEqual(rows, []Row{{Line: 4, Cells: []string{"张三", "138"}}}) {
		t.Errorf("header %q rows %+v", r.Header(), rows)
	}
	if len(bad) != 1 || bad[0].Line != 6 || bad[0].Got != 4 || bad[0].Want != 2 || !strings.HasPrefix(bad[0].Error(), "第 6 行 / row 6: 有 4 个单元格") {
		t.Errorf("errors %v", bad)
	}

	r = openFile(t, path, Options{Sheet: "其他"})
	if !reflect.DeepEqual(r.Header(), []string{"x"}) {
		t.Errorf("named sheet: header %q", r.Header())
	}
	if _, err := Open(path, Options{Sheet: "没有"}); err == nil || !strings.Contains(err.Error(), "没有名为“没有”的工作表") {
		t.Errorf("missing sheet: %v", err)
	}
}

func TestXLSXEmpty(t *testing.T) {
	path := newWorkbook(t, []string{"空"}, nil)
	_, err := Open(path, Options{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindEmpty {
		t.Fatalf("empty sheet: %v", err)
	}
	path = newWorkbook(t, []string{"表"}, map[string][][]any{"表": {{"姓名"}}})
	if _, err := openFile(t, path, Options{}).Next(); err != io.EOF {
		t.Errorf("header only: %v", err)
	}
}

func TestOpenEmptyFile(t *testing.T) {
	_, err := Open(writeFile(t, "empty.xlsx", nil), Options{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindEmpty {
		t.Fatalf("empty file: %v", err)
	}
}

// zipFile builds a zip with the given parts.
func zipFile(t *testing.T, parts map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		kind Kind
		msg  string
	}{
		{"random zip-looking bytes", []byte("PK\x03\x04\x00\x01\x02\x03garbage"), KindFormat, "not an xlsx spreadsheet"},
		{"docx", zipFile(t, map[string]string{"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"}), KindFormat, "Word document"},
		{"zip without workbook", zipFile(t, map[string]string{"readme.txt": "hello"}), KindFormat, "holds no workbook"},
		{"workbook that is not XML", zipFile(t, map[string]string{"[Content_Types].xml": "<", "xl/workbook.xml": "<"}), KindFormat, "not an xlsx spreadsheet"},
		{"xls", append(append([]byte{}, oleMagic...), make([]byte, 512)...), KindFormat, ".xls"},
		{"random bytes", []byte{0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D}, KindFormat, "binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(writeFile(t, "upload.xlsx", tt.file), Options{})
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != tt.kind || !strings.Contains(fe.En, tt.msg) || fe.Zh == "" {
				t.Fatalf("got %v; want %s with %q", err, tt.kind, tt.msg)
			}
		})
	}
}

// bomb writes a workbook whose sheet is size bytes of zeros: a few kB on
// disk, however large it claims to be.
func bomb(t *testing.T, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bomb.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, _ := zw.Create(name)
		io.WriteString(w, "<x/>")
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeros{}, size); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestXLSXZipBomb(t *testing.T) {
	path := bomb(t, 32<<20)
	_, err := Open(path, Options{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindTooLarge || !strings.Contains(fe.En, "zip bomb") {
		t.Fatalf("ratio: %v", err)
	}
	_, err = Open(path, Options{MaxUncompressed: 16 << 20})
	if !errors.As(err, &fe) || fe.Kind != KindTooLarge || !strings.Contains(fe.En, "more than the limit of 16 MiB") {
		t.Fatalf("limit: %v", err)
	}
}

// A part whose header claims less than it holds is refused: archive/zip
// stops at the declared size, and Open checks every part before excelize,
// which would ignore the error and go on with a truncated sheet.
func TestXLSXLyingHeader(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, _ := zw.Create(name)
		io.WriteString(w, "<x/>")
	}
	var deflated bytes.Buffer
	fw := zip.NewWriter(&deflated)
	real := bytes.Repeat([]byte("<row/>"), 1<<16)
	w, _ := fw.CreateHeader(&zip.FileHeader{Name: "x", Method: zip.Deflate})
	w.Write(real)
	fw.Close()
	// Take the compressed bytes out of the scratch zip and store them
	// under a header that claims a tenth of the real size.
	zr, _ := zip.NewReader(bytes.NewReader(deflated.Bytes()), int64(deflated.Len()))
	raw, _ := zr.File[0].OpenRaw()
	comp, _ := io.ReadAll(raw)
	lw, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CompressedSize64: uint64(len(comp)), UncompressedSize64: uint64(len(real) / 10), CRC32: crc32.ChecksumIEEE(real[:len(real)/10])})
	if err != nil {
		t.Fatal(err)
	}
	lw.Write(comp)
	zw.Close()
	_, err = Open(writeFile(t, "lie.xlsx", b.Bytes()), Options{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindFormat || !strings.Contains(fe.En, "does not match the size or checksum") {
		t.Fatalf("got %v", err)
	}
}

func TestXLSXTooManyParts(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i <= maxParts; i++ {
		zw.CreateHeader(&zip.FileHeader{Name: "p" + itoa(i), Method: zip.Store})
	}
	zw.Close()
	_, err := Open(writeFile(t, "many.xlsx", b.Bytes()), Options{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindTooLarge || !strings.Contains(fe.En, "parts") {
		t.Fatalf("got %v", err)
	}
}

// Cells read as Excel shows them, with Excel's built-in short date as a
// Chinese Excel shows it.
func TestXLSXFormattedCells(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	day := time.Date(2024, 3, 8, 18, 0, 0, 0, time.UTC)
	style := func(s *excelize.Style) int {
		id, err := f.NewStyle(s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	custom := func(code string) int { return style(&excelize.Style{CustomNumFmt: &code}) }
	cells := []struct {
		value any
		style int
		want  string
	}{
		{day, style(&excelize.Style{NumFmt: 14}), "2024/3/8"},
		{day, style(&excelize.Style{NumFmt: 22}), "2024/3/8 18:00"},
		{day, custom("yyyy-mm-dd"), "2024-03-08"},
		{day, custom(`yyyy"年"m"月"d"日"`), "2024年3月8日"},
		{day, custom("d-mmm-yy"), "8-Mar-24"},
		{day, custom("h:mm AM/PM"), "6:00 PM"},
		{45359.75, custom("#,##0"), "45,360"},
		{0.125, custom("0.0%"), "12.5%"},
		{"11010519491231002X", custom("@"), "11010519491231002X"},
	}
	header := make([]any, len(cells))
	for i, c := range cells {
		header[i] = "c" + itoa(i)
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		f.SetCellValue("Sheet1", cell, c.value)
		f.SetCellStyle("Sheet1", cell, cell, c.style)
	}
	f.SetSheetRow("Sheet1", "A1", &header)
	path := filepath.Join(t.TempDir(), "formats.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	rows, _ := readAll(t, openFile(t, path, Options{}))
	if len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	for i, c := range cells {
		if got := rows[0].Cells[i]; got != c.want {
			t.Errorf("cell %d (%v): %q; want %q", i, c.value, got, c.want)
		}
	}
}

func TestTagFormat(t *testing.T) {
	for code, want := range map[string]string{
		"yyyy-mm-dd":          "[$-804]yyyy-mm-dd",
		"[$-409]yyyy-mm-dd":   "[$-409]yyyy-mm-dd",
		"d-mmm-yy":            "d-mmm-yy",
		"dddd":                "dddd",
		"h:mm AM/PM":          "h:mm AM/PM",
		"":                    "",
		"#,##0.00;[Red]-0.00": "[$-804]#,##0.00;[Red]-0.00",
	} {
		if got := tagFormat(code); got != want {
			t.Errorf("tagFormat(%q) = %q; want %q", code, got, want)
		}
	}
}
