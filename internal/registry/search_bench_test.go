package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// TestSearchAtScale measures resident search on a large register. It runs
// only when LINLI_BENCH_RESIDENTS names a size (e.g. 1000000), and reports
// latencies in the log; it asserts nothing about time.
//
//	LINLI_BENCH_RESIDENTS=1000000 go test ./internal/registry/ -run SearchAtScale -v -timeout 30m
func TestSearchAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LINLI_BENCH_RESIDENTS"))
	if n <= 0 {
		t.Skip("set LINLI_BENCH_RESIDENTS to run")
	}
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			d := dbtest.Open(t, dsn)
			f := newFixture(t, d)
			grids := scaleGrids(t, f)
			start := time.Now()
			ids := fillRegister(t, f, d, grids, n)
			t.Logf("%d residents in %d grids stored in %s", n, len(grids), time.Since(start).Round(time.Millisecond))
			rnd := rand.New(rand.NewPCG(1, 2))
			worker := as(auth.GridWorker, grids[0])
			measure(t, "name prefix, whole register (admin)", func() { f.svc.Residents(f.admin, ResidentQuery{Name: string(demoSurnames[rnd.IntN(20)])}) })
			measure(t, "name prefix, one grid (grid worker)", func() {
				f.svc.Residents(worker, ResidentQuery{Name: string(demoSurnames[rnd.IntN(20)])})
			})
			street := as(auth.StreetStaff, area.Area{ID: 2, Path: streetPath(grids[0].Path)})
			measure(t, "name prefix, whole street (street staff)", func() {
				f.svc.Residents(street, ResidentQuery{Name: string(demoSurnames[rnd.IntN(20)])})
			})
			measure(t, "two-character prefix (admin)", func() {
				f.svc.Residents(f.admin, ResidentQuery{Name: string(demoSurnames[rnd.IntN(20)]) + string(demoGiven[rnd.IntN(len(demoGiven))])})
			})
			measure(t, "exact ID number (admin)", func() { f.svc.Residents(f.admin, ResidentQuery{IDNumber: ids[rnd.IntN(len(ids))]}) })
		})
	}
}

// streetPath is the street's path from a grid's: /district/street/community/grid/.
func streetPath(gridPath string) string {
	parts := strings.Split(strings.Trim(gridPath, "/"), "/")
	return "/" + strings.Join(parts[:2], "/") + "/"
}

// scaleGrids makes 10 communities of 20 grids under the fixture's street.
func scaleGrids(t *testing.T, f *fixture) []area.Area {
	t.Helper()
	var grids []area.Area
	areas := f.svc.areas.(*area.Service)
	for c := 3; c <= 12; c++ {
		code := fmt.Sprintf("370613001%03d", c)
		if _, err := areas.Create(f.admin, area.NewArea{Code: code, Name: "社区" + code, Level: area.Community, Parent: "370613001"}); err != nil {
			t.Fatal(err)
		}
		for g := 1; g <= 20; g++ {
			a, err := areas.Create(f.admin, area.NewArea{Code: fmt.Sprintf("%s%03d", code, g), Name: "网格", Level: area.Grid, Parent: code})
			if err != nil {
				t.Fatal(err)
			}
			grids = append(grids, a)
		}
	}
	return grids
}

// fillRegister stores n generated residents through the batch path, 5,000
// per transaction, and returns a sample of their ID numbers.
func fillRegister(t *testing.T, f *fixture, d *db.DB, grids []area.Area, n int) []string {
	t.Helper()
	gen := &demo{svc: f.svc, rnd: rand.New(rand.NewPCG(7, 7)), now: f.now, used: map[string]bool{}}
	var sample []string
	for done := 0; done < n; {
		var items []batchItem
		for ; done < n && len(items) < 5000; done++ {
			g := grids[done%len(grids)]
			id, sex, birth := gen.person(1 + gen.rnd.IntN(95))
			items = append(items, batchItem{at: placed{AreaID: g.ID, AreaPath: g.Path}, in: ResidentInput{Name: gen.name(sex), Sex: sex, BirthDate: birth,
				IDNumber: id, Phone: gen.phone(), PopType: Registered}})
			if done%1000 == 0 {
				sample = append(sample, id)
			}
		}
		if err := d.Write(f.admin, func(ctx context.Context) error { return f.svc.insertBatch(ctx, items) }); err != nil {
			t.Fatal(err)
		}
	}
	return sample
}

func measure(t *testing.T, what string, fn func()) {
	const runs = 300
	lat := make([]time.Duration, runs)
	for i := range lat {
		start := time.Now()
		fn()
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	t.Logf("%-40s p50 %8s  p99 %8s  max %8s", what, lat[runs/2].Round(time.Microsecond), lat[runs*99/100].Round(time.Microsecond),
		lat[runs-1].Round(time.Microsecond))
}
