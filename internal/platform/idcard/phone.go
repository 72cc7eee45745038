package idcard

import "strings"

// PhoneKind tells a mobile number from a landline.
type PhoneKind uint8

const (
	Mobile   PhoneKind = iota + 1 // 手机: 11 digits, 1[3-9]…
	Landline                      // 固定电话: area code and 7–8 digit subscriber number
)

func (k PhoneKind) String() string {
	switch k {
	case Mobile:
		return "mobile"
	case Landline:
		return "landline"
	}
	return "unknown"
}

// MobileNumber checks a mainland mobile number and returns its 11 digits.
// A +86, 0086 or 86 prefix, spaces, hyphens, dots and brackets are
// accepted and removed: "+86 138-0013-8000" gives "13800138000".
func MobileNumber(s string) (string, error) {
	d, _, ok := phoneDigits(s)
	if ok && isMobile(d) {
		return d, nil
	}
	return "", fail(RulePhone, "手机号应为以 13–19 开头的 11 位数字", "a mobile number must be 11 digits starting with 13–19")
}

// Phone checks a mobile or a landline number and returns it normalised:
// 11 digits for a mobile, "area-subscriber" for a landline, e.g.
// "(0535) 123 4567" and "+86 535 1234567" give "0535-1234567". The area
// code is 010 or 02x (3 digits) or another 4-digit code starting with 0;
// the subscriber number has 7 or 8 digits and does not start with 0.
// Extensions, service numbers (12345, 95xxx, 400…) and numbers abroad are
// refused: a register wants a number that reaches the person.
func Phone(s string) (string, PhoneKind, error) {
	d, international, ok := phoneDigits(s)
	if ok && isMobile(d) {
		return d, Mobile, nil
	}
	if ok && international && d != "" && d[0] != '0' {
		d = "0" + d // +86 535 … drops the trunk 0 of the area code
	}
	if ok {
		if area, sub, ok := splitLandline(d); ok {
			return area + "-" + sub, Landline, nil
		}
	}
	return "", 0, fail(RulePhone, "电话号码应为 11 位手机号或带区号的固定电话（如 0535-1234567）", "a telephone number must be an 11-digit mobile number or a landline with its area code, e.g. 0535-1234567")
}

// phoneDigits strips separators and the country code. ok is false when a
// character other than a digit or a separator appears.
func phoneDigits(s string) (digits string, international, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "＋") {
		international = true
		s = strings.TrimPrefix(strings.TrimPrefix(s, "+"), "＋")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune(r - '０' + '0')
		case strings.ContainsRune(" -.()（）－\u3000", r):
		default:
			return "", false, false
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "0086"):
		d, international = d[4:], true
	case international && strings.HasPrefix(d, "86"):
		d = d[2:]
	case !international && len(d) == 13 && strings.HasPrefix(d, "86"):
		// 86 without a plus is only taken off a mobile number: 86… is
		// otherwise no mainland prefix, but 0086 and +86 are explicit.
		d, international = d[2:], true
	case international:
		return "", true, false // a country other than China
	}
	return d, international, true
}

func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// splitLandline splits a landline number into its area code and
// subscriber number. Beijing (010) and the 02x cities have 3-digit area
// codes; all others have 4 (GB/T 12387's numbering plan).
func splitLandline(d string) (area, sub string, ok bool) {
	if len(d) < 3 || d[0] != '0' {
		return "", "", false
	}
	n := 4
	if d[1] == '1' && d[2] == '0' || d[1] == '2' {
		n = 3
	}
	if d[1] == '0' || d[1] == '1' && d[2] != '0' || len(d) <= n {
		return "", "", false
	}
	area, sub = d[:n], d[n:]
	if len(sub) < 7 || len(sub) > 8 || sub[0] == '0' {
		return "", "", false
	}
	return area, sub, true
}
