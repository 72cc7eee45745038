package area_test

import (
	"context"
	"testing"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// Community staff name the workers of their grids; a worker's scope
// follows: they see their grid, and lose it when taken off.
func TestAssigningGridWorkers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		accounts := auth.NewService(d, audit.New(d, nil), nil)
		svc := area.NewService(d, audit.New(d, nil), accounts, nil)
		seed(t, svc)
		for _, nu := range []auth.NewUser{
			{Name: "wangfang", Password: "correct horse battery", Role: auth.CommunityStaff, AreaCode: "370613001001"},
			{Name: "zhaolei", Password: "correct horse battery", Role: auth.CommunityStaff, AreaCode: "370613001002"},
			{Name: "liqiang", Password: "correct horse battery", Role: auth.Resident, AreaCode: "370613001001"},
			{Name: "sunli", Password: "correct horse battery", Role: auth.Resident, AreaCode: "370613001001"},
		} {
			if _, err := accounts.CreateUser(system, nu); err != nil {
				t.Fatal(err)
			}
		}
		as := func(name string) context.Context {
			_, p, err := accounts.Login(context.Background(), name, "correct horse battery", "")
			if err != nil {
				t.Fatal(err)
			}
			return auth.WithPrincipal(context.Background(), p)
		}
		staff := as("wangfang")
		grid := "370613001001001"
		if err := svc.AssignWorker(staff, grid, "liqiang", area.DutyLeader); err != nil {
			t.Fatal(err)
		}
		if err := svc.AssignWorker(staff, grid, "sunli", area.DutyLeader); err != nil {
			t.Fatal(err)
		}
		members, err := svc.Members(staff, grid)
		if err != nil || len(members) != 2 || members[0].Name != "sunli" || members[0].Duty != area.DutyLeader || members[1].Duty != area.DutyMember {
			t.Fatalf("one leader, the newest, first: %+v %v", members, err)
		}
		worker := as("liqiang")
		if !auth.From(worker).HasRole(auth.GridWorker) {
			t.Fatal("an assigned worker has no grid_worker grant")
		}
		if _, err := svc.Get(worker, grid); err != nil {
			t.Fatalf("the worker cannot see their grid: %v", err)
		}
		// Staff of another community may not touch this grid.
		if err := svc.AssignWorker(as("zhaolei"), grid, "liqiang", area.DutyMember); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("other community's staff: %v", err)
		}
		for _, bad := range []struct {
			grid, user string
			duty       area.Duty
			code       errs.Code
		}{
			{grid, "liqiang", "boss", errs.Invalid},
			{"370613001001", "liqiang", area.DutyMember, errs.Invalid}, // a community, not a grid
			{grid, "nobody", area.DutyMember, errs.NotFound},
			{"370613001001999", "liqiang", area.DutyMember, errs.NotFound},
		} {
			if err := svc.AssignWorker(staff, bad.grid, bad.user, bad.duty); errs.CodeOf(err) != bad.code {
				t.Errorf("assign %+v: %v", bad, err)
			}
		}
		if err := svc.RemoveWorker(staff, grid, "liqiang"); err != nil {
			t.Fatal(err)
		}
		if err := svc.RemoveWorker(staff, grid, "liqiang"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("removing twice: %v", err)
		}
		if auth.From(as("liqiang")).HasRole(auth.GridWorker) {
			t.Fatal("the grant outlived the assignment")
		}
	})
}
