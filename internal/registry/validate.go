package registry

import (
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/idcard"
)

// idNumber is what an 18-character resident ID number (GB 11643) tells.
type idNumber struct {
	Birth string // YYYY-MM-DD
	Sex   Sex
}

// parseIDNumber checks an ID number with platform/idcard (form, province,
// birth date up to now, check character) and returns what it encodes.
func parseIDNumber(s string, now time.Time) (idNumber, error) {
	id, err := idcard.ParseAt(s, now)
	if err != nil {
		return idNumber{}, err
	}
	sex := Female
	if id.Sex() == idcard.Male {
		sex = Male
	}
	return idNumber{Birth: id.Birth().Format(time.DateOnly), Sex: sex}, nil
}

// idFieldError turns idcard's verdict into the register's message: which
// rule failed, and for a wrong check character the one it should be, so
// that a clerk can tell a typing slip from a wrong number.
func idFieldError(v *errs.Validation, err error) {
	var e *idcard.Error
	if !errors.As(err, &e) {
		v.Add("id_number", "err.registry.id_number")
		return
	}
	switch e.Rule {
	case idcard.RuleRegion:
		v.Add("id_number", "err.registry.id_region")
	case idcard.RuleBirth:
		v.Add("id_number", "err.registry.id_birth")
	case idcard.RuleCheck:
		v.Add("id_number", "err.registry.id_check", string(e.Want))
	default:
		v.Add("id_number", "err.registry.id_number")
	}
}

// normaliseID upper-cases a final x and drops spaces people type.
func normaliseID(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// A foreigner's passport or permit number (境外人员).
var passportRE = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// normalisePhone gives a phone number the one form it is sealed and
// indexed in (13812345678, 0535-1234567), so that a search finds it however
// it was typed; ok is false when it is no mainland number.
func normalisePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	n, _, err := idcard.Phone(s)
	if err != nil {
		return s, false
	}
	return n, true
}

// nameKey is the form of a name that prefix search compares: compatibility
// forms folded (full-width letters), lower case, no spaces or middle dots
// (阿卜杜·热合曼 is found by 阿卜杜热).
func nameKey(name string) string {
	name = strings.ToLower(norm.NFKC.String(name))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '·' || r == '•' || r == '.' {
			return -1
		}
		return r
	}, name)
}

// prefixEnd is the smallest string after every string that starts with
// prefix, in byte order: a range [prefix, prefixEnd) uses the index. The
// largest code point is valid UTF-8, which PostgreSQL requires of text.
func prefixEnd(prefix string) string { return prefix + string(utf8.MaxRune) }

// validDate checks a YYYY-MM-DD date.
func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// textOK reports whether s is at most max characters and free of control
// characters.
func textOK(s string, max int) bool {
	if runes(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// Component codes (部件标识码): 6-digit county + 2 major + 2 minor + 6 serial.
var componentRE = regexp.MustCompile(`^[0-9]{16}$`)

// componentCode splits a 16-digit code; ok is false when it is not one or
// when a part is all zeros.
func componentCode(code string) (county, major, minor, serial string, ok bool) {
	if !componentRE.MatchString(code) {
		return "", "", "", "", false
	}
	county, major, minor, serial = code[:6], code[6:8], code[8:10], code[10:]
	ok = county != "000000" && major != "00" && minor != "00" && serial != "000000"
	return county, major, minor, serial, ok
}

// codeRE is the form of a configurable code (a special group's).
var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,30}$`)
