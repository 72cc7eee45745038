package geo

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzReadFeatures feeds arbitrary bytes to ReadFeatures and everything
// that parses to Validate, ValidateIn, Build, Locate and OverlapArea. None
// may panic; a successful read must return only polygonal geometries.
//
//	go test -run '^$' -fuzz FuzzReadFeatures -fuzztime 2m ./internal/platform/geo/
func FuzzReadFeatures(f *testing.F) {
	for _, seed := range []string{
		`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"BoroCD":311},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}`,
		`{"type":"Feature","properties":null,"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,0]],[[0.5,0.2],[1,0.2],[1,0.5],[0.5,0.2]]]]}}`,
		`{"type":"Polygon","coordinates":[[[121,37],[121.1,37],[121.1,37.1],[121,37]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}]}`,
		`{"type":"Polygon","coordinates":[[[1e300,0],[-1e300,0],[0,1e-300],[1e300,0]]]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		features, err := ReadFeatures(bytes.NewReader(data), 1<<16)
		if err != nil {
			return
		}
		shapes := make([]Shape, 0, len(features))
		for i, ft := range features {
			switch ft.Geometry.(type) {
			case orb.Polygon, orb.MultiPolygon:
			default:
				t.Fatalf("feature %d has geometry %T", i, ft.Geometry)
			}
			if ft.Properties == nil {
				t.Fatalf("feature %d has nil properties", i)
			}
			Validate(ft.Geometry)
			ValidateIn(ft.Geometry, ChinaBound)
			shapes = append(shapes, Shape{Key: int64(i), Geometry: ft.Geometry})
		}
		if len(features) >= 2 {
			OverlapArea(features[0].Geometry, features[1].Geometry)
		}
		ix, err := Build(shapes)
		if err != nil {
			return
		}
		for _, s := range shapes {
			rings, _ := shapeRings(s.Geometry)
			for _, r := range rings {
				for _, p := range r {
					ix.Locate(p)
				}
			}
			ix.Locate(s.Geometry.Bound().Center())
		}
	})
}

// FuzzLocate builds shapes from arbitrary bytes on a coarse lattice (so
// that collinear edges, shared vertices, repeated points, self-crossings
// and overlaps are common), and checks Locate against the reference scan on
// a finer lattice of query points, which puts many of them exactly on edges
// and vertices. It also cross-checks the self-intersection test against
// brute force and runs OverlapArea for panics.
//
//	go test -run '^$' -fuzz FuzzLocate -fuzztime 2m ./internal/platform/geo/
func FuzzLocate(f *testing.F) {
	f.Add([]byte{2, 4, 0x00, 0x40, 0x44, 0x04, 4, 0x40, 0x80, 0x84, 0x44})
	f.Add([]byte{1, 0x85, 0x00, 0x80, 0x88, 0x08, 0x00, 4, 0x22, 0x26, 0x66, 0x62})
	f.Add([]byte{3, 5, 0x00, 0x44, 0x40, 0x04, 0x00, 3, 0x00, 0x22, 0x44, 4, 0x11, 0x13, 0x33, 0x31})
	f.Fuzz(func(t *testing.T, data []byte) {
		shapes := latticeShapes(data)
		ix, err := Build(shapes)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		bounds := shapeBounds(shapes)
		for i := -2; i <= 36; i++ {
			for j := -2; j <= 36; j++ {
				p := orb.Point{float64(i) / 8, float64(j) / 8}
				want, count := refLocate(shapes, bounds, p)
				if got, ok := ix.Locate(p); ok != (count > 0) || got != want {
					t.Fatalf("Locate(%v) = %d, %v; reference %d (in %d shapes); shapes %v", p, got, ok, want, count, shapes)
				}
			}
		}
		for _, s := range shapes {
			checkSelfIntersection(t, s.Geometry.(orb.Polygon))
		}
		if len(shapes) >= 2 {
			OverlapArea(shapes[0].Geometry, shapes[1].Geometry)
		}
	})
}

// latticeShapes decodes: a shape count, then per shape a ring count-and-
// length byte (high bit: add a second ring with the next length byte) and
// one byte per vertex (high nibble x, low nibble y, in quarters).
func latticeShapes(data []byte) []Shape {
	next := func() (byte, bool) {
		if len(data) == 0 {
			return 0, false
		}
		b := data[0]
		data = data[1:]
		return b, true
	}
	var shapes []Shape
	count, _ := next()
	for s := 0; s < int(count%5); s++ {
		header, ok := next()
		if !ok {
			break
		}
		var poly orb.Polygon
		for r := 0; r < 1+int(header>>7); r++ {
			n := int(header&0x0f) + 1
			if r == 1 {
				h, _ := next()
				n = int(h&0x0f) + 1
			}
			var ring orb.Ring
			for range n {
				v, ok := next()
				if !ok {
					break
				}
				ring = append(ring, orb.Point{float64(v>>4) / 4, float64(v&0x0f) / 4})
			}
			if len(ring) > 0 {
				ring = append(ring, ring[0])
			}
			poly = append(poly, ring)
		}
		shapes = append(shapes, Shape{Key: int64(s + 1), Geometry: poly})
	}
	return shapes
}

// checkSelfIntersection compares Validate's bucketed self-intersection
// test with brute force on every ring that reaches it.
func checkSelfIntersection(t *testing.T, poly orb.Polygon) {
	reported := map[int]bool{}
	for _, pr := range Validate(poly) {
		if pr.Kind == ProblemSelfIntersection {
			reported[pr.Ring] = true
		}
	}
	for ri, ring := range poly {
		if len(ring) < 4 {
			continue
		}
		path := newRingPath(ring)
		if len(path.pts) < 3 {
			continue
		}
		if want := bruteSelfIntersects(path.pts); want != reported[ri] {
			t.Fatalf("ring %v: Validate reports self-intersection %v, brute force %v", ring, reported[ri], want)
		}
	}
}
