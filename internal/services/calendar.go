package services

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Slot is one slot of a facility's calendar with the bookings it holds.
type Slot struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Seats    int       `json:"seats"`
	Taken    int       `json:"taken"`
	Past     bool      `json:"past"`
	Bookings []Booking `json:"bookings"`
}

// Free is how many seats are left.
func (s Slot) Free() int { return s.Seats - s.Taken }

// Day is one day of a facility's calendar.
type Day struct {
	Date    string `json:"date"`
	Weekday int    `json:"weekday"`
	Blocked bool   `json:"blocked"`
	Reason  string `json:"reason,omitempty"`
	Slots   []Slot `json:"slots"`
}

// FacilityCalendar is a facility's slots over some days.
type FacilityCalendar struct {
	Facility Facility `json:"facility"`
	Days     []Day    `json:"days"`
}

// maxCalendarDays bounds one calendar view.
const maxCalendarDays = 31

// parseDay reads a YYYY-MM-DD local day; "" is today.
func (s *Service) parseDay(field, day string) (time.Time, error) {
	if day == "" {
		n := s.now().In(local)
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, local), nil
	}
	d, err := time.ParseInLocation("2006-01-02", day, local)
	if err != nil {
		return time.Time{}, errs.OnField(field, "err.services.day_format", day)
	}
	return d, nil
}

// Calendar returns a facility's slots from the day from for days days
// (default 7), each with its free seats and bookings; bookers of other
// people's bookings are masked unless the caller may read the desk's
// records there.
func (s *Service) FacilityCalendar(ctx context.Context, facilityID int64, from string, days int) (FacilityCalendar, error) {
	f, err := s.Facility(ctx, facilityID)
	if err != nil {
		return FacilityCalendar{}, err
	}
	start, err := s.parseDay("from", from)
	if err != nil {
		return FacilityCalendar{}, err
	}
	if days <= 0 {
		days = 7
	}
	if days > maxCalendarDays {
		return FacilityCalendar{}, errs.OnField("days", "err.services.calendar_days", maxCalendarDays)
	}
	end := start.AddDate(0, 0, days)
	cal := FacilityCalendar{Facility: f}
	blocked, err := s.blockedDays(ctx, f.ID, start, end)
	if err != nil {
		return cal, err
	}
	bookings, err := db.All(ctx, s.db.Q(ctx), scanBooking, `SELECT `+bookingCols+` FROM service_bookings b
		JOIN service_facilities f ON f.id = b.facility_id
		WHERE b.facility_id = $1 AND b.slot_start >= $2 AND b.slot_start < $3 AND b.state IN ('pending', 'confirmed', 'attended', 'no_show')
		ORDER BY b.slot_start, b.id`, f.ID, start.UTC(), end.UTC())
	if err != nil {
		return cal, err
	}
	p := auth.From(ctx)
	byStart := map[int64][]Booking{}
	for _, b := range bookings {
		byStart[b.Start.Unix()] = append(byStart[b.Start.Unix()], shown(p, b))
	}
	now := s.now()
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		date := d.Format("2006-01-02")
		day := Day{Date: date, Weekday: int(d.Weekday()), Slots: []Slot{}}
		day.Reason, day.Blocked = blocked[date]
		for _, st := range f.slotsOn(d) {
			sl := Slot{Start: st.UTC(), End: st.Add(time.Duration(f.SlotMinutes) * time.Minute).UTC(), Seats: f.seatsPerSlot(),
				Past: !st.After(now), Bookings: byStart[st.Unix()]}
			for _, b := range sl.Bookings {
				if holding(b.State) {
					sl.Taken += b.Places
				}
			}
			day.Slots = append(day.Slots, sl)
		}
		cal.Days = append(cal.Days, day)
	}
	return cal, nil
}

func (s *Service) blockedDays(ctx context.Context, facilityID int64, from, to time.Time) (map[string]string, error) {
	type row struct{ day, reason string }
	rows, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.day, &x.reason)
	}, `SELECT day, reason FROM service_facility_days WHERE facility_id = $1 AND blocked = TRUE AND day >= $2 AND day < $3`,
		facilityID, from.Format("2006-01-02"), to.Format("2006-01-02"))
	out := map[string]string{}
	for _, r := range rows {
		out[r.day] = r.reason
	}
	return out, err
}

// CommunityDay is every facility of a community on one day.
type CommunityDay struct {
	Community string             `json:"community"`
	Date      string             `json:"date"`
	Calendars []FacilityCalendar `json:"facilities"`
}

// CommunityCalendar shows one day of every facility of a community.
func (s *Service) CommunityCalendar(ctx context.Context, community, day string) (CommunityDay, error) {
	d, err := s.parseDay("day", day)
	if err != nil {
		return CommunityDay{}, err
	}
	page, err := s.Facilities(ctx, FacilityQuery{Community: community, Limit: 200})
	if err != nil {
		return CommunityDay{}, err
	}
	out := CommunityDay{Community: community, Date: d.Format("2006-01-02"), Calendars: []FacilityCalendar{}}
	for _, f := range page.Items {
		if !f.Active {
			continue
		}
		cal, err := s.FacilityCalendar(ctx, f.ID, out.Date, 1)
		if err != nil {
			return out, errs.Wrap(err, "err.internal")
		}
		out.Calendars = append(out.Calendars, cal)
	}
	return out, nil
}
