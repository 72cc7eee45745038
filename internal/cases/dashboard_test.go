package cases_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/xuri/excelize/v2"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/web"
	"github.com/linli/linli/internal/platform/workcal"
	webassets "github.com/linli/linli/web"
)

// counts are the counters behind a row of figures, in the order of the
// Excel export's count columns.
type counts struct {
	rep, acc, rej, dis, clo, ont, late, def, fb, rw, ext, cb, con, sol, sat, bas, uns int64
}

func countsOf(k cases.KPIs) counts {
	return counts{k.Reported, k.Accepted, k.Rejected, k.Dispatched, k.Closed, k.OnTime, k.Late, k.Deferred, k.Feedbacks,
		k.Reworked, k.Extended, k.Callbacks, k.Contacted, k.Solved, k.Satisfied, k.BasicallySatisfied, k.Unsatisfied}
}

func (c counts) plus(o counts) counts {
	return counts{c.rep + o.rep, c.acc + o.acc, c.rej + o.rej, c.dis + o.dis, c.clo + o.clo, c.ont + o.ont, c.late + o.late, c.def + o.def,
		c.fb + o.fb, c.rw + o.rw, c.ext + o.ext, c.cb + o.cb, c.con + o.con, c.sol + o.sol, c.sat + o.sat, c.bas + o.bas, c.uns + o.uns}
}

// The five cases of kpiWorld and what each leaves, split as the figures
// split them: the intake moves (before any unit) and the unit's moves.
var (
	// A: exposed rubbish in 岱山's grid, day 1: reworked once, closed on
	// time, called back: solved, satisfied.
	aIntake = counts{rep: 1, acc: 1}
	aUnit   = counts{dis: 1, fb: 2, rw: 1, clo: 1, ont: 1, cb: 1, con: 1, sol: 1, sat: 1}
	// B: a street light in 岱山's grid, day 1: not accepted.
	bIntake = counts{rep: 1, rej: 1}
	// C: exposed rubbish entered by staff on 黄海 community itself, day 8:
	// extended, closed on time, called back: not solved, basically
	// satisfied.
	cIntake = counts{rep: 1, acc: 1}
	cUnit   = counts{dis: 1, ext: 1, fb: 1, clo: 1, ont: 1, cb: 1, con: 1, bas: 1}
	// D: a street light in 岱山's grid, day 8: deferred, so outside the
	// on-time figures; called back: not reached, unsatisfied.
	dIntake = counts{rep: 1, acc: 1}
	dUnit   = counts{dis: 1, fb: 1, clo: 1, def: 1, cb: 1, uns: 1}
	// E: a report outside every grid, day 1: waiting to be routed.
	eIntake = counts{rep: 1}
)

