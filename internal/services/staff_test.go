package services

import (
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
)

// TestStaffPagesService covers what the staff pages add to the service:
// changing a provider, a need recorded by register number, the matches of
// a need, and the closed days of a facility.
func TestStaffPagesService(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p, err := f.svc.CreateProvider(f.staff, ProviderInput{Area: f.comm.Code, Name: "助餐点", Kind: CommunityP, Services: []string{"meal_delivery"},
			Location: &Point{121.4265, 37.4825}, RadiusM: 1000, Capacity: 1})
		if err != nil {
			t.Fatal(err)
		}
		in := ProviderInput{Name: "岱山助餐点", Kind: SocialOrg, Services: []string{"meal_delivery", "home_care"}, Capacity: 3}
		if _, err := f.svc.UpdateProvider(f.staff, p.ID, in, true); fieldsOf(err) != "service_area:err.services.no_service_area" {
			t.Fatalf("provider changed to no service area: %v", err)
		}
		in.Location, in.RadiusM = &Point{121.4265, 37.4825}, 2000
		if _, err := f.svc.UpdateProvider(f.outsider, p.ID, in, true); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another community's staff: %v", err)
		}
		if _, err := f.svc.UpdateProvider(f.resident, p.ID, in, true); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a resident: %v", err)
		}
		if _, err := f.svc.UpdateProvider(f.worker, p.ID, in, true); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a grid worker: %v", err)
		}
		p, err = f.svc.UpdateProvider(f.staff, p.ID, in, true)
		if err != nil || p.Name != "岱山助餐点" || p.RadiusM != 2000 || p.Capacity != 3 || len(p.Services) != 2 || p.Area != f.comm.Code {
			t.Fatalf("provider changed: %v %+v", err, p)
		}

		// A need recorded by register number takes the resident's name and grid.
		res, err := f.reg.CreateResident(f.staff, registry.ResidentInput{Grid: f.grid.Code, Name: "张桂兰", IDNumber: "370613194503121223"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RecordNeed(f.worker, NeedInput{ResidentID: res.ID + 1000, Service: "meal_delivery", Location: &Point{121.4270, 37.4830}}); fieldsOf(err) != "resident_id:err.services.resident_unknown" {
			t.Fatalf("need for an unknown resident: %v", err)
		}
		need, err := f.svc.RecordNeed(f.worker, NeedInput{ResidentID: res.ID, Service: "meal_delivery", Location: &Point{121.4270, 37.4830}})
		if err != nil || need.Person != "张桂兰" || need.Grid != f.grid.Code || need.ResidentID != res.ID {
			t.Fatalf("need by register number: %v %+v", err, need)
		}
		m, err := f.svc.Match(f.worker, need.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.MatchNeed(f.staff, m); err != nil || n != need.ID {
			t.Fatalf("match's need: %v %d", err, n)
		}
		if _, err := f.svc.MatchNeed(f.outsider, m); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another community's match: %v", err)
		}
		if err := f.svc.CloseMatch(f.worker, m, true, "每日送餐"); err != nil {
			t.Fatal(err)
		}
		ms, err := f.svc.Matches(f.staff, need.ID)
		if err != nil || len(ms) != 1 || ms[0].State != "done" || ms[0].Outcome != "每日送餐" || ms[0].ProviderName != "岱山助餐点" || ms[0].ClosedAt == nil {
			t.Fatalf("matches: %v %+v", err, ms)
		}
		if _, err := f.svc.Matches(f.resident, need.ID); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a resident reading matches: %v", err)
		}

		// Closed days from today on, and opening one again.
		fac := f.facility(t, FacilityInput{})
		if _, err := f.svc.Block(f.staff, fac.ID, "2026-03-04", "消防检查"); err != nil {
			t.Fatal(err)
		}
		if bs, err := f.svc.Blocks(f.staff, fac.ID); err != nil || len(bs) != 1 || bs[0].Day != "2026-03-04" || bs[0].Reason != "消防检查" {
			t.Fatalf("blocks: %v %+v", err, bs)
		}
		if err := f.svc.Unblock(f.staff, fac.ID, "4 March"); fieldsOf(err) != "day:err.services.day_format" {
			t.Fatalf("unblock a bad day: %v", err)
		}
		if err := f.svc.Unblock(f.staff, fac.ID, "2026-03-04"); err != nil {
			t.Fatal(err)
		}
		if bs, _ := f.svc.Blocks(f.staff, fac.ID); len(bs) != 0 {
			t.Fatalf("blocks after unblocking: %+v", bs)
		}
	})
}
