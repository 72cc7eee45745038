package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/idcard"
)

// fixture is a register on a fresh database: one community with two
// grids, a worker for each grid, and a clock the test moves.
type fixture struct {
	svc    *Service
	db     *db.DB
	now    time.Time
	admin  context.Context
	grid1  area.Area
	grid2  area.Area
	staff  context.Context // community staff of the community
	worker context.Context // grid worker of grid 1 only
	other  context.Context // grid worker of grid 2 only
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{db: d, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	log := audit.New(d, clock)
	areas := area.NewService(d, log, auth.NewService(d, log, clock), clock)
	box, err := crypto.New([]byte(strings.Repeat("k", crypto.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	f.svc = NewService(d, log, box, areas, clock)
	f.admin = auth.WithPrincipal(context.Background(), auth.System())
	var community area.Area
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001001001", Name: "岱山第一网格", Level: area.Grid, Parent: "370613001001"},
		{Code: "370613001001002", Name: "岱山第二网格", Level: area.Grid, Parent: "370613001001"},
	} {
		a, err := areas.Create(f.admin, na)
		if err != nil {
			t.Fatalf("%s: %v", na.Code, err)
		}
		switch a.Level {
		case area.Community:
			community = a
		case area.Grid:
			if f.grid1.ID == 0 {
				f.grid1 = a
			} else {
				f.grid2 = a
			}
		}
	}
	f.staff = as(auth.CommunityStaff, community)
	f.worker = as(auth.GridWorker, f.grid1)
	f.other = as(auth.GridWorker, f.grid2)
	cal := cases.NewCalendars(d, log, clock)
	if err := cal.Load(f.admin); err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(d, log, box, areas, cal, clock)
	if err := cs.EnsureCategories(f.admin); err != nil {
		t.Fatal(err)
	}
	f.svc.Cases = cs
	return f
}

// as is a principal holding role over a.
func as(role auth.Role, a area.Area) context.Context {
	p := &auth.Principal{UserID: 0, Name: string(role), Grants: []auth.GrantInfo{{Role: role, AreaID: a.ID, AreaPath: a.Path, AreaCode: a.Code}}}
	return auth.WithPrincipal(context.Background(), p)
}

// makeID builds a valid ID number from region, birth date and sequence.
func makeID(region, birth string, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth, seq)
	return s + string(idcard.CheckChar(s))
}

// fieldsOf lists the fields an error names, for comparing.
func fieldsOf(err error) string {
	var out []string
	for _, f := range errs.As(err).Fields {
		out = append(out, f.Field+":"+f.Key)
	}
	return strings.Join(out, " ")
}

func (f *fixture) building(t *testing.T, ctx context.Context, grid string) (Building, Room) {
	t.Helper()
	b, err := f.svc.CreateBuilding(ctx, BuildingInput{Grid: grid, Estate: "海韵小区", Road: "岱山路", DoorNo: "12号", Name: "3号楼", Floors: 6, Units: 2,
		Location: &Point{Lon: 121.4265, Lat: 37.4825}})
	if err != nil {
		t.Fatalf("building: %v", err)
	}
	r, err := f.svc.AddRoom(ctx, b.ID, RoomInput{Unit: "1", Number: "301", Floor: 3})
	if err != nil {
		t.Fatalf("room: %v", err)
	}
	return b, r
}

func TestResidentsAreSealedMaskedAndScoped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		b, room := f.building(t, f.worker, f.grid1.Code)
		if b.Address != "岱山路12号 海韵小区 3号楼" || room.Address != "岱山路12号 海韵小区 3号楼 1单元301" {
			t.Fatalf("addresses: %q, %q", b.Address, room.Address)
		}
		id := makeID("370613", "19450312", 122) // 2: female
		r, err := f.svc.CreateResident(f.worker, ResidentInput{Grid: f.grid1.Code, Name: "张桂兰", IDNumber: id, Phone: "138 1234 5678",
			Groups: []string{"elderly_alone", "dibao"}, Room: &LinkInput{RoomID: room.ID, Role: RoleOwner, From: "1998-05-01"}})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if r.IDNumber != "370613********122"+id[17:] || r.Phone != "138****5678" || r.Sex != Female || r.BirthDate != "1945-03-12" {
			t.Fatalf("masked or derived wrongly: %+v", r)
		}
		if r.CareLevel != "high" || strings.Join(r.Groups, ",") != "dibao,elderly_alone" {
			t.Fatalf("care level from the groups: %q %v", r.CareLevel, r.Groups)
		}
		// At rest the numbers are ciphertext, found only through the index.
		var enc, phone string
		if err := d.Q(f.admin).QueryRowContext(f.admin, "SELECT id_enc, phone_enc FROM registry_residents WHERE id = $1", r.ID).Scan(&enc, &phone); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(enc, id) || strings.Contains(phone, "13812345678") || !strings.HasPrefix(enc, "v1:") {
			t.Fatalf("stored in clear: %q %q", enc, phone)
		}
		// One person, one record.
		_, err = f.svc.CreateResident(f.staff, ResidentInput{Grid: f.grid2.Code, Name: "张桂兰", IDNumber: strings.ToLower(id)})
		if errs.CodeOf(err) != errs.Conflict || fieldsOf(err) != "id_number:err.registry.id_taken" {
			t.Fatalf("duplicate ID number: %v", err)
		}

		// Search: name prefix, phone, ID number (exact), address; all masked.
		for name, q := range map[string]ResidentQuery{
			"name prefix": {Name: "张桂"}, "phone": {Phone: "13812345678"}, "id": {IDNumber: id},
			"address": {Address: "岱山路12号"}, "group": {Group: "dibao"},
		} {
			page, err := f.svc.Residents(f.worker, q)
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != r.ID || page.Items[0].Phone != "138****5678" {
				t.Errorf("search by %s: %+v %v", name, page, err)
			}
		}
		for name, q := range map[string]ResidentQuery{"other prefix": {Name: "桂"}, "other phone": {Phone: "13812345679"}} {
			if page, err := f.svc.Residents(f.worker, q); err != nil || len(page.Items) != 0 {
				t.Errorf("search by %s found %d", name, len(page.Items))
			}
		}

		// Scope: the worker of the other grid finds nothing and is told why.
		if page, err := f.svc.Residents(f.other, ResidentQuery{IDNumber: id}); err != nil || len(page.Items) != 0 {
			t.Fatalf("another grid's worker searched: %+v %v", page, err)
		}
		if _, err := f.svc.Resident(f.other, r.ID); errs.As(err).Key != "err.registry.out_of_scope" {
			t.Fatalf("another grid's worker read: %v", err)
		}
		if _, err := f.svc.CreateResident(f.other, ResidentInput{Grid: f.grid1.Code, Name: "李四", IDNumber: makeID("370613", "19800101", 11)}); fieldsOf(err) != "grid:err.registry.grid_unknown" {
			// The area module hides grids outside the caller's areas; the
			// message says "no grid … within your areas".
			t.Fatalf("another grid's worker wrote: %v", err)
		}
		if _, err := f.svc.Residents(as(auth.Resident, f.grid1), ResidentQuery{}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a resident listed the register: %v", err)
		}
		if _, err := f.svc.Resident(f.staff, r.ID); err != nil {
			t.Fatalf("community staff read: %v", err)
		}
		// A street's staff search by the residents' area path (the wide
		// scope); another street's staff find nothing.
		streetArea := area.Area{ID: 2, Code: "370613001", Path: strings.Join(strings.SplitAfter(f.grid1.Path, "/")[:3], "")}
		for who, want := range map[string]int{streetArea.Path: 1, streetArea.Path[:len(streetArea.Path)-1] + "9/": 0} {
			a := streetArea
			a.Path = who
			if page, err := f.svc.Residents(as(auth.StreetStaff, a), ResidentQuery{Name: "张"}); err != nil || len(page.Items) != want {
				t.Errorf("street staff of %s: %d found, want %d (%v)", who, len(page.Items), want, err)
			}
		}

		// Reveal needs a reason and the permission, and is audited.
		if _, err := f.svc.Reveal(f.worker, r.ID, " "); fieldsOf(err) != "reason:err.registry.reason" {
			t.Fatalf("reveal without a reason: %v", err)
		}
		street := as(auth.StreetStaff, area.Area{ID: 2, Path: strings.TrimSuffix(f.grid1.Path, fmt.Sprint(f.grid1.ID)+"/")})
		if _, err := f.svc.Reveal(street, r.ID, "核实身份"); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("street staff revealed: %v", err)
		}
		got, err := f.svc.Reveal(f.worker, r.ID, "上门核实低保材料")
		if err != nil || got.IDNumber != id || got.Phone != "13812345678" {
			t.Fatalf("reveal: %+v %v", got, err)
		}
		var action, detail string
		if err := d.Q(f.admin).QueryRowContext(f.admin, "SELECT action, detail FROM audit_log WHERE target_type = 'resident' AND action LIKE '%reveal' AND target_id = $1",
			fmt.Sprint(r.ID)).Scan(&action, &detail); err != nil || detail != "上门核实低保材料" {
			t.Fatalf("audit of the reveal: %q %q %v", action, detail, err)
		}

		// Links: the resident shows their room.
		full, err := f.svc.Resident(f.worker, r.ID)
		if err != nil || len(full.Rooms) != 1 || full.Rooms[0].Role != RoleOwner || full.Rooms[0].Address != room.Address {
			t.Fatalf("rooms: %+v %v", full.Rooms, err)
		}
		// A change keeps the sealed numbers when none are given.
		upd, err := f.svc.UpdateResident(f.worker, r.ID, ResidentInput{Name: "张桂兰", Note: "女儿在外地", Groups: []string{"elderly_alone"}})
		if err != nil || upd.Phone != "138****5678" || upd.Note != "女儿在外地" {
			t.Fatalf("update: %+v %v", upd, err)
		}
		if _, err := f.svc.UpdateResident(f.worker, r.ID, ResidentInput{Name: "张桂兰", Sex: Male, BirthDate: "1945-03-12"}); fieldsOf(err) != "sex:err.registry.sex_mismatch" {
			t.Fatalf("sex against the stored ID number: %v", err)
		}
	})
}

func TestResidentValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		good := makeID("370613", "19800101", 11) // male
		bad := good[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good[17])+1)%11])
		cases := []struct {
			name string
			in   ResidentInput
			want string
		}{
			{"checksum", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: bad}, "id_number:err.registry.id_check"},
			{"impossible date", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: makeID("370613", "19800231", 11)}, "id_number:err.registry.id_birth"},
			{"no such province", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: makeID("990613", "19800101", 11)}, "id_number:err.registry.id_region"},
			{"too short", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: good[:17]}, "id_number:err.registry.id_number"},
			{"sex disagrees", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: good, Sex: Female}, "sex:err.registry.sex_mismatch"},
			{"birth disagrees", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: good, BirthDate: "1980-01-02"}, "birth_date:err.registry.birth_mismatch"},
			{"phone", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: good, Phone: "12345"}, "phone:err.registry.phone"},
			{"no name", ResidentInput{Grid: f.grid1.Code, IDNumber: good}, "name:err.registry.name"},
			{"no ID", ResidentInput{Grid: f.grid1.Code, Name: "王"}, "id_number:err.registry.id_missing sex:err.registry.sex birth_date:err.registry.birth_date"},
			{"unknown group", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: good, Groups: []string{"vip"}}, "groups:err.registry.group"},
			{"pop type", ResidentInput{Grid: f.grid1.Code, Name: "王", IDNumber: good, PopType: "tourist"}, "pop_type:err.registry.pop_type"},
			{"not a grid", ResidentInput{Grid: "370613001001", Name: "王", IDNumber: good}, "grid:err.registry.not_grid"},
			{"unknown grid", ResidentInput{Grid: "370613001001009", Name: "王", IDNumber: good}, "grid:err.registry.grid_unknown"},
		}
		for _, c := range cases {
			_, err := f.svc.CreateResident(f.staff, c.in)
			if got := fieldsOf(err); got != c.want {
				t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.want)
			}
		}
		// A foreigner carries a passport number and gives sex and birth date.
		r, err := f.svc.CreateResident(f.staff, ResidentInput{Grid: f.grid1.Code, Name: "John Smith", IDNumber: "e1234567", PopType: Overseas,
			Sex: Male, BirthDate: "1990-06-01"})
		if err != nil || r.IDNumber != "******67" {
			t.Fatalf("overseas: %+v %v", r, err)
		}
		if page, err := f.svc.Residents(f.staff, ResidentQuery{Name: "john s"}); err != nil || len(page.Items) != 1 {
			t.Fatalf("name prefix ignores case and spaces: %+v %v", page, err)
		}
	})
}

func TestComponentCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c, err := f.svc.CreateComponent(f.worker, ComponentInput{Grid: f.grid1.Code, Major: "01", Minor: "02", Location: &Point{Lon: 121.43, Lat: 37.48}})
		if err != nil || c.Code != "3706130102000001" || c.Class != "污水井盖" || c.State != Intact {
			t.Fatalf("numbered: %+v %v", c, err)
		}
		c2, err := f.svc.CreateComponent(f.worker, ComponentInput{Grid: f.grid1.Code, Code: "3706130102000007"})
		if err != nil {
			t.Fatal(err)
		}
		if c3, err := f.svc.CreateComponent(f.worker, ComponentInput{Grid: f.grid1.Code, Major: "01", Minor: "02"}); err != nil || c3.Code != "3706130102000008" {
			t.Fatalf("next serial: %+v %v", c3, err)
		}
		for code, want := range map[string]string{
			"370613010200001":  "code:err.registry.component_code",
			"3706130102000000": "code:err.registry.component_code",
			"3706140102000001": "code:err.registry.component_county",
			"3706139902000001": "code:err.registry.component_unknown_class",
			"3706130102000007": "code:err.registry.component_taken",
		} {
			if _, err := f.svc.CreateComponent(f.worker, ComponentInput{Grid: f.grid1.Code, Code: code}); fieldsOf(err) != want {
				t.Errorf("%s: got %q, want %q", code, fieldsOf(err), want)
			}
		}
		if got, err := f.svc.SetComponentState(f.worker, c2.ID, Lost); err != nil || got.State != Lost {
			t.Fatalf("state: %+v %v", got, err)
		}
		if _, err := f.svc.SetComponentState(f.other, c2.ID, Intact); errs.As(err).Key != "err.registry.out_of_scope" {
			t.Fatalf("other grid's worker: %v", err)
		}
		if page, err := f.svc.Components(f.other, ComponentQuery{}); err != nil || len(page.Items) != 0 {
			t.Fatalf("other grid's worker sees components: %d %v", len(page.Items), err)
		}
	})
}

