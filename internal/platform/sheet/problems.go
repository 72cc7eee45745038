package sheet

import (
	"errors"
	"fmt"

	"github.com/linli/linli/internal/platform/errs"
)

// MaxListed bounds the bad cells an import's answer lists one by one.
const MaxListed = 1000

// Problems collects what is wrong with a file for an all-or-nothing
// import: each bad cell is named by its row and column ("第 12 行 / row 12
// · 联系电话") with a message from the module's catalog, in the order
// found; the answer lists the first MaxListed and counts the rest.
type Problems struct {
	v errs.Validation
	n int
}

// Add records a bad cell; an empty column names the whole row.
func (p *Problems) Add(line int, column, key string, args ...any) {
	p.n++
	if p.n > MaxListed {
		return
	}
	where := fmt.Sprintf("第 %d 行 / row %d", line, line)
	if column != "" {
		where += " · " + column
	}
	p.v.Add(where, key, args...)
}

// Count is how many bad cells were found.
func (p *Problems) Count() int { return p.n }

// Err is nil when nothing was wrong, else an Invalid error with a field
// per listed cell and, past MaxListed, one counting the others.
func (p *Problems) Err() error {
	if p.n == 0 {
		return nil
	}
	v := p.v
	if p.n > MaxListed {
		v.Add("file", "err.import.more_problems", p.n-MaxListed)
	}
	return v.Err()
}

// AsError turns a fault of the file as a whole (*Error) into the error a
// page, the API or the command line shows: its message names the line and
// says what is wrong in both languages. Other errors pass unchanged.
func AsError(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	code := errs.Invalid
	if e.Kind == KindTooLarge {
		code = errs.TooLarge
	}
	return &errs.Error{Code: code, Key: "err.import.file", Args: []any{e.Error()}, Err: err}
}
