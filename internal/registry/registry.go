// Package registry keeps the register of a grid (人、地、事、物、组织): the
// buildings and rooms of its standard addresses, households, residents and
// the rooms they are linked to (人房关联), special groups and care levels,
// places and organisations, public components (部件), and the grid
// worker's visits (走访) and patrols (巡查).
//
// Residents' ID and phone numbers are sealed at rest with the platform's
// crypto.Box and found again through its keyed blind index; every screen
// and API answer shows them masked, and the clear value is given only to a
// caller with registry.reveal who states a reason, which is audited.
// Names are kept plain (a grid worker works with names, and a name-prefix
// search must use an index), in a normalised column for that search.
//
// Every object belongs to a grid (area_id) and every read and write is
// scoped: a grid worker reaches the grids assigned to them, community staff
// their community's subtree; list queries filter by scope in SQL.
package registry

import (
	"context"
	"strconv"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// outOfScope is what auth.Allowed answers a caller who holds the permission
// but not over this grid: "outside your grids", which says what to do (ask
// the community, pick another grid).
const outOfScope = "err.registry.out_of_scope"

// Areas is what the register needs of the area module: the grid an object
// is placed in, and the grids a caller may see.
type Areas interface {
	Get(ctx context.Context, code string) (area.Area, error)
	List(ctx context.Context, q area.ListQuery) ([]area.Area, error)
}

// CaseReporter files a case from a visit's finding (cases.Service does).
// Through an interface, so that the register depends on the loop's entry
// point only, and tests can run without the whole case module configured.
type CaseReporter interface {
	Report(ctx context.Context, nc cases.NewCase) (cases.Receipt, error)
}

// Service keeps the register.
type Service struct {
	db    *db.DB
	store store
	audit *audit.Log
	box   *crypto.Box
	areas Areas
	now   func() time.Time
	// Cases, when set, turns a visit's finding into a case.
	Cases CaseReporter
}

// NewService returns the register service.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas Areas, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, store: store{d}, audit: log, box: box, areas: areas, now: now}
}

// Fields sealed with the box. The name is bound into the ciphertext, so a
// value copied into another column does not decrypt.
const (
	fieldIDNumber     = "resident.id_number"
	fieldPhone        = "resident.phone"
	fieldContactPhone = "place.contact_phone"
)

// placed is what every object of the register knows about its grid.
type placed struct {
	AreaID   int64  `json:"-"`
	AreaPath string `json:"-"`
	Grid     string `json:"grid"`
	GridName string `json:"grid_name"`
}

// grid resolves a grid code given in a form and checks that the caller may
// use perm there. Outside the caller's areas the area module answers "not
// found"; the register says so in its own words, on the field.
func (s *Service) grid(ctx context.Context, code string, perm auth.Perm) (area.Area, error) {
	if code == "" {
		return area.Area{}, errs.OnField("grid", "err.registry.grid_missing")
	}
	p := auth.From(ctx)
	if p == nil {
		return area.Area{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	a, err := s.areas.Get(ctx, code)
	if errs.CodeOf(err) == errs.NotFound {
		return area.Area{}, errs.OnField("grid", "err.registry.grid_unknown", code)
	}
	if err != nil {
		return area.Area{}, err
	}
	if a.Level != area.Grid {
		return area.Area{}, errs.OnField("grid", "err.registry.not_grid", code)
	}
	if err := auth.Allowed(p, perm, a.Path, outOfScope); err != nil {
		return area.Area{}, err
	}
	return a, nil
}

// Point is a location in WGS84.
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

func checkPoint(v *errs.Validation, field string, p *Point) {
	if p != nil {
		v.Check(p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90 && (p.Lon != 0 || p.Lat != 0), field, "err.registry.location")
	}
}

// Page is one page of a list, with the cursor of the next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageOf is a page of items listed by id, with the cursor of the next
// page when this one is full.
func pageOf[T any](items []T, limit int, id func(T) int64) Page[T] {
	page := Page[T]{Items: items}
	if len(items) == limit && limit > 0 {
		page.NextCursor = strconv.FormatInt(id(items[len(items)-1]), 10)
	}
	return page
}

func limitOf(n int) int {
	if n <= 0 || n > 200 {
		return 50
	}
	return n
}
