package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sampleLen is how much of a CSV file decides its encoding: generous, so
// that a file whose first rows are all ASCII is still judged by some
// Chinese text when there is any.
const sampleLen = 64 << 10

// maxLineLen bounds one physical line. A CSV line this long is no register
// row (Excel's cell limit is 32,767 characters) but a damaged file, and
// reading it whole would take memory without limit.
const maxLineLen = 4 << 20

// charset is the encoding a lineReader decodes.
type charset int

const (
	charsetUTF8 charset = iota
	charsetGB18030
	charsetUTF16 // already decoded to UTF-8 by x/text; lines are checked for U+FFFD
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeCSV detects the encoding of the buffered file and returns a reader
// of its text as UTF-8, one validated line at a time.
func decodeCSV(br *bufio.Reader) (*lineReader, error) {
	sample, err := br.Peek(sampleLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, ioError(err)
	}
	if err := sniffBinary(sample); err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(sample, bomUTF8):
		_, _ = br.Discard(len(bomUTF8))
		return newLineReader(br, charsetUTF8), nil
	case bytes.HasPrefix(sample, bomUTF16LE), bytes.HasPrefix(sample, bomUTF16BE):
		// ExpectBOM reads the BOM to pick the byte order and drops it.
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return newLineReader(bufio.NewReaderSize(transform.NewReader(br, dec), sampleLen), charsetUTF16), nil
	case bytes.IndexByte(sample, 0) >= 0:
		return nil, fileError(KindFormat, "文件含有二进制内容，不是 CSV 文本文件", "the file contains binary data (NUL bytes): it is not a CSV text file")
	case validUTF8Prefix(sample, len(sample) == sampleLen):
		return newLineReader(br, charsetUTF8), nil
	case looksUTF8(firstNonASCIILine(sample)):
		// Not all UTF-8, but it starts so: a file of mixed encodings, which
		// the lineReader will refuse at the first line that is not UTF-8.
		return newLineReader(br, charsetUTF8), nil
	}
	return newLineReader(br, charsetGB18030), nil
}

// firstNonASCIILine returns the first line with a byte ≥ 0x80.
func firstNonASCIILine(b []byte) []byte {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i+1], b[i+1:]
		} else {
			b = nil
		}
		if !isASCII(line) {
			return line
		}
	}
	return nil
}

// sniffBinary refuses the binary formats people upload in place of a CSV,
// with a message that tells them what to do.
func sniffBinary(sample []byte) error {
	switch {
	case bytes.HasPrefix(sample, zipMagic):
		return fileError(KindFormat, "这是 Excel (.xlsx) 或其他 zip 文件，不是 CSV", "this is an Excel (.xlsx) or other zip file, not CSV")
	case bytes.HasPrefix(sample, oleMagic):
		return fileError(KindFormat, "这是旧版 Excel 97-2003 (.xls) 或加密的文件，请另存为 .xlsx 或 CSV 后再上传", "this is a legacy Excel 97-2003 (.xls) or encrypted file: save it as .xlsx or CSV and upload that")
	}
	return nil
}

// validUTF8Prefix reports whether the sample is UTF-8, allowing a rune cut
// off at its end when the sample is only the start of the file.
func validUTF8Prefix(b []byte, truncated bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if !truncated {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut < len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return true
		}
	}
	return false
}

// lineReader hands a CSV parser the file's text as UTF-8, one physical line
// at a time, and checks each line's encoding as it goes. It stops with an
// *Error naming the line as soon as a line is not in the file's encoding,
// so that a file with mixed encodings is refused instead of half decoded.
type lineReader struct {
	br       *bufio.Reader
	charset  charset
	dec      *encoding.Decoder // GB18030 only
	line     int               // lines handed out so far
	nonASCII bool              // whether any line so far had a byte ≥ 0x80
	raw      []byte            // the current raw line
	out      []byte            // decoded bytes of the current line
	pending  []byte            // what of out is not yet read
	err      error
}

func newLineReader(br *bufio.Reader, c charset) *lineReader {
	l := &lineReader{br: br, charset: c}
	if c == charsetGB18030 {
		l.dec = simplifiedchinese.GB18030.NewDecoder()
	}
	return l
}

func (l *lineReader) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		l.err = l.nextLine()
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// peekLine returns the first line without consuming it.
func (l *lineReader) peekLine() []byte {
	for len(l.pending) == 0 && l.err == nil {
		l.err = l.nextLine()
	}
	return l.pending
}

