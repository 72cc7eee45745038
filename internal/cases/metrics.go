package cases

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/platform/db"
)

// Collector reports the cases past their deadline and still open (督办) to
// Prometheus at each scrape: the figure an operator or a street watches
// for, on every node alike, since it is read from the shared database. The
// count reads only the partial index of such cases (migration 00020), so a
// scrape costs the same with ten million cases as with ten.
type Collector struct {
	db      *db.DB
	overdue *prometheus.Desc
}

// NewCollector returns the cases' collector.
func NewCollector(d *db.DB) *Collector {
	return &Collector{db: d, overdue: prometheus.NewDesc("linli_cases_overdue",
		"Open cases past their deadline (督办), on every node.", nil, nil)}
}

// countOverdue repeats the partial index's condition word for word, so
// that SQLite's planner sees that the index answers it.
const countOverdue = `SELECT COUNT(*) FROM cases WHERE overdue AND closed_at IS NULL AND state <> 'merged'`

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.overdue }

// Collect implements prometheus.Collector. A database that does not answer
// within two seconds leaves the figure out of this scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n float64
	if err := c.db.Q(ctx).QueryRowContext(ctx, countOverdue).Scan(&n); err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, n)
}
