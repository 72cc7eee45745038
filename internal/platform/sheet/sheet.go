// Package sheet reads and writes the tables that registers, case lists and
// hotline (12345) exports travel in: CSV and Excel .xlsx files of up to a
// million rows, streamed so that memory stays small whatever the size.
//
// # Reading
//
// Open takes a path (a web upload is saved to a temporary file first),
// looks at the content, not the name, and returns one Reader for both
// formats:
//
//	r, err := sheet.Open(path, sheet.Options{})
//	if err != nil { … }        // *Error: the file as a whole cannot be read
//	defer r.Close()
//	cols := r.Header()
//	for {
//		row, err := r.Next()
//		if err == io.EOF { break }
//		var bad *sheet.RowError
//		if errors.As(err, &bad) { report(bad); continue } // one bad row; go on
//		if err != nil { … }    // *Error: reading cannot go on
//		use(row.Line, row.Cells)
//	}
//
// The header is the first row that is not blank (after Options.SkipRows
// title rows). Its cells are trimmed, a byte-order mark is removed and
// empty trailing header cells are dropped; checking the column names is
// the caller's business. Every data row has exactly as many cells as the
// header, trimmed of surrounding white space (the full-width space
// included); blank rows are skipped. Row.Line is the 1-based line (CSV) or
// row (xlsx) number in the file, so that messages can point a clerk at it;
// for a CSV record spanning lines it is the first.
//
// Errors say what is wrong and where, in Chinese and English, as
// "第 12 行 / line 12: 只有 2 个单元格，少于表头的 3 列 / it has 2 cells,
// fewer than the header's 3 columns". Their Kind lets a caller tell a file
// that is too large (KindTooLarge, HTTP 413) from one that is wrong.
//
// CSV files are decoded from UTF-8 (with or without BOM), GB18030/GBK (what
// Chinese Excel's "CSV" saves) or UTF-16 with a BOM (Excel's "Unicode
// text"). The encoding is chosen from the first 64 KiB; a file that is
// ASCII for longer than that is judged by its first line that is not. A
// later line in another encoding stops reading with an *Error naming the
// line (KindEncoding), rather than turning into mojibake. The separator is
// a comma, or a tab when the first line has tabs and no comma (Unicode text
// and tables pasted from Excel are tab-separated); semicolons are not
// recognised. A row with a stray quote (KindSyntax) or with more or fewer
// cells than the header (KindFieldCount) is a *RowError and reading goes
// on. A physical line over 4 MiB stops reading: it is a damaged file.
//
// An .xlsx file is checked before excelize sees it: it must be a zip of at
// most 10,000 parts holding [Content_Types].xml and xl/workbook.xml, the
// parts' declared uncompressed sizes must add up to at most
// Options.MaxUncompressed (1 GiB by default), and no part over 1 MiB may
// be compressed more than 200:1, the mark of a zip bomb. Every part is
// then inflated once into nothing: archive/zip stops a part at its
// declared size and checks its CRC, so a header that lies is caught, and
// caught here, because excelize would ignore the error and read a
// truncated sheet. Encrypted workbooks and legacy .xls files are refused
// with a message saying to save as .xlsx or CSV.
//
// The first visible sheet (or Options.Sheet) is read with excelize's
// streaming row iterator; sheets over 16 MiB are kept in a temporary file,
// not in memory. Cells are returned as the text Excel shows, formatted by
// the cell's number format: "2024-03-08" for a date formatted yyyy-mm-dd,
// "45,360" for #,##0. Excel's built-in short date, which follows the
// reader's system, is given as a Chinese Excel shows it: "2024/3/8" (and
// "2024/3/8 18:00" with the time). Formulas give their cached result.
// Short rows are padded with empty cells, since Excel does not store empty
// trailing cells; Row.Line is the row number Excel shows.
//
// # Memory, disk and speed
//
// CSV is read and written in a few MB of heap whatever its length. An xlsx
// sheet is streamed too, but excelize first inflates a large sheet and its
// shared-strings table into temporary files (Options.TempDir): about
// 800 MB of disk for a million-row register saved by Excel. Excel keeps
// every distinct text in that table, and excelize holds an index of about
// 72 bytes per distinct text in memory while the file is open: some 300 MB
// for a million rows with four distinct texts each, and with Go's default
// GC pacing a heap of twice that. A server that imports such files should
// run with a memory limit (GOMEMLIMIT), which keeps the heap near it.
// Files written by this package use inline strings and need no index.
// Reading xlsx is bound by XML decoding and excelize's number formatting:
// thousands of rows a second, against hundreds of thousands for CSV, so a
// large import belongs in a background job that reports progress.
//
// # Writing
//
// NewXLSXWriter and NewCSVWriter write a header and then one row per
// Write. The xlsx writer streams rows through excelize's StreamWriter,
// which keeps them in a temporary file, and writes the zip straight to the
// destination on Close; the header is bold and frozen, times are shown as
// 2024-03-08 or 2024-03-08 14:30:00 in their own zone's wall clock, and
// text is never taken for a formula. It stops at Excel's 1,048,576 rows.
// The CSV writer writes UTF-8 with a BOM, which Chinese Excel needs to open
// it without mojibake, and CRLF line ends; text starting with = + - @ gets
// a leading apostrophe so that Excel does not run it (CSV injection).
package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Reader reads the rows of one table.
type Reader interface {
	// Header returns the header row's cells.
	Header() []string
	// Next returns the next data row, io.EOF after the last, a *RowError
	// for a row that is wrong (the next call reads on) or an *Error when
	// reading cannot go on (every later call returns it again).
	Next() (Row, error)
	// Close releases the file and any temporary files.
	Close() error
}

