package assess

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/civic"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
	"github.com/linli/linli/internal/services"
	"github.com/linli/linli/internal/volunteer"
)

// fixture is the module on a fresh database: a district with one street
// of three communities, each with one grid, the other modules wired as
// the app wires them, and a clock the test moves.
type fixture struct {
	svc      *Service
	cases    *cases.Service
	services *services.Service
	civic    *civic.Service
	db       *db.DB
	now      time.Time
	nextUser int64
	admin    context.Context
	district area.Area
	street   area.Area
	comms    []area.Area     // 岱山, 黄海, 凤凰
	grids    []area.Area     // one per community, same order
	staff    context.Context // community staff of comms[0]
	other    context.Context // community staff of comms[1]
	streeter context.Context // street staff
	super    context.Context // supervisor of the street
	dept     context.Context // department handler of the district
}

// start is the fixture's "now": Monday 2026-03-02 09:00 China time.
var start = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{db: d, now: start, nextUser: 1000}
	clock := func() time.Time { return f.now }
	log := audit.New(d, clock)
	areas := area.NewService(d, log, auth.NewService(d, log, clock), clock)
	box, err := crypto.New([]byte(strings.Repeat("k", crypto.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, log, box, areas, clock)
	f.svc = NewService(d, log, box, areas, reg, clock)
	f.cases = cases.NewService(d, log, box, areas, cases.NewCalendars(d, log, clock), clock)
	f.svc.Cases = f.cases
	f.services = services.NewService(d, log, box, areas, reg, clock)
	f.civic = civic.NewService(d, log, box, areas, reg, clock)
	f.svc.Services = f.services
	f.svc.Civic = f.civic
	f.svc.Volunteers = volunteer.NewService(d, log, box, areas, reg, clock)
	f.admin = auth.WithPrincipal(context.Background(), auth.System())
	f.district = f.area(t, area.NewArea{Code: "370613", Name: "莱山区", Level: area.District})
	f.street = f.area(t, area.NewArea{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"})
	for i, name := range []string{"岱山社区", "黄海社区", "凤凰社区"} {
		code := fmt.Sprintf("370613001%03d", i+1)
		f.comms = append(f.comms, f.area(t, area.NewArea{Code: code, Name: name, Level: area.Community, Parent: "370613001"}))
		f.grids = append(f.grids, f.area(t, area.NewArea{Code: code + "001", Name: name + "第一网格", Level: area.Grid, Parent: code}))
	}
	f.staff = as(auth.CommunityStaff, f.comms[0], 1)
	f.other = as(auth.CommunityStaff, f.comms[1], 2)
	f.streeter = as(auth.StreetStaff, f.street, 3)
	f.super = as(auth.Supervisor, f.street, 4)
	f.dept = as(auth.DepartmentHandler, f.district, 5)
	// The street's departments the tests name (部门名录).
	for _, d := range [][2]string{{"WJW", "区卫健委"}, {"ALL", "各部门"}, {"JD", "街道"}} {
		f.department(t, f.street, d[0], d[1])
	}
	return f
}

// department adds a department to the list of street st.
func (f *fixture) department(t testing.TB, st area.Area, code, name string) Department {
	t.Helper()
	d, err := f.svc.CreateDepartment(f.admin, DepartmentInput{Street: st.Code, Code: code, Name: name})
	if err != nil {
		t.Fatalf("department %s: %v", name, err)
	}
	return d
}

func (f *fixture) area(t testing.TB, na area.NewArea) area.Area {
	t.Helper()
	a, err := f.svc.areas.(*area.Service).Create(f.admin, na)
	if err != nil {
		t.Fatalf("%s: %v", na.Code, err)
	}
	return a
}

// as is a principal holding role over a.
func as(role auth.Role, a area.Area, userID int64) context.Context {
	p := &auth.Principal{UserID: userID, Name: string(role), DisplayName: string(role),
		Grants: []auth.GrantInfo{{Role: role, AreaID: a.ID, AreaPath: a.Path, AreaCode: a.Code}}}
	return auth.WithPrincipal(context.Background(), p)
}

// household adds a household in grid g and returns its id.
func (f *fixture) household(t testing.TB, g area.Area) int64 {
	t.Helper()
	var hh int64
	err := f.db.Write(context.Background(), func(ctx context.Context) error {
		return f.db.Q(ctx).QueryRowContext(ctx, "INSERT INTO registry_households (area_id, created_at) VALUES ($1, $2) RETURNING id",
			g.ID, f.now).Scan(&hh)
	})
	if err != nil {
		t.Fatal(err)
	}
	return hh
}

// resident adds a resident of grid g (household 0: none) with a linked
// login, and returns the login's context and the resident's id.
func (f *fixture) resident(t testing.TB, g area.Area, household int64) (context.Context, int64) {
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
			id_enc, id_idx, pop_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $4, 'f', '1960-01-01', 'x', $5, 'registered', $6, $6) RETURNING id`,
			g.ID, g.Path, hh, fmt.Sprintf("居民%d", user), fmt.Sprintf("idx%d", user), f.now).Scan(&id); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, "INSERT INTO registry_resident_users (user_id, resident_id, linked_at) VALUES ($1, $2, $3)", user, id, f.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return as(auth.Resident, g, user), id
}

// count runs a COUNT(*) query.
func (f *fixture) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Q(context.Background()).QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fieldsOf lists the fields an error names with their keys.
func fieldsOf(err error) string {
	var out []string
	for _, fe := range errs.As(err).Fields {
		out = append(out, fe.Field+":"+fe.Key)
	}
	return strings.Join(out, " ")
}

// wantCode fails unless err has code.
func wantCode(t testing.TB, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// TestMessagesInBothLanguages checks that the two catalogs hold the same
// keys, and that every message key the code names is in them: a user
// reads every refusal in Chinese and in English.
func TestMessagesInBothLanguages(t *testing.T) {
	cats := map[string]map[string]string{}
	for _, lang := range []string{"zh-CN", "en"} {
		b, err := fs.ReadFile(Locales, "locales/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		cats[lang] = m
	}
	for k := range cats["zh-CN"] {
		if _, ok := cats["en"][k]; !ok {
			t.Errorf("%s: in zh-CN only", k)
		}
	}
	for k := range cats["en"] {
		if _, ok := cats["zh-CN"][k]; !ok {
			t.Errorf("%s: in en only", k)
		}
	}
	files, _ := fs.Glob(os.DirFS("."), "*.go")
	key := regexp.MustCompile(`"(err\.assess\.[a-z_]+|assess\.cert\.[a-z_]+)"`)
	for _, name := range files {
		b, _ := os.ReadFile(name)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			if _, ok := cats["zh-CN"][m[1]]; !ok {
				t.Errorf("%s: %s is in no catalog", name, m[1])
			}
		}
	}
	for _, k := range Figures {
		if _, ok := cats["en"]["assess.fig."+string(k)]; !ok {
			t.Errorf("figure %s has no name", k)
		}
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
