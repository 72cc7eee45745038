package idcard

import (
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts is
// stable: the normalised number parses to the same ID and ends in the
// check character of its first 17 digits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", " 110105 19491231 002X", "110105491231002",
		"11010519491331002X", "110105194912310021", "91184019850101001X", "１１０１０５１９４９１２３１００２ｘ", "", "X", "\u00001101"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseAt(s, now)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Rule == "" || e.Zh == "" || e.En == "" {
				t.Fatalf("ParseAt(%q): %#v is not a complete *Error", s, err)
			}
			return
		}
		n := id.String()
		if len(n) != 18 || CheckChar(n[:17]) != n[17] {
			t.Fatalf("ParseAt(%q) accepted %q, whose check character is %q", s, n, CheckChar(n[:17]))
		}
		again, err := ParseAt(n, now)
		if err != nil || again != id {
			t.Fatalf("ParseAt(%q) = %v; re-parsing %q gave %v, %v", s, id, n, again, err)
		}
		if id.Sex() != Male && id.Sex() != Female {
			t.Fatalf("ParseAt(%q): sex %v", s, id.Sex())
		}
	})
}

// FuzzPhone checks that Phone never panics and that its normalised output
// is accepted again unchanged.
func FuzzPhone(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138 0013 8000", "0535-1234567", "(010) 6234 5678", "+86 535 1234567", "+", "0086", "8613800138000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, kind, err := Phone(s)
		if err != nil {
			return
		}
		again, kind2, err := Phone(n)
		if err != nil || again != n || kind2 != kind {
			t.Fatalf("Phone(%q) = %q %s; Phone(%q) = %q %s %v", s, n, kind, n, again, kind2, err)
		}
		if kind == Mobile {
			if m, err := MobileNumber(n); err != nil || m != n {
				t.Fatalf("Phone(%q) says mobile %q; MobileNumber says %q %v", s, n, m, err)
			}
		}
	})
}
