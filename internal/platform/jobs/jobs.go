// Package jobs runs Linli's background work: deadline reminders, overdue
// flags, escalations up the area tree, notifications, recurring upkeep.
// Jobs are rows of the jobs table, so they survive restarts and are shared
// by every node; each node runs a Runner that polls for due jobs.
//
// # Guarantees
//
// A job scheduled with Enqueue inside a write transaction exists if and only
// if that transaction commits: a case and its reminder land together.
// A pending job's key is unique, so scheduling the same reminder twice is a
// no-op.
//
// Exactly once for database effects. A handler registered with Handle runs
// inside the db.Write transaction that also marks its job done, so its
// writes and the "done" mark commit together or not at all. If the handler
// returns an error or panics, its writes are rolled back (to a savepoint
// taken before it ran) and the failure is recorded in the same transaction:
// attempts is incremented and the job is retried after an exponential
// backoff (Runner.Backoff doubling up to Runner.MaxBackoff), until
// max_attempts, when it is marked failed with last_error and logged. A
// handler may therefore be called more than once, but only one call's
// writes ever commit.
//
// At least once for anything outside the database. An e-mail sent, an SMS,
// a call to another system cannot be rolled back: if the node dies, or the
// commit fails, after such a call, the job runs again. Such handlers must be
// idempotent (the receiver deduplicates by a key derived from the job) or
// write an outbox row in the transaction and leave the sending to a handler
// registered with HandleExternal. HandleExternal runs its handler outside any
// transaction, under a lease (Runner.Lease): a node that dies mid-job loses
// the lease when it expires and another node takes the job over.
//
// # Several nodes
//
// Every node runs a Runner on the same database and registers the same
// kinds. On PostgreSQL a runner claims one due job per transaction with
// SELECT … FOR UPDATE SKIP LOCKED, and holds the row lock while the handler
// runs: no other node can run the job, and a node that dies mid-job releases
// it by rolling back, so no lease is needed. On SQLite, where one writer
// (one per process, and SQLite's file lock between processes) serialises all
// writes, the claim is a plain SELECT inside the write transaction. A
// runner only claims kinds it has a handler for, so a node running an older
// binary leaves new kinds to the nodes that know them.
//
// Recurring work (Runner.Every) is one pending job per kind, keyed; the
// transaction that runs it schedules the next run, so it runs once per
// interval however many nodes there are.
//
// # Handlers
//
// A Handle handler runs inside a write transaction: on SQLite, on the single
// writer goroutine, while every other write of the process waits. It must do
// quick database work only, through d.Q(ctx) or d.Write(ctx, …) with the
// context it is given (a Write on another context would wait for the writer
// it is running on, forever). Anything slow or outside the database belongs
// in a HandleExternal handler.
//
// Time comes from the runner's clock, so that tests and simulations move
// time forward and call RunDue instead of sleeping.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/linli/linli/internal/platform/db"
)

// DefaultMaxAttempts is how many times a job is tried when Job.MaxAttempts
// is 0.
const DefaultMaxAttempts = 10

// asap is the run time stored for a job enqueued without one: due whatever
// the runner's clock says, which also holds for simulated clocks set in the
// past.
var asap = time.Unix(0, 0).UTC()

// Job is one unit of background work.
type Job struct {
	ID int64
	// Kind selects the handler ("case.remind", "notify.sms").
	Kind string
	// Key, when set, names the job so that it is scheduled at most once:
	// Enqueue does nothing while a pending job has the same key, and Cancel
	// and Reschedule find the job by it ("case:42:remind").
	Key string
	// Payload is the handler's input, as JSON.
	Payload json.RawMessage
	// RunAt is when the job becomes due; zero means at once, whatever the
	// runner's clock says (handlers then see zero too).
	RunAt time.Time
	// Attempts counts earlier tries (0 on the first run).
	Attempts int
	// MaxAttempts is how many tries before the job is marked failed
	// (DefaultMaxAttempts when 0).
	MaxAttempts int
}

// Enqueue schedules j. It joins the write transaction of ctx when there is
// one, so that the job exists only if that transaction commits. It does
// nothing when a pending job has the same key.
func Enqueue(ctx context.Context, d *db.DB, j Job) error {
	if j.Kind == "" {
		return errors.New("jobs: Enqueue needs a kind")
	}
	if len(j.Payload) > 0 && !json.Valid(j.Payload) {
		return fmt.Errorf("jobs: the payload of a %s job is not JSON", j.Kind)
	}
	return d.Write(ctx, func(ctx context.Context) error { return insert(ctx, d, j, time.Now()) })
}

// insert adds j unless a pending job has its key. The ON CONFLICT clause
// names no target, which both engines accept and which covers the partial
// unique index on pending keys; unlike a check before inserting, it holds
// when two transactions enqueue the same key at once.
func insert(ctx context.Context, d *db.DB, j Job, now time.Time) error {
	payload := "null"
	if len(j.Payload) > 0 {
		payload = string(j.Payload)
	}
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = asap
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	_, err := d.Q(ctx).ExecContext(ctx, `INSERT INTO jobs (kind, key, payload, run_at, max_attempts, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		j.Kind, nullIfEmpty(j.Key), payload, ts(runAt), maxAttempts, ts(now))
	return err
}

// Cancel drops the pending job with key, if any (the reminder of a case
// closed early). A job that is running when Cancel is called finishes; on
// PostgreSQL Cancel waits for it and then finds nothing to drop.
func Cancel(ctx context.Context, d *db.DB, key string) error {
	return d.Write(ctx, func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx,
			"DELETE FROM jobs WHERE key = $1 AND done_at IS NULL AND failed_at IS NULL", key)
		return err
	})
}

// Reschedule moves the pending job with key to runAt (a deadline that was
// extended). It does nothing when no job with key is pending; to move or
// else create a job, call Reschedule and then Enqueue in one transaction.
func Reschedule(ctx context.Context, d *db.DB, key string, runAt time.Time) error {
	if runAt.IsZero() {
		runAt = asap
	}
	return d.Write(ctx, func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx,
			"UPDATE jobs SET run_at = $1 WHERE key = $2 AND done_at IS NULL AND failed_at IS NULL", ts(runAt), key)
		return err
	})
}

// Purge deletes jobs that finished successfully before before, a thousand
// per transaction so that the writer is never held for long, and returns
// how many it deleted. Failed jobs are kept for an operator to look at.
func Purge(ctx context.Context, d *db.DB, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := d.Write(ctx, func(ctx context.Context) error {
			res, err := d.Q(ctx).ExecContext(ctx, `DELETE FROM jobs WHERE id IN
				(SELECT id FROM jobs WHERE done_at IS NOT NULL AND done_at < $1 LIMIT 1000)`, ts(before))
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// ts is how times are stored: UTC, so that SQLite's text timestamps
// compare in order, at PostgreSQL's microsecond precision.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
