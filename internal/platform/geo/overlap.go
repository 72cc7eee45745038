package geo

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Area, OverlapArea and Within measure lon/lat polygons in square metres.
//
// Method: areas are computed in a local equirectangular projection centred
// on the geometries' common bounding box (relative error well under 0.1% for
// regions a few kilometres across); the topology (which edges meet, which
// pieces lie inside) is decided exactly on the original coordinates, so that
// shared vertices and edges are recognised as such. The area of A∩B is the line integral (Green's theorem) over the
// boundary of A∩B, which consists of the pieces of A's edges inside B, the
// pieces of B's edges inside A, and the stretches where the two boundaries
// coincide running the same way. Edges are split where they meet the other
// geometry's edges (found exactly, with a cell grid), and each piece is
// classified by its midpoint. Boundaries that coincide but run opposite ways
// (two grids sharing a side) enclose nothing, so adjacent grids overlap by
// exactly zero and a grid drawn on its community's boundary lies exactly
// within it. The result is exact up to floating-point rounding for valid
// polygons (see Validate); rings may be in either orientation.

const earthRadius = 6371008.8 // mean radius, metres

// Area returns the area of a Polygon or MultiPolygon in square metres.
func Area(g orb.Geometry) (float64, error) {
	rings, err := orientedRings(g)
	if err != nil {
		return 0, err
	}
	return ringsArea(rings, localProjection(g.Bound())), nil
}

// OverlapArea returns the area in square metres shared by two Polygons or
// MultiPolygons.
func OverlapArea(a, b orb.Geometry) (float64, error) {
	ra, err := orientedRings(a)
	if err != nil {
		return 0, fmt.Errorf("geo: first geometry: %w", err)
	}
	rb, err := orientedRings(b)
	if err != nil {
		return 0, fmt.Errorf("geo: second geometry: %w", err)
	}
	return intersectionArea(ra, rb, localProjection(a.Bound().Union(b.Bound())))
}

// Within reports whether inner lies inside outer, allowing up to tolerance
// square metres of inner outside (to absorb rounding and digitising noise);
// outside is the area of inner not covered by outer.
func Within(inner, outer orb.Geometry, tolerance float64) (within bool, outside float64, err error) {
	ri, err := orientedRings(inner)
	if err != nil {
		return false, 0, fmt.Errorf("geo: inner geometry: %w", err)
	}
	ro, err := orientedRings(outer)
	if err != nil {
		return false, 0, fmt.Errorf("geo: outer geometry: %w", err)
	}
	proj := localProjection(inner.Bound().Union(outer.Bound()))
	shared, err := intersectionArea(ri, ro, proj)
	if err != nil {
		return false, 0, err
	}
	outside = math.Max(0, ringsArea(ri, proj)-shared)
	return outside <= tolerance, outside, nil
}

type projection struct{ lon0, lat0, kx, ky float64 }

func localProjection(b orb.Bound) projection {
	c := b.Center()
	ky := earthRadius * math.Pi / 180
	return projection{lon0: c[0], lat0: c[1], kx: ky * math.Cos(c[1]*math.Pi/180), ky: ky}
}

func (p projection) apply(q orb.Point) orb.Point {
	return orb.Point{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky}
}

// orientedRings returns a geometry's rings, closed and oriented so that the
// region is on the left of every edge: outer rings counterclockwise, holes
// clockwise.
func orientedRings(g orb.Geometry) ([]orb.Ring, error) {
	polys := polygonsOf(g)
	if polys == nil {
		return nil, fmt.Errorf("geometry is not a Polygon or MultiPolygon")
	}
	var rings []orb.Ring
	for _, poly := range polys {
		for ri, ring := range poly {
			if len(ring) == 0 {
				continue
			}
			for _, q := range ring {
				if !validLonLat(q) {
					return nil, fmt.Errorf("coordinate (%v, %v) is out of range", q[0], q[1])
				}
			}
			r := slices.Clone(ring)
			if r[0] != r[len(r)-1] {
				r = append(r, r[0])
			}
			if (ringArea(r, projection{kx: 1, ky: 1}) < 0) == (ri == 0) {
				slices.Reverse(r)
			}
			rings = append(rings, r)
		}
	}
	return rings, nil
}

// ringArea is the shoelace formula in the projection: positive for
// counterclockwise rings.
func ringArea(r orb.Ring, proj projection) float64 {
	sum := 0.0
	for k := 0; k+1 < len(r); k++ {
		sum += cross(proj.apply(r[k]), proj.apply(r[k+1]))
	}
	return sum / 2
}

