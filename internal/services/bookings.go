package services

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// BookingState is where a booking stands.
type BookingState string

const (
	Pending   BookingState = "pending"   // waiting for staff approval
	Confirmed BookingState = "confirmed" // the slot is the booker's
	Refused   BookingState = "refused"
	Cancelled BookingState = "cancelled"
	Attended  BookingState = "attended"
	NoShow    BookingState = "no_show"
)

// holding reports whether a booking in state s holds its seats: until it
// is refused or cancelled (an attended slot stays used).
func holding(s BookingState) bool { return s != Refused && s != Cancelled }

// BookingAction is a step on a booking.
type BookingAction string

const (
	ActApprove BookingAction = "approve"
	ActRefuse  BookingAction = "refuse"
	ActCancel  BookingAction = "cancel"
	ActAttend  BookingAction = "attend"
	ActNoShow  BookingAction = "no_show"
)

// bookingMove is one allowed transition.
type bookingMove struct {
	from       []BookingState
	to         BookingState
	staff      bool // needs service.handle on the facility (cancel: or the booker)
	needReason bool
	afterStart bool // only once the slot has begun (attendance)
}

// bookingMoves is the booking state machine: anything else is refused.
var bookingMoves = map[BookingAction]bookingMove{
	ActApprove: {from: []BookingState{Pending}, to: Confirmed, staff: true},
	ActRefuse:  {from: []BookingState{Pending}, to: Refused, staff: true, needReason: true},
	ActCancel:  {from: []BookingState{Pending, Confirmed}, to: Cancelled},
	ActAttend:  {from: []BookingState{Confirmed}, to: Attended, staff: true, afterStart: true},
	ActNoShow:  {from: []BookingState{Confirmed}, to: NoShow, staff: true, afterStart: true},
}

