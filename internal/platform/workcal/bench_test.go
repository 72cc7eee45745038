package workcal_test

import (
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/workcal"
)

// starts spread over the covered years, at varied hours.
func benchStarts() []time.Time {
	out := make([]time.Time, 256)
	base := at("2026-01-01 00:00")
	for i := range out {
		out[i] = base.Add(time.Duration(i*i*7919%(700*24*60)) * time.Minute)
	}
	return out
}

func BenchmarkAddHours(b *testing.B) {
	c, starts := workcal.DefaultCalendar(), benchStarts()
	i := 0
	for b.Loop() {
		c.AddHours(starts[i%len(starts)], time.Duration(i%40)*time.Hour+30*time.Minute) // up to ~5 working days
		i++
	}
}

func BenchmarkAddHoursLong(b *testing.B) {
	c, starts := workcal.DefaultCalendar(), benchStarts()
	i := 0
	for b.Loop() {
		c.AddHours(starts[i%len(starts)], 1000*time.Hour) // about 133 working days
		i++
	}
}

func BenchmarkAddDays(b *testing.B) {
	c, starts := workcal.DefaultCalendar(), benchStarts()
	i := 0
	for b.Loop() {
		c.AddDays(starts[i%len(starts)], 1+i%20)
		i++
	}
}

func BenchmarkBetween(b *testing.B) {
	c, starts := workcal.DefaultCalendar(), benchStarts()
	i := 0
	for b.Loop() {
		c.Between(starts[i%len(starts)], starts[(i+1)%len(starts)])
		i++
	}
}

func BenchmarkIsWorkingTime(b *testing.B) {
	c, starts := workcal.DefaultCalendar(), benchStarts()
	i := 0
	for b.Loop() {
		c.IsWorkingTime(starts[i%len(starts)])
		i++
	}
}
