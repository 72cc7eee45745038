package volunteer

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/jobs"
	"github.com/linli/linli/internal/platform/notify"
)

// inbox is what a participant's inbox holds: message keys with their
// argument.
func inbox(t *testing.T, f *fixture, who context.Context) []string {
	t.Helper()
	items, err := f.svc.Notify.Inbox(context.Background(), auth.From(who).UserID, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Key+" "+it.Args[0].(string))
	}
	return out
}

// signUp signs ctx up to x, and has the organiser confirm when confirm.
func (f *fixture) signUp(t *testing.T, ctx context.Context, x Activity, confirm bool) Signup {
	t.Helper()
	g, err := f.svc.SignUp(ctx, x.ID)
	if err != nil {
		t.Fatalf("sign-up: %v", err)
	}
	if confirm {
		if g, err = f.svc.Confirm(f.staff, g.ID); err != nil {
			t.Fatalf("confirm: %v", err)
		}
	}
	return g
}

// Two nodes run the reminder job, at once and again later: each
// participant is reminded once, 24 hours ahead; a volunteer not confirmed
// or who withdrew is not; a resident at a residents' event is.
func TestRemindersGoOutOncePerSignup(t *testing.T) {
	t.Parallel()
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			f := newFixture(t, dbtest.Open(t, dsn))
			f.svc.Notify = notify.New(f.db, "", "")
			clock := func() time.Time { return f.now }
			// A second node on its own connection to the same database.
			other := dbtest.Open(t, dsn)
			second := NewService(other, audit.New(other, clock), nil, nil, nil, clock)
			second.Notify = notify.New(other, "", "")

			x := f.activity(t, func(in *ActivityInput) { in.StartsAt, in.EndsAt = "2026-05-05T10:00", "2026-05-05T12:00" })
			event := f.activity(t, func(in *ActivityInput) {
				in.Title, in.Kind, in.Audience = "反诈宣讲", "policy_briefing", ForResidents
				in.StartsAt, in.EndsAt = "2026-05-05T10:10", "2026-05-05T11:00"
			})
			confirmed, _ := f.volunteer(t, "张三")
			f.signUp(t, confirmed, x, true)
			unconfirmed, _ := f.volunteer(t, "李四")
			f.signUp(t, unconfirmed, x, false)
			withdrawn, _ := f.volunteer(t, "王五")
			g := f.signUp(t, withdrawn, x, true)
			if err := f.svc.Withdraw(withdrawn, g.ID); err != nil {
				t.Fatal(err)
			}
			resident, _, _ := f.resident(t, "赵六")
			f.signUp(t, resident, event, false)

			quiet := slog.New(slog.DiscardHandler)
			a, b := jobs.NewRunner(f.db, "a", clock, quiet), jobs.NewRunner(other, "b", clock, quiet)
			f.svc.Jobs(a)
			second.Jobs(b)
			both := func() {
				var wg sync.WaitGroup
				for _, r := range []*jobs.Runner{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := r.RunDue(context.Background()); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}

			both() // 09:00 on the 4th: 25 hours ahead, too early
			if got := inbox(t, f, confirmed); len(got) != 0 {
				t.Fatalf("reminded 25 hours ahead: %v", got)
			}
			f.at("10:05")
			both()
			f.now = f.now.Add(ReminderSweep + time.Minute)
			both()
			if n, err := f.svc.SendReminders(context.Background()); err != nil || n != 0 {
				t.Fatalf("a third run sent %d (%v)", n, err)
			}
			if got := inbox(t, f, confirmed); len(got) != 1 || got[0] != "notify.volunteer.reminder 助老理发 · 2026-05-05 10:00" {
				t.Fatalf("confirmed volunteer's inbox: %v", got)
			}
			if got := inbox(t, f, resident); len(got) != 1 || !strings.Contains(got[0], "反诈宣讲") {
				t.Fatalf("resident's inbox: %v", got)
			}
			for name, ctx := range map[string]context.Context{"not confirmed": unconfirmed, "withdrawn": withdrawn} {
				if got := inbox(t, f, ctx); len(got) != 0 {
					t.Errorf("%s volunteer reminded: %v", name, got)
				}
			}
		})
	}
}

// Cancelling an activity tells those with an open place, once; not those
// who withdrew before, and not a volunteer without an account.
func TestCancellationIsNoticedOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.svc.Notify = notify.New(d, "", "")
		x := f.activity(t, func(in *ActivityInput) { in.StartsAt, in.EndsAt = "2026-05-06T10:00", "2026-05-06T12:00" })
		confirmed, _ := f.volunteer(t, "张三")
		f.signUp(t, confirmed, x, true)
		signed, _ := f.volunteer(t, "李四")
		f.signUp(t, signed, x, false)
		withdrawn, _ := f.volunteer(t, "王五")
		g := f.signUp(t, withdrawn, x, false)
		if err := f.svc.Withdraw(withdrawn, g.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CancelActivity(f.staff, x.ID, "天气原因"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CancelActivity(f.staff, x.ID, "天气原因"); err == nil {
			t.Fatal("cancelled twice")
		}
		want := "notify.volunteer.cancelled 助老理发 · 2026-05-06 10:00"
		for name, ctx := range map[string]context.Context{"confirmed": confirmed, "signed": signed} {
			if got := inbox(t, f, ctx); len(got) != 1 || got[0] != want {
				t.Errorf("%s: %v", name, got)
			}
		}
		if got := inbox(t, f, withdrawn); len(got) != 0 {
			t.Errorf("withdrawn: %v", got)
		}
		// Nor is anyone reminded of the cancelled activity.
		f.at("12:00")
		f.now = f.now.AddDate(0, 0, 1)
		if n, err := f.svc.SendReminders(context.Background()); err != nil || n != 0 {
			t.Fatalf("reminders of a cancelled activity: %d %v", n, err)
		}
	})
}
