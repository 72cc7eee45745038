package volunteer

import (
	"bytes"
	"image/png"
	"net/http/httptest"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func TestCancelActivityClosesOpenSignups(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, nil)
		vctx, _ := f.volunteer(t, "张三")
		g, err := f.svc.SignUp(vctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CancelActivity(f.staff, x.ID, " "); fieldsOf(err) != "reason:err.volunteer.cancel_reason" {
			t.Fatalf("no reason: %v", err)
		}
		if err := f.svc.CancelActivity(f.other, x.ID, "天气"); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("staff of another community: %v", err)
		}
		if err := f.svc.CancelActivity(f.street, x.ID, "天气"); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("street staff (read only): %v", err)
		}
		if err := f.svc.CancelActivity(f.staff, x.ID, "天气"); err != nil {
			t.Fatal(err)
		}
		if x, _ = f.svc.Activity(f.staff, x.ID); x.Status != "cancelled" {
			t.Fatalf("status %q", x.Status)
		}
		if g, _ = f.svc.loadSignup(f.staff, g.ID); g.Status != "cancelled" {
			t.Fatalf("sign-up status %q", g.Status)
		}
		if err := f.svc.CancelActivity(f.staff, x.ID, "天气"); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("twice: %v", err)
		}
		if _, err := f.svc.SignUp(vctx, x.ID); err == nil {
			t.Fatal("signed up to a cancelled activity")
		}
		y := f.activity(t, nil)
		f.at("12:30")
		if err := f.svc.CancelActivity(f.staff, y.ID, "天气"); fieldsOf(err) != "status:err.volunteer.cancel_ended" {
			t.Fatalf("after the end: %v", err)
		}
	})
}

func TestUpdateOrgAndRules(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o, err := f.svc.CreateOrg(f.staff, OrgInput{Community: f.community.Code, Name: "爱心驿站", Kind: Charity, Contact: "13900001234"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateOrg(f.staff, OrgInput{Community: f.community.Code, Name: "夕阳红", Kind: CultureSports}); err != nil {
			t.Fatal(err)
		}
		in := OrgInput{Name: "爱心驿站", Kind: Charity, Status: Filed, Leader: "李明"}
		if o, err = f.svc.UpdateOrg(f.staff, o.ID, in); err != nil || o.Status != Filed || o.Leader != "李明" || o.Contact == "" {
			t.Fatalf("update: %+v %v", o, err)
		}
		if _, err := f.svc.UpdateOrg(f.staff, o.ID, OrgInput{Name: "夕阳红", Kind: Charity}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("name taken: %v", err)
		}
		if _, err := f.svc.UpdateOrg(f.staff, o.ID, OrgInput{Name: "爱心驿站", Kind: Party}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second party organisation: %v", err)
		}
		if _, err := f.svc.UpdateOrg(f.staff, o.ID, OrgInput{Name: "", Kind: "x"}); fieldsOf(err) != "name:err.volunteer.org_name kind:err.volunteer.org_kind" {
			t.Fatalf("bad input: %v", err)
		}
		if _, err := f.svc.UpdateOrg(f.other, o.ID, in); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("other community: %v", err)
		}
		if err := f.svc.SetRule(f.admin, Rule{Kind: "elder_care", PerHour: 10, Cap: 50}); err != nil {
			t.Fatal(err)
		}
		rules, err := f.svc.Rules(f.street)
		if err != nil || len(rules) == 0 || rules[len(rules)-1] != (Rule{Kind: "elder_care", PerHour: 10, Cap: 50}) {
			t.Fatalf("rules: %+v %v", rules, err)
		}
	})
}

func TestCheckinQREncodesTheLink(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "https://linli.example/volunteer/activities/1/qr.png", nil)
	link := checkinLink(r, "1.1700000000.abc+/=")
	if link != "https://linli.example/volunteer/checkin?code=1.1700000000.abc%2B%2F%3D" {
		t.Fatalf("link %q", link)
	}
	b, err := QR(link)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != QRSize || s.Y != QRSize {
		t.Fatalf("size %v", s)
	}
}
