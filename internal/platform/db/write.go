package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// txState is what one Write sees of its transaction. Nested Write calls
// join it; AfterCommit hooks wait for its commit.
type txState struct {
	// tx runs the write's SQL: the *sql.Tx on PostgreSQL; on SQLite the
	// group's transaction through the writer's prepared statements.
	tx          Querier
	group       *txGroup
	afterCommit []func()
	undo        []func() // OnUndo hooks, run newest first
}

// txGroup is what the writes sharing one database transaction share: on
// SQLite every write of a commit group, on PostgreSQL the one write.
type txGroup struct {
	shared       map[any]any
	beforeCommit []func(ctx context.Context) error
}

type txKey struct{}

func txFrom(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{}).(*txState)
	return st
}

// InTx reports whether ctx carries a write transaction.
func InTx(ctx context.Context) bool { return txFrom(ctx) != nil }

// AfterCommit runs fn once the transaction in ctx has committed (never if it
// rolls back). Outside a transaction it runs fn at once. Use it for work that
// must not happen for a write that did not land: cache invalidation,
// notifications to other nodes.
func AfterCommit(ctx context.Context, fn func()) {
	if st := txFrom(ctx); st != nil {
		st.afterCommit = append(st.afterCommit, fn)
		return
	}
	fn()
}

// Shared returns the value kept under key for the transaction of ctx, made
// by init on its first use there; ok is false outside a write transaction.
// On SQLite every write of a commit group sees the same value, one after the
// other on the writer goroutine; on PostgreSQL each transaction has its own.
// It lets a module carry what it learnt in the transaction (an audit chain's
// head) from one write to the next instead of reading and updating a row per
// write. Keep it right with OnUndo, and store it with BeforeCommit.
func Shared(ctx context.Context, key any, init func() any) (v any, ok bool) {
	st := txFrom(ctx)
	if st == nil {
		return nil, false
	}
	g := st.group
	if v, ok := g.shared[key]; ok {
		return v, true
	}
	if g.shared == nil {
		g.shared = map[any]any{}
	}
	v = init()
	g.shared[key] = v
	return v, true
}

// OnUndo runs fn if the work of the write in ctx is undone while its
// transaction goes on: on SQLite, when the write fails and only its
// savepoint rolls back, so that Shared state can forget what the write did.
// Hooks run newest first. (When the whole transaction rolls back, its
// Shared state goes with it.) Outside a transaction OnUndo does nothing.
func OnUndo(ctx context.Context, fn func()) {
	if st := txFrom(ctx); st != nil {
		st.undo = append(st.undo, fn)
	}
}

// BeforeCommit runs fn in the transaction of ctx after all its writes, just
// before the commit; an error rolls the transaction back, failing every
// write of the group. A hook belongs to the transaction, not to the write
// that added it: it runs even if that write was undone.
func BeforeCommit(ctx context.Context, fn func(ctx context.Context) error) {
	if st := txFrom(ctx); st != nil {
		st.group.beforeCommit = append(st.group.beforeCommit, fn)
	}
}

// runBeforeCommit runs the group's hooks with a context carrying the
// transaction; a hook may add more.
func (g *txGroup) runBeforeCommit(q Querier) error {
	ctx := context.WithValue(context.Background(), txKey{}, &txState{tx: q, group: g})
	for i := 0; i < len(g.beforeCommit); i++ {
		if err := callSafely(ctx, g.beforeCommit[i]); err != nil {
			return err
		}
	}
	return nil
}

// Write runs fn in a write transaction: everything fn does through d.Q(ctx)
// commits together or not at all. A Write inside fn joins the outer
// transaction. Write returns only after the commit is durable.
//
// On SQLite, fn runs on the single writer goroutine together with the
// functions of other concurrent calls, and one commit (one fsync) covers the
// group. fn must therefore be quick and do only database work: no network
// calls, no waiting on other writes. When fn fails, only its own work is
// undone: the group's transaction is rolled back and the other functions
// run again. fn may thus run more than once, on both engines (PostgreSQL
// repeats a transaction after a serialization failure): what it does
// outside the database must be safe to repeat, or wait for AfterCommit.
func (d *DB) Write(ctx context.Context, fn func(ctx context.Context) error) error {
	if txFrom(ctx) != nil {
		return fn(ctx)
	}
	if d.writer != nil {
		return d.writer.submit(ctx, fn)
	}
	return d.writePostgres(ctx, fn)
}

