package main

import "testing"

// The writer's line is the difference of two readings of its histogram:
// the share over 20 ms is exact (a bucket bound), the p99 is the bucket
// that holds it, and a phase in which the writer wrote nothing has none.
func TestWriterPhaseReadsTheHistogram(t *testing.T) {
	bounds := []float64{.005, .01, .02, .05, .1}
	before := writerSnapshot{writes: 50, groups: 10, bounds: bounds, cumulative: []float64{40, 45, 50, 50, 50}, count: 50,
		checkpoints: 2, checkpointS: 0.01}
	// 1,000 writes more: 990 within 10 ms, 6 more within 20 ms, 4 within 50 ms.
	after := writerSnapshot{writes: 1050, groups: 410, bounds: bounds, cumulative: []float64{840, 1035, 1046, 1050, 1050},
		count: 1050, checkpoints: 7, checkpointS: 0.04}
	p := after.since(before)
	if p == nil || p.Writes != 1000 || p.Groups != 400 || p.Checkpoints != 5 {
		t.Fatalf("phase %+v", p)
	}
	if p.Over20ms != 0.004 || p.P99Bound != .01 || p.CheckpointSeconds < 0.0299 || p.CheckpointSeconds > 0.0301 {
		t.Errorf("over 20 ms %v (want 0.004), p99 bound %v (want 0.01), checkpoints %v s", p.Over20ms, p.P99Bound, p.CheckpointSeconds)
	}
	// 2 % past 20 ms: the p99 lies in the 50-ms bucket.
	after.cumulative = []float64{840, 1010, 1030, 1050, 1050}
	if p := after.since(before); p.Over20ms != 0.02 || p.P99Bound != .05 {
		t.Errorf("over 20 ms %v (want 0.02), p99 bound %v (want 0.05)", p.Over20ms, p.P99Bound)
	}
	if p := before.since(before); p != nil {
		t.Errorf("a phase without writes: %+v", p)
	}
	if p := (writerSnapshot{}).since(writerSnapshot{}); p != nil {
		t.Errorf("no writer (PostgreSQL): %+v", p)
	}
}
