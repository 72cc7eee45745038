package workcal_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/workcal"
)

// ref is a slow, obviously correct model of a calendar: it walks day by
// day with time.Date, and knows the working days from the Config by
// listing them, sharing no code with the package.
type ref struct {
	periods  [][2]time.Duration
	week     map[time.Weekday]bool
	holiday  map[string]bool
	makeup   map[string]bool
	lastEnds time.Duration
}

func newRef(t *testing.T, cfg workcal.Config) *ref {
	t.Helper()
	r := &ref{week: map[time.Weekday]bool{}, holiday: map[string]bool{}, makeup: map[string]bool{}}
	clock := func(s string) time.Duration {
		var h, m int
		if _, err := fmtSscanf(s, &h, &m); err != nil {
			t.Fatalf("ref: %q: %v", s, err)
		}
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	}
	for _, p := range cfg.Periods {
		r.periods = append(r.periods, [2]time.Duration{clock(p.Start), clock(p.End)})
		r.lastEnds = clock(p.End)
	}
	names := map[string]time.Weekday{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	for _, w := range cfg.Workweek {
		r.week[names[w]] = true
	}
	each := func(spans []workcal.Span, into map[string]bool) {
		for _, s := range spans {
			from, _ := time.Parse(time.DateOnly, s.From)
			to := from
			if s.To != "" {
				to, _ = time.Parse(time.DateOnly, s.To)
			}
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				into[d.Format(time.DateOnly)] = true
			}
		}
	}
	for _, y := range cfg.Years {
		each(y.Holidays, r.holiday)
		each(y.MakeupDays, r.makeup)
	}
	return r
}

func (r *ref) workday(midnight time.Time) bool {
	d := midnight.Format(time.DateOnly)
	return r.makeup[d] || (r.week[midnight.Weekday()] && !r.holiday[d])
}

func midnight(t time.Time) time.Time {
	t = t.In(workcal.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, workcal.CST)
}

func (r *ref) between(a, b time.Time) time.Duration {
	var sum time.Duration
	for day := midnight(a); day.Before(b); day = day.AddDate(0, 0, 1) {
		if !r.workday(day) {
			continue
		}
		for _, p := range r.periods {
			s, e := day.Add(p[0]), day.Add(p[1])
			if a.After(s) {
				s = a
			}
			if b.Before(e) {
				e = b
			}
			if e.After(s) {
				sum += e.Sub(s)
			}
		}
	}
	return sum
}

func (r *ref) add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	for day := midnight(start); ; day = day.AddDate(0, 0, 1) {
		if !r.workday(day) {
			continue
		}
		for _, p := range r.periods {
			s, e := day.Add(p[0]), day.Add(p[1])
			if start.After(s) {
				s = start
			}
			if !e.After(s) {
				continue
			}
			if avail := e.Sub(s); d <= avail {
				return s.Add(d)
			} else {
				d -= avail
			}
		}
	}
}

func (r *ref) addDays(start time.Time, n int) time.Time {
	day := midnight(start)
	if n <= 0 {
		if r.workday(day) && start.Before(day.Add(r.lastEnds)) {
			return day.Add(r.lastEnds)
		}
		n = 1
	}
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if r.workday(day) {
			n--
		}
	}
	return day.Add(r.lastEnds)
}

// calendars under test: the shipped one, and one with touching periods,
// a six-day week, a period ending at midnight, and a make-up Sunday.
func propertyConfigs() map[string]workcal.Config {
	odd := workcal.Config{
		Periods:  []workcal.Period{{"07:00", "09:00"}, {"09:00", "11:15"}, {"15:45", "16:00"}, {"22:00", "24:00"}},
		Workweek: []string{"tue", "wed", "thu", "fri", "sat", "mon"},
		Years: []workcal.Year{{
			Year:       2026,
			Holidays:   []workcal.Span{{"", "2026-03-03", "2026-03-12"}, {"", "2026-12-31", ""}},
			MakeupDays: []workcal.Span{{"", "2026-03-15", ""}, {"", "2026-12-27", ""}},
		}},
	}
	return map[string]workcal.Config{"default": workcal.Default(), "odd": odd}
}

