package db

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// writerMetrics is what /metrics tells of SQLite's single writer: how long
// writes wait for their commit group, how long they take until durable,
// how many share a commit, and what the syncs and the checkpoints between
// groups cost. A response time set by the writer (its queue, a slow disk)
// rather than by the handlers shows here first; a queue that stays long is
// the sign to move to PostgreSQL.
type writerMetrics struct {
	wait, durable, sync, checkpoint prometheus.Histogram
	groups, writes                  prometheus.Counter
}

// latencyBuckets run from half a millisecond to 2.5 s. 20 ms is one of
// them, so the share of writes over the intake's latency goal is read off
// the histogram exactly.
var latencyBuckets = []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}

func newWriterMetrics() *writerMetrics {
	hist := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets})
	}
	return &writerMetrics{
		wait:    hist("linli_db_write_wait_seconds", "SQLite: time a write waited for the writer to start its commit group."),
		durable: hist("linli_db_write_seconds", "SQLite: time from a write's submission to its answer: its durable commit (queue, group, sync) or its error."),
		sync:    hist("linli_db_wal_sync_seconds", "SQLite: time of each sync that makes committed groups durable."),
		checkpoint: hist("linli_db_checkpoint_seconds",
			"SQLite: time of each checkpoint the writer runs between groups (every write waits meanwhile)."),
		groups: prometheus.NewCounter(prometheus.CounterOpts{Name: "linli_db_commit_groups_total",
			Help: "SQLite: commit groups (transactions) the writer committed or rolled back."}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{Name: "linli_db_writes_total",
			Help: "SQLite: writes the writer ran; divided by the groups, the mean group size."}),
	}
}

func (m *writerMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.wait, m.durable, m.sync, m.checkpoint, m.groups, m.writes}
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }

// Collectors returns the metrics of SQLite's writer for a Prometheus
// registry; none on PostgreSQL, whose own statistics tell the same.
func (d *DB) Collectors() []prometheus.Collector {
	if d.writer == nil {
		return nil
	}
	return d.writer.metrics.collectors()
}
