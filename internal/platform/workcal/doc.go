// Package workcal is Linli's working-time calendar (工作日历): the clock of
// case deadlines and service applications, which starts at dispatch (派遣)
// and runs only in working time.
//
// # The calendar
//
// A [Calendar] is built by [New] from a [Config], a JSON value that an
// administrator edits and the caller stores: the working periods of a day
// (by default 08:30–12:00 and 13:30–17:30), the normal working weekdays
// (Monday to Friday), and for each year the holidays (放假日) and make-up
// working days (调休上班). A date is a working day when it is a make-up
// day, or else when it is a normal working weekday and not a holiday.
// [Config.Validate] lists every problem with its field, its value and a
// message key in [Locales], in Chinese and English. All times are China
// Standard Time ([CST], a fixed UTC+8 zone); results come back in CST.
//
// Years without data count plain weekdays, with no holidays. [Calendar.Covers],
// [Calendar.Coverage] and [Calendar.Warnings] let callers warn "no holiday
// data for 2028", or that a year's data is provisional.
//
// # Counting rules
//
// Working time is the union of the periods of all working days, each
// period half-open: at 08:30:00 the clock runs, at 12:00:00 it has stopped.
//
// Working hours (工作时): [Calendar.AddHours] returns the earliest instant
// at which the given working time has elapsed since the start. A start
// outside working time (before opening, in the lunch break, after closing,
// on a weekend or holiday) counts from the next working moment. Because
// the earliest instant is chosen, a limit that exactly fills a period ends
// at the period's end: 3.5 h from 08:30 is 12:00 (not 13:30), and 7.5 h
// from 08:30 is 17:30 the same day (not 08:30 the next working day); 4 h
// from 08:30 is 14:00, after the lunch break. The arithmetic is exact to
// the nanosecond, so Between(s, AddHours(s, d)) == d, and pausing a clock
// from p to q moves a deadline to AddHours(deadline, Between(p, q)).
//
// Working days (工作日): [Calendar.AddDays] counts as Chinese offices and
// 民法典 article 201 do: the day of the start does not count, whatever its
// hour and whether or not it is a working day; the deadline is the close
// (the end of the last period) of the n-th working day after it.
// Dispatched on Friday at 16:00 with 1 working day, a case is due on
// Monday at 17:30; dispatched on 2026-02-13 with 2 working days, it is due
// on 2026-02-24 at 17:30 (the make-up Saturday 02-14 is the first, the
// Spring Festival holiday 02-15 to 02-23 is skipped). 0 days means the
// same day (当日).
//
// A [Limit] ("4工作时", "5工作日", "4h", "2d") picks one of the two rules;
// [ParseLimit] reads it and refuses units such as 小时 or 天 that may mean
// calendar time.
//
// Both operations take well under a microsecond: the number of working
// days before any date is a closed formula on weeks plus a binary search
// over the dates that the holidays and make-up days change, so no day is
// ever scanned.
//
// # Data sources
//
// [Default] ships 2026 from the State Council notice 国务院办公厅关于2026年部分
// 节假日安排的通知 (2025-11-04), and 2027 as provisional data derived from
// 《全国年节及纪念日放假办法》 (revised 2024-11-10) and computed lunar
// dates, because the 2027 notice was not available when it was written.
// See defaults.go for the details and update a year when its notice is
// published.
package workcal