// Booking is one booking of one slot (预约).
type Booking struct {
	ID           int64        `json:"id"`
	FacilityID   int64        `json:"facility_id"`
	FacilityName string       `json:"facility_name"`
	Start        time.Time    `json:"start"`
	End          time.Time    `json:"end"`
	Day          string       `json:"day"`
	Places       int          `json:"places"`
	Booker       string       `json:"booker"`
	Group        string       `json:"group,omitempty"`
	Purpose      string       `json:"purpose,omitempty"`
	SeriesID     string       `json:"series_id,omitempty"`
	State        BookingState `json:"state"`
	Reason       string       `json:"reason,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	userID       int64
	areaPath     string
}

// BookingInput is what booking a slot takes. Weeks > 1 books the same
// slot every week (a group's recurring booking), all or nothing.
type BookingInput struct {
	Facility int64     `json:"facility"`
	Start    time.Time `json:"start"`
	Places   int       `json:"places"`
	Group    string    `json:"group"`
	Purpose  string    `json:"purpose"`
	Weeks    int       `json:"weeks"`
}

// Booking limits.
const (
	bookAhead = 90 * 24 * time.Hour // how far ahead a slot may be booked
	maxWeeks  = 26                  // a recurring booking covers at most half a year
)

func (s *Service) validateBooking(f Facility, in *BookingInput) error {
	in.Group, in.Purpose = strings.TrimSpace(in.Group), strings.TrimSpace(in.Purpose)
	if in.Places == 0 {
		in.Places = 1
	}
	if in.Weeks == 0 {
		in.Weeks = 1
	}
	now := s.now()
	var v errs.Validation
	v.Check(f.Active, "facility", "err.services.facility_closed", f.Name)
	if in.Start.IsZero() {
		v.Add("start", "err.services.start_missing")
	} else if _, ok := f.slotEnd(in.Start); !ok {
		v.Add("start", "err.services.outside_hours", in.Start.In(local).Format("2006-01-02 15:04"), f.Name)
	} else if !in.Start.After(now) {
		v.Add("start", "err.services.in_past", in.Start.In(local).Format("2006-01-02 15:04"))
	} else if in.Start.After(now.Add(bookAhead)) {
		v.Add("start", "err.services.too_far", int(bookAhead.Hours()/24))
	}
	max := 1
	if f.Shared {
		max = f.Capacity
	}
	v.Check(in.Places >= 1 && in.Places <= max, "places", "err.services.places", max)
	v.Check(in.Weeks >= 1 && in.Weeks <= maxWeeks, "weeks", "err.services.weeks", maxWeeks)
	v.Check(textOK(in.Group, 60), "group", "err.services.group")
	v.Check(textOK(in.Purpose, 200), "purpose", "err.services.purpose")
	v.Check(in.Weeks == 1 || in.Group != "", "group", "err.services.group_for_series")
	return v.Err()
}

// Book books a slot, or with Weeks > 1 the same slot every week. Anyone
// with a grant over the facility's community may book one slot; a
// recurring group booking is made by staff with service.handle. A
// facility that needs approval holds the seats as pending until staff
// decide. The seats are taken in the database (see claim): of any number
// of simultaneous requests for the last seat, on any number of nodes,
// exactly one succeeds and the others are told the slot is taken.
func (s *Service) Book(ctx context.Context, in BookingInput) ([]Booking, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	f, err := s.Facility(ctx, in.Facility)
	if err != nil {
		return nil, err
	}
	if in.Weeks > 1 {
		if err := auth.Allowed(p, auth.ServiceHandle, f.AreaPath, outOfScope); err != nil {
			return nil, err
		}
	}
	if err := s.validateBooking(f, &in); err != nil {
		return nil, err
	}
	state := Confirmed
	if f.NeedsApproval {
		state = Pending
	}
	series := ""
	if in.Weeks > 1 {
		series = newToken(8)
	}
	var out []Booking
	err = s.db.Write(ctx, func(ctx context.Context) error {
		out = out[:0]
		var conflicts []string
		for w := 0; w < in.Weeks; w++ {
			start := in.Start.AddDate(0, 0, 7*w)
			if err := s.claim(ctx, f, start, in.Places); err != nil {
				if errs.CodeOf(err) != errs.Conflict || in.Weeks == 1 {
					return err
				}
				conflicts = append(conflicts, start.In(local).Format("2006-01-02"))
				continue
			}
			b, err := s.insertBooking(ctx, f, in, start, state, series, actorName(ctx), p.UserID)
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		if len(conflicts) > 0 {
			return conflictErr("start", "err.services.series_conflict", strings.Join(conflicts, "、"))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claim takes places seats of the slot at start, inside the caller's
// transaction. First the day row: a blocked day refuses the booking, and
// because a block updates the same row, a booking and a block of one day
// are ordered on PostgreSQL. Then the slot row: the conditional UPDATE
// takes the seats only while enough are free; under concurrency the row
// lock makes the second request re-read the count after the first
// commits, and the CHECK (taken <= seats) stands behind it. A refusal is a
// Conflict and leaves nothing changed.
func (s *Service) claim(ctx context.Context, f Facility, start time.Time, places int) error {
	q := s.db.Q(ctx)
	day := start.In(local).Format("2006-01-02")
	if _, err := q.ExecContext(ctx, `INSERT INTO service_facility_days (facility_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		f.ID, day); err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `UPDATE service_facility_days SET bookings = bookings + 1
		WHERE facility_id = $1 AND day = $2 AND blocked = FALSE`, f.ID, day)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflictErr("start", "err.services.day_blocked", day)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO service_slots (facility_id, slot_start, seats) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		f.ID, start.UTC(), f.seatsPerSlot()); err != nil {
		return err
	}
	res, err = q.ExecContext(ctx, `UPDATE service_slots SET taken = taken + $3
		WHERE facility_id = $1 AND slot_start = $2 AND taken + $3 <= seats`, f.ID, start.UTC(), places)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflictErr("start", "err.services.slot_taken", start.In(local).Format("2006-01-02 15:04"))
	}
	return nil
}

