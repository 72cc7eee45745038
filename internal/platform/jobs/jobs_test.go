package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/jobs"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// quiet drops the runners' logs: failures are the point of several tests.
var quiet = slog.New(slog.DiscardHandler)

// clock is simulated time shared by the runners of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Q(context.Background()).QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func enqueue(t *testing.T, d *db.DB, j jobs.Job) {
	t.Helper()
	if err := jobs.Enqueue(context.Background(), d, j); err != nil {
		t.Fatal(err)
	}
}

func runDue(t *testing.T, r *jobs.Runner, want int) {
	t.Helper()
	n, err := r.RunDue(context.Background())
	if err != nil || n != want {
		t.Fatalf("RunDue ran %d jobs (err %v), want %d", n, err, want)
	}
}

func pending(t *testing.T, d *db.DB) int {
	return count(t, d, "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL")
}

// nodes opens the same database twice, as two nodes would.
func nodes(t *testing.T, fn func(t *testing.T, a, b *db.DB)) {
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, dbtest.Open(t, dsn), dbtest.Open(t, dsn))
		})
	}
}

// Two nodes race over 200 due jobs: each job's effect lands exactly once,
// and none is left behind.
func TestTwoNodesRunEachJobOnce(t *testing.T) {
	nodes(t, func(t *testing.T, a, b *db.DB) {
		dbtest.Exec(t, a, "CREATE TABLE effects (job_id BIGINT PRIMARY KEY, n INTEGER NOT NULL, node TEXT NOT NULL)")
		dbtest.Exec(t, a, "CREATE TABLE counter (n INTEGER NOT NULL)")
		dbtest.Exec(t, a, "INSERT INTO counter (n) VALUES (0)")
		const total = 200
		for i := range total {
			enqueue(t, a, jobs.Job{Kind: "effect", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), RunAt: t0.Add(-time.Minute)})
		}
		clk := newClock()
		var mu sync.Mutex
		calls := map[int64]int{}
		runner := func(d *db.DB, node string) *jobs.Runner {
			r := jobs.NewRunner(d, node, clk.Now, quiet)
			r.Workers = 4
			r.Handle("effect", func(ctx context.Context, j jobs.Job) error {
				mu.Lock()
				calls[j.ID]++
				mu.Unlock()
				var p struct{ N int }
				if err := json.Unmarshal(j.Payload, &p); err != nil {
					return err
				}
				q := d.Q(ctx)
				if _, err := q.ExecContext(ctx, "INSERT INTO effects (job_id, n, node) VALUES ($1, $2, $3)", j.ID, p.N, node); err != nil {
					return err
				}
				_, err := q.ExecContext(ctx, "UPDATE counter SET n = n + 1")
				return err
			})
			return r
		}
		ra, rb := runner(a, "node-a"), runner(b, "node-b")
		var wg sync.WaitGroup
		ran := make([]int, 2)
		start := make(chan struct{})
		for i, r := range []*jobs.Runner{ra, rb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				n, err := r.RunDue(context.Background())
				if err != nil {
					t.Error(err)
				}
				ran[i] = n
			}()
		}
		close(start)
		wg.Wait()
		t.Logf("node-a ran %d jobs, node-b %d", ran[0], ran[1])
		if ran[0]+ran[1] != total {
			t.Errorf("the nodes ran %d + %d jobs, want %d in all", ran[0], ran[1], total)
		}
		if n := count(t, a, "SELECT COUNT(*) FROM effects"); n != total {
			t.Errorf("%d effects, want %d", n, total)
		}
		if n := count(t, a, "SELECT COUNT(DISTINCT n) FROM effects"); n != total {
			t.Errorf("%d distinct payloads handled, want %d", n, total)
		}
		if n := count(t, a, "SELECT n FROM counter"); n != total {
			t.Errorf("counter = %d, want %d", n, total)
		}
		if n := count(t, a, "SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL AND attempts = 1 AND last_error = ''"); n != total {
			t.Errorf("%d jobs done on the first try, want %d", n, total)
		}
		for id, c := range calls {
			if c != 1 {
				t.Errorf("job %d handled %d times", id, c)
			}
		}
		if len(calls) != total {
			t.Errorf("%d jobs handled, want %d", len(calls), total)
		}
		if s, err := ra.Stats(context.Background()); err != nil || s != (jobs.Stats{}) {
			t.Errorf("stats after the run: %+v, %v", s, err)
		}
	})
}

