package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// ---------------------------------------------------------------------------
// Fixture

// fakeClock is the service's and the audit log's clock; tests move it
// forward instead of sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The area tree every test gets. Community C's id (30) starts with A's id
// (3), so a prefix test that forgot the trailing slash would let A's staff
// into C.
//
//	D  district   /1/
//	S  street     /1/2/
//	A  community  /1/2/3/
//	A1 grid       /1/2/3/5/
//	B  community  /1/2/4/
//	C  community  /1/2/30/
var testAreas = []struct {
	id, parent  int64
	code, level string
	path        string
}{
	{1, 0, "D", "district", "/1/"},
	{2, 1, "S", "street", "/1/2/"},
	{3, 2, "A", "community", "/1/2/3/"},
	{5, 3, "A1", "grid", "/1/2/3/5/"},
	{4, 2, "B", "community", "/1/2/4/"},
	{30, 2, "C", "community", "/1/2/30/"},
}

const (
	pathS  = "/1/2/"
	pathA  = "/1/2/3/"
	pathA1 = "/1/2/3/5/"
	pathB  = "/1/2/4/"
	pathC  = "/1/2/30/"

	goodPassword = "correct horse battery"
	ip           = "198.51.100.7"
)

type fixture struct {
	d     *db.DB
	log   *audit.Log
	svc   *auth.Service
	clock *fakeClock
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	clock := &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	log := audit.New(d, clock.Now)
	f := &fixture{d: d, log: log, svc: auth.NewService(d, log, clock.Now), clock: clock}
	err := d.Write(context.Background(), func(ctx context.Context) error {
		for _, a := range testAreas {
			var parent any
			if a.parent != 0 {
				parent = a.parent
			}
			if _, err := d.Q(ctx).ExecContext(ctx,
				"INSERT INTO areas (id, code, name, level, parent_id, path, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
				a.id, a.code, "area "+a.code, a.level, parent, a.path, clock.Now().UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert areas: %v", err)
	}
	return f
}

// system is the context of the command line.
func system() context.Context {
	return auth.WithPrincipal(context.Background(), auth.System())
}

// as is the context of a request by p.
func as(p *auth.Principal) context.Context {
	return auth.WithPrincipal(context.Background(), p)
}

// from is the context of an anonymous request from addr.
func from(addr string) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{Name: "anonymous", IP: addr, RequestID: "req-" + addr})
}

// user creates an account with goodPassword, as the system.
func (f *fixture) user(t *testing.T, name string, role auth.Role, areaCode string) auth.User {
	t.Helper()
	u, err := f.svc.CreateUser(system(), auth.NewUser{Name: name, Password: goodPassword, Role: role, AreaCode: areaCode})
	if err != nil {
		t.Fatalf("create %s (%s@%s): %v", name, role, areaCode, err)
	}
	return u
}

// login signs name in with goodPassword from ip.
func (f *fixture) login(t *testing.T, name string) (string, *auth.Principal) {
	t.Helper()
	cookie, p, err := f.svc.Login(from(ip), name, goodPassword, "")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return cookie, p
}

// count runs a COUNT(*) query.
func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.Q(context.Background()).QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if err := f.d.Write(context.Background(), func(ctx context.Context) error {
		_, err := f.d.Q(ctx).ExecContext(ctx, q, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// auditRows counts audit rows for an action and outcome about a target.
func (f *fixture) auditRows(t *testing.T, action, outcome, target string) int {
	t.Helper()
	return f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2 AND target_id = $3",
		action, outcome, target)
}

// wantCode fails unless err is an *errs.Error with code and, when fields
// are given, exactly those bad fields.
func wantCode(t *testing.T, err error, code errs.Code, fields ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *errs.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
	if fields == nil {
		return
	}
	var got []string
	for _, fl := range e.Fields {
		got = append(got, fl.Field)
	}
	slices.Sort(got)
	fields = slices.Clone(fields)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("err = %v: fields %v, want %v", err, got, fields)
	}
}

func wantOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ---------------------------------------------------------------------------
// Passwords

func TestCheckPassword(t *testing.T) {
	h := auth.HashPassword(goodPassword)
	if !auth.CheckPassword(h, goodPassword) {
		t.Fatalf("the right password is refused by its own hash %q", h)
	}
	if h2 := auth.HashPassword(goodPassword); h2 == h {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", h)
	}
	for _, pw := range []string{"", "correct horse batter", "Correct horse battery", goodPassword + " "} {
		if auth.CheckPassword(h, pw) {
			t.Errorf("wrong password %q accepted", pw)
		}
	}

	parts := strings.Split(h, "$") // "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	key := parts[5]
	garbled := map[string]string{
		"empty":              "",
		"not a hash":         goodPassword,
		"other algorithm":    strings.Replace(h, "$argon2id$", "$argon2i$", 1),
		"missing part":       strings.Join(parts[:5], "$"),
		"key cut off":        strings.TrimSuffix(h, key),
		"key cut short":      h[:len(h)-4],
		"salt not base64":    strings.Replace(h, parts[4], "!!!!", 1),
		"params unreadable":  strings.Replace(h, parts[3], "m=lots", 1),
		"zero passes":        strings.Replace(h, parts[3], "m=19456,t=0,p=1", 1),
		"zero threads":       strings.Replace(h, parts[3], "m=19456,t=2,p=0", 1),
		"other params":       strings.Replace(h, parts[3], "m=19456,t=3,p=1", 1),
		"key of another pwd": strings.TrimSuffix(h, key) + strings.Split(auth.HashPassword("x"), "$")[5],
		// Right for the password, but one byte long: any password would
		// match it with odds of 1 in 256.
		"one-byte key": oneByteHash(goodPassword),
	}
	for name, hash := range garbled {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("CheckPassword(%q) panicked: %v", hash, r)
				}
			}()
			if auth.CheckPassword(hash, goodPassword) {
				t.Fatalf("CheckPassword(%q, right password) = true, want false", hash)
			}
		})
	}
}