// release gives back the seats of a booking that stops holding them.
func (s *Service) release(ctx context.Context, b Booking) error {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `UPDATE service_slots SET taken = taken - $3 WHERE facility_id = $1 AND slot_start = $2`,
		b.FacilityID, b.Start.UTC(), b.Places); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE service_facility_days SET bookings = bookings - 1 WHERE facility_id = $1 AND day = $2`,
		b.FacilityID, b.Day)
	return err
}

func (s *Service) insertBooking(ctx context.Context, f Facility, in BookingInput, start time.Time, state BookingState,
	series, booker string, userID int64) (Booking, error) {
	end, _ := f.slotEnd(start)
	now := s.now().UTC()
	b := Booking{FacilityID: f.ID, FacilityName: f.Name, Start: start.UTC(), End: end.UTC(), Day: start.In(local).Format("2006-01-02"),
		Places: in.Places, Booker: booker, Group: in.Group, Purpose: in.Purpose, SeriesID: series, State: state, CreatedAt: now}
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_bookings (facility_id, area_path, slot_start, slot_end, day, places,
		user_id, booker, group_name, purpose, series_id, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
		f.ID, f.AreaPath, b.Start, b.End, b.Day, b.Places, nullID(userID), booker, b.Group, b.Purpose, series, string(state), now).Scan(&b.ID)
	if err != nil {
		return Booking{}, err
	}
	return b, s.record(ctx, "services.booking.create", "booking", b.ID, b.Day+" "+string(state))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// newToken is n random bytes in hex: series ids and application numbers.
func newToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const bookingCols = `b.id, b.facility_id, f.name, b.slot_start, b.slot_end, b.day, b.places, b.booker, b.group_name, b.purpose,
	b.series_id, b.state, b.reason, b.created_at, COALESCE(b.user_id, 0), b.area_path`

func scanBooking(r db.Scanner) (Booking, error) {
	var b Booking
	err := r.Scan(&b.ID, &b.FacilityID, &b.FacilityName, &b.Start, &b.End, &b.Day, &b.Places, &b.Booker, &b.Group, &b.Purpose,
		&b.SeriesID, &b.State, &b.Reason, &b.CreatedAt, &b.userID, &b.areaPath)
	b.Start, b.End, b.CreatedAt = b.Start.UTC(), b.End.UTC(), b.CreatedAt.UTC()
	return b, err
}

func (s *Service) booking(ctx context.Context, id int64) (Booking, error) {
	b, err := scanBooking(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+bookingCols+`
		FROM service_bookings b JOIN service_facilities f ON f.id = b.facility_id WHERE b.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Booking{}, errs.E(errs.NotFound, "err.services.booking_not_found", id)
	}
	return b, err
}

// MoveBooking takes a step on a booking: staff approve or refuse (with a
// reason), record attendance once the slot has begun; the booker or staff
// cancel. Steps not in bookingMoves are refused; of two people acting on
// one booking at once only the first succeeds (the update is conditional
// on the state read).
func (s *Service) MoveBooking(ctx context.Context, id int64, act BookingAction, reason string) (Booking, error) {
	p := auth.From(ctx)
	if p == nil {
		return Booking{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	mv, ok := bookingMoves[act]
	if !ok {
		return Booking{}, errs.OnField("action", "err.services.booking_action", string(act))
	}
	reason = strings.TrimSpace(reason)
	if (mv.needReason && reason == "") || !textOK(reason, 500) {
		return Booking{}, errs.OnField("reason", "err.services.reason")
	}
	var b Booking
	err := s.db.Write(ctx, func(ctx context.Context) error {
		var err error
		if b, err = s.booking(ctx, id); err != nil {
			return err
		}
		if err := s.mayMove(p, b, mv); err != nil {
			return err
		}
		if !slices.Contains(mv.from, b.State) {
			return conflictErr("state", "err.services.booking_state", string(b.State), string(act))
		}
		if mv.afterStart && s.now().Before(b.Start) {
			return errs.OnField("state", "err.services.not_started")
		}
		return s.moveBooking(ctx, &b, mv.to, reason)
	})
	return b, err
}

// mayMove checks who may take a step: staff with service.handle over the
// facility, or for a cancellation the booker too.
func (s *Service) mayMove(p *auth.Principal, b Booking, mv bookingMove) error {
	if p.Can(auth.ServiceHandle, b.areaPath) || (!mv.staff && b.userID != 0 && b.userID == p.UserID) {
		return nil
	}
	if !sees(p, b.areaPath) {
		return errs.E(errs.NotFound, "err.services.booking_not_found", b.ID)
	}
	return auth.Allowed(p, auth.ServiceHandle, b.areaPath, outOfScope)
}

func (s *Service) moveBooking(ctx context.Context, b *Booking, to BookingState, reason string) error {
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE service_bookings SET state = $3, reason = $4, updated_at = $5
		WHERE id = $1 AND state = $2`, b.ID, string(b.State), string(to), reason, s.now().UTC())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflictErr("state", "err.services.booking_changed")
	}
	if holding(b.State) && !holding(to) {
		if err := s.release(ctx, *b); err != nil {
			return err
		}
	}
	from := b.State
	b.State, b.Reason = to, reason
	return s.record(ctx, "services.booking."+string(to), "booking", b.ID, string(from)+"→"+string(to))
}

// Block closes a facility for a day (maintenance, an election, a
// holiday), cancelling the bookings held on it with the reason, in one
// transaction. It returns how many bookings were cancelled.
func (s *Service) Block(ctx context.Context, facilityID int64, day, reason string) (int, error) {
	if _, err := auth.Require(ctx, auth.ServiceManage); err != nil {
		return 0, err
	}
	f, err := s.facilityFor(ctx, facilityID, auth.ServiceManage)
	if err != nil {
		return 0, err
	}
	d, reason, err := s.checkBlock(day, reason)
	if err != nil {
		return 0, err
	}
	var cancelled int
	err = s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, `INSERT INTO service_facility_days (facility_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING`, f.ID, day); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE service_facility_days SET blocked = TRUE, reason = $3 WHERE facility_id = $1 AND day = $2`,
			f.ID, day, reason); err != nil {
			return err
		}
		held, err := db.All(ctx, q, scanBooking, `SELECT `+bookingCols+` FROM service_bookings b JOIN service_facilities f ON f.id = b.facility_id
			WHERE b.facility_id = $1 AND b.day = $2 AND b.state IN ('pending', 'confirmed')`, f.ID, d.Format("2006-01-02"))
		if err != nil {
			return err
		}
		for i := range held {
			if err := s.moveBooking(ctx, &held[i], Cancelled, reason); err != nil {
				return err
			}
		}
		cancelled = len(held)
		return s.record(ctx, "services.facility.block", "facility", f.ID, day)
	})
	return cancelled, err
}

