package workcal

import (
	"slices"
	"sort"
	"time"
)

// CST is China Standard Time, a fixed UTC+8 zone. China has kept it without
// daylight saving since 1991, so the calendar needs no tz database.
var CST = time.FixedZone("CST", 8*60*60)

const (
	secondsPerDay = 24 * 60 * 60
	cstOffset     = 8 * 60 * 60
)

// Coverage says how far the holiday data of a year can be trusted.
type Coverage int

const (
	// NoData: the year has no holiday data; only the workweek applies,
	// so public holidays count as working days.
	NoData Coverage = iota
	// Provisional: the year's data was not taken from an official notice.
	Provisional
	// Official: the year's data comes from the official notice.
	Official
)

func (c Coverage) String() string {
	switch c {
	case Provisional:
		return "provisional"
	case Official:
		return "official"
	}
	return "no_data"
}

// Calendar answers working-time questions. It is immutable once built and
// safe for concurrent use; to change it, edit a Config and build a new one.
type Calendar struct {
	cfg      Config
	periods  []period      // the working periods of a day, in order
	perDay   time.Duration // working time of one working day
	lastEnd  time.Duration // end of the last period: the close of a working day
	week     [7]bool       // by time.Weekday
	perWeek  int64         // working weekdays per week
	weekCum  [8]int64      // weekCum[r]: working days among the first r days of a week from Monday
	flips    []int64       // sorted days whose status differs from the workweek's
	flipsCum []int64       // flipsCum[i]: net working days added by flips[:i]
	days     map[int64]DayInfo
	years    map[int]Coverage
}

type period struct{ start, end time.Duration }

// DayInfo describes one date of the calendar.
type DayInfo struct {
	Date    string // "2026-10-01"
	Working bool   // a working day after holidays and make-up days
	Holiday bool   // listed as a holiday (放假日)
	Makeup  bool   // listed as a make-up working day (调休上班)
	Name    string // the festival the listing belongs to, e.g. "国庆节"
}

// New checks cfg and builds a calendar from it. The error is an
// errs.Invalid error with one field per problem (see [Config.Validate]).
func New(cfg Config) (*Calendar, error) {
	if ps := cfg.Validate(); len(ps) > 0 {
		return nil, Err(ps)
	}
	c := &Calendar{
		cfg:   cfg.Clone(),
		days:  map[int64]DayInfo{},
		years: map[int]Coverage{},
	}
	for _, p := range cfg.Periods {
		start, _ := parseClock(p.Start)
		end, _ := parseClock(p.End)
		c.periods = append(c.periods, period{start, end})
		c.perDay += end - start
		c.lastEnd = end
	}
	for _, s := range cfg.Workweek {
		d, _ := parseWeekday(s)
		c.week[d] = true
	}
	for r := range 7 {
		working := c.week[(r+1)%7] // r = 0 is Monday
		c.weekCum[r+1] = c.weekCum[r]
		if working {
			c.weekCum[r+1]++
		}
	}
	c.perWeek = c.weekCum[7]

	for _, y := range cfg.Years {
		c.years[y.Year] = Official
		if y.Provisional {
			c.years[y.Year] = Provisional
		}
		c.mark(y.Holidays, DayInfo{Holiday: true})
		c.mark(y.MakeupDays, DayInfo{Makeup: true, Working: true})
	}
	c.indexFlips()
	return c, nil
}

// indexFlips lists the days whose status the year data changes (a holiday
// on a working weekday, a make-up day on a day off) with the running sum
// of working days gained, for workdaysBefore.
func (c *Calendar) indexFlips() {
	for day, info := range c.days {
		if c.week[weekdayOf(day)] != info.Working {
			c.flips = append(c.flips, day)
		}
	}
	slices.Sort(c.flips)
	c.flipsCum = make([]int64, len(c.flips)+1)
	for i, day := range c.flips {
		gain := int64(1)
		if !c.days[day].Working {
			gain = -1
		}
		c.flipsCum[i+1] = c.flipsCum[i] + gain
	}
}

func (c *Calendar) mark(spans []Span, info DayInfo) {
	for _, s := range spans {
		from, _ := parseDate(s.From)
		to := from
		if s.To != "" {
			to, _ = parseDate(s.To)
		}
		for d := from; d <= to; d++ {
			i := info
			i.Date, i.Name = formatDay(d), s.Name
			c.days[d] = i
		}
	}
}

// Config returns a copy of the configuration the calendar was built from.
func (c *Calendar) Config() Config { return c.cfg.Clone() }

// Coverage says whether the calendar has holiday data for year, and how
// trustworthy it is.
func (c *Calendar) Coverage(year int) Coverage { return c.years[year] }

