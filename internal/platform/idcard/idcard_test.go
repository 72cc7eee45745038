package idcard

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// now is the fixed date the tests parse against.
var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in, want string
		birth    string
		sex      Sex
		region   string
	}{
		// The example of GB 11643-1999 itself.
		{"11010519491231002X", "11010519491231002X", "1949-12-31", Female, "110105"},
		{"11010519491231002x", "11010519491231002X", "1949-12-31", Female, "110105"},
		{"  110105 19491231 002X ", "11010519491231002X", "1949-12-31", Female, "110105"},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", "1949-12-31", Female, "110105"},
		{"440524188001010014", "", "", 0, ""}, // before 1900: see the invalid table
		{"37060220000229001x", "37060220000229001X", "2000-02-29", Male, "370602"},
		{"810000199408230021", "810000199408230021", "1994-08-23", Female, "810000"}, // Hong Kong residence permit
		{"91184019850101001X", "91184019850101001X", "1985-01-01", Male, "911840"},   // foreigner's permanent residence card
		{"370602202611270013", "370602202611270013", "2026-11-27", Male, "370602"},   // born today
	}
	for _, tt := range tests {
		if tt.want == "" {
			continue
		}
		id, err := ParseAt(tt.in, now)
		if err != nil {
			t.Errorf("ParseAt(%q): %v", tt.in, err)
			continue
		}
		if id.String() != tt.want || id.Birth().Format("2006-01-02") != tt.birth || id.Sex() != tt.sex || id.Region() != tt.region {
			t.Errorf("ParseAt(%q) = %s born %s %s region %s; want %s born %s %s region %s", tt.in,
				id, id.Birth().Format("2006-01-02"), id.Sex(), id.Region(), tt.want, tt.birth, tt.sex, tt.region)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in   string
		rule Rule
		msg  string // a fragment of the English message
	}{
		{"", RuleEmpty, "empty"},
		{"   ", RuleEmpty, "empty"},
		{"110105491231002", RuleLength, "15-digit"},
		{"11010519491231002", RuleLength, "not 17"},
		{"11010519491231002X1", RuleLength, "not 19"},
		{"11010519491231002Y", RuleDigits, "last character"},
		{"1101051949123100X2", RuleDigits, "character 17"},
		{"A1010519491231002X", RuleDigits, "character 1"},
		{"11010519491231002中", RuleDigits, "last character"}, // 中 is 3 bytes: the length counts characters
		{"1101051949中231002X", RuleDigits, "character 11"},
		{"00010519491231002X", RuleRegion, "province"},
		{"99010519491231002X", RuleRegion, "province"},
		{"16010519491231002X", RuleRegion, "province"},
		{"72010519491231002X", RuleRegion, "province"},
		{"11010519491331002X", RuleBirth, "not a real date"},
		{"11010519490230002X", RuleBirth, "not a real date"},
		{"11010519010229002X", RuleBirth, "not a real date"}, // 1901 is no leap year
		{"440524188001010014", RuleBirth, "before 1900"},
		{"370602202611280010", RuleBirth, "after today"},
		{"110105194912310021", RuleCheck, "it should be X"},
		{"11010519491231002X"[:17] + "0", RuleCheck, "should be X"},
	}
	for _, tt := range tests {
		_, err := ParseAt(tt.in, now)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseAt(%q) = %v; want an *Error", tt.in, err)
			continue
		}
		if e.Rule != tt.rule || !strings.Contains(e.En, tt.msg) || e.Zh == "" {
			t.Errorf("ParseAt(%q) = %s %q; want %s with %q", tt.in, e.Rule, e.Error(), tt.rule, tt.msg)
		}
		if strings.Contains(e.Error(), strings.TrimSpace(tt.in)) && tt.in != "" && strings.TrimSpace(tt.in) != "" {
			t.Errorf("ParseAt(%q): the message repeats the number: %s", tt.in, e)
		}
	}
}

func TestCheckWant(t *testing.T) {
	_, err := ParseAt("110105194912310021", now)
	var e *Error
	if !errors.As(err, &e) || e.Want != 'X' || e.Zh != "身份证号校验位错误，应为 X" {
		t.Fatalf("got %v; want the check rule with want X", err)
	}
	if e.Error() != "身份证号校验位错误，应为 X / the ID number's check digit is wrong: it should be X" {
		t.Errorf("message %q", e.Error())
	}
}

