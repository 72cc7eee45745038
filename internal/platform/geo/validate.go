package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// ProblemKind names one kind of geometry problem; callers map it to a
// message in the user's language.
type ProblemKind string

const (
	// ProblemUnsupported: the geometry is not a Polygon or MultiPolygon.
	ProblemUnsupported ProblemKind = "unsupported_geometry"
	// ProblemEmpty: a Polygon without rings or a MultiPolygon without polygons.
	ProblemEmpty ProblemKind = "empty"
	// ProblemTooFewPositions: a ring has fewer than 4 positions, or fewer
	// than 3 distinct points.
	ProblemTooFewPositions ProblemKind = "too_few_positions"
	// ProblemNotClosed: a ring's last position differs from its first.
	ProblemNotClosed ProblemKind = "not_closed"
	// ProblemOutOfRange: |lon| > 180, |lat| > 90, NaN or infinite.
	ProblemOutOfRange ProblemKind = "out_of_range"
	// ProblemSelfIntersection: two edges of a ring cross or touch, other
	// than consecutive edges at their shared vertex; Other names the second
	// edge.
	ProblemSelfIntersection ProblemKind = "self_intersection"
	// ProblemHoleOutside: a hole crosses its outer ring or lies outside it.
	ProblemHoleOutside ProblemKind = "hole_outside"
	// ProblemSwappedLatLon: the geometry lies outside the expected region
	// but would lie inside it with longitude and latitude exchanged.
	ProblemSwappedLatLon ProblemKind = "swapped_lat_lon"
	// ProblemOutsideRegion: a vertex lies outside the expected region.
	ProblemOutsideRegion ProblemKind = "outside_region"
)

// Problem is one thing wrong with a geometry, located precisely enough for
// a message such as "第 2 个环第 15 个顶点 (121.4, 37.5): 边自相交".
type Problem struct {
	Kind    ProblemKind
	Polygon int       // which polygon of a MultiPolygon; 0 for a Polygon
	Ring    int       // 0 for the outer ring, 1… for holes; -1 if not about a ring
	Vertex  int       // index of the vertex in the ring; -1 if not about a vertex
	Point   orb.Point // the vertex or intersection concerned
	Other   int       // for self-intersections, the first vertex of the other edge; else -1
}

func (p Problem) Error() string {
	where := fmt.Sprintf("polygon %d", p.Polygon)
	if p.Ring >= 0 {
		where += fmt.Sprintf(" ring %d", p.Ring)
	}
	if p.Vertex >= 0 {
		where += fmt.Sprintf(" vertex %d (%v, %v)", p.Vertex, p.Point[0], p.Point[1])
	}
	return where + ": " + p.Kind.describe(p.Other)
}

func (k ProblemKind) describe(other int) string {
	switch k {
	case ProblemUnsupported:
		return "geometry is not a Polygon or MultiPolygon"
	case ProblemEmpty:
		return "geometry has no rings"
	case ProblemTooFewPositions:
		return "ring needs at least 4 positions and 3 distinct points"
	case ProblemNotClosed:
		return "ring is not closed (last position differs from first)"
	case ProblemOutOfRange:
		return "coordinate out of range (longitude -180..180, latitude -90..90)"
	case ProblemSelfIntersection:
		return fmt.Sprintf("ring intersects itself (with the edge from vertex %d)", other)
	case ProblemHoleOutside:
		return "hole is not inside its outer ring"
	case ProblemSwappedLatLon:
		return "latitude and longitude appear to be swapped"
	case ProblemOutsideRegion:
		return "coordinate lies outside the expected region"
	}
	return string(k)
}

// ChinaBound is the expected region for Chinese data: lon 73–136, lat 3–54.
var ChinaBound = orb.Bound{Min: orb.Point{73, 3}, Max: orb.Point{136, 54}}

// Validate checks a Polygon or MultiPolygon for the problems an import must
// refuse. It reports at most one problem of each kind per ring (the first
// vertex or the first pair of edges), and skips the intersection tests of a
// ring that is too short or out of range. It does not check the order of
// rings (clockwise or not), nor whether the polygons of a MultiPolygon or
// two holes overlap each other.
func Validate(g orb.Geometry) []Problem {
	switch g := g.(type) {
	case orb.Polygon:
		return validatePolygon(g, 0)
	case orb.MultiPolygon:
		if len(g) == 0 {
			return []Problem{{Kind: ProblemEmpty, Ring: -1, Vertex: -1, Other: -1}}
		}
		var problems []Problem
		for i, p := range g {
			problems = append(problems, validatePolygon(p, i)...)
		}
		return problems
	}
	return []Problem{{Kind: ProblemUnsupported, Ring: -1, Vertex: -1, Other: -1}}
}

