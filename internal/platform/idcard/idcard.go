// Package idcard checks the numbers people write on registers and hotline
// forms: Chinese resident identity numbers (居民身份证号码, GB 11643-1999)
// and mainland telephone numbers (手机号, 固定电话).
//
// An identity number has 18 characters: a 6-digit region code (行政区划代码),
// the birth date as YYYYMMDD, a 3-digit sequence whose last digit is odd for
// men and even for women, and a check character computed with ISO 7064
// MOD 11-2 (0–9 or X). Parse checks every part and says which rule failed,
// so that an import can tell a clerk "第 12 行: 身份证号校验位错误，应为 7"
// rather than "invalid". The same layout is used by the residence permits of
// Hong Kong, Macao and Taiwan residents (81, 82, 83) and by the 2023
// foreigners' permanent residence card (9 + province code), which Parse
// accepts too. The 15-digit first-generation numbers are refused with a
// message saying so.
//
// Errors carry no part of the number: identity and telephone numbers are
// personal data and error messages end up in logs.
package idcard

import (
	"fmt"
	"strings"
	"time"
)

// Rule names the check an input failed, so that callers can react to one
// rule (e.g. offer the right check character) without parsing messages.
type Rule string

const (
	RuleEmpty  Rule = "empty"  // nothing given
	RuleLength Rule = "length" // not 18 characters
	RuleDigits Rule = "digits" // a character that is not a digit (or X last)
	RuleRegion Rule = "region" // the region code has no known province prefix
	RuleBirth  Rule = "birth"  // the birth date is not a real date in range
	RuleCheck  Rule = "check"  // the check character does not match
	RulePhone  Rule = "phone"  // not a mainland mobile or landline number
)

// Error says which rule an input failed, in Chinese and in English.
type Error struct {
	Rule Rule
	// Want is the check character the first 17 digits call for, set only
	// for RuleCheck.
	Want byte
	Zh   string
	En   string
}

// Error returns the message in both languages, "zh / en", the way Linli's
// command line and import reports print them.
func (e *Error) Error() string { return e.Zh + " / " + e.En }

func fail(rule Rule, zh, en string) *Error { return &Error{Rule: rule, Zh: zh, En: en} }

// Sex is the sex the 17th digit records.
type Sex uint8

const (
	Female Sex = iota + 1 // even 17th digit
	Male                  // odd 17th digit
)

func (s Sex) String() string {
	switch s {
	case Male:
		return "male"
	case Female:
		return "female"
	}
	return "unknown"
}

// ID is a valid identity number. The zero ID is no number.
type ID struct {
	number string // 18 characters, X uppercase
	birth  time.Time
}

// String returns the normalised number: 18 characters, X uppercase.
func (id ID) String() string { return id.number }

// Region returns the 6-digit region code of the place of first
// registration (not necessarily where the person lives now).
func (id ID) Region() string { return id.number[:6] }

// Birth returns the birth date at midnight UTC.
func (id ID) Birth() time.Time { return id.birth }

// Sex returns the sex recorded in the 17th digit.
func (id ID) Sex() Sex {
	if (id.number[16]-'0')%2 == 1 {
		return Male
	}
	return Female
}

// IsZero reports whether id holds no number.
func (id ID) IsZero() bool { return id.number == "" }

// earliestBirth is the first birth date accepted: nobody born before 1900
// is alive to be registered, and an earlier date is a typing error.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse checks an identity number against today's date; see ParseAt.
func Parse(s string) (ID, error) { return ParseAt(s, time.Now()) }

// ParseAt checks an identity number. Spaces around and inside it are
// ignored (people type "110105 19491231 002X") and a lowercase x is
// accepted. The birth date must lie between 1900-01-01 and now's date. The
// rules are checked in the order a person would fix them: length, digits,
// region, birth date, check character; the error names the first that
// fails.
func ParseAt(s string, now time.Time) (ID, error) {
	n := normalise(s)
	if err := checkShape(n); err != nil {
		return ID{}, err
	}
	if !knownProvince(n[:3]) {
		return ID{}, fail(RuleRegion, "身份证号前两位不是有效的省级行政区划代码", "the ID number's first two digits are not a province code")
	}
	birth, err := birthDate(n[6:14], now)
	if err != nil {
		return ID{}, err
	}
	if want := CheckChar(n[:17]); n[17] != want {
		e := fail(RuleCheck, fmt.Sprintf("身份证号校验位错误，应为 %c", want), fmt.Sprintf("the ID number's check digit is wrong: it should be %c", want))
		e.Want = want
		return ID{}, e
	}
	return ID{number: n, birth: birth}, nil
}

