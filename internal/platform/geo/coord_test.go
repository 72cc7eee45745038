package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func near(a, b orb.Point, tol float64) bool {
	return math.Abs(a[0]-b[0]) <= tol && math.Abs(a[1]-b[1]) <= tol
}

// The reference values are those printed by the widely used coordtransform
// library for (116.404, 39.915), Tiananmen.
func TestConversionsMatchPublishedValues(t *testing.T) {
	p := orb.Point{116.404, 39.915}
	cases := []struct {
		name string
		got  orb.Point
		want orb.Point
	}{
		{"WGS84ToGCJ02", WGS84ToGCJ02(p), orb.Point{116.41024449916938, 39.91640428150164}},
		{"GCJ02ToBD09", GCJ02ToBD09(p), orb.Point{116.41036949371029, 39.92133699351021}},
		{"BD09ToGCJ02", BD09ToGCJ02(p), orb.Point{116.39762729119315, 39.90865673957631}},
	}
	for _, c := range cases {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("%s(%v) = %v, want %v", c.name, p, c.got, c.want)
		}
	}
}

func TestGCJOffsetMagnitude(t *testing.T) {
	for _, c := range []struct {
		name     string
		p        orb.Point
		min, max float64 // metres
	}{
		{"Beijing", orb.Point{116.404, 39.915}, 200, 900},
		{"Yantai", orb.Point{121.447, 37.464}, 200, 900},
		{"Shenzhen", orb.Point{114.06, 22.54}, 200, 900},
		{"New York", orb.Point{-73.97, 40.78}, 0, 0},
		{"Tokyo", orb.Point{139.69, 35.69}, 0, 0},
	} {
		d := Distance(c.p, WGS84ToGCJ02(c.p))
		if d < c.min || d > c.max {
			t.Errorf("%s: GCJ-02 offset %.1f m, want %v..%v m", c.name, d, c.min, c.max)
		}
	}
}

func TestConversionRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for range 2000 {
		w := orb.Point{73.7 + rng.Float64()*61, 18 + rng.Float64()*35}
		if back := GCJ02ToWGS84(WGS84ToGCJ02(w)); !near(back, w, 1e-8) {
			t.Fatalf("GCJ round trip of %v gave %v", w, back)
		}
		g := WGS84ToGCJ02(w)
		// The published BD-09 inverse is approximate: about 2e-6 degrees (0.2 m).
		if back := BD09ToGCJ02(GCJ02ToBD09(g)); !near(back, g, 3e-6) {
			t.Fatalf("BD round trip of %v gave %v", g, back)
		}
		if back := BD09ToWGS84(WGS84ToBD09(w)); Distance(back, w) > 1 {
			t.Fatalf("BD09→WGS84 round trip of %v gave %v (%.2f m)", w, back, Distance(back, w))
		}
	}
	outside := orb.Point{-73.97, 40.78}
	if GCJ02ToWGS84(outside) != outside || WGS84ToGCJ02(outside) != outside {
		t.Error("GCJ-02 must equal WGS84 outside China")
	}
}
