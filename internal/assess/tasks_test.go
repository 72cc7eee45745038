package assess

import (
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func application(street string) TaskInput {
	return TaskInput{Street: street, List: Assist, Department: "区卫健委", Title: "老年人健康档案更新",
		Content: "每季度更新辖区 65 岁以上老人健康档案", LegalBasis: "《基本公共卫生服务规范》", Hours: 12, Cadence: "quarterly",
		Funding: "每社区每年 2 万元", Staff: "卫生服务站派 1 人协助"}
}

func TestTaskAdmissionAndRefusal(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// Bad input: every missing field named, nothing stored.
		_, err := f.svc.Apply(f.dept, TaskInput{Street: f.street.Code, List: "whatever"})
		for _, want := range []string{"list:err.assess.list", "department_id:err.assess.department_required", "legal_basis:err.assess.required",
			"hours:err.assess.hours", "funding:err.assess.required", "staff:err.assess.required"} {
			if !strings.Contains(fieldsOf(err), want) {
				t.Errorf("fields %q lack %s", fieldsOf(err), want)
			}
		}
		if n := f.count(t, "SELECT COUNT(*) FROM assess_tasks"); n != 0 {
			t.Fatalf("%d tasks stored from bad input", n)
		}
		// Who may do what.
		_, err = f.svc.Apply(f.staff, application(f.street.Code))
		wantCode(t, err, errs.Forbidden)

		task, err := f.svc.Apply(f.dept, application(f.street.Code))
		if err != nil || task.State != Pending || task.Number != "" {
			t.Fatalf("apply: %+v %v", task, err)
		}
		_, err = f.svc.Decide(f.dept, task.ID, Decision{Admit: true, ExpiresOn: "2027-03-01"})
		wantCode(t, err, errs.Forbidden)
		_, err = f.svc.Decide(f.streeter, task.ID, Decision{Admit: false})
		if fieldsOf(err) != "reason:err.assess.required" {
			t.Fatalf("refusal without reason: %v", err)
		}
		task, err = f.svc.Decide(f.streeter, task.ID, Decision{Admit: true, ExpiresOn: "2027-03-01"})
		if err != nil || task.State != Admitted || !strings.HasPrefix(task.Number, "ZR-2026-") || task.ExpiresAt == nil {
			t.Fatalf("admit: %+v %v", task, err)
		}
		_, err = f.svc.Decide(f.streeter, task.ID, Decision{Admit: false, Reason: "again"})
		wantCode(t, err, errs.Conflict)

		// Hand-downs: with the number, without, with a wrong one, an emergency.
		in := HandDownInput{Community: f.comms[0].Code, Department: "区卫健委", Kind: "ledger", Title: "健康档案台账", Hours: 3}
		withNumber := in
		withNumber.Number = task.Number
		admitted, err := f.svc.HandDown(f.dept, withNumber)
		if err != nil || admitted.State != HandAdmitted || admitted.TaskID != task.ID {
			t.Fatalf("admitted hand-down: %+v %v", admitted, err)
		}
		bad := in
		bad.Number = "ZR-2026-999999"
		_, err = f.svc.HandDown(f.dept, bad)
		if fieldsOf(err) != "number:err.assess.number_unknown" {
			t.Fatalf("unknown number: %v", err)
		}
		plain, err := f.svc.HandDown(f.dept, in)
		if err != nil || plain.State != HandUnadmitted {
			t.Fatalf("unadmitted hand-down: %+v %v", plain, err)
		}
		urgent := in
		urgent.Emergency = "寒潮应急：排查独居老人取暖"
		urgent.Hours = 5
		exempt, err := f.svc.HandDown(f.dept, urgent)
		if err != nil || exempt.State != HandExempt {
			t.Fatalf("emergency: %+v %v", exempt, err)
		}

		// The community refuses the unadmitted one, with one click; others
		// cannot, and an admitted one cannot be refused.
		_, err = f.svc.RefuseHandDown(f.other, plain.ID, "")
		wantCode(t, err, errs.Forbidden)
		_, err = f.svc.RefuseHandDown(f.staff, admitted.ID, "")
		wantCode(t, err, errs.Conflict)
		refused, err := f.svc.RefuseHandDown(f.staff, plain.ID, "")
		if err != nil || refused.State != HandRefused || refused.Reason == "" || refused.RefusedAt == nil {
			t.Fatalf("refuse: %+v %v", refused, err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'assess.handdown.refuse' AND target_id = $1", itoa(plain.ID)); n != 1 {
			t.Fatalf("%d audit rows for the refusal", n)
		}
		_, err = f.svc.RefuseHandDown(f.staff, plain.ID, "")
		wantCode(t, err, errs.Conflict)

		// The burden report adds it all up.
		rep, err := f.svc.Burden(f.super, f.street.Code, "2026-03-01", "2026-03-31")
		if err != nil || len(rep.Rows) != 1 {
			t.Fatalf("burden: %+v %v", rep, err)
		}
		r := rep.Rows[0]
		if r.Admitted != 1 || r.Refused != 1 || r.Exempt != 1 || r.Unadmitted != 0 || r.Hours != 8 || r.Department != "区卫健委" {
			t.Fatalf("burden row %+v", r)
		}

		// After the expiry the number no longer opens the gate.
		f.now = f.now.AddDate(1, 1, 0)
		_, err = f.svc.HandDown(f.dept, withNumber)
		if fieldsOf(err) != "number:err.assess.number_expired" {
			t.Fatalf("expired number: %v", err)
		}
	})
}

