package area_test

import (
	"context"
	"testing"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func seed(t *testing.T, svc *area.Service) {
	t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001002", Name: "黄海社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001001001", Name: "岱山一网格", Level: area.Grid, Parent: "370613001001"},
	} {
		if _, err := svc.Create(ctx, na); err != nil {
			t.Fatalf("%s: %v", na.Code, err)
		}
	}
}

func TestCreateRefusesBadAreas(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := area.NewService(d, audit.New(d, nil), auth.NewService(d, audit.New(d, nil), nil), nil)
		seed(t, svc)
		admin := auth.WithPrincipal(context.Background(), auth.System())
		cases := []struct {
			name  string
			in    area.NewArea
			code  errs.Code
			field string
		}{
			{"code too short", area.NewArea{Code: "3706130010", Name: "x", Level: area.Community, Parent: "370613001"}, errs.Invalid, "code"},
			{"letters in code", area.NewArea{Code: "37061300100A", Name: "x", Level: area.Community, Parent: "370613001"}, errs.Invalid, "code"},
			{"unknown level", area.NewArea{Code: "370613001003", Name: "x", Level: "village", Parent: "370613001"}, errs.Invalid, "level"},
			{"no name", area.NewArea{Code: "370613001003", Name: " ", Level: area.Community, Parent: "370613001"}, errs.Invalid, "name"},
			{"unknown parent", area.NewArea{Code: "370613009001", Name: "x", Level: area.Community, Parent: "370613009"}, errs.Invalid, "parent"},
			{"parent at the wrong level", area.NewArea{Code: "370613001003", Name: "x", Level: area.Community, Parent: "370613"}, errs.Invalid, "parent"},
			{"code outside the parent", area.NewArea{Code: "370613002001", Name: "x", Level: area.Community, Parent: "370613001"}, errs.Invalid, "code"},
			{"missing parent", area.NewArea{Code: "370613001003", Name: "x", Level: area.Community}, errs.Invalid, "parent"},
			{"code taken", area.NewArea{Code: "370613001002", Name: "x", Level: area.Community, Parent: "370613001"}, errs.Conflict, "code"},
		}
		for _, c := range cases {
			_, err := svc.Create(admin, c.in)
			e := errs.As(err)
			if e.Code != c.code || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
				t.Errorf("%s: got %v, want %s on field %s", c.name, err, c.code, c.field)
			}
		}
		n, err := svc.Count(admin)
		if err != nil || n[area.Community] != 2 {
			t.Fatalf("refused areas changed the tree: %v %v", n, err)
		}
	})
}

// Community staff see their community and what lies below it, nothing
// else; listing is filtered in SQL and paged by code.
func TestScopeLimitsWhatIsSeen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := area.NewService(d, audit.New(d, nil), auth.NewService(d, audit.New(d, nil), nil), nil)
		seed(t, svc)
		admin := auth.WithPrincipal(context.Background(), auth.System())
		dai, err := svc.Get(admin, "370613001001")
		if err != nil {
			t.Fatal(err)
		}
		staff := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 9, Name: "wang",
			Grants: []auth.GrantInfo{{Role: auth.CommunityStaff, AreaID: dai.ID, AreaPath: dai.Path, AreaCode: dai.Code}}})

		got, err := svc.List(staff, area.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if codes := codesOf(got); len(codes) != 2 || codes[0] != "370613001001" || codes[1] != "370613001001001" {
			t.Fatalf("community staff see %v", codes)
		}
		if _, err := svc.Get(staff, "370613001002"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another community: %v, want not found", err)
		}
		if _, err := svc.Create(staff, area.NewArea{Code: "370613001001002", Name: "二网格", Level: area.Grid, Parent: "370613001001"}); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("staff creating a grid: %v, want forbidden (only administrators manage areas for now)", err)
		}
		if _, err := svc.List(context.Background(), area.ListQuery{}); errs.CodeOf(err) != errs.Unauthenticated {
			t.Fatalf("anonymous list: %v", err)
		}

		page1, _ := svc.List(admin, area.ListQuery{Limit: 3})
		page2, _ := svc.List(admin, area.ListQuery{Limit: 3, After: page1[len(page1)-1].Code})
		all := append(codesOf(page1), codesOf(page2)...)
		if len(all) != 5 || all[0] != "370613" || all[4] != "370613001002" {
			t.Fatalf("paging by code gave %v", all)
		}
	})
}

func codesOf(as []area.Area) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Code)
	}
	return out
}

// Whatever the role, a grant on one community opens nothing of another:
// reading it is "not found" (its existence is not revealed), changing it
// is forbidden, and listing never shows it.
func TestEveryRoleStaysInItsCommunity(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := area.NewService(d, audit.New(d, nil), auth.NewService(d, audit.New(d, nil), nil), nil)
		seed(t, svc)
		dai, _ := svc.Get(auth.WithPrincipal(context.Background(), auth.System()), "370613001001")
		for _, role := range auth.Roles {
			if role == auth.Admin {
				continue // administrators are global by design
			}
			ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 1, Name: string(role),
				Grants: []auth.GrantInfo{{Role: role, AreaID: dai.ID, AreaPath: dai.Path, AreaCode: dai.Code}}})
			if _, err := svc.Get(ctx, "370613001002"); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("%s reads another community: %v", role, err)
			}
			if _, err := svc.Create(ctx, area.NewArea{Code: "370613001002001", Name: "网格", Level: area.Grid, Parent: "370613001002"}); errs.CodeOf(err) != errs.Forbidden {
				t.Errorf("%s changes another community: %v", role, err)
			}
			list, err := svc.List(ctx, area.ListQuery{})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range list {
				if a.Code == "370613001002" || a.Code == "370613001" {
					t.Errorf("%s lists %s", role, a.Code)
				}
			}
		}
	})
}
