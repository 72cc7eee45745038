package workcal_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/workcal"
)

// at is a CST wall-clock time, e.g. at("2026-11-27 16:00").
func at(s string) time.Time {
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	t, err := time.ParseInLocation(layout, s, workcal.CST)
	if err != nil {
		panic(err)
	}
	return t
}

func show(t time.Time) string { return t.In(workcal.CST).Format("2006-01-02 15:04:05 Mon") }

func def(t *testing.T) *workcal.Calendar {
	t.Helper()
	c, err := workcal.New(workcal.Default())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAddHours(t *testing.T) {
	c := def(t)
	tests := []struct {
		name  string
		start string
		d     time.Duration
		want  string
	}{
		{"Friday afternoon runs into Monday", "2026-11-27 16:00", 4 * time.Hour, "2026-11-30 11:00"},
		{"lunch break is skipped", "2026-12-01 11:00", 2 * time.Hour, "2026-12-01 14:30"},
		{"start in the lunch break counts from 13:30", "2026-12-01 12:45", time.Hour, "2026-12-01 14:30"},
		{"start before opening counts from 08:30", "2026-12-01 07:00", time.Hour, "2026-12-01 09:30"},
		{"start after closing counts from next opening", "2026-12-01 18:00", time.Hour, "2026-12-02 09:30"},
		{"start on a Sunday", "2026-11-29 10:00", time.Hour, "2026-11-30 09:30"},
		{"start on a weekday holiday (国庆)", "2026-10-05 10:00", time.Hour, "2026-10-08 09:30"},
		{"start on a make-up Saturday (2026-10-10)", "2026-10-10 10:00", time.Hour, "2026-10-10 11:00"},
		{"make-up Saturday before 春节 (02-14) is a working day", "2026-02-13 16:00", 4 * time.Hour, "2026-02-14 11:00"},
		{"春节 2026 is skipped whole", "2026-02-14 16:00", 4 * time.Hour, "2026-02-24 11:00"},
		{"make-up Sunday before 国庆 (09-20)", "2026-09-18 17:00", time.Hour, "2026-09-20 09:00"},
		{"国庆 2026 is skipped, 10-08 follows 09-30", "2026-09-30 17:00", time.Hour, "2026-10-08 09:00"},
		{"fills the morning exactly: ends at 12:00, not 13:30", "2026-12-01 08:30", 210 * time.Minute, "2026-12-01 12:00"},
		{"fills the day exactly: ends at 17:30, not next 08:30", "2026-12-01 08:30", 450 * time.Minute, "2026-12-01 17:30"},
		{"fills Friday exactly: ends Friday 17:30", "2026-11-27 08:30", 450 * time.Minute, "2026-11-27 17:30"},
		{"from 12:00 exactly", "2026-12-01 12:00", 30 * time.Minute, "2026-12-01 14:00"},
		{"from 17:30 exactly on Friday", "2026-11-27 17:30", 450 * time.Minute, "2026-11-30 17:30"},
		{"two full days from an opening", "2026-12-01 08:30", 15 * time.Hour, "2026-12-02 17:30"},
		{"twenty minutes", "2026-12-01 08:30", 20 * time.Minute, "2026-12-01 08:50"},
		{"zero hours is the start itself", "2026-12-01 20:00", 0, "2026-12-01 20:00"},
		{"negative hours is the start itself", "2026-12-01 20:00", -3 * time.Hour, "2026-12-01 20:00"},
		{"year without data: 2028 National Day counts as working", "2028-09-29 17:00", time.Hour, "2028-10-02 09:00"},
		{"provisional 2027 春节 with 补假", "2027-02-04 17:00", time.Hour, "2027-02-11 09:00"},
		{"across the year end into provisional 2027", "2026-12-31 17:00", time.Hour, "2027-01-04 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddHours(at(tt.start), tt.d)
			if !got.Equal(at(tt.want)) {
				t.Errorf("AddHours(%s, %v) = %s, want %s", tt.start, tt.d, show(got), show(at(tt.want)))
			}
			if got.Location() != workcal.CST {
				t.Errorf("result in %v, want CST", got.Location())
			}
		})
	}
}

