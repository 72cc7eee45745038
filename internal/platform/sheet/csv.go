package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// OpenCSV reads a CSV file from r; see the package comment for encodings
// and separators. Close does not close r.
func OpenCSV(r io.Reader, opt Options) (Reader, error) {
	return openCSV(bufio.NewReaderSize(r, sampleLen), opt)
}

type csvReader struct {
	csv    *csv.Reader
	table  table
	closer io.Closer
	err    error // sticky: once reading cannot go on, every Next returns it
}

func openCSV(br *bufio.Reader, opt Options) (*csvReader, error) {
	lines, err := decodeCSV(br)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(lines)
	cr.Comma = separator(lines.peekLine())
	cr.FieldsPerRecord = -1 // counted against the header by table.fit, with a clearer message
	cr.ReuseRecord = true
	r := &csvReader{csv: cr, table: table{unit: "line", strict: true}}
	if err := r.readHeader(opt.SkipRows); err != nil {
		return nil, err
	}
	return r, nil
}

// separator is a tab when the first line has tabs and no comma (Excel's
// "Unicode text" and tables pasted from it), otherwise a comma.
func separator(first []byte) rune {
	if bytes.IndexByte(first, '\t') >= 0 && bytes.IndexByte(first, ',') < 0 {
		return '\t'
	}
	return ','
}

func (r *csvReader) readHeader(skip int) error {
	for {
		_, cells, err := r.record()
		if errors.Is(err, io.EOF) {
			return emptyError()
		}
		if err != nil {
			return r.headerError(err)
		}
		if blank(cells) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		r.table.setHeader(cells)
		return nil
	}
}

// headerError turns a bad header row into a file error: without a header
// no row can be read.
func (r *csvReader) headerError(err error) error {
	var re *RowError
	if errors.As(err, &re) {
		return &Error{Kind: re.Kind, Line: re.Line, Zh: "表头行有误：" + re.Zh, En: "the header row is wrong: " + re.En}
	}
	return err
}

func (r *csvReader) Header() []string { return r.table.header }

func (r *csvReader) Next() (Row, error) {
	for r.err == nil {
		line, cells, err := r.record()
		if err != nil {
			return Row{}, err
		}
		if row, ok, err := r.table.fit(line, cells); ok || err != nil {
			return row, err
		}
	}
	return Row{}, r.err
}

// record reads one CSV record. A malformed record is a *RowError; an
// encoding or read error ends reading.
func (r *csvReader) record() (int, []string, error) {
	if r.err != nil {
		return 0, nil, r.err
	}
	rec, err := r.csv.Read()
	if err == nil {
		line, _ := r.csv.FieldPos(0)
		return line, rec, nil
	}
	var pe *csv.ParseError
	var fe *Error
	switch {
	case errors.Is(err, io.EOF):
		r.err = io.EOF
	case errors.As(err, &fe):
		r.err = fe
	case errors.As(err, &pe):
		return 0, nil, parseError(pe)
	default:
		r.err = ioError(err)
	}
	return 0, nil, r.err
}

// parseError explains a CSV syntax error in words a clerk can act on.
func parseError(pe *csv.ParseError) *RowError {
	e := &RowError{Kind: KindSyntax, Line: pe.StartLine, Unit: "line"}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		e.Zh = "未加引号的单元格里有引号 \"：含引号的单元格须整体加引号，引号本身写两遍"
		e.En = "a quote \" appears in an unquoted cell: put such a cell in quotes and double the quote inside"
	case errors.Is(pe.Err, csv.ErrQuote):
		e.Zh = fmt.Sprintf("加引号的单元格没有正确结束（到第 %d 行为止）：引号后面应紧跟逗号或换行", pe.Line)
		e.En = fmt.Sprintf("a quoted cell is not closed properly (seen up to line %d): a closing quote must be followed by a comma or the end of the line", pe.Line)
	default:
		e.Zh, e.En = "CSV 格式错误", "malformed CSV: "+pe.Err.Error()
	}
	return e
}

func (r *csvReader) Close() error {
	if r.closer == nil {
		return nil
	}
	err := r.closer.Close()
	r.closer = nil
	return err
}

// table checks rows against the header.
type table struct {
	header []string
	unit   string // "line" or "row", for messages
	// strict refuses rows with fewer cells than the header (CSV, where a
	// missing separator is a mistake); xlsx pads them, as Excel does not
	// store empty trailing cells.
	strict bool
}

func (t *table) setHeader(cells []string) {
	h := trimmed(cells)
	if len(h) > 0 {
		h[0] = trimBOM(h[0])
	}
	t.header = h[:lastNonEmpty(h)]
}

// fit makes a row of exactly len(header) trimmed cells. ok is false for a
// blank row, which is skipped.
func (t *table) fit(line int, cells []string) (Row, bool, error) {
	if blank(cells) {
		return Row{}, false, nil
	}
	c := trimmed(cells)
	if n := lastNonEmpty(c); n > len(t.header) {
		return Row{}, false, t.countError(line, n)
	}
	if len(c) < len(t.header) && t.strict {
		return Row{}, false, t.countError(line, len(c))
	}
	c = append(c, make([]string, max(0, len(t.header)-len(c)))...)
	return Row{Line: line, Cells: c[:len(t.header)]}, true, nil
}

func (t *table) countError(line, got int) *RowError {
	want := len(t.header)
	e := &RowError{Kind: KindFieldCount, Line: line, Unit: t.unit, Want: want, Got: got}
	if got > want {
		e.Zh = fmt.Sprintf("有 %d 个单元格，多于表头的 %d 列", got, want)
		e.En = fmt.Sprintf("it has %d cells, more than the header's %d columns", got, want)
	} else {
		e.Zh = fmt.Sprintf("只有 %d 个单元格，少于表头的 %d 列", got, want)
		e.En = fmt.Sprintf("it has %d cells, fewer than the header's %d columns", got, want)
	}
	return e
}

// trimmed returns a new slice of the cells without surrounding white space.
func trimmed(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = trimSpace(c)
	}
	return out
}

func blank(cells []string) bool {
	for _, c := range cells {
		if trimSpace(c) != "" {
			return false
		}
	}
	return true
}

func lastNonEmpty(cells []string) int {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return n
}
