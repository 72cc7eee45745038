package sheet

import (
	"archive/zip"
	"bufio"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeExcelLike writes a workbook the way Excel lays it out: text in the
// shared-strings table (each row's name, ID, phone and address unique),
// dates as serial numbers with the built-in short date format 14, every
// cell with a border style. excelize's stream writer writes inline strings
// instead, so this is the other half of what an import meets.
func writeExcelLike(tb testing.TB, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	part := func(name, content string) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, content)
	}
	part("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	part("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	part("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	part("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	part("xl/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="2"><border/><border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1"/><xf numFmtId="14" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/></cellXfs></styleSheet>`)

	// The sheet refers to strings by index; the table is written after it
	// from the same sequence, so nothing is held in memory.
	sheet, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		tb.Fatal(err)
	}
	sw := bufio.NewWriterSize(sheet, 1<<20)
	sw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	next := 0
	cols := "ABCDEFGHIJ"
	fmt.Fprintf(sw, `<row r="1">`)
	for c := range benchHeader {
		fmt.Fprintf(sw, `<c r="%c1" s="1" t="s"><v>%d</v></c>`, cols[c], next)
		next++
	}
	sw.WriteString(`</row>`)
	cells := make([]any, len(benchHeader))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rows {
		benchRow(r, i, cells)
		n := i + 2
		fmt.Fprintf(sw, `<row r="%d">`, n)
		for c, v := range cells {
			switch v := v.(type) {
			case string:
				fmt.Fprintf(sw, `<c r="%c%d" s="1" t="s"><v>%d</v></c>`, cols[c], n, next)
				next++
			case time.Time:
				fmt.Fprintf(sw, `<c r="%c%d" s="2"><v>%d</v></c>`, cols[c], n, 43831+int(v.Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)).Hours()/24))
			default:
				fmt.Fprintf(sw, `<c r="%c%d" s="1"><v>%v</v></c>`, cols[c], n, v)
			}
		}
		sw.WriteString(`</row>`)
	}
	sw.WriteString(`</sheetData></worksheet>`)
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}

	sst, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		tb.Fatal(err)
	}
	ss := bufio.NewWriterSize(sst, 1<<20)
	fmt.Fprintf(ss, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, next, next)
	for _, h := range benchHeader {
		fmt.Fprintf(ss, `<si><t>%s</t></si>`, h)
	}
	r = rand.New(rand.NewPCG(1, 2))
	for i := range rows {
		benchRow(r, i, cells)
		for _, v := range cells {
			if s, ok := v.(string); ok {
				fmt.Fprintf(ss, `<si><t>%s</t></si>`, html.EscapeString(s))
			}
		}
	}
	ss.WriteString(`</sst>`)
	if err := ss.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
}

func TestExcelLikeWorkbook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "excel.xlsx")
	writeExcelLike(t, path, 3)
	r := openFile(t, path, Options{})
	rows, bad := readAll(t, r)
	if len(rows) != 3 || bad != nil || r.Header()[1] != "姓名" || rows[0].Cells[0] != "1" || len(rows[0].Cells[6]) < 8 || rows[2].Line != 4 {
		t.Fatalf("header %q rows %+v errors %v", r.Header(), rows, bad)
	}
	if d := rows[0].Cells[6]; d[:4] < "2020" || d[4] != '/' {
		t.Errorf("date cell %q; want Excel's short date as 2024/3/8", d)
	}
}

// BenchmarkReadExcelLike reads a million-row workbook laid out as Excel
// writes it (see writeExcelLike).
func BenchmarkReadExcelLike(b *testing.B) {
	path := filepath.Join(b.TempDir(), "excel.xlsx")
	writeExcelLike(b, path, benchRows)
	for b.Loop() {
		measure(b, "read", func() { readBench(b, path) })
	}
	reportXLSXSize(b, path)
}

// reportXLSXSize reports the workbook's size on disk and inflated, and how
// long Open's checks take.
func reportXLSXSize(b *testing.B, path string) {
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	zr.Close()
	b.ReportMetric(float64(total)/(1<<20), "uncompressed-MB")
	start := time.Now()
	if err := checkWorkbook(path, DefaultMaxUncompressed); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "check-s")
}
