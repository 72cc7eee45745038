package area

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
)

// Ref names an area in a location.
type Ref struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Location is where a point falls: its grid and the areas above it.
type Location struct {
	GridID    int64 `json:"-"`
	Grid      Ref   `json:"grid"`
	Kind      Kind  `json:"kind"`
	Community Ref   `json:"community"`
	Street    Ref   `json:"street"`
	District  Ref   `json:"district"`
}

// locator answers point lookups from memory. Every node keeps one; it is
// rebuilt when this node changes a boundary (invalidate after commit) and
// when another node did (the boundaries counter moved, seen by Watch).
type locator struct {
	svc     *Service
	stale   atomic.Bool
	reload  sync.Mutex // one rebuild at a time
	mu      sync.RWMutex
	index   *geo.Index
	places  map[int64]Location
	version int64 // the counter value the index was built from
}

func (l *locator) invalidate() { l.stale.Store(true) }

// Locate returns the grid containing p (WGS84), or ok = false when p lies
// outside every grid. Points on a shared edge belong to exactly one grid,
// by the rule documented in platform/geo.
func (s *Service) Locate(ctx context.Context, p orb.Point) (Location, bool, error) {
	if err := s.locator.fresh(ctx); err != nil {
		return Location{}, false, err
	}
	l := s.locator
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.index == nil {
		return Location{}, false, nil
	}
	key, ok := l.index.Locate(p)
	if !ok {
		return Location{}, false, nil
	}
	return l.places[key], true, nil
}

// fresh rebuilds the index if it was never built or was invalidated.
func (l *locator) fresh(ctx context.Context) error {
	l.mu.RLock()
	built := l.index != nil
	l.mu.RUnlock()
	if built && !l.stale.Load() {
		return nil
	}
	return l.rebuild(ctx)
}

// rebuild loads the current grid boundaries and swaps in a new index.
func (l *locator) rebuild(ctx context.Context) error {
	l.reload.Lock()
	defer l.reload.Unlock()
	l.stale.Store(false) // changes committed from here on mark it stale again
	version, err := l.svc.db.Counter(ctx, "boundaries")
	if err != nil {
		return err
	}
	shapes, places, err := l.svc.store.gridShapes(ctx)
	if err != nil {
		return err
	}
	ix, err := geo.Build(shapes)
	if err != nil {
		return errs.Wrap(err, "err.area.index")
	}
	l.mu.Lock()
	l.index, l.places, l.version = ix, places, version
	l.mu.Unlock()
	return nil
}

// Watch rebuilds the index when another node changed a boundary, until
// ctx ends. Every node runs it.
func (s *Service) Watch(ctx context.Context, every time.Duration, log *slog.Logger) {
	s.db.WatchCounter(ctx, "boundaries", every, log, s.IndexVersion, s.locator.rebuild)
}

// IndexVersion is the boundaries counter the node's index reflects.
func (s *Service) IndexVersion() int64 {
	s.locator.mu.RLock()
	defer s.locator.mu.RUnlock()
	return s.locator.version
}

// ancestry builds each grid's Location from the areas above it, found
// through the ids of its path.
func ancestry(grid Area, byID map[int64]Area) Location {
	loc := Location{GridID: grid.ID, Grid: Ref{grid.Code, grid.Name}, Kind: grid.Kind}
	for _, part := range strings.Split(strings.Trim(grid.Path, "/"), "/") {
		id, _ := strconv.ParseInt(part, 10, 64)
		a, ok := byID[id]
		if !ok {
			continue
		}
		switch a.Level {
		case Community:
			loc.Community = Ref{a.Code, a.Name}
		case Street:
			loc.Street = Ref{a.Code, a.Name}
		case District:
			loc.District = Ref{a.Code, a.Name}
		}
	}
	return loc
}

func itoa(n int) string { return strconv.Itoa(n) }

func errNoBoundary(code string) error { return errs.E(errs.NotFound, "err.area.no_boundary", code) }