func TestVisitsFollowCareLevels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mk := func(name string, groups []string, seq int) Resident {
			r, err := f.svc.CreateResident(f.worker, ResidentInput{Grid: f.grid1.Code, Name: name, IDNumber: makeID("370613", "19400101", seq), Groups: groups})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		alone := mk("独居甲", []string{"elderly_alone"}, 11) // high: weekly
		nest := mk("空巢乙", []string{"empty_nest"}, 13)     // priority: monthly
		mk("普通丙", nil, 15)                                // no care level: never due
		due := func() map[string]bool {
			ds, err := f.svc.DueVisits(f.worker, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, d := range ds {
				out[d.Resident.Name] = d.Overdue
			}
			return out
		}
		f.now = f.now.Add(5 * 24 * time.Hour) // within the 3 days ahead of the weekly visit
		if got := due(); len(got) != 1 || got["独居甲"] {
			t.Fatalf("after 5 days: %v", got)
		}
		if ds, _ := f.svc.DueVisits(f.worker, f.grid1.Code, 0); len(ds) != 1 || ds[0].Resident.Groups[0] != "elderly_alone" || ds[0].Level.Code != "high" {
			t.Fatalf("due entry: %+v", ds)
		}
		f.now = f.now.Add(30 * 24 * time.Hour)
		if got := due(); len(got) != 2 || !got["独居甲"] || !got["空巢乙"] {
			t.Fatalf("after 35 days: %v", got)
		}
		vis, err := f.svc.RecordVisit(f.worker, alone.ID, VisitInput{Mode: ModeHome, Place: "家中", Finding: "楼道灯坏了，老人夜里出门不便。",
			Category: "C0201", Photo: &Photo{ContentType: "image/png", Data: []byte("\x89PNG")}})
		if err != nil || !strings.HasPrefix(vis.CaseNumber, "") || vis.CaseNumber == "" {
			t.Fatalf("visit with a case: %+v %v", vis, err)
		}
		if got := due(); len(got) != 1 || !got["空巢乙"] {
			t.Fatalf("after the visit: %v", got)
		}
		if _, err := f.svc.CaseFromVisit(f.worker, vis.ID, "C0201"); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second case from one visit: %v", err)
		}
		if _, err := f.svc.RecordVisit(f.other, nest.ID, VisitInput{}); errs.As(err).Key != "err.registry.out_of_scope" {
			t.Fatalf("other grid's worker visiting: %v", err)
		}
		if _, err := f.svc.RecordVisit(f.worker, nest.ID, VisitInput{Mode: "fax"}); fieldsOf(err) != "mode:err.registry.visit_mode" {
			t.Fatalf("bad mode: %v", err)
		}
		// A longer interval applies at once.
		if err := f.svc.SetVisitInterval(f.worker, "priority", 60); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a worker configuring: %v", err)
		}
		if err := f.svc.SetVisitInterval(f.admin, "priority", 60); err != nil {
			t.Fatal(err)
		}
		if got := due(); len(got) != 0 {
			t.Fatalf("after the interval change: %v", got)
		}
		if ph, err := f.svc.VisitPhoto(f.staff, vis.ID); err != nil || ph.ContentType != "image/png" {
			t.Fatalf("photo: %v", err)
		}
	})
}

