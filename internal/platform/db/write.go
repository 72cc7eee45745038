package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// txState is the write transaction a context carries. Nested Write calls
// join it; AfterCommit hooks wait for its commit.
type txState struct {
	tx          *sql.Tx
	afterCommit []func()
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

// Write runs fn in a write transaction: everything fn does through d.Q(ctx)
// commits together or not at all. A Write inside fn joins the outer
// transaction. Write returns only after the commit is durable.
//
// On SQLite, fn runs on the single writer goroutine together with the
// functions of other concurrent calls, each inside its own savepoint, and
// one commit (one fsync) covers the group. fn must therefore be quick and do
// only database work: no network calls, no waiting on other writes.
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
	st := &txState{tx: tx}
	if err := callSafely(context.WithValue(ctx, txKey{}, st), fn); err != nil {
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
	reqs     chan *writeReq
	maxBatch int
	log      *slog.Logger
	mu       sync.RWMutex // guards closed against submit
	closed   bool
	done     chan struct{}
}

type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context) error
	st   *txState
	err  error
	done chan struct{}
}

func startWriter(pool *sql.DB, maxBatch int, log *slog.Logger) (*writer, error) {
	conn, err := pool.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	if maxBatch <= 0 {
		maxBatch = 512
	}
	w := &writer{conn: conn, reqs: make(chan *writeReq, 4096), maxBatch: maxBatch, log: log, done: make(chan struct{})}
	go w.loop()
	return w, nil
}

var errClosed = errors.New("database is closed")

func (w *writer) submit(ctx context.Context, fn func(ctx context.Context) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
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
	w.conn.Close()
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*writeReq, 0, w.maxBatch)
	for first := range w.reqs {
		batch = append(batch[:0], first)
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
		w.commitGroup(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// commitGroup runs each request in its own savepoint inside one transaction,
// so that one failure undoes only its own work, then commits once. Nobody is
// told "done" before the commit is on disk.
func (w *writer) commitGroup(batch []*writeReq) {
	// The transaction must not die with one caller's context: SQLite's
	// interrupt would roll back the whole group.
	bg := context.Background()
	tx, err := w.conn.BeginTx(bg, nil)
	if err != nil {
		failAll(batch, err)
		return
	}
	single := len(batch) == 1
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		r.st = &txState{tx: tx}
		ctx := context.WithValue(context.WithoutCancel(r.ctx), txKey{}, r.st)
		if single { // no savepoint needed: the transaction is the request
			r.err = callSafely(ctx, r.fn)
			break
		}
		if _, err := tx.ExecContext(bg, "SAVEPOINT w"); err != nil {
			tx.Rollback()
			failAll(batch, err)
			return
		}
		if r.err = callSafely(ctx, r.fn); r.err != nil {
			if _, err := tx.ExecContext(bg, "ROLLBACK TO w"); err != nil {
				tx.Rollback()
				failAll(batch, errors.Join(r.err, err))
				return
			}
		}
		if _, err := tx.ExecContext(bg, "RELEASE w"); err != nil {
			tx.Rollback()
			failAll(batch, err)
			return
		}
	}
	if single && batch[0].err != nil {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		w.log.Error("group commit failed", "requests", len(batch), "err", err)
		failAll(batch, err)
	}
}

// failAll marks every request that had not failed on its own as failed.
func failAll(batch []*writeReq, err error) {
	for _, r := range batch {
		if r.err == nil {
			r.err = err
		}
	}
}
