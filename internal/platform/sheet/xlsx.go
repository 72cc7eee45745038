package sheet

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

const (
	// maxRatio is the highest compression ratio accepted for a large part.
	// Real sheets compress about 8:1, and even a sheet of one repeated
	// value only about 20:1, as every cell carries its own reference;
	// deflate reaches about 1000:1 on zeros, the stuff of zip bombs.
	maxRatio = 200
	// ratioFloor: parts smaller than this cannot hurt, whatever their ratio.
	ratioFloor = 1 << 20
	// maxParts bounds the number of zip entries. A workbook has a few
	// dozen; archive/zip keeps a record of every entry in memory, so a zip
	// of millions of empty entries is a bomb of its own.
	maxParts = 10000
	// maxXMLInMemory is the part size above which excelize spills a sheet
	// or the shared strings to a temporary file instead of memory.
	maxXMLInMemory = 16 << 20
)

// openXLSX opens a workbook after checking that it is one and that it
// cannot expand beyond the limit.
func openXLSX(path string, opt Options) (Reader, error) {
	limit := opt.MaxUncompressed
	if limit <= 0 {
		limit = DefaultMaxUncompressed
	}
	if err := checkWorkbook(path, limit); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{
		// A second guard: excelize sums declared sizes as well.
		UnzipSizeLimit:    limit,
		UnzipXMLSizeLimit: min(limit, maxXMLInMemory),
		TmpDir:            opt.TempDir,
		// Excel's built-in short date (format 14) follows the reader's
		// system; a Chinese Excel shows 2024/3/8, excelize would give
		// 03-08-24. Format 22 becomes "2024/3/8 18:00".
		ShortDatePattern: "[$-804]yyyy/m/d",
		CultureInfo:      excelize.CultureNameZhCN,
	})
	if err != nil {
		return nil, notWorkbook(err)
	}
	tagDateFormats(f)
	r, err := newXLSXReader(f, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func notWorkbook(err error) *Error {
	return &Error{Kind: KindFormat, Zh: "不是 Excel 文件（.xlsx），或文件已损坏", En: "not an xlsx spreadsheet, or the file is damaged", Err: err}
}

// checkWorkbook refuses what is not a workbook or could expand beyond the
// limit, judging from the zip directory alone, and only then inflates the
// parts to check that the directory told the truth.
func checkWorkbook(path string, limit int64) error {
	if err := checkPartCount(path); err != nil {
		return err
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return notWorkbook(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	var total uint64
	for _, f := range zr.File {
		names[strings.ToLower(f.Name)] = true
		total += f.UncompressedSize64
		if total > uint64(limit) || total < f.UncompressedSize64 {
			return tooLarge(fmt.Sprintf("解压后超过 %d MiB 的上限", limit>>20), fmt.Sprintf("it would expand to more than the limit of %d MiB", limit>>20))
		}
		if f.UncompressedSize64 > ratioFloor && f.UncompressedSize64/max(f.CompressedSize64, 1) > maxRatio {
			return tooLarge(fmt.Sprintf("其中 %s 的压缩比超过 %d:1，疑为压缩炸弹", f.Name, maxRatio), fmt.Sprintf("its part %s is compressed more than %d:1, like a zip bomb", f.Name, maxRatio))
		}
	}
	switch {
	case names["word/document.xml"] && !names["xl/workbook.xml"]:
		return fileError(KindFormat, "这是 Word 文档，不是 Excel 文件", "this is a Word document, not an xlsx spreadsheet")
	case names["ppt/presentation.xml"]:
		return fileError(KindFormat, "这是 PowerPoint 文档，不是 Excel 文件", "this is a PowerPoint document, not an xlsx spreadsheet")
	case !names["[content_types].xml"] || !names["xl/workbook.xml"]:
		return fileError(KindFormat, "不是 Excel 文件：这个 zip 里没有工作簿", "not an xlsx spreadsheet: the zip holds no workbook")
	}
	return verifyParts(zr.File)
}

// verifyParts inflates every part once, into nothing, before excelize
// reads them. archive/zip stops a part at its declared size and checks its
// CRC, but excelize ignores those errors and would go on with a truncated
// sheet, silently losing rows. The declared sizes were checked against the
// limit, so this pass is bounded too; it costs a second or two on a
// million-row sheet, little next to parsing its XML.
func verifyParts(files []*zip.File) error {
	buf := make([]byte, 64<<10)
	for _, f := range files {
		rc, err := f.Open()
		if err == nil {
			_, err = io.CopyBuffer(io.Discard, rc, buf)
			rc.Close()
		}
		if err != nil {
			return &Error{Kind: KindFormat, Zh: fmt.Sprintf("文件已损坏：其中 %s 与 zip 目录记录的大小或校验和不符", f.Name),
				En: fmt.Sprintf("the file is damaged: its part %s does not match the size or checksum in the zip directory", f.Name), Err: err}
		}
	}
	return nil
}

func tooLarge(zh, en string) *Error {
	return fileError(KindTooLarge, "Excel 文件过大："+zh, "the xlsx file is too large: "+en)
}

// checkPartCount reads the entry count from the zip's end-of-directory
// record before archive/zip reads the directory into memory.
func checkPartCount(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return ioError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ioError(err)
	}
	// The record is 22 bytes plus a comment of up to 64 KiB at the end.
	n := min(fi.Size(), 22+0xFFFF)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, fi.Size()-n); err != nil && !errors.Is(err, io.EOF) {
		return ioError(err)
	}
	i := strings.LastIndex(string(buf), "PK\x05\x06")
	if i < 0 || i+22 > len(buf) {
		return notWorkbook(errors.New("no end of central directory record"))
	}
	if count := binary.LittleEndian.Uint16(buf[i+10:]); count > maxParts {
		return tooLarge(fmt.Sprintf("有 %d 个以上的部件", maxParts), fmt.Sprintf("it has more than %d parts", maxParts))
	}
	return nil
}

// tagDateFormats gives the workbook's own number formats the zh-CN locale
// tag when they have none. excelize looks up the language of an untagged
// date format by scanning every language it knows, several times per
// cell: 150 µs a date cell, minutes for a million rows. With a tag the
// lookup is one map access. The output is the same for formats without
// month or weekday names and AM/PM, which the tag would translate, so
// those are left alone.
func tagDateFormats(f *excelize.File) {
	if f.Styles == nil || f.Styles.NumFmts == nil {
		return
	}
	for _, nf := range f.Styles.NumFmts.NumFmt {
		nf.FormatCode = tagFormat(nf.FormatCode)
		nf.FormatCode16 = tagFormat(nf.FormatCode16)
	}
}

func tagFormat(code string) string {
	upper := strings.ToUpper(code)
	if code == "" || strings.Contains(code, "[$") || strings.Contains(upper, "MMM") || strings.Contains(upper, "DDD") ||
		strings.Contains(upper, "AM/PM") || strings.Contains(upper, "A/P") {
		return code
	}
	return "[$-804]" + code
}

type xlsxReader struct {
	f     *excelize.File
	rows  *excelize.Rows
	row   int // rows iterated so far: excelize's Next visits every row number
	table table
	err   error
}

func newXLSXReader(f *excelize.File, opt Options) (*xlsxReader, error) {
	name, err := pickSheet(f, opt.Sheet)
	if err != nil {
		return nil, err
	}
	rows, err := f.Rows(name)
	if err != nil {
		return nil, notWorkbook(err)
	}
	r := &xlsxReader{f: f, rows: rows, table: table{unit: "row"}}
	if err := r.readHeader(opt.SkipRows); err != nil {
		rows.Close()
		return nil, err
	}
	return r, nil
}

// pickSheet returns the named sheet or else the first visible one: a
// hidden sheet usually holds lookup lists, not the data.
func pickSheet(f *excelize.File, want string) (string, error) {
	list := f.GetSheetList()
	for _, name := range list {
		if want != "" && strings.EqualFold(name, want) {
			return name, nil
		}
		if visible, _ := f.GetSheetVisible(name); want == "" && visible {
			return name, nil
		}
	}
	if want != "" {
		return "", fileError(KindFormat, fmt.Sprintf("工作簿里没有名为“%s”的工作表", want), fmt.Sprintf("the workbook has no sheet named %q", want))
	}
	return "", fileError(KindEmpty, "工作簿里没有可见的工作表", "the workbook has no visible sheet")
}

func (r *xlsxReader) readHeader(skip int) error {
	for {
		_, cells, err := r.next()
		if errors.Is(err, io.EOF) {
			return emptyError()
		}
		if err != nil {
			return err
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

func (r *xlsxReader) Header() []string { return r.table.header }

func (r *xlsxReader) Next() (Row, error) {
	for {
		line, cells, err := r.next()
		if err != nil {
			return Row{}, err
		}
		if row, ok, err := r.table.fit(line, cells); ok || err != nil {
			return row, err
		}
	}
}

// next returns the next row's cells as Excel shows them.
func (r *xlsxReader) next() (int, []string, error) {
	if r.err != nil {
		return 0, nil, r.err
	}
	if !r.rows.Next() {
		r.err = io.EOF
		if err := r.rows.Error(); err != nil {
			r.err = &Error{Kind: KindFormat, Line: r.row + 1, Unit: "row", Zh: "工作表无法读取", En: "the sheet cannot be read: " + err.Error(), Err: err}
		}
		return 0, nil, r.err
	}
	r.row++
	cells, err := r.rows.Columns()
	if err != nil {
		r.err = &Error{Kind: KindFormat, Line: r.row, Unit: "row", Zh: "工作表无法读取，文件可能已损坏", En: "the sheet cannot be read, the file is probably damaged: " + err.Error(), Err: err}
		return 0, nil, r.err
	}
	return r.row, cells, nil
}

func (r *xlsxReader) Close() error {
	err := r.rows.Close()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