// normalise removes spaces, turns full-width digits and X into ASCII
// (Chinese input methods in full-width mode type "１１０…") and uppercases
// the x.
func normalise(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '\t' || r == '\u3000': // U+3000: the full-width space
			return -1
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == 'x' || r == 'ｘ' || r == 'Ｘ':
			return 'X'
		}
		return r
	}, s)
}

// checkShape checks the length and that only digits appear, with X allowed
// last. It counts characters, not bytes, so that a stray Chinese
// character is reported where it is.
func checkShape(n string) error {
	r := []rune(n)
	switch {
	case n == "":
		return fail(RuleEmpty, "身份证号为空", "the ID number is empty")
	case len(r) == 15 && allDigits(n):
		return fail(RuleLength, "15 位的第一代身份证号已停用，请填写 18 位号码", "15-digit first-generation ID numbers are no longer valid: give the 18-digit number")
	case len(r) != 18:
		return fail(RuleLength, fmt.Sprintf("身份证号应为 18 位，实为 %d 位", len(r)), fmt.Sprintf("the ID number must have 18 characters, not %d", len(r)))
	}
	for i, c := range r[:17] {
		if c < '0' || c > '9' {
			return fail(RuleDigits, fmt.Sprintf("身份证号第 %d 位不是数字", i+1), fmt.Sprintf("character %d of the ID number is not a digit", i+1))
		}
	}
	if (r[17] < '0' || r[17] > '9') && r[17] != 'X' {
		return fail(RuleDigits, "身份证号最后一位应为数字或 X", "the last character of the ID number must be a digit or X")
	}
	return nil
}

// knownProvince reports whether the first digits name a province-level
// division (GB/T 2260), a residence permit (81–83) or, after a leading 9,
// the province that issued a foreigner's permanent residence card.
func knownProvince(p string) bool {
	if p[0] == '9' {
		return provinceCode(p[1:3])
	}
	return provinceCode(p[:2])
}

func provinceCode(p string) bool {
	switch p[0] {
	case '1':
		return p[1] >= '1' && p[1] <= '5'
	case '2':
		return p[1] >= '1' && p[1] <= '3'
	case '3':
		return p[1] >= '1' && p[1] <= '7'
	case '4':
		return p[1] >= '1' && p[1] <= '6'
	case '5':
		return p[1] >= '0' && p[1] <= '4'
	case '6':
		return p[1] >= '1' && p[1] <= '5'
	case '7':
		return p[1] == '1'
	case '8':
		return p[1] >= '1' && p[1] <= '3'
	}
	return false
}

// birthDate parses YYYYMMDD and checks that it is a real day between 1900
// and now. time.Parse refuses 0230 and 0229 of common years.
func birthDate(s string, now time.Time) (time.Time, error) {
	d, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, fail(RuleBirth, "身份证号中的出生日期（第 7–14 位）不是有效日期", "the birth date in the ID number (characters 7–14) is not a real date")
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if d.Before(earliestBirth) || d.After(today) {
		return time.Time{}, fail(RuleBirth, "身份证号中的出生日期早于 1900 年或晚于今天", "the birth date in the ID number is before 1900 or after today")
	}
	return d, nil
}

// weights are 2^(17-i) mod 11 for the 17 digits, from ISO 7064 MOD 11-2.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum mod 11 to the check character.
const checkChars = "10X98765432"

// CheckChar returns the check character ('0'–'9' or 'X') for the first 17
// digits of an identity number, or 0 when first17 is not 17 ASCII digits.
func CheckChar(first17 string) byte {
	if len(first17) != 17 || !allDigits(first17) {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return checkChars[sum%11]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
