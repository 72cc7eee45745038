package geo

import (
	"math"
	"math/big"
)

// orientErrBound is Shewchuk's ccwerrboundA: when the floating-point
// determinant is larger in magnitude than this multiple of |l|+|r|, its sign
// is the sign of the exact determinant.
const orientErrBound = (3.0 + 16.0*epsilon) * epsilon

// epsilon is 2^-53, half an ulp of 1.
const epsilon = 1.0 / (1 << 53)

// tinyDet guards the filter against underflow: below it a product may have
// lost its relative accuracy, so the exact path decides.
const tinyDet = 1e-280

// orientSign returns +1 when c lies to the left of the directed line a→b
// (a, b, c counterclockwise), -1 when it lies to the right, and 0 when the
// three points are exactly collinear. The result is always exact.
func orientSign(ax, ay, bx, by, cx, cy float64) int {
	acx, bcy, acy, bcx := ax-cx, by-cy, ay-cy, bx-cx
	if (acx == 0 || bcy == 0) && (acy == 0 || bcx == 0) {
		// Both products have an exactly zero factor (a difference of floats
		// is zero only when they are equal): c shares a coordinate line
		// with a and b, or coincides with one of them.
		return 0
	}
	l := acx * bcy
	r := acy * bcx
	det := l - r
	bound := orientErrBound * (math.Abs(l) + math.Abs(r))
	if det > bound && det > tinyDet {
		return 1
	}
	if -det > bound && -det > tinyDet {
		return -1
	}
	return orientSignExact(ax, ay, bx, by, cx, cy)
}

// orientSignExact evaluates the orientation determinant in rational
// arithmetic. It is slow (about a microsecond) but only runs when a point is
// on or within rounding distance of a line, which is rare for real queries.
func orientSignExact(ax, ay, bx, by, cx, cy float64) int {
	var acx, bcy, acy, bcx, l, r big.Rat
	acx.Sub(rat(ax), rat(cx))
	bcy.Sub(rat(by), rat(cy))
	acy.Sub(rat(ay), rat(cy))
	bcx.Sub(rat(bx), rat(cx))
	l.Mul(&acx, &bcy)
	r.Mul(&acy, &bcx)
	return l.Cmp(&r)
}

func rat(v float64) *big.Rat {
	return new(big.Rat).SetFloat64(v)
}

// leftOfEdge reports whether (qx, qy) lies strictly left of the edge a–b at
// height qy, i.e. qx < x(edge at qy). The caller guarantees that the edge
// spans qy in the half-open sense, so it is not horizontal.
func leftOfEdge(qx, qy, ax, ay, bx, by float64) bool {
	if qx < ax && qx < bx {
		return true
	}
	if qx >= ax && qx >= bx {
		return false
	}
	if ay < by {
		return orientSign(ax, ay, bx, by, qx, qy) > 0
	}
	return orientSign(bx, by, ax, ay, qx, qy) > 0
}

// aboveEdge reports whether the displaced point (qx+ε, qy+δ) lies above the
// edge a–b. The caller guarantees that the edge spans qx in the half-open
// sense (min x <= qx < max x), so it is not vertical. When (qx, qy) is exactly
// on the edge, the displaced point is above it unless the edge rises to the
// right: ε dominates δ, so the edge's slope decides.
func aboveEdge(qx, qy, ax, ay, bx, by float64) bool {
	if qy > ay && qy > by {
		return true
	}
	if qy < ay && qy < by {
		return false
	}
	lx, ly, rx, ry := ax, ay, bx, by
	if bx < ax {
		lx, ly, rx, ry = bx, by, ax, ay
	}
	switch orientSign(lx, ly, rx, ry, qx, qy) {
	case 1:
		return true
	case -1:
		return false
	}
	return ry <= ly
}

// spansY reports whether an edge with endpoint heights ay and by is crossed by
// the horizontal line at y under the half-open rule min <= y < max.
func spansY(y, ay, by float64) bool {
	return (ay <= y) != (by <= y)
}

// spansX is spansY for vertical lines: min <= x < max.
func spansX(x, ax, bx float64) bool {
	return (ax <= x) != (bx <= x)
}