// A failing handler's writes never commit; it is retried with a growing
// backoff and given up after max_attempts, with its error kept.
func TestFailingHandlerIsRetriedThenFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE effects (job_id BIGINT NOT NULL)")
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Backoff = 10 * time.Second
		calls := 0
		r.Handle("flaky", func(ctx context.Context, j jobs.Job) error {
			if j.Attempts != calls {
				t.Errorf("try %d sees Attempts = %d", calls+1, j.Attempts)
			}
			calls++
			if _, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO effects (job_id) VALUES ($1)", j.ID); err != nil {
				return err
			}
			// A follow-up scheduled by a failing try must vanish with it.
			if err := jobs.Enqueue(ctx, d, jobs.Job{Kind: "escalate", Key: "esc"}); err != nil {
				return err
			}
			return fmt.Errorf("gateway said no (try %d)", calls)
		})
		r.Handle("explode", func(ctx context.Context, j jobs.Job) error {
			d.Q(ctx).ExecContext(ctx, "INSERT INTO effects (job_id) VALUES ($1)", j.ID)
			panic("boom")
		})
		enqueue(t, d, jobs.Job{Kind: "flaky", Key: "flaky", RunAt: t0, MaxAttempts: 3})
		enqueue(t, d, jobs.Job{Kind: "explode", RunAt: t0, MaxAttempts: 1})

		runDue(t, r, 2) // flaky fails once, explode fails for good
		runDue(t, r, 0) // nothing is due again at once
		for _, step := range []struct {
			at   time.Duration
			runs int
		}{{9 * time.Second, 0}, {10 * time.Second, 1}, {29 * time.Second, 0}, {30 * time.Second, 1}, {24 * time.Hour, 0}} {
			clk.Set(t0.Add(step.at))
			runDue(t, r, step.runs)
		}
		if calls != 3 {
			t.Fatalf("the flaky handler ran %d times, want 3", calls)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM effects"); n != 0 {
			t.Fatalf("%d writes of failed tries were committed", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE kind = 'escalate'"); n != 0 {
			t.Fatalf("a failed try's follow-up job was committed")
		}
		var lastError string
		var attempts int
		d.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT last_error, attempts FROM jobs WHERE kind = 'flaky' AND failed_at IS NOT NULL").Scan(&lastError, &attempts)
		if lastError != "gateway said no (try 3)" || attempts != 3 {
			t.Fatalf("flaky: last_error %q after %d attempts", lastError, attempts)
		}
		d.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT last_error FROM jobs WHERE kind = 'explode' AND failed_at IS NOT NULL").Scan(&lastError)
		if !strings.Contains(lastError, "panic: boom") {
			t.Fatalf("explode: last_error %q", lastError)
		}
		s, err := r.Stats(context.Background())
		if err != nil || s.Failed != 2 || s.Pending != 0 {
			t.Fatalf("stats: %+v, %v", s, err)
		}
		// Failed jobs free their key: the reminder can be scheduled again.
		enqueue(t, d, jobs.Job{Kind: "flaky", Key: "flaky", RunAt: t0})
		if n := pending(t, d); n != 1 {
			t.Fatalf("%d pending jobs after re-enqueueing a failed key", n)
		}
	})
}

// A job exists if and only if the transaction that enqueued it commits.
func TestEnqueueJoinsTheCallersTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE test_cases (id INTEGER PRIMARY KEY)")
		open := func(id int, fail bool) error {
			return d.Write(context.Background(), func(ctx context.Context) error {
				if _, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO test_cases (id) VALUES ($1)", id); err != nil {
					return err
				}
				key := fmt.Sprintf("case:%d:remind", id)
				if err := jobs.Enqueue(ctx, d, jobs.Job{Kind: "remind", Key: key, RunAt: t0.Add(time.Hour)}); err != nil {
					return err
				}
				if fail {
					return errors.New("validation failed after enqueueing")
				}
				return nil
			})
		}
		if err := open(1, true); err == nil {
			t.Fatal("the failing write succeeded")
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs"); n != 0 {
			t.Fatalf("%d jobs left by a rolled-back transaction", n)
		}
		if err := open(2, false); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE key = 'case:2:remind'"); n != 1 {
			t.Fatalf("%d reminders for case 2, want 1", n)
		}
	})
}

