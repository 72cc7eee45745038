package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzLimit is the uncompressed size the fuzz targets allow a workbook.
const fuzzLimit = 4 << 20

// fuzzWorkbook is a small register as the package's own writer saves it.
func fuzzWorkbook(tb testing.TB, header []string, rows ...[]any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := NewXLSXWriter(&buf, "花名册", header)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fuzzZip is a zip of the given parts, stored or deflated.
func fuzzZip(tb testing.TB, deflate bool, parts ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	method := zip.Store
	if deflate {
		method = zip.Deflate
	}
	for i := 0; i+1 < len(parts); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: parts[i], Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, parts[i+1])
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzOpenXLSX feeds arbitrary bytes, seeded with real workbooks, damaged
// ones and zip bombs, to Open as an uploaded file. It must not panic;
// errors must be complete *Error or *RowError values; rows have the
// header's width and growing row numbers; and memory stays bounded: a
// workbook that declares more than the limit is refused, and no input
// makes Open and the reading allocate more than 64 MiB.
//
//	go test -run '^$' -fuzz FuzzOpenXLSX -fuzztime 60s ./internal/platform/sheet/
func FuzzOpenXLSX(f *testing.F) {
	book := fuzzWorkbook(f, []string{"姓名", "身份证号", "电话", "出生日期"},
		[]any{"张桂兰", "370613194503121223", "13812345678", "1945-03-12"},
		[]any{"李强", "370613198001011318", nil, 42.5},
		[]any{"=SUM(A1)", "", "0535-1234567", true})
	f.Add(book)
	f.Add(book[:len(book)/2])
	f.Add(fuzzZip(f, true, "[Content_Types].xml", "<Types/>", "xl/workbook.xml", "<workbook/>"))
	f.Add(fuzzZip(f, true, "[Content_Types].xml", "<Types/>", "xl/workbook.xml", "<workbook/>", "xl/worksheets/sheet1.xml", strings.Repeat("\x00", 2<<20)))
	f.Add(fuzzZip(f, false, "word/document.xml", "<w/>"))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("PK\x03\x04"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "upload.xlsx")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := Open(path, Options{MaxUncompressed: fuzzLimit, TempDir: dir})
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Zh == "" || fe.En == "" || fe.Kind == "" {
				t.Fatalf("Open: %#v is not a complete *Error", err)
			}
			if declared := declaredSize(b); declared > fuzzLimit && fe.Kind != KindTooLarge && bytes.HasPrefix(b, zipMagic) && fe.Kind != KindFormat {
				t.Fatalf("a zip declaring %d bytes was refused as %s, not too large", declared, fe.Kind)
			}
			return
		}
		defer r.Close()
		if declared := declaredSize(b); declared > fuzzLimit {
			t.Fatalf("a zip declaring %d bytes, over the limit of %d, was opened", declared, fuzzLimit)
		}
		width, last := len(r.Header()), 0
		for i := 0; ; i++ {
			if i > 1<<20 {
				t.Fatal("Next does not stop")
			}
			row, err := r.Next()
			var re *RowError
			var fe *Error
			switch {
			case errors.Is(err, io.EOF):
			case errors.As(err, &fe):
				if fe.Zh == "" || fe.En == "" {
					t.Fatalf("incomplete error %#v", fe)
				}
			case errors.As(err, &re):
				if re.Zh == "" || re.En == "" {
					t.Fatalf("incomplete row error %#v", re)
				}
				continue
			case err != nil:
				t.Fatalf("Next: %T %v", err, err)
			default:
				if row.Line <= last || len(row.Cells) != width {
					t.Fatalf("row %+v after row %d, header of %d", row, last, width)
				}
				last = row.Line
				continue
			}
			break
		}
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Fatalf("reading %d bytes allocated %d MiB", len(b), alloc>>20)
		}
	})
}

// declaredSize is the sum of the uncompressed sizes a zip's directory
// declares, or 0 when it is no zip archive/zip can read.
func declaredSize(b []byte) uint64 {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) > maxParts {
		return 0
	}
	var n uint64
	for _, f := range zr.File {
		n += f.UncompressedSize64
	}
	return n
}

// FuzzWriteRead writes a row of texts with the package's xlsx and CSV
// writers and reads the files back: every cell reads as it was written,
// trimmed (CSV cells that Excel would run as formulas come back with the
// leading apostrophe the writer adds).
//
//	go test -run '^$' -fuzz FuzzWriteRead -fuzztime 60s ./internal/platform/sheet/
func FuzzWriteRead(f *testing.F) {
	f.Add("张桂兰", "370613194503121223", "岱山路12号 海韵小区\n3号楼")
	f.Add("=HYPERLINK(\"x\")", "-1", "+86 138 0013 8000")
	f.Add("\"quoted\", with comma", "\u3000全角空格\u3000", "tab\there")
	f.Add("", "", "x")
	f.Add("Ｘ", "'apostrophe", "@user")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, a, b, c string) {
		cells := []string{a, b, c}
		for _, s := range cells {
			if !utf8.ValidString(s) || len(s) > 32767 || strings.ContainsFunc(s, func(r rune) bool {
				// XML 1.0 has no control characters but tab and newline; \r
				// is folded by CSV. Neither writer promises these.
				return (unicode.IsControl(r) && r != '\t' && r != '\n') || r == '\uFFFE' || r == '\uFFFF' || (r >= 0xD800 && r <= 0xDFFF)
			}) {
				return
			}
		}
		header := []string{"甲", "乙", "丙"}
		row := []any{a, b, c}
		var want []string
		blankRow := true
		for _, s := range cells {
			want = append(want, trimSpace(s))
			if trimSpace(s) != "" {
				blankRow = false
			}
		}

		path := filepath.Join(dir, "rt.xlsx")
		if err := os.WriteFile(path, fuzzWorkbook(t, header, row), 0o600); err != nil {
			t.Fatal(err)
		}
		checkReadBack(t, "xlsx", path, want, blankRow)

		var buf bytes.Buffer
		cw, err := NewCSVWriter(&buf, header)
		if err != nil {
			t.Fatal(err)
		}
		if err := cw.Write(row); err != nil {
			t.Fatal(err)
		}
		if err := cw.Close(); err != nil {
			t.Fatal(err)
		}
		var wantCSV []string
		for _, s := range cells {
			wantCSV = append(wantCSV, trimSpace(defuse(s)))
		}
		path = filepath.Join(dir, "rt.csv")
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		checkReadBack(t, "csv", path, wantCSV, blankRow)
	})
}

func checkReadBack(t *testing.T, kind, path string, want []string, blankRow bool) {
	t.Helper()
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("%s: Open: %v", kind, err)
	}
	defer r.Close()
	row, err := r.Next()
	if blankRow {
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%s: a blank row read as %q, %v", kind, row.Cells, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: Next: %v", kind, err)
	}
	if strings.Join(row.Cells, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("%s: wrote %q, read %q", kind, want, row.Cells)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: a second row: %v", kind, err)
	}
}
