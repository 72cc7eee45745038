package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/civic"
	"github.com/linli/linli/internal/services"
)

// at is a China-time instant written "2006-01-02 15:04".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, local)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// seedFacilities gives the first community an activity room (weekdays
// 9–11, one booking a slot) and the second a shared day-care centre
// (every day 14–16, ten seats), booked in December for January as staff
// would book them: some bookings hold, one is cancelled, one falls on a
// day the room is then closed, one is in February.
func (f *fixture) seedFacilities(t testing.TB) {
	t.Helper()
	f.accounts(t, 1, 2) // bookings name the staff who book
	f.now = at(t, "2025-12-20 10:00")
	weekdays := services.Hours{1: {"09:00-11:00"}, 2: {"09:00-11:00"}, 3: {"09:00-11:00"}, 4: {"09:00-11:00"}, 5: {"09:00-11:00"}}
	var daily services.Hours
	for wd := range daily {
		daily[wd] = []string{"14:00-16:00"}
	}
	room := f.facility(t, f.staff, services.FacilityInput{Community: f.comms[0].Code, Name: "活动室", Kind: services.ActivityRoom,
		Capacity: 20, SlotMinutes: 60, Hours: weekdays})
	care := f.facility(t, f.other, services.FacilityInput{Community: f.comms[1].Code, Name: "日间照料中心", Kind: services.DayCare,
		Capacity: 10, Shared: true, SlotMinutes: 60, Hours: daily})
	for _, s := range []string{"2026-01-05 09:00", "2026-01-06 09:00", "2026-01-07 10:00", "2026-02-03 09:00"} {
		f.book(t, f.staff, room, s, 1)
	}
	cancelled := f.book(t, f.staff, room, "2026-01-08 09:00", 1)
	if _, err := f.services.MoveBooking(f.staff, cancelled.ID, services.ActCancel, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.services.Block(f.staff, room, "2026-01-05", "设备维修"); err != nil {
		t.Fatal(err)
	}
	f.book(t, f.other, care, "2026-01-10 14:00", 3)
	f.book(t, f.other, care, "2026-01-10 15:00", 4)
	f.now = start
}

// accounts adds the login rows of the fixture's staff with these ids.
func (f *fixture) accounts(t testing.TB, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		f.exec(t, `INSERT INTO users (id, name, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $2, 'x', $3, $3)`,
			id, fmt.Sprintf("staff%d", id), f.now)
	}
}