// Covers reports whether the calendar has holiday data (official or
// provisional) for year. For other years it counts plain weekdays, so a
// caller should warn, e.g. "no holiday data for 2028".
func (c *Calendar) Covers(year int) bool { return c.years[year] != NoData }

// Years lists the years with holiday data, in order.
func (c *Calendar) Years() []int {
	out := make([]int, 0, len(c.years))
	for y := range c.years {
		out = append(out, y)
	}
	sort.Ints(out)
	return out
}

// YearWarning is a year whose holiday data is missing or provisional.
type YearWarning struct {
	Year     int
	Coverage Coverage
}

// Key is the message key of the warning in [Locales]; its argument is Year.
func (w YearWarning) Key() string {
	if w.Coverage == Provisional {
		return "workcal.warn.provisional"
	}
	return "workcal.warn.no_data"
}

// Warnings lists the years from the date of a to the date of b (in CST)
// whose holiday data is missing or provisional: a deadline computed over
// that stretch may be wrong by the holidays of those years.
func (c *Calendar) Warnings(a, b time.Time) []YearWarning {
	ya, yb := a.In(CST).Year(), b.In(CST).Year()
	if yb < ya {
		ya, yb = yb, ya
	}
	var out []YearWarning
	for y := ya; y <= yb && y-ya < 100; y++ {
		if cov := c.years[y]; cov != Official {
			out = append(out, YearWarning{y, cov})
		}
	}
	return out
}

// IsWorkday reports whether the date of t in CST is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	day, _ := split(t)
	return c.isWorkday(day)
}

// Day describes the date of t in CST.
func (c *Calendar) Day(t time.Time) DayInfo {
	day, _ := split(t)
	if info, ok := c.days[day]; ok {
		return info
	}
	return DayInfo{Date: formatDay(day), Working: c.week[weekdayOf(day)]}
}

// IsWorkingTime reports whether t lies in a working period of a working
// day. Periods are half-open: the opening instant is working time, the
// closing instant is not.
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	day, off := split(t)
	if !c.isWorkday(day) {
		return false
	}
	for _, p := range c.periods {
		if off >= p.start && off < p.end {
			return true
		}
	}
	return false
}

func (c *Calendar) isWorkday(day int64) bool {
	plain := c.week[weekdayOf(day)]
	if _, flipped := slices.BinarySearch(c.flips, day); flipped {
		return !plain
	}
	return plain
}

// workdaysBefore counts the working days before day, from a fixed origin;
// only differences between two counts mean anything. It costs a division
// and a binary search, whatever the distance.
func (c *Calendar) workdaysBefore(day int64) int64 {
	m := day + 3 // day −3 (1969-12-29) was a Monday
	q, r := floorDiv(m, 7), floorMod(m, 7)
	i, _ := slices.BinarySearch(c.flips, day)
	return q*c.perWeek + c.weekCum[r] + c.flipsCum[i]
}

// nthWorkday returns the n-th working day after day (n ≥ 1), by a
// galloping then binary search over workdaysBefore.
func (c *Calendar) nthWorkday(day, n int64) int64 {
	target := c.workdaysBefore(day+1) + n
	lo := day // invariant: workdaysBefore(lo+1) < target
	hi := day + 7*((n+c.perWeek-1)/c.perWeek)
	for c.workdaysBefore(hi+1) < target {
		lo, hi = hi, hi+2*(hi-day)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if c.workdaysBefore(mid+1) >= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// workedBefore is the working time of a working day before the offset off.
func (c *Calendar) workedBefore(off time.Duration) time.Duration {
	var w time.Duration
	for _, p := range c.periods {
		if off <= p.start {
			break
		}
		w += min(off, p.end) - p.start
	}
	return w
}

// locate is the earliest offset of a working day before which w of working
// time lies, for 0 < w ≤ perDay: the end of a period when w fills it.
func (c *Calendar) locate(w time.Duration) time.Duration {
	for _, p := range c.periods {
		if n := p.end - p.start; w <= n {
			return p.start + w
		} else {
			w -= n
		}
	}
	return c.lastEnd
}

// split returns the CST day number of t (days since 1970-01-01) and the
// offset of t within that day.
func split(t time.Time) (int64, time.Duration) {
	s := t.Unix() + cstOffset
	day := floorDiv(s, secondsPerDay)
	return day, time.Duration(s-day*secondsPerDay)*time.Second + time.Duration(t.Nanosecond())
}

// join is the inverse of split; off may be 24h (the next midnight).
func join(day int64, off time.Duration) time.Time {
	return time.Unix(day*secondsPerDay-cstOffset, int64(off)).In(CST)
}

func weekdayOf(day int64) time.Weekday { return time.Weekday(floorMod(day+4, 7)) } // 1970-01-01 was a Thursday

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
