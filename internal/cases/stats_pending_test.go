package cases_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// A report's counters wait in case_stats_pending, and a reading of the
// figures adds them in first: the dashboard counts the report at once.
func TestAReadingCountsThePendingCounters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.report(t, "路灯不亮")
		if n, err := cases.PendingStats(ctx, f.svc); err != nil || n == 0 {
			t.Fatalf("the report's counters were not queued: %d pending (%v)", n, err)
		}
		k, err := f.svc.KPIs(f.as["staff"], cases.KPIQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if k.Reported != 1 {
			t.Fatalf("the dashboard counts %d reports, want the one just made", k.Reported)
		}
		if n, err := cases.PendingStats(ctx, f.svc); err != nil || n != 0 {
			t.Fatalf("%d rows still pending after a reading (%v)", n, err)
		}
	})
}

// Several appliers at once (the job on two nodes, readers) add each
// pending row in exactly once, on both engines.
func TestConcurrentFlushesCountEachMoveOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for i := range 300 { // more than one applier's batch
			f.report(t, fmt.Sprintf("第%d次反映：垃圾满溢", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errs <- cases.FlushStats(ctx, f.svc) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, err := cases.PendingStats(ctx, f.svc); err != nil || n != 0 {
			t.Fatalf("%d rows still pending (%v)", n, err)
		}
		if err := f.svc.VerifyStats(ctx); err != nil {
			t.Fatal(err)
		}
		k, err := f.svc.KPIs(f.as["staff"], cases.KPIQuery{})
		if err != nil || k.Reported != 300 {
			t.Fatalf("%d reports counted, want 300 (%v)", k.Reported, err)
		}
	})
}
