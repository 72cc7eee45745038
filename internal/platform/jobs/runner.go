package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/platform/db"
)

// Handler does the work of one job. Its error, or its panic, counts as a
// failed try.
type Handler func(ctx context.Context, j Job) error

// Runner runs due jobs on one node. Set its fields before calling Run or
// RunDue; register handlers at any time.
type Runner struct {
	// Interval is the time between two polls in Run (default 1 s).
	Interval time.Duration
	// Workers is how many jobs the runner works on at once (default 4). On
	// SQLite they share the single writer, and their commits are grouped.
	Workers int
	// Backoff is the wait before the first retry (default 10 s); it doubles
	// with each further failure, up to MaxBackoff (default 1 h).
	Backoff, MaxBackoff time.Duration
	// Lease is how long a HandleExternal handler may run before another
	// node may take its job over (default 5 min).
	Lease time.Duration

	d    *db.DB
	node string
	now  func() time.Time
	log  *slog.Logger
	kick chan struct{}

	mu       sync.Mutex
	handlers map[string]handler
	every    map[string]time.Duration
	ensured  map[string]bool
	// busy lists the jobs this runner's workers hold, which its claims
	// pass over: after a try whose transaction failed, the job is due again
	// until the failure is recorded, and another worker must not take it
	// in between (on SQLite, into the same group commit, failing it again).
	busy map[int64]bool
}

type handler struct {
	fn       Handler
	external bool // runs outside the transaction, under a lease
}

// NewRunner returns a runner for the node named node (unique among the
// nodes sharing d; it is recorded on the jobs the node runs). clock is
// time.Now when nil, log slog.Default() when nil.
func NewRunner(d *db.DB, node string, clock func() time.Time, log *slog.Logger) *Runner {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		Interval: time.Second, Workers: 4, Backoff: 10 * time.Second, MaxBackoff: time.Hour, Lease: 5 * time.Minute,
		d: d, node: node, now: clock, log: log, kick: make(chan struct{}, 1),
		handlers: map[string]handler{}, every: map[string]time.Duration{}, ensured: map[string]bool{},
		busy: map[int64]bool{},
	}
}

// Handle registers h for jobs of kind. h runs inside the write transaction
// that marks the job done: see the package documentation for what it may
// do. Registering a kind twice panics.
func (r *Runner) Handle(kind string, h Handler) { r.register(kind, handler{fn: h}) }

// HandleExternal registers h for jobs of kind whose work leaves the
// database (sending an e-mail or an SMS). h runs outside any transaction,
// with a context that ends when the lease does; the job is marked done
// afterwards, so h may run more than once and must be idempotent.
func (r *Runner) HandleExternal(kind string, h Handler) {
	r.register(kind, handler{fn: h, external: true})
}

func (r *Runner) register(kind string, h handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[kind]; dup {
		panic("jobs: two handlers for kind " + kind)
	}
	r.handlers[kind] = h
}

// Every makes kind recurring: one pending job of kind (keyed "every:kind")
// is kept, first due when the runner next polls, and each run schedules
// the next one interval after the previous run time (skipping runs missed
// while no node was up). Every node should call Every with the same
// interval, as it calls Handle.
func (r *Runner) Every(kind string, interval time.Duration) {
	if interval <= 0 {
		panic("jobs: Every needs a positive interval")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.every[kind] = interval
	delete(r.ensured, kind)
}

func everyKey(kind string) string { return "every:" + kind }

// Kick wakes Run so that it polls now rather than at the next interval
// (after a request enqueued a job that should run at once).
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run polls for due jobs and runs them until ctx ends. Errors of the
// database are logged and the poll retried at the next interval.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-t.C:
		}
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("jobs: poll failed", "node", r.node, "err", err)
		}
		t.Reset(r.Interval)
	}
}

// RunDue runs every job that is due by the runner's clock, including jobs
// that become due while it runs, and returns how many handler calls it
// made. A handler's failure is recorded on its job, not returned; the error
// is the database's.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	if err := r.ensureRecurring(ctx); err != nil {
		return 0, err
	}
	kinds := r.kinds()
	if len(kinds) == 0 {
		return 0, nil
	}
	var (
		mu    sync.Mutex
		total int
		errs  []error
		wg    sync.WaitGroup
	)
	for range max(1, r.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := r.drain(ctx, kinds)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// drain runs jobs one at a time until none is due.
func (r *Runner) drain(ctx context.Context, kinds []string) (int, error) {
	n := 0
	for ctx.Err() == nil {
		claimed, ran, err := r.runOne(ctx, kinds)
		if ran {
			n++
		}
		if err != nil || !claimed {
			return n, err
		}
	}
	return n, nil
}

func (r *Runner) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r *Runner) lookup(kind string) (handler, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handlers[kind], r.every[kind]
}