func TestCheckChar(t *testing.T) {
	for first17, want := range map[string]byte{
		"11010519491231002": 'X',
		"44052418800101001": '4',
		"37060220000229001": 'X',
		"1101051949123100":  0,
		"1101051949123100A": 0,
	} {
		if got := CheckChar(first17); got != want {
			t.Errorf("CheckChar(%q) = %q; want %q", first17, got, want)
		}
	}
}

func TestGenerate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	birth := time.Date(1952, 3, 8, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 200; i++ {
		sex := Sex(1 + i%2)
		id, err := Generate(r, "370602", birth, sex)
		if err != nil {
			t.Fatal(err)
		}
		if id.Sex() != sex || !id.Birth().Equal(birth) || id.Region() != "370602" {
			t.Fatalf("Generate gave %s: %s %s %s", id, id.Sex(), id.Birth(), id.Region())
		}
		if _, err := ParseAt(id.String(), now); err != nil {
			t.Fatalf("generated %s does not parse: %v", id, err)
		}
	}
	if _, err := Generate(r, "3706", birth, Male); err == nil {
		t.Error("a 4-digit region was accepted")
	}
	if _, err := Generate(r, "990100", birth, Male); err == nil {
		t.Error("region 99 was accepted")
	}
	if _, err := Generate(r, "370602", time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC), Male); err == nil {
		t.Error("a birth in 1899 was accepted")
	}
}

func TestMobileNumber(t *testing.T) {
	good := map[string]string{
		"13800138000":         "13800138000",
		" 138 0013 8000 ":     "13800138000",
		"138-0013-8000":       "13800138000",
		"+86 138 0013 8000":   "13800138000",
		"+86-13800138000":     "13800138000",
		"8613800138000":       "13800138000",
		"0086 13800138000":    "13800138000",
		"１３８００１３８０００":         "13800138000",
		"19912345678":         "19912345678",
		"(+86) 138 0013 8000": "",
	}
	for in, want := range good {
		got, err := MobileNumber(in)
		if want == "" {
			if err == nil {
				t.Errorf("MobileNumber(%q) = %q; want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("MobileNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12800138000", "1380013800", "138001380001", "23800138000", "138OO138000", "+1 415 555 0100", "0535-1234567"} {
		if got, err := MobileNumber(in); err == nil {
			t.Errorf("MobileNumber(%q) = %q; want an error", in, got)
		} else if e := err.(*Error); e.Rule != RulePhone || e.Zh == "" || e.En == "" {
			t.Errorf("MobileNumber(%q): %#v", in, e)
		}
	}
}

func TestPhone(t *testing.T) {
	tests := []struct {
		in, want string
		kind     PhoneKind
	}{
		{"13800138000", "13800138000", Mobile},
		{"+86 138 0013 8000", "13800138000", Mobile},
		{"0535-1234567", "0535-1234567", Landline},
		{"(0535) 123 4567", "0535-1234567", Landline},
		{"（0535）12345678", "0535-12345678", Landline},
		{"05351234567", "0535-1234567", Landline},
		{"010-12345678", "010-12345678", Landline},
		{"010-62345678", "010-62345678", Landline},
		{"01062345678", "010-62345678", Landline},
		{"021 6234 5678", "021-62345678", Landline},
		{"+86 21 6234 5678", "021-62345678", Landline},
		{"+86 535 1234567", "0535-1234567", Landline},
		{"0086 10 62345678", "010-62345678", Landline},
		{"12345", "", 0},
		{"400-123-4567", "", 0},
		{"0535-0234567", "", 0},
		{"0535-123456", "", 0},
		{"0535-123456789", "", 0},
		{"0011-62345678", "", 0},
		{"0001234567", "", 0},
		{"0535-1234567转801", "", 0},
		{"+1 415 555 0100", "", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		got, kind, err := Phone(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Phone(%q) = %q %s; want an error", tt.in, got, kind)
			}
			continue
		}
		if err != nil || got != tt.want || kind != tt.kind {
			t.Errorf("Phone(%q) = %q %s %v; want %q %s", tt.in, got, kind, err, tt.want, tt.kind)
		}
	}
}