// oneByteHash is a well-formed argon2id hash of password whose key is a
// single byte.
func oneByteHash(password string) string {
	b64 := base64.RawStdEncoding
	salt := []byte("sixteen byte slt")
	key := argon2.IDKey([]byte(password), salt, 1, 1024, 1, 1)
	return fmt.Sprintf("$argon2id$v=%d$m=1024,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ---------------------------------------------------------------------------
// Accounts

func TestCreateUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u, err := f.svc.CreateUser(system(), auth.NewUser{Name: "  Wang.Li ", Password: goodPassword,
			Role: auth.GridWorker, AreaCode: "A1"})
		wantOK(t, err, "create wang.li")
		if u.ID == 0 || u.Name != "wang.li" || u.DisplayName != "wang.li" {
			t.Errorf("created %+v, want a stored id, the name trimmed and lower-cased, and it as display name", u)
		}
		if n := f.auditRows(t, "user.create", audit.OK, "wang.li"); n != 1 {
			t.Errorf("%d audit rows for user.create, want 1", n)
		}
		// The new account can sign in with its grant.
		_, p := f.login(t, "WANG.LI")
		if len(p.Grants) != 1 || p.Grants[0].Role != auth.GridWorker || p.Grants[0].AreaCode != "A1" || p.Grants[0].AreaPath != pathA1 {
			t.Errorf("grants after login %+v, want grid_worker@A1 (%s)", p.Grants, pathA1)
		}
	})
}

func TestCreateUserRefusesBadInput(t *testing.T) {
	ok := auth.NewUser{Name: "li.na", Password: goodPassword, Role: auth.CommunityStaff, AreaCode: "A"}
	with := func(change func(*auth.NewUser)) auth.NewUser {
		nu := ok
		change(&nu)
		return nu
	}
	cases := []struct {
		name   string
		nu     auth.NewUser
		code   errs.Code
		fields []string
	}{
		{"name with a space", with(func(u *auth.NewUser) { u.Name = "li na" }), errs.Invalid, []string{"name"}},
		{"name one letter", with(func(u *auth.NewUser) { u.Name = "l" }), errs.Invalid, []string{"name"}},
		{"name in Chinese", with(func(u *auth.NewUser) { u.Name = "李娜" }), errs.Invalid, []string{"name"}},
		{"name too long", with(func(u *auth.NewUser) { u.Name = strings.Repeat("a", 33) }), errs.Invalid, []string{"name"}},
		{"short password", with(func(u *auth.NewUser) { u.Password = "123456789" }), errs.Invalid, []string{"password"}},
		{"display name too long", with(func(u *auth.NewUser) { u.DisplayName = strings.Repeat("李", 65) }), errs.Invalid, []string{"display_name"}},
		{"every bad field at once", auth.NewUser{Name: "?", Password: "x", Role: "mayor"}, errs.Invalid, []string{"name", "password", "role"}},
		{"unknown role", with(func(u *auth.NewUser) { u.Role = "mayor" }), errs.Invalid, []string{"role"}},
		{"unknown area", with(func(u *auth.NewUser) { u.AreaCode = "nowhere" }), errs.Invalid, []string{"area"}},
		{"non-admin without area", with(func(u *auth.NewUser) { u.AreaCode = "" }), errs.Invalid, []string{"area"}},
		{"admin with an area", with(func(u *auth.NewUser) { u.Role = auth.Admin }), errs.Invalid, []string{"area"}},
		{"name taken", with(func(u *auth.NewUser) { u.Name = "zhang" }), errs.Conflict, []string{"name"}},
		{"name taken, other case", with(func(u *auth.NewUser) { u.Name = " ZHANG" }), errs.Conflict, []string{"name"}},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "zhang", auth.Resident, "B")
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.CreateUser(system(), c.nu)
				wantCode(t, err, c.code, c.fields...)
			})
		}
		if n := f.count(t, "SELECT COUNT(*) FROM users"); n != 1 {
			t.Errorf("%d accounts after refused creations, want only zhang", n)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM grants"); n != 1 {
			t.Errorf("%d grants after refused creations, want only zhang's", n)
		}
	})
}

// Only a global administrator manages accounts: anonymous callers must sign
// in, everyone else is forbidden, whatever their area.
func TestManagingAccountsNeedsAGlobalAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "boss", auth.Admin, "")
		f.user(t, "staff.a", auth.CommunityStaff, "A")
		f.user(t, "street", auth.StreetStaff, "S")
		f.user(t, "target", auth.Resident, "A")
		_, admin := f.login(t, "boss")
		_, staff := f.login(t, "staff.a")
		_, street := f.login(t, "street")

		callers := []struct {
			name    string
			ctx     context.Context
			newUser string    // login name the caller tries to create
			want    errs.Code // "" for success
		}{
			{"anonymous", from(ip), "anon.new", errs.Unauthenticated},
			{"community staff of A", as(staff), "staff.new", errs.Forbidden},
			{"street staff above A", as(street), "street.new", errs.Forbidden},
			{"global admin", as(admin), "admin.new", ""},
		}
		for _, c := range callers {
			t.Run(c.name, func(t *testing.T) {
				check := func(what string, err error) {
					t.Helper()
					if c.want == "" {
						wantOK(t, err, what)
					} else {
						wantCode(t, err, c.want)
					}
				}
				_, err := f.svc.CreateUser(c.ctx, auth.NewUser{Name: c.newUser, Password: goodPassword, Role: auth.GridWorker, AreaCode: "A1"})
				check("create grid worker in A1", err)
				_, err = f.svc.CreateUser(c.ctx, auth.NewUser{Name: c.newUser + "2", Password: goodPassword, Role: auth.Admin})
				check("create admin", err)
				check("grant in A", f.svc.Grant(c.ctx, "target", auth.GridWorker, "A"))
				check("revoke in A", f.svc.Revoke(c.ctx, "target", auth.GridWorker, "A"))
				_, err = f.svc.ListUsers(c.ctx)
				check("list users", err)
			})
		}
		// Only the admin's two accounts were created.
		if n := f.count(t, "SELECT COUNT(*) FROM users"); n != 6 {
			t.Errorf("%d accounts, want 4 from the fixture + 2 by the admin", n)
		}
	})
}

func TestListUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "boss", auth.Admin, "")
		f.user(t, "wu", auth.GridWorker, "A1")
		f.exec(t, "INSERT INTO users (name, display_name, password_hash, created_at, updated_at) VALUES ('nogrant', 'x', 'x', $1, $1)",
			f.clock.Now().UTC())
		users, err := f.svc.ListUsers(system())
		wantOK(t, err, "list users")
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
		}
		if want := []string{"boss", "nogrant", "wu"}; !slices.Equal(names, want) {
			t.Fatalf("users %v, want %v (sorted, including accounts without a grant)", names, want)
		}
		if g := users[2].Grants; len(g) != 1 || g[0].Role != auth.GridWorker || g[0].AreaCode != "A1" {
			t.Errorf("wu's grants %+v, want grid_worker@A1", g)
		}
	})
}

