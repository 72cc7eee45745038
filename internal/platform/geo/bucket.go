package geo

import (
	"fmt"
	"math"
)

// buckets lists, for every cell, the edges that touch it, in one array:
// cell c owns refs[start[c]:start[c+1]]. Edges keep their input order within
// a cell, so each shape's edges are contiguous. It exists only during Build.
type buckets struct {
	start []int32
	refs  []int32
}

func (bk *buckets) cell(c int) []int32 { return bk.refs[bk.start[c]:bk.start[c+1]] }

func (ix *Index) bucketEdges(ids []int32) (buckets, error) {
	m := ix.margin()
	bk := buckets{start: make([]int32, ix.nx*ix.ny+1)}
	total := 0
	for _, e := range ids {
		ax, ay, bx, by := ix.edge(e)
		ix.forEachCell(ax, ay, bx, by, m, func(cell int) {
			bk.start[cell+1]++
			total++
		})
	}
	if total > math.MaxInt32/2 {
		return bk, fmt.Errorf("geo: too many edge-cell pairs (%d); simplify the shapes", total)
	}
	for c := 1; c < len(bk.start); c++ {
		bk.start[c] += bk.start[c-1]
	}
	// Fill using start[c+1] as cell c's cursor: afterwards it has advanced
	// to the end of cell c, where it belongs, and needs no extra array.
	bk.refs = make([]int32, total)
	cursor := bk.start[1:]
	copy(cursor, bk.start[:len(bk.start)-1])
	for _, e := range ids {
		ax, ay, bx, by := ix.edge(e)
		ix.forEachCell(ax, ay, bx, by, m, func(cell int) {
			bk.refs[cursor[cell]] = e
			cursor[cell]++
		})
	}
	return bk, nil
}

func (ix *Index) edge(e int32) (ax, ay, bx, by float64) {
	k := 2 * int(e)
	return ix.pts[k], ix.pts[k+1], ix.pts[k+2], ix.pts[k+3]
}
