// Package db opens Linli's database, SQLite (embedded, the default) or
// PostgreSQL (several nodes), and gives the modules one way to read and one
// way to write that behaves the same on both.
//
// All SQL is written once, with $N placeholders, in the subset both engines
// accept. Writes go through DB.Write: one transaction per call, joined by
// nested calls, and on SQLite committed in groups by a single writer so that
// every acknowledged write is on disk (synchronous=FULL) without paying one
// fsync per request.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/linli/linli/internal/platform/errs"
)

// Kind names the database engine.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Options configure Open.
type Options struct {
	// DSN is "sqlite:PATH" or "postgres://…" (also "postgresql://…").
	DSN string
	// Sync is SQLite's synchronous setting: "FULL" (default: an acknowledged
	// write survives power loss) or "NORMAL" (survives a process crash only).
	Sync string
	// MaxBatch caps how many write transactions share one commit on SQLite.
	// 1 turns group commit off (one fsync per commit), for comparison.
	MaxBatch int
	// ReadConns is the size of the read pool (default 2 × GOMAXPROCS, at least 4).
	ReadConns int
	// Migrate applies pending migrations while opening.
	Migrate bool
	Logger  *slog.Logger
}

// Querier is what stores use to run SQL; *sql.DB and *sql.Tx satisfy it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database.
type DB struct {
	Kind Kind
	// Path is the SQLite file ("" on PostgreSQL).
	Path   string
	read   *sql.DB
	write  *sql.DB
	reader *cachedReader // reads outside transactions, through prepared statements
	writer *writer       // SQLite only
	wal    *walSyncer    // SQLite with synchronous FULL: the writer syncs the WAL itself
	log    *slog.Logger
}

// Open connects, checks that the database answers, and starts the writer.
func Open(ctx context.Context, opt Options) (*DB, error) {
	kind, target, err := ParseDSN(opt.DSN)
	if err != nil {
		return nil, err
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	var d *DB
	switch kind {
	case SQLite:
		d, err = openSQLite(target, opt)
	default:
		d, err = openPostgres(target)
	}
	if err != nil {
		return nil, err
	}
	d.log = opt.Logger
	d.reader = &cachedReader{pool: d.read}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.write.PingContext(pingCtx); err != nil {
		d.Close()
		return nil, errs.E(errs.Unavailable, "err.db.unreachable", redact(opt.DSN), rootCause(err))
	}
	if opt.Migrate {
		if err := d.migrate(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	if kind == SQLite {
		if d.writer, err = startWriter(d.write, opt.MaxBatch, opt.Logger, d.syncer()); err != nil {
			d.Close()
			return nil, errs.E(errs.Unavailable, "err.db.unreachable", redact(opt.DSN), rootCause(err))
		}
	}
	return d, nil
}

// ParseDSN splits a --db value into its engine and the driver's target.
func ParseDSN(dsn string) (Kind, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" || strings.ContainsAny(path, "?#") {
			return "", "", errs.E(errs.Invalid, "err.db.dsn", dsn)
		}
		return SQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil || u.Host == "" {
			return "", "", errs.E(errs.Invalid, "err.db.dsn", redact(dsn))
		}
		return Postgres, dsn, nil
	default:
		return "", "", errs.E(errs.Invalid, "err.db.dsn", redact(dsn))
	}
}

// writerCacheKiB is the SQLite writer connection's page cache, and
// walCheckpointPages the WAL's size (in 4 KiB pages) that starts a checkpoint.
const (
	writerCacheKiB     = 64 << 10
	walCheckpointPages = 4000
)

func openSQLite(path string, opt Options) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, errs.E(errs.Unavailable, "err.db.dir", dir, err.Error())
		}
	}
	sync := strings.ToUpper(opt.Sync)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" && sync != "EXTRA" {
		return nil, errs.E(errs.Invalid, "err.db.sync", opt.Sync)
	}
	// busy_timeout comes first so that the pragmas after it wait for a lock
	// held by another process (a CLI command next to a running server).
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite&_pragma=temp_store(MEMORY)"
	// The writer's page cache is 64 MiB instead of SQLite's 2 MiB: a commit
	// group or a replay batch changes pages all over the case indexes, and
	// with the small cache SQLite spilled dirty pages into the WAL in the
	// middle of the transaction and read index pages back with a pread each
	// (a replay of 121,145 cases spent 8 % of its time there, growing with
	// the file). The cache takes memory only as pages are used.
	// A checkpoint (copying the WAL back into the database, with its own
	// syncs) runs once the WAL holds walCheckpointPages frames instead of
	// SQLite's 1,000: the pages every commit group changes again (the day's
	// roll-up rows, the audit heads, the indexes' right edges) are copied
	// once per checkpoint, not once per 1,000 frames. Commits stay as
	// durable: the WAL is synced for each commit group either way.
	// With FULL, SQLite commits at NORMAL and the writer syncs the WAL
	// itself before it answers, beside the next group (walsync.go).
	engineSync := sync
	if sync == "FULL" {
		engineSync = "NORMAL"
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous("+engineSync+")&_pragma=cache_size(-"+strconv.Itoa(writerCacheKiB)+")"+
		"&_pragma=wal_autocheckpoint("+strconv.Itoa(walCheckpointPages)+")&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer; the writer goroutine owns it.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil { // creates the file and switches to WAL before readers open it
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	n := opt.ReadConns
	if n <= 0 {
		n = max(4, 2*runtime.GOMAXPROCS(0))
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d := &DB{Kind: SQLite, Path: path, read: r, write: w}
	if sync == "FULL" {
		d.wal = newWALSyncer(path)
	}
	return d, nil
}

func openPostgres(dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, errs.E(errs.Invalid, "err.db.dsn", redact(dsn))
	}
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(16)
	p.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{Kind: Postgres, read: p, write: p}, nil
}

// Close stops the writer (after it has answered every queued write) and
// closes the pools.
func (d *DB) Close() error {
	if d.writer != nil {
		d.writer.stop()
	}
	if d.reader != nil {
		d.reader.close()
	}
	err := d.read.Close()
	if d.write != d.read {
		err = errors.Join(err, d.write.Close())
	}
	return err
}

// syncer is what makes the writer's commits durable: nil when SQLite does
// it itself (EXTRA) or nobody asked for it (NORMAL). A nil *walSyncer in
// the interface would not be a nil syncer, hence the check.
func (d *DB) syncer() syncer {
	if d.wal == nil {
		return nil
	}
	return d.wal
}

// Q returns the transaction carried by ctx, or the read pool.
func (d *DB) Q(ctx context.Context) Querier {
	if st := txFrom(ctx); st != nil {
		return st.tx
	}
	if tx, ok := ctx.Value(snapKey{}).(*sql.Tx); ok {
		return tx
	}
	return d.reader
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.read.PingContext(ctx) }

// ILike is a case-insensitive LIKE on both engines (SQLite's LIKE folds
// ASCII only, PostgreSQL's folds nothing).
func (d *DB) ILike(col string, arg int) string {
	return fmt.Sprintf("lower(%s) LIKE lower($%d)", col, arg)
}

// redact hides the password in a DSN before it reaches a message or a log.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// ReleaseMemory frees what SQLite's writer connection caches: after a bulk
// write, such as the demo's seeding, its page cache holds every page the
// write touched (up to writerCacheKiB) until asked, though an idle server
// needs none of them; pages are read back from the file when used again.
// Nothing to do on PostgreSQL.
func (d *DB) ReleaseMemory(ctx context.Context) error {
	if d.writer == nil {
		return nil
	}
	return d.Write(ctx, func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx, "PRAGMA shrink_memory")
		return err
	})
}