func TestAddToTheSecond(t *testing.T) {
	c := def(t)
	start := at("2026-12-01 12:00")
	if got, want := c.AddHours(start, time.Second), at("2026-12-01 13:30:01"); !got.Equal(want) {
		t.Errorf("1 s from 12:00 = %s, want %s", show(got), show(want))
	}
	start = at("2026-12-01 11:59:59")
	if got, want := c.AddHours(start, time.Second), at("2026-12-01 12:00"); !got.Equal(want) {
		t.Errorf("1 s from 11:59:59 = %s, want %s", show(got), show(want))
	}
	if got, want := c.AddHours(start, 2*time.Second), at("2026-12-01 13:30:01"); !got.Equal(want) {
		t.Errorf("2 s from 11:59:59 = %s, want %s", show(got), show(want))
	}
	// Nanoseconds survive.
	start = at("2026-12-01 09:00").Add(123 * time.Nanosecond)
	if got, want := c.AddHours(start, time.Hour), at("2026-12-01 10:00").Add(123*time.Nanosecond); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestAddInAnotherZone(t *testing.T) {
	c := def(t)
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) // 16:00 CST, a Friday
	if got, want := c.AddHours(start, 4*time.Hour), at("2026-11-30 11:00"); !got.Equal(want) {
		t.Errorf("got %s, want %s", show(got), show(want))
	}
	// 2026-09-30 12:00 at UTC−5 is 2026-10-01 01:00 CST, a holiday.
	if c.IsWorkday(time.Date(2026, 9, 30, 12, 0, 0, 0, time.FixedZone("", -5*3600))) {
		t.Error("the date must be taken in CST")
	}
}

func TestAddDays(t *testing.T) {
	c := def(t)
	tests := []struct {
		name  string
		start string
		days  int
		want  string
	}{
		{"Friday 16:00 + 1 → Monday close", "2026-11-27 16:00", 1, "2026-11-30 17:30"},
		{"Friday 07:00 + 1: the start day never counts", "2026-11-27 07:00", 1, "2026-11-30 17:30"},
		{"Saturday + 1 → Monday", "2026-11-28 10:00", 1, "2026-11-30 17:30"},
		{"Monday + 5 → next Monday", "2026-11-30 09:00", 5, "2026-12-07 17:30"},
		{"before 春节: make-up Saturday counts, holiday skipped", "2026-02-13 16:00", 2, "2026-02-24 17:30"},
		{"from the make-up Saturday", "2026-02-14 10:00", 1, "2026-02-24 17:30"},
		{"春节 then the make-up Saturday 02-28", "2026-02-12 09:00", 7, "2026-02-28 17:30"},
		{"in the holiday: first working day after", "2026-02-18 10:00", 1, "2026-02-24 17:30"},
		{"中秋 and 国庆 2026", "2026-09-24 10:00", 3, "2026-09-30 17:30"},
		{"over 国庆 to 10-08", "2026-09-30 10:00", 1, "2026-10-08 17:30"},
		{"over 国庆 to the make-up Saturday 10-10", "2026-09-30 10:00", 3, "2026-10-10 17:30"},
		{"make-up Sunday 09-20 counts", "2026-09-18 10:00", 1, "2026-09-20 17:30"},
		{"劳动节 2026 and make-up 05-09", "2026-04-30 10:00", 2, "2026-05-07 17:30"},
		{"劳动节 2026: 05-09 Saturday is the 4th", "2026-04-30 10:00", 4, "2026-05-09 17:30"},
		{"0 days before the close: same day", "2026-12-01 16:00", 0, "2026-12-01 17:30"},
		{"0 days at the close: next working day", "2026-12-01 17:30", 0, "2026-12-02 17:30"},
		{"0 days on a Sunday: Monday", "2026-11-29 10:00", 0, "2026-11-30 17:30"},
		{"20 working days across the year end", "2026-12-15 10:00", 20, "2027-01-13 17:30"},
		{"no data for 2028: weekdays only", "2028-09-29 10:00", 1, "2028-10-02 17:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddDays(at(tt.start), tt.days)
			if !got.Equal(at(tt.want)) {
				t.Errorf("AddDays(%s, %d) = %s, want %s", tt.start, tt.days, show(got), show(at(tt.want)))
			}
		})
	}
}

