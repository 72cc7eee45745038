package geo

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestValidateReportsEachKind(t *testing.T) {
	ok := square(121, 37, 121.01, 37.01)
	cases := []struct {
		name string
		g    orb.Geometry
		want Problem
	}{
		{"point", orb.Point{1, 2}, Problem{Kind: ProblemUnsupported, Ring: -1, Vertex: -1, Other: -1}},
		{"no rings", orb.Polygon{}, Problem{Kind: ProblemEmpty, Ring: -1, Vertex: -1, Other: -1}},
		{"no polygons", orb.MultiPolygon{}, Problem{Kind: ProblemEmpty, Ring: -1, Vertex: -1, Other: -1}},
		{"three positions", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, Problem{Kind: ProblemTooFewPositions, Vertex: -1, Other: -1}},
		{"repeated point", orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {0, 0}}}, Problem{Kind: ProblemTooFewPositions, Vertex: -1, Other: -1}},
		{"not closed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, Problem{Kind: ProblemNotClosed, Vertex: 3, Point: orb.Point{0, 1}, Other: -1}},
		{"lon out of range", orb.Polygon{{{0, 0}, {181, 0}, {1, 1}, {0, 0}}}, Problem{Kind: ProblemOutOfRange, Vertex: 1, Point: orb.Point{181, 0}, Other: -1}},
		{"lat out of range", orb.Polygon{{{0, 0}, {1, -90.5}, {1, 1}, {0, 0}}}, Problem{Kind: ProblemOutOfRange, Vertex: 1, Point: orb.Point{1, -90.5}, Other: -1}},
		{"bow tie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, Problem{Kind: ProblemSelfIntersection, Vertex: 0, Point: orb.Point{0.5, 0.5}, Other: 2}},
		{"figure eight touching at a vertex", orb.Polygon{{{0, 0}, {1, 1}, {2, 0}, {2, 2}, {1, 1}, {0, 2}, {0, 0}}},
			Problem{Kind: ProblemSelfIntersection, Vertex: 0, Point: orb.Point{1, 1}, Other: 3}},
		{"spike folding back", orb.Polygon{{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}}, Problem{Kind: ProblemSelfIntersection, Vertex: 0, Point: orb.Point{2, 0}, Other: 1}},
		{"hole crossing the outer ring", orb.Polygon{square(0, 0, 4, 4), square(3, 1, 5, 2)},
			Problem{Kind: ProblemHoleOutside, Ring: 1, Vertex: 0, Point: orb.Point{4, 1}, Other: -1}},
		{"hole entirely outside", orb.Polygon{square(0, 0, 4, 4), square(5, 5, 6, 6)},
			Problem{Kind: ProblemHoleOutside, Ring: 1, Vertex: 0, Point: orb.Point{5, 5}, Other: -1}},
		{"second polygon bad", orb.MultiPolygon{{ok}, {{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}},
			Problem{Kind: ProblemSelfIntersection, Polygon: 1, Vertex: 0, Point: orb.Point{0.5, 0.5}, Other: 2}},
	}
	for _, c := range cases {
		got := Validate(c.g)
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: Validate = %v\nwant [%v]", c.name, got, c.want)
		}
	}
}

func TestValidateNaN(t *testing.T) {
	got := Validate(orb.Polygon{{{0, 0}, {math.NaN(), 0}, {1, 1}, {0, 0}}})
	if len(got) != 1 || got[0].Kind != ProblemOutOfRange || got[0].Vertex != 1 {
		t.Errorf("got %v", got)
	}
}

func TestValidateAcceptsGoodShapes(t *testing.T) {
	good := map[string]orb.Geometry{
		"square":                    orb.Polygon{square(0, 0, 1, 1)},
		"hole":                      orb.Polygon{square(0, 0, 4, 4), square(1, 1, 2, 2)},
		"hole touching at a vertex": orb.Polygon{square(0, 0, 4, 4), {{0, 0}, {1, 2}, {2, 1}, {0, 0}}},
		"repeated vertex":           orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}},
		"collinear vertex":          orb.Polygon{{{0, 0}, {1, 0}, {2, 0}, {2, 1}, {0, 0}}},
		"multipolygon":              orb.MultiPolygon{{square(0, 0, 1, 1)}, {square(2, 0, 3, 1)}},
	}
	for name, g := range good {
		if got := Validate(g); len(got) != 0 {
			t.Errorf("%s: unexpected problems %v", name, got)
		}
	}
}

