package geo

import (
	"encoding/json"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
)

// nycPath finds the NYC community districts file in the project's shared
// data (a sibling of the repository), or in LINLI_NYC_GEOJSON.
func nycPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("LINLI_NYC_GEOJSON"); p != "" {
		return p
	}
	p := filepath.Join("..", "..", "..", "..", "shared", "data", "nyc", "nyc_community_districts.geojson")
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("NYC data not found at %s (set LINLI_NYC_GEOJSON): %v", p, err)
	}
	return p
}

// nycShapes reads the 71 NYC community districts keyed by BoroCD.
func nycShapes(tb testing.TB) []Shape {
	tb.Helper()
	f, err := os.Open(nycPath(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	features, err := ReadFeatures(f, 64<<20)
	if err != nil {
		tb.Fatal(err)
	}
	shapes := make([]Shape, len(features))
	for i, ft := range features {
		code, err := ft.Properties["BoroCD"].(json.Number).Int64()
		if err != nil {
			tb.Fatalf("feature %d: BoroCD: %v", i, err)
		}
		shapes[i] = Shape{Key: code, Geometry: ft.Geometry}
	}
	return shapes
}

// refContains is the boundary rule written as plainly as possible: count the
// edges crossed by a ray towards +x, with edges half-open in y, computing
// the crossing's x exactly in rational arithmetic.
func refContains(g orb.Geometry, p orb.Point) bool {
	rings, err := shapeRings(g)
	if err != nil {
		panic(err)
	}
	inside := false
	for _, ring := range rings {
		for i := range ring {
			a, b := ring[i], ring[(i+1)%len(ring)]
			if (a[1] <= p[1]) == (b[1] <= p[1]) {
				continue // does not span p.y (horizontal edges never do)
			}
			// x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y)
			x := new(big.Rat).Sub(rat(p[1]), rat(a[1]))
			x.Mul(x, new(big.Rat).Sub(rat(b[0]), rat(a[0])))
			x.Quo(x, new(big.Rat).Sub(rat(b[1]), rat(a[1])))
			x.Add(x, rat(a[0]))
			if rat(p[0]).Cmp(x) < 0 {
				inside = !inside
			}
		}
	}
	return inside
}

// refLocate scans every shape: it returns the first containing shape's key
// and how many shapes contain p. A shape cannot contain a point outside its
// closed bounding box, so those are skipped to keep the scan affordable.
func refLocate(shapes []Shape, bounds []orb.Bound, p orb.Point) (key int64, count int) {
	for i, s := range shapes {
		if !bounds[i].Contains(p) {
			continue
		}
		if refContains(s.Geometry, p) {
			if count == 0 {
				key = s.Key
			}
			count++
		}
	}
	return key, count
}

// shapeBounds returns each shape's bounding box over all its rings
// (orb's Polygon.Bound looks at the outer ring only, which is not enough
// for invalid polygons whose holes stray outside).
func shapeBounds(shapes []Shape) []orb.Bound {
	b := make([]orb.Bound, len(shapes))
	for i, s := range shapes {
		rings, _ := shapeRings(s.Geometry)
		b[i] = orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
		for _, r := range rings {
			for _, p := range r {
				b[i] = b[i].Extend(p)
			}
		}
	}
	return b
}

func mustBuild(tb testing.TB, shapes []Shape) *Index {
	tb.Helper()
	ix, err := Build(shapes)
	if err != nil {
		tb.Fatal(err)
	}
	return ix
}
