package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// cellsPerEdge sets the grid's resolution. More cells mean fewer queries
// land in crossed cells and fewer edges per crossed cell, for 4 bytes per
// cell. On the 100,000-grid hex city, 2 cells per edge gave about 3.4M
// points/s, 4 about 6M (for 35 MB more), and 8 little more than 4.
const cellsPerEdge = 4.0

// Build indexes shapes. Keys must be unique. Coordinates must be finite and
// within ±MaxCoordinate; rings are closed implicitly, and rings with fewer
// than two distinct points, zero-length edges and shapes of zero area are
// accepted (they contain no point). Build does not check for
// self-intersections or overlaps: see Validate and OverlapArea.
func Build(shapes []Shape) (*Index, error) {
	ix := &Index{}
	edges, err := ix.loadShapes(shapes)
	if err != nil {
		return nil, err
	}
	ix.setBounds()
	if len(edges.ids) == 0 || !(ix.maxX > ix.minX && ix.maxY > ix.minY) {
		ix.setEmptyGrid()
		return ix, nil
	}
	ix.size(cellsPerEdge * float64(len(edges.ids)))
	buckets, err := ix.bucketEdges(edges.ids)
	if err != nil {
		return nil, err
	}
	if err := ix.classifyCells(buckets, edges.shapeOf); err != nil {
		return nil, err
	}
	return ix, nil
}

// edgeList names the non-degenerate edges by the index of their first vertex
// in Index.pts, with the shape each belongs to.
type edgeList struct {
	ids     []int32
	shapeOf []int32 // indexed by vertex index, valid for the ids above
}

// loadShapes copies every ring into ix.pts (closing it) and lists the edges.
func (ix *Index) loadShapes(shapes []Shape) (edgeList, error) {
	var el edgeList
	rings, vertices, err := collectRings(shapes)
	if err != nil {
		return el, err
	}
	if vertices > math.MaxInt32/2 {
		return el, fmt.Errorf("geo: too many vertices (%d)", vertices)
	}
	ix.keys = make([]int64, len(shapes))
	for si, s := range shapes {
		ix.keys[si] = s.Key
	}
	ix.pts = make([]float64, 0, 2*vertices)
	el.shapeOf = make([]int32, 0, vertices)
	el.ids = make([]int32, 0, vertices)
	for si, shapeRings := range rings {
		for ri, ring := range shapeRings {
			if err := ix.appendRing(ring, int32(si), &el); err != nil {
				return el, fmt.Errorf("geo: shape %d (key %d) ring %d: %w", si, shapes[si].Key, ri, err)
			}
		}
	}
	return el, nil
}

// collectRings checks keys and geometry types and counts the vertices the
// index will store (each ring closed).
func collectRings(shapes []Shape) (rings [][]orb.Ring, vertices int, err error) {
	seen := make(map[int64]int, len(shapes))
	rings = make([][]orb.Ring, len(shapes))
	for si, s := range shapes {
		if prev, dup := seen[s.Key]; dup {
			return nil, 0, fmt.Errorf("geo: shapes %d and %d have the same key %d", prev, si, s.Key)
		}
		seen[s.Key] = si
		if rings[si], err = shapeRings(s.Geometry); err != nil {
			return nil, 0, fmt.Errorf("geo: shape %d (key %d): %w", si, s.Key, err)
		}
		for _, r := range rings[si] {
			vertices += len(r) + 1
		}
	}
	return rings, vertices, nil
}

func (ix *Index) appendRing(ring orb.Ring, shape int32, el *edgeList) error {
	if len(ring) == 0 {
		return nil
	}
	for vi, p := range ring {
		if !finiteCoordinate(p[0]) || !finiteCoordinate(p[1]) {
			return fmt.Errorf("vertex %d (%v, %v) is not a finite coordinate within ±%g", vi, p[0], p[1], MaxCoordinate)
		}
	}
	first := int32(len(ix.pts) / 2)
	for _, p := range ring {
		ix.pts = append(ix.pts, p[0], p[1])
	}
	if ring[0] != ring[len(ring)-1] {
		ix.pts = append(ix.pts, ring[0][0], ring[0][1])
	}
	last := int32(len(ix.pts)/2) - 1
	for e := first; e < last; e++ {
		el.shapeOf = append(el.shapeOf, shape)
		if k := 2 * int(e); ix.pts[k] != ix.pts[k+2] || ix.pts[k+1] != ix.pts[k+3] {
			el.ids = append(el.ids, e)
		}
	}
	el.shapeOf = append(el.shapeOf, -1) // the ring's last vertex starts no edge
	return nil
}

func (ix *Index) setBounds() {
	if len(ix.pts) == 0 {
		return
	}
	ix.minX, ix.minY = math.Inf(1), math.Inf(1)
	ix.maxX, ix.maxY = math.Inf(-1), math.Inf(-1)
	for k := 0; k < len(ix.pts); k += 2 {
		ix.extend(ix.pts[k], ix.pts[k+1])
	}
}

// setEmptyGrid makes an index that contains no point: shapes of zero area
// (or none at all) contain nothing under the boundary rule.
func (ix *Index) setEmptyGrid() {
	ix.nx, ix.ny = 1, 1
	ix.colX = []float64{ix.minX, ix.maxX}
	ix.rowY = []float64{ix.minY, ix.maxY}
	ix.cells = []int32{cellEmpty}
	// Locate's bounding-box test rejects everything when the box is flat;
	// make sure it also does when there are no vertices at all.
	if ix.maxX <= ix.minX || ix.maxY <= ix.minY {
		ix.maxX, ix.maxY = ix.minX, ix.minY
	}
}