func TestValidateNYCAndHexCity(t *testing.T) {
	for _, s := range append(nycShapes(t), HexCity(2000, 3)...) {
		if got := ValidateIn(s.Geometry, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}); len(got) != 0 {
			t.Errorf("shape %d: %v", s.Key, got)
		}
	}
}

func TestValidateInRegion(t *testing.T) {
	yantai := orb.Polygon{square(121.4, 37.4, 121.5, 37.5)}
	if got := ValidateIn(yantai, ChinaBound); len(got) != 0 {
		t.Errorf("Yantai: %v", got)
	}
	swapped := orb.Polygon{square(37.4, 121.4, 37.5, 121.5)}
	if got := ValidateIn(swapped, ChinaBound); len(got) != 1 || got[0].Kind != ProblemSwappedLatLon {
		t.Errorf("swapped: %v", got)
	}
	nyc := orb.Polygon{square(-74, 40.7, -73.9, 40.8)}
	if got := ValidateIn(nyc, ChinaBound); len(got) != 1 || got[0].Kind != ProblemOutsideRegion || got[0].Vertex != 0 {
		t.Errorf("New York: %v", got)
	}
}

// bigRing is a star-shaped ring with n vertices: simple, wavy, with short
// edges that wobble a little, like a detailed surveyed boundary.
func bigRing(n int, rng *rand.Rand) orb.Ring {
	ring := make(orb.Ring, 0, n+1)
	for k := range n {
		a := 2 * math.Pi * float64(k) / float64(n)
		r := 0.01*(1+0.2*math.Sin(7*a)) + 1e-6*rng.Float64()
		ring = append(ring, orb.Point{121 + r*math.Cos(a), 37 + r*math.Sin(a)})
	}
	return append(ring, ring[0])
}

func TestValidateLargeRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	ring := bigRing(10000, rng)
	start := time.Now()
	if got := Validate(orb.Polygon{ring}); len(got) != 0 {
		t.Fatalf("simple ring: %v", got)
	}
	t.Logf("10,000-vertex ring validated in %v", time.Since(start))

	// Swap two far-apart vertices: the ring now crosses itself.
	bad := append(orb.Ring(nil), ring...)
	bad[100], bad[5000] = bad[5000], bad[100]
	got := Validate(orb.Polygon{bad})
	if len(got) != 1 || got[0].Kind != ProblemSelfIntersection {
		t.Fatalf("crossed ring: %v", got)
	}
}

// TestSelfIntersectionMatchesBruteForce compares the bucketed search with
// testing every pair of edges, on small random rings.
func TestSelfIntersectionMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	simple, crossed := 0, 0
	for range 3000 {
		n := 4 + rng.IntN(8)
		ring := make(orb.Ring, n)
		for k := range ring {
			ring[k] = orb.Point{float64(rng.IntN(5)), float64(rng.IntN(5))}
		}
		ring = append(ring, ring[0])
		path := newRingPath(ring)
		if len(path.pts) < 3 {
			continue
		}
		want := bruteSelfIntersects(path.pts)
		got := false
		for _, pr := range Validate(orb.Polygon{ring}) {
			got = got || pr.Kind == ProblemSelfIntersection
		}
		if got != want {
			t.Fatalf("ring %v: bucketed says %v, brute force says %v", ring, got, want)
		}
		if want {
			crossed++
		} else {
			simple++
		}
	}
	if simple < 50 || crossed < 50 {
		t.Errorf("unbalanced sample: %d simple, %d crossed", simple, crossed)
	}
}

// bruteSelfIntersects tests every pair of edges of a closed path: two
// consecutive edges may share only their common vertex, others nothing.
func bruteSelfIntersects(pts []orb.Point) bool {
	n := len(pts)
	for i := range n {
		for j := i + 1; j < n; j++ {
			m := meet(pts[i], pts[(i+1)%n], pts[j], pts[(j+1)%n])
			consecutive := j == i+1 || (i == 0 && j == n-1)
			if m == crossing || m == covering || (m == touching && !consecutive) {
				return true
			}
		}
	}
	return false
}