// Holders are the users with one of the roles over one of the areas, each
// once; with no areas, over any area.
func TestHolders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ann := f.user(t, "ann", auth.CommunityStaff, "A")
		bo := f.user(t, "bo", auth.StreetStaff, "S")
		cy := f.user(t, "cy", auth.CommunityStaff, "B")
		f.user(t, "wu", auth.GridWorker, "A1")
		wantOK(t, f.svc.EnsureGrant(system(), ann.ID, auth.StreetStaff, 2), "second grant")
		staff := []auth.Role{auth.CommunityStaff, auth.StreetStaff}
		for _, c := range []struct {
			areas []int64
			want  []int64
		}{
			{[]int64{5, 3, 2, 1}, []int64{ann.ID, bo.ID}}, // the grid A1 and the areas above it
			{[]int64{4}, []int64{cy.ID}},
			{[]int64{30}, nil},
			{nil, []int64{ann.ID, bo.ID, cy.ID}},
		} {
			got, err := f.svc.Holders(context.Background(), staff, c.areas)
			wantOK(t, err, "holders")
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("staff over %v: %v, want %v", c.areas, got, c.want)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Authorization

func TestCanFollowsTheAreaTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "staff.a", auth.CommunityStaff, "A")
		f.user(t, "boss", auth.Admin, "")
		_, staff := f.login(t, "staff.a")
		_, admin := f.login(t, "boss")
		if len(staff.Grants) != 1 || staff.Grants[0].AreaPath != pathA {
			t.Fatalf("staff grants %+v, want one on %s", staff.Grants, pathA)
		}
		cases := []struct {
			who  string
			p    *auth.Principal
			perm auth.Perm
			path string
			want bool
		}{
			{"staff", staff, auth.AreaRead, pathA, true},
			{"staff", staff, auth.AreaRead, pathA1, true},
			{"staff", staff, auth.AreaRead, pathB, false},
			{"staff", staff, auth.AreaRead, pathC, false},
			{"staff", staff, auth.AreaRead, pathS, false},
			{"staff", staff, auth.AreaRead, "", false},
			{"staff", staff, auth.AreaManage, pathA, false},
			{"staff", staff, auth.UserManage, pathA, false},
			{"admin", admin, auth.AreaManage, pathB, true},
			{"admin", admin, auth.UserManage, "", true},
			{"anonymous", nil, auth.AreaRead, pathA, false},
		}
		for _, c := range cases {
			if got := c.p.Can(c.perm, c.path); got != c.want {
				t.Errorf("%s.Can(%s, %q) = %v, want %v", c.who, c.perm, c.path, got, c.want)
			}
		}
		if !staff.HasRole(auth.CommunityStaff) || staff.HasRole(auth.Admin) || !slices.Equal(staff.Roles(), []auth.Role{auth.CommunityStaff}) {
			t.Errorf("staff roles %v", staff.Roles())
		}
		wantCode(t, (*auth.Principal)(nil).Require(auth.AreaRead, pathA), errs.Unauthenticated)
		wantCode(t, staff.Require(auth.AreaRead, pathB), errs.Forbidden)
		wantOK(t, staff.Require(auth.AreaRead, pathA1), "staff reads the grid under A")
	})
}

// Filter is the list-query twin of Can: the rows it keeps are exactly the
// areas Can allows, on both engines.
func TestFilterKeepsTheGrantedSubtree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "staff.a", auth.CommunityStaff, "A")
		f.user(t, "two", auth.GridWorker, "A1")
		wantOK(t, f.svc.Grant(system(), "two", auth.GridWorker, "B"), "grant B")
		f.user(t, "boss", auth.Admin, "")
		_, staff := f.login(t, "staff.a")
		_, two := f.login(t, "two")
		_, admin := f.login(t, "boss")

		codes := func(t *testing.T, p *auth.Principal) []string {
			t.Helper()
			cond, args := p.Filter(auth.AreaRead, "a.id", 1)
			rows, err := d.Q(context.Background()).QueryContext(context.Background(),
				"SELECT code FROM areas a WHERE "+cond+" ORDER BY code", args...)
			if err != nil {
				t.Fatalf("filter %q %v: %v", cond, args, err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					t.Fatal(err)
				}
				out = append(out, c)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		cases := []struct {
			who  string
			p    *auth.Principal
			want []string
		}{
			{"staff of A", staff, []string{"A", "A1"}},
			{"grid worker of A1 and B", two, []string{"A1", "B"}},
			{"global admin", admin, []string{"A", "A1", "B", "C", "D", "S"}},
			{"anonymous", nil, nil},
			{"read-only token of staff", &auth.Principal{Grants: staff.Grants, Scopes: []auth.Scope{auth.ScopeRead}}, []string{"A", "A1"}},
			{"metrics token of staff", &auth.Principal{Grants: staff.Grants, Scopes: []auth.Scope{auth.ScopeMetrics}}, nil},
		}
		for _, c := range cases {
			t.Run(c.who, func(t *testing.T) {
				got := codes(t, c.p)
				if !slices.Equal(got, c.want) {
					t.Fatalf("filtered areas %v, want %v", got, c.want)
				}
				for _, a := range testAreas {
					if can, kept := c.p.Can(auth.AreaRead, a.path), slices.Contains(got, a.code); can != kept {
						t.Errorf("area %s: Can = %v but Filter keeps it = %v", a.code, can, kept)
					}
				}
			})
		}

		// Arguments are numbered from firstArg, after the caller's own.
		cond, args := staff.Filter(auth.AreaRead, "a.id", 2)
		var n int
		err := d.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT COUNT(*) FROM areas a WHERE a.level = $1 AND "+cond, append([]any{"grid"}, args...)...).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("grids in A with the filter from $2: %d, %v; want 1", n, err)
		}
	})
}

