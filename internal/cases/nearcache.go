package cases

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/db"
)

// openNear keeps the points of the open cases in memory, by category and
// cell, on a SQLite deployment, so that a report's duplicate search reads
// no database page. It was the largest read of a report: SQLite empties a
// read connection's page cache after every commit, so each search read the
// index's pages again (a sixth of the server's CPU per report at 4,000
// reports/s).
//
// The map follows this process's own moves: a report adds its case and a
// move that closes, rejects or merges one removes it, once committed.
// Other processes may write to the same file (a CLI import next to the
// server); the writer's connection sees that as a new PRAGMA data_version,
// which a search asks for, beside itself, when the last answer is older
// than nearCheckEvery, and the map is then read again from the database.
// Until it is loaded, searches go to SQL, as they always do on PostgreSQL,
// where other nodes write too.
type openNear struct {
	mu       sync.RWMutex
	cells    map[nearKey][]nearbyCase // nil: not loaded
	keyOf    map[int64]nearKey        // case id → where it is in cells
	loading  bool
	pending  []nearChange // own moves committed while a load ran
	version  int64        // the writer's data_version when the load began
	checked  time.Time    // when version was last compared, or a load last failed
	checking bool
}

type nearKey struct{ category, cell int64 }

// nearChange is a committed move of one case: its open point, or gone.
type nearChange struct {
	id, category int64
	point        *orb.Point
	createdAt    time.Time
	open         bool
}

// nearCheckEvery bounds how stale the map may be after another process
// wrote to the database: duplicates are advice, a second is soon enough.
const nearCheckEvery = time.Second

// newOpenNear returns the map for d, or nil on PostgreSQL, whose searches
// always go to the database (other nodes write there too). Every method
// does nothing on nil.
func newOpenNear(d *db.DB) *openNear {
	if d.Kind != db.SQLite {
		return nil
	}
	return &openNear{}
}

// search returns the open cases of the category in the cells within about
// radius metres of p, reported since since, and ok false when the map is
// not loaded (the caller then asks the database). Like the SQL search, the
// exact distance is the caller's to check.
func (o *openNear) search(categoryID int64, p orb.Point, radius float64, since time.Time) (out []nearbyCase, ok bool) {
	if o == nil {
		return nil, false
	}
	rLat, rLon := nearBox(p, radius)
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.cells == nil {
		return nil, false
	}
	for _, r := range cellRanges(p[1], p[0], rLat, rLon) {
		for cell := r[0]; cell <= r[1]; cell++ {
			for _, n := range o.cells[nearKey{categoryID, cell}] {
				if !n.createdAt.Before(since) {
					out = append(out, n)
				}
			}
		}
	}
	return out, true
}

// nearBox is the half-height and half-width, in degrees, of the box the
// duplicate search reads around p: 1 % more than the radius, and a degree
// of longitude shrinks by cos φ.
func nearBox(p orb.Point, radius float64) (rLat, rLon float64) {
	const metresPerDegree = 111_000 // a little less than on the sphere: generous
	rLat = radius * 1.01 / metresPerDegree
	return rLat, rLat / max(math.Cos(p[1]*math.Pi/180), 0.01)
}

// moved records the move of a case in ctx's transaction, applied to the
// map once the transaction has committed.
func (o *openNear) moved(ctx context.Context, ch nearChange) {
	if o == nil {
		return
	}
	db.AfterCommit(ctx, func() { o.apply(ch) })
}

func (o *openNear) apply(ch nearChange) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.loading {
		o.pending = append(o.pending, ch)
	}
	if o.cells != nil {
		o.applyLocked(ch)
	}
}

// applyLocked puts the case where its point is, or takes it out; applying
// the same change twice changes nothing.
func (o *openNear) applyLocked(ch nearChange) {
	if k, ok := o.keyOf[ch.id]; ok {
		o.cells[k] = slices.DeleteFunc(o.cells[k], func(n nearbyCase) bool { return n.id == ch.id })
		if len(o.cells[k]) == 0 {
			delete(o.cells, k)
		}
		delete(o.keyOf, ch.id)
	}
	if !ch.open || ch.point == nil || ch.category == 0 {
		return
	}
	k := nearKey{ch.category, nearCell(ch.point[1], ch.point[0])}
	o.cells[k] = append(o.cells[k], nearbyCase{id: ch.id, point: *ch.point, createdAt: ch.createdAt})
	o.keyOf[ch.id] = k
}

// refresh loads the map if it is not loaded, and reloads it if another
// process has written to the database since; it runs beside the searches
// (at most one at a time), which meanwhile use the map as it is or SQL.
func (o *openNear) refresh(s store) {
	if o == nil {
		return
	}
	// At most one check a second, a failed load included: a load that
	// fails (a damaged index, a locked file) must not be tried again, and
	// logged, on every search.
	o.mu.Lock()
	due := !o.checking && !o.loading && time.Since(o.checked) >= nearCheckEvery
	if due {
		o.checking = true
	}
	o.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx := context.Background()
		err := o.reloadIfChanged(ctx, s)
		o.mu.Lock()
		o.checking = false
		o.checked = time.Now()
		o.mu.Unlock()
		if err != nil {
			slog.Warn("the open cases' points could not be read; duplicates are searched in the database", "err", err)
		}
	}()
}

func (o *openNear) reloadIfChanged(ctx context.Context, s store) error {
	// The version first, then the cases: a write by another process in
	// between is in the cases read and makes the next check load again.
	version, err := s.writerDataVersion(ctx)
	if err != nil {
		return err
	}
	o.mu.Lock()
	if o.cells != nil && version == o.version {
		o.mu.Unlock()
		return nil
	}
	o.loading, o.pending = true, nil
	o.mu.Unlock()
	all, err := s.openPoints(ctx)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.loading = false
	if err != nil {
		o.cells, o.keyOf, o.pending = nil, nil, nil
		return err
	}
	o.cells, o.keyOf, o.version = map[nearKey][]nearbyCase{}, map[int64]nearKey{}, version
	for _, ch := range all {
		o.applyLocked(ch)
	}
	for _, ch := range o.pending { // own moves committed during the load
		o.applyLocked(ch)
	}
	o.pending = nil
	return nil
}

// writerDataVersion is SQLite's data_version as the writer's connection
// sees it: it changes when another connection commits, and nothing else
// writes to the file from this process.
func (s store) writerDataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.Write(ctx, func(ctx context.Context) error {
		return s.db.Q(ctx).QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	})
	return v, err
}

// openPoints reads every open case that has a point, from the partial
// index of open cases alone.
func (s store) openPoints(ctx context.Context) ([]nearChange, error) {
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (nearChange, error) {
		ch := nearChange{point: &orb.Point{}, open: true}
		err := row.Scan(&ch.id, &ch.category, &ch.point[0], &ch.point[1], &ch.createdAt)
		return ch, err
	}, `SELECT id, category_id, lon, lat, created_at FROM cases INDEXED BY cases_near
		WHERE category_id IS NOT NULL AND near_cell IS NOT NULL AND `+stillOpen)
}
