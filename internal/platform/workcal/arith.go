package workcal

import (
	"math"
	"time"
)

// maxAdd bounds the working time AddHours accepts, so that adding it to
// a day's offset cannot overflow; it is still about 292 years.
const maxAdd = time.Duration(math.MaxInt64) - 24*time.Hour

// maxDays bounds AddDays, for the same reason.
const maxDays = 1 << 32

// AddHours counts working hours (工作时): it returns the earliest instant
// at which d of working time has elapsed since start. A start outside
// working time counts from the next working moment, and a result that
// fills a period exactly is that period's end (12:00, 17:30), not the
// opening of the next one. d ≤ 0 returns start. The result is in [CST] and
// exact to the nanosecond: Between(start, AddHours(start, d)) == d.
// For fractional hours use [Limit.Duration], which rounds to the second.
func (c *Calendar) AddHours(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start.In(CST)
	}
	d = min(d, maxAdd)
	day, off := split(start)
	used := c.perDay // a day off has no working time left
	if c.isWorkday(day) {
		used = c.workedBefore(off)
	}
	if left := c.perDay - used; d <= left {
		return join(day, c.locate(used+d))
	}
	over := d - (c.perDay - used) // working time needed after the start day
	k, rem := int64(over/c.perDay), over%c.perDay
	if rem == 0 {
		return join(c.nthWorkday(day, k), c.lastEnd)
	}
	return join(c.nthWorkday(day, k+1), c.locate(rem))
}

// hoursToDuration converts hours to a duration rounded to the second;
// NaN and h ≤ 0 give 0, and huge values saturate.
func hoursToDuration(h float64) time.Duration {
	if !(h > 0) {
		return 0
	}
	s := math.Round(h * 3600)
	if s >= float64(maxAdd/time.Second) {
		return maxAdd
	}
	return time.Duration(s) * time.Second
}

// AddDays returns the deadline of n working days (工作日) counted from
// start, as Chinese offices count them: the day of start does not count,
// whatever its hour and whether or not it is a working day, and the
// deadline is the close of the n-th working day after it (the end of its
// last working period). Dispatched on Friday at 16:00 with 1 working day,
// a case is due on Monday at 17:30; dispatched the day before the Spring
// Festival holiday, it is due at the close of the first working day after.
//
// n ≤ 0 means "the same day" (当日): the close of the start day if start is
// on a working day before its close, else the close of the next working
// day. n is capped at 2³² (some ten million years).
func (c *Calendar) AddDays(start time.Time, n int) time.Time {
	n = min(n, maxDays)
	day, off := split(start)
	if n <= 0 {
		if c.isWorkday(day) && off < c.lastEnd {
			return join(day, c.lastEnd)
		}
		n = 1
	}
	return join(c.nthWorkday(day, int64(n)), c.lastEnd)
}

// Between returns the working time from a to b (the working part of
// [a, b)), or 0 if b is not after a. It serves the "80 % of the time used"
// warnings (Between(start, now) against Between(start, deadline)) and the
// pausing of a clock: when a case is deferred from p to q, its new deadline
// is AddHours(deadline, Between(p, q)).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	da, oa := split(a)
	db, ob := split(b)
	days := c.workdaysBefore(db) - c.workdaysBefore(da)
	if days > int64(math.MaxInt64/c.perDay)-1 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(days)*c.perDay + c.workedOn(db, ob) - c.workedOn(da, oa)
}

// workedOn is the working time of day before the offset off.
func (c *Calendar) workedOn(day int64, off time.Duration) time.Duration {
	if !c.isWorkday(day) {
		return 0
	}
	return c.workedBefore(off)
}