func (d *DB) writePostgres(ctx context.Context, fn func(ctx context.Context) error) error {
	const attempts = 3
	var err error
	for i := 0; i < attempts; i++ {
		var st *txState
		st, err = d.writePostgresOnce(ctx, fn)
		if err == nil {
			for _, h := range st.afterCommit {
				h()
			}
			return nil
		}
		if !isRetryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	return err
}

func (d *DB) writePostgresOnce(ctx context.Context, fn func(ctx context.Context) error) (*txState, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	st := &txState{tx: tx, group: &txGroup{}}
	err = callSafely(context.WithValue(ctx, txKey{}, st), fn)
	if err == nil {
		err = st.group.runBeforeCommit(tx)
	}
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	return st, tx.Commit()
}

// isRetryable reports PostgreSQL serialization failures and deadlocks, after
// which the whole transaction can simply run again.
func isRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

func callSafely(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in write transaction: %v", p)
		}
	}()
	return fn(ctx)
}

// writer is SQLite's group committer: one goroutine, one connection.
type writer struct {
	conn     *sql.Conn
	stmts    *connStmts // the connection's prepared statements
	reqs     chan *writeReq
	maxBatch int
	log      *slog.Logger
	mu       sync.RWMutex // guards closed against submit
	closed   bool
	// wal, when set, makes each commit durable before it is answered: see
	// walSyncer. Without it the groups are answered as they commit.
	wal      syncer
	answered chan []*writeReq // committed groups, to the syncer
	done     chan struct{}
	metrics  *writerMetrics
}

// syncer makes what the writer committed durable (walSyncer; tests put
// their own in its place).
type syncer interface {
	sync() error
	close()
}

type writeReq struct {
	ctx    context.Context
	fn     func(ctx context.Context) error
	st     *txState
	err    error
	done   chan struct{}
	queued time.Time
}

// startWriter starts the writer on the pool's one connection. With wal
// set, a group is answered only once the WAL holding its commit is synced.
func startWriter(pool *sql.DB, maxBatch int, log *slog.Logger, wal syncer) (*writer, error) {
	conn, err := pool.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	if maxBatch <= 0 {
		maxBatch = 512
	}
	// Sync with fdatasync(2), as SQLite built on Linux does: it makes the
	// data and the size needed to read it back durable, without forcing the
	// file's timestamps through the file system's journal, which is what an
	// fsync(2) mostly waits for. The transpiled library keeps fsync unless
	// told (its checkpoints still sync); the switch is process-wide and
	// harmless where it is not available.
	sqlite.Fdatasync(true)
	w := &writer{conn: conn, stmts: newConnStmts(conn), reqs: make(chan *writeReq, 4096), maxBatch: maxBatch, log: log,
		wal: wal, answered: make(chan []*writeReq, 64), done: make(chan struct{}), metrics: newWriterMetrics()}
	if wal != nil {
		// What was committed before the writer started (migrations) is
		// made durable now, before any write is answered.
		if err := wal.sync(); err != nil {
			conn.Close()
			return nil, err
		}
	}
	go w.answer()
	go w.loop()
	return w, nil
}

var errClosed = errors.New("database is closed")

func (w *writer) submit(ctx context.Context, fn func(ctx context.Context) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{}), queued: time.Now()}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Wait for the verdict even if ctx ends: once queued, the write may land.
	<-r.done
	if r.err == nil {
		for _, h := range r.st.afterCommit {
			h()
		}
	}
	return r.err
}

func (w *writer) stop() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.done
	w.stmts.close()
	w.conn.Close()
	if w.wal != nil {
		w.wal.close()
	}
}

// loop runs the groups one after the other and hands each, committed, to
// answer. It does not wait for the group's sync: the next group runs on the
// CPU while the disk makes the last one durable.
func (w *writer) loop() {
	defer close(w.answered)
	var lastCheckpoint time.Time
	for first := range w.reqs {
		batch := make([]*writeReq, 1, min(w.maxBatch, 64))
		batch[0] = first
	drain: // take whatever queued up while the last group was committing
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		started := time.Now()
		for _, r := range batch {
			w.metrics.wait.Observe(started.Sub(r.queued).Seconds())
		}
		w.commitGroup(batch)
		w.metrics.groups.Inc()
		w.metrics.writes.Add(float64(len(batch)))
		w.answered <- batch
		if len(w.reqs) == 0 && time.Since(lastCheckpoint) >= idleCheckpointEvery {
			lastCheckpoint = time.Now()
			w.checkpoint()
		}
	}
}

// idleCheckpointEvery is how often at most the writer checkpoints when no
// write is waiting.
const idleCheckpointEvery = 50 * time.Millisecond

// checkpoint copies the WAL into the database file while no write waits.
// SQLite would otherwise do it inside the commit that finds the WAL past
// walCheckpointPages, with every write queued behind it: at 1,000 reports
// a second (small groups, many pages each) that was a stall of 10–15 ms
// every 200 ms, most of the intake's p99. Done often, between groups, a
// checkpoint has little to copy; under a load that never leaves the
// writer idle SQLite's own still runs. Measured: p99 at 1,000/s and
// throughput both better in four alternating pairs (docs/benchmarks.md §6).
func (w *writer) checkpoint() {
	defer func(start time.Time) { w.metrics.checkpoint.Observe(since(start)) }(time.Now())
	if _, err := w.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		w.log.Warn("checkpoint between groups failed; SQLite's own will run", "err", err)
	}
}

