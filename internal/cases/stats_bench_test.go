package cases_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The dashboard at the scale of a district with 10,000,000 cases.
//
//	go test ./internal/cases/ -run '^$' -bench Dashboard -benchtime 200x -timeout 2h
//	LINLI_TEST_POSTGRES=postgres://… go test ./internal/cases/ -run '^$' -bench Dashboard/postgres -benchtime 200x -timeout 2h
//
// LINLI_BENCH_SQLITE=/path/file.db keeps the SQLite world between runs
// (filled by the first); LINLI_BENCH_CASES=1000000 makes a smaller one.
//
// The world is 1 district, 5 streets, 50 communities, 300 grids, the 32
// default categories and 20 handling units, over 365 days. The daily
// counters that 10,000,000 cases leave in case_stats are written directly,
// a day per transaction: they are aggregates, so writing them is the honest
// equivalent of running the cases (which the tests do, and which at this
// size would take hours). Each case is drawn with its category (skewed: a
// few categories make most cases), its unit (the category's usual unit nine
// times in ten), and its outcome (accepted, dispatched, reworked, extended,
// closed on time or not or deferred, called back with an answer); it adds
// to the row of its grid, day, category and unit 0 for the intake moves,
// and to the row with its unit for the handling moves, as the loop does.
// case_stats_rollup is then built from case_stats by RebuildRollup, with
// the statements of migration 00005 (on PostgreSQL spread over shards, as
// the moves spread it; the tests prove the moves and the rebuild agree).
//
// Each iteration asks what the district's dashboard shows, one grouping at
// a time: by street (with the total), by category, by unit, and the
// monthly series of the trend chart ("page" is the four together), then a
// grid's categories, which come from case_stats. It reports p50 and p95
// per view and asserts nothing about time.

// benchCases can be made smaller with LINLI_BENCH_CASES, to try a change.
var benchCases = func() int64 {
	if n, err := strconv.ParseInt(os.Getenv("LINLI_BENCH_CASES"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}()

const (
	benchDays    = 365
	benchStreets = 5
	benchComms   = 10 // per street
	benchGrids   = 6  // per community
	benchUnits   = 20
)

// benchWorld is the filled database and a supervisor of the district.
type benchWorld struct {
	d     *db.DB
	svc   *cases.Service
	as    context.Context
	rows  int64
	cases int64
}

func BenchmarkDashboard(b *testing.B) {
	engines := dbtest.Engines(b)
	if path := os.Getenv("LINLI_BENCH_SQLITE"); path != "" {
		// A file kept between runs: filled by the first, reused after.
		engines[db.SQLite] = "sqlite:" + path
	}
	for kind, dsn := range engines {
		b.Run(string(kind), func(b *testing.B) {
			w := newBenchWorld(b, dsn)
			// The district's views make the page; a grid's categories, read
			// from case_stats (the rollup has no rows by category for a
			// case's own area), are timed on their own.
			views := []struct {
				name string
				q    cases.KPIQuery
			}{
				{"area", cases.KPIQuery{AreaCode: "370613", Group: cases.ByArea}},
				{"category", cases.KPIQuery{AreaCode: "370613", Group: cases.ByCategory}},
				{"unit", cases.KPIQuery{AreaCode: "370613", Group: cases.ByUnit}},
				{"month", cases.KPIQuery{AreaCode: "370613", Group: cases.ByMonth}},
				{"grid-category", cases.KPIQuery{AreaCode: "370613001001001", Group: cases.ByCategory}},
			}
			const pageViews = 4
			per := make([][]time.Duration, len(views)+1)
			b.ResetTimer()
			for b.Loop() {
				var page time.Duration
				for i, v := range views {
					t := time.Now()
					r, err := w.svc.KPIReport(w.as, v.q)
					if err != nil {
						b.Fatal(err)
					}
					took := time.Since(t)
					if i < pageViews && r.Total.Reported != w.cases || len(r.Rows) == 0 {
						b.Fatalf("%s: %d cases in %d rows, want %d", v.name, r.Total.Reported, len(r.Rows), w.cases)
					}
					per[i] = append(per[i], took)
					if i < pageViews {
						page += took
					}
				}
				per[len(views)] = append(per[len(views)], page)
			}
			b.StopTimer()
			for i, v := range views {
				reportQuantiles(b, v.name, per[i])
			}
			reportQuantiles(b, "page", per[len(views)])
		})
	}
}

func reportQuantiles(b *testing.B, name string, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), name+"-p50-ms")
	b.ReportMetric(q(0.95), name+"-p95-ms")
}

