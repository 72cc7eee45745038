package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func square(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestLocateBoundaryRuleOnTwoSquares(t *testing.T) {
	// Left square key 1 covers [0,1]x[0,1], right square key 2 covers
	// [1,2]x[0,1], a square key 3 sits on top of both at [0,2]x[1,2].
	ix := mustBuild(t, []Shape{
		{Key: 1, Geometry: orb.Polygon{square(0, 0, 1, 1)}},
		{Key: 2, Geometry: orb.Polygon{square(1, 0, 2, 1)}},
		{Key: 3, Geometry: orb.Polygon{square(0, 1, 2, 2)}},
	})
	cases := []struct {
		name string
		p    orb.Point
		key  int64
		ok   bool
	}{
		{"interior of left", orb.Point{0.5, 0.5}, 1, true},
		{"shared vertical edge goes right", orb.Point{1, 0.5}, 2, true},
		{"left outer edge is inside", orb.Point{0, 0.5}, 1, true},
		{"right outer edge is outside", orb.Point{2, 0.5}, 0, false},
		{"bottom edge is inside", orb.Point{0.5, 0}, 1, true},
		{"shared horizontal edge goes up", orb.Point{0.5, 1}, 3, true},
		{"top edge is outside", orb.Point{0.5, 2}, 0, false},
		{"vertex shared by three goes to upper right", orb.Point{1, 1}, 3, true},
		{"bottom shared vertex goes right", orb.Point{1, 0}, 2, true},
		{"bottom-left corner", orb.Point{0, 0}, 1, true},
		{"bottom-right corner", orb.Point{2, 0}, 0, false},
		{"outside", orb.Point{-1, 0.5}, 0, false},
		{"NaN", orb.Point{math.NaN(), 0.5}, 0, false},
	}
	for _, c := range cases {
		key, ok := ix.Locate(c.p)
		if key != c.key || ok != c.ok {
			t.Errorf("%s: Locate(%v) = %d, %v; want %d, %v", c.name, c.p, key, ok, c.key, c.ok)
		}
	}
}

func TestLocateHoleAndIsland(t *testing.T) {
	ix := mustBuild(t, []Shape{
		{Key: 10, Geometry: orb.Polygon{square(0, 0, 4, 4), reversed(square(1, 1, 3, 3))}},
		{Key: 20, Geometry: orb.MultiPolygon{{square(1, 1, 3, 3)}, {square(5, 0, 6, 1)}}},
	})
	for _, c := range []struct {
		p   orb.Point
		key int64
	}{{orb.Point{0.5, 2}, 10}, {orb.Point{2, 2}, 20}, {orb.Point{1, 2}, 20}, {orb.Point{3, 2}, 10}, {orb.Point{5.5, 0.5}, 20}} {
		if key, ok := ix.Locate(c.p); !ok || key != c.key {
			t.Errorf("Locate(%v) = %d, %v; want %d", c.p, key, ok, c.key)
		}
	}
	if _, ok := ix.Locate(orb.Point{4.5, 0.5}); ok {
		t.Error("point between the polygons was located")
	}
}

func TestLocateOverlapPrefersFirstShape(t *testing.T) {
	ix := mustBuild(t, []Shape{
		{Key: 7, Geometry: orb.Polygon{square(0, 0, 2, 2)}},
		{Key: 8, Geometry: orb.Polygon{square(1, 1, 3, 3)}},
	})
	if key, _ := ix.Locate(orb.Point{1.5, 1.5}); key != 7 {
		t.Errorf("overlap went to %d, want the first shape 7", key)
	}
	if key, _ := ix.Locate(orb.Point{2.5, 2.5}); key != 8 {
		t.Errorf("got %d, want 8", key)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	cases := map[string][]Shape{
		"duplicate key": {{Key: 1, Geometry: orb.Polygon{square(0, 0, 1, 1)}}, {Key: 1, Geometry: orb.Polygon{square(2, 0, 3, 1)}}},
		"NaN":           {{Key: 1, Geometry: orb.Polygon{{{0, 0}, {math.NaN(), 0}, {1, 1}, {0, 0}}}}},
		"Inf":           {{Key: 1, Geometry: orb.Polygon{{{0, 0}, {math.Inf(1), 0}, {1, 1}, {0, 0}}}}},
		"point":         {{Key: 1, Geometry: orb.Point{1, 2}}},
		"nil geometry":  {{Key: 1}},
	}
	for name, shapes := range cases {
		if _, err := Build(shapes); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

func TestBuildDegenerateShapesContainNothing(t *testing.T) {
	for name, shapes := range map[string][]Shape{
		"none":      nil,
		"empty":     {{Key: 1, Geometry: orb.Polygon{}}},
		"flat":      {{Key: 1, Geometry: orb.Polygon{{{0, 0}, {1, 0}, {2, 0}, {0, 0}}}}},
		"one point": {{Key: 1, Geometry: orb.Polygon{{{3, 3}}}}},
	} {
		ix := mustBuild(t, shapes)
		for _, p := range []orb.Point{{0, 0}, {0.5, 0}, {3, 3}, {1, 1}} {
			if key, ok := ix.Locate(p); ok {
				t.Errorf("%s: Locate(%v) = %d", name, p, key)
			}
		}
	}
}

func TestLocateUnclosedRing(t *testing.T) {
	ix := mustBuild(t, []Shape{{Key: 5, Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}})
	if key, ok := ix.Locate(orb.Point{0.5, 0.5}); !ok || key != 5 {
		t.Errorf("unclosed ring: got %d, %v", key, ok)
	}
}

// boundaryPoints returns points on or within rounding of the shapes'
// boundaries: vertices, midpoints of edges whenever the computed midpoint is
// exactly on the edge (always for axis-aligned edges; for others, when it
// happens to be), random points of axis-aligned edges, and the rounded
// point at a random fraction of an edge.
func boundaryPoints(shapes []Shape, rng *rand.Rand, n int) []orb.Point {
	var pts []orb.Point
	for len(pts) < n {
		s := shapes[rng.IntN(len(shapes))]
		rings, _ := shapeRings(s.Geometry)
		ring := rings[rng.IntN(len(rings))]
		if len(ring) < 2 {
			continue
		}
		i := rng.IntN(len(ring) - 1)
		a, b := ring[i], ring[i+1]
		pts = append(pts, a)
		mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
		if orientSignExact(a[0], a[1], b[0], b[1], mid[0], mid[1]) == 0 {
			pts = append(pts, mid)
		}
		if a[0] == b[0] && a[1] != b[1] { // a random point on a vertical edge
			pts = append(pts, orb.Point{a[0], a[1] + rng.Float64()*(b[1]-a[1])})
		}
		if a[1] == b[1] && a[0] != b[0] {
			pts = append(pts, orb.Point{a[0] + rng.Float64()*(b[0]-a[0]), a[1]})
		}
		// Within rounding of a sloping edge, where only exact predicates
		// get the side right.
		t := rng.Float64()
		pts = append(pts, orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])})
	}
	return pts
}

// gridLinePoints returns points on the index's own cell lines and corners,
// where the L-shaped path of a query degenerates.
func gridLinePoints(ix *Index, rng *rand.Rand, n int) []orb.Point {
	pts := make([]orb.Point, 0, n)
	for len(pts) < n {
		i, j := rng.IntN(ix.nx), rng.IntN(ix.ny)
		x, y := ix.colX[i], ix.rowY[j]
		switch rng.IntN(3) {
		case 0:
			pts = append(pts, orb.Point{x, y})
		case 1:
			pts = append(pts, orb.Point{x, y + rng.Float64()*(ix.rowY[j+1]-y)})
		default:
			pts = append(pts, orb.Point{x + rng.Float64()*(ix.colX[i+1]-x), y})
		}
	}
	return pts
}

// nudged returns points one ulp away from the given ones in each direction.
func nudged(pts []orb.Point) []orb.Point {
	var out []orb.Point
	for _, p := range pts {
		for _, dx := range []float64{math.Inf(-1), 0, math.Inf(1)} {
			for _, dy := range []float64{math.Inf(-1), 0, math.Inf(1)} {
				if dx != 0 || dy != 0 {
					out = append(out, orb.Point{math.Nextafter(p[0], dx), math.Nextafter(p[1], dy)})
				}
			}
		}
	}
	return out
}

// checkAgainstReference compares Locate with the plain scan on every point.
// It returns how many points lay in more than one shape.
func checkAgainstReference(t *testing.T, ix *Index, shapes []Shape, pts []orb.Point) (overlaps int) {
	t.Helper()
	bounds := shapeBounds(shapes)
	bad := 0
	for _, p := range pts {
		want, count := refLocate(shapes, bounds, p)
		got, ok := ix.Locate(p)
		if ok != (count > 0) || got != want {
			bad++
			if bad <= 10 {
				t.Errorf("Locate(%v) = %d, %v; the reference scan says %d (in %d shapes)", p, got, ok, want, count)
			}
		}
		if count > 1 {
			overlaps++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d points disagree with the reference", bad, len(pts))
	}
	return overlaps
}

func TestLocateMatchesReferenceNYC(t *testing.T) {
	shapes := nycShapes(t)
	ix := mustBuild(t, shapes)
	rng := rand.New(rand.NewPCG(1, 2))
	b := ix.Bound()
	pts := RandomPoints(b.Pad(0.01), 3000, 3)
	onEdges := boundaryPoints(shapes, rng, 3000)
	pts = append(pts, onEdges...)
	pts = append(pts, nudged(onEdges[:300])...)
	pts = append(pts, gridLinePoints(ix, rng, 1000)...)
	overlaps := checkAgainstReference(t, ix, shapes, pts)
	t.Logf("%d points checked, %d in overlapping districts", len(pts), overlaps)
}

// hexInterior is a rectangle that the hex city covers completely: its
// bounding box less a margin of two hexagons (three rows at the top, where
// the last row may be incomplete).
func hexInterior(ix *Index) orb.Bound {
	b := ix.Bound()
	b.Min[0] += 2 * hexSize
	b.Max[0] -= 2 * hexSize
	b.Min[1] += 2 * hexSize
	b.Max[1] -= 5 * hexSize
	return b
}

func TestLocateMatchesReferenceHexCity(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	shapes := HexCity(n, 42)
	ix := mustBuild(t, shapes)
	rng := rand.New(rand.NewPCG(4, 5))
	interior := hexInterior(ix)
	var pts []orb.Point
	pts = append(pts, RandomPoints(ix.Bound().Pad(hexSize), 3000, 6)...)
	onEdges := boundaryPoints(shapes, rng, 4000)
	pts = append(pts, onEdges...)
	pts = append(pts, nudged(onEdges[:300])...)
	pts = append(pts, gridLinePoints(ix, rng, 1000)...)
	if overlaps := checkAgainstReference(t, ix, shapes, pts); overlaps > 0 {
		t.Errorf("%d points lie in more than one hex grid", overlaps)
	}

	// Every point of the covered region, on edges and vertices included,
	// is in exactly one grid.
	bounds := shapeBounds(shapes)
	covered := 0
	for _, p := range append(RandomPoints(interior, 2000, 7), onEdges...) {
		if !interior.Contains(p) {
			continue
		}
		covered++
		if _, count := refLocate(shapes, bounds, p); count != 1 {
			t.Errorf("interior point %v is in %d grids, want exactly 1", p, count)
		}
	}
	if covered < 2000 {
		t.Errorf("only %d interior points checked", covered)
	}
}

func TestHexCityShape(t *testing.T) {
	shapes := HexCity(5000, 9)
	if len(shapes) != 5000 {
		t.Fatalf("got %d shapes", len(shapes))
	}
	holes, minV, maxV := 0, math.MaxInt, 0
	for _, s := range shapes {
		p := s.Geometry.(orb.Polygon)
		if len(p) > 1 {
			holes++
		}
		v := 0
		for _, r := range p {
			v += len(r) - 1
		}
		minV, maxV = min(minV, v), max(maxV, v)
		if problems := Validate(s.Geometry); len(problems) > 0 {
			t.Fatalf("grid %d is invalid: %v", s.Key, problems[0])
		}
	}
	if holes < 200 || minV < 6 || maxV > 44 {
		t.Errorf("holes=%d vertices %d..%d", holes, minV, maxV)
	}
	again := HexCity(5000, 9)
	if !orb.Equal(again[4999].Geometry, shapes[4999].Geometry) {
		t.Error("HexCity is not deterministic")
	}
}
