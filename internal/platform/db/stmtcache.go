package db

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
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
	stmts map[string]*connStmt
}

// connStmt is a prepared statement whose $N placeholders became SQLite's
// anonymous ? (see positional); order maps each ? to its argument.
type connStmt struct {
	*sql.Stmt
	order []int // nil: the arguments go as given
}

const maxConnStmts = 512

func newConnStmts(conn *sql.Conn) *connStmts {
	return &connStmts{conn: conn, stmts: map[string]*connStmt{}}
}

// stmt returns the prepared statement for query, or nil when it cannot be
// prepared or the cache is full: the caller then runs the query plainly,
// which also reports a bad query's error as usual.
func (c *connStmts) stmt(ctx context.Context, query string) *connStmt {
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if len(c.stmts) >= maxConnStmts {
		return nil
	}
	text, order, ok := positional(query)
	if !ok {
		text, order = query, nil
	}
	ps, err := c.conn.PrepareContext(ctx, text)
	if err != nil {
		return nil
	}
	s := &connStmt{Stmt: ps, order: order}
	c.stmts[query] = s
	return s
}

// args arranges the caller's arguments for the statement's placeholders;
// ok is false when they do not fit (the plain query then reports it).
func (s *connStmt) args(args []any) ([]any, bool) {
	if s.order == nil {
		return args, true
	}
	out := make([]any, len(s.order))
	for i, j := range s.order {
		if j >= len(args) {
			return nil, false
		}
		out[i] = args[j]
	}
	return out, true
}

func (c *connStmts) close() {
	for _, s := range c.stmts {
		s.Close()
	}
}

// positional rewrites query's $N placeholders as anonymous ? and returns,
// for each ?, the index of its argument. The SQLite driver looks up every
// parameter's name while binding, and SQLite finds a name by a linear
// search, so a statement with n $N parameters binds in O(n²): a 64-row
// upsert of counters (1,280 parameters) spent most of the writer's time
// there. Anonymous parameters have no names to search. order is nil when
// the arguments can go as they are ($1 … $n, each once, in order); ok is
// false for a query with any other kind of parameter, which stays as it is.
func positional(query string) (out string, order []int, ok bool) {
	var b strings.Builder
	b.Grow(len(query))
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"' || ch == '`' || ch == '[':
			end := ch
			if ch == '[' {
				end = ']'
			}
			j := strings.IndexByte(query[i+1:], end)
			if j < 0 {
				return "", nil, false
			}
			b.WriteString(query[i : i+j+2]) // a doubled quote is two literals in a row: the same text
			i += j + 1
		case ch == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i - 1
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case ch == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return "", nil, false
			}
			b.WriteString(query[i : i+j+4])
			i += j + 3
		case ch == '$':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(query[i+1 : j])
			if err != nil || n < 1 {
				return "", nil, false
			}
			order = append(order, n-1)
			b.WriteByte('?')
			i = j - 1
		case ch == '?' || ch == ':' || ch == '@':
			return "", nil, false
		default:
			b.WriteByte(ch)
		}
	}
	for i, j := range order {
		if i != j {
			return b.String(), order, true
		}
	}
	return b.String(), nil, true
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
		if a, ok := s.args(args); ok {
			return s.ExecContext(ctx, a...)
		}
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := q.stmts.stmt(ctx, query); s != nil {
		if a, ok := s.args(args); ok {
			return s.QueryContext(ctx, a...)
		}
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := q.stmts.stmt(ctx, query); s != nil {
		if a, ok := s.args(args); ok {
			return s.QueryRowContext(ctx, a...)
		}
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
