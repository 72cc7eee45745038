package cases_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/workcal"
)

// An administrator adds a day off to 2027; deadlines computed afterwards
// skip it, on this node at once and on another node through its watch.
func TestEditingAYearOfTheCalendar(t *testing.T) {
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			d := dbtest.Open(t, dsn)
			f := setup(t, d)
			here := cases.NewCalendars(d, audit.New(d, nil), time.Now)
			other := cases.NewCalendars(dbtest.Open(t, dsn), audit.New(d, nil), time.Now)
			for _, c := range []*cases.Calendars{here, other} {
				if err := c.Load(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go other.Watch(ctx, 20*time.Millisecond, slog.Default())

			friday := time.Date(2027, 2, 26, 10, 0, 0, 0, workcal.CST)
			if got := here.AddDays(friday, 1); got.Day() != 1 || got.Month() != 3 {
				t.Fatalf("before the edit, one working day after Fri 26 Feb is %v", got)
			}
			y, _, err := here.Year(2027)
			if err != nil {
				t.Fatal(err)
			}
			bad := y
			bad.MakeupDays = append(bad.MakeupDays, workcal.Span{Name: "x", From: "2027-03-03"}) // a Wednesday
			if err := here.SaveYear(system, bad); errs.CodeOf(err) != errs.Invalid {
				t.Fatalf("a make-up day on a weekday: %v", err)
			}
			if err := here.SaveYear(f.as["staff"], y); errs.CodeOf(err) != errs.Forbidden {
				t.Fatalf("community staff editing the calendar: %v", err)
			}
			y.Holidays = append(y.Holidays, workcal.Span{Name: "试验假日", From: "2027-03-01"})
			y.Provisional, y.Source = false, "test"
			if err := here.SaveYear(system, y); err != nil {
				t.Fatal(err)
			}
			if got := here.AddDays(friday, 1); got.Day() != 2 {
				t.Fatalf("after the edit, one working day after Fri 26 Feb is %v, want Tue 2 Mar", got)
			}
			deadline := time.Now().Add(5 * time.Second)
			for other.AddDays(friday, 1).Day() != 2 {
				if time.Now().After(deadline) {
					t.Fatal("the other node never picked up the edited year")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
