package app

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db/dbtest"
)

// A node nobody uses leaves the disk alone: on SQLite every write is a
// commit and a sync, and a street office's small server may run for years
// on one disk. Its background work (jobs, counters, watchers) only reads
// while there is nothing to do.
func TestIdleNodeWritesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "idle.db"))
	time.Sleep(1500 * time.Millisecond) // the first polls: recurring jobs are enqueued and run once
	before := dbtest.Writes(t, s.App.DB)
	time.Sleep(3 * time.Second)
	if n := dbtest.Writes(t, s.App.DB) - before; n != 0 {
		t.Errorf("an idle node made %v writes in 3 s", n)
	}
}

// A report's counters reach the figures' tables in the background, with no
// reader asking for them: the loop on every node adds what is pending.
func TestPendingCountersAreAddedInTheBackground(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "flush.db"))
	rep := s.client(t).jsonCall("POST", "/api/v1/cases", `{"category":"E0101","description":"井盖松动","lat":37.4830,"lon":121.4262}`)
	if rep.Status != http.StatusCreated {
		t.Fatalf("report: %d %s", rep.Status, snippet(rep.Body))
	}
	pending := func() int {
		var n int
		if err := s.App.DB.Q(t.Context()).QueryRowContext(t.Context(), "SELECT COUNT(*) FROM case_stats_pending").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); pending() > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d counter rows still pending after 10 s", pending())
		}
	}
}
