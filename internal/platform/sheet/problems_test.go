package sheet

import (
	"testing"

	"github.com/linli/linli/internal/platform/errs"
)

// Every bad cell is named by row and column; past MaxListed the answer
// counts the rest instead of listing them.
func TestProblems(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("no problems, but an error")
	}
	p.Add(3, "联系电话", "err.phone")
	p.Add(4, "", "err.row")
	e := errs.As(p.Err())
	if e.Code != errs.Invalid || len(e.Fields) != 2 || e.Fields[0].Field != "第 3 行 / row 3 · 联系电话" || e.Fields[1].Field != "第 4 行 / row 4" {
		t.Fatalf("two problems: %+v", e)
	}
	for i := range MaxListed + 5 {
		p.Add(10+i, "姓名", "err.name")
	}
	e = errs.As(p.Err())
	last := e.Fields[len(e.Fields)-1]
	if p.Count() != MaxListed+7 || len(e.Fields) != MaxListed+1 || last.Key != "err.import.more_problems" || last.Args[0] != 7 {
		t.Fatalf("%d problems: %d fields, last %+v", p.Count(), len(e.Fields), last)
	}
}
