package services

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// ProviderKind is who a provider is.
type ProviderKind string

// Provider kinds: 社会组织, 企业, 个人, 社区自身.
const (
	SocialOrg  ProviderKind = "social_org"
	Business   ProviderKind = "business"
	Individual ProviderKind = "individual"
	CommunityP ProviderKind = "community"
)

// ProviderKinds lists every kind.
var ProviderKinds = []ProviderKind{SocialOrg, Business, Individual, CommunityP}

// ServiceTypes are the services providers offer and needs ask for.
var ServiceTypes = []string{"home_care", "meal_delivery", "repairs", "legal_advice", "tutoring", "day_care", "health", "companionship", "other"}

// Provider offers services in a service area (服务供给方).
type Provider struct {
	ID       int64          `json:"id"`
	Area     string         `json:"area"`
	Name     string         `json:"name"`
	Kind     ProviderKind   `json:"kind"`
	Services []string       `json:"services"`
	Location *Point         `json:"location,omitempty"`
	RadiusM  int            `json:"radius_m,omitempty"`
	Polygon  [][][2]float64 `json:"polygon,omitempty"`
	Capacity int            `json:"capacity"`
	Load     int            `json:"load"`
	Active   bool           `json:"active"`
	AreaPath string         `json:"-"`
}

// polygon is the provider's polygon as orb geometry.
func (p Provider) polygon() orb.Polygon {
	var poly orb.Polygon
	for _, ring := range p.Polygon {
		var r orb.Ring
		for _, c := range ring {
			r = append(r, orb.Point{c[0], c[1]})
		}
		poly = append(poly, r)
	}
	return poly
}

// covers reports whether the provider's service area holds pt, and how far
// pt is from the provider (metres; 0 for a polygon without a base point).
func (p Provider) covers(pt orb.Point) (bool, int) {
	dist := 0.0
	if p.Location != nil {
		dist = geo.Distance(orb.Point{p.Location.Lon, p.Location.Lat}, pt)
	}
	if len(p.Polygon) > 0 {
		return planar.PolygonContains(p.polygon(), pt), int(math.Round(dist))
	}
	return p.Location != nil && dist <= float64(p.RadiusM), int(math.Round(dist))
}

// ProviderInput is what registering a provider takes. The service area is
// a radius (metres) around Location, or a GeoJSON polygon's coordinates.
type ProviderInput struct {
	Area     string         `json:"area"` // the community or street it is registered in
	Name     string         `json:"name"`
	Kind     ProviderKind   `json:"kind"`
	Services []string       `json:"services"`
	Location *Point         `json:"location"`
	RadiusM  int            `json:"radius_m"`
	Polygon  [][][2]float64 `json:"polygon"`
	Capacity int            `json:"capacity"`
}

func validateProvider(in *ProviderInput) (orb.Bound, error) {
	in.Name = strings.TrimSpace(in.Name)
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 80), "name", "err.services.provider_name")
	v.Check(slices.Contains(ProviderKinds, in.Kind), "kind", "err.services.provider_kind", string(in.Kind))
	v.Check(len(in.Services) > 0, "services", "err.services.services_none")
	for _, st := range in.Services {
		v.Check(slices.Contains(ServiceTypes, st), "services", "err.services.service_type", st)
	}
	v.Check(in.Capacity >= 1 && in.Capacity <= 100000, "capacity", "err.services.capacity")
	v.Check(in.Location == nil || in.Location.valid(), "location", "err.services.location")
	bound, ok := serviceArea(in)
	v.Check(ok, "service_area", "err.services.no_service_area")
	return bound, v.Err()
}

// serviceArea checks that there is one and returns its bounding box: a
// polygon of at least one closed ring of four points, or a radius of 50 m
// to 50 km around a location.
func serviceArea(in *ProviderInput) (orb.Bound, bool) {
	if len(in.Polygon) > 0 {
		p := Provider{Polygon: in.Polygon}.polygon()
		for _, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return orb.Bound{}, false
			}
			for _, c := range r {
				if !(&Point{c[0], c[1]}).valid() {
					return orb.Bound{}, false
				}
			}
		}
		return p.Bound(), true
	}
	if in.Location == nil || !in.Location.valid() || in.RadiusM < 50 || in.RadiusM > 50000 {
		return orb.Bound{}, false
	}
	c := orb.Point{in.Location.Lon, in.Location.Lat}
	return geo.NewBoundAroundPoint(c, float64(in.RadiusM)), true
}

