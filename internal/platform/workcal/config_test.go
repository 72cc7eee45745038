package workcal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/workcal"
)

var update = flag.Bool("update", false, "rewrite testdata/default.json from Default()")

func TestDefaultIsValid(t *testing.T) {
	if ps := workcal.Default().Validate(); len(ps) > 0 {
		t.Fatalf("the shipped config has problems: %v", ps)
	}
	if workcal.DefaultCalendar() == nil {
		t.Fatal("no default calendar")
	}
}

type want struct {
	kind  workcal.ProblemKind
	field string
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c *workcal.Config)
		wanted []want
	}{
		{"no periods", func(c *workcal.Config) { c.Periods = nil },
			[]want{{workcal.ProblemNoPeriods, "periods"}}},
		{"bad time format", func(c *workcal.Config) { c.Periods[0].Start = "8.30"; c.Periods[1].End = "17:3" },
			[]want{{workcal.ProblemTimeFormat, "periods[0].start"}, {workcal.ProblemTimeFormat, "periods[1].end"}}},
		{"minutes out of range", func(c *workcal.Config) { c.Periods[0].Start = "08:60" },
			[]want{{workcal.ProblemTimeFormat, "periods[0].start"}}},
		{"time after 24:00", func(c *workcal.Config) { c.Periods[1].End = "25:00" },
			[]want{{workcal.ProblemTimeRange, "periods[1].end"}}},
		{"24:30", func(c *workcal.Config) { c.Periods[1].End = "24:30" },
			[]want{{workcal.ProblemTimeRange, "periods[1].end"}}},
		{"24:00 is a valid end", func(c *workcal.Config) { c.Periods[1].End = "24:00" }, nil},
		{"period ends before it starts", func(c *workcal.Config) { c.Periods[1] = workcal.Period{Start: "17:30", End: "13:30"} },
			[]want{{workcal.ProblemPeriodEmpty, "periods[1]"}}},
		{"empty period", func(c *workcal.Config) { c.Periods[1] = workcal.Period{Start: "13:30", End: "13:30"} },
			[]want{{workcal.ProblemPeriodEmpty, "periods[1]"}}},
		{"periods out of order", func(c *workcal.Config) { c.Periods[0], c.Periods[1] = c.Periods[1], c.Periods[0] },
			[]want{{workcal.ProblemPeriodOrder, "periods[1]"}}},
		{"periods overlap", func(c *workcal.Config) { c.Periods[1].Start = "11:30" },
			[]want{{workcal.ProblemPeriodOverlap, "periods[1]"}}},
		{"touching periods are fine", func(c *workcal.Config) { c.Periods[1].Start = "12:00" }, nil},
		{"unknown weekday", func(c *workcal.Config) { c.Workweek[2] = "Wednesday" },
			[]want{{workcal.ProblemWeekday, "workweek[2]"}}},
		{"weekday names ignore case", func(c *workcal.Config) { c.Workweek[2] = "WED" }, nil},
		{"no workweek", func(c *workcal.Config) { c.Workweek = nil },
			[]want{{workcal.ProblemNoWorkweek, "workweek"}}},
		{"bad date format", func(c *workcal.Config) { c.Years[0].Holidays[0].From = "2026/01/01" },
			[]want{{workcal.ProblemDateFormat, "years[0].holidays[0].from"}}},
		{"no such date", func(c *workcal.Config) { c.Years[0].Holidays[1].To = "2026-02-30" },
			[]want{{workcal.ProblemDateFormat, "years[0].holidays[1].to"}}},
		{"range backwards", func(c *workcal.Config) { c.Years[0].Holidays[6].To = "2026-09-07" },
			[]want{{workcal.ProblemSpanOrder, "years[0].holidays[6]"}}},
		{"holiday in another year", func(c *workcal.Config) { c.Years[1].Holidays[0].From = "2026-12-31" },
			[]want{{workcal.ProblemYearMismatch, "years[1].holidays[0].from"}}},
		{"range running into the next year", func(c *workcal.Config) {
			c.Years[0].Holidays = append(c.Years[0].Holidays, workcal.Span{From: "2026-12-31", To: "2027-01-01"})
		}, []want{{workcal.ProblemYearMismatch, "years[0].holidays[7].to"}}},
		{"make-up day in another year", func(c *workcal.Config) { c.Years[0].MakeupDays[0].From = "2027-01-03" },
			[]want{{workcal.ProblemYearMismatch, "years[0].makeup_days[0].from"}}},
		{"both holiday and make-up day", func(c *workcal.Config) { c.Years[0].MakeupDays[5].From = "2026-10-03" },
			[]want{{workcal.ProblemHolidayAndMakeup, "years[0].makeup_days[5].from"}}},
		{"make-up day on a weekday", func(c *workcal.Config) { c.Years[0].MakeupDays[0].From = "2026-03-02" },
			[]want{{workcal.ProblemMakeupNotWeekend, "years[0].makeup_days[0].from"}}},
		{"make-up weekday holiday: both problems", func(c *workcal.Config) { c.Years[0].MakeupDays[0].From = "2026-10-05" },
			[]want{{workcal.ProblemHolidayAndMakeup, "years[0].makeup_days[0].from"}, {workcal.ProblemMakeupNotWeekend, "years[0].makeup_days[0].from"}}},
		{"a six-day week makes Saturday make-up days wrong", func(c *workcal.Config) { c.Workweek = append(c.Workweek, "sat") },
			[]want{
				{workcal.ProblemMakeupNotWeekend, "years[0].makeup_days[1].from"},
				{workcal.ProblemMakeupNotWeekend, "years[0].makeup_days[2].from"},
				{workcal.ProblemMakeupNotWeekend, "years[0].makeup_days[3].from"},
				{workcal.ProblemMakeupNotWeekend, "years[0].makeup_days[5].from"},
			}},
		{"duplicate year", func(c *workcal.Config) { c.Years = append(c.Years, workcal.Year{Year: 2026}) },
			[]want{{workcal.ProblemYearDuplicate, "years[2].year"}}},
		{"year out of range", func(c *workcal.Config) { c.Years = append(c.Years, workcal.Year{Year: 26}) },
			[]want{{workcal.ProblemYearRange, "years[2].year"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := workcal.Default()
			tt.edit(&cfg)
			var got []want
			for _, p := range cfg.Validate() {
				got = append(got, want{p.Kind, p.Field})
				if p.Kind != workcal.ProblemNoPeriods && p.Kind != workcal.ProblemNoWorkweek && p.Value == "" {
					t.Errorf("%s at %s does not name the bad value", p.Kind, p.Field)
				}
			}
			if !reflect.DeepEqual(got, tt.wanted) {
				t.Errorf("problems\n got %v\nwant %v", got, tt.wanted)
			}
			_, err := workcal.New(cfg)
			if (err == nil) != (len(tt.wanted) == 0) {
				t.Fatalf("New: %v, want an error: %v", err, len(tt.wanted) > 0)
			}
		})
	}
}

