package db

import (
	"context"
	"database/sql"
	"sync"
)

// cachedReader runs reads outside transactions through prepared
// statements kept per query text. SQLite otherwise parses and plans the
// same few queries (session, user, grants) on every request; a profile of
// the logged-in home page put a quarter of its time there. The cache is
// bounded by the number of distinct query texts in the program: queries
// take their values as arguments, never spliced into the text.
type cachedReader struct {
	pool  *sql.DB
	stmts sync.Map // query text → *sql.Stmt
	mu    sync.Mutex
}

func (c *cachedReader) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts.Store(query, s)
	return s, nil
}

func (c *cachedReader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (c *cachedReader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := c.stmt(ctx, query)
	if err != nil {
		// sql.Row carries its error to Scan; a plain query reports it the same way.
		return c.pool.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// ExecContext is for completeness: writes go through Write, and SQLite's
// read pool refuses them (query_only).
func (c *cachedReader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.pool.ExecContext(ctx, query, args...)
}

func (c *cachedReader) close() {
	c.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
}

// connStmts are the SQLite writer connection's prepared statements, by
// query text. Only the writer goroutine uses them, so they need no lock.
// The same bound as the read cache holds; maxConnStmts guards against a
// caller that splices values into the text after all.
type connStmts struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

const maxConnStmts = 512

func newConnStmts(conn *sql.Conn) *connStmts {
	return &connStmts{conn: conn, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the prepared statement for query, or nil when it cannot be
// prepared or the cache is full: the caller then runs the query plainly,
// which also reports a bad query's error as usual.
func (c *connStmts) stmt(ctx context.Context, query string) *sql.Stmt {
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if len(c.stmts) >= maxConnStmts {
		return nil
	}
	s, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.stmts[query] = s
	return s
}

func (c *connStmts) close() {
	for _, s := range c.stmts {
		s.Close()
	}
}

// writeTx runs a commit group's SQL. The statements are bound to the
// writer's connection rather than to tx, but SQLite's transaction belongs
// to the connection, so they run inside the transaction tx began, and its
// commit or rollback covers them. (database/sql cannot reuse a statement
// across transactions: Tx.Stmt prepares a connection-bound statement anew.)
type writeTx struct {
	tx    *sql.Tx
	stmts *connStmts
}

func (q *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := q.stmts.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := q.stmts.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := q.stmts.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
