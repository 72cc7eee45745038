package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/crypto"
)

// A sound deployment passes every check; a wrong key, a job no node runs
// and an unreachable database are each named with what to do.
func TestDoctor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn, key := "sqlite:"+filepath.Join(dir, "linli.db"), filepath.Join(dir, "linli.key")
	if out, code := runQuiet(ctx, "migrate", "--db", dsn, "--key-file", key); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	out, code := runQuiet(ctx, "doctor", "--db", dsn, "--key-file", key)
	if code != 0 || strings.Contains(out, "✗") || strings.Count(out, "✓") != 5 {
		t.Fatalf("a sound deployment: exit %d\n%s", code, out)
	}

	other := filepath.Join(t.TempDir(), "other.key")
	if _, _, err := crypto.LoadOrCreateKey(other); err != nil {
		t.Fatal(err)
	}
	if out, code := runQuiet(ctx, "doctor", "--db", dsn, "--key-file", other); code == 0 || !strings.Contains(out, "✗ key") {
		t.Fatalf("another key: exit %d\n%s", code, out)
	}
	if out, code := runQuiet(ctx, "doctor", "--db", dsn, "--key-file", filepath.Join(dir, "missing.key")); code == 0 || !strings.Contains(out, "✗ key") {
		t.Fatalf("no key file: exit %d\n%s", code, out)
	}

	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "linli.db"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).UTC()
	if _, err := raw.Exec(`INSERT INTO jobs (kind, run_at, max_attempts, created_at) VALUES ('case.remind', $1, 3, $1)`, old); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if out, code := runQuiet(ctx, "doctor", "--db", dsn, "--key-file", key); code == 0 || !strings.Contains(out, "✗ jobs") || !strings.Contains(out, "1 jobs due") {
		t.Fatalf("a job no node runs: exit %d\n%s", code, out)
	}

	if out, code := runQuiet(ctx, "doctor", "--db", "postgres://nobody@127.0.0.1:1/none"); code == 0 || !strings.Contains(out, "cannot reach") {
		t.Fatalf("unreachable database: exit %d\n%s", code, out)
	}
}