// ValidateIn is Validate plus a check that every vertex lies in region.
// When the geometry lies outside region but inside it with each point's
// coordinates exchanged, it reports only ProblemSwappedLatLon, since the
// other problems are consequences of the swap.
func ValidateIn(g orb.Geometry, region orb.Bound) []Problem {
	problems := Validate(g)
	var out *Problem
	swappedInside := true
	for pi, poly := range polygonsOf(g) {
		for ri, ring := range poly {
			for vi, p := range ring {
				if !region.Contains(p) && out == nil {
					out = &Problem{Kind: ProblemOutsideRegion, Polygon: pi, Ring: ri, Vertex: vi, Point: p, Other: -1}
				}
				swappedInside = swappedInside && region.Contains(orb.Point{p[1], p[0]})
			}
		}
	}
	if out == nil {
		return problems
	}
	if swappedInside {
		out.Kind = ProblemSwappedLatLon
		return []Problem{*out}
	}
	return append(problems, *out)
}

func polygonsOf(g orb.Geometry) orb.MultiPolygon {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// ringPath is a ring reduced for the intersection tests: the closing
// position and consecutive repeats removed, with each kept point's index in
// the original ring.
type ringPath struct {
	pts  []orb.Point
	orig []int
}

func validatePolygon(p orb.Polygon, pi int) []Problem {
	if len(p) == 0 {
		return []Problem{{Kind: ProblemEmpty, Polygon: pi, Ring: -1, Vertex: -1, Other: -1}}
	}
	var problems []Problem
	paths := make([]*ringPath, len(p)) // nil for rings unfit for the geometric tests
	for ri, ring := range p {
		var ringProblems []Problem
		paths[ri], ringProblems = checkRing(ring)
		for _, pr := range ringProblems {
			pr.Polygon, pr.Ring = pi, ri
			problems = append(problems, pr)
		}
	}
	for _, pr := range checkRingGeometry(paths) {
		pr.Polygon = pi
		problems = append(problems, pr)
	}
	return problems
}

// checkRing runs the per-vertex checks and returns the ring's path when the
// geometric checks can run on it.
func checkRing(ring orb.Ring) (*ringPath, []Problem) {
	if len(ring) < 4 {
		return nil, []Problem{{Kind: ProblemTooFewPositions, Vertex: -1, Other: -1}}
	}
	for vi, pt := range ring {
		if !validLonLat(pt) {
			return nil, []Problem{{Kind: ProblemOutOfRange, Vertex: vi, Point: pt, Other: -1}}
		}
	}
	var problems []Problem
	if ring[0] != ring[len(ring)-1] {
		last := len(ring) - 1
		problems = append(problems, Problem{Kind: ProblemNotClosed, Vertex: last, Point: ring[last], Other: -1})
	}
	path := newRingPath(ring)
	if len(path.pts) < 3 {
		return nil, append(problems, Problem{Kind: ProblemTooFewPositions, Vertex: -1, Other: -1})
	}
	return path, problems
}

func validLonLat(p orb.Point) bool {
	return math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90 // false for NaN
}

func newRingPath(ring orb.Ring) *ringPath {
	n := len(ring)
	if ring[0] == ring[n-1] {
		n--
	}
	path := &ringPath{}
	for i := range n {
		if len(path.pts) > 0 && ring[i] == path.pts[len(path.pts)-1] {
			continue
		}
		path.pts = append(path.pts, ring[i])
		path.orig = append(path.orig, i)
	}
	for len(path.pts) > 1 && path.pts[len(path.pts)-1] == path.pts[0] {
		path.pts, path.orig = path.pts[:len(path.pts)-1], path.orig[:len(path.orig)-1]
	}
	return path
}

// checkRingGeometry finds self-intersections and holes that cross or lie
// outside the outer ring (paths[0]).
func checkRingGeometry(paths []*ringPath) []Problem {
	var segs []segment
	for ri, path := range paths {
		if path == nil {
			continue
		}
		for k := range path.pts {
			segs = append(segs, segment{a: path.pts[k], b: path.pts[(k+1)%len(path.pts)], set: int32(ri), seq: int32(k)})
		}
	}
	found := make([]*Problem, 2*len(paths)) // [2r] self-intersection, [2r+1] hole outside
	newSegmentGrid(segs).forEachPair(func(i, j int32) {
		s, t := segs[i], segs[j]
		switch {
		case s.set == t.set:
			if pr, bad := selfIntersection(paths[s.set], s, t); bad {
				keepFirst(&found[2*s.set], pr)
			}
		case s.set == 0 && meet(s.a, s.b, t.a, t.b) == crossing:
			keepFirst(&found[2*t.set+1], holeCrossing(paths[t.set], t, s))
		}
	})
	for ri := 1; ri < len(paths); ri++ {
		if found[2*ri+1] == nil && paths[0] != nil && paths[ri] != nil {
			if pr, outside := holeVertexOutside(paths[ri], paths[0]); outside {
				found[2*ri+1] = &pr
			}
		}
	}
	var problems []Problem
	for k, pr := range found {
		if pr != nil {
			pr.Ring = k / 2
			problems = append(problems, *pr)
		}
	}
	return problems
}

// keepFirst keeps the problem whose edges come first in the ring, so that
// the report does not depend on the order in which pairs were found.
func keepFirst(slot **Problem, pr Problem) {
	if *slot == nil || pr.Vertex < (*slot).Vertex || (pr.Vertex == (*slot).Vertex && pr.Other < (*slot).Other) {
		*slot = &pr
	}
}

// selfIntersection tests two edges of one ring, s before t. Consecutive
// edges may only share their common vertex; they intersect if they fold
// back over each other.
func selfIntersection(path *ringPath, s, t segment) (Problem, bool) {
	n := int32(len(path.pts))
	m := meet(s.a, s.b, t.a, t.b)
	consecutive := t.seq == s.seq+1 || (s.seq == 0 && t.seq == n-1)
	if m == apart || (consecutive && m == touching) {
		return Problem{}, false
	}
	at := s.b // the vertex where touching edges meet, or one end of an overlap
	switch {
	case m == crossing:
		at = crossingPoint(s.a, s.b, t.a, t.b)
	case orient(t.a, t.b, s.a) == 0 && between(t.a, t.b, s.a):
		at = s.a
	case orient(s.a, s.b, t.a) == 0 && between(s.a, s.b, t.a):
		at = t.a
	case orient(s.a, s.b, t.b) == 0 && between(s.a, s.b, t.b):
		at = t.b
	}
	return Problem{Kind: ProblemSelfIntersection, Vertex: path.orig[s.seq], Point: at, Other: path.orig[t.seq]}, true
}

func holeCrossing(hole *ringPath, h, outer segment) Problem {
	return Problem{Kind: ProblemHoleOutside, Vertex: hole.orig[h.seq], Point: crossingPoint(h.a, h.b, outer.a, outer.b), Other: -1}
}

// holeVertexOutside decides a hole that does not cross its outer ring by
// one of its vertices that is not on the outer ring: the whole hole is on
// that vertex's side.
func holeVertexOutside(hole, outer *ringPath) (Problem, bool) {
	for k, p := range hole.pts {
		switch pointInPath(outer, p) {
		case onBoundary:
			continue
		case outside:
			return Problem{Kind: ProblemHoleOutside, Vertex: hole.orig[k], Point: p, Other: -1}, true
		}
		return Problem{}, false
	}
	return Problem{}, false
}

type pointPlace int

const (
	outside pointPlace = iota
	inside
	onBoundary
)

// pointInPath classifies p against a ring exactly: on its boundary, or
// inside or outside it by the crossing-number rule.
func pointInPath(path *ringPath, p orb.Point) pointPlace {
	in := false
	for k, a := range path.pts {
		b := path.pts[(k+1)%len(path.pts)]
		o := orient(a, b, p)
		if o == 0 && between(a, b, p) {
			return onBoundary
		}
		if spansY(p[1], a[1], b[1]) && leftOfEdge(p[0], p[1], a[0], a[1], b[0], b[1]) {
			in = !in
		}
	}
	if in {
		return inside
	}
	return outside
}
