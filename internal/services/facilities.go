package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// FacilityKind is what a facility is for.
type FacilityKind string

const (
	ActivityRoom FacilityKind = "activity_room" // 活动室
	DayCare      FacilityKind = "day_care"      // 日间照料中心
	Canteen      FacilityKind = "canteen"       // 长者食堂
	Clinic       FacilityKind = "clinic"        // 卫生服务站
	Sports       FacilityKind = "sports"        // 运动场地
	OtherKind    FacilityKind = "other"
)

// FacilityKinds lists every kind.
var FacilityKinds = []FacilityKind{ActivityRoom, DayCare, Canteen, Clinic, Sports, OtherKind}

// Point is a location in WGS84.
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

func (p *Point) valid() bool {
	return p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90 && (p.Lon != 0 || p.Lat != 0)
}

// Hours are a facility's opening periods per weekday, Sunday first, each
// "HH:MM-HH:MM" in China Standard Time.
type Hours [7][]string

// period is an opening period in minutes after midnight.
type period struct{ from, to int }

// parsePeriod reads "08:00-12:00".
func parsePeriod(s string) (period, bool) {
	var h1, m1, h2, m2 int
	if len(s) != 11 {
		return period{}, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d-%02d:%02d", &h1, &m1, &h2, &m2); err != nil {
		return period{}, false
	}
	p := period{h1*60 + m1, h2*60 + m2}
	ok := h1 < 24 && h2 <= 24 && m1 < 60 && m2 < 60 && p.to <= 24*60 && p.from < p.to
	return p, ok
}

// periods returns the opening periods of a weekday.
func (h Hours) periods(wd time.Weekday) []period {
	var out []period
	for _, s := range h[wd] {
		if p, ok := parsePeriod(s); ok {
			out = append(out, p)
		}
	}
	return out
}

// check lists what is wrong with the hours: a period that does not parse,
// periods that overlap, a period shorter than one slot, no period at all.
func (h Hours) check(v *errs.Validation, slot int) {
	any := false
	for wd, ps := range h {
		var seen []period
		for _, s := range ps {
			p, ok := parsePeriod(strings.TrimSpace(s))
			if !ok {
				v.Add(fmt.Sprintf("hours.%d", wd), "err.services.hours_format", s)
				continue
			}
			if slot > 0 && p.to-p.from < slot {
				v.Add(fmt.Sprintf("hours.%d", wd), "err.services.hours_short", s, slot)
			}
			for _, q := range seen {
				if p.from < q.to && q.from < p.to {
					v.Add(fmt.Sprintf("hours.%d", wd), "err.services.hours_overlap", s)
				}
			}
			seen = append(seen, p)
			any = true
		}
	}
	v.Check(any, "hours", "err.services.hours_none")
}

// Facility is a community facility that residents book (设施).
type Facility struct {
	ID            int64        `json:"id"`
	Community     string       `json:"community"`
	CommunityName string       `json:"community_name"`
	Name          string       `json:"name"`
	Kind          FacilityKind `json:"kind"`
	Capacity      int          `json:"capacity"`
	Shared        bool         `json:"shared"`
	SlotMinutes   int          `json:"slot_minutes"`
	Hours         Hours        `json:"hours"`
	Rules         string       `json:"rules,omitempty"`
	NeedsApproval bool         `json:"needs_approval"`
	Location      *Point       `json:"location,omitempty"`
	Active        bool         `json:"active"`
	AreaID        int64        `json:"-"`
	AreaPath      string       `json:"-"`
}

// seatsPerSlot is how many bookings' places a slot holds: the capacity of
// a shared facility, one booking of a room.
func (f Facility) seatsPerSlot() int {
	if f.Shared {
		return f.Capacity
	}
	return 1
}

// slotEnd returns the end of the slot that starts at t, and whether t is
// the start of a slot in the opening hours.
func (f Facility) slotEnd(t time.Time) (time.Time, bool) {
	lt := t.In(local)
	if lt.Second() != 0 || lt.Nanosecond() != 0 {
		return time.Time{}, false
	}
	m := lt.Hour()*60 + lt.Minute()
	for _, p := range f.Hours.periods(lt.Weekday()) {
		if m >= p.from && m+f.SlotMinutes <= p.to && (m-p.from)%f.SlotMinutes == 0 {
			return t.Add(time.Duration(f.SlotMinutes) * time.Minute), true
		}
	}
	return time.Time{}, false
}

