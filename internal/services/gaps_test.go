package services

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// addResidents puts n residents into a grid straight into the register's
// table, born in the given year: the report only counts them.
func addResidents(t testing.TB, d *db.DB, g area.Area, n int, born int) {
	t.Helper()
	ctx := context.Background()
	err := d.Write(ctx, func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx, `WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < $1)
			INSERT INTO registry_residents (area_id, area_path, name, name_key, sex, birth_date, id_enc, id_idx, pop_type, created_at, updated_at)
			SELECT $2, $3, '居民', 'jm', 'f', $4, '', $5 || x, 'registered', $6, $6 FROM seq`,
			n, g.ID, g.Path, fmt.Sprintf("%d-06-01", born), fmt.Sprintf("g%d-%d-", g.ID, born), monday0900.UTC())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGapReport(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		addResidents(t, d, f.grid, 900, 1990)
		addResidents(t, d, f.grid, 100, 1950)
		og, err := f.svc.areas.(*area.Service).Create(f.admin, area.NewArea{Code: "370613001002002", Name: "黄海第二网格", Level: area.Grid, Parent: f.other.Code})
		if err != nil {
			t.Fatal(err)
		}
		addResidents(t, d, og, 500, 1940)
		room := f.facility(t, FacilityInput{Capacity: 40})
		if _, err := f.svc.Book(f.resident, BookingInput{Facility: room.ID, Start: at(1, 9, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RecordNeed(f.worker, NeedInput{Grid: f.grid.Code, Person: "王秀英", Service: "meal_delivery", Location: &Point{121.42, 37.48}}); err != nil {
			t.Fatal(err)
		}
		street := as(auth.StreetStaff, f.street, 0)
		rep, err := f.svc.Gaps(street, f.street.Code, "2026-03-02", "2026-03-09")
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 2 {
			t.Fatalf("rows: %+v", rep.Rows)
		}
		ds, hh := rep.Rows[0], rep.Rows[1]
		// 岱山: 1,000 residents, 100 older, 40 places; 5 working days × 6 slots offered, 1 taken.
		if ds.Residents != 1000 || ds.Older != 100 || ds.Capacity != 40 || ds.CapacityPer1000 != 40 || ds.OlderPer1000 != 400 ||
			ds.SlotsOffered != 30 || ds.SlotsTaken != 1 || ds.Utilisation != 0.033 || ds.UnmetNeeds != 1 {
			t.Fatalf("岱山: %+v", ds)
		}
		if hh.Residents != 500 || hh.Older != 500 || hh.Facilities != 0 || hh.CapacityPer1000 != 0 || rep.Total.Residents != 1500 {
			t.Fatalf("黄海: %+v total %+v", hh, rep.Total)
		}
		// The count is kept for PopulationTTL, then taken again.
		addResidents(t, d, f.grid, 1000, 1995)
		if again, _ := f.svc.Gaps(street, f.street.Code, "2026-03-02", "2026-03-09"); again.Rows[0].Residents != 1000 || !again.PopulationAt.Equal(rep.PopulationAt) {
			t.Fatalf("population counted again within the TTL: %+v", again.Rows[0])
		}
		// After it, the stale count is answered at once and counted again
		// in the background for the next request.
		f.now = f.now.Add(PopulationTTL)
		if stale, _ := f.svc.Gaps(street, f.street.Code, "2026-03-02", "2026-03-09"); stale.Rows[0].Residents != 1000 {
			t.Fatalf("stale count: %+v", stale.Rows[0])
		}
		f.svc.Wait()
		if later, _ := f.svc.Gaps(street, f.street.Code, "2026-03-02", "2026-03-09"); later.Rows[0].Residents != 2000 || later.Rows[0].Older != 100 || !later.PopulationAt.Equal(f.now) {
			t.Fatalf("population not counted again after the TTL: %+v", later.Rows[0])
		}
		if _, err := f.svc.Gaps(f.staff, f.street.Code, "", ""); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("community staff reading the street: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteGapsXLSX(&buf, rep, make([]string, 12)); err != nil || buf.Len() < 1000 || !bytes.HasPrefix(buf.Bytes(), []byte("PK")) {
			t.Fatalf("xlsx: %v %d bytes", err, buf.Len())
		}
	})
}

// BenchmarkGapReport1M renders the gap report of a street with 50
// communities (2 grids each), 1,000,000 residents, a facility per
// community and a year of bookings on SQLite:
//
//	go test ./internal/services/ -run XXX -bench GapReport1M -benchtime 20x
func BenchmarkGapReport1M(b *testing.B) {
	d := dbtest.Open(b, "sqlite:"+b.TempDir()+"/bench.db")
	f := newFixture(b, d)
	ctx := f.admin
	for c := 3; c <= 52; c++ {
		code := fmt.Sprintf("370613001%03d", c)
		comm, err := f.svc.areas.(*area.Service).Create(ctx, area.NewArea{Code: code, Name: fmt.Sprintf("社区%d", c), Level: area.Community, Parent: f.street.Code})
		if err != nil {
			b.Fatal(err)
		}
		for g := 1; g <= 2; g++ {
			grid, err := f.svc.areas.(*area.Service).Create(ctx, area.NewArea{Code: fmt.Sprintf("%s%03d", code, g), Name: "网格", Level: area.Grid, Parent: code})
			if err != nil {
				b.Fatal(err)
			}
			addResidents(b, d, grid, 8000, 1985)
			addResidents(b, d, grid, 2000, 1950)
		}
		f.staff = as(auth.CommunityStaff, comm, 503)
		fac := f.facility(b, FacilityInput{Community: code, Capacity: 50})
		if _, err := f.svc.Book(f.staff, BookingInput{Facility: fac.ID, Start: at(1, 9, 0), Weeks: 26, Group: "合唱团"}); err != nil {
			b.Fatal(err)
		}
	}
	street := as(auth.StreetStaff, f.street, 0)
	rep, err := f.svc.Gaps(street, f.street.Code, "", "")
	if err != nil || rep.Total.Residents != 1_000_000 {
		b.Fatalf("%v %d residents", err, rep.Total.Residents)
	}
	// warm: a street whose population has been counted before, as every
	// request finds it (a stale count is refreshed in the background);
	// first: the very first report of a street, which waits for the count.
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.Gaps(street, f.street.Code, "", "2026-09-01"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			if err := d.Write(ctx, func(ctx context.Context) error {
				_, err := d.Q(ctx).ExecContext(ctx, `DELETE FROM service_population_runs`)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			if _, err := f.svc.Gaps(street, f.street.Code, "", "2026-09-01"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
