package geo

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/paulmach/orb"
)

// BenchResult is what RunLocateBench measured.
type BenchResult struct {
	Shapes       int
	Points       int
	Found        int     // points that fell in some shape
	PointsPerSec float64 // Locate calls per second on one goroutine
	BuildMS      float64
	HeapMB       float64 // live heap after Build and a GC: the shapes, the index, and whatever else the process holds
	IndexMB      float64 // the part of HeapMB that Build added
}

// RunLocateBench builds an index over shapes and locates points uniformly
// random points in its bounding box on the calling goroutine. It is what
// `linli bench locate` runs; the same seed gives the same points.
func RunLocateBench(shapes []Shape, points int, seed int64) (BenchResult, error) {
	res := BenchResult{Shapes: len(shapes), Points: points}
	before := liveHeap()
	start := time.Now()
	ix, err := Build(shapes)
	if err != nil {
		return res, fmt.Errorf("geo: bench build: %w", err)
	}
	res.BuildMS = float64(time.Since(start).Microseconds()) / 1000
	after := liveHeap()
	runtime.KeepAlive(shapes) // count the input too, however the caller holds it
	res.HeapMB, res.IndexMB = mb(after), mb(after-min(before, after))

	pts := RandomPoints(ix.Bound(), points, seed)
	start = time.Now()
	for _, p := range pts {
		if _, ok := ix.Locate(p); ok {
			res.Found++
		}
	}
	if elapsed := time.Since(start).Seconds(); elapsed > 0 {
		res.PointsPerSec = float64(points) / elapsed
	}
	runtime.KeepAlive(ix)
	return res, nil
}

// RandomPoints returns n points uniformly distributed in b.
func RandomPoints(b orb.Bound, n int, seed int64) []orb.Point {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6c696e6c69))
	pts := make([]orb.Point, n)
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	for i := range pts {
		pts[i] = orb.Point{b.Min[0] + rng.Float64()*w, b.Min[1] + rng.Float64()*h}
	}
	return pts
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mb(bytes uint64) float64 { return float64(bytes) / (1 << 20) }
