package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Shape is one area to index: a grid (网格), community or any other region.
// Geometry must be an orb.Polygon or orb.MultiPolygon; the first ring of a
// polygon is its outer ring and the rest are holes. Rings need not repeat
// their first point at the end.
type Shape struct {
	Key      int64
	Geometry orb.Geometry
}

// MaxCoordinate bounds the absolute value of coordinates that Build accepts.
// It keeps every intermediate product of the grid arithmetic finite; it is far
// beyond lon/lat or projected metres.
const MaxCoordinate = 1e15

// Index answers point-in-shape queries for a fixed set of shapes. It is
// immutable after Build and safe for concurrent use.
//
// Layout: a uniform grid of cells over the shapes' bounding box, with about
// four cells per edge. Each cell is either empty, entirely inside one shape
// (answered without looking at any edge), or crossed by edges. A crossed
// cell keeps, per candidate shape, the shape's edges that touch the cell and
// one precomputed parity bit. A query walks from the cell's bottom-left
// corner, whose state is known from build time, to the point along an
// L-shaped path (up the cell's left side, then right) and counts only the
// crossed cell's edges that the path crosses; see locateInBlock.
type Index struct {
	keys []int64

	// pts holds every ring's vertices, closed, as x0,y0,x1,y1,...; edge e runs
	// from vertex e to vertex e+1.
	pts []float64

	grid

	// cells[j*nx+i] is >= 0 for a cell inside that shape, cellEmpty for a
	// cell outside every shape, and -(off+2) for a crossed cell described
	// at blocks[off:].
	cells []int32
	// blocks describes each crossed cell in one run, so that a query reads
	// one contiguous stretch of memory:
	//
	//	candidates
	//	then per candidate: shape<<1 | base, edge count, edge ids...
	//
	// Candidates are the shapes with edges in the cell or containing its
	// corner, in input order. base is the corner's parity for the shape,
	// folded with the corner's side of each of the shape's edges that cross
	// the cell's left side line, so that a query evaluates only the half of
	// each test that depends on the point.
	blocks []int32
}

const cellEmpty = -1

// Len returns the number of shapes in the index.
func (ix *Index) Len() int { return len(ix.keys) }

// Bound returns the bounding box of all indexed shapes.
func (ix *Index) Bound() orb.Bound {
	return orb.Bound{Min: orb.Point{ix.minX, ix.minY}, Max: orb.Point{ix.maxX, ix.maxY}}
}

// Locate returns the key of the shape containing p under the package's
// boundary rule. ok is false when no shape contains p, including when p has a
// NaN coordinate.
func (ix *Index) Locate(p orb.Point) (key int64, ok bool) {
	s := ix.locateShape(p[0], p[1])
	if s < 0 {
		return 0, false
	}
	return ix.keys[s], true
}

// locateShape returns the index of the shape containing (x, y), or -1.
func (ix *Index) locateShape(x, y float64) int32 {
	// The rule puts the right and top edges of the bounding box outside every
	// shape, hence the strict upper bounds; NaN fails every comparison.
	if !(x >= ix.minX && x < ix.maxX && y >= ix.minY && y < ix.maxY) {
		return -1
	}
	i, j := ix.col(x), ix.row(y)
	v := ix.cells[j*ix.nx+i]
	if v >= cellEmpty {
		return v
	}
	return ix.locateInBlock(int(-v-2), ix.colX[i], x, y)
}

// locateInBlock decides a point in a crossed cell. For each candidate shape it
// starts from the parity of the cell's bottom-left corner and flips it for
// every edge that the path corner → (xL, y) → (x, y) crosses: the vertical leg
// crosses edges that span xL and separate the corner from (xL, y); the
// horizontal leg crosses edges that span y and separate (xL, y) from (x, y).
// The corner's side of each edge is folded into the stored base bit. Edges
// that do not touch the cell cannot cross the path, which stays inside it.
func (ix *Index) locateInBlock(off int, xL, x, y float64) int32 {
	pts, b := ix.pts, ix.blocks
	n := int(b[off])
	off++
	for range n {
		shapeBase, edges := b[off], b[off+2:off+2+int(b[off+1])]
		off += 2 + len(edges)
		odd := shapeBase&1 == 1
		for _, e := range edges {
			k := 2 * int(e)
			ax, ay, bx, by := pts[k], pts[k+1], pts[k+2], pts[k+3]
			if spansY(y, ay, by) && leftOfEdge(xL, y, ax, ay, bx, by) != leftOfEdge(x, y, ax, ay, bx, by) {
				odd = !odd
			}
			if spansX(xL, ax, bx) && aboveEdge(xL, y, ax, ay, bx, by) {
				odd = !odd
			}
		}
		if odd {
			return shapeBase >> 1
		}
	}
	return -1
}

// shapeRings flattens a Polygon or MultiPolygon into its rings.
func shapeRings(g orb.Geometry) ([]orb.Ring, error) {
	switch g := g.(type) {
	case orb.Polygon:
		return g, nil
	case orb.MultiPolygon:
		var rings []orb.Ring
		for _, p := range g {
			rings = append(rings, p...)
		}
		return rings, nil
	case nil:
		return nil, fmt.Errorf("geometry is missing")
	default:
		return nil, fmt.Errorf("geometry type %s is not supported (want Polygon or MultiPolygon)", g.GeoJSONType())
	}
}

func finiteCoordinate(v float64) bool {
	return !math.IsNaN(v) && math.Abs(v) <= MaxCoordinate
}
