package cases_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// On SQLite the server keeps the open cases' points in memory for the
// duplicate search. Another process writing to the same file (a CLI import
// next to the server) is noticed within about a second: its reports are
// then offered as duplicates, and the cases it closes no longer are.
func TestDuplicatesSeeAnotherProcessesCases(t *testing.T) {
	dsn := dbtest.Engines(t)[db.SQLite]
	f := setup(t, dbtest.Open(t, dsn))
	d2 := dbtest.Open(t, dsn) // the other process: its own connections and writer
	clock := func() time.Time { return f.now }
	log2 := audit.New(d2, clock)
	box, _ := crypto.New(bytes.Repeat([]byte{7}, crypto.KeySize))
	accts2 := auth.NewService(d2, log2, clock)
	other := cases.NewService(d2, log2, box, area.NewService(d2, log2, accts2, clock), wallClock{}, clock)

	f.report(t, "路面塌陷") // the server's first search loads its map
	if !eventually(t, f.svc.NearMapLoaded) {
		t.Fatal("the open cases' points were never loaded")
	}
	// This process's own moves show at once.
	mine := f.report(t, "路面塌陷，本进程")
	if again := f.report(t, "路面塌陷，又一次"); !slices.ContainsFunc(again.Duplicates, func(d cases.Duplicate) bool { return d.Number == mine.Number }) {
		t.Fatalf("a case reported a moment ago was not offered: %+v", again.Duplicates)
	}
	f.act(t, "staff", mine.Number, cases.Request{Action: cases.ActReject, Note: "测试"})
	if again := f.report(t, "路面塌陷，再一次"); slices.ContainsFunc(again.Duplicates, func(d cases.Duplicate) bool { return d.Number == mine.Number }) {
		t.Fatalf("a rejected case was offered: %+v", again.Duplicates)
	}
	p := orb.Point{121.445, 37.465}
	theirs, err := other.Report(context.Background(), cases.NewCase{Category: "E0101", Description: "路面塌陷，另一进程", Point: &p})
	if err != nil {
		t.Fatal(err)
	}
	offered := func() bool {
		for _, d := range f.report(t, "路面塌陷了").Duplicates {
			if d.Number == theirs.Number {
				return true
			}
		}
		return false
	}
	if !eventually(t, offered) {
		t.Fatal("a case another process reported was never offered as a duplicate")
	}
	// The other process closes it (rejects it): it must no longer be offered.
	p2 := auth.WithPrincipal(context.Background(), auth.System())
	if _, err := other.Act(audit.WithActor(p2, audit.Actor{Name: "cli"}), theirs.Number,
		cases.Request{Action: cases.ActReject, Note: "重复"}); err != nil {
		t.Fatal(err)
	}
	if !eventually(t, func() bool { return !offered() }) {
		t.Fatal("a case another process rejected is still offered")
	}
}

// When the open cases' points cannot be read (here: their index is
// missing), the duplicate search goes on in SQL and the map stays
// unloaded, tried again (and logged) about once a second rather than on
// every search; once the points can be read again, the map is loaded.
func TestDuplicatesWithoutTheMap(t *testing.T) {
	d := dbtest.Open(t, dbtest.Engines(t)[db.SQLite])
	f := setup(t, d)
	warnings := captureWarnings(t)
	dbtest.Exec(t, d, "DROP INDEX cases_near")
	first := f.report(t, "井盖缺失")
	const window = 1500 * time.Millisecond
	for deadline := time.Now().Add(window); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		again := f.report(t, "井盖缺失，又一次")
		if !slices.ContainsFunc(again.Duplicates, func(d cases.Duplicate) bool { return d.Number == first.Number }) {
			t.Fatalf("without the map, the first report was not offered: %+v", again.Duplicates)
		}
		if f.svc.NearMapLoaded() {
			t.Fatal("the map was loaded although its query cannot run")
		}
	}
	// A try at the first search and one a second after: with the 30 or so
	// searches of the window, a try per search would be ten times more.
	if n := warnings(); n < 1 || n > 3 {
		t.Errorf("%d warnings in %v of searches, want a failed load tried about once a second", n, window)
	}
	dbtest.Exec(t, d, `CREATE INDEX cases_near ON cases (category_id, near_cell, created_at, lat, lon)
		WHERE state <> 'rejected' AND state <> 'closed' AND state <> 'merged'`)
	loaded := func() bool {
		f.report(t, "井盖缺失，再一次") // a search is what starts a load
		return f.svc.NearMapLoaded()
	}
	if !eventually(t, loaded) {
		t.Fatal("the map was not loaded once the points could be read again")
	}
	if again := f.report(t, "井盖缺失，第四次"); !slices.ContainsFunc(again.Duplicates,
		func(d cases.Duplicate) bool { return d.Number == first.Number }) {
		t.Fatalf("from the map, the first report was not offered: %+v", again.Duplicates)
	}
}

// captureWarnings counts what is logged at warning level or above through
// slog's default logger until the test ends (cases logs there from
// goroutines of its own).
func captureWarnings(t *testing.T) func() int {
	var mu sync.Mutex
	var n int
	prev := slog.Default()
	slog.SetDefault(slog.New(countingHandler{mu: &mu, n: &n}))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

type countingHandler struct {
	mu *sync.Mutex
	n  *int
}

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h countingHandler) Handle(context.Context, slog.Record) error {
	h.mu.Lock()
	*h.n++
	h.mu.Unlock()
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// eventually polls cond for a few seconds: another process's writes are
// noticed within about a second, not at once.
func eventually(t *testing.T, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