// ensureRecurring enqueues the first run of each recurring kind not yet
// known to be scheduled. Enqueue's key makes this a no-op when another
// node, or an earlier run of this one, already did.
func (r *Runner) ensureRecurring(ctx context.Context) error {
	r.mu.Lock()
	var todo []string
	for kind := range r.every {
		if !r.ensured[kind] {
			todo = append(todo, kind)
		}
	}
	r.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	now := r.now()
	err := r.d.Write(ctx, func(ctx context.Context) error {
		for _, kind := range todo {
			if err := insert(ctx, r.d, Job{Kind: kind, Key: everyKey(kind), RunAt: now}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	for _, kind := range todo {
		r.ensured[kind] = true
	}
	r.mu.Unlock()
	return nil
}

// outcome is what a transaction did to a job, logged once it committed.
type outcome struct {
	job    *Job
	ran    bool
	err    error // the handler's
	failed bool  // given up
	next   time.Time
}

// runOne claims the next due job and runs it. claimed is false when no job
// was due.
func (r *Runner) runOne(ctx context.Context, kinds []string) (claimed, ran bool, err error) {
	if due, err := r.anyDue(ctx, kinds); err != nil || !due {
		return false, false, err
	}
	var out outcome
	var external Handler
	var held []int64
	defer func() { r.setBusy(false, held...) }()
	err = r.d.Write(ctx, func(ctx context.Context) error {
		out, external = outcome{}, nil // PostgreSQL may run this again after a deadlock
		now := ts(r.now())
		j, err := r.claim(ctx, kinds, now)
		if err != nil || j == nil {
			return err
		}
		out.job = j
		held = append(held, j.ID)
		r.setBusy(true, j.ID)
		h, _ := r.lookup(j.Kind)
		if !h.external {
			return r.runInTx(ctx, j, h.fn, &out, now)
		}
		if j.Attempts >= j.MaxAttempts { // its node died with it, too often
			out.err = errors.New("the lease ran out on every attempt")
			return r.finish(ctx, j, &out, now, false)
		}
		external = h.fn
		_, err = r.d.Q(ctx).ExecContext(ctx,
			"UPDATE jobs SET attempts = attempts + 1, locked_by = $1, locked_until = $2 WHERE id = $3",
			r.node, now.Add(r.Lease), j.ID)
		return err
	})
	if err != nil {
		if out.job != nil && ctx.Err() == nil {
			// The transaction failed after claiming, e.g. its commit (a
			// deferred constraint the handler broke). Count the try, or a
			// job that can never commit would be retried at every poll.
			err = r.recordBrokenTry(ctx, out.job, err)
		}
		return out.job != nil && err == nil, out.ran, err
	}
	if out.job == nil {
		return false, false, nil
	}
	if external != nil {
		return true, true, r.runExternal(ctx, out.job, external)
	}
	r.report(&out)
	return true, out.ran, nil
}

// claim selects the oldest due job of a kind this runner handles, locking
// it on PostgreSQL. SKIP LOCKED makes concurrent claimers (other workers,
// other nodes) pass over jobs being run instead of waiting for them.
// SQLite has no row locks and needs none: the claim runs inside the write
// transaction, which has the database to itself. The dialect switch lives
// here rather than in platform/db because only a job queue needs it.
func (r *Runner) claim(ctx context.Context, kinds []string, now time.Time) (*Job, error) {
	var args db.Args
	q := "SELECT id, kind, COALESCE(key, ''), payload, run_at, attempts, max_attempts FROM jobs WHERE " + dueWhere(&args, kinds, now)
	if busy := r.busyIDs(); len(busy) > 0 {
		q += " AND id NOT IN (" + db.In(&args, busy) + ")"
	}
	q += " ORDER BY run_at, id LIMIT 1"
	if r.d.Kind == db.Postgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	rows, err := db.All(ctx, r.d.Q(ctx), scanJob, q, args...)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// anyDue says, from a read, whether a job of kinds is due. Most polls find
// none, and a claim is a write: on SQLite it queues behind every other
// write and its commit syncs the disk, which made an idle node sync
// several times a second with nothing to store. A job claimed by another
// worker in between is simply not found by the claim.
func (r *Runner) anyDue(ctx context.Context, kinds []string) (bool, error) {
	var args db.Args
	var one int
	err := r.d.Q(ctx).QueryRowContext(ctx, "SELECT 1 FROM jobs WHERE "+dueWhere(&args, kinds, ts(r.now()))+" LIMIT 1", args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// dueWhere is the condition of the jobs of kinds due at now and not leased.
func dueWhere(args *db.Args, kinds []string, now time.Time) string {
	at := args.Add(now)
	return "done_at IS NULL AND failed_at IS NULL AND run_at <= " + at +
		" AND (locked_until IS NULL OR locked_until <= " + at + ") AND kind IN (" + db.In(args, kinds) + ")"
}

func (r *Runner) setBusy(busy bool, ids ...int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if busy {
			r.busy[id] = true
		} else {
			delete(r.busy, id)
		}
	}
}

func (r *Runner) busyIDs() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int64, 0, len(r.busy))
	for id := range r.busy {
		out = append(out, id)
	}
	return out
}

func scanJob(s db.Scanner) (Job, error) {
	var c Job
	var payload string
	err := s.Scan(&c.ID, &c.Kind, &c.Key, &payload, &c.RunAt, &c.Attempts, &c.MaxAttempts)
	c.Payload = []byte(payload)
	if c.RunAt = c.RunAt.UTC(); c.RunAt.Equal(asap) {
		c.RunAt = time.Time{} // enqueued to run at once
	}
	return c, err
}

// call runs h, turning a panic into an error.
func (r *Runner) call(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			r.log.Error("jobs: handler panicked", "kind", j.Kind, "job", j.ID, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	return h(ctx, j)
}

// savepoint is taken before an in-transaction handler runs, so that its
// failure undoes its own writes and leaves the transaction usable for
// recording the failure: the failed try is counted in the same commit that
// undoes it, and no other claimer can see the job due in between. It also
// recovers a PostgreSQL transaction that a failed statement aborted.
const savepoint = "linli_job"

// runInTx runs h inside the claiming transaction, between a savepoint and
// the update that records how it went.
func (r *Runner) runInTx(ctx context.Context, j *Job, h Handler, out *outcome, now time.Time) error {
	q := r.d.Q(ctx)
	if _, err := q.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
		return err
	}
	out.ran = true
	out.err = r.call(ctx, h, *j)
	if out.err != nil {
		if _, err := q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepoint); err != nil {
			return errors.Join(out.err, err)
		}
	}
	if _, err := q.ExecContext(ctx, "RELEASE SAVEPOINT "+savepoint); err != nil {
		return err
	}
	return r.finish(ctx, j, out, now, true)
}

// finish records out on j: done, retried later, or failed for good; a
// recurring job's next run is scheduled when this one is over either way.
// countTry adds this try to attempts (an external try was counted when it
// was claimed).
func (r *Runner) finish(ctx context.Context, j *Job, out *outcome, now time.Time, countTry bool) error {
	q := r.d.Q(ctx)
	inc := 0
	if countTry {
		inc = 1
	}
	tries := j.Attempts + 1
	var err error
	switch {
	case out.err == nil:
		_, err = q.ExecContext(ctx, `UPDATE jobs SET done_at = $1, attempts = attempts + $2, locked_by = $3,
			locked_until = NULL, last_error = '' WHERE id = $4`, now, inc, r.node, j.ID)
	case tries >= j.MaxAttempts:
		out.failed = true
		_, err = q.ExecContext(ctx, `UPDATE jobs SET failed_at = $1, attempts = attempts + $2, locked_by = $3,
			locked_until = NULL, last_error = $4 WHERE id = $5`, now, inc, r.node, errorText(out.err), j.ID)
	default:
		out.next = now.Add(r.backoff(tries))
		_, err = q.ExecContext(ctx, `UPDATE jobs SET run_at = $1, attempts = attempts + $2, locked_by = NULL,
			locked_until = NULL, last_error = $3 WHERE id = $4`, out.next, inc, errorText(out.err), j.ID)
	}
	if err != nil {
		return err
	}
	if out.err != nil && !out.failed {
		return nil
	}
	if _, interval := r.lookup(j.Kind); interval > 0 && j.Key == everyKey(j.Kind) {
		return insert(ctx, r.d, Job{Kind: j.Kind, Key: j.Key, RunAt: nextRun(j.RunAt, interval, now)}, now)
	}
	return nil
}

// backoff is the wait after the tries-th failed try.
func (r *Runner) backoff(tries int) time.Duration {
	d := r.Backoff
	for i := 1; i < tries && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// nextRun is the first time after now on the grid prev + k·interval.
func nextRun(prev time.Time, interval time.Duration, now time.Time) time.Time {
	if prev.IsZero() {
		prev = now
	}
	next := prev.Add(interval)
	if next.After(now) {
		return next
	}
	return prev.Add((now.Sub(prev)/interval + 1) * interval)
}

// recordBrokenTry counts a try whose transaction failed as a whole, in a
// write of its own.
func (r *Runner) recordBrokenTry(ctx context.Context, j *Job, cause error) error {
	out := outcome{job: j, ran: true, err: cause}
	err := r.d.Write(ctx, func(ctx context.Context) error {
		out.failed, out.next = false, time.Time{}
		return r.finish(ctx, j, &out, ts(r.now()), true)
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	r.report(&out)
	return nil
}

// runExternal runs h outside any transaction, then records the outcome if
// this node still holds the job: a node whose lease ran out and whose job
// was taken over leaves the outcome to the node that took it.
func (r *Runner) runExternal(ctx context.Context, j *Job, h Handler) error {
	hctx, cancel := context.WithTimeout(ctx, r.Lease)
	herr := r.call(hctx, h, *j)
	cancel()
	out := outcome{job: j, ran: true, err: herr}
	held := false
	err := r.d.Write(ctx, func(ctx context.Context) error {
		out.failed, out.next = false, time.Time{}
		var n int
		err := r.d.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE id = $1 AND locked_by = $2
			AND done_at IS NULL AND failed_at IS NULL`, j.ID, r.node).Scan(&n)
		if held = n == 1; err != nil || !held {
			return err
		}
		return r.finish(ctx, j, &out, ts(r.now()), false)
	})
	if err != nil {
		return err
	}
	if !held {
		r.log.Warn("jobs: lease lost before the job finished; another node runs it again",
			"kind", j.Kind, "job", j.ID, "node", r.node, "err", herr)
		return nil
	}
	r.report(&out)
	return nil
}

// report logs a committed outcome.
func (r *Runner) report(out *outcome) {
	j := out.job
	switch {
	case out.err == nil:
	case out.failed:
		r.log.Error("jobs: job failed for good", "kind", j.Kind, "job", j.ID, "key", j.Key,
			"attempts", j.Attempts+1, "node", r.node, "err", out.err)
	default:
		r.log.Warn("jobs: job failed, will retry", "kind", j.Kind, "job", j.ID, "key", j.Key,
			"attempts", j.Attempts+1, "retry_at", out.next, "node", r.node, "err", out.err)
	}
}

// errorText is last_error: the error's text, cut to a size a row can hold.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = strings.ToValidUTF8(s[:2000], "")
	}
	return s
}

// Stats are the numbers an operator watches (exported as metrics).
type Stats struct {
	Pending int64 // waiting, due or not
	Due     int64 // pending and due now; a growing number means the nodes fall behind or a kind has no handler
	Failed  int64 // given up after max attempts; kept until purged by hand
	// Lag is how long the oldest due job has been waiting (0 when none is).
	Lag time.Duration
}

// Stats counts the jobs table by the runner's clock.
func (r *Runner) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	now := ts(r.now())
	q := r.d.Q(ctx)
	err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN run_at <= $1 THEN 1 ELSE 0 END), 0)
		FROM jobs WHERE done_at IS NULL AND failed_at IS NULL`, now).Scan(&s.Pending, &s.Due)
	if err != nil {
		return s, err
	}
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL").Scan(&s.Failed); err != nil {
		return s, err
	}
	if s.Due > 0 {
		var oldest, created time.Time
		if err := q.QueryRowContext(ctx, `SELECT run_at, created_at FROM jobs WHERE done_at IS NULL AND failed_at IS NULL
			AND run_at <= $1 ORDER BY run_at LIMIT 1`, now).Scan(&oldest, &created); err != nil {
			return s, err
		}
		if oldest.Equal(asap) { // due since it was enqueued
			oldest = created
		}
		s.Lag = max(0, now.Sub(oldest))
	}
	return s, nil
}

// Repeat calls fn every interval on this node until ctx ends: for work
// that is safe on every node at once and cheap when there is nothing to do,
// which needs no job row (a job's claim and reschedule are writes).
func Repeat(ctx context.Context, interval time.Duration, fn func(ctx context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}