// kpiWorld runs the five cases through the loop: day 1 is 2026-11-26
// (ISO week 48), day 8 is 2026-12-03 (week 49), China time.
func kpiWorld(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := setup(t, d)
	if err := f.svc.CreateUnit(system, "jwh", "黄海社区居委会", "370613001002"); err != nil {
		t.Fatal(err)
	}
	handler, _ := f.accts.Lookup(system, "handler")
	if err := f.svc.AddUnitMember(system, "jwh", handler.ID); err != nil {
		t.Fatal(err)
	}
	report := func(category string) string {
		t.Helper()
		p := orb.Point{121.445, 37.465}
		rc, err := f.svc.Report(context.Background(), cases.NewCase{Category: category, Description: "dashboard " + category, Point: &p})
		if err != nil {
			t.Fatal(err)
		}
		return rc.Number
	}
	a := report("E0101")
	f.act(t, "staff", a, cases.Request{Action: cases.ActAccept})
	f.act(t, "staff", a, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
	f.act(t, "handler", a, cases.Request{Action: cases.ActReceive})
	f.act(t, "handler", a, cases.Request{Action: cases.ActFeedback, Note: "已清运"})
	f.act(t, "worker", a, cases.Request{Action: cases.ActVerifyFail, Note: "还有残留"})
	f.act(t, "handler", a, cases.Request{Action: cases.ActFeedback, Note: "已彻底清理"})
	f.act(t, "worker", a, cases.Request{Action: cases.ActVerifyPass})
	f.act(t, "staff", a, cases.Request{Action: cases.ActCallback, Contacted: yes(), Solved: yes(), Satisfaction: cases.Satisfied})
	b := report("C0201")
	f.act(t, "staff", b, cases.Request{Action: cases.ActReject, Note: "不属于受理范围"})
	far := orb.Point{100, 30}
	if _, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: "far away", Point: &far}); err != nil {
		t.Fatal(err)
	}

	f.now = f.now.AddDate(0, 0, 7)
	rc, err := f.svc.Report(f.as["other"], cases.NewCase{Channel: cases.ChannelStaff, Category: "E0101", Description: "黄海社区门口垃圾",
		AreaCode: "370613001002"})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.Number
	no := func() *bool { b := false; return &b }
	f.act(t, "other", c, cases.Request{Action: cases.ActAccept})
	f.act(t, "other", c, cases.Request{Action: cases.ActDispatch, Unit: "jwh"})
	f.act(t, "handler", c, cases.Request{Action: cases.ActReceive})
	f.act(t, "handler", c, cases.Request{Action: cases.ActAskExtension, Days: 1, Note: "需要协调物业"})
	f.act(t, "other", c, cases.Request{Action: cases.ActApproveExtension, Days: 1})
	f.act(t, "handler", c, cases.Request{Action: cases.ActFeedback, Note: "done"})
	f.act(t, "other", c, cases.Request{Action: cases.ActVerifyPass})
	f.act(t, "other", c, cases.Request{Action: cases.ActCallback, Contacted: yes(), Solved: no(), Satisfaction: cases.BasicallySatisfied})
	dn := report("C0201")
	f.act(t, "staff", dn, cases.Request{Action: cases.ActAccept})
	f.act(t, "staff", dn, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
	f.act(t, "handler", dn, cases.Request{Action: cases.ActReceive})
	f.act(t, "staff", dn, cases.Request{Action: cases.ActDefer, Note: "等待产权方答复"})
	f.act(t, "handler", dn, cases.Request{Action: cases.ActFeedback, Note: "done"})
	f.act(t, "staff", dn, cases.Request{Action: cases.ActVerifyPass})
	f.act(t, "staff", dn, cases.Request{Action: cases.ActCallback, Contacted: no(), Solved: no(), Satisfaction: cases.Unsatisfied})
	if err := f.svc.VerifyStats(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

type wantRow struct {
	key, name string
	c         counts
}

func checkReport(t *testing.T, what string, r cases.KPIReport, want []wantRow) {
	t.Helper()
	var total counts
	for i, w := range want {
		total = total.plus(w.c)
		if i >= len(r.Rows) {
			t.Errorf("%s: row %d missing, want %+v", what, i, w)
			continue
		}
		got := r.Rows[i]
		if got.Key != w.key || (w.name != "" && got.Name != w.name) || countsOf(got.KPIs) != w.c {
			t.Errorf("%s: row %d = %s %s %+v, want %s %s %+v", what, i, got.Key, got.Name, countsOf(got.KPIs), w.key, w.name, w.c)
		}
	}
	if len(r.Rows) != len(want) {
		t.Errorf("%s: %d rows, want %d", what, len(r.Rows), len(want))
	}
	if countsOf(r.Total) != total {
		t.Errorf("%s: total %+v, want the sum of the rows %+v", what, countsOf(r.Total), total)
	}
}

func near(a, b float64) bool { return abs(a-b) < 1e-9 }

// Every grouping of the dashboard, from cases run through the loop,
// equals what the cases say by hand.
func TestKPIReportGroupings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := kpiWorld(t, d)
		as := f.as["handler"] // a handling department's staff: cases of the whole street
		report := func(q cases.KPIQuery) cases.KPIReport {
			t.Helper()
			r, err := f.svc.KPIReport(as, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			return r
		}
		street := cases.KPIQuery{AreaCode: "370613001"}
		daishan := aIntake.plus(aUnit).plus(bIntake).plus(dIntake).plus(dUnit)
		huanghai := cIntake.plus(cUnit)

		r := report(street)
		if r.Area == nil || r.Area.Code != "370613001" || r.Group != cases.ByArea {
			t.Fatalf("report of the street: %+v", r)
		}
		checkReport(t, "by area", r, []wantRow{{"370613001001", "岱山社区", daishan}, {"370613001002", "黄海社区", huanghai}})
		// The figures by hand: 4 reported, 3 accepted, 1 rejected; 3
		// dispatched, 3 closed, 2 on time, 1 deferred; 4 feedbacks, 1
		// rework, 1 extension; 3 callbacks, 2 reached, 1 solved, 1
		// satisfied, 1 basically satisfied, 1 unsatisfied.
		k := r.Total
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"立案率", k.AcceptRate, 3.0 / 4},
			{"结案率", k.CloseRate, 3.0 / 3},
			{"按期结案率 (deferred excluded)", k.OnTimeRate, 2.0 / (3 - 1)},
			{"返工率", k.ReworkRate, 1.0 / 4},
			{"延期率", k.ExtensionRate, 1.0 / 3},
			{"响应率", k.ResponseRate, 2.0 / 3},
			{"解决率", k.ResolutionRate, 1.0 / 3},
			{"满意率", k.SatisfactionRate, (1 + 0.9) / 3},
			{"综合", k.Combined, 0.1*2/3 + 0.5/3 + 0.4*1.9/3},
		} {
			if !near(c.got, c.want) {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}
		if row := r.Rows[0]; !near(row.OnTimeRate, 1) || !near(row.ReworkRate, 1.0/3) || !near(row.SatisfactionRate, 0.5) {
			t.Errorf("岱山社区: on time %v, rework %v, satisfaction %v; want 1 (D deferred), 1/3, (1 + 0)/2", row.OnTimeRate, row.ReworkRate, row.SatisfactionRate)
		}

		checkReport(t, "district by area", must(t)(f.svc.KPIReport(system, cases.KPIQuery{AreaCode: "370613"})),
			[]wantRow{{"370613001", "黄海路街道", daishan.plus(huanghai)}})
		if _, err := f.svc.KPIReport(as, cases.KPIQuery{AreaCode: "370613"}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("the street's staff asked for the district: %v, want not found", err)
		}
		checkReport(t, "community by area", report(cases.KPIQuery{AreaCode: "370613001001"}),
			[]wantRow{{"370613001001001", "", daishan}})
		checkReport(t, "grid by area", report(cases.KPIQuery{AreaCode: "370613001001001"}),
			[]wantRow{{"370613001001001", "", daishan}})

		unit := street
		unit.Group = cases.ByUnit
		checkReport(t, "by unit", report(unit), []wantRow{
			{"cgk", "黄海路街道城管科", aUnit.plus(dUnit)},
			{"jwh", "黄海社区居委会", cUnit},
			{"", "", aIntake.plus(bIntake).plus(cIntake).plus(dIntake)},
		})

		cat := street
		cat.Group, cat.Lang = cases.ByCategory, i18n.EN
		checkReport(t, "by category", report(cat), []wantRow{
			{"E0101", "Exposed rubbish", aIntake.plus(aUnit).plus(cIntake).plus(cUnit)},
			{"C0201", "Street light out", bIntake.plus(dIntake).plus(dUnit)},
		})

		week, month := street, street
		week.Group, month.Group = cases.ByWeek, cases.ByMonth
		day1, day8 := aIntake.plus(aUnit).plus(bIntake), cIntake.plus(cUnit).plus(dIntake).plus(dUnit)
		checkReport(t, "by week", report(week), []wantRow{{"2026-W48", "2026-W48", day1}, {"2026-W49", "2026-W49", day8}})
		checkReport(t, "by month", report(month), []wantRow{{"2026-11", "2026-11", day1}, {"2026-12", "2026-12", day8}})
		day := street
		day.Group = cases.ByDay
		days := []wantRow{{"2026-11-26", "", day1}}
		for d := 27; d <= 30; d++ {
			days = append(days, wantRow{fmt.Sprintf("2026-11-%d", d), "", counts{}})
		}
		days = append(days, wantRow{"2026-12-01", "", counts{}}, wantRow{"2026-12-02", "", counts{}}, wantRow{"2026-12-03", "", day8})
		checkReport(t, "by day", report(day), days)

		// A period: the days outside it count for nothing; quiet days are
		// rows of zeros up to its ends.
		day.From, day.To = "2026-12-02", "2026-12-05"
		checkReport(t, "by day in December", report(day), []wantRow{{"2026-12-02", "", counts{}}, {"2026-12-03", "", day8},
			{"2026-12-04", "", counts{}}, {"2026-12-05", "", counts{}}})
		one := cases.KPIQuery{AreaCode: "370613001", From: "2026-11-26", To: "2026-11-26"}
		checkReport(t, "day 1 by area", report(one), []wantRow{{"370613001001", "", day1}, {"370613001002", "", counts{}}})
		if k, err := f.svc.KPIs(as, one); err != nil || countsOf(k) != day1 {
			t.Errorf("KPIs of day 1: %+v %v, want %+v", countsOf(k), err, day1)
		}

		// Scope: community staff see their community, without asking.
		checkReport(t, "岱山 staff", must(t)(f.svc.KPIReport(f.as["staff"], cases.KPIQuery{})),
			[]wantRow{{"370613001001001", "", daishan}})
		// Someone who reads cases in both communities but not the street
		// (a resident of the street) gets the two, asked for the street or
		// not; a community without grids is its own row.
		if _, err := f.accts.CreateUser(system, auth.NewUser{Name: "mixed", Password: "correct horse battery",
			Role: auth.Resident, AreaCode: "370613001"}); err != nil {
			t.Fatal(err)
		}
		for _, g := range []struct {
			role auth.Role
			area string
		}{{auth.CommunityStaff, "370613001002"}, {auth.GridWorker, "370613001001"}} {
			if err := f.accts.Grant(system, "mixed", g.role, g.area); err != nil {
				t.Fatal(err)
			}
		}
		_, p, err := f.accts.Login(context.Background(), "mixed", "correct horse battery", "")
		if err != nil {
			t.Fatal(err)
		}
		mixed := auth.WithPrincipal(context.Background(), p)
		both := []wantRow{{"370613001001", "岱山社区", daishan}, {"370613001002", "黄海社区", huanghai}}
		checkReport(t, "two communities", must(t)(f.svc.KPIReport(mixed, cases.KPIQuery{})), both)
		partly := must(t)(f.svc.KPIReport(mixed, street))
		checkReport(t, "the street, partly", partly, both)
		if partly.Area == nil || partly.Area.Code != "370613001" {
			t.Errorf("the street, partly: area %+v", partly.Area)
		}
		checkReport(t, "a community without grids", must(t)(f.svc.KPIReport(mixed, cases.KPIQuery{AreaCode: "370613001002"})),
			[]wantRow{{"370613001002", "黄海社区", huanghai}})

		// A global grant sees every root of the tree, and the case located
		// nowhere in a row of its own.
		all := must(t)(f.svc.KPIReport(system, cases.KPIQuery{}))
		checkReport(t, "everything", all, []wantRow{{"370613", "莱山区", daishan.plus(huanghai)}, {"", "", eIntake}})
		if all.Area != nil {
			t.Errorf("a global report names an area: %+v", all.Area)
		}
	})
}

