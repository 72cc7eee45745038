package geo

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// refOrient computes the orientation determinant in rational arithmetic,
// written independently of orientSignExact.
func refOrient(ax, ay, bx, by, cx, cy float64) int {
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	bax := new(big.Rat).Sub(r(bx), r(ax))
	cay := new(big.Rat).Sub(r(cy), r(ay))
	bay := new(big.Rat).Sub(r(by), r(ay))
	cax := new(big.Rat).Sub(r(cx), r(ax))
	return new(big.Rat).Mul(bax, cay).Cmp(new(big.Rat).Mul(bay, cax))
}

// TestOrientSignIsExactNearLines uses Kettner et al.'s classic failure case
// for floating-point orientation: points a few ulps from a line through two
// points with long mantissas, where the rounded determinant has the wrong
// sign or is zero.
func TestOrientSignIsExactNearLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	wrongFloat := 0
	for range 20000 {
		ax, ay := 121+rng.Float64(), 37+rng.Float64()
		bx, by := 121+rng.Float64(), 37+rng.Float64()
		u := rng.Float64()
		cx, cy := ax+u*(bx-ax), ay+u*(by-ay)
		for range rng.IntN(3) {
			cx = math.Nextafter(cx, math.Inf(2*rng.IntN(2)-1))
		}
		want := refOrient(ax, ay, bx, by, cx, cy)
		if got := orientSign(ax, ay, bx, by, cx, cy); got != want {
			t.Fatalf("orientSign(%v,%v, %v,%v, %v,%v) = %d, want %d", ax, ay, bx, by, cx, cy, got, want)
		}
		det := (ax-cx)*(by-cy) - (ay-cy)*(bx-cx)
		if sign(det) != want {
			wrongFloat++
		}
	}
	if wrongFloat == 0 {
		t.Error("no case defeated plain floating point; the test does not exercise the exact path")
	}
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func TestOrientSignTinyAndHugeCoordinates(t *testing.T) {
	cases := [][6]float64{
		{0, 0, 1e-300, 1e-300, 2e-300, 2e-300},
		{0, 0, 1e-300, 1e-300, 2e-300, 2.0000000000000004e-300},
		{0, 0, 5e-324, 0, 0, 5e-324},
		{-1e15, -1e15, 1e15, 1e15, 0, 1e-15},
		{1e15, 0, -1e15, 1, 0, 0.5},
	}
	for _, c := range cases {
		want := refOrient(c[0], c[1], c[2], c[3], c[4], c[5])
		if got := orientSign(c[0], c[1], c[2], c[3], c[4], c[5]); got != want {
			t.Errorf("orientSign%v = %d, want %d", c, got, want)
		}
	}
}
