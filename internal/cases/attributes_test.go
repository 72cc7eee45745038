package cases_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

const potholeAttributes = `# the pothole questions
DEPTH | singlevaluelist | required | How deep? | lt5=Less than 5 cm; gt5=5 cm or more | pick the closest
HAZARDS | multivaluelist | optional | Anything nearby? | water=Standing water; cycle=In a cycle lane
WIDTH | number | optional | How wide (cm)?
SEEN | datetime | optional | Seen first
PLATE | string | optional | Nearest lamp post
MORE | text | optional | Anything else
NOTE | text | info | Emergencies: call 110.`

func TestParseAttributes(t *testing.T) {
	attrs, err := cases.ParseAttributes(potholeAttributes)
	if err != nil {
		t.Fatal(err)
	}
	if len(attrs) != 7 || attrs[0].Code != "DEPTH" || !attrs[0].Required || attrs[0].DatatypeDescription != "pick the closest" ||
		len(attrs[1].Values) != 2 || attrs[1].Values[1] != (cases.AttributeValue{Key: "cycle", Name: "In a cycle lane"}) ||
		attrs[6].Variable || attrs[6].Order != 7 {
		t.Fatalf("parsed: %+v", attrs)
	}
	again, err := cases.ParseAttributes(cases.FormatAttributes(attrs))
	if err != nil || fmt.Sprint(again) != fmt.Sprint(attrs) {
		t.Errorf("format and parse again: %v\n%+v\n%+v", err, again, attrs)
	}
	for _, tc := range []struct{ text, key string }{
		{"A | string", "err.attribute.line"},
		{"A | string | maybe | Q", "err.attribute.flag"},
		{"A B | string | optional | Q", "err.attribute.code"},
		{"A | colour | optional | Q", "err.attribute.datatype"},
		{"A | singlevaluelist | optional | Q", "err.attribute.no_values"},
		{"A | string | optional | Q | a=b", "err.attribute.values_not_list"},
		{"A | string | optional | Q\nA | number | optional | R", "err.attribute.duplicate"},
		{"A | singlevaluelist | optional | Q | a=1; a=2", "err.attribute.value"},
		{"A | string | optional | ", "err.attribute.description"},
	} {
		_, err := cases.ParseAttributes(tc.text)
		e := errs.As(err)
		if e.Code != errs.Invalid || len(e.Fields) == 0 || e.Fields[0].Key != tc.key {
			t.Errorf("%q: %v, want %s", tc.text, err, tc.key)
		}
	}
}

// Answers are checked against the category's attributes on intake, stored
// with the case, and nothing is stored when one is wrong.
func TestAnswersOnIntake(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		attrs, _ := cases.ParseAttributes(potholeAttributes)
		if err := f.svc.SaveAttributes(f.as["staff"], "E0101", attrs); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("community staff saving attributes: %v", err)
		}
		if err := f.svc.SaveAttributes(system, "E01", attrs); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("attributes on a class: %v", err)
		}
		if err := f.svc.SaveAttributes(system, "E0101", attrs); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Attributes(context.Background(), "E0101")
		if err != nil || len(got) != 7 || got[1].Values[0].Key != "water" {
			t.Fatalf("read back: %+v %v", got, err)
		}
		if m, _ := f.svc.AttributedCategories(context.Background()); !m["E0101"] || m["E0102"] {
			t.Errorf("attributed: %v", m)
		}
		p := orb.Point{121.445, 37.465}
		report := func(answers map[string][]string) (cases.Receipt, error) {
			return f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: "坑", Point: &p,
				Answers: answers})
		}
		rc, err := report(map[string][]string{"DEPTH": {"gt5"}, "HAZARDS": {"water", "cycle", "water"}, "WIDTH": {"12.5"},
			"SEEN": {"2026-11-26"}, "PLATE": {""}, "uprn": {"10001"}, "NOTE": {"ignored"}})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := f.svc.Get(system, rc.Number)
		ans, err := f.svc.Answers(context.Background(), []int64{c.ID})
		if err != nil || fmt.Sprint(ans[c.ID]) != "map[DEPTH:[gt5] HAZARDS:[water cycle] SEEN:[2026-11-26] WIDTH:[12.5] uprn:[10001]]" {
			t.Errorf("answers stored: %v %v", ans[c.ID], err)
		}
		var before int
		d.Q(context.Background()).QueryRowContext(context.Background(), "SELECT COUNT(*) FROM cases").Scan(&before)
		for _, tc := range []struct {
			answers map[string][]string
			field   string
			key     string
		}{
			{map[string][]string{}, "attribute[DEPTH]", "err.attribute.required"},
			{map[string][]string{"DEPTH": {" "}}, "attribute[DEPTH]", "err.attribute.required"},
			{map[string][]string{"DEPTH": {"deep"}}, "attribute[DEPTH]", "err.attribute.not_in_list"},
			{map[string][]string{"DEPTH": {"lt5", "gt5"}}, "attribute[DEPTH]", "err.attribute.one_value"},
			{map[string][]string{"DEPTH": {"lt5"}, "HAZARDS": {"fire"}}, "attribute[HAZARDS]", "err.attribute.not_in_list"},
			{map[string][]string{"DEPTH": {"lt5"}, "WIDTH": {"wide"}}, "attribute[WIDTH]", "err.attribute.number"},
			{map[string][]string{"DEPTH": {"lt5"}, "WIDTH": {"Inf"}}, "attribute[WIDTH]", "err.attribute.number"},
			{map[string][]string{"DEPTH": {"lt5"}, "SEEN": {"last week"}}, "attribute[SEEN]", "err.attribute.datetime"},
			{map[string][]string{"DEPTH": {"lt5"}, "PLATE": {"a\nb"}}, "attribute[PLATE]", "err.attribute.one_line"},
			{map[string][]string{"DEPTH": {"lt5"}, "MORE": {strings.Repeat("x", 4001)}}, "attribute[MORE]", "err.attribute.value_long"},
			{map[string][]string{"DEPTH": {"lt5"}, "bad code!": {"x"}}, "attribute[bad code!]", "err.attribute.code"},
		} {
			_, err := report(tc.answers)
			e := errs.As(err)
			if e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Key != tc.key {
				t.Errorf("%v: %v, want %s %s", tc.answers, err, tc.field, tc.key)
			}
		}
		var after int
		d.Q(context.Background()).QueryRowContext(context.Background(), "SELECT COUNT(*) FROM cases").Scan(&after)
		if after != before {
			t.Errorf("bad answers stored %d cases", after-before)
		}
		// Categories without attributes take answers as given.
		if _, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0102", Description: "脏", Point: &p,
			Answers: map[string][]string{"uprn": {"1"}}}); err != nil {
			t.Errorf("an unknown answer on a category without attributes: %v", err)
		}
	})
}