func must(t *testing.T) func(r cases.KPIReport, err error) cases.KPIReport {
	return func(r cases.KPIReport, err error) cases.KPIReport {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// Bad queries are refused with an error that says which input is wrong
// and why.
func TestKPIReportRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		for _, c := range []struct {
			q     cases.KPIQuery
			code  errs.Code
			field string
			key   string
		}{
			{cases.KPIQuery{Group: "year"}, errs.Invalid, "group", "err.kpi.group"},
			{cases.KPIQuery{From: "2026-13-01"}, errs.Invalid, "from", "err.kpi.date"},
			{cases.KPIQuery{To: "26/11/2026"}, errs.Invalid, "to", "err.kpi.date"},
			{cases.KPIQuery{From: "2026-02-30"}, errs.Invalid, "from", "err.kpi.date"},
			{cases.KPIQuery{From: "2026-12-01", To: "2026-11-01"}, errs.Invalid, "to", "err.kpi.range"},
			{cases.KPIQuery{Group: cases.ByDay, From: "2000-01-01", To: "2026-12-31"}, errs.Invalid, "group", "err.kpi.too_many_periods"},
			{cases.KPIQuery{AreaCode: "999999"}, errs.NotFound, "", "err.area.not_found"},
			{cases.KPIQuery{AreaCode: "370613001002"}, errs.NotFound, "", "err.area.not_found"}, // outside the staff's community
		} {
			_, err := f.svc.KPIReport(f.as["staff"], c.q)
			e := errs.As(err)
			ok := e.Code == c.code
			if c.field != "" {
				ok = ok && len(e.Fields) == 1 && e.Fields[0].Field == c.field && e.Fields[0].Key == c.key
			} else {
				ok = ok && e.Key == c.key
			}
			if !ok {
				t.Errorf("%+v: %v, want %s on %q (%s)", c.q, err, c.code, c.field, c.key)
			}
		}
		if _, err := f.svc.KPIReport(context.Background(), cases.KPIQuery{}); errs.CodeOf(err) != errs.Unauthenticated {
			t.Errorf("anonymous: %v", err)
		}
	})
}

