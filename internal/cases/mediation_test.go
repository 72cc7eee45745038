package cases_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// A neighbour dispute is mediated in the grid, fails, goes up to the
// community, and ends in an agreement with a follow-up check.
func TestMediationClimbsTheLevels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		p := orb.Point{121.445, 37.465}
		rc, err := f.svc.Report(context.Background(), cases.NewCase{Category: "S0101", Description: "楼上漏水，协商不成", Point: &p})
		if err != nil {
			t.Fatal(err)
		}
		n := rc.Number
		// Staff take down the parties when the dispute comes in; the unit adds more later.
		if err := f.svc.AddParty(f.as["staff"], n, cases.Party{Role: "applicant", Name: "张桂兰", Phone: "13812345678"}); err != nil {
			t.Fatal(err)
		}
		f.act(t, "staff", n, cases.Request{Action: cases.ActAccept})
		f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
		f.act(t, "handler", n, cases.Request{Action: cases.ActReceive})
		if err := f.svc.AddParty(f.as["handler"], n, cases.Party{Role: "respondent", Name: "李建国"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddParty(f.as["handler"], n, cases.Party{Role: "judge", Name: ""}); len(errs.As(err).Fields) != 2 {
			t.Fatalf("a bad party: %v", err)
		}
		parties, _ := f.svc.Parties(f.as["staff"], n)
		if len(parties) != 2 || parties[0].Phone != "138****5678" || parties[1].Name != "李**" {
			t.Fatalf("parties: %+v", parties)
		}
		if err := f.svc.Mediate(f.as["handler"], n, cases.Session{Summary: "双方各执一词", Outcome: "failed"}); err != nil {
			t.Fatal(err)
		}
		c, _ := f.svc.Get(f.as["staff"], n)
		if c.State != cases.Accepted || c.UnitID != 0 {
			t.Fatalf("after a failed grid mediation the dispute waits for a community unit: %s unit %d", c.State, c.UnitID)
		}
		sessions, level, _ := f.svc.Sessions(f.as["staff"], n)
		if level != "community" || len(sessions) != 1 || sessions[0].Level != "grid" {
			t.Fatalf("level %q, sessions %+v", level, sessions)
		}
		f.act(t, "staff", n, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})
		f.act(t, "handler", n, cases.Request{Action: cases.ActReceive})
		if err := f.svc.Mediate(f.as["handler"], n, cases.Session{Summary: "达成一致", Outcome: "agreement"}); errs.As(err).Fields[0].Field != "agreement" {
			t.Fatalf("an agreement without its text: %v", err)
		}
		if err := f.svc.Mediate(f.as["handler"], n, cases.Session{Summary: "达成一致", Outcome: "agreement",
			Agreement: "楼上承担维修费用 800 元", FollowUpDays: 10}); err != nil {
			t.Fatal(err)
		}
		tr, _ := f.svc.Track(context.Background(), rc.Token)
		for _, e := range tr.Events {
			if strings.Contains(e.Note, "800") || strings.Contains(e.Note, "各执一词") {
				t.Fatal("a mediation record reached the tracking page")
			}
		}
		if err := f.svc.Mediate(f.as["other"], n, cases.Session{Summary: "x", Outcome: "continue"}); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another community's staff: %v", err)
		}
		// Not a dispute: no mediation.
		other := f.report(t, "垃圾")
		f.act(t, "staff", other.Number, cases.Request{Action: cases.ActAccept})
		if err := f.svc.Mediate(f.as["staff"], other.Number, cases.Session{Summary: "x", Outcome: "continue"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("mediating rubbish: %v", err)
		}
		assertStatsMatchLog(t, f)
	})
}

// A grid worker's problem fixed on the spot is closed at once, with its
// photo; without one it is refused.
func TestFixedOnTheSpot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		p := orb.Point{121.445, 37.465}
		nc := cases.NewCase{Channel: cases.ChannelGridWorker, Category: "E0201", Description: "清理了电线杆上的小广告", Point: &p, FixedOnSite: true}
		if _, err := f.svc.Report(f.as["worker"], nc); errs.As(err).Fields[0].Field != "photos" {
			t.Fatalf("fixed without a photo: %v", err)
		}
		nc.Files = []cases.File{{Name: "after.png", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}}
		rc, err := f.svc.Report(f.as["worker"], nc)
		if err != nil || rc.State != cases.Closed {
			t.Fatalf("fixed on the spot: %+v %v", rc, err)
		}
		if _, err := f.svc.Report(context.Background(), cases.NewCase{Channel: cases.ChannelGridWorker, Category: "E0201",
			Description: "x"}); errs.CodeOf(err) != errs.Unauthenticated {
			t.Fatalf("an anonymous grid-worker report: %v", err)
		}
		k, _ := f.svc.KPIs(f.as["staff"], cases.KPIQuery{})
		if k.Closed != 1 || k.OnTime != 0 {
			t.Fatalf("a self-handled case closes outside the on-time figures: %+v", k)
		}
		assertStatsMatchLog(t, f)
	})
}
