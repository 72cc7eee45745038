package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// The synthetic city lies near Yantai; a hexagon measures hexSize degrees
// from centre to corner (about 200 m).
const (
	hexLon0 = 121.0
	hexLat0 = 37.0
	hexSize = 0.002
)

// hexLattice is the spacing of the integer lattice on which hexagon corners
// lie: a pointy-top hexagon centred on lattice point (cx, cy) has its corners
// at (cx±1, cy±1) and (cx, cy±2).
var hexLattice = struct{ x, y float64 }{hexSize * math.Sqrt(3) / 2, hexSize / 2}

// hexCornerOffsets lists a hexagon's corners counterclockwise from 30°.
var hexCornerOffsets = [6][2]int{{1, 1}, {0, 2}, {-1, 1}, {-1, -1}, {0, -2}, {1, -1}}

// HexCity generates n grids that tessellate a region without gaps or
// overlaps, for benchmarks and tests. They are pointy-top hexagons about
// 200 m across near Yantai whose sides are split into 1–6 pieces (half of
// the sides zig-zag); about one hexagon in sixteen has a square hole, which
// the next shape, an island of 8 vertices, fills exactly. Shapes have 8–41
// vertices, 21 on average (a handful in 100,000 have 6 or 7). Shared sides
// use bit-identical vertices in both neighbours, every coordinate is a
// multiple of 2⁻²⁴ degrees (so midpoints of edges are exactly
// representable), and unjagged left and right sides are exactly vertical.
// Keys are 1..n; the same n and seed always give the same city.
func HexCity(n int, seed int64) []Shape {
	if n <= 0 {
		return nil
	}
	h := hexHasher(seed)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	shapes := make([]Shape, 0, n)
	for r := 0; len(shapes) < n; r++ {
		for c := 0; c < cols && len(shapes) < n; c++ {
			cx, cy := 2*c+(r&1), 3*r
			outer := h.hexRing(cx, cy)
			if len(shapes)+2 <= n && h.hash(int64(cx), int64(cy), 3)%16 == 0 {
				hole := h.squareHole(cx, cy)
				shapes = append(shapes, Shape{Key: int64(len(shapes) + 1), Geometry: orb.Polygon{outer, hole}})
				shapes = append(shapes, Shape{Key: int64(len(shapes) + 1), Geometry: orb.Polygon{reversed(hole)}})
				continue
			}
			shapes = append(shapes, Shape{Key: int64(len(shapes) + 1), Geometry: orb.Polygon{outer}})
		}
	}
	return shapes
}

type hexHasher int64

// hash mixes the seed and three integers (splitmix64 finaliser).
func (h hexHasher) hash(a, b, c int64) uint64 {
	z := uint64(h)*0x9e3779b97f4a7c15 ^ uint64(a)*0xbf58476d1ce4e5b9 ^ uint64(b)*0x94d049bb133111eb ^ uint64(c)*0x2545f4914f6cdd1d
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ z>>31
}

// unit maps a hash to [-0.5, 0.5).
func (h hexHasher) unit(a, b, c int64) float64 {
	return float64(h.hash(a, b, c)>>11)/(1<<53) - 0.5
}

// corner is the position of lattice point (ix, iy), jittered in y only so
// that vertical sides stay vertical.
func (h hexHasher) corner(ix, iy int) orb.Point {
	jitter := 0.3 * hexLattice.y * h.unit(int64(ix), int64(iy), 1)
	return orb.Point{snap(hexLon0 + float64(ix)*hexLattice.x), snap(hexLat0 + float64(iy)*hexLattice.y + jitter)}
}

func (h hexHasher) hexRing(cx, cy int) orb.Ring {
	ring := make(orb.Ring, 0, 37)
	for k := range 6 {
		p, q := hexCornerOffsets[k], hexCornerOffsets[(k+1)%6]
		side := h.side(cx+p[0], cy+p[1], cx+q[0], cy+q[1])
		ring = append(ring, side[:len(side)-1]...)
	}
	return append(ring, ring[0])
}

// side returns the vertices of the side from lattice corner (ax, ay) to
// (bx, by), both ends included. It is computed in a canonical direction and
// reversed if needed, so that both neighbours get bit-identical vertices.
func (h hexHasher) side(ax, ay, bx, by int) []orb.Point {
	if ax > bx || (ax == bx && ay > by) {
		return reversed(h.side(bx, by, ax, ay))
	}
	key := int64(ax)<<32 ^ int64(ay)<<16 ^ int64(bx)<<8 ^ int64(by)
	pieces := 1 + int(h.hash(key, int64(ax), int64(by))%6)
	jagged := h.hash(key, int64(ay), int64(bx))%2 == 0
	a, b := h.corner(ax, ay), h.corner(bx, by)
	pts := []orb.Point{a}
	for m := 1; m < pieces; m++ {
		t := float64(m) / float64(pieces)
		x, y := a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1])
		if jagged {
			// A sideways offset of at most a fifth of a piece keeps the
			// zig-zag simple and away from the other sides at the corners.
			off := 0.4 * h.unit(key, int64(m), 7) / float64(pieces)
			x, y = x-off*(b[1]-a[1]), y+off*(b[0]-a[0])
		}
		pts = append(pts, orb.Point{snap(x), snap(y)})
	}
	return append(pts, b)
}

// squareHole is a clockwise square around the hexagon's centre, with its
// sides' midpoints as extra vertices.
func (h hexHasher) squareHole(cx, cy int) orb.Ring {
	x := snap(hexLon0 + float64(cx)*hexLattice.x)
	y := snap(hexLat0 + float64(cy)*hexLattice.y)
	d := snap(hexSize / 4)
	return orb.Ring{
		{x - d, y - d}, {x - d, y}, {x - d, y + d}, {x, y + d},
		{x + d, y + d}, {x + d, y}, {x + d, y - d}, {x, y - d}, {x - d, y - d},
	}
}

// snap rounds to a multiple of 2⁻²⁴.
func snap(v float64) float64 {
	return math.Round(v*(1<<24)) / (1 << 24)
}

func reversed[S ~[]E, E any](s S) S {
	out := make(S, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