// The same key twice, even at once from many writers, gives one pending
// job; once it has run, the key is free again.
func TestSameKeyGivesOneJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := jobs.Enqueue(context.Background(), d, jobs.Job{Kind: "remind", Key: "case:7", RunAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := count(t, d, "SELECT COUNT(*) FROM jobs"); n != 1 {
			t.Fatalf("%d jobs for one key, want 1", n)
		}
		enqueue(t, d, jobs.Job{Kind: "remind", RunAt: t0}) // no key: always added
		enqueue(t, d, jobs.Job{Kind: "remind", RunAt: t0})
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE key IS NULL"); n != 2 {
			t.Fatalf("%d unkeyed jobs, want 2", n)
		}
		clk := newClock()
		clk.Set(t0.Add(time.Hour))
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Handle("remind", func(context.Context, jobs.Job) error { return nil })
		runDue(t, r, 3)
		enqueue(t, d, jobs.Job{Kind: "remind", Key: "case:7", RunAt: t0.Add(2 * time.Hour)})
		if n := pending(t, d); n != 1 {
			t.Fatalf("%d pending jobs after re-using a finished key, want 1", n)
		}
	})
}

func TestCancelAndReschedule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		var ran []string
		r.Handle("remind", func(ctx context.Context, j jobs.Job) error {
			ran = append(ran, j.Key)
			return nil
		})
		ctx := context.Background()
		enqueue(t, d, jobs.Job{Kind: "remind", Key: "closed-early", RunAt: t0.Add(time.Hour)})
		enqueue(t, d, jobs.Job{Kind: "remind", Key: "extended", RunAt: t0.Add(time.Hour)})
		if err := jobs.Cancel(ctx, d, "closed-early"); err != nil {
			t.Fatal(err)
		}
		if err := jobs.Reschedule(ctx, d, "extended", t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Moving a job that does not exist is not an error, and creates nothing.
		if err := jobs.Reschedule(ctx, d, "no-such-key", t0); err != nil {
			t.Fatal(err)
		}
		clk.Set(t0.Add(time.Hour))
		runDue(t, r, 0)
		clk.Set(t0.Add(3 * time.Hour))
		runDue(t, r, 1)
		if strings.Join(ran, ",") != "extended" {
			t.Fatalf("ran %v, want only the extended reminder", ran)
		}
		if err := jobs.Cancel(ctx, d, "extended"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL"); n != 1 {
			t.Fatal("Cancel removed a job that had already run")
		}
	})
}

// A job runs when the injected clock reaches it, not before.
func TestFutureJobWaitsForTheClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		var got []time.Time
		r.Handle("remind", func(ctx context.Context, j jobs.Job) error {
			got = append(got, j.RunAt)
			return nil
		})
		due := t0.Add(80 * time.Minute).Add(500 * time.Microsecond)
		enqueue(t, d, jobs.Job{Kind: "remind", RunAt: due})
		runDue(t, r, 0)
		clk.Set(due.Add(-time.Microsecond))
		runDue(t, r, 0)
		if s, _ := r.Stats(context.Background()); s.Pending != 1 || s.Due != 0 {
			t.Fatalf("before the due time: %+v", s)
		}
		clk.Set(due)
		runDue(t, r, 1)
		if len(got) != 1 || !got[0].Equal(due) {
			t.Fatalf("handler saw run times %v, want [%v]", got, due)
		}
	})
}

// A recurring job runs once per interval however many nodes poll, and
// skips the runs missed while nobody was up.
func TestRecurringJobRunsOncePerInterval(t *testing.T) {
	nodes(t, func(t *testing.T, a, b *db.DB) {
		dbtest.Exec(t, a, "CREATE TABLE ticks (at TEXT NOT NULL)")
		clk := newClock()
		var runners []*jobs.Runner
		for i, d := range []*db.DB{a, b} {
			r := jobs.NewRunner(d, fmt.Sprint("node-", i), clk.Now, quiet)
			r.Handle("overdue.scan", func(ctx context.Context, j jobs.Job) error {
				_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO ticks (at) VALUES ($1)", clk.Now().Format(time.RFC3339))
				return err
			})
			r.Every("overdue.scan", time.Hour)
			runners = append(runners, r)
		}
		both := func() int {
			var wg sync.WaitGroup
			ns := make([]int, len(runners))
			for i, r := range runners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := r.RunDue(context.Background())
					if err != nil {
						t.Error(err)
					}
					ns[i] = n
				}()
			}
			wg.Wait()
			return ns[0] + ns[1]
		}
		for _, step := range []struct {
			at   time.Duration
			runs int
		}{
			{0, 1}, {0, 0}, {30 * time.Minute, 0}, {time.Hour, 1}, {time.Hour + time.Second, 0},
			{5*time.Hour + 30*time.Minute, 1}, // the nodes were down: one catch-up run, not four
			{6 * time.Hour, 1},
		} {
			clk.Set(t0.Add(step.at))
			if n := both(); n != step.runs {
				t.Fatalf("at +%v: %d runs, want %d", step.at, n, step.runs)
			}
		}
		if n := count(t, a, "SELECT COUNT(*) FROM ticks"); n != 4 {
			t.Fatalf("%d ticks recorded, want 4", n)
		}
		var next time.Time
		a.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT run_at FROM jobs WHERE done_at IS NULL AND failed_at IS NULL").Scan(&next)
		if n := pending(t, a); n != 1 || !next.Equal(t0.Add(7*time.Hour)) {
			t.Fatalf("%d pending runs, next at %v, want one at +7h", n, next)
		}
	})
}