// The kept aggregates equal a recomputation from the transition log, also
// when writes that shared a commit group with others were undone, and the
// rollup rebuilt from case_stats (the migration's statement) equals the
// one kept move by move.
func TestKPIAggregatesMatchTheLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := kpiWorld(t, d)
		ctx := context.Background()
		before := must(t)(f.svc.KPIReport(system, cases.KPIQuery{Group: cases.ByCategory}))
		var wg sync.WaitGroup
		var mu sync.Mutex
		kept := 0
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := orb.Point{121.445, 37.465}
				undo := errors.New("undone")
				err := d.Write(ctx, func(ctx context.Context) error {
					if _, err := f.svc.Report(ctx, cases.NewCase{Category: "E0102", Description: "road", Point: &p}); err != nil {
						return err
					}
					if i%3 == 0 {
						return undo // the report's moves and counters go; its neighbours' stay
					}
					return nil
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					kept++
				case !errors.Is(err, undo):
					t.Errorf("report %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if err := f.svc.VerifyStats(ctx); err != nil {
			t.Fatal(err)
		}
		after := must(t)(f.svc.KPIReport(system, cases.KPIQuery{Group: cases.ByCategory}))
		if got := after.Total.Reported - before.Total.Reported; got != int64(kept) || kept != 16 {
			t.Fatalf("%d more reported, %d reports kept; want 16", got, kept)
		}
		if err := f.svc.RebuildRollup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.VerifyStats(ctx); err != nil {
			t.Fatalf("after rebuilding the rollup from case_stats: %v", err)
		}
		rebuilt := must(t)(f.svc.KPIReport(system, cases.KPIQuery{Group: cases.ByCategory}))
		if fmt.Sprint(rebuilt) != fmt.Sprint(after) {
			t.Fatalf("the report changed with the rebuild:\nkept    %+v\nrebuilt %+v", after, rebuilt)
		}
		// The migration's own statements, which fill the table on a
		// database that has cases already, do the same.
		mig, err := os.ReadFile("../platform/db/migrations/00005_stats_index.sql")
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(mig), "-- +goose Down")
		var fills []string
		for _, stmt := range strings.Split(up, ";") {
			if i := strings.Index(stmt, "INSERT INTO case_stats_rollup"); i >= 0 {
				fills = append(fills, stmt[i:])
			}
		}
		if len(fills) != 4 {
			t.Fatalf("%d INSERTs in migration 00005, want 4", len(fills))
		}
		if err := d.Write(ctx, func(ctx context.Context) error {
			for _, stmt := range append([]string{"DELETE FROM case_stats_rollup"}, fills...) {
				if _, err := d.Q(ctx).ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.VerifyStats(ctx); err != nil {
			t.Fatalf("after filling the rollup as migration 00005 does: %v", err)
		}
		// A counter changed behind the loop's back is caught.
		if err := d.Write(ctx, func(ctx context.Context) error {
			_, err := d.Q(ctx).ExecContext(ctx, "UPDATE case_stats_rollup SET closed = closed + 1 WHERE dim = 't'")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.VerifyStats(ctx); err == nil || !strings.Contains(err.Error(), "case_stats_rollup") {
			t.Fatalf("a tampered rollup passed: %v", err)
		}
	})
}

// fakeAuth lets a bearer token name a fixture's account.
type fakeAuth struct{ f *fixture }

func (a fakeAuth) Authenticate(context.Context, string) (*auth.Principal, error) {
	return nil, errs.E(errs.Unauthenticated, "err.auth.required")
}

func (a fakeAuth) AuthenticateToken(_ context.Context, token string) (*auth.Principal, error) {
	if ctx, ok := a.f.as[token]; ok {
		return auth.From(ctx), nil
	}
	return nil, errs.E(errs.Unauthenticated, "err.auth.bad_token")
}

func (fakeAuth) SetPreferences(context.Context, string, bool) error { return nil }

// dashboardServer serves the module's routes as the program does.
func dashboardServer(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	cat, err := i18n.Load(i18n.Platform, area.Locales, cases.Locales, workcal.Locales)
	if err != nil {
		t.Fatal(err)
	}
	render, err := web.NewRenderer(cat, webassets.Static(), web.TemplateSet{FS: webassets.Templates, Dir: "templates"},
		web.TemplateSet{FS: cases.Templates, Dir: "templates"})
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(cat, render, fakeAuth{f}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	cases.Routes(srv, f.svc)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, ts *httptest.Server, who, path, lang string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+who)
	req.Header.Set("Accept-Language", lang)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// The API, the page and the Excel export show the same rows, and bad
// input gets a 400 that says what is wrong, in the reader's language.
func TestKPIsOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := kpiWorld(t, d)
		ts := dashboardServer(t, f)
		want := must(t)(f.svc.KPIReport(f.as["handler"], cases.KPIQuery{AreaCode: "370613001", Group: cases.ByUnit}))

		res, body := get(t, ts, "handler", "/api/v1/kpis?area=370613001&group=unit", "zh-CN")
		var api cases.KPIReport
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &api) != nil {
			t.Fatalf("API: %d %s", res.StatusCode, body)
		}
		if len(api.Rows) != 3 || api.Rows[2].Name != "未派遣（受理环节）" || api.Total.Reported != 4 || api.Area.Name != "黄海路街道" {
			t.Fatalf("API rows: %s", body)
		}
		for i, row := range api.Rows {
			if row.Key != want.Rows[i].Key || row.Reported != want.Rows[i].Reported || !near(row.SatisfactionRate, want.Rows[i].SatisfactionRate) {
				t.Errorf("API row %d: %+v, want %+v", i, row, want.Rows[i])
			}
		}

		res, body = get(t, ts, "handler", "/api/v1/kpis?group=year&from=2026-13-01", "en")
		var e web.ErrorBody
		if res.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || len(e.Error.Fields) != 2 ||
			e.Error.Fields[0].Field != "group" || !strings.Contains(e.Error.Fields[0].Message, `no grouping "year"`) ||
			!strings.Contains(e.Error.Fields[1].Message, "write it like 2026-11-26") {
			t.Fatalf("bad query: %d %s", res.StatusCode, body)
		}

		res, body = get(t, ts, "handler", "/dashboard?area=370613001&group=unit", "zh-CN")
		page := string(body)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, `<th scope="row">黄海路街道城管科</th><td>0</td><td>2</td>`) ||
			!strings.Contains(page, `<th scope="row">未派遣（受理环节）</th><td>4</td><td>0</td><td>75.0%</td>`) ||
			!strings.Contains(page, `href="/dashboard.xlsx?area=370613001&amp;group=unit"`) ||
			!strings.Contains(page, `data-src="/api/v1/kpis?area=370613001&amp;group=month"`) {
			t.Fatalf("page: %d %s", res.StatusCode, page)
		}
		res, body = get(t, ts, "handler", "/dashboard?from=2026-12-01&to=2026-11-01", "zh-CN")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "开始日期 2026-12-01 晚于结束日期 2026-11-01") {
			t.Fatalf("page with from > to: %d %s", res.StatusCode, body)
		}

		for _, lang := range []string{"zh-CN", "en"} {
			res, body = get(t, ts, "handler", "/api/v1/kpis.xlsx?area=370613001&group=unit&from=2026-11-01&to=2026-12-31", lang)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "kpis-370613001-2026-11-01-2026-12-31-unit.xlsx") {
				t.Fatalf("xlsx %s: %d %v", lang, res.StatusCode, res.Header)
			}
			checkWorkbook(t, lang, body, want)
		}
	})
}