// randomStart returns an instant from mid-2025 to mid-2028 (covering no
// data, official and provisional years); one in three is exactly on a
// period boundary or midnight, where off-by-one mistakes live.
func randomStart(rng *rand.Rand, cfg workcal.Config) time.Time {
	base := time.Date(2025, 7, 1, 0, 0, 0, 0, workcal.CST)
	day := base.AddDate(0, 0, rng.IntN(3*365))
	if rng.IntN(3) == 0 {
		p := cfg.Periods[rng.IntN(len(cfg.Periods))]
		s := p.Start
		if rng.IntN(2) == 0 {
			s = p.End
		}
		var h, m int
		fmtSscanf(s, &h, &m)
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	return day.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
}

// randomDuration is up to 300 working hours; half are whole quarter-hours,
// which end exactly on period boundaries more often.
func randomDuration(rng *rand.Rand) time.Duration {
	if rng.IntN(2) == 0 {
		return time.Duration(rng.IntN(1200)) * 15 * time.Minute
	}
	return time.Duration(rng.Int64N(int64(300 * time.Hour)))
}

func TestAddBetweenRoundTrip(t *testing.T) {
	for name, cfg := range propertyConfigs() {
		t.Run(name, func(t *testing.T) {
			c, err := workcal.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := newRef(t, cfg)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 3000 {
				start, d := randomStart(rng, cfg), randomDuration(rng)
				end := c.AddHours(start, d)
				if got := c.Between(start, end); got != d {
					t.Fatalf("#%d Between(%s, AddHours(…, %v) = %s) = %v", i, show(start), d, show(end), got)
				}
				if want := r.add(start, d); !end.Equal(want) {
					t.Fatalf("#%d AddHours(%s, %v) = %s, model says %s", i, show(start), d, show(end), show(want))
				}
				if d > 0 && !c.IsWorkingTime(end.Add(-time.Nanosecond)) {
					t.Fatalf("#%d AddHours(%s, %v) = %s, but the instant before it is not working time", i, show(start), d, show(end))
				}
				// Monotonic in the duration and in the start.
				d2 := d + time.Duration(rng.Int64N(int64(10*time.Hour)))
				if end2 := c.AddHours(start, d2); end2.Before(end) {
					t.Fatalf("#%d AddHours(%s, %v) = %s is before AddHours(…, %v) = %s", i, show(start), d2, show(end2), d, show(end))
				}
				later := start.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
				if end3 := c.AddHours(later, d); end3.Before(end) {
					t.Fatalf("#%d a later start %s gave an earlier result %s < %s", i, show(later), show(end3), show(end))
				}
			}
		})
	}
}

func TestBetweenMatchesModel(t *testing.T) {
	for name, cfg := range propertyConfigs() {
		t.Run(name, func(t *testing.T) {
			c, err := workcal.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := newRef(t, cfg)
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range 3000 {
				a := randomStart(rng, cfg)
				b := randomStart(rng, cfg)
				if rng.IntN(2) == 0 {
					b = a.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
				}
				want := time.Duration(0)
				if b.After(a) {
					want = r.between(a, b)
				}
				if got := c.Between(a, b); got != want {
					t.Fatalf("#%d Between(%s, %s) = %v, model says %v", i, show(a), show(b), got, want)
				}
			}
		})
	}
}

func TestAddDaysMatchesModel(t *testing.T) {
	for name, cfg := range propertyConfigs() {
		t.Run(name, func(t *testing.T) {
			c, err := workcal.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := newRef(t, cfg)
			rng := rand.New(rand.NewPCG(5, 6))
			for i := range 3000 {
				start, n := randomStart(rng, cfg), rng.IntN(40)
				got := c.AddDays(start, n)
				if want := r.addDays(start, n); !got.Equal(want) {
					t.Fatalf("#%d AddDays(%s, %d) = %s, model says %s", i, show(start), n, show(got), show(want))
				}
				if n > 0 && !c.AddDays(start, n+1).After(got) {
					t.Fatalf("#%d AddDays is not increasing in n at %s, %d", i, show(start), n)
				}
			}
		})
	}
}

func fmtSscanf(s string, h, m *int) (int, error) { return fmt.Sscanf(s, "%d:%d", h, m) }