// A recurring job that fails for good still schedules its next run.
func TestRecurringJobSurvivesAFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Backoff = time.Minute
		calls := 0
		r.Handle("scan", func(context.Context, jobs.Job) error {
			calls++
			return errors.New("always")
		})
		r.Every("scan", time.Hour)
		for _, at := range []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute, 15 * time.Minute,
			31 * time.Minute, 63 * time.Minute, 127 * time.Minute, 255 * time.Minute, 511 * time.Minute} {
			clk.Set(t0.Add(at))
			r.RunDue(context.Background())
		}
		if calls != jobs.DefaultMaxAttempts {
			t.Fatalf("%d tries, want %d", calls, jobs.DefaultMaxAttempts)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL"); n != 1 {
			t.Fatalf("%d failed runs, want 1", n)
		}
		if n := pending(t, d); n != 1 {
			t.Fatalf("%d pending runs after a failure, want the next one", n)
		}
	})
}

// A kind no runner handles waits, and shows in the stats.
func TestUnhandledKindWaits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Handle("known", func(context.Context, jobs.Job) error { return nil })
		enqueue(t, d, jobs.Job{Kind: "from-a-newer-release", RunAt: t0})
		clk.Set(t0.Add(time.Hour))
		runDue(t, r, 0)
		s, err := r.Stats(context.Background())
		if err != nil || s.Pending != 1 || s.Due != 1 || s.Lag != time.Hour {
			t.Fatalf("stats: %+v, %v", s, err)
		}
	})
}

// Handlers chain work: a follow-up enqueued in a handler's transaction is
// committed with it and runs in the same pass when due.
func TestHandlerSchedulesFollowUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := jobs.NewRunner(d, "n1", newClock().Now, quiet)
		var seen []string
		r.Handle("remind", func(ctx context.Context, j jobs.Job) error {
			seen = append(seen, "remind")
			return jobs.Enqueue(ctx, d, jobs.Job{Kind: "escalate", Key: "esc:" + j.Key, Payload: j.Payload})
		})
		r.Handle("escalate", func(ctx context.Context, j jobs.Job) error {
			seen = append(seen, "escalate "+string(j.Payload))
			return nil
		})
		enqueue(t, d, jobs.Job{Kind: "remind", Key: "case:9", Payload: json.RawMessage(`{"case":9}`)})
		runDue(t, r, 2)
		if got := strings.Join(seen, "; "); got != `remind; escalate {"case":9}` {
			t.Fatalf("ran: %s", got)
		}
	})
}

// An external handler runs outside any transaction; its failures are
// retried like the others.
func TestExternalHandler(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Backoff = time.Minute
		var sent []string
		fail := true
		r.HandleExternal("sms", func(ctx context.Context, j jobs.Job) error {
			if db.InTx(ctx) {
				t.Error("an external handler runs inside a transaction")
			}
			// It may use the database on its own terms.
			if _, err := r.Stats(ctx); err != nil {
				return err
			}
			if fail {
				fail = false
				return errors.New("gateway timeout")
			}
			sent = append(sent, string(j.Payload))
			return nil
		})
		enqueue(t, d, jobs.Job{Kind: "sms", Payload: json.RawMessage(`"13800000000"`)})
		runDue(t, r, 1)
		runDue(t, r, 0)
		clk.Set(t0.Add(time.Minute))
		runDue(t, r, 1)
		if len(sent) != 1 {
			t.Fatalf("sent %v", sent)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL AND attempts = 2 AND locked_until IS NULL"); n != 1 {
			t.Fatal("the external job is not recorded as done after two tries")
		}
	})
}

