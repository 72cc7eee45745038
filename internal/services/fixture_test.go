package services

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
)

// fixture is the desk on a fresh database: a street with two
// communities, the first with two grids, and a clock the test moves.
type fixture struct {
	svc      *Service
	reg      *registry.Service
	db       *db.DB
	now      time.Time
	admin    context.Context
	street   area.Area
	comm     area.Area // 岱山社区
	other    area.Area // 黄海社区
	grid     area.Area
	staff    context.Context // community staff of comm
	worker   context.Context // grid worker of grid
	resident context.Context // a resident of comm (user 501)
	neighbor context.Context // another resident of comm (user 502)
	outsider context.Context // community staff of other
}

// monday0900 is the fixture's "now": Monday 2026-03-02 09:00 CST.
var monday0900 = time.Date(2026, 3, 2, 9, 0, 0, 0, local)

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{db: d, now: monday0900}
	clock := func() time.Time { return f.now }
	log := audit.New(d, clock)
	areas := area.NewService(d, log, auth.NewService(d, log, clock), clock)
	box, err := crypto.New([]byte(strings.Repeat("k", crypto.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	f.reg = registry.NewService(d, log, box, areas, clock)
	f.svc = NewService(d, log, box, areas, f.reg, clock)
	f.admin = auth.WithPrincipal(context.Background(), auth.System())
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001002", Name: "黄海社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001001001", Name: "岱山第一网格", Level: area.Grid, Parent: "370613001001"},
		{Code: "370613001002001", Name: "黄海第一网格", Level: area.Grid, Parent: "370613001002"},
	} {
		a, err := areas.Create(f.admin, na)
		if err != nil {
			t.Fatalf("%s: %v", na.Code, err)
		}
		switch a.Code {
		case "370613001":
			f.street = a
		case "370613001001":
			f.comm = a
		case "370613001002":
			f.other = a
		case "370613001001001":
			f.grid = a
		}
	}
	for _, uid := range []int64{501, 502, 503, 504} {
		if err := d.Write(f.admin, func(ctx context.Context) error {
			_, err := d.Q(ctx).ExecContext(ctx, `INSERT INTO users (id, name, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $2, 'x', $3, $3)`,
				uid, fmt.Sprintf("user%d", uid), clock().UTC())
			return err
		}); err != nil {
			t.Fatalf("user: %v", err)
		}
	}
	f.staff = as(auth.CommunityStaff, f.comm, 503)
	f.worker = as(auth.GridWorker, f.grid, 504)
	f.resident = as(auth.Resident, f.comm, 501)
	f.neighbor = as(auth.Resident, f.comm, 502)
	f.outsider = as(auth.CommunityStaff, f.other, 0)
	return f
}

// as is a principal holding role over a.
func as(role auth.Role, a area.Area, userID int64) context.Context {
	p := &auth.Principal{UserID: userID, Name: string(role), DisplayName: string(role), Grants: []auth.GrantInfo{{Role: role, AreaID: a.ID, AreaPath: a.Path, AreaCode: a.Code}}}
	return auth.WithPrincipal(context.Background(), p)
}

// fieldsOf lists the fields an error names with their keys.
func fieldsOf(err error) string {
	var out []string
	for _, f := range errs.As(err).Fields {
		out = append(out, f.Field+":"+f.Key)
	}
	return strings.Join(out, " ")
}

// weekdays9to5 opens Monday to Friday 09:00–12:00 and 14:00–17:00.
func weekdays9to5() Hours {
	var h Hours
	for wd := time.Monday; wd <= time.Friday; wd++ {
		h[wd] = []string{"09:00-12:00", "14:00-17:00"}
	}
	return h
}

func (f *fixture) facility(t testing.TB, in FacilityInput) Facility {
	t.Helper()
	if in.Community == "" {
		in.Community = f.comm.Code
	}
	if in.Name == "" {
		in.Name = "多功能活动室"
	}
	if in.Kind == "" {
		in.Kind = ActivityRoom
	}
	if in.Capacity == 0 {
		in.Capacity = 30
	}
	if in.Hours.empty() {
		in.Hours = weekdays9to5()
	}
	fac, err := f.svc.CreateFacility(f.staff, in)
	if err != nil {
		t.Fatalf("facility: %v", err)
	}
	return fac
}

// at is a local time on the fixture's week: day 0 is Monday 2026-03-02.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, 2+day, hour, minute, 0, 0, local)
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/demo.db")
	f := newFixture(t, d)
	if err := f.svc.SeedDemo(f.admin); err != nil {
		t.Fatal(err)
	}
	items, _ := f.svc.Items(f.resident, f.comm.Code, false)
	facs, _ := f.svc.Facilities(f.resident, FacilityQuery{Community: f.comm.Code})
	if len(items) != len(demoItems) || len(facs.Items) != 3 {
		t.Fatalf("%d items, %d facilities", len(items), len(facs.Items))
	}
}