// slotsOn lists the slot starts of a local day (midnight CST).
func (f Facility) slotsOn(day time.Time) []time.Time {
	var out []time.Time
	for _, p := range f.Hours.periods(day.Weekday()) {
		for m := p.from; m+f.SlotMinutes <= p.to; m += f.SlotMinutes {
			out = append(out, day.Add(time.Duration(m)*time.Minute))
		}
	}
	return out
}

// FacilityInput is what creating or changing a facility takes.
type FacilityInput struct {
	Community     string       `json:"community"`
	Name          string       `json:"name"`
	Kind          FacilityKind `json:"kind"`
	Capacity      int          `json:"capacity"`
	Shared        bool         `json:"shared"`
	SlotMinutes   int          `json:"slot_minutes"`
	Hours         Hours        `json:"hours"`
	Rules         string       `json:"rules"`
	NeedsApproval bool         `json:"needs_approval"`
	Location      *Point       `json:"location"`
	Active        *bool        `json:"active"`
}

func validateFacility(in *FacilityInput) error {
	in.Name, in.Rules = strings.TrimSpace(in.Name), strings.TrimSpace(in.Rules)
	if in.SlotMinutes == 0 {
		in.SlotMinutes = 60
	}
	for wd := range in.Hours {
		for i := range in.Hours[wd] {
			in.Hours[wd][i] = strings.TrimSpace(in.Hours[wd][i])
		}
	}
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 60), "name", "err.services.facility_name")
	v.Check(slices.Contains(FacilityKinds, in.Kind), "kind", "err.services.facility_kind", string(in.Kind))
	v.Check(in.Capacity >= 1 && in.Capacity <= 10000, "capacity", "err.services.capacity")
	v.Check(in.SlotMinutes >= 15 && in.SlotMinutes <= 480, "slot_minutes", "err.services.slot_minutes")
	v.Check(textOK(in.Rules, 2000), "rules", "err.services.rules")
	v.Check(in.Location == nil || in.Location.valid(), "location", "err.services.location")
	in.Hours.check(&v, in.SlotMinutes)
	return v.Err()
}

// CreateFacility adds a facility to a community.
func (s *Service) CreateFacility(ctx context.Context, in FacilityInput) (Facility, error) {
	if _, err := auth.Require(ctx, auth.ServiceManage); err != nil {
		return Facility{}, err
	}
	if err := validateFacility(&in); err != nil {
		return Facility{}, err
	}
	c, err := s.community(ctx, in.Community, auth.ServiceManage)
	if err != nil {
		return Facility{}, err
	}
	hours, _ := json.Marshal(in.Hours)
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		lon, lat := pointArgs(in.Location)
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_facilities (area_id, area_path, name, kind, capacity, shared,
			slot_minutes, hours, rules, needs_approval, lon, lat, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
			c.ID, c.Path, in.Name, string(in.Kind), in.Capacity, in.Shared, in.SlotMinutes, string(hours), in.Rules,
			in.NeedsApproval, lon, lat, now).Scan(&id)
		if err != nil {
			return err
		}
		return s.record(ctx, "services.facility.create", "facility", id, in.Name)
	})
	if err != nil {
		return Facility{}, err
	}
	return s.Facility(ctx, id)
}

