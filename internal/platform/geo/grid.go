package geo

import "math"

// Limits on a grid's size, whatever the number of edges.
const (
	maxCells    = 1 << 26
	maxGridSide = 1 << 16
)

// grid is a uniform grid of cells over a bounding box. Cell (i, j) spans
// [colX[i], colX[i+1]] × [rowY[j], rowY[j+1]] and is numbered j*nx+i. The
// cell lines are stored rather than recomputed so that every use of a line
// (building, querying) sees the same floating-point number.
type grid struct {
	minX, minY, maxX, maxY float64
	nx, ny                 int
	invW, invH             float64
	colX                   []float64 // nx+1 lines
	rowY                   []float64 // ny+1 lines
}

// extend grows the bounding box to include (x, y).
func (g *grid) extend(x, y float64) {
	g.minX, g.maxX = min(g.minX, x), max(g.maxX, x)
	g.minY, g.maxY = min(g.minY, y), max(g.maxY, y)
}

// size chooses about target roughly square cells over the bounding box,
// which must have positive width and height.
func (g *grid) size(target float64) {
	w, h := g.maxX-g.minX, g.maxY-g.minY
	target = math.Min(math.Max(target, 1), maxCells)
	side := math.Sqrt(w) * math.Sqrt(h/target) // in this order to avoid underflow
	g.nx, g.invW, g.colX = cellLines(g.minX, g.maxX, w/side)
	g.ny, g.invH, g.rowY = cellLines(g.minY, g.maxY, h/side)
	for g.nx*g.ny > maxCells {
		g.nx, g.invW, g.colX = cellLines(g.minX, g.maxX, float64(g.nx*3/4))
		g.ny, g.invH, g.rowY = cellLines(g.minY, g.maxY, float64(g.ny*3/4))
	}
}

// cellLines divides [lo, hi] into about count equal cells. Extents so tiny
// that their reciprocal overflows get one cell (and an inverse width of 0,
// so that every coordinate maps to it).
func cellLines(lo, hi, count float64) (n int, inv float64, lines []float64) {
	n = 1
	if count > 1 { // false for NaN
		n = int(math.Min(math.Ceil(count), maxGridSide))
	}
	step := (hi - lo) / float64(n)
	inv = 1 / step
	if math.IsInf(inv, 0) || math.IsNaN(inv) {
		n, step, inv = 1, hi-lo, 0
	}
	return n, inv, gridLines(lo, hi, step, n)
}

// gridLines returns n+1 increasing lines; the last is exactly hi so that
// every coordinate in the box lies within some cell's closed extent.
func gridLines(lo, hi, step float64, n int) []float64 {
	lines := make([]float64, n+1)
	for i := range n {
		lines[i] = lo + float64(i)*step
	}
	lines[n] = hi
	return lines
}

// margin is how far (in coordinate units) an edge may miss a cell and still
// be listed in it. It must exceed the rounding error of computing a point's
// cell and of clipping an edge to a row or column (a few ulps of the largest
// coordinate); listing an edge in one cell too many only costs time, while
// missing one would give wrong answers.
func (g *grid) margin() float64 {
	scale := math.Max(math.Max(math.Abs(g.minX), math.Abs(g.maxX)), math.Max(math.Abs(g.minY), math.Abs(g.maxY)))
	return 1e-12 * (scale + (g.maxX - g.minX) + (g.maxY - g.minY))
}

// col returns the column of x, clamped to the grid.
func (g *grid) col(x float64) int {
	return cellOf((x-g.minX)*g.invW, g.nx)
}

// row returns the row of y, clamped to the grid.
func (g *grid) row(y float64) int {
	return cellOf((y-g.minY)*g.invH, g.ny)
}

// cellOf truncates t to a cell number in [0, n), without relying on how
// out-of-range floats convert to int.
func cellOf(t float64, n int) int {
	switch {
	case !(t > 0):
		return 0
	case t >= float64(n):
		return n - 1
	}
	return int(t)
}

// forEachCell calls fn for every cell whose box, grown by m, the segment a–b
// may touch. It walks the segment's dominant axis so that the interpolated
// coordinate has an error of at most a few ulps (the slope is at most 1).
func (g *grid) forEachCell(ax, ay, bx, by, m float64, fn func(cell int)) {
	if math.Abs(bx-ax) >= math.Abs(by-ay) {
		g.walkColumns(ax, ay, bx, by, m, fn)
	} else {
		g.walkRows(ax, ay, bx, by, m, fn)
	}
}

func (g *grid) walkColumns(ax, ay, bx, by, m float64, fn func(cell int)) {
	if bx < ax {
		ax, ay, bx, by = bx, by, ax, ay
	}
	slope := 0.0
	if bx > ax {
		slope = (by - ay) / (bx - ax)
	}
	for c := g.col(ax - m); c <= g.col(bx+m); c++ {
		x0, x1 := max(ax, g.colX[c]-m), min(bx, g.colX[c+1]+m)
		if x0 > x1 {
			continue
		}
		y0, y1 := ay+(x0-ax)*slope, ay+(x1-ax)*slope
		for r := g.row(min(y0, y1) - m); r <= g.row(max(y0, y1)+m); r++ {
			fn(r*g.nx + c)
		}
	}
}

func (g *grid) walkRows(ax, ay, bx, by, m float64, fn func(cell int)) {
	if by < ay {
		ax, ay, bx, by = bx, by, ax, ay
	}
	slope := (bx - ax) / (by - ay)
	for r := g.row(ay - m); r <= g.row(by+m); r++ {
		y0, y1 := max(ay, g.rowY[r]-m), min(by, g.rowY[r+1]+m)
		if y0 > y1 {
			continue
		}
		x0, x1 := ax+(y0-ay)*slope, ax+(y1-ay)*slope
		for c := g.col(min(x0, x1) - m); c <= g.col(max(x0, x1)+m); c++ {
			fn(r*g.nx + c)
		}
	}
}
