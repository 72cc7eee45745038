package sheet

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzCSV checks that reading any bytes as CSV never panics, never loops,
// and yields rows of the header's width with line numbers that start at 1
// or later and only grow.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{register, "a,b\n1,2\n", "a\tb\n1\t2\n", "\uFEFFa,b\r\n\"x\ny\",2\r\n", "a,b\n1,\"2\n", "a,b\n1,x\"y\n3\n4,5,6\n",
		"\xff\xfea\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00", "a,b\n\xd5\xc5,\xc8\xfd\n", "\x00", "PK\x03\x04"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := OpenCSV(bytes.NewReader(b), Options{})
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Zh == "" || fe.En == "" {
				t.Fatalf("OpenCSV: %#v is not a complete *Error", err)
			}
			return
		}
		width, last := len(r.Header()), 0
		for i := 0; ; i++ {
			if i > len(b)+1 {
				t.Fatalf("more rows than bytes: Next does not stop")
			}
			row, err := r.Next()
			var re *RowError
			var fe *Error
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &fe):
				if fe.Line != 0 && fe.Line <= last {
					t.Fatalf("error at line %d after line %d: %v", fe.Line, last, fe)
				}
				return
			case errors.As(err, &re):
				if re.Line <= last || re.Zh == "" || re.En == "" {
					t.Fatalf("row error %v after line %d", re, last)
				}
				last = re.Line
			case err != nil:
				t.Fatalf("Next: %T %v", err, err)
			default:
				if row.Line <= last || len(row.Cells) != width {
					t.Fatalf("row %+v after line %d, header of %d", row, last, width)
				}
				last = row.Line
			}
		}
	})
}
