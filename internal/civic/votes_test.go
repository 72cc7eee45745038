package civic

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func (f *fixture) vote(t *testing.T, rule string, secret bool) Vote {
	t.Helper()
	v, err := f.svc.CreateVote(f.staff, VoteInput{Community: f.community.Code, Title: "加装电梯", Options: []string{"同意", "不同意"},
		Rule: rule, Secret: secret, OpensAt: f.now, ClosesAt: f.now.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// One ballot per household, however many members try at once; the
// tally moves once; a secret ballot leaves no choice on the voter row.
func TestHouseholdVotesOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		members, _ := f.household(t, "1960-01-01", "1962-05-05", "1990-02-02", "1992-03-03")
		v := f.vote(t, PerHousehold, true)
		var wg sync.WaitGroup
		results := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- f.svc.Cast(members[i%len(members)], v.ID, i%2)
			}()
		}
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			switch errs.CodeOf(err) {
			case "":
				ok++
			case errs.Conflict:
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d ballots accepted for one household, want 1", ok)
		}
		if n := f.count(t, "SELECT COALESCE(SUM(tally), 0) FROM civic_vote_options WHERE vote_id = $1", v.ID); n != 1 {
			t.Errorf("tally sum %d, want 1", n)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM civic_vote_voters WHERE vote_id = $1 AND choice IS NOT NULL", v.ID); n != 0 {
			t.Errorf("secret ballot: %d voter rows hold a choice", n)
		}
	})
}

// One ballot per adult: many residents at once each count once, minors
// and people of other communities are refused, and results with turnout
// appear when the vote has closed.
func TestResidentVoteEligibilityAndResults(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		adults, ids := f.household(t, "1970-01-01", "1975-01-01", "1980-01-01", "1985-01-01", "1990-01-01")
		minors, _ := f.household(t, "2015-06-01")
		loner, _ := f.resident(t, 0, "1950-01-01")
		v := f.vote(t, PerResident, false)

		var wg sync.WaitGroup
		errc := make(chan error, 3*len(adults))
		for round := range 3 {
			for i, c := range adults {
				wg.Add(1)
				go func() { defer wg.Done(); errc <- f.svc.Cast(c, v.ID, (i+round)%2) }()
			}
		}
		wg.Wait()
		close(errc)
		accepted := 0
		for err := range errc {
			if err == nil {
				accepted++
			} else if errs.CodeOf(err) != errs.Conflict {
				t.Errorf("unexpected: %v", err)
			}
		}
		if accepted != len(adults) {
			t.Fatalf("%d ballots accepted from %d adults", accepted, len(adults))
		}
		wantCode(t, "a minor", f.svc.Cast(minors[0], v.ID, 0), errs.Forbidden, "err.civic.under_age")
		if err := f.svc.Cast(loner, v.ID, 0); err != nil {
			t.Errorf("an adult without a household votes per resident: %v", err)
		}
		wantCode(t, "staff of another community", f.svc.Cast(f.outsider, v.ID, 0), errs.NotFound, "err.registry.account_not_linked")
		wantCode(t, "a bad option", f.svc.Cast(adults[0], v.ID, 7), errs.Invalid, "option:err.civic.option_unknown")
		wantCode(t, "paper for one who voted online", f.svc.CastPaper(f.staff, v.ID, ids[0], 1), errs.Conflict, "err.civic.already_voted")
		wantCode(t, "paper by an overseer", f.svc.CastPaper(f.overseer, v.ID, ids[0], 1), errs.Forbidden, "")

		open, _ := f.svc.GetVote(context.Background(), v.ID)
		if open.Options[0].Tally != 0 || open.Voted != 6 {
			t.Errorf("an open vote shows tallies %+v (voted %d)", open.Options, open.Voted)
		}
		voters, err := f.svc.Voters(f.staff, v.ID)
		if err != nil || len(voters) != 6 {
			t.Fatalf("voters: %v %d", err, len(voters))
		}
		if _, err := f.svc.Voters(f.outsider, v.ID); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("voter list for other staff: %v", err)
		}

		f.now = f.now.Add(49 * time.Hour)
		wantCode(t, "after the window", f.svc.Cast(minors[0], v.ID, 0), errs.Conflict, "err.civic.vote_closed")
		closed, err := f.svc.GetVote(context.Background(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if closed.Options[0].Tally+closed.Options[1].Tally != 6 || closed.Electors != 6 {
			t.Errorf("results %+v, electors %d (want 6 ballots of 6 adults)", closed.Options, closed.Electors)
		}
	})
}

// A vote not yet open refuses ballots and stores nothing; bad votes are
// refused field by field.
func TestVoteWindowAndBadVotes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		members, _ := f.household(t, "1960-01-01")
		v, err := f.svc.CreateVote(f.staff, VoteInput{Community: f.community.Code, Title: "t", Options: []string{"a", "b"},
			Rule: PerHousehold, OpensAt: f.now.Add(time.Hour), ClosesAt: f.now.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "before the window", f.svc.Cast(members[0], v.ID, 0), errs.Conflict, "err.civic.vote_closed")
		if n := f.count(t, "SELECT COUNT(*) FROM civic_vote_voters"); n != 0 {
			t.Errorf("%d voters stored", n)
		}
		_, err = f.svc.CreateVote(f.staff, VoteInput{Community: f.community.Code, Title: "", Options: []string{"a", "a"},
			Rule: "anyone", OpensAt: f.now, ClosesAt: f.now})
		for _, want := range []string{"title:err.civic.required", "rule:err.civic.rule", "options[1]:err.civic.option_repeated", "closes_at:err.civic.window"} {
			if !strings.Contains(fieldsOf(err), want) {
				t.Errorf("bad vote: %v lacks %s", err, want)
			}
		}
	})
}
