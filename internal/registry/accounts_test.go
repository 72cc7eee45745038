package registry

import (
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// A resident's account is linked once by staff of their grid; the link
// then says who the account is, and every other attempt is refused.
func TestLinkUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		clock := func() time.Time { return f.now }
		users := auth.NewService(d, audit.New(d, clock), clock)
		mk := func(name string) int64 {
			u, err := users.CreateUser(f.admin, auth.NewUser{Name: name, Password: "resident-pass-1", Role: auth.Resident, AreaCode: f.grid1.Code})
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		zhang, li := mk("zhang"), mk("li")
		r, err := f.svc.CreateResident(f.worker, ResidentInput{Grid: f.grid1.Code, Name: "张桂兰", IDNumber: makeID("370613", "19500301", 12)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.IdentityOf(f.admin, zhang); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("identity before linking: %v", err)
		}
		if err := f.svc.LinkUser(f.other, r.ID, zhang); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("worker of another grid linked: %v", err)
		}
		if err := f.svc.LinkUser(f.worker, r.ID, 99999); fieldsOf(err) != "user_id:err.registry.account_unknown" {
			t.Fatalf("unknown account: %v", err)
		}
		if err := f.svc.LinkUser(f.worker, r.ID, zhang); err != nil {
			t.Fatal(err)
		}
		id, err := f.svc.IdentityOf(f.admin, zhang)
		if err != nil {
			t.Fatal(err)
		}
		if id.ResidentID != r.ID || id.Name != "张桂兰" || id.BirthDate != "1950-03-01" || id.Grid != f.grid1.Code || id.AreaPath != f.grid1.Path {
			t.Fatalf("identity = %+v", id)
		}
		if err := f.svc.LinkUser(f.worker, r.ID, li); fieldsOf(err) != "user_id:err.registry.account_linked" {
			t.Fatalf("second account for one resident: %v", err)
		}
	})
}
