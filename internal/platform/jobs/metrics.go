package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/platform/db"
)

// Collector reports the job queue to Prometheus at each scrape, read from
// the table every node shares, so that any node's /metrics shows the whole
// deployment's queue: jobs due and waiting (a backlog means no node is
// keeping up, or none runs), all pending jobs, and jobs that failed for
// good in the last day. Each figure is one count on a partial index.
type Collector struct {
	db  *db.DB
	now func() time.Time

	due, pending, failed *prometheus.Desc
}

// NewCollector returns the queue's collector.
func NewCollector(d *db.DB, now func() time.Time) *Collector {
	return &Collector{db: d, now: now,
		due:     prometheus.NewDesc("linli_jobs_due", "Background jobs due now and not yet run, on every node.", nil, nil),
		pending: prometheus.NewDesc("linli_jobs_pending", "Background jobs scheduled and not yet run, due or not.", nil, nil),
		failed:  prometheus.NewDesc("linli_jobs_failed_24h", "Background jobs that failed for good in the last 24 hours.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.due
	ch <- c.pending
	ch <- c.failed
}

// Collect implements prometheus.Collector. A database that does not answer
// within two seconds leaves the figures out of this scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := c.now().UTC()
	var due, pending, failed float64
	err := c.db.Q(ctx).QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $1),
		(SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL),
		(SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL AND failed_at > $2)`, now, now.Add(-24*time.Hour)).Scan(&due, &pending, &failed)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, due)
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, pending)
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, failed)
}
