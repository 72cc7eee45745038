package workcal

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/errs"
)

// Config is the editable description of a calendar. It holds only strings
// and numbers, so that it survives JSON and a database column unchanged and
// so that a badly typed date reaches [Config.Validate] (which says where it
// is) instead of failing the JSON decoder.
type Config struct {
	// Periods are the working periods of every working day, in order,
	// as local times "HH:MM" or "HH:MM:SS"; "24:00" may end the last one.
	Periods []Period `json:"periods"`
	// Workweek lists the normal working weekdays: "mon" … "sun".
	Workweek []string `json:"workweek"`
	// Years holds the holiday data (节假日安排) of each calendar year.
	Years []Year `json:"years"`
}

// Period is one working period of a day, such as 08:30–12:00. A period is
// half-open: 08:30:00 is working time, 12:00:00 is not.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Year is the holiday arrangement (节假日安排) of one calendar year. Every
// date it lists lies in that year, whichever notice announced it (a notice
// for year Y can move a working day into late December of Y−1; that date
// goes under Y−1).
type Year struct {
	Year int `json:"year"`
	// Holidays are the days off (放假日). Weekend dates inside a range are
	// allowed, so that a range can be copied from the notice as written.
	Holidays []Span `json:"holidays"`
	// MakeupDays are the make-up working days (调休上班): dates that
	// would be days off by the workweek and are working days this year.
	MakeupDays []Span `json:"makeup_days"`
	// Provisional marks data not taken from an official notice; the UI
	// should warn that deadlines in this year may move.
	Provisional bool `json:"provisional,omitempty"`
	// Source names the document the data comes from.
	Source string `json:"source,omitempty"`
	// Note explains anything an administrator should know (for a
	// provisional year: how it was made).
	Note string `json:"note,omitempty"`
}

// Span is a date or an inclusive range of dates ("YYYY-MM-DD"), with the
// name of the festival it belongs to. An empty To means the single day From.
type Span struct {
	Name string `json:"name,omitempty"`
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	out := Config{
		Periods:  append([]Period(nil), c.Periods...),
		Workweek: append([]string(nil), c.Workweek...),
		Years:    make([]Year, len(c.Years)),
	}
	for i, y := range c.Years {
		y.Holidays = append([]Span(nil), y.Holidays...)
		y.MakeupDays = append([]Span(nil), y.MakeupDays...)
		out.Years[i] = y
	}
	if c.Years == nil {
		out.Years = nil
	}
	return out
}

// ProblemKind names one kind of problem with a Config or a Limit. Each kind
// has the message key "err.workcal." + kind in [Locales].
type ProblemKind string

