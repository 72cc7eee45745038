package assess

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// Only the street's burden-reduction group keeps the list; every change
// is audited; code and name are unique per street.
func TestDepartmentListKeptByTheStreet(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := DepartmentInput{Street: f.street.Code, Code: "MZJ", Name: "区民政局"}
		for name, ctx := range map[string]context.Context{"community staff": f.staff, "department": f.dept, "supervisor": f.super} {
			if _, err := f.svc.CreateDepartment(ctx, in); errs.CodeOf(err) != errs.Forbidden {
				t.Errorf("%s adds a department: %v", name, err)
			}
		}
		mz, err := f.svc.CreateDepartment(f.streeter, in)
		if err != nil || mz.Code != "MZJ" || !mz.Active || mz.Street != f.street.Code {
			t.Fatalf("add: %+v %v", mz, err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'assess.department.create' AND target_id = $1", itoa(mz.ID)); n != 1 {
			t.Errorf("%d audit rows for the addition", n)
		}
		_, err = f.svc.CreateDepartment(f.streeter, DepartmentInput{Street: f.street.Code, Code: "MZJ", Name: "另一个"})
		if errs.CodeOf(err) != errs.Conflict || fieldsOf(err) != "code:err.assess.department_code_taken" {
			t.Errorf("code taken: %v", err)
		}
		_, err = f.svc.CreateDepartment(f.streeter, DepartmentInput{Street: f.street.Code, Code: "X1", Name: "区民政局"})
		if errs.CodeOf(err) != errs.Conflict || fieldsOf(err) != "name:err.assess.department_name_taken" {
			t.Errorf("name taken: %v", err)
		}
		_, err = f.svc.CreateDepartment(f.streeter, DepartmentInput{Street: f.street.Code, Code: "民政 局"})
		if fieldsOf(err) != "code:err.assess.department_code name:err.assess.required" {
			t.Errorf("bad input: %v", err)
		}

		// Renaming and deactivating: the group only, audited.
		_, err = f.svc.ChangeDepartment(f.staff, mz.ID, DepartmentChange{Name: "民政局"})
		wantCode(t, err, errs.Forbidden)
		off := false
		mz, err = f.svc.ChangeDepartment(f.streeter, mz.ID, DepartmentChange{Name: "莱山区民政局", Active: &off})
		if err != nil || mz.Name != "莱山区民政局" || mz.Active {
			t.Fatalf("change: %+v %v", mz, err)
		}
		_, err = f.svc.ChangeDepartment(f.streeter, mz.ID, DepartmentChange{Name: "区卫健委"})
		if fieldsOf(err) != "name:err.assess.department_name_taken" {
			t.Errorf("rename onto another's name: %v", err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'assess.department.change' AND target_id = $1", itoa(mz.ID)); n != 1 {
			t.Errorf("%d audit rows for the change", n)
		}

		// Who reads the list: the departments that apply (a district grant,
		// above the street) and the communities (below it); not a resident.
		for name, ctx := range map[string]context.Context{"department": f.dept, "community staff": f.staff, "street": f.streeter} {
			all, err := f.svc.Departments(ctx, DepartmentQuery{Street: f.street.Code})
			active, err2 := f.svc.Departments(ctx, DepartmentQuery{Street: f.street.Code, ActiveOnly: true})
			if err != nil || err2 != nil || len(all) != 4 || len(active) != 3 {
				t.Errorf("%s reads %d departments, %d active: %v %v", name, len(all), len(active), err, err2)
			}
		}
		resident, _ := f.resident(t, f.grids[0], 0)
		_, err = f.svc.Departments(resident, DepartmentQuery{})
		wantCode(t, err, errs.Forbidden)
	})
}