func TestOverdueApplicationsFlagged(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	task, err := f.svc.Apply(f.dept, application(f.street.Code))
	if err != nil || task.Overdue {
		t.Fatalf("%+v %v", task, err)
	}
	f.now = f.now.AddDate(0, 0, ReviewDays+1)
	// The community staff see the street's registry too: it concerns them.
	ts, err := f.svc.Tasks(f.staff, TaskQuery{State: Pending})
	if err != nil || len(ts) != 1 || !ts[0].Overdue {
		t.Fatalf("tasks: %+v %v", ts, err)
	}
	// A street outside the department's district is not found.
	_, err = f.svc.Apply(f.dept, application("999999999"))
	if fieldsOf(err) != "street:err.assess.area_unknown" {
		t.Fatalf("unknown street: %v", err)
	}
}

func TestNegativeListCannotBeCited(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	neg, err := f.svc.AddToList(f.streeter, TaskInput{Street: f.street.Code, List: Negative, Department: "各部门", Title: "要求社区开具无犯罪记录证明"})
	if err != nil || neg.State != Admitted || neg.Number != "" {
		t.Fatalf("negative entry: %+v %v", neg, err)
	}
	duty, err := f.svc.AddToList(f.streeter, TaskInput{Street: f.street.Code, List: Duty, Department: "街道", Title: "居民委员会换届选举",
		Content: "依法组织换届", LegalBasis: "《城市居民委员会组织法》", Hours: 40, Funding: "街道财政", Staff: "街道指导", ExpiresOn: "2029-12-31"})
	if err != nil || duty.Number == "" {
		t.Fatalf("duty: %+v %v", duty, err)
	}
	revoked, err := f.svc.Revoke(f.streeter, duty.ID, "并入其他事项")
	if err != nil || revoked.State != Revoked {
		t.Fatalf("revoke: %+v %v", revoked, err)
	}
	_, err = f.svc.HandDown(f.dept, HandDownInput{Community: f.comms[0].Code, Department: "街道", Kind: "report", Title: "换届报表", Number: duty.Number})
	if fieldsOf(err) != "number:err.assess.number_not_admitted" {
		t.Fatalf("revoked number: %v", err)
	}
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	if err := f.svc.SeedDemo(f.admin, f.street.Code, f.comms[0].Code); err != nil {
		t.Fatal(err)
	}
	hds, err := f.svc.HandDowns(f.staff, HandUnadmitted)
	if err != nil || len(hds) != 1 {
		t.Fatalf("%+v %v", hds, err)
	}
	ps, err := f.svc.Periods(f.super)
	if err != nil || len(ps) != 1 || ps[0].Code != "2026-Q1" || ps[0].From != "2026-01-01" || ps[0].To != "2026-03-31" {
		t.Fatalf("%+v %v", ps, err)
	}
}