const (
	// ProblemNoPeriods: the day has no working period.
	ProblemNoPeriods ProblemKind = "no_periods"
	// ProblemTimeFormat: a period's start or end is not "HH:MM[:SS]".
	ProblemTimeFormat ProblemKind = "time_format"
	// ProblemTimeRange: a time lies outside 00:00–24:00.
	ProblemTimeRange ProblemKind = "time_range"
	// ProblemPeriodEmpty: a period does not end after it starts (periods
	// cannot run past midnight).
	ProblemPeriodEmpty ProblemKind = "period_empty"
	// ProblemPeriodOrder: a period starts before an earlier one in the
	// list; Other names the earlier one.
	ProblemPeriodOrder ProblemKind = "period_order"
	// ProblemPeriodOverlap: a period starts before an earlier one ends;
	// Other names the earlier one.
	ProblemPeriodOverlap ProblemKind = "period_overlap"
	// ProblemNoWorkweek: no weekday is a normal working day.
	ProblemNoWorkweek ProblemKind = "no_workweek"
	// ProblemWeekday: a workweek entry is not mon … sun.
	ProblemWeekday ProblemKind = "weekday"
	// ProblemYearRange: a year outside 1900–9999.
	ProblemYearRange ProblemKind = "year_range"
	// ProblemYearDuplicate: the same year is listed twice.
	ProblemYearDuplicate ProblemKind = "year_duplicate"
	// ProblemDateFormat: a date is not a real date written YYYY-MM-DD.
	ProblemDateFormat ProblemKind = "date_format"
	// ProblemSpanOrder: a range ends before it starts; Value is From,
	// Other is To.
	ProblemSpanOrder ProblemKind = "span_order"
	// ProblemYearMismatch: a date is not in the year it is listed under;
	// Other is that year.
	ProblemYearMismatch ProblemKind = "year_mismatch"
	// ProblemHolidayAndMakeup: a date is both a holiday and a make-up
	// working day; Field names the make-up entry, Other the holiday.
	ProblemHolidayAndMakeup ProblemKind = "holiday_and_makeup"
	// ProblemMakeupNotWeekend: a make-up working day falls on a normal
	// working weekday; Other is that weekday ("mon" …).
	ProblemMakeupNotWeekend ProblemKind = "makeup_not_weekend"

	// ProblemLimitSyntax: a time limit is not a number and a unit.
	ProblemLimitSyntax ProblemKind = "limit_syntax"
	// ProblemLimitUnit: a time limit's unit is unknown.
	ProblemLimitUnit ProblemKind = "limit_unit"
	// ProblemLimitAmbiguous: the unit (小时, 天, 日) may mean calendar time.
	ProblemLimitAmbiguous ProblemKind = "limit_ambiguous"
	// ProblemLimitFraction: a number of working days is not whole.
	ProblemLimitFraction ProblemKind = "limit_fraction"
	// ProblemLimitRange: a time limit is negative, not a number, or above
	// [MaxLimit].
	ProblemLimitRange ProblemKind = "limit_range"
)

// Problem is one thing wrong with a Config or a Limit, located precisely
// enough for a message such as "years[0].makeup_days[2].from: 2026-03-02
// 本来就是工作日".
type Problem struct {
	Kind ProblemKind
	// Field is the JSON path of the bad value, e.g. "periods[1].end" or
	// "years[0].holidays[3].from"; empty for a Limit parsed from text.
	Field string
	// Value is the bad input as written.
	Value string
	// Other is the second party of a conflict (a field path, a year or a
	// weekday; see the kind), or empty.
	Other string
}

func (p Problem) Error() string {
	msg := "workcal: "
	if p.Field != "" {
		msg += p.Field + ": "
	}
	return msg + p.describe()
}

func (p Problem) describe() string {
	switch p.Kind {
	case ProblemNoPeriods:
		return "a working day needs at least one working period"
	case ProblemTimeFormat:
		return fmt.Sprintf("%q is not a time; write HH:MM, e.g. 08:30", p.Value)
	case ProblemTimeRange:
		return fmt.Sprintf("%s is outside 00:00–24:00", p.Value)
	case ProblemPeriodEmpty:
		return fmt.Sprintf("period %s does not end after it starts (periods cannot run past midnight)", p.Value)
	case ProblemPeriodOrder:
		return fmt.Sprintf("period %s starts before the earlier period %s; list periods in the order of the day", p.Value, p.Other)
	case ProblemPeriodOverlap:
		return fmt.Sprintf("period %s overlaps period %s", p.Value, p.Other)
	case ProblemNoWorkweek:
		return "at least one weekday must be a normal working day"
	case ProblemWeekday:
		return fmt.Sprintf("%q is not a weekday; use mon, tue, wed, thu, fri, sat or sun", p.Value)
	case ProblemYearRange:
		return fmt.Sprintf("%s is not a year between 1900 and 9999", p.Value)
	case ProblemYearDuplicate:
		return fmt.Sprintf("year %s is listed more than once", p.Value)
	case ProblemDateFormat:
		return fmt.Sprintf("%q is not a date; write YYYY-MM-DD, e.g. 2026-10-01", p.Value)
	case ProblemSpanOrder:
		return fmt.Sprintf("the range from %s to %s ends before it starts", p.Value, p.Other)
	case ProblemYearMismatch:
		return fmt.Sprintf("%s is not in %s, the year it is listed under", p.Value, p.Other)
	case ProblemHolidayAndMakeup:
		return fmt.Sprintf("%s is both a holiday and a make-up working day (see %s)", p.Value, p.Other)
	case ProblemMakeupNotWeekend:
		return fmt.Sprintf("%s (%s) is a working day already; a make-up working day must fall on a weekend", p.Value, p.Other)
	case ProblemLimitSyntax:
		return fmt.Sprintf("%q is not a time limit; write e.g. 4h, 4工作时, 2d or 5工作日", p.Value)
	case ProblemLimitUnit:
		return fmt.Sprintf("%q has an unknown unit; use h or 工作时 for working hours, d or 工作日 for working days", p.Value)
	case ProblemLimitAmbiguous:
		return fmt.Sprintf("%q may mean calendar time; write working hours as 4h or 4工作时, working days as 5d or 5工作日", p.Value)
	case ProblemLimitFraction:
		return fmt.Sprintf("%q: a number of working days must be whole", p.Value)
	case ProblemLimitRange:
		return fmt.Sprintf("%q is out of range (0 to %d)", p.Value, MaxLimit)
	}
	return string(p.Kind) + " " + p.Value
}