func ringsArea(rings []orb.Ring, proj projection) float64 {
	sum := 0.0
	for _, r := range rings {
		sum += ringArea(r, proj)
	}
	return sum
}

func cross(p, q orb.Point) float64 { return p[0]*q[1] - p[1]*q[0] }

// intersectionArea integrates over the boundary of A∩B (see the comment at
// the top of the file).
func intersectionArea(a, b []orb.Ring, proj projection) (float64, error) {
	segs := append(ringSegments(a, 0), ringSegments(b, 1)...)
	if len(segs) == 0 {
		return 0, nil
	}
	splits := findSplits(segs)
	ixA, err := Build([]Shape{{Key: 0, Geometry: orb.Polygon(a)}})
	if err != nil {
		return 0, err
	}
	ixB, err := Build([]Shape{{Key: 0, Geometry: orb.Polygon(b)}})
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for k, s := range segs {
		other := ixB
		if s.set == 1 {
			other = ixA
		}
		sum += splits[k].insideLength(s, other, proj)
	}
	return math.Max(0, sum/2), nil
}

func ringSegments(rings []orb.Ring, set int32) []segment {
	var segs []segment
	for _, r := range rings {
		for k := 0; k+1 < len(r); k++ {
			if r[k] != r[k+1] {
				segs = append(segs, segment{a: r[k], b: r[k+1], set: set, seq: int32(len(segs))})
			}
		}
	}
	return segs
}

// edgeSplits records where an edge meets the other geometry's edges: the
// positions t in (0, 1) at which it must be split, and the stretches
// [from, to] that lie on an edge of the other geometry, with whether that
// edge runs the same way.
type edgeSplits struct {
	at     []float64
	shared []sharedStretch
}

type sharedStretch struct {
	from, to float64
	sameWay  bool
}

func findSplits(segs []segment) []edgeSplits {
	splits := make([]edgeSplits, len(segs))
	newSegmentGrid(segs).forEachPair(func(i, j int32) {
		s, t := segs[i], segs[j]
		if s.set == t.set {
			return
		}
		switch meet(s.a, s.b, t.a, t.b) {
		case crossing:
			splits[i].at = append(splits[i].at, segmentParam(s.a, s.b, t.a, t.b))
			splits[j].at = append(splits[j].at, segmentParam(t.a, t.b, s.a, s.b))
		case touching:
			splits[i].addTouches(s, t)
			splits[j].addTouches(t, s)
		case covering:
			splits[i].addShared(s, t)
			splits[j].addShared(t, s)
		}
	})
	return splits
}

// addTouches splits s at any endpoint of t that lies on it.
func (e *edgeSplits) addTouches(s, t segment) {
	for _, q := range []orb.Point{t.a, t.b} {
		if orient(s.a, s.b, q) == 0 && between(s.a, s.b, q) {
			e.at = append(e.at, projectParam(s.a, s.b, q))
		}
	}
}

// addShared records the stretch of s that lies on the collinear edge t.
func (e *edgeSplits) addShared(s, t segment) {
	ta, tb := projectParam(s.a, s.b, t.a), projectParam(s.a, s.b, t.b)
	from, to := max(0, min(ta, tb)), min(1, max(ta, tb))
	e.at = append(e.at, from, to)
	e.shared = append(e.shared, sharedStretch{from: from, to: to, sameWay: tb > ta})
}

// insideLength is the edge's contribution to the boundary integral: the
// sum of cross(p, q) over its pieces p→q that bound A∩B. A piece on a shared
// stretch counts only for the first geometry (set 0) and only when both
// boundaries run the same way; any other piece counts when it lies inside
// the other geometry.
func (e *edgeSplits) insideLength(s segment, other *Index, proj projection) float64 {
	ts := append([]float64{0, 1}, e.at...)
	slices.Sort(ts)
	sum := 0.0
	for k := 0; k+1 < len(ts); k++ {
		t0, t1 := max(0, ts[k]), min(1, ts[k+1])
		if !(t1 > t0) {
			continue
		}
		if e.includes(s, (t0+t1)/2, other) {
			sum += cross(proj.apply(lerp(s.a, s.b, t0)), proj.apply(lerp(s.a, s.b, t1)))
		}
	}
	return sum
}

func (e *edgeSplits) includes(s segment, mid float64, other *Index) bool {
	for _, st := range e.shared {
		if st.from <= mid && mid <= st.to {
			return s.set == 0 && st.sameWay
		}
	}
	_, in := other.Locate(lerp(s.a, s.b, mid))
	return in
}

func lerp(a, b orb.Point, t float64) orb.Point {
	switch t {
	case 0:
		return a
	case 1:
		return b
	}
	return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
}