// checkWorkbook opens an export and finds the report in it: the title, the
// headers in lang, a row per report row with the same counts, rates as
// percentages, and the total.
func checkWorkbook(t *testing.T, lang string, body []byte, want cases.KPIReport) {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("xlsx %s does not open: %v", lang, err)
	}
	defer x.Close()
	sheet, title, header, total := "三率统计", "黄海路街道 (370613001) · 2026-11-01 至 2026-12-31 · 按处置单位", "受理", "合计"
	if lang == "en" {
		sheet, title, header, total = "Three rates", "黄海路街道 (370613001) · 2026-11-01 to 2026-12-31 · By handling unit", "Reported", "Total"
	}
	rows, err := x.GetRows(sheet)
	if err != nil {
		t.Fatalf("xlsx %s: %v", lang, err)
	}
	if len(rows) < 3+len(want.Rows) || !strings.Contains(rows[0][0], title) || rows[1][2] != header {
		t.Fatalf("xlsx %s: title %q, headers %q", lang, rows[0], rows[1])
	}
	raw, err := x.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range append(want.Rows, cases.KPIRow{Name: total, KPIs: want.Total}) {
		line, rawLine := rows[2+i], raw[2+i]
		if i < len(want.Rows) && line[1] != w.Key || i == len(want.Rows) && line[0] != total {
			t.Errorf("xlsx %s row %d: %q, want %s", lang, i, line, w.Key)
		}
		c := countsOf(w.KPIs)
		wantCounts := fmt.Sprint([]int64{c.rep, c.acc, c.rej, c.dis, c.clo, c.ont, c.late, c.def, c.fb, c.rw, c.ext, c.cb, c.con, c.sol, c.sat, c.bas, c.uns})
		if got := "[" + strings.Join(rawLine[2:19], " ") + "]"; got != wantCounts {
			t.Errorf("xlsx %s row %d counts %s, want %s", lang, i, got, wantCounts)
		}
		// 满意率 (column AA) as shown and as stored.
		stored, err := strconv.ParseFloat(rawLine[26], 64)
		if line[26] != fmt.Sprintf("%.1f%%", w.SatisfactionRate*100) || err != nil || abs(stored-w.SatisfactionRate) > 1e-12 {
			t.Errorf("xlsx %s row %d satisfaction %q (stored %q), want %v", lang, i, line[26], rawLine[26], w.SatisfactionRate)
		}
	}
}
