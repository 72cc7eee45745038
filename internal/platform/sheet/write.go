package sheet

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Writer writes a table row by row.
type Writer interface {
	// Write adds a row of at most len(header) values.
	Write(cells []any) error
	// Close finishes the file. Nothing is complete before it returns nil.
	Close() error
}

var (
	_ Writer = (*XLSXWriter)(nil)
	_ Writer = (*CSVWriter)(nil)
)

// maxXLSXRows is Excel's row limit, the header included.
const maxXLSXRows = excelize.TotalRows

// XLSXWriter streams rows into one sheet of a new workbook.
type XLSXWriter struct {
	w     io.Writer
	f     *excelize.File
	sw    *excelize.StreamWriter
	width int
	row   int // rows written, the header included
	// date and dateTime are the styles of time.Time cells: ISO dates, as
	// Chinese offices write them, instead of excelize's "m/d/yy hh:mm".
	date, dateTime int
	cells          []any // reused for each row
}

// NewXLSXWriter starts a workbook with one sheet named sheetName whose
// first row is the header, in bold and frozen so that it stays in view.
// Values may be strings, numbers, booleans, time.Time or nil; strings are
// stored as text and never taken for formulas. The workbook is written to w
// on Close.
func NewXLSXWriter(w io.Writer, sheetName string, header []string) (*XLSXWriter, error) {
	f := excelize.NewFile()
	x := &XLSXWriter{w: w, f: f, width: len(header)}
	if err := x.start(sheetName, header); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *XLSXWriter) start(sheetName string, header []string) error {
	if sheetName != "Sheet1" {
		if err := x.f.SetSheetName("Sheet1", sheetName); err != nil {
			return fmt.Errorf("工作表名称“%s”不可用 / the sheet name %q cannot be used: %w", sheetName, sheetName, err)
		}
	}
	sw, err := x.f.NewStreamWriter(sheetName)
	if err != nil {
		return err
	}
	bold, err := x.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if x.date, err = x.numFmt("yyyy-mm-dd"); err != nil {
		return err
	}
	if x.dateTime, err = x.numFmt("yyyy-mm-dd hh:mm:ss"); err != nil {
		return err
	}
	// SetPanes must come before the first row.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	x.sw = sw
	return x.setRow(cells)
}

func (x *XLSXWriter) numFmt(format string) (int, error) {
	return x.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
}

// Write adds a row. Times with no time of day are shown as dates
// (2024-03-08), others with the time (2024-03-08 14:30:00).
func (x *XLSXWriter) Write(cells []any) error {
	if len(cells) > x.width {
		return fmt.Errorf("sheet: a row of %d cells for a header of %d", len(cells), x.width)
	}
	if x.row >= maxXLSXRows {
		return fmt.Errorf("超过 Excel 的 %d 行上限，请改用 CSV 导出 / more than Excel's limit of %d rows: export CSV instead", maxXLSXRows, maxXLSXRows)
	}
	x.cells = append(x.cells[:0], cells...)
	for i, v := range x.cells {
		if v == "" {
			x.cells[i] = nil // no cell at all: an empty inline string takes 40 bytes of XML
		}
		if t, ok := v.(time.Time); ok {
			// excelize writes the wall clock of t's own zone, as Excel has
			// no zones; midnight there means a date.
			style := x.dateTime
			if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0 {
				style = x.date
			}
			x.cells[i] = excelize.Cell{StyleID: style, Value: t}
		}
	}
	return x.setRow(x.cells)
}

func (x *XLSXWriter) setRow(cells []any) error {
	x.row++
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, cells)
}

// Close writes the workbook to w and removes the temporary files.
func (x *XLSXWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	// excelize's WriteTo builds the whole zip in a bytes.Buffer first; for
	// a million rows that is tens of MB held at once. Pointing its zip
	// writer at w streams the parts out as they are compressed. (Its zip64
	// fix-up of local headers, which needs the buffer, only applies to a
	// part over 4 GiB, which Excel's row limit keeps us from.)
	x.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(x.w) })
	_, err := x.f.WriteTo(io.Discard)
	return err
}

// CSVWriter writes CSV in UTF-8 with a BOM and CRLF line ends, as Excel
// writes and expects it.
type CSVWriter struct {
	w     *csv.Writer
	width int
}

// NewCSVWriter writes the BOM and the header. Values are formatted like
// the xlsx writer's; times as "2006-01-02 15:04:05", which Excel reads as
// dates. A text value starting with = + - @ or a tab gets a leading
// apostrophe so that Excel shows it instead of running it as a formula
// (CSV injection): the texts come from residents.
func NewCSVWriter(w io.Writer, header []string) (*CSVWriter, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	c := &CSVWriter{w: csv.NewWriter(w), width: len(header)}
	c.w.UseCRLF = true
	if err := c.w.Write(header); err != nil {
		return nil, err
	}
	return c, nil
}

// Write adds a row.
func (c *CSVWriter) Write(cells []any) error {
	if len(cells) > c.width {
		return fmt.Errorf("sheet: a row of %d cells for a header of %d", len(cells), c.width)
	}
	rec := make([]string, len(cells))
	for i, v := range cells {
		rec[i] = csvText(v)
	}
	return c.w.Write(rec)
}

// Close flushes the buffered rows.
func (c *CSVWriter) Close() error {
	c.w.Flush()
	return c.w.Error()
}

func csvText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return defuse(v)
	case time.Time:
		return v.Format(time.DateTime)
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case fmt.Stringer:
		return defuse(v.String())
	}
	return defuse(fmt.Sprint(v))
}

// defuse makes a text that Excel would run as a formula show as text.
func defuse(s string) string {
	// Only white space is no formula, and a blank cell must stay blank
	// (the fuzzer found a tab-only cell written as "'\t", read back as "'").
	if strings.TrimSpace(s) == "" {
		return s
	}
	if s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	return s
}