func TestPurgeKeepsPendingAndFailed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Handle("ok", func(context.Context, jobs.Job) error { return nil })
		r.Handle("bad", func(context.Context, jobs.Job) error { return errors.New("no") })
		for range 3 {
			enqueue(t, d, jobs.Job{Kind: "ok", RunAt: t0})
		}
		enqueue(t, d, jobs.Job{Kind: "bad", RunAt: t0, MaxAttempts: 1})
		enqueue(t, d, jobs.Job{Kind: "ok", RunAt: t0.Add(time.Hour)})
		runDue(t, r, 4)
		n, err := jobs.Purge(context.Background(), d, t0.Add(time.Second))
		if err != nil || n != 3 {
			t.Fatalf("purged %d (%v), want 3", n, err)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs"); n != 2 {
			t.Fatalf("%d jobs left, want the failed and the pending one", n)
		}
	})
}

// A failed SQL statement inside a handler (which aborts a PostgreSQL
// transaction) is a failed try like any other.
func TestHandlerSQLErrorIsAFailedTry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE once (n INTEGER PRIMARY KEY)")
		r := jobs.NewRunner(d, "n1", newClock().Now, quiet)
		r.Handle("dup", func(ctx context.Context, j jobs.Job) error {
			for range 2 {
				if _, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO once (n) VALUES (1)"); err != nil {
					return err
				}
			}
			return nil
		})
		enqueue(t, d, jobs.Job{Kind: "dup"})
		runDue(t, r, 1)
		if n := count(t, d, "SELECT COUNT(*) FROM once"); n != 0 {
			t.Fatalf("%d rows of the failed try committed", n)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE attempts = 1 AND last_error <> '' AND done_at IS NULL"); n != 1 {
			t.Fatal("the failed try was not recorded")
		}
	})
}

// A try whose transaction fails as a whole, here at commit on a deferred
// foreign key the handler broke, is counted too; otherwise such a job would
// run at every poll forever.
func TestTryFailingAtCommitIsCounted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE parent (id INTEGER PRIMARY KEY)")
		dbtest.Exec(t, d, `CREATE TABLE child (id INTEGER PRIMARY KEY,
			parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`)
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		// On SQLite a failed group commit fails every write in the group,
		// so another worker's empty claim would report this job's error
		// (the jobs are right either way; RunDue's error is not the point).
		r.Workers = 1
		r.Handle("orphan", func(ctx context.Context, j jobs.Job) error {
			_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO child (id, parent_id) VALUES ($1, 999)", j.ID)
			return err
		})
		enqueue(t, d, jobs.Job{Kind: "orphan", RunAt: t0, MaxAttempts: 2})
		runDue(t, r, 1)
		runDue(t, r, 0)
		clk.Set(t0.Add(time.Hour))
		runDue(t, r, 1)
		if n := count(t, d, "SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL AND attempts = 2 AND last_error <> ''"); n != 1 {
			t.Fatal("the job whose commit fails is not marked failed after two tries")
		}
		dbtest.Exec(t, d, "INSERT INTO parent (id) VALUES (999)")
		if n := count(t, d, "SELECT COUNT(*) FROM child"); n != 0 {
			t.Fatalf("%d rows of failed commits are there", n)
		}
	})
}

// The wait between tries doubles, up to MaxBackoff.
func TestBackoffDoublesUpToTheCap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := newClock()
		r := jobs.NewRunner(d, "n1", clk.Now, quiet)
		r.Backoff, r.MaxBackoff = 10*time.Second, 30*time.Second
		r.Handle("down", func(context.Context, jobs.Job) error { return errors.New("down") })
		enqueue(t, d, jobs.Job{Kind: "down", RunAt: t0})
		var waits []time.Duration
		for range 4 {
			runDue(t, r, 1)
			var next time.Time
			d.Q(context.Background()).QueryRowContext(context.Background(), "SELECT run_at FROM jobs").Scan(&next)
			waits = append(waits, next.Sub(clk.Now()))
			clk.Set(next)
		}
		if got := fmt.Sprint(waits); got != "[10s 20s 30s 30s]" {
			t.Fatalf("waits %s, want [10s 20s 30s 30s]", got)
		}
	})
}

