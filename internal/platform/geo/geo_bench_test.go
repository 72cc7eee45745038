package geo

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// The workloads of the "Areas and grids" issue. Run them on one core:
//
//	go test -run '^$' -bench . -benchtime 3x -cpu 1 ./internal/platform/geo/
//
// points/s counts Locate calls per second of wall time.

const benchPoints = 1 << 20

func BenchmarkLocateNYC(b *testing.B) {
	benchLocate(b, nycShapes(b))
}

func BenchmarkLocateHex100k(b *testing.B) {
	benchLocate(b, HexCity(100_000, 1))
}

func BenchmarkBuildHex100k(b *testing.B) {
	shapes := HexCity(100_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(shapes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/build")
}

// benchLocate locates 2^20 uniformly random points of the bounding box per
// iteration.
func benchLocate(b *testing.B, shapes []Shape) {
	ix := mustBuild(b, shapes)
	pts := RandomPoints(ix.Bound(), benchPoints, 1)
	found := 0
	for b.Loop() {
		found = locateAll(ix, pts)
	}
	b.ReportMetric(float64(b.N)*benchPoints/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(found)/benchPoints, "hit-ratio")
}

func locateAll(ix *Index, pts []orb.Point) int {
	found := 0
	for _, p := range pts {
		if _, ok := ix.Locate(p); ok {
			found++
		}
	}
	return found
}

func BenchmarkValidate10kRing(b *testing.B) {
	ring := bigRing(10000, rand.New(rand.NewPCG(31, 32)))
	for b.Loop() {
		if problems := Validate(orb.Polygon{ring}); len(problems) > 0 {
			b.Fatal(problems)
		}
	}
}

func BenchmarkOverlapAreaNYC(b *testing.B) {
	shapes := nycShapes(b)
	for b.Loop() {
		if _, err := OverlapArea(shapes[0].Geometry, shapes[1].Geometry); err != nil {
			b.Fatal(err)
		}
	}
}