// UpdateFacility changes a facility. Slots already booked keep their
// seats; new capacity applies to slots booked from now on.
func (s *Service) UpdateFacility(ctx context.Context, id int64, in FacilityInput) (Facility, error) {
	if _, err := auth.Require(ctx, auth.ServiceManage); err != nil {
		return Facility{}, err
	}
	if err := validateFacility(&in); err != nil {
		return Facility{}, err
	}
	f, err := s.facilityFor(ctx, id, auth.ServiceManage)
	if err != nil {
		return Facility{}, err
	}
	active := f.Active
	if in.Active != nil {
		active = *in.Active
	}
	hours, _ := json.Marshal(in.Hours)
	err = s.db.Write(ctx, func(ctx context.Context) error {
		lon, lat := pointArgs(in.Location)
		_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE service_facilities SET name = $2, kind = $3, capacity = $4, shared = $5,
			slot_minutes = $6, hours = $7, rules = $8, needs_approval = $9, lon = $10, lat = $11, active = $12, updated_at = $13 WHERE id = $1`,
			id, in.Name, string(in.Kind), in.Capacity, in.Shared, in.SlotMinutes, string(hours), in.Rules, in.NeedsApproval,
			lon, lat, active, s.now().UTC())
		if err != nil {
			return err
		}
		return s.record(ctx, "services.facility.update", "facility", id, in.Name)
	})
	if err != nil {
		return Facility{}, err
	}
	return s.Facility(ctx, id)
}

func pointArgs(p *Point) (any, any) {
	if p == nil {
		return nil, nil
	}
	return p.Lon, p.Lat
}

const facilityCols = `f.id, a.code, a.name, f.name, f.kind, f.capacity, f.shared, f.slot_minutes, f.hours, f.rules,
	f.needs_approval, f.lon, f.lat, f.active, f.area_id, f.area_path`

func scanFacility(r db.Scanner) (Facility, error) {
	var f Facility
	var hours string
	var lon, lat sql.NullFloat64
	err := r.Scan(&f.ID, &f.Community, &f.CommunityName, &f.Name, &f.Kind, &f.Capacity, &f.Shared, &f.SlotMinutes, &hours,
		&f.Rules, &f.NeedsApproval, &lon, &lat, &f.Active, &f.AreaID, &f.AreaPath)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(hours), &f.Hours); err != nil {
		return f, err
	}
	if lon.Valid && lat.Valid {
		f.Location = &Point{Lon: lon.Float64, Lat: lat.Float64}
	}
	return f, nil
}

// facilityFor loads a facility and checks perm on its community. A
// facility the caller may not even read is not found.
func (s *Service) facilityFor(ctx context.Context, id int64, perm auth.Perm) (Facility, error) {
	f, err := scanFacility(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+facilityCols+`
		FROM service_facilities f JOIN areas a ON a.id = f.area_id WHERE f.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Facility{}, errs.E(errs.NotFound, "err.services.facility_not_found", id)
	}
	if err != nil {
		return Facility{}, err
	}
	p := auth.From(ctx)
	if p == nil {
		return Facility{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if !sees(p, f.AreaPath) {
		return Facility{}, errs.E(errs.NotFound, "err.services.facility_not_found", id)
	}
	if perm == auth.AreaRead {
		return f, nil
	}
	if err := auth.Allowed(p, perm, f.AreaPath, outOfScope); err != nil {
		return Facility{}, err
	}
	return f, nil
}

// Facility returns a facility the caller may see: anyone with a grant over
// its community, residents included.
func (s *Service) Facility(ctx context.Context, id int64) (Facility, error) {
	return s.facilityFor(ctx, id, auth.AreaRead)
}

// FacilityQuery selects facilities.
type FacilityQuery struct {
	Community string // "" for every community the caller sees
	Kind      FacilityKind
	After     int64
	Limit     int
}

// Facilities lists the facilities the caller may see, by id.
func (s *Service) Facilities(ctx context.Context, q FacilityQuery) (Page[Facility], error) {
	p, err := auth.Require(ctx, auth.AreaRead)
	if err != nil {
		return Page[Facility]{}, err
	}
	where, args := seesFilter(p, "f.area_path", 1)
	args = append(args, afterID(q.After))
	where += fmt.Sprintf(" AND f.id > $%d", len(args))
	if q.Community != "" {
		cond, arg, err := codePrefix("a.code", q.Community, len(args)+1)
		if err != nil {
			return Page[Facility]{}, err
		}
		args = append(args, arg)
		where += " AND " + cond
	}
	if q.Kind != "" {
		args = append(args, string(q.Kind))
		where += fmt.Sprintf(" AND f.kind = $%d", len(args))
	}
	limit := limitOf(q.Limit)
	items, err := db.All(ctx, s.db.Q(ctx), scanFacility, `SELECT `+facilityCols+`
		FROM service_facilities f JOIN areas a ON a.id = f.area_id WHERE `+where+fmt.Sprintf(" ORDER BY f.id LIMIT %d", limit), args...)
	if err != nil {
		return Page[Facility]{}, err
	}
	return pageOf(items, limit, func(f Facility) int64 { return f.ID }), nil
}

// empty reports whether no weekday has a period.
func (h Hours) empty() bool {
	for _, ps := range h {
		if len(ps) > 0 {
			return false
		}
	}
	return true
}
