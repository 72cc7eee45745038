package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The writer's metrics count every write once, whether it committed or
// failed, in its wait and in its time until answered, and show the syncs
// and checkpoints that ran; PostgreSQL has no writer and no such metrics.
func TestWriterMetricsCountEveryWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(d.Collectors()...)
		if d.Kind == db.Postgres {
			if got := gather(t, reg); len(got) != 0 {
				t.Fatalf("PostgreSQL exposes writer metrics: %v", got)
			}
			return
		}
		dbtest.Exec(t, d, "CREATE TABLE notes (n INTEGER PRIMARY KEY)")
		before := gather(t, reg)
		const writes = 40
		var wg sync.WaitGroup
		for i := 1; i <= writes; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.Write(context.Background(), func(ctx context.Context) error {
					if i%10 == 0 {
						return errors.New("refused")
					}
					_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES ($1)", i)
					return err
				})
			}()
		}
		wg.Wait()
		after := gather(t, reg)
		delta := func(name string) float64 { return after[name] - before[name] }
		for _, name := range []string{"linli_db_writes_total", "linli_db_write_wait_seconds", "linli_db_write_seconds"} {
			if got := delta(name); got != writes {
				t.Errorf("%s grew by %v, want %d", name, got, writes)
			}
		}
		if groups := delta("linli_db_commit_groups_total"); groups < 1 || groups > writes {
			t.Errorf("%v commit groups for %d writes", groups, writes)
		}
		if syncs := delta("linli_db_wal_sync_seconds"); syncs < 1 {
			t.Errorf("%v syncs for %d acknowledged writes", syncs, writes)
		}
		if after["linli_db_checkpoint_seconds"] < 1 {
			t.Error("no checkpoint counted, though the writer ran idle")
		}
	})
}

// gather returns each metric's counter value, or its histogram's count of
// observations.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[f.GetName()] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[f.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