// CreateProvider registers a provider. One without a service area (no
// polygon, no radius around a point) is refused: it could never be
// matched.
func (s *Service) CreateProvider(ctx context.Context, in ProviderInput) (Provider, error) {
	if _, err := auth.Require(ctx, auth.ServiceManage); err != nil {
		return Provider{}, err
	}
	bound, err := validateProvider(&in)
	if err != nil {
		return Provider{}, err
	}
	a, err := s.areaAt(ctx, in.Area, auth.ServiceManage, "area", "community", "street")
	if err != nil {
		return Provider{}, err
	}
	poly := ""
	if len(in.Polygon) > 0 {
		b, _ := json.Marshal(in.Polygon)
		poly = string(b)
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		lon, lat := pointArgs(in.Location)
		now := s.now().UTC()
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_providers (area_id, area_path, name, kind, services, lon, lat,
			radius_m, polygon, min_lon, min_lat, max_lon, max_lat, capacity, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id`,
			a.ID, a.Path, in.Name, string(in.Kind), strings.Join(in.Services, ","), lon, lat, in.RadiusM, poly,
			bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1], in.Capacity, now).Scan(&id)
		if err != nil {
			return err
		}
		return s.record(ctx, "services.provider.create", "provider", id, in.Name)
	})
	if err != nil {
		return Provider{}, err
	}
	return s.provider(ctx, id)
}

const providerCols = `p.id, a.code, p.name, p.kind, p.services, p.lon, p.lat, p.radius_m, p.polygon, p.capacity, p.load, p.active, p.area_path`

func scanProvider(r db.Scanner) (Provider, error) {
	var p Provider
	var services, poly string
	var lon, lat sql.NullFloat64
	err := r.Scan(&p.ID, &p.Area, &p.Name, &p.Kind, &services, &lon, &lat, &p.RadiusM, &poly, &p.Capacity, &p.Load, &p.Active, &p.AreaPath)
	if err != nil {
		return p, err
	}
	p.Services = strings.Split(services, ",")
	if lon.Valid && lat.Valid {
		p.Location = &Point{Lon: lon.Float64, Lat: lat.Float64}
	}
	if poly != "" {
		err = json.Unmarshal([]byte(poly), &p.Polygon)
	}
	return p, err
}

func (s *Service) provider(ctx context.Context, id int64) (Provider, error) {
	p, err := scanProvider(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+providerCols+` FROM service_providers p JOIN areas a ON a.id = p.area_id
		WHERE p.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Provider{}, errs.E(errs.NotFound, "err.services.provider_not_found", id)
	}
	return p, err
}

// Providers lists the providers registered in the caller's areas.
func (s *Service) Providers(ctx context.Context) ([]Provider, error) {
	p, err := auth.Require(ctx, auth.ServiceRead)
	if err != nil {
		return nil, err
	}
	where, args := p.Filter(auth.ServiceRead, "p.area_id", 1)
	out, err := db.All(ctx, s.db.Q(ctx), scanProvider, `SELECT `+providerCols+` FROM service_providers p JOIN areas a ON a.id = p.area_id
		WHERE `+where+` ORDER BY p.id LIMIT 500`, args...)
	if out == nil {
		out = []Provider{}
	}
	return out, err
}

// NeedState is where a need stands.
type NeedState string

const (
	NeedOpen    NeedState = "open"    // no provider yet: an unmet need
	NeedMatched NeedState = "matched" // a provider is on it
	NeedMet     NeedState = "met"
	NeedClosed  NeedState = "closed" // withdrawn
)

// Need is a resident's need for a service (需求).
type Need struct {
	ID         int64     `json:"id"`
	Grid       string    `json:"grid"`
	ResidentID int64     `json:"resident_id,omitempty"`
	Person     string    `json:"person"`
	Service    string    `json:"service"`
	Location   Point     `json:"location"`
	Note       string    `json:"note,omitempty"`
	State      NeedState `json:"state"`
	RecordedBy string    `json:"recorded_by"`
	AreaPath   string    `json:"-"`
}

// NeedInput is what recording a need takes. A grid worker names the grid
// (and the resident, if in the register); a resident records their own
// need, in their own grid.
type NeedInput struct {
	Grid       string `json:"grid"`
	ResidentID int64  `json:"resident_id"`
	Person     string `json:"person"`
	Service    string `json:"service"`
	Location   *Point `json:"location"`
	Note       string `json:"note"`
}

// RecordNeed records a need.
func (s *Service) RecordNeed(ctx context.Context, in NeedInput) (Need, error) {
	p := auth.From(ctx)
	if p == nil {
		return Need{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	in.Person, in.Note = strings.TrimSpace(in.Person), strings.TrimSpace(in.Note)
	if p.CanAnywhere(auth.ServiceHandle) {
		if err := s.residentNeed(ctx, &in); err != nil {
			return Need{}, err
		}
	}
	areaID, path, err := s.needPlace(ctx, p, &in)
	if err != nil {
		return Need{}, err
	}
	var v errs.Validation
	v.Check(in.Person != "" && textOK(in.Person, 30), "person", "err.services.person")
	v.Check(slices.Contains(ServiceTypes, in.Service), "service", "err.services.service_type", in.Service)
	v.Check(in.Location != nil && in.Location.valid(), "location", "err.services.location")
	v.Check(textOK(in.Note, 500), "note", "err.services.note")
	if err := v.Err(); err != nil {
		return Need{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_needs (area_id, area_path, resident_id, person, service, lon, lat, note,
			state, recorded_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $10) RETURNING id`,
			areaID, path, nullID(in.ResidentID), in.Person, in.Service, in.Location.Lon, in.Location.Lat, in.Note, actorName(ctx), now).Scan(&id)
		if err != nil {
			return err
		}
		return s.record(ctx, "services.need.create", "need", id, in.Service)
	})
	if err != nil {
		return Need{}, err
	}
	return s.need(ctx, id)
}

// needPlace finds the grid of a need: the grid a worker names (checking
// service.handle there), or a linked resident's own grid.
func (s *Service) needPlace(ctx context.Context, p *auth.Principal, in *NeedInput) (int64, string, error) {
	if in.Grid != "" || p.CanAnywhere(auth.ServiceHandle) {
		g, err := s.areaAt(ctx, in.Grid, auth.ServiceHandle, "grid", "grid")
		return g.ID, g.Path, err
	}
	id, err := s.reg.IdentityOf(ctx, p.UserID)
	if err != nil {
		return 0, "", err
	}
	in.ResidentID, in.Person = id.ResidentID, id.Name
	return id.AreaID, id.AreaPath, nil
}

const needCols = `n.id, a.code, COALESCE(n.resident_id, 0), n.person, n.service, n.lon, n.lat, n.note, n.state, n.recorded_by, n.area_path`

func scanNeed(r db.Scanner) (Need, error) {
	var n Need
	err := r.Scan(&n.ID, &n.Grid, &n.ResidentID, &n.Person, &n.Service, &n.Location.Lon, &n.Location.Lat, &n.Note, &n.State,
		&n.RecordedBy, &n.AreaPath)
	return n, err
}

func (s *Service) need(ctx context.Context, id int64) (Need, error) {
	n, err := scanNeed(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+needCols+` FROM service_needs n JOIN areas a ON a.id = n.area_id WHERE n.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Need{}, errs.E(errs.NotFound, "err.services.need_not_found", id)
	}
	return n, err
}

// needFor loads a need and checks perm on its grid.
func (s *Service) needFor(ctx context.Context, id int64, perm auth.Perm) (Need, error) {
	n, err := s.need(ctx, id)
	if err != nil {
		return Need{}, err
	}
	p := auth.From(ctx)
	if p != nil && !p.Can(auth.ServiceRead, n.AreaPath) {
		return Need{}, errs.E(errs.NotFound, "err.services.need_not_found", id)
	}
	return n, auth.Allowed(p, perm, n.AreaPath, outOfScope)
}

// Needs lists the needs in the caller's areas, open ones (unmet) when
// state is "open".
func (s *Service) Needs(ctx context.Context, state NeedState) ([]Need, error) {
	p, err := auth.Require(ctx, auth.ServiceRead)
	if err != nil {
		return nil, err
	}
	where, args := p.Filter(auth.ServiceRead, "n.area_id", 1)
	if state != "" {
		args = append(args, string(state))
		where += fmt.Sprintf(" AND n.state = $%d", len(args))
	}
	out, err := db.All(ctx, s.db.Q(ctx), scanNeed, `SELECT `+needCols+` FROM service_needs n JOIN areas a ON a.id = n.area_id
		WHERE `+where+` ORDER BY n.id DESC LIMIT 500`, args...)
	if out == nil {
		out = []Need{}
	}
	return out, err
}

// Proposal is a provider that could meet a need.
type Proposal struct {
	Provider  Provider `json:"provider"`
	DistanceM int      `json:"distance_m"`
	Free      int      `json:"free"`
}

// Propose lists the providers that offer the need's service, cover its
// point and have free capacity, nearest first.
func (s *Service) Propose(ctx context.Context, needID int64) ([]Proposal, error) {
	if _, err := auth.Require(ctx, auth.ServiceRead); err != nil {
		return nil, err
	}
	n, err := s.needFor(ctx, needID, auth.ServiceRead)
	if err != nil {
		return nil, err
	}
	// The bounding boxes and the service cut the candidates in SQL; the
	// exact radius or polygon test runs on the few left.
	cands, err := db.All(ctx, s.db.Q(ctx), scanProvider, `SELECT `+providerCols+` FROM service_providers p JOIN areas a ON a.id = p.area_id
		WHERE p.active = TRUE AND p.load < p.capacity AND p.min_lon <= $1 AND p.max_lon >= $1 AND p.min_lat <= $2 AND p.max_lat >= $2
		AND (',' || p.services || ',') LIKE $3`, n.Location.Lon, n.Location.Lat, "%,"+n.Service+",%")
	if err != nil {
		return nil, err
	}
	out := []Proposal{}
	pt := orb.Point{n.Location.Lon, n.Location.Lat}
	for _, c := range cands {
		if ok, dist := c.covers(pt); ok {
			out = append(out, Proposal{Provider: c, DistanceM: dist, Free: c.Capacity - c.Load})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DistanceM < out[j].DistanceM })
	return out, nil
}

// Match gives an open need to a provider among its proposals. The
// provider's load is taken like a slot's seat: never above capacity, even
// with two staff matching at once.
func (s *Service) Match(ctx context.Context, needID, providerID int64) (int64, error) {
	if _, err := auth.Require(ctx, auth.ServiceHandle); err != nil {
		return 0, err
	}
	n, err := s.needFor(ctx, needID, auth.ServiceHandle)
	if err != nil {
		return 0, err
	}
	props, err := s.Propose(ctx, needID)
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(props, func(p Proposal) bool { return p.Provider.ID == providerID })
	if i < 0 {
		return 0, errs.OnField("provider", "err.services.not_proposed")
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		res, err := q.ExecContext(ctx, `UPDATE service_needs SET state = 'matched', updated_at = $2 WHERE id = $1 AND state = 'open'`, n.ID, s.now().UTC())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return conflictErr("need", "err.services.need_not_open")
		}
		res, err = q.ExecContext(ctx, `UPDATE service_providers SET load = load + 1 WHERE id = $1 AND load < capacity`, providerID)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return conflictErr("provider", "err.services.provider_full")
		}
		if err := q.QueryRowContext(ctx, `INSERT INTO service_matches (need_id, provider_id, distance_m, state, matched_by, created_at)
			VALUES ($1, $2, $3, 'active', $4, $5) RETURNING id`, n.ID, providerID, props[i].DistanceM, actorName(ctx), s.now().UTC()).Scan(&id); err != nil {
			return err
		}
		return s.record(ctx, "services.match.create", "need", n.ID, fmt.Sprintf("provider %d", providerID))
	})
	return id, err
}

// CloseMatch records how a match ended: done meets the need; failed opens
// it again for another provider. The provider's load is given back.
func (s *Service) CloseMatch(ctx context.Context, matchID int64, done bool, outcome string) error {
	if _, err := auth.Require(ctx, auth.ServiceHandle); err != nil {
		return err
	}
	outcome = strings.TrimSpace(outcome)
	if outcome == "" || !textOK(outcome, 500) {
		return errs.OnField("outcome", "err.services.outcome")
	}
	var needID, providerID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT need_id, provider_id FROM service_matches WHERE id = $1`, matchID).Scan(&needID, &providerID)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "err.services.match_not_found", matchID)
	}
	if err != nil {
		return err
	}
	if _, err := s.needFor(ctx, needID, auth.ServiceHandle); err != nil {
		return err
	}
	state, needState := "done", NeedMet
	if !done {
		state, needState = "failed", NeedOpen
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		res, err := q.ExecContext(ctx, `UPDATE service_matches SET state = $2, outcome = $3, closed_at = $4 WHERE id = $1 AND state = 'active'`,
			matchID, state, outcome, s.now().UTC())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return conflictErr("match", "err.services.match_closed")
		}
		if _, err := q.ExecContext(ctx, `UPDATE service_providers SET load = load - 1 WHERE id = $1`, providerID); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE service_needs SET state = $2, updated_at = $3 WHERE id = $1`, needID, string(needState), s.now().UTC()); err != nil {
			return err
		}
		return s.record(ctx, "services.match."+state, "need", needID, outcome)
	})
}