func TestPathEnd(t *testing.T) {
	for prefix, want := range map[string]string{"/1/": "/10", "/1/5/": "/1/50", "/1/2/30/": "/1/2/300"} {
		if got := auth.PathEnd(prefix); got != want {
			t.Errorf("PathEnd(%q) = %q, want %q", prefix, got, want)
		}
		for _, inside := range []string{prefix, prefix + "9/", prefix + "123/4/"} {
			if !(inside >= prefix && inside < auth.PathEnd(prefix)) {
				t.Errorf("%q is in the subtree of %q but outside [%q, %q)", inside, prefix, prefix, auth.PathEnd(prefix))
			}
		}
		for _, outside := range []string{prefix[:len(prefix)-1] + "0/", prefix[:len(prefix)-1] + "9/", "/2/"} {
			if outside >= prefix && outside < auth.PathEnd(prefix) {
				t.Errorf("%q is outside the subtree of %q but inside [%q, %q)", outside, prefix, prefix, auth.PathEnd(prefix))
			}
		}
	}
}

// A token is limited to its scopes on top of its user's grants; a browser
// session has every scope.
func TestTokenScopesLimitPermissions(t *testing.T) {
	grants := []auth.GrantInfo{{Role: auth.Admin}}
	cases := []struct {
		scopes []auth.Scope
		perm   auth.Perm
		want   bool
	}{
		{nil, auth.AreaManage, true},
		{nil, auth.UserManage, true},
		{[]auth.Scope{auth.ScopeRead}, auth.AreaRead, true},
		{[]auth.Scope{auth.ScopeRead}, auth.AreaManage, false},
		{[]auth.Scope{auth.ScopeRead}, auth.UserManage, false},
		{[]auth.Scope{auth.ScopeRead}, auth.AuditRead, false},
		{[]auth.Scope{auth.ScopeRead}, auth.MetricsRead, false},
		{[]auth.Scope{auth.ScopeWrite}, auth.AreaRead, true}, // write implies read
		{[]auth.Scope{auth.ScopeWrite}, auth.AreaManage, true},
		{[]auth.Scope{auth.ScopeWrite}, auth.UserManage, false},
		{[]auth.Scope{auth.ScopeAdmin}, auth.UserManage, true},
		{[]auth.Scope{auth.ScopeAdmin}, auth.AuditRead, true},
		{[]auth.Scope{auth.ScopeMetrics}, auth.MetricsRead, true},
		{[]auth.Scope{auth.ScopeMetrics}, auth.AreaRead, false},
		{[]auth.Scope{}, auth.AreaRead, false}, // a token with no scope can do nothing
	}
	for _, c := range cases {
		p := &auth.Principal{UserID: 1, Grants: grants, Scopes: c.scopes}
		if got := p.Can(c.perm, pathA); got != c.want {
			t.Errorf("admin with scopes %v: Can(%s) = %v, want %v", c.scopes, c.perm, got, c.want)
		}
		if got := p.CanAnywhere(c.perm); got != c.want {
			t.Errorf("admin with scopes %v: CanAnywhere(%s) = %v, want %v", c.scopes, c.perm, got, c.want)
		}
	}

	// The same through real credentials.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "boss", auth.Admin, "")
		_, session := f.login(t, "boss")
		tok, err := f.svc.CreateToken(as(session), auth.NewToken{User: "boss", Name: "dashboard", Scopes: []auth.Scope{auth.ScopeRead}})
		wantOK(t, err, "create token")
		token, err := f.svc.AuthenticateToken(context.Background(), tok)
		wantOK(t, err, "authenticate token")
		if !token.Can(auth.AreaRead, pathA) || token.Can(auth.AreaManage, pathA) {
			t.Errorf("read-only admin token: read %v, manage %v; want true, false",
				token.Can(auth.AreaRead, pathA), token.Can(auth.AreaManage, pathA))
		}
		if !session.Can(auth.AreaManage, pathA) {
			t.Error("admin session cannot manage areas")
		}
		// And the services honour it: a read-only token cannot manage accounts.
		_, err = f.svc.CreateUser(as(token), auth.NewUser{Name: "via.token", Password: goodPassword, Role: auth.Resident, AreaCode: "A"})
		wantCode(t, err, errs.Forbidden)
	})
}

// ---------------------------------------------------------------------------
// Grants

func TestGrantAndRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "zhao", auth.GridWorker, "A1")
		cookie, _ := f.login(t, "zhao")
		sys := system()

		wantOK(t, f.svc.Grant(sys, "zhao", auth.CommunityStaff, "B"), "grant community_staff@B")
		// Grants are read at each request: the open session gets B at once.
		p, err := f.svc.Authenticate(context.Background(), cookie)
		wantOK(t, err, "authenticate")
		if !p.Can(auth.AreaRead, pathB) || !p.HasRole(auth.CommunityStaff) {
			t.Fatalf("after the grant, grants %+v do not reach B", p.Grants)
		}
		wantCode(t, f.svc.Grant(sys, "zhao", auth.CommunityStaff, "B"), errs.Conflict)
		if n := f.auditRows(t, "user.grant", audit.OK, "zhao"); n != 1 {
			t.Errorf("%d audit rows for user.grant, want 1", n)
		}

		wantOK(t, f.svc.Revoke(sys, "zhao", auth.CommunityStaff, "B"), "revoke community_staff@B")
		p, err = f.svc.Authenticate(context.Background(), cookie)
		wantOK(t, err, "authenticate")
		if p.Can(auth.AreaRead, pathB) || !p.Can(auth.AreaRead, pathA1) {
			t.Fatalf("after the revoke, grants %+v: want A1 only", p.Grants)
		}
		wantCode(t, f.svc.Revoke(sys, "zhao", auth.CommunityStaff, "B"), errs.NotFound)
		if n := f.auditRows(t, "user.revoke", audit.OK, "zhao"); n != 1 {
			t.Errorf("%d audit rows for user.revoke, want 1", n)
		}

		cases := []struct {
			name   string
			err    error
			code   errs.Code
			fields []string
		}{
			{"grant to nobody", f.svc.Grant(sys, "nobody", auth.Resident, "A"), errs.NotFound, nil},
			{"revoke from nobody", f.svc.Revoke(sys, "nobody", auth.Resident, "A"), errs.NotFound, nil},
			{"revoke a role held elsewhere", f.svc.Revoke(sys, "zhao", auth.GridWorker, "A"), errs.NotFound, nil},
			{"grant unknown role", f.svc.Grant(sys, "zhao", "mayor", "A"), errs.Invalid, []string{"role"}},
			{"grant unknown area", f.svc.Grant(sys, "zhao", auth.Resident, "Z"), errs.Invalid, []string{"area"}},
			{"grant without area", f.svc.Grant(sys, "zhao", auth.Resident, ""), errs.Invalid, []string{"area"}},
			{"grant admin on an area", f.svc.Grant(sys, "zhao", auth.Admin, "A"), errs.Invalid, []string{"area"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { wantCode(t, c.err, c.code, c.fields...) })
		}
	})
}

