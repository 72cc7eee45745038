package geo

import (
	"fmt"
	"math"
	"slices"
)

// classifyCells fills ix.cells and ix.blocks.
//
// The state of every cell's bottom-left corner comes from one sweep per row
// line y = rowY[j]: under the boundary rule the corner (colX[i], y) is inside
// a shape when an odd number of that shape's edges spanning y cross the line
// to the right of the corner. Each such edge touches the cell (i', j) in
// whose bottom side it crosses, so it is found among row j's listed edges and
// counted once, there. Walking the row right to left and toggling shapes as
// their crossings are passed gives each corner's set of containing shapes.
// A cell without edges has the same state everywhere as its corner.
func (ix *Index) classifyCells(bk buckets, shapeOf []int32) error {
	ix.cells = make([]int32, ix.nx*ix.ny)
	ix.blocks = make([]int32, 0, blocksSizeHint(bk, shapeOf))
	var sweep rowSweep
	for j := range ix.ny {
		sweep.collect(ix, j, bk, shapeOf)
		for i := ix.nx - 1; i >= 0; i-- {
			sweep.passColumn(i)
			cell := j*ix.nx + i
			edges := bk.cell(cell)
			if len(edges) == 0 {
				ix.cells[cell] = sweep.lowestActive()
				continue
			}
			if len(ix.blocks) > math.MaxInt32/2 {
				return fmt.Errorf("geo: index too large; simplify the shapes")
			}
			ix.cells[cell] = -int32(len(ix.blocks)) - 2
			ix.appendBlock(i, j, edges, shapeOf, sweep.sortedActive())
		}
	}
	return nil
}

// blocksSizeHint is the size of ix.blocks not counting candidates that
// only contain a corner, so that the array is allocated about once.
func blocksSizeHint(bk buckets, shapeOf []int32) int {
	size := len(bk.refs)
	for c := range len(bk.start) - 1 {
		edges := bk.cell(c)
		if len(edges) > 0 {
			size += 3 // the candidate count and the first run's header
		}
		for k := 1; k < len(edges); k++ {
			if shapeOf[edges[k]] != shapeOf[edges[k-1]] {
				size += 2
			}
		}
	}
	return size + size/16
}

// rowSweep tracks which shapes contain the current corner on one row line.
type rowSweep struct {
	crossings []rowCrossing // in increasing column order
	next      int           // crossings[:next] are still to the left
	active    []int32       // shapes with odd parity at the current corner
	sorted    []int32
}

// rowCrossing says that an edge of shape crosses the row line in column col,
// between colX[col] (exclusive) and colX[col+1] (inclusive).
type rowCrossing struct {
	col   int
	shape int32
}

func (s *rowSweep) collect(ix *Index, j int, bk buckets, shapeOf []int32) {
	s.crossings, s.active = s.crossings[:0], s.active[:0]
	y := ix.rowY[j]
	for i := range ix.nx {
		for _, e := range bk.cell(j*ix.nx + i) {
			if ix.crossesRowLineInColumn(e, i, y) {
				s.crossings = append(s.crossings, rowCrossing{col: i, shape: shapeOf[e]})
			}
		}
	}
	s.next = len(s.crossings)
}

// crossesRowLineInColumn reports whether edge e, under the boundary rule,
// crosses the line at height y strictly right of colX[i] and not strictly
// right of colX[i+1]: the corner of column i is left of it, the next is not.
func (ix *Index) crossesRowLineInColumn(e int32, i int, y float64) bool {
	ax, ay, bx, by := ix.edge(e)
	if !spansY(y, ay, by) || !leftOfEdge(ix.colX[i], y, ax, ay, bx, by) {
		return false
	}
	return i == ix.nx-1 || !leftOfEdge(ix.colX[i+1], y, ax, ay, bx, by)
}

// passColumn moves the sweep onto column i's corner, toggling the shapes
// whose edges cross the line within column i.
func (s *rowSweep) passColumn(i int) {
	for s.next > 0 && s.crossings[s.next-1].col == i {
		s.next--
		s.toggle(s.crossings[s.next].shape)
	}
}

func (s *rowSweep) toggle(shape int32) {
	if k := slices.Index(s.active, shape); k >= 0 {
		s.active[k] = s.active[len(s.active)-1]
		s.active = s.active[:len(s.active)-1]
		return
	}
	s.active = append(s.active, shape)
}

// lowestActive is the answer for a cell without edges: the first shape (in
// input order) containing its corner, or cellEmpty.
func (s *rowSweep) lowestActive() int32 {
	if len(s.active) == 0 {
		return cellEmpty
	}
	return slices.Min(s.active)
}

func (s *rowSweep) sortedActive() []int32 {
	s.sorted = append(s.sorted[:0], s.active...)
	slices.Sort(s.sorted)
	return s.sorted
}

// appendBlock describes a crossed cell: one candidate per shape that has
// edges in the cell or contains its corner, in increasing shape order so
// that the first match at query time is the first shape in input order.
func (ix *Index) appendBlock(i, j int, edges, shapeOf, cornerShapes []int32) {
	xL, yB := ix.colX[i], ix.rowY[j]
	countAt := len(ix.blocks)
	ix.blocks = append(ix.blocks, 0)
	for len(edges) > 0 || len(cornerShapes) > 0 {
		shape := nextShape(edges, shapeOf, cornerShapes)
		run := 0
		for run < len(edges) && shapeOf[edges[run]] == shape {
			run++
		}
		base := int32(0)
		if len(cornerShapes) > 0 && cornerShapes[0] == shape {
			base = 1
			cornerShapes = cornerShapes[1:]
		}
		base ^= ix.cornerAboveParity(edges[:run], xL, yB)
		ix.blocks = append(ix.blocks, shape<<1|base, int32(run))
		ix.blocks = append(ix.blocks, edges[:run]...)
		ix.blocks[countAt]++
		edges = edges[run:]
	}
}

// nextShape is the smaller of the next edge's shape and the next corner
// shape.
func nextShape(edges, shapeOf, cornerShapes []int32) int32 {
	switch {
	case len(edges) == 0:
		return cornerShapes[0]
	case len(cornerShapes) == 0:
		return shapeOf[edges[0]]
	default:
		return min(shapeOf[edges[0]], cornerShapes[0])
	}
}

// cornerAboveParity is the XOR, over the edges that cross the cell's left
// side line x = xL, of whether the corner lies above them: the part of the
// vertical-leg test in locateInBlock that does not depend on the query.
func (ix *Index) cornerAboveParity(edges []int32, xL, yB float64) int32 {
	var parity int32
	for _, e := range edges {
		ax, ay, bx, by := ix.edge(e)
		if spansX(xL, ax, bx) && aboveEdge(xL, yB, ax, ay, bx, by) {
			parity ^= 1
		}
	}
	return parity
}