var benchWorlds sync.Map // dsn → *benchWorld

func newBenchWorld(b testing.TB, dsn string) *benchWorld {
	if w, ok := benchWorlds.Load(dsn); ok {
		return w.(*benchWorld)
	}
	b.Helper()
	ctx := context.Background()
	d := dbtest.Open(b, dsn)
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := audit.New(d, clock)
	box, _ := crypto.New(bytes.Repeat([]byte{7}, crypto.KeySize))
	accts := auth.NewService(d, log, clock)
	areas := area.NewService(d, log, accts, clock)
	svc := cases.NewService(d, log, box, areas, wallClock{}, clock)
	w := &benchWorld{d: d, svc: svc}
	var filled int64
	if err := d.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM case_stats").Scan(&filled); err != nil {
		b.Fatal(err)
	}
	if filled == 0 {
		fillWorld(b, w, areas)
	}
	var rolled int64
	if err := d.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*), SUM(reported) FROM case_stats").Scan(&w.rows, &w.cases); err != nil {
		b.Fatal(err)
	}
	if err := d.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM case_stats_rollup").Scan(&rolled); err != nil {
		b.Fatal(err)
	}
	if rolled == 0 {
		t0 := time.Now()
		if err := svc.RebuildRollup(ctx); err != nil {
			b.Fatal(err)
		}
		analyze(b, d)
		if err := d.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM case_stats_rollup").Scan(&rolled); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d rollup rows built from %d case_stats rows in %s", d.Kind, rolled, w.rows, time.Since(t0).Round(time.Second))
	}
	if _, err := accts.Lookup(system, "supervisor"); err != nil {
		if _, err := accts.CreateUser(system, auth.NewUser{Name: "supervisor", Password: "correct horse battery",
			Role: auth.Supervisor, AreaCode: "370613"}); err != nil {
			b.Fatal(err)
		}
	}
	_, p, err := accts.Login(ctx, "supervisor", "correct horse battery", "")
	if err != nil {
		b.Fatal(err)
	}
	w.as = auth.WithPrincipal(ctx, p)
	benchWorlds.Store(dsn, w)
	return w
}

