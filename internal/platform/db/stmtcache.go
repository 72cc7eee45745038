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
