package cases_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// wallClock is a calendar that works around the clock, so that tests can
// reason in plain hours; the working-time rules have tests of their own.
type wallClock struct{}

func (wallClock) AddHours(t time.Time, d time.Duration) time.Time { return t.Add(d) }
func (wallClock) AddDays(t time.Time, n int) time.Time            { return t.AddDate(0, 0, n) }
func (wallClock) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return 0
	}
	return b.Sub(a)
}

// fixture is a street with two communities, one grid each, staff, a
// handling unit and its handler.
type fixture struct {
	d     *db.DB
	svc   *cases.Service
	areas *area.Service
	accts *auth.Service
	now   time.Time
	as    map[string]context.Context
}

var system = auth.WithPrincipal(context.Background(), auth.System())

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{d: d, now: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC), as: map[string]context.Context{}}
	clock := func() time.Time { return f.now }
	log := audit.New(d, clock)
	box, _ := crypto.New(bytes.Repeat([]byte{7}, crypto.KeySize))
	f.accts = auth.NewService(d, log, clock)
	f.areas = area.NewService(d, log, f.accts, clock)
	f.svc = cases.NewService(d, log, box, f.areas, wallClock{}, clock)
	if err := f.svc.EnsureCategories(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, na := range []area.NewArea{
		{Code: "370613", Name: "莱山区", Level: area.District},
		{Code: "370613001", Name: "黄海路街道", Level: area.Street, Parent: "370613"},
		{Code: "370613001001", Name: "岱山社区", Level: area.Community, Parent: "370613001"},
		{Code: "370613001002", Name: "黄海社区", Level: area.Community, Parent: "370613001"},
	} {
		if _, err := f.areas.Create(system, na); err != nil {
			t.Fatal(err)
		}
	}
	grid := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"一网格"},"geometry":{"type":"Polygon","coordinates":[[[121.44,37.46],[121.45,37.46],[121.45,37.47],[121.44,37.47],[121.44,37.46]]]}}]}`
	if _, err := f.areas.Import(system, area.ImportRequest{File: strings.NewReader(grid), Parent: "370613001001"}); err != nil {
		t.Fatal(err)
	}
	users := []auth.NewUser{
		{Name: "staff", Role: auth.CommunityStaff, AreaCode: "370613001001"},
		{Name: "other", Role: auth.CommunityStaff, AreaCode: "370613001002"},
		{Name: "handler", Role: auth.DepartmentHandler, AreaCode: "370613001"},
		{Name: "outsider", Role: auth.DepartmentHandler, AreaCode: "370613001"},
		{Name: "worker", Role: auth.GridWorker, AreaCode: "370613001001"},
	}
	for _, nu := range users {
		nu.Password = "correct horse battery"
		if _, err := f.accts.CreateUser(system, nu); err != nil {
			t.Fatal(err)
		}
		_, p, err := f.accts.Login(context.Background(), nu.Name, nu.Password, "")
		if err != nil {
			t.Fatal(err)
		}
		f.as[nu.Name] = audit.WithActor(auth.WithPrincipal(context.Background(), p), audit.Actor{ID: p.UserID, Name: p.Name})
	}
	if err := f.svc.CreateUnit(system, "cgk", "黄海路街道城管科", "370613001"); err != nil {
		t.Fatal(err)
	}
	handler, _ := f.accts.Lookup(system, "handler")
	if err := f.svc.AddUnitMember(system, "cgk", handler.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) report(t *testing.T, desc string) cases.Receipt {
	t.Helper()
	p := orb.Point{121.445, 37.465}
	rc, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: desc, Point: &p,
		Name: "张桂兰", Phone: "13812345678"})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func (f *fixture) act(t *testing.T, who, number string, req cases.Request) cases.Case {
	t.Helper()
	c, err := f.svc.Act(f.as[who], number, req)
	if err != nil {
		t.Fatalf("%s %s: %v", who, req.Action, err)
	}
	return c
}

func yes() *bool { b := true; return &b }

// The whole loop, with a failed verification, and the figures it leaves.
func TestTheClosedLoop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		rc := f.report(t, "小区门口垃圾堆了三天")
		if rc.Grid == nil || rc.Grid.Code != "370613001001001" || rc.State != cases.Reported || rc.Token == "" {
			t.Fatalf("receipt: %+v", rc)
		}
		n := rc.Number
		f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
		c := f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
		if c.DueAt == nil || !c.DueAt.Equal(f.now.Add(4*time.Hour)) || c.WarnAt == nil || !c.WarnAt.Equal(f.now.Add(192*time.Minute)) {
			t.Fatalf("exposed rubbish is due in 4 working hours, warned at 80%%: due %v warn %v", c.DueAt, c.WarnAt)
		}
		f.now = f.now.Add(30 * time.Minute)
		f.act(t, "handler", n, cases.Request{Action: cases.ActReceive})
		f.act(t, "handler", n, cases.Request{Action: cases.ActFeedback, Note: "已清运"})
		c = f.act(t, "worker", n, cases.Request{Action: cases.ActVerifyFail, Note: "还有残留"})
		if c.State != cases.Handling || c.Reworks != 1 {
			t.Fatalf("after a failed check: %s, %d reworks", c.State, c.Reworks)
		}
		f.act(t, "handler", n, cases.Request{Action: cases.ActFeedback, Note: "已彻底清理"})
		f.now = f.now.Add(time.Hour)
		c = f.act(t, "worker", n, cases.Request{Action: cases.ActVerifyPass})
		if c.State != cases.Closed || c.OnTime == nil || !*c.OnTime {
			t.Fatalf("closed: %s on time %v", c.State, c.OnTime)
		}
		f.act(t, "staff", n, cases.Request{Action: cases.ActCallback, Contacted: yes(), Solved: yes(), Satisfaction: cases.BasicallySatisfied})
		if err := f.svc.Rate(context.Background(), rc.Token, cases.Satisfied, "谢谢"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Rate(context.Background(), rc.Token, cases.Satisfied, ""); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("rating twice: %v", err)
		}
		evs, err := f.svc.Timeline(f.as["staff"], n)
		if err != nil || len(evs) != 10 {
			t.Fatalf("timeline: %d events, %v", len(evs), err)
		}
		k, err := f.svc.KPIs(f.as["staff"], cases.KPIQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if k.Reported != 1 || k.Closed != 1 || k.OnTimeRate != 1 || k.ReworkRate != 0.5 || k.SatisfactionRate != 0.9 ||
			k.ResolutionRate != 1 || k.ResponseRate != 1 {
			t.Fatalf("figures: %+v", k)
		}
		if want := 0.1 + 0.5 + 0.4*0.9; abs(k.Combined-want) > 1e-9 {
			t.Fatalf("combined score %v, want %v", k.Combined, want)
		}
		assertStatsMatchLog(t, f)
	})
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func assertStatsMatchLog(t *testing.T, f *fixture) {
	t.Helper()
	kept, rebuilt, err := cases.CompareStats(context.Background(), f.svc)
	if err != nil {
		t.Fatal(err)
	}
	if kept != rebuilt {
		t.Fatalf("the kept counters differ from a recomputation from the log:\nkept    %s\nrebuilt %s", kept, rebuilt)
	}
}

// Moves outside the table, by the wrong people, or on a stale view are
// refused with a clear error and change nothing.
func TestRefusedMoves(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		n := f.report(t, "路灯坏了").Number
		check := func(who string, req cases.Request, code errs.Code, key string) {
			t.Helper()
			_, err := f.svc.Act(f.as[who], n, req)
			e := errs.As(err)
			if e.Code != code || (key != "" && e.Key != key && (len(e.Fields) == 0 || e.Fields[0].Key != key)) {
				t.Errorf("%s %s: %v, want %s %s", who, req.Action, err, code, key)
			}
		}
		check("staff", cases.Request{Action: cases.ActDispatch, Unit: "cgk"}, errs.Conflict, "err.case.transition")
		check("staff", cases.Request{Action: cases.ActReject}, errs.Invalid, "err.case.note_required")
		check("other", cases.Request{Action: cases.ActAccept}, errs.NotFound, "err.case.not_found")
		check("handler", cases.Request{Action: cases.ActAccept}, errs.Forbidden, "")
		check("staff", cases.Request{Action: "fly"}, errs.Invalid, "err.case.action")
		check("staff", cases.Request{Action: cases.ActWarn}, errs.Invalid, "err.case.action")
		f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
		check("staff", cases.Request{Action: cases.ActDispatch, Unit: "nowhere"}, errs.Invalid, "err.case.unit")
		check("staff", cases.Request{Action: cases.ActDispatch, Unit: "cgk", Version: 1}, errs.Conflict, "err.case.stale")
		f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
		check("outsider", cases.Request{Action: cases.ActReceive}, errs.Forbidden, "")
		if _, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E01", Description: "x"}); errs.As(err).Fields[0].Key != "err.case.category" {
			t.Errorf("a parent category: %v", err)
		}
		if _, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: " ", Phone: "12345"}); len(errs.As(err).Fields) != 2 {
			t.Errorf("blank description and bad phone: %v", err)
		}
		big := make([]byte, cases.MaxFileBytes+1)
		if _, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: "x",
			Files: []cases.File{{Name: "a.jpg", ContentType: "image/jpeg", Data: big}, {Name: "b.exe", ContentType: "application/x-msdownload", Data: []byte{1}}}}); len(errs.As(err).Fields) != 2 {
			t.Errorf("a huge photo and a program: %v", err)
		}
		assertStatsMatchLog(t, f)
	})
}

// Two people act on one case at once: exactly one succeeds.
func TestConcurrentMovesOneWins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		n := f.report(t, "井盖丢了").Number
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = f.svc.Act(f.as["staff"], n, cases.Request{Action: cases.ActAccept, Version: 1})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch errs.CodeOf(err) {
			case "":
				won++
			case errs.Conflict:
			default:
				t.Fatalf("unexpected: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of 8 simultaneous accepts succeeded", won)
		}
		assertStatsMatchLog(t, f)
	})
}

// Deferral stops the clock and takes the case out of the on-time figures;
// an approved extension moves the deadline.
func TestDeferralAndExtension(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		a, b := f.report(t, "一").Number, f.report(t, "二").Number
		for _, n := range []string{a, b} {
			f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
			f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
			f.act(t, "handler", n, cases.Request{Action: cases.ActReceive})
		}
		f.act(t, "handler", a, cases.Request{Action: cases.ActAskExtension, Days: 2, Note: "需要协调物业"})
		c := f.act(t, "staff", a, cases.Request{Action: cases.ActApproveExtension, Days: 2})
		if want := f.now.Add(4*time.Hour).AddDate(0, 0, 2); !c.DueAt.Equal(want) || c.Extensions != 1 {
			t.Fatalf("extended due %v, want %v", c.DueAt, want)
		}
		f.act(t, "staff", b, cases.Request{Action: cases.ActDefer, Note: "等待产权方答复"})
		f.now = f.now.Add(10 * time.Hour) // past b's original deadline, while paused
		c = f.act(t, "staff", b, cases.Request{Action: cases.ActResume})
		if want := f.now.Add(4 * time.Hour); !c.DueAt.Equal(want) {
			t.Fatalf("resumed due %v, want the 4 hours it had left from now (%v)", c.DueAt, want)
		}
		f.act(t, "staff", b, cases.Request{Action: cases.ActDefer, Note: "再次缓办"})
		for _, n := range []string{a, b} {
			f.act(t, "handler", n, cases.Request{Action: cases.ActFeedback, Note: "done"})
			f.act(t, "staff", n, cases.Request{Action: cases.ActVerifyPass})
		}
		k, _ := f.svc.KPIs(f.as["staff"], cases.KPIQuery{})
		if k.Closed != 2 || k.Deferred != 1 || k.OnTime != 1 || k.OnTimeRate != 1 || k.ExtensionRate != 0.5 {
			t.Fatalf("figures: %+v", k)
		}
		assertStatsMatchLog(t, f)
	})
}

// The reporter's private link shows public moves only; a merged case
// follows the outcome of the case it was merged into.
// 按期结案率 counts only closures that had a deadline, and 结案率 is
// measured against the accepted cases: a case fixed on the spot (closed,
// no deadline) pulls neither rate, a late closure lowers the first.
func TestRatesCountOnlyWhatTheyMeasure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		onTime, late, open := f.report(t, "按期").Number, f.report(t, "超期").Number, f.report(t, "未结").Number
		for _, n := range []string{onTime, late, open} {
			f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
			f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
			f.act(t, "handler", n, cases.Request{Action: cases.ActReceive})
		}
		f.act(t, "handler", onTime, cases.Request{Action: cases.ActFeedback, Note: "done"})
		f.act(t, "staff", onTime, cases.Request{Action: cases.ActVerifyPass})
		f.now = f.now.AddDate(0, 0, 10) // far past every deadline
		f.act(t, "handler", late, cases.Request{Action: cases.ActFeedback, Note: "done"})
		if c := f.act(t, "staff", late, cases.Request{Action: cases.ActVerifyPass}); c.OnTime == nil || *c.OnTime {
			t.Fatalf("a case closed ten days late: on time %v", c.OnTime)
		}
		p := orb.Point{121.445, 37.465}
		fixed := cases.NewCase{Channel: cases.ChannelGridWorker, Category: "E0201", Description: "清理了小广告", Point: &p, FixedOnSite: true,
			Files: []cases.File{{Name: "after.png", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}}}
		if _, err := f.svc.Report(f.as["worker"], fixed); err != nil {
			t.Fatal(err)
		}
		k, err := f.svc.KPIs(f.as["staff"], cases.KPIQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if k.Accepted != 4 || k.Closed != 3 || k.OnTime != 1 || k.Late != 1 {
			t.Fatalf("counts: accepted %d closed %d on time %d late %d; want 4 3 1 1", k.Accepted, k.Closed, k.OnTime, k.Late)
		}
		if k.OnTimeRate != 0.5 || k.CloseRate != 0.75 {
			t.Errorf("按期结案率 %v (want 1 of the 2 closures with a deadline), 结案率 %v (want 3 of 4 accepted)", k.OnTimeRate, k.CloseRate)
		}
		assertStatsMatchLog(t, f)
	})
}

// A new report is offered the open cases of its category within the
// radius (100 m by default) and none beyond, in every direction, however
// the cells of the search fall; a closed case is not offered.
func TestDuplicatesAreTheCasesWithinTheRadius(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		center := orb.Point{121.445, 37.465}
		reportAt := func(p orb.Point) cases.Receipt {
			t.Helper()
			rc, err := f.svc.Report(context.Background(), cases.NewCase{Category: "E0101", Description: "井盖松动", Point: &p})
			if err != nil {
				t.Fatal(err)
			}
			return rc
		}
		first := reportAt(center)
		perDegree := 6371008.8 * math.Pi / 180 // metres per degree of latitude
		for _, c := range []struct {
			north, east float64 // metres from the first report
			offered     bool
		}{
			{95, 0, true}, {-95, 0, true}, {0, 95, true}, {0, -95, true}, {67, 67, true}, {-67, -67, true},
			{105, 0, false}, {0, -105, false}, {75, 75, false}, {300, 0, false},
		} {
			p := orb.Point{center[0] + c.east/(perDegree*math.Cos(center[1]*math.Pi/180)), center[1] + c.north/perDegree}
			rc := reportAt(p)
			offered := slices.ContainsFunc(rc.Duplicates, func(d cases.Duplicate) bool { return d.Number == first.Number })
			if offered != c.offered {
				t.Errorf("a report %.0f m north and %.0f m east: first case offered %v, want %v (%+v)", c.north, c.east, offered, c.offered, rc.Duplicates)
			}
			f.act(t, "staff", rc.Number, cases.Request{Action: cases.ActReject, Note: "测试"}) // not a candidate for the next ones
		}
		f.act(t, "staff", first.Number, cases.Request{Action: cases.ActReject, Note: "测试"})
		if rc := reportAt(center); len(rc.Duplicates) != 0 {
			t.Fatalf("cases that are no longer open were offered: %+v", rc.Duplicates)
		}
	})
}

// Private links are stored as hashes behind their time, so that the
// index of new links grows at its end; links given out before that (a
// bare random token, stored as its hash) must keep opening their case.
func TestPrivateLinksOldAndNew(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		first := f.report(t, "路灯不亮")
		f.now = f.now.Add(time.Minute)
		second := f.report(t, "路灯又不亮了")
		var keys []string
		rows, err := d.Q(ctx).QueryContext(ctx, "SELECT tracking_hash FROM cases ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			rows.Scan(&k)
			keys = append(keys, k)
		}
		rows.Close()
		if len(keys) != 2 || keys[0] >= keys[1] {
			t.Fatalf("the stored links do not sort in the order of the reports: %q", keys)
		}
		for i, tok := range []string{first.Token, second.Token} {
			if strings.Contains(keys[i], tok[10:]) {
				t.Fatalf("the link's secret is stored as it is: %q", keys[i])
			}
			if tr, err := f.svc.Track(ctx, tok); err != nil || tr.Case.Number == "" {
				t.Fatalf("link %d: %+v %v", i, tr, err)
			}
		}
		const legacy = "q7Xw2mZp0vKc9LrT4yBn1sHd" // 18 random bytes, as links were made before
		sum := sha256.Sum256([]byte(legacy))
		if err := d.Write(ctx, func(ctx context.Context) error {
			_, err := d.Q(ctx).ExecContext(ctx, "UPDATE cases SET tracking_hash = $1 WHERE tracking_hash = $2", hex.EncodeToString(sum[:]), keys[0])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if tr, err := f.svc.Track(ctx, legacy); err != nil || tr.Case.Number != first.Number {
			t.Fatalf("a link of the old form: %+v %v", tr, err)
		}
		if _, err := f.svc.Track(ctx, first.Token); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("a link whose case now has another: %v", err)
		}
		// As long as a new link, but not of its characters: its first ten
		// bytes end inside a character, which PostgreSQL would refuse as text.
		for _, forged := range []string{"路路路路路路路路路路路路", "0123456789abcdefghijklmnopqrstuvwxyz"} {
			if _, err := f.svc.Track(ctx, forged); errs.CodeOf(err) != errs.NotFound {
				t.Fatalf("a forged link %q: %v", forged, err)
			}
		}
	})
}

func TestTrackingAndMerging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		first := f.report(t, "垃圾桶满了")
		second := f.report(t, "垃圾桶满溢")
		if len(second.Duplicates) != 1 || second.Duplicates[0].Number != first.Number {
			t.Fatalf("the second report was not offered as a duplicate: %+v", second.Duplicates)
		}
		f.act(t, "staff", second.Number, cases.Request{Action: cases.ActMerge, Into: first.Number})
		f.act(t, "staff", first.Number, cases.Request{Action: cases.ActNote, Note: "内部备注：联系物业王经理"})
		tr, err := f.svc.Track(context.Background(), second.Token)
		if err != nil || tr.Follows != first.Number || tr.Case.Number != first.Number {
			t.Fatalf("a merged case's link: %+v %v", tr, err)
		}
		for _, e := range tr.Events {
			if strings.Contains(e.Note, "王经理") {
				t.Fatal("an internal note reached the reporter")
			}
		}
		if tr.Case.Reporter.Phone != "138****5678" || tr.Case.Reporter.Name != "张**" {
			t.Fatalf("contact not masked: %+v", tr.Case.Reporter)
		}
		if _, err := f.svc.Track(context.Background(), "forged-token"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("a forged link: %v", err)
		}
		if err := f.svc.Rate(context.Background(), first.Token, cases.Satisfied, ""); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("rating an open case: %v", err)
		}
		got, err := f.svc.RevealContact(f.as["staff"], first.Number, "回访核实")
		if err != nil || got.Phone != "13812345678" {
			t.Fatalf("reveal: %+v %v", got, err)
		}
		if _, err := f.svc.RevealContact(f.as["staff"], first.Number, ""); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("reveal without a reason: %v", err)
		}
		if _, err := f.svc.RevealContact(f.as["handler"], first.Number, "想知道"); errs.CodeOf(err) == "" {
			t.Fatal("a handler revealed a reporter's phone")
		}
	})
}