func (f *fixture) facility(t testing.TB, ctx context.Context, in services.FacilityInput) int64 {
	t.Helper()
	fac, err := f.services.CreateFacility(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return fac.ID
}

func (f *fixture) book(t testing.TB, ctx context.Context, facility int64, slot string, places int) services.Booking {
	t.Helper()
	bs, err := f.services.Book(ctx, services.BookingInput{Facility: facility, Start: at(t, slot), Places: places})
	if err != nil {
		t.Fatalf("%s: %v", slot, err)
	}
	return bs[0]
}

// seedNotices publishes the communities' notices as their staff would:
// the first community's subsidies list last in November (so that it is
// overdue by the end of January), its accounts and services in January
// and a correction of the accounts; the second community's accounts in
// January and its work plan in February.
func (f *fixture) seedNotices(t testing.TB) {
	t.Helper()
	f.publish(t, f.staff, f.comms[0], "2025-11-10 10:00", "subsidies")
	accounts := f.publish(t, f.staff, f.comms[0], "2026-01-15 10:00", "finances")
	f.publish(t, f.staff, f.comms[0], "2026-01-20 10:00", "services")
	f.now = at(t, "2026-01-25 10:00")
	if _, err := f.civic.Correct(f.staff, accounts.ID, civic.NoticeInput{Title: "一月财务公开（更正）", Body: "更正后的收支明细。",
		Reason: "一笔支出金额录错"}); err != nil {
		t.Fatal(err)
	}
	f.publish(t, f.other, f.comms[1], "2026-01-05 10:00", "finances")
	f.publish(t, f.other, f.comms[1], "2026-02-05 10:00", "work_plans")
	f.now = start
}

func (f *fixture) publish(t testing.TB, ctx context.Context, c area.Area, when, category string) civic.Version {
	t.Helper()
	f.now = at(t, when)
	v, err := f.civic.Publish(ctx, civic.NoticeInput{Community: c.Code, Category: category, Title: category + " " + when,
		Body: "本期公开内容。"})
	if err != nil {
		t.Fatalf("%s %s: %v", category, when, err)
	}
	f.now = start
	return v
}

// recomputeFacilityUse works out seats booked / seats offered from the
// raw rows: each open day of each active facility offers its opening
// hours cut into slots, a slot one booking of a room or the capacity of a
// shared facility; a booking counts while pending, confirmed or used.
func (f *fixture) recomputeFacilityUse(t testing.TB, c area.Area, from, to string) Figure {
	t.Helper()
	ctx := context.Background()
	q := f.db.Q(ctx)
	rows, err := q.QueryContext(ctx, `SELECT id, hours, slot_minutes, capacity, shared FROM service_facilities WHERE area_id = $1 AND active = TRUE`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	type facility struct {
		id, slot, capacity int64
		shared             bool
		hours              [7][]string
	}
	var facs []facility
	for rows.Next() {
		var fc facility
		var hours string
		if err := rows.Scan(&fc.id, &hours, &fc.slot, &fc.capacity, &fc.shared); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(hours), &fc.hours); err != nil {
			t.Fatal(err)
		}
		facs = append(facs, fc)
	}
	rows.Close()
	offered := 0.0
	for _, fc := range facs {
		seats := 1.0
		if fc.shared {
			seats = float64(fc.capacity)
		}
		for d := f.startOf(from).In(local); d.Before(f.endOf(to)); d = d.AddDate(0, 0, 1) {
			if f.count(t, `SELECT COUNT(*) FROM service_facility_days WHERE facility_id = $1 AND day = $2 AND blocked = TRUE`,
				fc.id, d.Format(time.DateOnly)) > 0 {
				continue
			}
			for _, span := range fc.hours[d.Weekday()] {
				var h1, m1, h2, m2 int64
				if _, err := fmt.Sscanf(span, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil {
					t.Fatal(err)
				}
				offered += float64((h2*60+m2-h1*60-m1)/fc.slot) * seats
			}
		}
	}
	var taken float64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(b.places), 0) FROM service_bookings b JOIN service_facilities x ON x.id = b.facility_id
		WHERE x.area_id = $1 AND b.slot_start >= $2 AND b.slot_start < $3 AND b.state IN ('pending', 'confirmed', 'attended', 'no_show')`,
		c.ID, f.startOf(from), f.endOf(to)).Scan(&taken); err != nil {
		t.Fatal(err)
	}
	return ratioFigure(FigFacilityUse, taken, offered)
}

// cadenceMonths is the default disclosure plan's periodic categories (the
// fixture sets no plan of its own, and takes no decisions, so nothing is
// due after a decision).
var cadenceMonths = map[string]int{"finances": 1, "subsidies": 1, "services": 3, "work_plans": 6, "evaluations": 12}

// recomputeDisclosure works out notices published / (published + overdue)
// from the raw rows. Published: first versions in the period. Overdue at
// the period's end: a category whose next notice was due by then — by the
// end of the cadence period after the one of its latest notice, or with
// none, by the end of the period the community was created in.
func (f *fixture) recomputeDisclosure(t testing.TB, c area.Area, from, to string) Figure {
	t.Helper()
	ctx := context.Background()
	end := f.endOf(to)
	published := f.count(t, `SELECT COUNT(*) FROM civic_notice_versions WHERE area_id = $1 AND version = 1 AND published_at >= $2 AND published_at < $3`,
		c.ID, f.startOf(from), end)
	var created time.Time
	if err := f.db.Q(ctx).QueryRowContext(ctx, `SELECT created_at FROM areas WHERE id = $1`, c.ID).Scan(&created); err != nil {
		t.Fatal(err)
	}
	overdue := 0
	for category, months := range cadenceMonths {
		var last time.Time
		err := f.db.Q(ctx).QueryRowContext(ctx, `SELECT published_at FROM civic_notice_versions WHERE area_id = $1 AND category = $2
			ORDER BY published_at DESC LIMIT 1`, c.ID, category).Scan(&last)
		due := cadenceStart(created, months).AddDate(0, months, 0)
		switch {
		case err == nil:
			due = cadenceStart(last, months).AddDate(0, 2*months, 0)
		case !errors.Is(err, sql.ErrNoRows):
			t.Fatal(err)
		}
		if !end.Before(due) {
			overdue++
		}
	}
	return ratioFigure(FigDisclosure, float64(published), float64(published+overdue))
}

// cadenceStart is the first day (China time) of the months-long stretch
// of the calendar year that holds t.
func cadenceStart(t time.Time, months int) time.Time {
	t = t.In(local)
	return time.Date(t.Year(), time.Month((int(t.Month())-1)/months*months+1), 1, 0, 0, 0, 0, local)
}

// ratioFigure is a rate figure as the card should show it.
func ratioFigure(key FigureKey, num, den float64) Figure {
	if den == 0 {
		return Figure{Key: key}
	}
	return Figure{Key: key, Value: num / den, Score: num / den, Data: true}
}
