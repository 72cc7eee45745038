// Package dbtest gives tests a fresh, migrated database: SQLite always, and
// PostgreSQL too whenever LINLI_TEST_POSTGRES names a server. Each PostgreSQL
// run gets a schema of its own, so parallel runs never see each other's data.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/prometheus/client_golang/prometheus"
)

// Engines returns the DSNs to test against, by engine name. The PostgreSQL
// one is a fresh schema that is dropped when t ends.
func Engines(t testing.TB) map[db.Kind]string {
	t.Helper()
	out := map[db.Kind]string{db.SQLite: "sqlite:" + filepath.Join(t.TempDir(), "linli.db")}
	if pg := os.Getenv("LINLI_TEST_POSTGRES"); pg != "" {
		out[db.Postgres] = FreshPostgres(t, pg)
	}
	return out
}

// Each runs fn once per engine, on a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for kind, dsn := range Engines(t) {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, Open(t, dsn))
		})
	}
}

// Open opens and migrates dsn, closing it when t ends.
func Open(t testing.TB, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Options{DSN: dsn, Migrate: true})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// FreshPostgres creates an empty schema on the server named by base and
// returns a DSN whose search_path points at it.
func FreshPostgres(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("LINLI_TEST_POSTGRES: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("LINLI_TEST_POSTGRES %s: create schema: %v", base, err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", base)
		if err == nil {
			c.Exec("DROP SCHEMA " + schema + " CASCADE")
			c.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("LINLI_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement in a write transaction of its own, failing t
// if it fails.
func Exec(t testing.TB, d *db.DB, q string, args ...any) {
	t.Helper()
	if err := d.Write(context.Background(), func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx, q, args...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// SQLitePlan is SQLite's EXPLAIN QUERY PLAN of query on a fresh, migrated
// database, its steps joined with "; ": for tests that a query reads the
// index it was written for.
func SQLitePlan(t testing.TB, query string, args ...any) string {
	t.Helper()
	d := Open(t, Engines(t)[db.SQLite])
	rows, err := d.Q(t.Context()).QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "; ")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// Writes is how many writes SQLite's single writer has run so far,
// committed or failed, from its metrics (0 on PostgreSQL, which has none).
func Writes(t testing.TB, d *db.DB) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "linli_db_writes_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
