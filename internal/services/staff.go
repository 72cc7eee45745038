package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// What the staff pages need beyond the API: one provider, changing it,
// the matches of a need and the days a facility is closed.

// Provider returns a provider registered in the caller's areas.
func (s *Service) Provider(ctx context.Context, id int64) (Provider, error) {
	p, err := auth.Require(ctx, auth.ServiceRead)
	if err != nil {
		return Provider{}, err
	}
	pr, err := s.provider(ctx, id)
	if err != nil {
		return Provider{}, err
	}
	if !p.Can(auth.ServiceRead, pr.AreaPath) {
		return Provider{}, errs.E(errs.NotFound, "err.services.provider_not_found", id)
	}
	return pr, nil
}

// UpdateProvider changes a provider: what it offers, its service area,
// capacity and whether it takes new needs. Its area of registration stays.
// Matches under way keep their load; a capacity below the load only stops
// new matches.
func (s *Service) UpdateProvider(ctx context.Context, id int64, in ProviderInput, active bool) (Provider, error) {
	p, err := auth.Require(ctx, auth.ServiceManage)
	if err != nil {
		return Provider{}, err
	}
	old, err := s.Provider(ctx, id)
	if err != nil {
		return Provider{}, err
	}
	if err := auth.Allowed(p, auth.ServiceManage, old.AreaPath, outOfScope); err != nil {
		return Provider{}, err
	}
	bound, err := validateProvider(&in)
	if err != nil {
		return Provider{}, err
	}
	poly := ""
	if len(in.Polygon) > 0 {
		b, _ := json.Marshal(in.Polygon)
		poly = string(b)
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		lon, lat := pointArgs(in.Location)
		_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE service_providers SET name = $2, kind = $3, services = $4, lon = $5, lat = $6,
			radius_m = $7, polygon = $8, min_lon = $9, min_lat = $10, max_lon = $11, max_lat = $12, capacity = $13, active = $14,
			updated_at = $15 WHERE id = $1`, id, in.Name, string(in.Kind), strings.Join(in.Services, ","), lon, lat, in.RadiusM, poly,
			bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1], in.Capacity, active, s.now().UTC())
		if err != nil {
			return err
		}
		return s.record(ctx, "services.provider.update", "provider", id, in.Name)
	})
	if err != nil {
		return Provider{}, err
	}
	return s.provider(ctx, id)
}

// Need returns a need in the caller's areas.
func (s *Service) Need(ctx context.Context, id int64) (Need, error) {
	if _, err := auth.Require(ctx, auth.ServiceRead); err != nil {
		return Need{}, err
	}
	return s.needFor(ctx, id, auth.ServiceRead)
}

// MatchRecord is a need given to a provider, and how it ended.
type MatchRecord struct {
	ID           int64      `json:"id"`
	NeedID       int64      `json:"need_id"`
	ProviderID   int64      `json:"provider_id"`
	ProviderName string     `json:"provider_name"`
	DistanceM    int        `json:"distance_m"`
	State        string     `json:"state"` // active, done, failed
	Outcome      string     `json:"outcome,omitempty"`
	MatchedBy    string     `json:"matched_by"`
	CreatedAt    time.Time  `json:"created_at"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
}

// Matches lists a need's matches, newest first.
func (s *Service) Matches(ctx context.Context, needID int64) ([]MatchRecord, error) {
	if _, err := s.Need(ctx, needID); err != nil {
		return nil, err
	}
	out, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (MatchRecord, error) {
		var m MatchRecord
		var closed sql.NullTime
		err := r.Scan(&m.ID, &m.NeedID, &m.ProviderID, &m.ProviderName, &m.DistanceM, &m.State, &m.Outcome, &m.MatchedBy, &m.CreatedAt, &closed)
		if closed.Valid {
			m.ClosedAt = &closed.Time
		}
		return m, err
	}, `SELECT m.id, m.need_id, m.provider_id, p.name, m.distance_m, m.state, m.outcome, m.matched_by, m.created_at, m.closed_at
		FROM service_matches m JOIN service_providers p ON p.id = m.provider_id WHERE m.need_id = $1 ORDER BY m.id DESC`, needID)
	if out == nil {
		out = []MatchRecord{}
	}
	return out, err
}

// MatchNeed returns the need a match belongs to, for its page.
func (s *Service) MatchNeed(ctx context.Context, matchID int64) (int64, error) {
	var needID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT need_id FROM service_matches WHERE id = $1`, matchID).Scan(&needID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.E(errs.NotFound, "err.services.match_not_found", matchID)
	}
	if err != nil {
		return 0, err
	}
	if _, err := s.Need(ctx, needID); err != nil {
		return 0, err
	}
	return needID, nil
}

// BlockedDay is a day a facility is closed, and why.
type BlockedDay struct {
	Day    string `json:"day"`
	Reason string `json:"reason"`
}

// Blocks lists the days from today on that a facility is closed.
func (s *Service) Blocks(ctx context.Context, facilityID int64) ([]BlockedDay, error) {
	f, err := s.Facility(ctx, facilityID)
	if err != nil {
		return nil, err
	}
	today := s.now().In(local).Format("2006-01-02")
	out, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (BlockedDay, error) {
		var b BlockedDay
		return b, r.Scan(&b.Day, &b.Reason)
	}, `SELECT day, reason FROM service_facility_days WHERE facility_id = $1 AND blocked = TRUE AND day >= $2 ORDER BY day LIMIT 200`, f.ID, today)
	if out == nil {
		out = []BlockedDay{}
	}
	return out, err
}

// residentNeed fills a need that staff record for a resident of the
// register (by their number): the person's name and grid unless given.
func (s *Service) residentNeed(ctx context.Context, in *NeedInput) error {
	if in.ResidentID <= 0 || s.reg == nil {
		return nil
	}
	res, err := s.reg.Resident(ctx, in.ResidentID)
	if c := errs.CodeOf(err); c == errs.NotFound || c == errs.Forbidden {
		return errs.OnField("resident_id", "err.services.resident_unknown", in.ResidentID)
	}
	if err != nil {
		return err
	}
	if in.Person == "" {
		in.Person = res.Name
	}
	if in.Grid == "" {
		in.Grid = res.Grid
	}
	return nil
}