// A node that dies in the middle of an external job loses it when its
// lease ends: another node runs it again (at least once), and the late
// node's outcome is ignored. A job whose lease ran out max_attempts times
// is failed rather than tried again.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	nodes(t, func(t *testing.T, a, b *db.DB) {
		clk := newClock()
		started, release := make(chan string), make(chan struct{})
		ra := jobs.NewRunner(a, "node-a", clk.Now, quiet)
		ra.Workers = 1
		ra.HandleExternal("sms", func(ctx context.Context, j jobs.Job) error {
			started <- j.Key
			<-release // the node hangs, as if dead
			return errors.New("late and wrong")
		})
		var bRan []string
		rb := jobs.NewRunner(b, "node-b", clk.Now, quiet)
		rb.HandleExternal("sms", func(ctx context.Context, j jobs.Job) error {
			bRan = append(bRan, j.Key)
			return nil
		})
		for _, key := range []string{"retried", "exhausted"} {
			max := 3
			if key == "exhausted" {
				max = 1
			}
			enqueue(t, a, jobs.Job{Kind: "sms", Key: key, RunAt: t0, MaxAttempts: max})
			clk.Set(t0)
			done := make(chan struct{})
			go func() {
				defer close(done)
				ra.RunDue(context.Background())
			}()
			if got := <-started; got != key {
				t.Fatalf("node-a took %s, want %s", got, key)
			}
			runDue(t, rb, 0) // leased by node-a
			clk.Set(t0.Add(5 * time.Minute))
			want := 1
			if key == "exhausted" {
				want = 0
			}
			runDue(t, rb, want)
			release <- struct{}{}
			<-done
		}
		if fmt.Sprint(bRan) != "[retried]" {
			t.Fatalf("node-b ran %v", bRan)
		}
		if n := count(t, a, "SELECT COUNT(*) FROM jobs WHERE key = 'retried' AND done_at IS NOT NULL AND locked_by = 'node-b' AND attempts = 2"); n != 1 {
			t.Fatal("the taken-over job is not recorded as done by node-b")
		}
		if n := count(t, a, "SELECT COUNT(*) FROM jobs WHERE key = 'exhausted' AND failed_at IS NOT NULL AND last_error LIKE '%lease%'"); n != 1 {
			t.Fatal("the job whose lease ran out on its last attempt is not failed")
		}
	})
}

// Run polls until its context ends; Kick wakes it before the interval.
func TestRunWakesOnKick(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := jobs.NewRunner(d, "n1", newClock().Now, quiet)
		r.Interval = time.Hour // only a kick can wake it in this test
		ran := make(chan string, 2)
		r.Handle("ping", func(ctx context.Context, j jobs.Job) error {
			ran <- j.Key
			return nil
		})
		enqueue(t, d, jobs.Job{Kind: "ping", Key: "first"})
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error)
		go func() { stopped <- r.Run(ctx) }()
		if k := <-ran; k != "first" {
			t.Fatalf("ran %s", k)
		}
		enqueue(t, d, jobs.Job{Kind: "ping", Key: "second"})
		r.Kick()
		if k := <-ran; k != "second" {
			t.Fatalf("ran %s", k)
		}
		cancel()
		if err := <-stopped; err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

// A poll that finds nothing due writes nothing: an idle node must leave the
// disk alone (on SQLite every write is a commit and a sync). Then the job,
// once due, runs.
func TestIdlePollsDoNotWrite(t *testing.T) {
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/jobs.db")
	clk := newClock()
	r := jobs.NewRunner(d, "n1", clk.Now, quiet)
	ran := 0
	r.Handle("later", func(ctx context.Context, j jobs.Job) error { ran++; return nil })
	enqueue(t, d, jobs.Job{Kind: "later", RunAt: t0.Add(time.Hour)})

	before := dbtest.Writes(t, d)
	for range 5 {
		runDue(t, r, 0)
	}
	if n := dbtest.Writes(t, d) - before; n != 0 {
		t.Errorf("five polls with nothing due made %v writes", n)
	}
	clk.Set(t0.Add(2 * time.Hour))
	runDue(t, r, 1)
	if ran != 1 || dbtest.Writes(t, d) == before {
		t.Errorf("the due job ran %d times, writes %v → %v", ran, before, dbtest.Writes(t, d))
	}
}
