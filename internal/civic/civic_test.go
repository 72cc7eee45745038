package civic

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
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
)

// fixture is the civic module on a fresh database: one community with a
// grid, another community, staff, an overseer, and residents in
// households, each with a login, on a clock the test moves.
type fixture struct {
	svc       *Service
	db        *db.DB
	now       time.Time
	admin     context.Context
	community area.Area
	other     area.Area
	grid      area.Area
	staff     context.Context
	overseer  context.Context
	outsider  context.Context // staff of the other community
	nextUser  int64
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{db: d, now: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), nextUser: 1000}
	clock := func() time.Time { return f.now }
	log := audit.New(d, clock)
	areas := area.NewService(d, log, auth.NewService(d, log, clock), clock)
	box, err := crypto.New([]byte(strings.Repeat("k", crypto.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, log, box, areas, clock)
	f.svc = NewService(d, log, box, areas, reg, clock)
	f.admin = auth.WithPrincipal(context.Background(), auth.System())
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
		case a.Code == "370613001001":
			f.community = a
		case a.Code == "370613001002":
			f.other = a
		case a.Level == area.Grid:
			f.grid = a
		}
	}
	f.staff = f.as(auth.CommunityStaff, f.community, 1)
	f.overseer = f.as(auth.Overseer, f.community, 2)
	f.outsider = f.as(auth.CommunityStaff, f.other, 3)
	return f
}

// as is a principal holding role over a.
func (f *fixture) as(role auth.Role, a area.Area, userID int64) context.Context {
	p := &auth.Principal{UserID: userID, Name: string(role), DisplayName: string(role),
		Grants: []auth.GrantInfo{{Role: role, AreaID: a.ID, AreaPath: a.Path, AreaCode: a.Code}}}
	return auth.WithPrincipal(context.Background(), p)
}

// household adds a household of the grid with residents born on the given
// dates, each with a linked resident login, and returns their contexts
// and resident ids.
func (f *fixture) household(t *testing.T, births ...string) ([]context.Context, []int64) {
	t.Helper()
	var hh int64
	q := f.db.Q(context.Background())
	ctx := context.Background()
	err := f.db.Write(ctx, func(ctx context.Context) error {
		q = f.db.Q(ctx)
		if err := q.QueryRowContext(ctx, "INSERT INTO registry_households (area_id, created_at) VALUES ($1, $2) RETURNING id",
			f.grid.ID, f.now).Scan(&hh); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ctxs []context.Context
	var ids []int64
	for _, birth := range births {
		c, id := f.resident(t, hh, birth)
		ctxs, ids = append(ctxs, c), append(ids, id)
	}
	return ctxs, ids
}

// resident adds a resident (household 0: none) with a linked login.
func (f *fixture) resident(t *testing.T, household int64, birth string) (context.Context, int64) {
	t.Helper()
	f.nextUser++
	user := f.nextUser
	var id int64
	var hh any
	if household != 0 {
		hh = household
	}
	err := f.db.Write(context.Background(), func(ctx context.Context) error {
		q := f.db.Q(ctx)
		if _, err := q.ExecContext(ctx, `INSERT INTO users (id, name, display_name, password_hash, created_at, updated_at)
			VALUES ($1, $2, $2, 'x', $3, $3)`, user, fmt.Sprintf("r%d", user), f.now); err != nil {
			return err
		}
		if err := q.QueryRowContext(ctx, `INSERT INTO registry_residents (area_id, area_path, household_id, name, name_key, sex, birth_date,
			id_enc, id_idx, pop_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $4, 'f', $5, 'x', $6, 'registered', $7, $7) RETURNING id`,
			f.grid.ID, f.grid.Path, hh, fmt.Sprintf("居民%d", user), birth, fmt.Sprintf("idx%d", user), f.now).Scan(&id); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "INSERT INTO registry_resident_users (user_id, resident_id, linked_at) VALUES ($1, $2, $3)", user, id, f.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &auth.Principal{UserID: user, Name: fmt.Sprintf("r%d", user), Grants: []auth.GrantInfo{{Role: auth.Resident, AreaID: f.community.ID,
		AreaPath: f.community.Path, AreaCode: f.community.Code}}}
	return auth.WithPrincipal(context.Background(), p), id
}

// count runs a COUNT(*) query.
func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Q(context.Background()).QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fieldsOf lists the fields an error names.
func fieldsOf(err error) string {
	var out []string
	for _, f := range errs.As(err).Fields {
		out = append(out, f.Field+":"+f.Key)
	}
	return strings.Join(out, " ")
}

// wantCode fails unless err has code (and, when given, names key).
func wantCode(t *testing.T, what string, err error, code errs.Code, key string) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
	if key != "" && errs.As(err).Key != key && !strings.Contains(fieldsOf(err), key) {
		t.Fatalf("%s: %v, want %s", what, err, key)
	}
}
