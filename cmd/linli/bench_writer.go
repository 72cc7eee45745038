package main

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
)

// writerPhase is what SQLite's single writer did during a load phase, read
// from its metrics (platform/db/writer_metrics.go): how many commit groups
// it ran, and how long the phase's writes took from their submission to
// their durable commit. It tells how much of a request's latency the
// writer's queue, commits and syncs account for, and how much lies outside
// (HTTP, the handler, scheduling on the shared cores, the generator).
type writerPhase struct {
	Writes, Groups float64
	// Over20ms is the share of writes that took longer than 20 ms (a bucket
	// bound of the histogram, so exact); P99Bound the smallest bucket bound
	// at or under which 99 % of them took (0 when past the last bound).
	Over20ms, P99Bound float64
	Checkpoints        float64
	CheckpointSeconds  float64
}

// writerSnapshot is the writer's metrics at one moment.
type writerSnapshot struct {
	writes, groups           float64
	bounds, cumulative       []float64 // the durability histogram's buckets
	count                    float64
	checkpoints, checkpointS float64
}

func snapshotWriter(g prometheus.Gatherer) (writerSnapshot, error) {
	var s writerSnapshot
	if g == nil {
		return s, nil
	}
	families, err := g.Gather()
	if err != nil {
		return s, err
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "linli_db_writes_total":
				s.writes = m.GetCounter().GetValue()
			case "linli_db_commit_groups_total":
				s.groups = m.GetCounter().GetValue()
			case "linli_db_checkpoint_seconds":
				s.checkpoints, s.checkpointS = float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()
			case "linli_db_write_seconds":
				h := m.GetHistogram()
				s.count = float64(h.GetSampleCount())
				for _, b := range h.GetBucket() {
					s.bounds = append(s.bounds, b.GetUpperBound())
					s.cumulative = append(s.cumulative, float64(b.GetCumulativeCount()))
				}
			}
		}
	}
	return s, nil
}

// since is what the writer did between before and s; nil when it wrote
// nothing (PostgreSQL, or the bare handler's phase).
func (s writerSnapshot) since(before writerSnapshot) *writerPhase {
	n := s.count - before.count
	if n <= 0 || len(s.cumulative) != len(before.cumulative) {
		return nil
	}
	p := &writerPhase{Writes: s.writes - before.writes, Groups: s.groups - before.groups,
		Checkpoints: s.checkpoints - before.checkpoints, CheckpointSeconds: s.checkpointS - before.checkpointS}
	for i, bound := range s.bounds {
		within := s.cumulative[i] - before.cumulative[i]
		if bound == 0.02 {
			p.Over20ms = (n - within) / n
		}
		if p.P99Bound == 0 && within >= 0.99*n {
			p.P99Bound = bound
		}
	}
	return p
}

func (p *writerPhase) print(w io.Writer) {
	if p == nil {
		return
	}
	p99 := "past the last bucket"
	if p.P99Bound > 0 {
		p99 = fmt.Sprintf("≤ %g ms", 1000*p.P99Bound)
	}
	fmt.Fprintf(w, "  the writer: %.0f commit groups, %.1f writes each; submitted → durable: %.2f %% over 20 ms, p99 %s; %.0f checkpoints between groups, %.0f ms in all\n",
		p.Groups, p.Writes/max(1, p.Groups), 100*p.Over20ms, p99, p.Checkpoints, 1000*p.CheckpointSeconds)
}

// withWriter adds to a bench's JSON figures what SQLite's writer did: the
// closed loop's writes per commit group, and the share of the latency
// phase's writes that took more than 20 ms until durable. Nothing on
// PostgreSQL.
func withWriter(figures map[string]any, r intakeResult) map[string]any {
	if w := r.linli.Writer; w != nil {
		figures["writes_per_group"] = round2(w.Writes / max(1, w.Groups))
	}
	if w := r.open.Writer; w != nil {
		figures["writer_over_20ms_pct"] = round2(100 * w.Over20ms)
	}
	return figures
}