// Unblock opens a blocked day again.
func (s *Service) Unblock(ctx context.Context, facilityID int64, day string) error {
	if _, err := auth.Require(ctx, auth.ServiceManage); err != nil {
		return err
	}
	f, err := s.facilityFor(ctx, facilityID, auth.ServiceManage)
	if err != nil {
		return err
	}
	if _, err := time.ParseInLocation("2006-01-02", day, local); err != nil {
		return errs.OnField("day", "err.services.day_format", day)
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE service_facility_days SET blocked = FALSE, reason = '' WHERE facility_id = $1 AND day = $2`,
			f.ID, day); err != nil {
			return err
		}
		return s.record(ctx, "services.facility.unblock", "facility", f.ID, day)
	})
}

func (s *Service) checkBlock(day, reason string) (time.Time, string, error) {
	reason = strings.TrimSpace(reason)
	d, err := time.ParseInLocation("2006-01-02", day, local)
	var v errs.Validation
	today := time.Date(s.now().In(local).Year(), s.now().In(local).Month(), s.now().In(local).Day(), 0, 0, 0, 0, local)
	v.Check(err == nil, "day", "err.services.day_format", day)
	v.Check(err != nil || !d.Before(today), "day", "err.services.day_past", day)
	v.Check(reason != "" && textOK(reason, 200), "reason", "err.services.reason")
	return d, reason, v.Err()
}

// MyBookings lists the caller's own bookings, latest slot first.
func (s *Service) MyBookings(ctx context.Context, limit int) ([]Booking, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	return db.All(ctx, s.db.Q(ctx), scanBooking, `SELECT `+bookingCols+` FROM service_bookings b
		JOIN service_facilities f ON f.id = b.facility_id WHERE b.user_id = $1 ORDER BY b.slot_start DESC LIMIT $2`, p.UserID, limitOf(limit))
}

// shown is a booking as the caller may see it: staff with service.read
// see who booked; others see their own bookings in full and other
// people's bookers masked.
func shown(p *auth.Principal, b Booking) Booking {
	if p != nil && (p.Can(auth.ServiceRead, b.areaPath) || (b.userID != 0 && b.userID == p.UserID)) {
		return b
	}
	b.Booker = crypto.MaskName(b.Booker)
	b.Purpose = ""
	return b
}

// PendingBookings lists the bookings waiting for approval in the
// caller's areas, earliest slot first: the desk's queue.
func (s *Service) PendingBookings(ctx context.Context) ([]Booking, error) {
	p, err := auth.Require(ctx, auth.ServiceRead)
	if err != nil {
		return nil, err
	}
	where, args := p.Filter(auth.ServiceRead, "f.area_id", 1)
	out, err := db.All(ctx, s.db.Q(ctx), scanBooking, `SELECT `+bookingCols+` FROM service_bookings b
		JOIN service_facilities f ON f.id = b.facility_id WHERE b.state = 'pending' AND `+where+` ORDER BY b.slot_start LIMIT 200`, args...)
	if out == nil {
		out = []Booking{}
	}
	return out, err
}