// TestNewReturnsInvalidFields: New's error is the platform's Invalid
// error, with a field, a message key and the bad value per problem.
func TestNewReturnsInvalidFields(t *testing.T) {
	cfg := workcal.Default()
	cfg.Years[0].MakeupDays[0].From = "2026-03-02"
	_, err := workcal.New(cfg)
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Invalid {
		t.Fatalf("got %v, want an errs.Invalid error", err)
	}
	if len(e.Fields) != 1 || e.Fields[0].Field != "years[0].makeup_days[0].from" ||
		e.Fields[0].Key != "err.workcal.makeup_not_weekend" || !reflect.DeepEqual(e.Fields[0].Args, []any{"2026-03-02"}) {
		t.Fatalf("fields %+v", e.Fields)
	}
}

// problemKinds reads every ProblemKind constant from config.go, so that a
// new kind without a translation fails TestEveryProblemHasMessages.
func problemKinds(t *testing.T) map[string]workcal.ProblemKind {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]workcal.ProblemKind{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "ProblemKind" {
			lit := vs.Values[0].(*ast.BasicLit)
			v, _ := strconv.Unquote(lit.Value)
			kinds[vs.Names[0].Name] = workcal.ProblemKind(v)
		}
		return true
	})
	if len(kinds) < 20 {
		t.Fatalf("found only %d problem kinds in config.go: the scan is broken", len(kinds))
	}
	return kinds
}

func TestEveryProblemHasMessages(t *testing.T) {
	cat, err := i18n.Load(i18n.Platform, workcal.Locales)
	if err != nil {
		t.Fatal(err)
	}
	for name, kind := range problemKinds(t) {
		p := workcal.Problem{Kind: kind, Field: "f", Value: "V1", Other: "V2"}
		if !cat.Has(p.Key()) {
			t.Errorf("%s: no message %q", name, p.Key())
			continue
		}
		for _, lang := range i18n.Langs {
			msg := cat.T(lang, p.Key(), p.Args()...)
			if strings.Contains(msg, "%!") {
				t.Errorf("%s in %s: the arguments do not fit the message: %s", name, lang, msg)
			}
			for _, a := range p.Args() {
				if !strings.Contains(msg, a.(string)) {
					t.Errorf("%s in %s: %q is not shown: %s", name, lang, a, msg)
				}
			}
		}
		if strings.HasPrefix(p.Error(), "workcal: f: "+string(kind)) {
			t.Errorf("%s has no English description: %s", name, p.Error())
		}
	}
	for _, w := range []workcal.YearWarning{{2028, workcal.NoData}, {2027, workcal.Provisional}} {
		for _, lang := range i18n.Langs {
			msg := cat.T(lang, w.Key(), w.Year)
			if msg == w.Key() || !strings.Contains(msg, strconv.Itoa(w.Year)) || strings.Contains(msg, "%!") {
				t.Errorf("warning %v in %s: %s", w, lang, msg)
			}
		}
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	cfg := workcal.Default()
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back workcal.Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Fatalf("round trip changed the config:\n%s", b)
	}
	// The stored form is stable: configs saved by earlier versions
	// must still read the same.
	golden := filepath.Join("testdata", "default.json")
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("Default() no longer marshals to %s; if the change is intended, run go test -update", golden)
	}
	var fromFile workcal.Config
	if err := json.Unmarshal(want, &fromFile); err != nil {
		t.Fatal(err)
	}
	c, err := workcal.New(fromFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkday(at("2026-10-05 10:00")) || !c.IsWorkday(at("2026-10-10 10:00")) {
		t.Error("the calendar read from JSON lost its holidays")
	}
}

// TestBadJSONValuesReachValidate: a misspelt date is a Validate problem,
// not a JSON decoding failure, so that the administrator learns where.
func TestBadJSONValuesReachValidate(t *testing.T) {
	in := `{"periods":[{"start":"08:30","end":"12:00"}],"workweek":["mon"],
	        "years":[{"year":2026,"holidays":[{"name":"国庆节","from":"2026-10-1"}],"makeup_days":[]}]}`
	var cfg workcal.Config
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	ps := cfg.Validate()
	if len(ps) != 1 || ps[0].Kind != workcal.ProblemDateFormat || ps[0].Value != "2026-10-1" {
		t.Fatalf("got %v", ps)
	}
}