// Applying, listing and handing down take a department of the street's
// list: by id (unknown and inactive ones refused on the field), or by its
// exact name for older clients.
func TestDepartmentsGateApplicationsAndHandDowns(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		wj := f.department(t, f.street, "WJW2", "区卫生健康委员会")
		old := f.department(t, f.street, "OLD", "区爱卫办")
		off := false
		if _, err := f.svc.ChangeDepartment(f.streeter, old.ID, DepartmentChange{Active: &off}); err != nil {
			t.Fatal(err)
		}
		other := f.area(t, area.NewArea{Code: "370613002", Name: "初家街道", Level: area.Street, Parent: "370613"})
		elsewhere := f.department(t, other, "WJW", "区卫健委")

		byID := application(f.street.Code)
		byID.Department, byID.DepartmentID = "", wj.ID
		task, err := f.svc.Apply(f.dept, byID)
		if err != nil || task.DepartmentID != wj.ID || task.Department != "区卫生健康委员会" {
			t.Fatalf("apply by id: %+v %v", task, err)
		}
		byName := application(f.street.Code) // "区卫健委", as clients sent it before the list
		task, err = f.svc.Apply(f.dept, byName)
		if err != nil || task.DepartmentID == 0 || task.Department != "区卫健委" {
			t.Fatalf("apply by name: %+v %v", task, err)
		}
		refusals := []struct {
			name  string
			id    int64
			text  string
			field string
		}{
			{"unknown id", 999999, "", "department_id:err.assess.department_unknown"},
			{"another street's", elsewhere.ID, "", "department_id:err.assess.department_unknown"},
			{"inactive", old.ID, "", "department_id:err.assess.department_inactive"},
			{"misspelt name", 0, "卫健委", "department:err.assess.department_pick"},
			{"inactive's name", 0, "区爱卫办", "department:err.assess.department_pick"},
			{"none", 0, " ", "department_id:err.assess.department_required"},
		}
		for _, r := range refusals {
			in := application(f.street.Code)
			in.DepartmentID, in.Department = r.id, r.text
			if _, err := f.svc.Apply(f.dept, in); fieldsOf(err) != r.field {
				t.Errorf("apply, %s: %v", r.name, err)
			}
			in.List, in.ExpiresOn = Duty, "2027-01-01"
			if _, err := f.svc.AddToList(f.streeter, in); fieldsOf(err) != r.field {
				t.Errorf("list entry, %s: %v", r.name, err)
			}
			hd := HandDownInput{Community: f.comms[1].Code, DepartmentID: r.id, Department: r.text, Kind: "report", Title: "报表", Hours: 1}
			if _, err := f.svc.HandDown(f.dept, hd); fieldsOf(err) != r.field {
				t.Errorf("hand-down, %s: %v", r.name, err)
			}
		}
		if n := f.count(t, "SELECT COUNT(*) FROM assess_handdowns"); n != 0 {
			t.Errorf("%d hand-downs stored from refused input", n)
		}
	})
}

// The burden report counts a department once: rows given by name and by
// id, before and after a rename, are one row under its current name,
// while each row keeps the name it was given.
func TestBurdenMergesADepartment(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		hd := HandDownInput{Community: f.comms[0].Code, Department: "区卫健委", Kind: "ledger", Title: "台账", Hours: 2}
		first, err := f.svc.HandDown(f.dept, hd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeDepartment(f.streeter, first.DepartmentID, DepartmentChange{Name: "区卫生健康委员会"}); err != nil {
			t.Fatal(err)
		}
		hd.Department, hd.DepartmentID = "", first.DepartmentID
		if _, err := f.svc.HandDown(f.dept, hd); err != nil {
			t.Fatal(err)
		}
		hd.Department, hd.DepartmentID = "区卫生健康委员会", 0
		if _, err := f.svc.HandDown(f.dept, hd); err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.Burden(f.super, f.street.Code, "2026-03-01", "2026-03-31")
		if err != nil || len(rep.Rows) != 1 {
			t.Fatalf("burden: %+v %v", rep, err)
		}
		if r := rep.Rows[0]; r.DepartmentID != first.DepartmentID || r.Department != "区卫生健康委员会" || r.Unadmitted != 3 || r.Hours != 6 {
			t.Fatalf("burden row %+v", r)
		}
		hds, err := f.svc.HandDowns(f.staff, "")
		if err != nil || len(hds) != 3 || hds[2].Department != "区卫健委" || hds[0].Department != "区卫生健康委员会" {
			t.Fatalf("hand-downs keep their names: %+v %v", hds, err)
		}
	})
}

