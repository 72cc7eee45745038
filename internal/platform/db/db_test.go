package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Q(context.Background()).QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Concurrent writers share commits, yet each one's failure undoes only its
// own rows: the others are all there.
func TestWriteGroupsIsolateFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE notes (n INTEGER PRIMARY KEY)")
		var wg sync.WaitGroup
		results := make([]error, 200)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = d.Write(context.Background(), func(ctx context.Context) error {
					if _, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES ($1)", i); err != nil {
						return err
					}
					switch i % 10 {
					case 3:
						return errors.New("refused")
					case 7:
						panic("boom")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range results {
			if failed := i%10 == 3 || i%10 == 7; failed != (err != nil) {
				t.Fatalf("write %d: err = %v", i, err)
			}
			want := 1
			if i%10 == 3 || i%10 == 7 {
				want = 0
			}
			if got := count(t, d, "SELECT COUNT(*) FROM notes WHERE n = $1", i); got != want {
				t.Fatalf("row %d present %d times, want %d", i, got, want)
			}
		}
	})
}

// A Write inside a Write joins it: the outer failure undoes both.
func TestNestedWriteJoinsOuter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE notes (n INTEGER PRIMARY KEY)")
		ran := false
		err := d.Write(context.Background(), func(ctx context.Context) error {
			d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES (1)")
			if err := d.Write(ctx, func(ctx context.Context) error {
				_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES (2)")
				return err
			}); err != nil {
				return err
			}
			db.AfterCommit(ctx, func() { ran = true })
			return errors.New("changed my mind")
		})
		if err == nil || ran {
			t.Fatalf("err = %v, after-commit ran = %v", err, ran)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM notes"); n != 0 {
			t.Fatalf("%d rows left behind by a failed transaction", n)
		}
		if err := d.Write(context.Background(), func(ctx context.Context) error {
			db.AfterCommit(ctx, func() { ran = true })
			_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES (3)")
			return err
		}); err != nil || !ran {
			t.Fatalf("err = %v, after-commit ran = %v", err, ran)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE names (name TEXT PRIMARY KEY)")
		insert := func() error {
			return d.Write(context.Background(), func(ctx context.Context) error {
				_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO names (name) VALUES ('a')")
				return err
			})
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		if err := insert(); !db.IsUnique(err) {
			t.Fatalf("second insert: %v, want a unique violation", err)
		}
	})
}

func TestMigrationsAreIdempotentAndCurrent(t *testing.T) {
	for kind, dsn := range dbtest.Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			dbtest.Open(t, dsn).Close()
			d := dbtest.Open(t, dsn) // second run: nothing to do, no error
			v, err := d.SchemaVersion(context.Background())
			if err != nil || v != db.LatestVersion() || v == 0 {
				t.Fatalf("schema version %d (%v), want %d", v, err, db.LatestVersion())
			}
		})
	}
}

// Several nodes starting at once on one PostgreSQL: one migrates, the others
// wait for it and find nothing to do.
func TestNodesMigrateTogether(t *testing.T) {
	base := os.Getenv("LINLI_TEST_POSTGRES")
	if base == "" {
		t.Skip("LINLI_TEST_POSTGRES not set")
	}
	dsn := dbtest.FreshPostgres(t, base)
	var wg sync.WaitGroup
	errsSeen := make([]error, 3)
	for i := range errsSeen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := db.Open(context.Background(), db.Options{DSN: dsn, Migrate: true})
			if err == nil {
				d.Close()
			}
			errsSeen[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errsSeen {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
}

func TestBadDSNsAreRefusedClearly(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "postgres://", "sqlite:a.db?mode=ro", "postgres://%zz"} {
		_, _, err := db.ParseDSN(dsn)
		if errs.CodeOf(err) != errs.Invalid {
			t.Errorf("ParseDSN(%q) = %v, want invalid", dsn, err)
		}
	}
	// A server that does not answer: a clear "unavailable", not a hang.
	_, err := db.Open(context.Background(), db.Options{DSN: "postgres://linli:secret@127.0.0.1:1/linli?connect_timeout=2"})
	e := errs.As(err)
	if e.Code != errs.Unavailable || e.Key != "err.db.unreachable" {
		t.Fatalf("unreachable server: %v", err)
	}
	if s := fmt.Sprint(e.Args...); strings.Contains(s, "secret") {
		t.Fatalf("the password leaked into the message: %s", s)
	}
}

// Releasing the writer's memory after a bulk write keeps what was written
// and leaves the database writable.
func TestReleaseMemoryKeepsTheData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE notes (n INTEGER PRIMARY KEY, body TEXT NOT NULL)")
		err := d.Write(context.Background(), func(ctx context.Context) error {
			for i := range 2000 {
				if _, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n, body) VALUES ($1, $2)", i, strings.Repeat("x", 500)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.ReleaseMemory(context.Background()); err != nil {
			t.Fatal(err)
		}
		dbtest.Exec(t, d, "INSERT INTO notes (n, body) VALUES (2000, 'after')")
		if n := count(t, d, "SELECT COUNT(*) FROM notes WHERE length(body) = 500 OR body = 'after'"); n != 2001 {
			t.Errorf("%d rows after the release, want 2001", n)
		}
	})
}