func TestPatrols(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		pt, err := f.svc.StartPatrol(f.worker, f.grid1.Code, "晚间巡查")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []Point{{121.4262, 37.4830}, {121.4270, 37.4840}} {
			if err := f.svc.CheckIn(f.worker, pt.ID, p, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.CheckIn(f.other, pt.ID, Point{121.4262, 37.4830}, ""); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("another grid's worker checking in: %v", err)
		}
		done, err := f.svc.EndPatrol(f.worker, pt.ID)
		if err != nil || len(done.Points) != 2 || done.EndedAt == nil {
			t.Fatalf("end: %+v %v", done, err)
		}
		if err := f.svc.CheckIn(f.worker, pt.ID, Point{121.4262, 37.4830}, ""); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("check-in after the end: %v", err)
		}
		if list, err := f.svc.Patrols(f.staff, 0); err != nil || len(list) != 1 || len(list[0].Points) != 2 {
			t.Fatalf("list: %+v %v", list, err)
		}
	})
}

func TestDemoRegister(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if err := d.Write(f.admin, func(ctx context.Context) error { return f.svc.SeedDemo(ctx) }); err != nil {
			t.Fatal(err)
		}
		var n, bad int
		page, err := f.svc.Residents(f.worker, ResidentQuery{Limit: 200})
		if err != nil || len(page.Items) < 20 {
			t.Fatalf("residents of grid 1: %d %v", len(page.Items), err)
		}
		for _, r := range page.Items {
			got, err := f.svc.Reveal(f.worker, r.ID, "demo check")
			if _, perr := idcard.Parse(got.IDNumber); err != nil || perr != nil {
				bad++
			}
			n++
		}
		if bad > 0 {
			t.Fatalf("%d of %d demo ID numbers do not open or are invalid", bad, n)
		}
		due, err := f.svc.DueVisits(f.worker, "", 200)
		if err != nil || len(due) == 0 {
			t.Fatalf("nobody due in the demo grid: %v", err)
		}
	})
}
