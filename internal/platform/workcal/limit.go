package workcal

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Unit is the unit of a time limit: working hours or working days.
type Unit string

const (
	Hours Unit = "hours" // 工作时: counted with Calendar.AddHours
	Days  Unit = "days"  // 工作日: counted with Calendar.AddDays
)

// MaxLimit bounds the amount of a Limit, in its unit; it keeps the
// arithmetic far from overflow and catches a mistyped number.
const MaxLimit = 100000

// Limit is a time limit (时限) in working time, such as 4 工作时 or
// 5 工作日. Its JSON form is {"amount":4,"unit":"hours"}; a JSON string such
// as "4工作时" is read too.
type Limit struct {
	Amount float64 `json:"amount"`
	Unit   Unit    `json:"unit"`
}

// unitWords maps the accepted spellings of a unit, after the number and
// an optional "个", to the unit. Hours are rounded to the second.
var unitWords = map[string]Unit{
	"h": Hours, "hr": Hours, "hrs": Hours, "hour": Hours, "hours": Hours,
	"工作时": Hours, "工作小时": Hours,
	"d": Days, "day": Days, "days": Days, "wd": Days, "workday": Days, "workdays": Days,
	"工作日": Days, "工作天": Days,
}

// ambiguousUnits are units that may mean calendar time: "24 小时" often
// does, and "7 天" in a hotline rule may mean natural days. They are
// refused rather than guessed.
var ambiguousUnits = map[string]bool{"小时": true, "时": true, "天": true, "日": true}

// ParseLimit reads a limit such as "4h", "2d", "1.5h", "4工作时",
// "5个工作日" or "5 工作日". Full-width digits are accepted. The error is a
// [Problem] whose Value is s.
func ParseLimit(s string) (Limit, error) {
	in := strings.TrimSpace(foldWidth(s))
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.') {
		i++
	}
	num, unit := in[:i], strings.TrimSpace(in[i:])
	unit = strings.TrimSpace(strings.TrimPrefix(unit, "个"))
	amount, err := strconv.ParseFloat(num, 64)
	if err != nil {
		if strings.HasPrefix(in, "-") {
			return Limit{}, Problem{Kind: ProblemLimitRange, Value: s}
		}
		return Limit{}, Problem{Kind: ProblemLimitSyntax, Value: s}
	}
	u, ok := unitWords[strings.ToLower(unit)]
	switch {
	case ok:
	case ambiguousUnits[unit]:
		return Limit{}, Problem{Kind: ProblemLimitAmbiguous, Value: s}
	case unit == "":
		return Limit{}, Problem{Kind: ProblemLimitSyntax, Value: s}
	default:
		return Limit{}, Problem{Kind: ProblemLimitUnit, Value: s}
	}
	l := Limit{Amount: amount, Unit: u}
	if err := l.check(s); err != nil {
		return Limit{}, err
	}
	return l, nil
}

// foldWidth turns full-width digits and dots (as typed with a Chinese input
// method) into ASCII.
func foldWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '．':
			return '.'
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
}

// Validate reports whether l can be used: a known unit, an amount from 0
// to MaxLimit, and a whole number of days. The error is a [Problem].
func (l Limit) Validate() error { return l.check(l.String()) }

func (l Limit) check(input string) error {
	switch l.Unit {
	case Hours, Days:
	default:
		return Problem{Kind: ProblemLimitUnit, Value: input}
	}
	if math.IsNaN(l.Amount) || l.Amount < 0 || l.Amount > MaxLimit {
		return Problem{Kind: ProblemLimitRange, Value: input}
	}
	if l.Unit == Days && l.Amount != math.Trunc(l.Amount) {
		return Problem{Kind: ProblemLimitFraction, Value: input}
	}
	return nil
}

// String writes l as ParseLimit reads it: "4h", "1.5h", "5d".
func (l Limit) String() string {
	suffix := "h"
	switch l.Unit {
	case Hours:
	case Days:
		suffix = "d"
	default:
		suffix = " " + string(l.Unit)
	}
	return strconv.FormatFloat(l.Amount, 'f', -1, 64) + suffix
}

// Duration is the working time of an hours limit, rounded to the second;
// 0 for a days limit, whose working time depends on when it starts (use
// Between).
func (l Limit) Duration() time.Duration {
	if l.Unit != Hours {
		return 0
	}
	return hoursToDuration(l.Amount)
}

// Deadline is the instant at which the limit, started at start, runs out:
// c.AddHours for hours, c.AddDays for days.
func (l Limit) Deadline(c *Calendar, start time.Time) (time.Time, error) {
	if err := l.Validate(); err != nil {
		return time.Time{}, err
	}
	if l.Unit == Days {
		return c.AddDays(start, int(l.Amount)), nil
	}
	return c.AddHours(start, l.Duration()), nil
}

// UnmarshalJSON reads {"amount":…,"unit":…} or a string for ParseLimit,
// and refuses a limit that is not valid.
func (l *Limit) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseLimit(s)
		if err != nil {
			return err
		}
		*l = v
		return nil
	}
	type plain Limit
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if err := Limit(v).Validate(); err != nil {
		return err
	}
	*l = Limit(v)
	return nil
}
