package volunteer

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
	"github.com/linli/linli/internal/platform/idcard"
	"github.com/linli/linli/internal/registry"
)

// fixture is the module on a fresh database: two communities of one
// street, staff of the first, a street officer, and a register whose
// residents log in; the clock is the test's.
type fixture struct {
	svc       *Service
	reg       *registry.Service
	db        *db.DB
	now       time.Time
	admin     context.Context
	staff     context.Context // community staff of community 1
	other     context.Context // community staff of community 2
	street    context.Context // street staff: reads, does not manage
	community area.Area
	grid      area.Area
	seq       int
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{db: d, now: time.Date(2026, 5, 4, 1, 0, 0, 0, time.UTC)} // 09:00 in China
	clock := func() time.Time { return f.now }
	log := audit.New(d, clock)
	authSvc := auth.NewService(d, log, clock)
	areas := area.NewService(d, log, authSvc, clock)
	box, err := crypto.New([]byte(strings.Repeat("k", crypto.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	f.reg = registry.NewService(d, log, box, areas, clock)
	f.svc = NewService(d, log, box, areas, f.reg, clock)
	f.admin = auth.WithPrincipal(context.Background(), auth.System())
	var street, second area.Area
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001001001", Name: "岱山第一网格", Level: area.Grid, Parent: "370613001001"},
		{Code: "370613001002", Name: "黄海社区", Level: area.Community, Parent: "370613001"},
	} {
		a, err := areas.Create(f.admin, na)
		if err != nil {
			t.Fatalf("%s: %v", na.Code, err)
		}
		switch {
		case a.Level == area.Street:
			street = a
		case a.Code == "370613001001":
			f.community = a
		case a.Code == "370613001002":
			second = a
		case a.Level == area.Grid:
			f.grid = a
		}
	}
	f.staff = as(auth.CommunityStaff, f.community, 900)
	f.other = as(auth.CommunityStaff, second, 901)
	f.street = as(auth.StreetStaff, street, 902)
	if _, err := f.svc.CreateOrg(f.staff, OrgInput{Community: f.community.Code, Name: "岱山社区党委", Kind: Party, Status: Registered, Leader: "王芳"}); err != nil {
		t.Fatalf("party organisation: %v", err)
	}
	return f
}

// as is a principal (user uid) holding role over a.
func as(role auth.Role, a area.Area, uid int64) context.Context {
	p := &auth.Principal{UserID: uid, Name: string(role), Grants: []auth.GrantInfo{{Role: role, AreaID: a.ID, AreaPath: a.Path, AreaCode: a.Code}}}
	return auth.WithPrincipal(context.Background(), p)
}

// makeID builds a valid ID number.
func makeID(birth string, seq int) string {
	s := fmt.Sprintf("370613%s%03d", birth, seq)
	return s + string(idcard.CheckChar(s))
}

// resident registers a person in the grid with a login account and
// returns the resident's context and ID number.
func (f *fixture) resident(t *testing.T, name string) (context.Context, registry.Resident, string) {
	t.Helper()
	f.seq++
	id := makeID("19800101", 100+f.seq*2)
	r, err := f.reg.CreateResident(f.admin, registry.ResidentInput{Grid: f.grid.Code, Name: name, IDNumber: id, Phone: "13800138000"})
	if err != nil {
		t.Fatalf("resident %s: %v", name, err)
	}
	var uid int64
	if err := f.db.Write(f.admin, func(ctx context.Context) error {
		return f.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO users (name, display_name, password_hash, locale, created_at, updated_at)
			VALUES ($1, $2, 'x', 'zh-CN', $3, $3) RETURNING id`, fmt.Sprintf("r%d", f.seq), name, f.now).Scan(&uid)
	}); err != nil {
		t.Fatalf("user: %v", err)
	}
	if err := f.reg.LinkUser(f.admin, r.ID, uid); err != nil {
		t.Fatalf("link: %v", err)
	}
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: uid, Name: name,
		Grants: []auth.GrantInfo{{Role: auth.Resident, AreaID: f.community.ID, AreaPath: f.community.Path}}})
	return ctx, r, id
}

// volunteer registers a resident as a volunteer and has staff verify them.
func (f *fixture) volunteer(t *testing.T, name string) (context.Context, Volunteer) {
	t.Helper()
	ctx, _, id := f.resident(t, name)
	v, err := f.svc.RegisterSelf(ctx, RegisterInput{IDNumber: id, Phone: "139 0000 1111", Skills: []string{"陪伴, 理发"}})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if v, err = f.svc.Verify(f.staff, v.ID, Verified); err != nil {
		t.Fatalf("verify: %v", err)
	}
	return ctx, v
}

// site is where the fixture's activities take place.
var site = Position{Lon: 121.4265, Lat: 37.4825}

// activity publishes an activity from 10:00 to 12:00 China time today.
func (f *fixture) activity(t *testing.T, mod func(*ActivityInput)) Activity {
	t.Helper()
	in := ActivityInput{Community: f.community.Code, Title: "助老理发", Kind: "elder_care", Place: "岱山社区党群服务中心",
		Lon: site.Lon, Lat: site.Lat, StartsAt: "2026-05-04T10:00", EndsAt: "2026-05-04T12:00", Slots: 10}
	if mod != nil {
		mod(&in)
	}
	x, err := f.svc.Publish(f.staff, in)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return x
}

// fieldsOf lists the fields and keys an error names.
func fieldsOf(err error) string {
	var out []string
	for _, fe := range errs.As(err).Fields {
		out = append(out, fe.Field+":"+fe.Key)
	}
	return strings.Join(out, " ")
}

// at sets the clock to hh:mm China time on the fixture's day.
func (f *fixture) at(hhmm string) {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-05-04 "+hhmm, chinaTime)
	if err != nil {
		panic(err)
	}
	f.now = t.UTC()
}

// balances checks that each balance equals the sum of its ledger.
func (f *fixture) balances(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`SELECT COUNT(*) FROM volunteers v WHERE v.minutes <> COALESCE((SELECT SUM(minutes) FROM volunteer_hours h WHERE h.volunteer_id = v.id), 0)`,
		`SELECT COUNT(*) FROM volunteers v WHERE v.points <> COALESCE((SELECT SUM(points) FROM volunteer_points p WHERE p.volunteer_id = v.id), 0)`,
		`SELECT COUNT(*) FROM volunteer_timebank_accounts a WHERE a.minutes <> COALESCE((SELECT SUM(minutes) FROM volunteer_timebank e WHERE e.resident_id = a.resident_id), 0)`,
		`SELECT COUNT(*) FROM volunteers WHERE minutes < 0 OR points < 0`,
	} {
		var n int
		if err := f.db.Q(ctx).QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d accounts break %s", n, q)
		}
	}
}

func TestRegistrationVerificationAndMasking(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx, _, id := f.resident(t, "张桂兰")
		// An ID number that is not the resident's own is refused.
		_, err := f.svc.RegisterSelf(ctx, RegisterInput{IDNumber: makeID("19900101", 500), Phone: "13900001111"})
		if got := fieldsOf(err); got != "id_number:err.volunteer.id_not_yours" {
			t.Fatalf("someone else's ID: %q (%v)", got, err)
		}
		_, err = f.svc.RegisterSelf(ctx, RegisterInput{IDNumber: id, Phone: "12345", Skills: []string{strings.Repeat("长", 21)}})
		if got := fieldsOf(err); got != "phone:err.volunteer.phone skills:err.volunteer.skills" {
			t.Fatalf("bad phone and skill: %q", got)
		}
		v, err := f.svc.RegisterSelf(ctx, RegisterInput{IDNumber: id, Phone: "13900001111", Skills: []string{"理发，陪伴"}, Availability: "周末上午"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != Pending || v.Name != "张桂兰" || v.IDNumber != crypto.MaskID(id) || v.Phone != "139****1111" ||
			!strings.HasPrefix(v.Number, "V370613001001") || strings.Join(v.Skills, "|") != "理发|陪伴" {
			t.Fatalf("registered: %+v", v)
		}
		if _, err := f.svc.RegisterSelf(ctx, RegisterInput{IDNumber: id, Phone: "13900001111"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second registration: %v", err)
		}
		// Only staff of the community verify.
		if _, err := f.svc.Verify(f.other, v.ID, Verified); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("other community verifies: %v", err)
		}
		if _, err := f.svc.Verify(f.street, v.ID, Verified); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("street staff verify: %v", err)
		}
		if _, err := f.svc.Verify(ctx, v.ID, Verified); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("self-verification: %v", err)
		}
		if v, err = f.svc.Verify(f.staff, v.ID, Verified); err != nil || v.Status != Verified {
			t.Fatalf("verify: %+v %v", v, err)
		}
		// Lists are scoped: the other community sees nobody.
		if vs, err := f.svc.Volunteers(f.other, VolunteerQuery{}); err != nil || len(vs) != 0 {
			t.Fatalf("other community lists %d, %v", len(vs), err)
		}
		if vs, err := f.svc.Volunteers(f.street, VolunteerQuery{Skill: "理发"}); err != nil || len(vs) != 1 {
			t.Fatalf("street lists %d, %v", len(vs), err)
		}
		// The sealed columns hold no clear number.
		var idEnc string
		d.Q(ctx).QueryRowContext(ctx, "SELECT id_enc FROM volunteers WHERE id = $1", v.ID).Scan(&idEnc)
		if strings.Contains(idEnc, id) || idEnc == "" {
			t.Fatalf("ID number stored in clear: %q", idEnc)
		}
	})
}

func TestOrganisationsAndMissingKinds(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o, err := f.svc.CreateOrg(f.staff, OrgInput{Community: f.community.Code, Name: "岱山夕阳红服务队", Kind: PublicService, Contact: "0535-1234567"})
		if err != nil || o.Status != Incubating || o.Contact != "053*****4567" {
			t.Fatalf("create: %+v %v", o, err)
		}
		_, err = f.svc.CreateOrg(f.staff, OrgInput{Community: f.community.Code, Name: "第二党委", Kind: Party})
		if got := fieldsOf(err); got != "kind:err.volunteer.party_exists" {
			t.Fatalf("second party organisation: %q", got)
		}
		_, err = f.svc.CreateOrg(f.staff, OrgInput{Community: "370613001002", Name: "黄海法律服务社", Kind: LegalRights})
		if got := fieldsOf(err); got != "community:err.volunteer.community_unknown" {
			t.Fatalf("outside the community: %v", err)
		}
		_, err = f.svc.CreateOrg(f.staff, OrgInput{Community: f.community.Code, Name: "x", Kind: "sports", Status: "approved", Founded: "2026-13-01"})
		if got := fieldsOf(err); got != "kind:err.volunteer.org_kind status:err.volunteer.org_status founded:err.volunteer.date" {
			t.Fatalf("bad organisation: %q", got)
		}
		// Party members: residents and in-service members (双报到) with commitments.
		orgs, _ := f.svc.Orgs(f.staff)
		party := orgs[0]
		if party.Kind != Party {
			t.Fatalf("party organisation first: %+v", orgs)
		}
		_, err = f.svc.AddMember(f.staff, party.ID, MemberInput{Name: "刘洋", Party: "in_service"})
		if got := fieldsOf(err); got != "workplace:err.volunteer.workplace" {
			t.Fatalf("in-service member without workplace: %q", got)
		}
		if _, err := f.svc.AddMember(f.staff, party.ID, MemberInput{Name: "刘洋", Party: "in_service", Workplace: "区税务局", Commitment: "每月一次政策宣讲"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ReviewOrg(f.staff, o.ID, Review{Year: 2025, Result: "qualified"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ReviewOrg(f.staff, o.ID, Review{Year: 2025, Result: "excellent"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second review of a year: %v", err)
		}
		gaps, err := f.svc.MissingKinds(f.street)
		if err != nil || len(gaps) != 2 {
			t.Fatalf("gaps: %+v %v", gaps, err)
		}
		if fmt.Sprint(gaps[0].Missing) != "[social_affairs culture_sports charity legal_rights]" || !gaps[0].HasParty ||
			len(gaps[1].Missing) != 5 || gaps[1].HasParty {
			t.Fatalf("gaps: %+v", gaps)
		}
	})
}

func TestSignUpCapacityHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, func(in *ActivityInput) { in.Slots = 3 })
		var ctxs []context.Context
		for i := range 8 {
			ctx, _ := f.volunteer(t, fmt.Sprintf("志愿者%d", i))
			ctxs = append(ctxs, ctx)
		}
		results := make(chan error, len(ctxs))
		for _, ctx := range ctxs {
			go func() {
				_, err := f.svc.SignUp(ctx, x.ID)
				results <- err
			}()
		}
		ok, full := 0, 0
		for range ctxs {
			err := <-results
			switch {
			case err == nil:
				ok++
			case fieldsOf(err) == "activity_id:err.volunteer.full":
				full++
			default:
				t.Errorf("sign-up: %v", err)
			}
		}
		x, _ = f.svc.Activity(f.staff, x.ID)
		if ok != 3 || full != 5 || x.Taken != 3 {
			t.Fatalf("%d signed up, %d refused, taken %d; want 3, 5, 3", ok, full, x.Taken)
		}
		if _, err := f.svc.SignUp(ctxs[0], x.ID); errs.CodeOf(err) == errs.Internal {
			t.Fatalf("again: %v", err)
		}
	})
}

// checkedIn is a volunteer signed up, confirmed and holding the
// activity's code, at 10:00.
func (f *fixture) checkedIn(t *testing.T, x Activity, name string) (context.Context, Volunteer, Signup) {
	t.Helper()
	ctx, v := f.volunteer(t, name)
	g, err := f.svc.SignUp(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Confirm(f.staff, g.ID); err != nil {
		t.Fatal(err)
	}
	f.at("10:00")
	tok, err := f.svc.CheckinToken(f.staff, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g, err = f.svc.CheckIn(ctx, tok.Code, site); err != nil {
		t.Fatalf("check-in: %v", err)
	}
	return ctx, v, g
}

func TestQRCheckInRefusesForgedExpiredFarAndEarly(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, nil)
		ctx, v := f.volunteer(t, "李明")
		g, _ := f.svc.SignUp(ctx, x.ID)
		f.svc.Confirm(f.staff, g.ID)
		f.at("08:00")
		early, _ := f.svc.CheckinToken(f.staff, x.ID)
		_, err := f.svc.CheckIn(ctx, early.Code, site)
		if got := fieldsOf(err); got != "checked_in_at:err.volunteer.outside_window" {
			t.Fatalf("two hours early: %q", got)
		}
		f.at("10:00")
		tok, _ := f.svc.CheckinToken(f.staff, x.ID)
		parts := strings.Split(tok.Code, ".")
		other := f.activity(t, func(in *ActivityInput) { in.Title = "另一活动" })
		for name, code := range map[string]string{
			"forged mac":       parts[0] + "." + parts[1] + "." + strings.Repeat("0", len(parts[2])),
			"later expiry":     parts[0] + "." + fmt.Sprint(tok.ExpiresAt.Unix()+3600) + "." + parts[2],
			"another activity": fmt.Sprint(other.ID) + "." + parts[1] + "." + parts[2],
			"junk":             "hello",
			"expired":          early.Code,
		} {
			_, err := f.svc.CheckIn(ctx, code, site)
			want := "code:err.volunteer.code_bad"
			if name == "expired" {
				want = "code:err.volunteer.code_expired"
			}
			if got := fieldsOf(err); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		// 1.1 km north of the site.
		_, err = f.svc.CheckIn(ctx, tok.Code, Position{Lon: site.Lon, Lat: site.Lat + 0.01})
		if got := fieldsOf(err); got != "lon:err.volunteer.too_far" {
			t.Fatalf("far away: %q", got)
		}
		if g, err := f.svc.loadSignup(f.staff, g.ID); err != nil || g.CheckedInAt != nil {
			t.Fatalf("a refused check-in left a mark: %+v %v", g, err)
		}
		if _, err := f.svc.CheckIn(ctx, tok.Code, Position{Lon: site.Lon + 0.001, Lat: site.Lat}); err != nil {
			t.Fatalf("90 m away: %v", err)
		}
		if v, _ := f.svc.Volunteer(f.staff, v.ID); v.Minutes != 0 {
			t.Fatalf("hours before the organiser confirms: %d", v.Minutes)
		}
	})
}

func TestRiskyActivityNeedsInsuranceToStart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, func(in *ActivityInput) { in.Risk = "high"; in.Title = "防汛排查" })
		ctx, _ := f.volunteer(t, "赵刚")
		g, _ := f.svc.SignUp(ctx, x.ID)
		f.svc.Confirm(f.staff, g.ID)
		f.at("10:05")
		_, err := f.svc.Stamp(f.staff, g.ID, StampInput{In: true})
		if got := fieldsOf(err); got != "insurance:err.volunteer.uninsured" {
			t.Fatalf("uninsured start: %q", got)
		}
		policy := Insurance{Insurer: "中国人民财产保险", Policy: "PICC-2026-0001", From: "2026-05-04", To: "2026-05-04"}
		if _, err := f.svc.RecordInsurance(f.staff, x.ID, policy); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Stamp(f.staff, g.ID, StampInput{In: true}); err != nil {
			t.Fatalf("insured start: %v", err)
		}
	})
}

func TestHoursCreditedOnceCappedWithPointsAndCoins(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, func(in *ActivityInput) { in.CapMinutes = 90; in.TimeBank = true })
		ctx, v, g := f.checkedIn(t, x, "王小红")
		f.at("12:20")
		if _, err := f.svc.CheckOut(ctx, mustToken(t, f, x.ID), site); err != nil {
			t.Fatal(err)
		}
		// Bad minutes change nothing.
		for _, m := range []int{-30, 91, 100000} {
			if _, err := f.svc.Credit(f.staff, g.ID, m); fieldsOf(err) != "minutes:err.volunteer.minutes" {
				t.Fatalf("credit %d: %v", m, err)
			}
		}
		if _, err := f.svc.Credit(f.street, g.ID, 0); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("street staff credit: %v", err)
		}
		// Checked 10:00–12:20 against a 10:00–12:00 window: 120 min, capped at 90.
		if g, err := f.svc.Credit(f.staff, g.ID, 0); err != nil || g.Credited != 90 || g.Status != "credited" {
			t.Fatalf("credit: %+v %v", g, err)
		}
		if _, err := f.svc.Credit(f.staff, g.ID, 0); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("second credit: %v", err)
		}
		v, _ = f.svc.Volunteer(ctx, v.ID)
		acc, err := f.svc.TimeBank(ctx, v.ResidentID)
		if v.Minutes != 90 || v.Points != 1 || err != nil || acc.Minutes != 90 {
			t.Fatalf("after credit: %d min, %d points, %d coin-minutes (%v)", v.Minutes, v.Points, acc.Minutes, err)
		}
		f.balances(t)
	})
}

func mustToken(t *testing.T, f *fixture, id int64) string {
	t.Helper()
	tok, err := f.svc.CheckinToken(f.staff, id)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Code
}