// The migration's copy of the free text into the list (00018), run on
// rows written the old way: one department per name and street (a
// hand-down's street is its community's parent), every row linked, and
// the burden report merging what had been typed alike.
func TestMigrationCopiesFreeTextDepartments(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		old := func(query string, args ...any) {
			t.Helper()
			if err := d.Write(ctx, func(ctx context.Context) error {
				_, err := d.Q(ctx).ExecContext(ctx, query, args...)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"区民政局", "区文明办"} {
			old(`INSERT INTO assess_tasks (list, area_id, area_path, department, title, state, review_due, created_at)
				VALUES ('assist', $1, $2, $3, '旧事项', 'pending', $4, $4)`, f.street.ID, f.street.Path, name, f.now)
		}
		for i, name := range []string{"区民政局", "区民政局", "区统计局"} {
			old(`INSERT INTO assess_handdowns (area_id, area_path, department, kind, title, hours, state, created_at)
				VALUES ($1, $2, $3, 'report', '旧报表', 1, 'unadmitted', $4)`, f.comms[i%2].ID, f.comms[i%2].Path, name, f.now)
		}
		for _, stmt := range departmentBackfill(t) {
			old(stmt)
		}
		ds, err := f.svc.Departments(f.streeter, DepartmentQuery{Street: f.street.Code})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range ds {
			names = append(names, d.Code+"="+d.Name)
		}
		got := strings.Join(names, " ")
		for _, want := range []string{"=区民政局", "=区文明办", "=区统计局", "ALL=各部门"} {
			if !strings.Contains(got, want) {
				t.Errorf("the list %q lacks %s", got, want)
			}
		}
		if len(ds) != 6 {
			t.Errorf("the list %q: want the fixture's 3 and 3 copied", got)
		}
		if n := f.count(t, "SELECT (SELECT COUNT(*) FROM assess_tasks WHERE department_id IS NULL) + (SELECT COUNT(*) FROM assess_handdowns WHERE department_id IS NULL)"); n != 0 {
			t.Errorf("%d rows left unlinked", n)
		}
		rep, err := f.svc.Burden(f.super, f.street.Code, "2026-03-01", "2026-03-31")
		if err != nil || len(rep.Rows) != 3 || rep.Total.Unadmitted != 3 {
			t.Fatalf("burden after the copy: %+v %v", rep, err)
		}
		// Old clients keep working for the names the copy listed.
		_, err = f.svc.HandDown(f.dept, HandDownInput{Community: f.comms[2].Code, Department: "区统计局", Kind: "report", Title: "统计", Hours: 1})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// departmentBackfill reads the statements of migration 00018 that copy
// the free-text departments into the list, as the migration runs them.
func departmentBackfill(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../platform/db/migrations/00018_assess_periods.sql")
	if err != nil {
		t.Fatal(err)
	}
	const from = "-- Copy the free text into the list"
	i := strings.Index(string(b), from)
	up, _, ok := strings.Cut(string(b[max(i, 0):]), "-- +goose Down")
	if i < 0 || !ok {
		t.Fatal("migration 00018 has no department copy")
	}
	var out []string
	for _, stmt := range strings.Split(up, ";\n") {
		var code []string
		for _, line := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				code = append(code, line)
			}
		}
		if s := strings.TrimSpace(strings.Join(code, "\n")); s != "" {
			out = append(out, s)
		}
	}
	if len(out) != 3 {
		t.Fatalf("%d statements in the department copy, want 3", len(out))
	}
	return out
}
