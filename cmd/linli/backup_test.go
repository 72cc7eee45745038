package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/crypto"
)

// A backup taken while cases pour in is the database as of one commit:
// restored, it holds exactly the cases up to its last one, row for row as
// the source holds them, with their events, and nothing after. A restore
// onto a running server, with another master key, or from a damaged file
// is refused and changes nothing.
func TestBackupUnderLoadRestoresOneMoment(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := startLinli(ctx, intakeOptions{dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	source, key := "sqlite:"+filepath.Join(dir, "linli.db"), filepath.Join(dir, "linli.key")

	g, err := newGenerator(srv.url, loadSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.fetchCategories(ctx); err != nil {
		t.Fatal(err)
	}
	led := &ledger{sent: map[string][]byte{}}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crashClient(loadCtx, g, led, mrand.New(mrand.NewPCG(1, uint64(i))))
		}()
	}
	waitAcked(t, led, 200)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if out, code := runQuiet(ctx, "backup", "--db", source, "--key-file", key, "--to", backup); code != 0 {
		t.Fatalf("backup under load: exit %d: %s", code, out)
	}
	waitAcked(t, led, led.acked()+200) // the source moves on past the backup
	stopLoad()
	wg.Wait()

	// A restore onto the running server's database is refused.
	before := count(t, source, "cases")
	if out, code := runQuiet(ctx, "restore", "--db", source, "--key-file", key, "--from", backup); code == 0 || !strings.Contains(out, "in use") {
		t.Fatalf("restore onto a running server: exit %d: %s", code, out)
	}
	if after := count(t, source, "cases"); after != before {
		t.Fatalf("the refused restore changed the running database: %d cases, then %d", before, after)
	}

	target := "sqlite:" + filepath.Join(t.TempDir(), "restored", "linli.db")
	if out, code := runQuiet(ctx, "restore", "--db", target, "--key-file", key, "--from", backup); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, out)
	}
	restored := count(t, target, "cases")
	if restored < 200 || restored >= before {
		t.Fatalf("the backup holds %d cases; the source had %d after the load", restored, before)
	}
	last := maxID(t, target)
	for _, table := range []struct{ name, upTo string }{
		{"cases", "id"}, {"case_events", "case_id"},
	} {
		q := fmt.Sprintf("SELECT * FROM %s WHERE %s <= %d ORDER BY id", table.name, table.upTo, last)
		if a, b := dump(t, source, q), dump(t, target, q); a != b {
			t.Errorf("%s up to case %d differ between the source and the restored backup", table.name, last)
		}
	}
	if n := count(t, target, "cases WHERE id > "+fmt.Sprint(last)); n != 0 {
		t.Fatalf("%d cases after the last one", n)
	}
	if out, code := runQuiet(ctx, "audit", "verify", "--db", target, "--key-file", key); code != 0 {
		t.Fatalf("audit verify on the restored database: exit %d: %s", code, out)
	}

	// Another master key, or a damaged file: refused, the restored
	// database untouched.
	otherKey := filepath.Join(t.TempDir(), "other.key")
	if _, _, err := crypto.LoadOrCreateKey(otherKey); err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	data, _ := os.ReadFile(backup)
	os.WriteFile(damaged, data[:len(data)/3], 0o600)
	for _, tc := range []struct{ name, from, key, want string }{
		{"another key", backup, otherKey, "another master key"},
		{"damaged file", damaged, key, "damaged"},
		{"missing file", damaged + ".nope", key, "not found"},
	} {
		out, code := runQuiet(ctx, "restore", "--db", target, "--key-file", tc.key, "--from", tc.from)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, %q; want a refusal saying %q", tc.name, code, out, tc.want)
		}
	}
	if n := count(t, target, "cases"); n != restored {
		t.Fatalf("refused restores changed the database: %d cases, then %d", restored, n)
	}

	if out, code := runQuiet(ctx, "backup", "--db", "postgres://nobody@127.0.0.1:1/none", "--to", backup); code == 0 || !strings.Contains(out, "pg_dump") {
		t.Fatalf("backup of PostgreSQL: exit %d: %s", code, out)
	}
}

// runQuiet runs a linli command in this process and returns its output.
func runQuiet(ctx context.Context, args ...string) (string, int) {
	var out bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &out, &out)
	return out.String(), code
}

func waitAcked(t *testing.T, led *ledger, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for led.acked() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d cases acknowledged in a minute; want %d", led.acked(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openSQLite(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func count(t *testing.T, dsn, from string) int {
	t.Helper()
	var n int
	if err := openSQLite(t, dsn).QueryRow("SELECT COUNT(*) FROM " + from).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func maxID(t *testing.T, dsn string) int64 {
	t.Helper()
	var n int64
	if err := openSQLite(t, dsn).QueryRow("SELECT MAX(id) FROM cases").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// dump renders every row of a query as text, for comparing two databases.
func dump(t *testing.T, dsn, query string) string {
	t.Helper()
	rows, err := openSQLite(t, dsn).Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
