package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	sqlite "modernc.org/sqlite"

	"github.com/linli/linli/internal/platform/errs"
)

// A SQLite deployment is one file: attachments (photos, documents) are rows
// of the database, so a copy of the database is a copy of everything except
// the master key, which is kept apart on purpose (a stolen backup without it
// shows no ID or phone number).

// Backup writes a consistent copy of a SQLite database to path while the
// program runs. SQLite's online backup copies every page inside one read
// transaction: writers go on meanwhile (WAL), and the copy is the database
// as of one commit. The copy is written beside path, checked, synced and
// then renamed, so path is either the old file or a complete new one.
// PostgreSQL has its own tools (pg_dump, base backups with WAL archiving);
// see docs/operations.md.
func (d *DB) Backup(ctx context.Context, path string) (bytes int64, err error) {
	if d.Kind != SQLite {
		return 0, errs.E(errs.Invalid, "err.backup.postgres")
	}
	part := path + ".part"
	os.Remove(part)
	defer os.Remove(part) // gone after the rename; left over only on failure
	if err := d.copyPages(ctx, part); err != nil {
		return 0, err
	}
	// The copy carries the source's WAL flag; a backup is a file at rest,
	// better kept in rollback mode so that opening it (for a check, by
	// restore) creates no -wal and -shm beside it.
	if err := setJournal(ctx, part, "DELETE"); err != nil {
		return 0, err
	}
	if err := quickCheck(ctx, part); err != nil {
		return 0, err
	}
	if err := syncFile(part); err != nil {
		return 0, err
	}
	if err := os.Rename(part, path); err != nil {
		return 0, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// backuper is what the SQLite driver's connection offers for the online
// backup API.
type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// copyPages runs the online backup in one step (-1: all pages), so that it
// holds a single read transaction from the first page to the last.
func (d *DB) copyPages(ctx context.Context, dst string) error {
	conn, err := d.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(backuper)
		if !ok {
			return errors.New("db: the SQLite driver offers no backup")
		}
		b, err := c.NewBackup(dst)
		if err != nil {
			return err
		}
		for more := true; more; {
			if more, err = b.Step(-1); err != nil {
				b.Finish()
				return err
			}
		}
		return b.Finish()
	})
}

func setJournal(ctx context.Context, path, mode string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ExecContext(ctx, "PRAGMA journal_mode="+mode)
	return err
}

// quickCheck opens a SQLite file read-only and runs PRAGMA quick_check: a
// file that is not a database, is truncated or has broken pages fails.
func quickCheck(ctx context.Context, path string) error {
	c, err := openFile(path)
	if err != nil {
		return err
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil || res != "ok" {
		if err == nil {
			err = errors.New(res)
		}
		return errs.E(errs.Invalid, "err.backup.damaged", path, err.Error())
	}
	return nil
}

// openFile opens an existing SQLite file read-only, for checks.
func openFile(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, errs.E(errs.Invalid, "err.backup.missing", path)
	}
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	return c, nil
}

// RestoreSQLite replaces the SQLite database at path with the backup at
// from. check, when set, reads the backup (read-only) before anything is
// replaced, e.g. to refuse one made with another master key. The server
// must be stopped: while any process has the database open the restore
// refuses and changes nothing. The old database's WAL is checkpointed and
// removed before the new file is renamed into place, so that no stale log
// is ever applied to the restored file.
func RestoreSQLite(ctx context.Context, from, path string, check func(*sql.DB) error) error {
	if err := quickCheck(ctx, from); err != nil {
		return err
	}
	if check != nil {
		c, err := openFile(from)
		if err != nil {
			return err
		}
		err = check(c)
		c.Close()
		if err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	part := path + ".restore"
	defer os.Remove(part)
	if err := copyFile(from, part); err != nil {
		return err
	}
	release, err := lockOut(ctx, path)
	if err != nil {
		return err
	}
	defer release()
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(part, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// lockOut takes the database at path for this process alone. Opened in
// exclusive locking mode, it is switched out of WAL: SQLite does that only
// for the database's sole user, checkpointing the log into the file and
// deleting it, and keeps the exclusive lock afterwards. A database that
// another process has open (a running server) is refused at once, with
// nothing changed. A path with no database yet needs no lock.
func lockOut(ctx context.Context, path string) (release func(), err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	var mode string
	err = c.QueryRowContext(ctx, "PRAGMA journal_mode=DELETE").Scan(&mode)
	if err == nil && mode != "delete" {
		err = errors.New("database is locked")
	}
	if err != nil {
		c.Close()
		if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
			return nil, errs.E(errs.Conflict, "err.backup.in_use", path)
		}
		return nil, err
	}
	return func() { c.Close() }, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