// Row is one data row.
type Row struct {
	Line  int      // 1-based line (CSV) or row (xlsx) number; the header's is usually 1
	Cells []string // exactly len(Header()) cells; the caller may keep them
}

// Options tune reading. The zero value is fine for most files.
type Options struct {
	// SkipRows is the number of non-blank rows above the header, such as
	// the title row ("某某社区居民花名册") many Chinese templates have.
	SkipRows int
	// Sheet names the xlsx sheet to read; default the first visible one.
	Sheet string
	// MaxUncompressed caps the total uncompressed size of an xlsx file's
	// parts; default DefaultMaxUncompressed.
	MaxUncompressed int64
	// TempDir is where excelize inflates parts over 16 MiB, which can take
	// several times the file's size; default os.TempDir().
	TempDir string
}

// DefaultMaxUncompressed is 1 GiB. A sheet of 1,000,000 rows × 10 short
// text columns is about 600 MB of XML when written with inline strings
// (excelize's stream writer) and 300–400 MB with shared strings (Excel),
// so this admits the largest import Linli expects and refuses bombs.
const DefaultMaxUncompressed int64 = 1 << 30

// sniffLen is how much of a file Open looks at to tell the format.
const sniffLen = 8

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls, .doc and encrypted .xlsx
)

// Open opens a CSV or xlsx file, telling them apart by content: a zip is
// read as xlsx, anything else as CSV. Errors are *Error.
func Open(path string, opt Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ioError(err)
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, ioError(err)
	}
	if bytes.HasPrefix(head[:n], zipMagic) {
		f.Close()
		return openXLSX(path, opt)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, ioError(err)
	}
	r, err := openCSV(bufio.NewReaderSize(f, sampleLen), opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// Kind says what went wrong, for callers that react to one kind (e.g.
// TooLarge → HTTP 413) without reading messages.
type Kind string

const (
	KindEmpty      Kind = "empty"       // no header row
	KindFormat     Kind = "format"      // not a CSV or xlsx file
	KindTooLarge   Kind = "too_large"   // over a size limit, or a zip bomb
	KindEncoding   Kind = "encoding"    // a line in no or another encoding
	KindSyntax     Kind = "syntax"      // malformed CSV quoting
	KindFieldCount Kind = "field_count" // a row's cells do not match the header
	KindRead       Kind = "read"        // the file could not be read
)

// Error is a fault of the file as a whole: it cannot be opened or reading
// cannot go on. Like the command line's errors it says what is wrong and
// where in Chinese and English; Zh and En are there for a page that shows
// one language.
type Error struct {
	Kind Kind
	Line int    // the line or row, 0 when the fault is not in one place
	Unit string // "line" or "row", for the English message
	Zh   string
	En   string
	Err  error // the cause, for the log
}

func (e *Error) Error() string { return message(e.Line, e.Unit, e.Zh, e.En) }
func (e *Error) Unwrap() error { return e.Err }

// RowError is one bad row; Next can be called again to read on.
type RowError struct {
	Kind Kind
	Line int
	Unit string
	Zh   string
	En   string
	// Want and Got are the header's and the row's number of cells, for
	// KindFieldCount.
	Want, Got int
}

func (e *RowError) Error() string { return message(e.Line, e.Unit, e.Zh, e.En) }

// message formats "第 12 行 / line 12: 中文 / English".
func message(line int, unit, zh, en string) string {
	if line <= 0 {
		return zh + " / " + en
	}
	if unit == "" {
		unit = "line"
	}
	return fmt.Sprintf("第 %d 行 / %s %d: %s / %s", line, unit, line, zh, en)
}

func fileError(kind Kind, zh, en string) *Error { return &Error{Kind: kind, Zh: zh, En: en} }

func ioError(err error) *Error {
	return &Error{Kind: KindRead, Zh: "无法读取文件", En: "the file cannot be read: " + err.Error(), Err: err}
}

func emptyError() *Error {
	return fileError(KindEmpty, "文件是空的，没有表头行", "the file is empty: there is no header row")
}
