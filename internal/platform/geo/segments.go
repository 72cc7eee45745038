package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// segment is one edge of a ring, for the pairwise tests of validation and
// overlap measurement.
type segment struct {
	a, b orb.Point
	set  int32 // which ring (validation) or which geometry (overlap)
	seq  int32 // the edge's position in its ring or geometry
}

// segmentGrid buckets segments into about one cell per segment so that only
// segments sharing a cell are tested against each other: a 10,000-edge ring
// needs tens of thousands of tests instead of fifty million.
type segmentGrid struct {
	grid
	buckets
}

func newSegmentGrid(segs []segment) *segmentGrid {
	sg := &segmentGrid{}
	sg.minX, sg.minY = math.Inf(1), math.Inf(1)
	sg.maxX, sg.maxY = math.Inf(-1), math.Inf(-1)
	for _, s := range segs {
		sg.extend(s.a[0], s.a[1])
		sg.extend(s.b[0], s.b[1])
	}
	if len(segs) == 0 || !(sg.maxX > sg.minX) || !(sg.maxY > sg.minY) {
		// Empty, or all on one line: a single cell holds everything.
		sg.nx, sg.ny = 1, 1
		sg.start = []int32{0, int32(len(segs))}
		sg.refs = make([]int32, len(segs))
		for i := range segs {
			sg.refs[i] = int32(i)
		}
		return sg
	}
	sg.size(float64(len(segs)))
	m := sg.margin()
	sg.start = make([]int32, sg.nx*sg.ny+1)
	for _, s := range segs {
		sg.forEachCell(s.a[0], s.a[1], s.b[0], s.b[1], m, func(cell int) { sg.start[cell+1]++ })
	}
	for c := 1; c < len(sg.start); c++ {
		sg.start[c] += sg.start[c-1]
	}
	sg.refs = make([]int32, sg.start[len(sg.start)-1])
	cursor := sg.start[1:]
	copy(cursor, sg.start[:len(sg.start)-1])
	for i, s := range segs {
		sg.forEachCell(s.a[0], s.a[1], s.b[0], s.b[1], m, func(cell int) {
			sg.refs[cursor[cell]] = int32(i)
			cursor[cell]++
		})
	}
	return sg
}

// forEachPair calls fn(i, j), i < j, for every two segments that share a
// cell: every pair that may intersect, some more than once.
func (sg *segmentGrid) forEachPair(fn func(i, j int32)) {
	for c := range len(sg.start) - 1 {
		refs := sg.cell(c)
		for x := range refs {
			for y := x + 1; y < len(refs); y++ {
				fn(min(refs[x], refs[y]), max(refs[x], refs[y]))
			}
		}
	}
}

// meeting says how two closed segments meet.
type meeting int

const (
	apart    meeting = iota
	touching         // they share exactly one point, an endpoint of one of them
	crossing         // their interiors cross at one point
	covering         // they are collinear and share a stretch of positive length
)

// meet classifies how segments p1–p2 and p3–p4 meet, exactly. Neither may
// have zero length.
func meet(p1, p2, p3, p4 orb.Point) meeting {
	d1 := orient(p3, p4, p1)
	d2 := orient(p3, p4, p2)
	d3 := orient(p1, p2, p3)
	d4 := orient(p1, p2, p4)
	switch {
	case d1*d2 < 0 && d3*d4 < 0:
		return crossing
	case d1 == 0 && d2 == 0:
		return collinearMeeting(p1, p2, p3, p4)
	case d1 == 0 && between(p3, p4, p1), d2 == 0 && between(p3, p4, p2),
		d3 == 0 && between(p1, p2, p3), d4 == 0 && between(p1, p2, p4):
		return touching
	}
	return apart
}

func orient(a, b, c orb.Point) int {
	return orientSign(a[0], a[1], b[0], b[1], c[0], c[1])
}

// between reports whether q, known to be collinear with a–b, lies on the
// closed segment.
func between(a, b, q orb.Point) bool {
	return min(a[0], b[0]) <= q[0] && q[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= q[1] && q[1] <= max(a[1], b[1])
}

// collinearMeeting compares two collinear segments along their line, using
// x unless the line is vertical.
func collinearMeeting(p1, p2, p3, p4 orb.Point) meeting {
	axis := 0
	if p1[0] == p2[0] {
		axis = 1
	}
	lo := max(min(p1[axis], p2[axis]), min(p3[axis], p4[axis]))
	hi := min(max(p1[axis], p2[axis]), max(p3[axis], p4[axis]))
	switch {
	case lo < hi:
		return covering
	case lo == hi:
		return touching
	}
	return apart
}

// crossingPoint is where the lines through two crossing segments meet
// (rounded; for messages and for splitting edges, not for decisions).
func crossingPoint(p1, p2, p3, p4 orb.Point) orb.Point {
	t := segmentParam(p1, p2, p3, p4)
	return orb.Point{p1[0] + t*(p2[0]-p1[0]), p1[1] + t*(p2[1]-p1[1])}
}

// segmentParam is the position along p1–p2 (0 at p1, 1 at p2) where the
// line through p3–p4 crosses it.
func segmentParam(p1, p2, p3, p4 orb.Point) float64 {
	rx, ry := p2[0]-p1[0], p2[1]-p1[1]
	sx, sy := p4[0]-p3[0], p4[1]-p3[1]
	den := rx*sy - ry*sx
	if den == 0 {
		return 0
	}
	return ((p3[0]-p1[0])*sy - (p3[1]-p1[1])*sx) / den
}

// projectParam is the position along p1–p2 of the projection of q.
func projectParam(p1, p2, q orb.Point) float64 {
	rx, ry := p2[0]-p1[0], p2[1]-p1[1]
	return ((q[0]-p1[0])*rx + (q[1]-p1[1])*ry) / (rx*rx + ry*ry)
}
