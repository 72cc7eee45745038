package jobs_test

import (
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/jobs"
)

// The collector counts what the queue holds: due jobs, all pending jobs,
// and jobs that failed for good in the last day (not older failures, not
// finished jobs).
func TestCollectorCountsTheQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, at := range []time.Duration{-time.Hour, -time.Minute, time.Hour} {
			enqueue(t, d, jobs.Job{Kind: "k", RunAt: t0.Add(at)})
		}
		enqueue(t, d, jobs.Job{Kind: "gone", RunAt: t0.Add(-2 * time.Hour)})
		enqueue(t, d, jobs.Job{Kind: "old", RunAt: t0.Add(-72 * time.Hour)})
		enqueue(t, d, jobs.Job{Kind: "done", RunAt: t0.Add(-3 * time.Hour)})
		dbtest.Exec(t, d, "UPDATE jobs SET failed_at = $1 WHERE kind = 'gone'", t0.Add(-time.Hour))
		dbtest.Exec(t, d, "UPDATE jobs SET failed_at = $1 WHERE kind = 'old'", t0.Add(-48*time.Hour))
		dbtest.Exec(t, d, "UPDATE jobs SET done_at = $1 WHERE kind = 'done'", t0.Add(-time.Hour))
		reg := prometheus.NewRegistry()
		reg.MustRegister(jobs.NewCollector(d, func() time.Time { return t0 }))
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			got[f.GetName()] = f.GetMetric()[0].GetGauge().GetValue()
		}
		want := map[string]float64{"linli_jobs_due": 2, "linli_jobs_pending": 3, "linli_jobs_failed_24h": 1}
		if !maps.Equal(got, want) {
			t.Fatalf("collected %v, want %v", got, want)
		}
	})
}
