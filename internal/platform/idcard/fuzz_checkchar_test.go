package idcard

import (
	"strings"
	"testing"
)

// FuzzCheckChar builds 17 digits from arbitrary bytes and checks the
// checksum both ways: the number ending in CheckChar's answer is never
// refused for its check character (only, perhaps, for its region or birth
// date), every other ending is refused with RuleCheck naming that answer,
// and an accepted number re-validates to itself.
//
//	go test -run '^$' -fuzz FuzzCheckChar -fuzztime 60s ./internal/platform/idcard/
func FuzzCheckChar(f *testing.F) {
	for _, s := range []string{"11010519491231002", "37061319450312122", "81000019940823002", "91184019850101001",
		"00000000000000000", "99999999999999999", "3706022000022900", "370602202611270012345"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckChar(string(b)) != 0 && (len(b) != 17 || !allDigits(string(b))) {
			t.Fatalf("CheckChar(%q) = %q for no 17 digits", b, CheckChar(string(b)))
		}
		var d strings.Builder
		for i := range 17 {
			c := byte('0')
			if i < len(b) {
				c = '0' + b[i]%10
			}
			d.WriteByte(c)
		}
		first17 := d.String()
		want := CheckChar(first17)
		if want == 0 || !strings.ContainsRune(checkChars, rune(want)) {
			t.Fatalf("CheckChar(%q) = %q", first17, want)
		}
		id, err := ParseAt(first17+string(want), now)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || (e.Rule != RuleRegion && e.Rule != RuleBirth) {
				t.Fatalf("ParseAt(%q) refused the right check character: %v", first17+string(want), err)
			}
			return
		}
		if id.String() != first17+string(want) || id.Birth().IsZero() {
			t.Fatalf("ParseAt(%q) = %q born %v", first17+string(want), id, id.Birth())
		}
		if again, err := ParseAt(strings.ToLower(id.String()), now); err != nil || again != id {
			t.Fatalf("re-validating %q: %v %v", id, again, err)
		}
		for _, c := range []byte(checkChars) {
			if c == want {
				continue
			}
			_, err := ParseAt(first17+string(c), now)
			e, ok := err.(*Error)
			if !ok || e.Rule != RuleCheck || e.Want != want {
				t.Fatalf("ParseAt(%q) with wrong check character %q: %#v", first17+string(c), c, err)
			}
		}
	})
}

// FuzzErrorsHideNumbers checks that the messages of ID and phone errors
// carry no part of the number given (they end up in logs): no run of six
// of the input's digits appears in them (the phone message's fixed example
// aside). The only digit an ID error may name is the expected check
// character.
//
//	go test -run '^$' -fuzz FuzzErrorsHideNumbers -fuzztime 60s ./internal/platform/idcard/
func FuzzErrorsHideNumbers(f *testing.F) {
	for _, s := range []string{"110105194912310021", "11010519491331002X", "00010519491231002X", "1101051949123100",
		"+86 138 0013 800", "0535-123456", "13800138000123", "１１０１０５１９４９１２３１００２１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 {
			return // a cell, not a document; and a length count stays below six digits
		}
		digits := strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return r
			case r >= '０' && r <= '９':
				return r - '０' + '0'
			}
			return -1
		}, s)
		leaks := func(msg string) string {
			msg = strings.ReplaceAll(msg, "0535-1234567", "") // the phone message's example
			for i := 0; i+6 <= len(digits); i++ {
				if strings.Contains(msg, digits[i:i+6]) {
					return digits[i : i+6]
				}
			}
			return ""
		}
		if _, err := ParseAt(s, now); err != nil {
			if l := leaks(err.Error()); l != "" {
				t.Fatalf("ParseAt(%q): message %q shows %q", s, err.Error(), l)
			}
		}
		if _, _, err := Phone(s); err != nil {
			if l := leaks(err.Error()); l != "" {
				t.Fatalf("Phone(%q): message %q shows %q", s, err.Error(), l)
			}
		}
		if _, err := MobileNumber(s); err != nil {
			if l := leaks(err.Error()); l != "" {
				t.Fatalf("MobileNumber(%q): message %q shows %q", s, err.Error(), l)
			}
		}
	})
}