// fillWorld makes the district and its units, and fills case_stats.
func fillWorld(b testing.TB, w *benchWorld, areas *area.Service) {
	ctx := context.Background()
	d, svc := w.d, w.svc
	if err := svc.EnsureCategories(ctx); err != nil {
		b.Fatal(err)
	}
	mk := func(na area.NewArea) {
		if _, err := areas.Create(system, na); err != nil {
			b.Fatal(err)
		}
	}
	mk(area.NewArea{Code: "370613", Name: "莱山区", Level: area.District})
	for s := 1; s <= benchStreets; s++ {
		sc := fmt.Sprintf("370613%03d", s)
		mk(area.NewArea{Code: sc, Name: fmt.Sprintf("第%d街道", s), Level: area.Street, Parent: "370613"})
		for c := 1; c <= benchComms; c++ {
			cc := fmt.Sprintf("%s%03d", sc, c)
			mk(area.NewArea{Code: cc, Name: fmt.Sprintf("第%d社区", c), Level: area.Community, Parent: sc})
			for g := 1; g <= benchGrids; g++ {
				mk(area.NewArea{Code: fmt.Sprintf("%s%03d", cc, g), Name: fmt.Sprintf("第%d网格", g), Level: area.Grid, Parent: cc})
			}
		}
	}
	for u := range benchUnits {
		if err := svc.CreateUnit(system, fmt.Sprintf("u%02d", u), fmt.Sprintf("处置单位%d", u), fmt.Sprintf("370613%03d", u%benchStreets+1)); err != nil {
			b.Fatal(err)
		}
	}
	ids := func(query string) []int64 {
		rows, err := d.Q(ctx).QueryContext(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	grids := ids("SELECT id FROM areas WHERE level = 'grid' ORDER BY id")
	cats := ids("SELECT id FROM case_categories WHERE parent_id IS NOT NULL ORDER BY id")
	units := ids("SELECT id FROM units ORDER BY id")

	start := time.Date(2025, 11, 27, 0, 0, 0, 0, time.UTC)
	t0 := time.Now()
	rows, cases := fillStats(b, d, grids, cats, units, start)
	b.Logf("%s: %d case_stats rows for %d cases written in %s", d.Kind, rows, cases, time.Since(t0).Round(time.Second))
}

// fillStats writes the counters of benchCases cases, spread evenly over
// the grids and days, and returns the rows written and the cases.
func fillStats(b testing.TB, d *db.DB, grids, cats, units []int64, start time.Time) (rows, total int64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	// Skewed categories: weight 1/(rank+1).
	cum := make([]float64, len(cats))
	sum := 0.0
	for i := range cats {
		sum += 1 / float64(i+1)
		cum[i] = sum
	}
	pickCat := func() int {
		x := rng.Float64() * sum
		return sort.SearchFloat64s(cum, x)
	}
	usual := make([]int, len(cats))
	for i := range usual {
		usual[i] = rng.IntN(len(units))
	}
	type key struct{ unit, cat int64 }
	pairs := int64(len(grids) * benchDays)
	base, extra := benchCases/pairs, benchCases%pairs
	var n int64
	var sb strings.Builder
	const perInsert = 500
	inRow := 0
	flush := func(ctx context.Context) error {
		if inRow == 0 {
			return nil
		}
		_, err := d.Q(ctx).ExecContext(ctx, sb.String())
		sb.Reset()
		inRow = 0
		return err
	}
	for day := range benchDays {
		ds := start.AddDate(0, 0, day).Format(time.DateOnly)
		err := d.Write(ctx, func(ctx context.Context) error {
			for _, g := range grids {
				k := base
				if n < extra {
					k++
				}
				n++
				acc := map[key]*[16]int64{}
				add := func(k key) *[16]int64 {
					c := acc[k]
					if c == nil {
						c = new([16]int64)
						acc[k] = c
					}
					return c
				}
				for range k {
					ci := pickCat()
					cat := cats[ci]
					unit := units[usual[ci]]
					if rng.IntN(10) == 0 {
						unit = units[rng.IntN(len(units))]
					}
					in := add(key{0, cat})
					in[0]++ // reported
					if rng.IntN(100) < 5 {
						in[2]++ // rejected
						continue
					}
					in[1]++                // accepted
					if rng.IntN(100) < 3 { // fixed on the spot
						in[4]++
						continue
					}
					h := add(key{unit, cat})
					h[3]++ // dispatched
					h[7]++ // feedback
					if rng.IntN(100) < 3 {
						h[8]++ // reworked
						h[7]++
					}
					if rng.IntN(100) < 2 {
						h[9]++ // extended
					}
					if rng.IntN(100) < 4 {
						continue // still open
					}
					h[4]++ // closed
					switch r := rng.IntN(100); {
					case r < 1:
						h[6]++ // deferred
					case r < 90:
						h[5]++ // on time
					}
					if rng.IntN(100) < 80 {
						h[10]++ // callback
						if rng.IntN(100) < 98 {
							h[11]++
						}
						if rng.IntN(100) < 85 {
							h[12]++
						}
						switch r := rng.IntN(100); {
						case r < 70:
							h[13]++
						case r < 90:
							h[14]++
						default:
							h[15]++
						}
					}
				}
				total += k
				for k, c := range acc {
					if inRow == 0 {
						sb.WriteString("INSERT INTO case_stats (day, area_id, unit_id, category_id, reported, accepted, rejected, dispatched, " +
							"closed, closed_on_time, closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, " +
							"basically_satisfied, unsatisfied) VALUES ")
					} else {
						sb.WriteByte(',')
					}
					sb.WriteString("('" + ds + "'," + strconv.FormatInt(g, 10) + "," + strconv.FormatInt(k.unit, 10) + "," + strconv.FormatInt(k.cat, 10))
					for _, v := range c {
						sb.WriteByte(',')
						sb.WriteString(strconv.FormatInt(v, 10))
					}
					sb.WriteByte(')')
					inRow++
					rows++
					if inRow == perInsert {
						if err := flush(ctx); err != nil {
							return err
						}
					}
				}
			}
			return flush(ctx)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return rows, total
}

// analyze gives the planner the tables' statistics, as an operator's
// routine maintenance (or PostgreSQL's autovacuum) would.
func analyze(b testing.TB, d *db.DB) {
	if err := d.Write(context.Background(), func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx, "ANALYZE")
		return err
	}); err != nil {
		b.Fatal(err)
	}
}