// answer tells the callers of each committed group their verdict, after one
// sync of the WAL that covers every group committed so far (the WAL is
// written in commit order, so a sync that follows a group's commit makes it
// durable). Until then nobody is told "done"; readers may already see the
// rows, and a write that builds on them lands after them in the WAL, so it
// cannot be made durable without them.
func (w *writer) answer() {
	defer close(w.done)
	for batch := range w.answered {
		groups := [][]*writeReq{batch}
	more: // take every group committed while the last sync ran (unless
		// group commit is off: one sync per commit, for comparison)
		for w.maxBatch > 1 {
			select {
			case b, ok := <-w.answered:
				if !ok {
					break more
				}
				groups = append(groups, b)
			default:
				break more
			}
		}
		var err error
		if w.wal != nil {
			start := time.Now()
			err = w.wal.sync()
			w.metrics.sync.Observe(since(start))
			if err != nil {
				w.log.Error("syncing the WAL failed: the writes it held are not acknowledged", "err", err)
			}
		}
		answered := time.Now()
		for _, g := range groups {
			for _, r := range g {
				if err != nil && r.err == nil {
					r.err = err
				}
				w.metrics.durable.Observe(answered.Sub(r.queued).Seconds())
				close(r.done)
			}
		}
	}
}

// commitGroup runs a group of requests in one transaction and commits
// once; nobody is told "done" before the commit is on disk. A failing
// request must undo only its own work, which savepoints do, at a price: a
// savepoint copies every page a request changes into a journal of its own,
// and the commands cost statements. Failures inside a write are rare (most
// are caught before it), so the group runs first without savepoints; when
// one request fails, the transaction is rolled back, that request keeps its
// error, and the others run again, each in its own savepoint.
func (w *writer) commitGroup(batch []*writeReq) {
	live := make([]*writeReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	failed, err := w.runGroup(live, false)
	if err != nil {
		failAll(live, err)
		return
	}
	if failed == nil {
		return
	}
	rest := slices.DeleteFunc(live, func(r *writeReq) bool { return r == failed })
	if len(rest) == 0 {
		return
	}
	w.log.Debug("a write failed in a group: the others run again in savepoints", "requests", len(rest), "err", failed.err)
	if _, err := w.runGroup(rest, true); err != nil {
		failAll(rest, err)
	}
}

// runGroup runs reqs in one transaction and commits it. Without savepoints
// it stops at the first request that fails, rolls back and returns it; with
// them every request gets its own verdict. err is a failure of the
// transaction itself, which fails every request.
func (w *writer) runGroup(reqs []*writeReq, savepoints bool) (failed *writeReq, err error) {
	// The transaction must not die with one caller's context: SQLite's
	// interrupt would roll back the whole group.
	bg := context.Background()
	tx, err := w.conn.BeginTx(bg, nil)
	if err != nil {
		return nil, err
	}
	// Statements run on the writer's connection, inside the transaction
	// that tx began, through statements prepared once: parsing the same
	// INSERTs again in every transaction was a third of the writer's time.
	q := &writeTx{tx: tx, stmts: w.stmts}
	g := &txGroup{}
	for _, r := range reqs {
		r.st = &txState{tx: q, group: g}
		ctx := context.WithValue(context.WithoutCancel(r.ctx), txKey{}, r.st)
		if !savepoints {
			if r.err = callSafely(ctx, r.fn); r.err != nil {
				tx.Rollback()
				return r, nil
			}
			continue
		}
		if err := w.runInSavepoint(bg, q, r, ctx); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	if err := g.runBeforeCommit(q); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		w.log.Error("group commit failed", "requests", len(reqs), "err", err)
		return nil, err
	}
	return nil, nil
}

// runInSavepoint runs one request of a group; its failure rolls back its
// savepoint and its OnUndo hooks. The error returned is the savepoint's
// own, which ends the whole group.
func (w *writer) runInSavepoint(bg context.Context, q *writeTx, r *writeReq, ctx context.Context) error {
	if _, err := q.ExecContext(bg, "SAVEPOINT w"); err != nil {
		return err
	}
	if r.err = callSafely(ctx, r.fn); r.err != nil {
		if _, err := q.ExecContext(bg, "ROLLBACK TO w"); err != nil {
			return errors.Join(r.err, err)
		}
		for i := len(r.st.undo) - 1; i >= 0; i-- {
			r.st.undo[i]()
		}
	}
	_, err := q.ExecContext(bg, "RELEASE w")
	return err
}

// failAll marks every request that had not failed on its own as failed.
func failAll(batch []*writeReq, err error) {
	for _, r := range batch {
		if r.err == nil {
			r.err = err
		}
	}
}