func TestBetween(t *testing.T) {
	c := def(t)
	tests := []struct {
		name string
		a, b string
		want time.Duration
	}{
		{"same period", "2026-12-01 09:00", "2026-12-01 10:15", 75 * time.Minute},
		{"over lunch", "2026-12-01 11:00", "2026-12-01 14:00", 90 * time.Minute},
		{"inside the lunch break", "2026-12-01 12:00", "2026-12-01 13:30", 0},
		{"whole day", "2026-12-01 00:00", "2026-12-02 00:00", 450 * time.Minute},
		{"Friday 16:00 to Monday 11:00", "2026-11-27 16:00", "2026-11-30 11:00", 4 * time.Hour},
		{"a weekend", "2026-11-28 00:00", "2026-11-30 00:00", 0},
		{"春节 2026 with both make-up Saturdays", "2026-02-13 08:30", "2026-03-01 00:00", 7 * 450 * time.Minute},
		{"国庆 2026 and make-up days", "2026-09-18 08:30", "2026-10-11 00:00", 12 * 450 * time.Minute},
		{"b before a", "2026-12-02 10:00", "2026-12-01 10:00", 0},
		{"b equal to a", "2026-12-01 10:00", "2026-12-01 10:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Between(at(tt.a), at(tt.b)); got != tt.want {
				t.Errorf("Between(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestPauseAddsBackWorkingTime follows a deferral: the clock stops for
// the working time of the pause, so the deadline moves by exactly that.
func TestPauseAddsBackWorkingTime(t *testing.T) {
	c := def(t)
	start := at("2026-12-01 09:00")
	deadline := c.AddHours(start, 8*time.Hour) // Wednesday 09:30
	paused := c.Between(at("2026-12-01 15:00"), at("2026-12-02 09:00"))
	if paused != 3*time.Hour {
		t.Fatalf("paused %v, want 3h", paused)
	}
	if got, want := c.AddHours(deadline, paused), at("2026-12-02 14:00"); !got.Equal(want) {
		t.Errorf("new deadline %s, want %s", show(got), show(want))
	}
}

func TestIsWorkingTime(t *testing.T) {
	c := def(t)
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-12-01 08:29:59", false},
		{"2026-12-01 08:30", true},
		{"2026-12-01 11:59:59", true},
		{"2026-12-01 12:00", false},
		{"2026-12-01 13:30", true},
		{"2026-12-01 17:29:59", true},
		{"2026-12-01 17:30", false},
		{"2026-11-28 10:00", false}, // Saturday
		{"2026-10-10 10:00", true},  // make-up Saturday
		{"2026-10-08 10:00", true},  // first day after 国庆
		{"2026-10-07 10:00", false}, // 国庆
		{"2026-01-04 10:00", true},  // make-up Sunday after 元旦
	}
	for _, tt := range tests {
		if got := c.IsWorkingTime(at(tt.at)); got != tt.want {
			t.Errorf("IsWorkingTime(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

// TestOfficial2026 checks every working day of 2026 that the notice
// changes, and the count of working days in the year.
func TestOfficial2026(t *testing.T) {
	c := def(t)
	off := []string{
		"2026-01-01", "2026-01-02",
		"2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23",
		"2026-04-06", "2026-05-01", "2026-05-04", "2026-05-05", "2026-06-19", "2026-09-25",
		"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07",
	}
	on := []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
	for _, d := range off {
		if c.IsWorkday(at(d + " 12:00")) {
			t.Errorf("%s should be a holiday", d)
		}
	}
	for _, d := range on {
		if !c.IsWorkday(at(d + " 12:00")) {
			t.Errorf("%s should be a make-up working day", d)
		}
	}
	// 261 weekdays in 2026, 19 of them off, 6 make-up days: 248.
	n := 0
	for d := at("2026-01-01 12:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	if n != 248 {
		t.Errorf("%d working days in 2026, want 248", n)
	}
}

func TestProvisional2027(t *testing.T) {
	c := def(t)
	for _, d := range []string{"2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
		"2027-04-05", "2027-05-03", "2027-05-04", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-07"} {
		if c.IsWorkday(at(d + " 12:00")) {
			t.Errorf("%s should be a provisional holiday", d)
		}
	}
	for _, d := range []string{"2027-02-04", "2027-02-11", "2027-05-05", "2027-10-08"} {
		if !c.IsWorkday(at(d + " 12:00")) {
			t.Errorf("%s should be a working day", d)
		}
	}
}

func TestDay(t *testing.T) {
	c := def(t)
	tests := []struct {
		at   string
		want workcal.DayInfo
	}{
		{"2026-10-03 10:00", workcal.DayInfo{Date: "2026-10-03", Holiday: true, Name: "国庆节"}},
		{"2026-10-10 10:00", workcal.DayInfo{Date: "2026-10-10", Working: true, Makeup: true, Name: "国庆节"}},
		{"2026-12-01 10:00", workcal.DayInfo{Date: "2026-12-01", Working: true}},
		{"2026-12-05 10:00", workcal.DayInfo{Date: "2026-12-05"}},
	}
	for _, tt := range tests {
		if got := c.Day(at(tt.at)); got != tt.want {
			t.Errorf("Day(%s) = %+v, want %+v", tt.at, got, tt.want)
		}
	}
}

func TestCoverage(t *testing.T) {
	c := def(t)
	if !c.Covers(2026) || !c.Covers(2027) || c.Covers(2028) || c.Covers(2025) {
		t.Errorf("Covers: 2025 %v 2026 %v 2027 %v 2028 %v", c.Covers(2025), c.Covers(2026), c.Covers(2027), c.Covers(2028))
	}
	if c.Coverage(2026) != workcal.Official || c.Coverage(2027) != workcal.Provisional || c.Coverage(2028) != workcal.NoData {
		t.Errorf("Coverage: %v %v %v", c.Coverage(2026), c.Coverage(2027), c.Coverage(2028))
	}
	got := c.Warnings(at("2026-12-20 10:00"), at("2028-01-05 10:00"))
	want := []workcal.YearWarning{{2027, workcal.Provisional}, {2028, workcal.NoData}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Warnings = %v, want %v", got, want)
	}
	if w := c.Warnings(at("2026-03-01 10:00"), at("2026-04-01 10:00")); len(w) != 0 {
		t.Errorf("Warnings inside 2026 = %v, want none", w)
	}
	if got := c.Years(); len(got) != 2 || got[0] != 2026 || got[1] != 2027 {
		t.Errorf("Years = %v", got)
	}
}

// TestCalendarIsImmutable: editing the Config a calendar was built from,
// or the copy it returns, changes nothing.
func TestCalendarIsImmutable(t *testing.T) {
	cfg := workcal.Default()
	c, err := workcal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Periods[0].Start = "00:00"
	cfg.Years[0].Holidays[6].To = "2026-10-01"
	got := c.Config()
	got.Years[0].MakeupDays = nil
	if c.IsWorkingTime(at("2026-12-01 08:00")) || c.IsWorkday(at("2026-10-05 10:00")) || !c.IsWorkday(at("2026-10-10 10:00")) {
		t.Error("the calendar changed with its config")
	}
	if c.Config().Years[0].MakeupDays == nil {
		t.Error("Config returned shared data")
	}
}

func TestConcurrentUse(t *testing.T) {
	c := workcal.DefaultCalendar()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			start := at("2026-09-01 09:00").Add(time.Duration(g) * 7 * time.Hour)
			for i := range 500 {
				d := time.Duration(i) * 17 * time.Minute
				end := c.AddHours(start, d)
				if got := c.Between(start, end); got != d {
					t.Errorf("Between = %v, want %v", got, d)
					return
				}
				c.AddDays(start, i%30)
				c.IsWorkingTime(end)
			}
		})
	}
	wg.Wait()
}

// TestCustomCalendar: three periods, one ending at midnight, and a six-day
// week.
func TestCustomCalendar(t *testing.T) {
	c, err := workcal.New(workcal.Config{
		Periods:  []workcal.Period{{"08:00", "12:00"}, {"14:00", "18:00"}, {"20:00", "24:00"}},
		Workweek: []string{"mon", "tue", "wed", "thu", "fri", "sat"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.AddHours(at("2026-12-05 21:00"), 3*time.Hour), at("2026-12-06 00:00"); !got.Equal(want) {
		t.Errorf("Saturday 21:00 + 3h = %s, want %s (the end of the last period)", show(got), show(want))
	}
	if got, want := c.AddHours(at("2026-12-05 21:00"), 4*time.Hour), at("2026-12-07 09:00"); !got.Equal(want) {
		t.Errorf("Saturday 21:00 + 4h = %s, want %s", show(got), show(want))
	}
	if got, want := c.AddDays(at("2026-12-04 10:00"), 1), at("2026-12-06 00:00"); !got.Equal(want) {
		t.Errorf("Friday + 1 day = %s, want %s (Saturday's close)", show(got), show(want))
	}
	if got := c.Between(at("2026-12-05 00:00"), at("2026-12-07 00:00")); got != 12*time.Hour {
		t.Errorf("Saturday and Sunday = %v, want 12h", got)
	}
}

// TestExtremeInputs: absurd inputs give an answer, not a panic, an
// overflow or an endless loop.
func TestExtremeInputs(t *testing.T) {
	c := def(t)
	start := at("2026-12-01 10:00")
	if got := c.AddHours(start, time.Duration(math.MaxInt64)); !got.After(start.AddDate(200, 0, 0)) {
		t.Errorf("AddHours(max) = %s", show(got))
	}
	inf := workcal.Limit{Amount: math.Inf(1), Unit: workcal.Hours}.Duration()
	if got := c.AddHours(start, inf); !got.After(start.AddDate(200, 0, 0)) {
		t.Errorf("AddHours(+Inf h) = %s", show(got))
	}
	if d := (workcal.Limit{Amount: math.NaN(), Unit: workcal.Hours}).Duration(); d != 0 {
		t.Errorf("NaN hours = %v", d)
	}
	if got := c.AddDays(start, math.MaxInt); !got.After(start.AddDate(1000, 0, 0)) {
		t.Errorf("AddDays(MaxInt) = %s", show(got))
	}
	if got := c.Between(time.Time{}, start); got != time.Duration(math.MaxInt64) {
		t.Errorf("Between(zero time, now) = %v, want the saturated maximum", got)
	}
	if got, want := c.Between(time.Time{}, time.Time{}.Add(30*24*time.Hour)), 22*450*time.Minute; got != want {
		// 0001-01-01 was a Monday; its 30 days hold 22 weekdays.
		t.Errorf("Between in year 1 = %v, want %v", got, want)
	}
}

// WorkTime is the interface the cases module runs its deadlines on; the
// calendar must keep satisfying it.
var _ interface {
	AddHours(start time.Time, d time.Duration) time.Time
	AddDays(start time.Time, n int) time.Time
	Between(a, b time.Time) time.Duration
} = (*workcal.Calendar)(nil)