// Args are the arguments of the kind's message in [Locales]: none for
// ProblemNoPeriods and ProblemNoWorkweek; Value and Other for
// ProblemPeriodOrder, ProblemPeriodOverlap, ProblemSpanOrder and
// ProblemYearMismatch; Value alone for the others.
func (p Problem) Args() []any {
	switch p.Kind {
	case ProblemNoPeriods, ProblemNoWorkweek:
		return nil
	case ProblemPeriodOrder, ProblemPeriodOverlap, ProblemSpanOrder, ProblemYearMismatch:
		return []any{p.Value, p.Other}
	}
	return []any{p.Value}
}

// Key is the message key of the problem in [Locales].
func (p Problem) Key() string { return "err.workcal." + string(p.Kind) }

// Err turns problems into the platform's Invalid error, one field per
// problem, or nil when there are none.
func Err(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	var v errs.Validation
	for _, p := range problems {
		v.Add(p.Field, p.Key(), p.Args()...)
	}
	return v.Err()
}

// Validate reports everything wrong with c, in a stable order, or nil.
func (c Config) Validate() []Problem {
	var ps []Problem
	add := func(k ProblemKind, field, value, other string) {
		ps = append(ps, Problem{Kind: k, Field: field, Value: value, Other: other})
	}
	c.validatePeriods(add)
	week := c.validateWorkweek(add)
	c.validateYears(week, add)
	return ps
}

type addFunc func(k ProblemKind, field, value, other string)

func (c Config) validatePeriods(add addFunc) {
	if len(c.Periods) == 0 {
		add(ProblemNoPeriods, "periods", "", "")
		return
	}
	prev := -1 // index of the valid period that ends last so far
	var prevStart, prevEnd time.Duration
	for i, p := range c.Periods {
		field := fmt.Sprintf("periods[%d]", i)
		start, k1 := parseClock(p.Start)
		if k1 != "" {
			add(k1, field+".start", p.Start, "")
		}
		end, k2 := parseClock(p.End)
		if k2 != "" {
			add(k2, field+".end", p.End, "")
		}
		if k1 != "" || k2 != "" {
			continue
		}
		if start >= end {
			add(ProblemPeriodEmpty, field, p.Start+"–"+p.End, "")
			continue
		}
		if prev >= 0 {
			other := c.Periods[prev].Start + "–" + c.Periods[prev].End
			switch {
			case start < prevStart:
				add(ProblemPeriodOrder, field, p.Start+"–"+p.End, other)
				continue
			case start < prevEnd:
				add(ProblemPeriodOverlap, field, p.Start+"–"+p.End, other)
				continue
			}
		}
		prev, prevStart, prevEnd = i, start, end
	}
}