// A global admin grant turns account management on, and revoking it turns
// it off again.
func TestAdminGrantGivesAccountManagement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "qian", auth.StreetStaff, "S")
		cookie, _ := f.login(t, "qian")
		create := func(name string) error {
			t.Helper()
			p, err := f.svc.Authenticate(context.Background(), cookie)
			wantOK(t, err, "authenticate")
			_, err = f.svc.CreateUser(as(p), auth.NewUser{Name: name, Password: goodPassword, Role: auth.Resident, AreaCode: "B"})
			return err
		}
		wantCode(t, create("r.one"), errs.Forbidden)
		wantOK(t, f.svc.Grant(system(), "qian", auth.Admin, ""), "grant admin")
		wantOK(t, create("r.two"), "create as admin")
		wantOK(t, f.svc.Revoke(system(), "qian", auth.Admin, ""), "revoke admin")
		wantCode(t, create("r.three"), errs.Forbidden)
	})
}

// ---------------------------------------------------------------------------
// Sessions

func TestLoginAndAuthenticate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "sun", auth.CommunityStaff, "A")
		cookie, p := f.login(t, "sun")
		selector, secret, ok := strings.Cut(cookie, ".")
		if !ok || selector == "" || secret == "" {
			t.Fatalf("cookie %q, want selector.secret", cookie)
		}
		if p.UserID != u.ID || p.SessionID != selector || p.Scopes != nil {
			t.Errorf("login principal %+v: want user %d, session %s, all scopes", p, u.ID, selector)
		}
		got, err := f.svc.Authenticate(context.Background(), cookie)
		wantOK(t, err, "authenticate")
		if got.UserID != u.ID || got.Name != "sun" || got.SessionID != selector || got.Scopes != nil ||
			len(got.Grants) != 1 || got.Grants[0].AreaCode != "A" || !got.Can(auth.AreaRead, pathA) {
			t.Errorf("authenticated principal %+v", got)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM sessions WHERE secret_hash LIKE $1", "%"+secret+"%"); n != 0 {
			t.Error("the session secret is stored in clear")
		}

		_, other, _ := strings.Cut(f.mustLoginCookie(t, "sun"), ".")
		for name, c := range map[string]string{
			"other session's secret": selector + "." + other,
			"secret changed":         selector + "." + secret[:len(secret)-1] + "x",
			"no secret":              selector + ".",
			"no dot":                 selector,
			"empty":                  "",
			"unknown selector":       "nosuchselector." + secret,
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.svc.Authenticate(context.Background(), c)
				wantCode(t, err, errs.Unauthenticated)
			})
		}
	})
}

func (f *fixture) mustLoginCookie(t *testing.T, name string) string {
	t.Helper()
	c, _ := f.login(t, name)
	return c
}

func TestLoginRefusesBadCredentials(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "zhou", auth.Resident, "A")
		f.user(t, "gone", auth.Resident, "A")
		goneCookie := f.mustLoginCookie(t, "gone")
		f.exec(t, "UPDATE users SET disabled = TRUE WHERE name = 'gone'")
		cases := []struct{ label, name, password string }{
			{"wrong password", "zhou", "wrong password!"},
			{"empty password", "zhou", ""},
			{"unknown account", "nobody", goodPassword},
			{"disabled account", "gone", goodPassword},
		}
		for _, c := range cases {
			t.Run(c.label, func(t *testing.T) {
				cookie, p, err := f.svc.Login(from("192.0.2."+c.name), c.name, c.password, "")
				wantCode(t, err, errs.Unauthenticated)
				if cookie != "" || p != nil {
					t.Errorf("refused login returned cookie %q, principal %v", cookie, p)
				}
			})
		}
		// A disabled account's open session ends too.
		_, err := f.svc.Authenticate(context.Background(), goneCookie)
		wantCode(t, err, errs.Unauthenticated)
		if n := f.count(t, "SELECT COUNT(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = 'zhou')"); n != 0 {
			t.Errorf("%d sessions for zhou after refused logins", n)
		}
	})
}

func TestLoginIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "wu", auth.Resident, "A")
		f.login(t, "wu")
		_, _, err := f.svc.Login(from("203.0.113.5"), "wu", "not the password", "")
		wantCode(t, err, errs.Unauthenticated)
		_, _, err = f.svc.Login(from("203.0.113.5"), "nobody", "not the password", "")
		wantCode(t, err, errs.Unauthenticated)

		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'user.login' AND outcome = 'ok'
			AND target_id = 'wu' AND actor_id = $1 AND ip = $2`, u.ID, ip); n != 1 {
			t.Errorf("%d audit rows for wu's login from %s by wu, want 1", n, ip)
		}
		for _, name := range []string{"wu", "nobody"} {
			if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'user.login' AND outcome = 'denied'
				AND target_id = $1 AND actor_id IS NULL AND ip = '203.0.113.5'`, name); n != 1 {
				t.Errorf("%d denied login rows for %s from 203.0.113.5, want 1", n, name)
			}
		}
		rep, err := f.log.Verify(context.Background())
		if err != nil || rep.Break != nil || rep.Rows != 4 { // create, login, 2 denied
			t.Errorf("audit log after logins: %+v, %v; want 4 intact rows", rep, err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "he", auth.Resident, "A")
		alive := func(t *testing.T, cookie string, want bool) {
			t.Helper()
			_, err := f.svc.Authenticate(context.Background(), cookie)
			if want {
				wantOK(t, err, "session after "+f.clock.Now().Format(time.DateTime))
			} else {
				wantCode(t, err, errs.Unauthenticated)
			}
		}

		t.Run("idle", func(t *testing.T) {
			cookie := f.mustLoginCookie(t, "he")
			// Each use moves the idle deadline.
			f.clock.Advance(f.svc.SessionIdle - time.Minute)
			alive(t, cookie, true)
			f.clock.Advance(f.svc.SessionIdle - time.Minute)
			alive(t, cookie, true)
			f.clock.Advance(f.svc.SessionIdle + time.Minute)
			alive(t, cookie, false)
			// A background purge removes it for good.
			wantOK(t, f.svc.PurgeExpired(context.Background()), "purge")
			sel, _, _ := strings.Cut(cookie, ".")
			if n := f.count(t, "SELECT COUNT(*) FROM sessions WHERE id = $1", sel); n != 0 {
				t.Error("idle session left after PurgeExpired")
			}
		})

		t.Run("max", func(t *testing.T) {
			cookie := f.mustLoginCookie(t, "he")
			step := f.svc.SessionIdle / 2
			var used time.Duration
			for used+step < f.svc.SessionMax {
				f.clock.Advance(step)
				used += step
				alive(t, cookie, true)
			}
			f.clock.Advance(f.svc.SessionMax - used - time.Minute)
			alive(t, cookie, true)
			f.clock.Advance(2 * time.Minute)
			alive(t, cookie, false)
		})
	})
}

func TestLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "lin", auth.Resident, "A")
		phone := f.mustLoginCookie(t, "lin")
		laptop := f.mustLoginCookie(t, "lin")
		sel, _, _ := strings.Cut(phone, ".")

		// A forged cookie with the right selector must not end the session:
		// the selector alone is not a credential.
		wantOK(t, f.svc.Logout(context.Background(), sel+".forged"), "logout with forged cookie")
		if _, err := f.svc.Authenticate(context.Background(), phone); err != nil {
			t.Fatalf("a forged cookie ended the session: %v", err)
		}

		wantOK(t, f.svc.Logout(context.Background(), phone), "logout")
		_, err := f.svc.Authenticate(context.Background(), phone)
		wantCode(t, err, errs.Unauthenticated)
		if _, err := f.svc.Authenticate(context.Background(), laptop); err != nil {
			t.Errorf("logging out the phone ended the laptop's session: %v", err)
		}
		// Logging out again, or without a cookie, is harmless.
		wantOK(t, f.svc.Logout(context.Background(), phone), "second logout")
		wantOK(t, f.svc.Logout(context.Background(), ""), "logout without cookie")
		// Only the one session that really ended is in the audit log.
		if n := f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.logout'"); n != 1 {
			t.Errorf("%d logout audit rows, want 1", n)
		}
	})
}

// Signing in again ends the session the browser had, so that a session id
// planted before login is worthless afterwards.
func TestLoginRotatesTheSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "ma", auth.Resident, "A")
		f.user(t, "victim", auth.Resident, "B")
		old := f.mustLoginCookie(t, "ma")
		other := f.mustLoginCookie(t, "victim")

		cookie, _, err := f.svc.Login(from(ip), "ma", goodPassword, old)
		wantOK(t, err, "login with old cookie")
		if cookie == old {
			t.Fatal("login kept the old cookie")
		}
		_, err = f.svc.Authenticate(context.Background(), old)
		wantCode(t, err, errs.Unauthenticated)
		_, err = f.svc.Authenticate(context.Background(), cookie)
		wantOK(t, err, "new session")

		// Only a real cookie is ended: someone who knows another user's
		// selector cannot log them out by passing it as their old cookie.
		sel, _, _ := strings.Cut(other, ".")
		_, _, err = f.svc.Login(from(ip), "ma", goodPassword, sel+".forged")
		wantOK(t, err, "login with forged old cookie")
		_, err = f.svc.Authenticate(context.Background(), other)
		wantOK(t, err, "victim's session after someone's login with its selector")
	})
}

func TestSetPassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "gao", auth.Resident, "A")
		f.user(t, "nosy", auth.CommunityStaff, "A")
		phone, gao := f.login(t, "gao")
		laptop := f.mustLoginCookie(t, "gao")
		_, nosy := f.login(t, "nosy")
		nosyCookie := f.mustLoginCookie(t, "nosy")
		const newPassword = "a much better passphrase"

		wantCode(t, f.svc.SetPassword(as(gao), "gao", "short"), errs.Invalid, "password")
		wantCode(t, f.svc.SetPassword(from(ip), "gao", newPassword), errs.Unauthenticated)
		wantCode(t, f.svc.SetPassword(as(nosy), "gao", newPassword), errs.Forbidden)
		wantCode(t, f.svc.SetPassword(system(), "nobody", newPassword), errs.NotFound)
		for _, c := range []string{phone, laptop} {
			if _, err := f.svc.Authenticate(context.Background(), c); err != nil {
				t.Fatalf("a refused password change ended a session: %v", err)
			}
		}

		wantOK(t, f.svc.SetPassword(as(gao), "gao", newPassword), "own password")
		for _, c := range []string{phone, laptop} {
			_, err := f.svc.Authenticate(context.Background(), c)
			wantCode(t, err, errs.Unauthenticated)
		}
		if _, err := f.svc.Authenticate(context.Background(), nosyCookie); err != nil {
			t.Errorf("gao's new password ended nosy's session: %v", err)
		}
		_, _, err := f.svc.Login(from(ip), "gao", goodPassword, "")
		wantCode(t, err, errs.Unauthenticated)
		_, _, err = f.svc.Login(from(ip), "gao", newPassword, "")
		wantOK(t, err, "login with the new password")

		// An administrator may reset anyone's.
		wantOK(t, f.svc.SetPassword(system(), "gao", goodPassword), "admin reset")
		f.login(t, "gao")
		if n := f.auditRows(t, "user.password", audit.OK, "gao"); n != 2 {
			t.Errorf("%d audit rows for password changes, want 2", n)
		}
	})
}

func TestSetPreferences(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "xu", auth.Resident, "A")
		cookie, p := f.login(t, "xu")
		wantCode(t, f.svc.SetPreferences(from(ip), "en", true), errs.Unauthenticated)
		wantCode(t, f.svc.SetPreferences(system(), "en", true), errs.Unauthenticated)
		wantOK(t, f.svc.SetPreferences(as(p), "en", true), "set preferences")
		got, err := f.svc.Authenticate(context.Background(), cookie)
		wantOK(t, err, "authenticate")
		if got.Locale != "en" || !got.LargeText {
			t.Errorf("preferences %q, %v; want en, large text", got.Locale, got.LargeText)
		}
	})
}

// ---------------------------------------------------------------------------
// Throttling

func TestLoginThrottlesGuessesAtOneAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "feng", auth.Resident, "A")
		f.user(t, "bystander", auth.Resident, "A")

		// Four failures and a success: the success clears the count.
		for i := 0; i < 4; i++ {
			_, _, err := f.svc.Login(from("192.0.2.1"), "feng", "guess number "+fmt.Sprint(i), "")
			wantCode(t, err, errs.Unauthenticated)
		}
		f.login(t, "feng")

		for i := 0; i < 5; i++ {
			_, _, err := f.svc.Login(from(fmt.Sprint("192.0.2.", 10+i)), "Feng", "guess number "+fmt.Sprint(i), "")
			wantCode(t, err, errs.Unauthenticated)
			f.clock.Advance(time.Second)
		}
		// The sixth attempt waits, from any address and with the right
		// password; another account is not affected.
		_, _, err := f.svc.Login(from("192.0.2.99"), "feng", goodPassword, "")
		wantCode(t, err, errs.TooMany)
		if e := errs.As(err); len(e.Args) != 1 || e.Args[0] != 15 {
			t.Errorf("throttled message args %v, want to wait [15] more minutes", e.Args)
		}
		f.login(t, "bystander")

		f.clock.Advance(16 * time.Minute)
		_, _, err = f.svc.Login(from("192.0.2.99"), "feng", goodPassword, "")
		wantOK(t, err, "login after the window")
	})
}

func TestLoginThrottlesOneAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "han", auth.Resident, "A")
		const guesser = "203.0.113.66"
		// 30 failures, each at a different account: no account is locked,
		// but the address is.
		for i := 0; i < 30; i++ {
			_, _, err := f.svc.Login(from(guesser), fmt.Sprint("user", i), "password123", "")
			wantCode(t, err, errs.Unauthenticated)
		}
		_, _, err := f.svc.Login(from(guesser), "han", goodPassword, "")
		wantCode(t, err, errs.TooMany)
		_, _, err = f.svc.Login(from("203.0.113.67"), "han", goodPassword, "")
		wantOK(t, err, "login from another address")

		f.clock.Advance(16 * time.Minute)
		_, _, err = f.svc.Login(from(guesser), "han", goodPassword, "")
		wantOK(t, err, "login from the guesser's address after the window")
	})
}

// ---------------------------------------------------------------------------
// API tokens

func TestParseScopes(t *testing.T) {
	cases := []struct {
		in   string
		want []auth.Scope
		bad  bool
	}{
		{"", nil, false},
		{"read", []auth.Scope{auth.ScopeRead}, false},
		{"read,write", []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, false},
		{" Read  write,read ", []auth.Scope{auth.ScopeRead, auth.ScopeWrite}, false},
		{"admin metrics", []auth.Scope{auth.ScopeAdmin, auth.ScopeMetrics}, false},
		{"root", nil, true},
		{"read,root", nil, true},
		{"read;write", nil, true},
	}
	for _, c := range cases {
		got, err := auth.ParseScopes(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("ParseScopes(%q) = %v, want an error", c.in, got)
				continue
			}
			wantCode(t, err, errs.Invalid, "scope")
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseScopes(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "tang", auth.CommunityStaff, "A")
		_, tang := f.login(t, "tang")
		ctx := as(tang)

		tok, err := f.svc.CreateToken(ctx, auth.NewToken{User: "tang", Name: "reports",
			Scopes: []auth.Scope{auth.ScopeRead, auth.ScopeMetrics}})
		wantOK(t, err, "create token")
		if !strings.HasPrefix(tok, "lnl_") || !strings.Contains(tok, ".") {
			t.Fatalf("token %q, want lnl_selector.secret", tok)
		}
		p, err := f.svc.AuthenticateToken(context.Background(), tok)
		wantOK(t, err, "authenticate token")
		if p.UserID != u.ID || p.SessionID != "" || !slices.Equal(p.Scopes, []auth.Scope{auth.ScopeRead, auth.ScopeMetrics}) ||
			!p.Can(auth.AreaRead, pathA) || p.Can(auth.AreaRead, pathB) {
			t.Errorf("token principal %+v", p)
		}

		def, err := f.svc.CreateToken(ctx, auth.NewToken{User: "tang", Name: "default"})
		wantOK(t, err, "create token with default scopes")
		if p, err := f.svc.AuthenticateToken(context.Background(), def); err != nil || !slices.Equal(p.Scopes, []auth.Scope{auth.ScopeRead}) {
			t.Errorf("default token: %+v, %v; want scope read", p, err)
		}

		secret := tok[strings.Index(tok, ".")+1:]
		defSecret := def[strings.Index(def, ".")+1:]
		for name, bad := range map[string]string{
			"other token's secret": strings.TrimSuffix(tok, secret) + defSecret,
			"secret changed":       tok[:len(tok)-1] + "x",
			"no prefix":            strings.TrimPrefix(tok, "lnl_"),
			"session cookie shape": "abc.def",
			"empty":                "",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.svc.AuthenticateToken(context.Background(), bad)
				wantCode(t, err, errs.Unauthenticated)
			})
		}

		wantCode(t, errOf(f.svc.CreateToken(ctx, auth.NewToken{User: "tang", Name: " "})), errs.Invalid, "name")
		wantCode(t, errOf(f.svc.CreateToken(ctx, auth.NewToken{User: "tang", Name: "x", Expires: -time.Hour})), errs.Invalid, "expires")
		wantCode(t, errOf(f.svc.CreateToken(from(ip), auth.NewToken{User: "tang", Name: "x"})), errs.Unauthenticated)
		wantCode(t, errOf(f.svc.CreateToken(ctx, auth.NewToken{User: "nobody", Name: "x"})), errs.NotFound)
	})
}

func errOf(_ string, err error) error { return err }

func TestTokenRevokeAndExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "cao", auth.Resident, "A")
		f.user(t, "peng", auth.Resident, "B")
		_, cao := f.login(t, "cao")
		_, peng := f.login(t, "peng")

		tok, err := f.svc.CreateToken(as(cao), auth.NewToken{User: "cao", Name: "script"})
		wantOK(t, err, "create token")
		short, err := f.svc.CreateToken(as(cao), auth.NewToken{User: "cao", Name: "short", Expires: time.Hour})
		wantOK(t, err, "create expiring token")

		list, err := f.svc.ListTokens(as(cao))
		wantOK(t, err, "list tokens")
		if len(list) != 2 || list[0].Name != "short" || list[1].Name != "script" {
			t.Fatalf("tokens %+v, want short then script (newest first)", list)
		}
		id := list[1].ID

		// Someone else cannot revoke it.
		wantCode(t, f.svc.RevokeToken(as(peng), id), errs.NotFound)
		wantCode(t, f.svc.RevokeToken(from(ip), id), errs.Unauthenticated)
		_, err = f.svc.AuthenticateToken(context.Background(), tok)
		wantOK(t, err, "token after refused revokes")

		wantOK(t, f.svc.RevokeToken(as(cao), id), "revoke")
		_, err = f.svc.AuthenticateToken(context.Background(), tok)
		wantCode(t, err, errs.Unauthenticated)
		wantCode(t, f.svc.RevokeToken(as(cao), id), errs.NotFound)
		if n := f.auditRows(t, "token.revoke", audit.OK, fmt.Sprint(id)); n != 1 {
			t.Errorf("%d audit rows for token.revoke, want 1", n)
		}

		f.clock.Advance(59 * time.Minute)
		_, err = f.svc.AuthenticateToken(context.Background(), short)
		wantOK(t, err, "token before it expires")
		f.clock.Advance(2 * time.Minute)
		_, err = f.svc.AuthenticateToken(context.Background(), short)
		wantCode(t, err, errs.Unauthenticated)

		// A disabled account's tokens stop working.
		other, err := f.svc.CreateToken(as(peng), auth.NewToken{User: "peng", Name: "p"})
		wantOK(t, err, "create peng's token")
		f.exec(t, "UPDATE users SET disabled = TRUE WHERE name = 'peng'")
		_, err = f.svc.AuthenticateToken(context.Background(), other)
		wantCode(t, err, errs.Unauthenticated)
	})
}

func TestListTokensShowsOwnTokensWithoutSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "yu", auth.Resident, "A")
		f.user(t, "lu", auth.Resident, "A")
		_, yu := f.login(t, "yu")
		_, lu := f.login(t, "lu")

		tok, err := f.svc.CreateToken(as(yu), auth.NewToken{User: "yu", Name: "sync", Scopes: []auth.Scope{auth.ScopeWrite}, Expires: 24 * time.Hour})
		wantOK(t, err, "create token")
		_, err = f.svc.CreateToken(as(lu), auth.NewToken{User: "lu", Name: "lu's"})
		wantOK(t, err, "create lu's token")
		f.clock.Advance(time.Minute)
		_, err = f.svc.AuthenticateToken(context.Background(), tok)
		wantOK(t, err, "use token")

		list, err := f.svc.ListTokens(as(yu))
		wantOK(t, err, "list tokens")
		if len(list) != 1 {
			t.Fatalf("yu sees %d tokens, want only her own: %+v", len(list), list)
		}
		tk := list[0]
		created := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
		if tk.Name != "sync" || !slices.Equal(tk.Scopes, []auth.Scope{auth.ScopeWrite}) || !tk.CreatedAt.Equal(created) ||
			tk.ExpiresAt == nil || !tk.ExpiresAt.Equal(created.Add(24*time.Hour)) ||
			tk.LastUsedAt == nil || !tk.LastUsedAt.Equal(created.Add(time.Minute)) || tk.RevokedAt != nil {
			t.Errorf("listed token %+v", tk)
		}
		sel, secret, _ := strings.Cut(strings.TrimPrefix(tok, "lnl_"), ".")
		if shown := fmt.Sprintf("%+v", list); strings.Contains(shown, secret) || strings.Contains(shown, sel) {
			t.Errorf("the listing shows the token: %s", shown)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM api_tokens WHERE secret_hash LIKE $1", "%"+secret+"%"); n != 0 {
			t.Error("the token secret is stored in clear")
		}

		_, err = f.svc.ListTokens(from(ip))
		wantCode(t, err, errs.Unauthenticated)
		_, err = f.svc.ListTokens(system())
		wantCode(t, err, errs.Unauthenticated)
	})
}

// Issuing a token for someone else is account management.
func TestTokenForAnotherUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		other := f.user(t, "jiang", auth.Resident, "A")
		f.user(t, "staff.a", auth.CommunityStaff, "A")
		f.user(t, "boss", auth.Admin, "")
		_, staff := f.login(t, "staff.a")
		_, admin := f.login(t, "boss")

		_, err := f.svc.CreateToken(as(staff), auth.NewToken{User: "jiang", Name: "sneaky"})
		wantCode(t, err, errs.Forbidden)
		if n := f.count(t, "SELECT COUNT(*) FROM api_tokens"); n != 0 {
			t.Errorf("%d tokens after a forbidden creation", n)
		}

		tok, err := f.svc.CreateToken(as(admin), auth.NewToken{User: "jiang", Name: "kiosk"})
		wantOK(t, err, "admin creates jiang's token")
		p, err := f.svc.AuthenticateToken(context.Background(), tok)
		wantOK(t, err, "authenticate jiang's token")
		if p.UserID != other.ID {
			t.Errorf("token acts as user %d, want jiang (%d)", p.UserID, other.ID)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.create' AND detail = 'jiang read'"); n != 1 {
			t.Errorf("%d audit rows for creating jiang's token, want 1", n)
		}
	})
}

// A token must not be able to reach more than its scopes by changing its
// own account: minting a wider token, or setting the password and signing
// in with every scope.
func TestTokenCannotWidenItself(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.user(t, "bai", auth.CommunityStaff, "A")
		f.user(t, "boss", auth.Admin, "")
		_, bai := f.login(t, "bai")
		_, boss := f.login(t, "boss")
		token := func(owner *auth.Principal, scopes ...auth.Scope) *auth.Principal {
			t.Helper()
			tok, err := f.svc.CreateToken(as(owner), auth.NewToken{User: owner.Name, Name: "t", Scopes: scopes})
			wantOK(t, err, "create token")
			p, err := f.svc.AuthenticateToken(context.Background(), tok)
			wantOK(t, err, "authenticate token")
			return p
		}
		readOnly := token(bai, auth.ScopeRead)
		_, err := f.svc.CreateToken(as(readOnly), auth.NewToken{User: "bai", Name: "wider", Scopes: []auth.Scope{auth.ScopeWrite}})
		wantCode(t, err, errs.Forbidden)
		wantCode(t, f.svc.SetPassword(as(readOnly), "bai", "taken over by a token"), errs.Forbidden)
		_, _, err = f.svc.Login(from(ip), "bai", goodPassword, "")
		wantOK(t, err, "login with the unchanged password")

		// An administrator's admin-scoped token manages accounts, its own too.
		adminToken := token(boss, auth.ScopeAdmin)
		wantOK(t, f.svc.SetPassword(as(adminToken), "boss", "a new admin passphrase"), "admin token sets a password")
		_, err = f.svc.CreateToken(as(adminToken), auth.NewToken{User: "bai", Name: "for bai"})
		wantOK(t, err, "admin token creates a token")
	})
}
