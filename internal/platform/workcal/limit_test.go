package workcal_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/workcal"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want workcal.Limit
	}{
		{"4h", workcal.Limit{Amount: 4, Unit: workcal.Hours}},
		{"2d", workcal.Limit{Amount: 2, Unit: workcal.Days}},
		{"4工作时", workcal.Limit{Amount: 4, Unit: workcal.Hours}},
		{"2工作小时", workcal.Limit{Amount: 2, Unit: workcal.Hours}},
		{"5工作日", workcal.Limit{Amount: 5, Unit: workcal.Days}},
		{"5个工作日", workcal.Limit{Amount: 5, Unit: workcal.Days}},
		{" 15 个 工作日 ", workcal.Limit{Amount: 15, Unit: workcal.Days}},
		{"1.5h", workcal.Limit{Amount: 1.5, Unit: workcal.Hours}},
		{"0.5 hours", workcal.Limit{Amount: 0.5, Unit: workcal.Hours}},
		{"3 Days", workcal.Limit{Amount: 3, Unit: workcal.Days}},
		{"４工作时", workcal.Limit{Amount: 4, Unit: workcal.Hours}},
		{"0d", workcal.Limit{Amount: 0, Unit: workcal.Days}},
	}
	for _, tt := range tests {
		got, err := workcal.ParseLimit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseLimitErrors(t *testing.T) {
	tests := []struct {
		in   string
		kind workcal.ProblemKind
	}{
		{"", workcal.ProblemLimitSyntax},
		{"h", workcal.ProblemLimitSyntax},
		{"4", workcal.ProblemLimitSyntax},
		{"four hours", workcal.ProblemLimitSyntax},
		{"1.2.3h", workcal.ProblemLimitSyntax},
		{"4 weeks", workcal.ProblemLimitUnit},
		{"4min", workcal.ProblemLimitUnit},
		{"24小时", workcal.ProblemLimitAmbiguous},
		{"7天", workcal.ProblemLimitAmbiguous},
		{"7 日", workcal.ProblemLimitAmbiguous},
		{"2.5d", workcal.ProblemLimitFraction},
		{"2.5工作日", workcal.ProblemLimitFraction},
		{"-4h", workcal.ProblemLimitRange},
		{"100001h", workcal.ProblemLimitRange},
	}
	for _, tt := range tests {
		_, err := workcal.ParseLimit(tt.in)
		var p workcal.Problem
		if !errors.As(err, &p) || p.Kind != tt.kind || p.Value != tt.in {
			t.Errorf("ParseLimit(%q): %v, want a %s problem naming the input", tt.in, err, tt.kind)
		}
	}
}

func TestLimitString(t *testing.T) {
	for _, s := range []string{"4h", "1.5h", "5d", "0d"} {
		l, err := workcal.ParseLimit(s)
		if err != nil || l.String() != s {
			t.Errorf("%q → %v → %q", s, err, l.String())
		}
	}
}

func TestLimitDeadline(t *testing.T) {
	c := def(t)
	start := at("2026-11-27 16:00") // Friday
	tests := []struct {
		limit string
		want  string
	}{
		{"4工作时", "2026-11-30 11:00"},
		{"1工作日", "2026-11-30 17:30"},
		{"5工作日", "2026-12-04 17:30"},
		{"0h", "2026-11-27 16:00"},
	}
	for _, tt := range tests {
		l, err := workcal.ParseLimit(tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Deadline(c, start)
		if err != nil || !got.Equal(at(tt.want)) {
			t.Errorf("%s from %s = %s, %v; want %s", tt.limit, show(start), show(got), err, tt.want)
		}
	}
	if _, err := (workcal.Limit{Amount: 3, Unit: "weeks"}).Deadline(c, start); err == nil {
		t.Error("a limit in weeks was accepted")
	}
	if _, err := (workcal.Limit{Amount: 1.5, Unit: workcal.Days}).Deadline(c, start); err == nil {
		t.Error("1.5 working days was accepted")
	}
	for _, tt := range []struct {
		hours float64
		want  time.Duration
	}{{1.25, 75 * time.Minute}, {1.0 / 3, 20 * time.Minute}, {0.1, 6 * time.Minute}, {2.0 / 7, 1029 * time.Second}} {
		if d := (workcal.Limit{Amount: tt.hours, Unit: workcal.Hours}).Duration(); d != tt.want {
			t.Errorf("%v h = %v, want %v (rounded to the second)", tt.hours, d, tt.want)
		}
	}
	if d := (workcal.Limit{Amount: 5, Unit: workcal.Days}).Duration(); d != 0 {
		t.Errorf("a days limit has a Duration of %v", d)
	}
}

func TestLimitJSON(t *testing.T) {
	var v struct{ A, B workcal.Limit }
	if err := json.Unmarshal([]byte(`{"A":"4工作时","B":{"amount":5,"unit":"days"}}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != (workcal.Limit{Amount: 4, Unit: workcal.Hours}) || v.B != (workcal.Limit{Amount: 5, Unit: workcal.Days}) {
		t.Fatalf("got %+v", v)
	}
	b, err := json.Marshal(v.A)
	if err != nil || string(b) != `{"amount":4,"unit":"hours"}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	for _, bad := range []string{`"7天"`, `{"amount":1,"unit":"weeks"}`, `{"amount":-1,"unit":"hours"}`, `{"amount":0.5,"unit":"days"}`} {
		var l workcal.Limit
		if err := json.Unmarshal([]byte(bad), &l); err == nil {
			t.Errorf("%s was accepted as %v", bad, l)
		}
	}
}