// validateWorkweek returns the valid weekdays it found.
func (c Config) validateWorkweek(add addFunc) [7]bool {
	var week [7]bool
	found := false
	for i, s := range c.Workweek {
		d, ok := parseWeekday(s)
		if !ok {
			add(ProblemWeekday, fmt.Sprintf("workweek[%d]", i), s, "")
			continue
		}
		week[d], found = true, true
	}
	if !found {
		add(ProblemNoWorkweek, "workweek", "", "")
	}
	return week
}

func (c Config) validateYears(week [7]bool, add addFunc) {
	seen := map[int]bool{}
	for yi, y := range c.Years {
		base := fmt.Sprintf("years[%d]", yi)
		yearOK := y.Year >= 1900 && y.Year <= 9999
		if !yearOK {
			add(ProblemYearRange, base+".year", strconv.Itoa(y.Year), "")
		} else if seen[y.Year] {
			add(ProblemYearDuplicate, base+".year", strconv.Itoa(y.Year), "")
		}
		seen[y.Year] = true

		holidays := map[int64]string{} // day → field of the holiday entry
		eachDay(y.Holidays, base+".holidays", y.Year, yearOK, add, func(day int64, field string) {
			if _, dup := holidays[day]; !dup {
				holidays[day] = field
			}
		})
		eachDay(y.MakeupDays, base+".makeup_days", y.Year, yearOK, add, func(day int64, field string) {
			date := formatDay(day)
			if h, ok := holidays[day]; ok {
				add(ProblemHolidayAndMakeup, field, date, h)
			}
			if wd := weekdayOf(day); week[wd] {
				add(ProblemMakeupNotWeekend, field, date, weekdayNames[wd])
			}
		})
	}
}

// eachDay checks the spans of a list and calls fn for each day of each
// valid span, with the field path of the span.
func eachDay(spans []Span, base string, year int, yearOK bool, add addFunc, fn func(day int64, field string)) {
	for i, s := range spans {
		field := fmt.Sprintf("%s[%d]", base, i)
		from, ok := parseDate(s.From)
		if !ok {
			add(ProblemDateFormat, field+".from", s.From, "")
		}
		to, okTo := from, ok
		if s.To != "" {
			to, okTo = parseDate(s.To)
			if !okTo {
				add(ProblemDateFormat, field+".to", s.To, "")
			}
		}
		if !ok || !okTo {
			continue
		}
		if to < from {
			add(ProblemSpanOrder, field, s.From, s.To)
			continue
		}
		if yearOK {
			bad := false
			if yearOfDay(from) != year {
				add(ProblemYearMismatch, field+".from", s.From, strconv.Itoa(year))
				bad = true
			}
			if s.To != "" && yearOfDay(to) != year {
				add(ProblemYearMismatch, field+".to", s.To, strconv.Itoa(year))
				bad = true
			}
			if bad {
				continue
			}
		}
		for d := from; d <= to; d++ {
			fn(d, field+".from")
		}
	}
}

// parseClock reads "H:MM", "HH:MM" or "HH:MM:SS" as an offset from
// midnight, up to 24:00.
func parseClock(s string) (time.Duration, ProblemKind) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, ProblemTimeFormat
	}
	var n [3]int
	for i, p := range parts {
		if (i == 0 && (len(p) < 1 || len(p) > 2)) || (i > 0 && len(p) != 2) {
			return 0, ProblemTimeFormat
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return 0, ProblemTimeFormat
			}
		}
		n[i], _ = strconv.Atoi(p)
	}
	h, m, sec := n[0], n[1], n[2]
	if m > 59 || sec > 59 {
		return 0, ProblemTimeFormat
	}
	if h > 24 || (h == 24 && (m > 0 || sec > 0)) {
		return 0, ProblemTimeRange
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second, ""
}

var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range weekdayNames {
		if s == n {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// parseDate reads "YYYY-MM-DD" as a day number (days since 1970-01-01).
func parseDate(s string) (int64, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return floorDiv(t.Unix(), secondsPerDay), true
}

func formatDay(day int64) string {
	return time.Unix(day*secondsPerDay, 0).UTC().Format(time.DateOnly)
}

func yearOfDay(day int64) int { return time.Unix(day*secondsPerDay, 0).UTC().Year() }