// nextLine reads, checks and decodes one physical line into pending. It
// returns io.EOF after the last line and an *Error for a bad one.
func (l *lineReader) nextLine() error {
	raw, err := l.readRaw()
	if len(raw) == 0 {
		if err == nil {
			err = io.EOF
		}
		return err
	}
	l.line++
	out, derr := l.decode(raw)
	if derr != nil {
		return derr
	}
	l.pending = out
	if err != nil && !errors.Is(err, io.EOF) {
		return ioError(err)
	}
	return err // nil, or io.EOF delivered after this last line
}

// readRaw reads one physical line, its "\n" included.
func (l *lineReader) readRaw() ([]byte, error) {
	l.raw = l.raw[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		l.raw = append(l.raw, chunk...)
		if len(l.raw) > maxLineLen {
			return nil, &Error{Kind: KindTooLarge, Line: l.line + 1, Zh: "这一行超过 4 MiB，文件可能已损坏", En: "the line is longer than 4 MiB: the file is probably damaged"}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return l.raw, err
		}
	}
}

// decode checks one raw line against the file's encoding and returns it
// as UTF-8.
func (l *lineReader) decode(raw []byte) ([]byte, error) {
	ascii := isASCII(raw)
	defer func() { l.nonASCII = l.nonASCII || !ascii }()
	switch {
	case ascii:
		return raw, nil
	case l.charset == charsetUTF16:
		if bytes.ContainsRune(raw, utf8.RuneError) {
			return nil, l.encodingError("这一行不是有效的 UTF-16 文本", "the line is not valid UTF-16 text")
		}
		return raw, nil
	case l.charset == charsetUTF8 && utf8.Valid(raw):
		return raw, nil
	case l.charset == charsetUTF8 && l.nonASCII:
		return nil, l.encodingError("这一行不是 UTF-8 编码，而文件前面的内容是 UTF-8：文件混用了编码，请统一另存为 UTF-8 CSV",
			"the line is not UTF-8 although the file before it is: the file mixes encodings; save it again as one CSV in UTF-8")
	case l.charset == charsetUTF8:
		// Everything so far was ASCII, which GBK shares with UTF-8: the
		// file is GBK whose first Chinese text came after the sample.
		l.charset, l.dec = charsetGB18030, simplifiedchinese.GB18030.NewDecoder()
	}
	if looksUTF8(raw) {
		return nil, l.encodingError("这一行像是 UTF-8 编码，而文件前面的内容是 GBK：文件混用了编码，请统一另存为 UTF-8 CSV",
			"the line looks like UTF-8 although the file before it is GBK (GB18030): the file mixes encodings; save it again as one CSV in UTF-8")
	}
	return l.decodeGB(raw)
}

// decodeGB decodes a GB18030 line. x/text replaces bytes that are no
// GB18030 character with U+FFFD, which a register never contains, so a
// U+FFFD in the output means the line is not GB18030.
func (l *lineReader) decodeGB(raw []byte) ([]byte, error) {
	if cap(l.out) < 3*len(raw) {
		// GB18030 → UTF-8 grows at most 3:2; a stray byte becomes the
		// 3-byte U+FFFD, which is reported, but must fit first.
		l.out = make([]byte, 3*len(raw))
	}
	l.dec.Reset()
	n, _, err := l.dec.Transform(l.out[:cap(l.out)], raw, true)
	if err != nil || bytes.ContainsRune(l.out[:n], utf8.RuneError) {
		return nil, l.encodingError("这一行既不是 UTF-8 也不是 GBK (GB18030) 编码", "the line is neither UTF-8 nor GBK (GB18030) text")
	}
	return l.out[:n], nil
}

func (l *lineReader) encodingError(zh, en string) *Error {
	return &Error{Kind: KindEncoding, Line: l.line, Zh: zh, En: en}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// looksUTF8 reports whether a line that is supposed to be GBK is rather
// UTF-8: valid UTF-8 with at least one CJK character. GBK text is often
// valid UTF-8 by chance, but then it decodes to two-byte runes (Latin,
// Greek, Cyrillic…); reading three-byte CJK runes out of GBK takes an
// unlikely run of bytes, while real UTF-8 Chinese is nothing but those.
func looksUTF8(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r >= 0x2E80 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0xFF00 && r <= 0xFFEF {
			return true
		}
		b = b[n:]
	}
	return false
}
