package app

import (
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
