package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzCoordConversions feeds coordinates as a client could send them
// (any finite lon/lat in range) through the datum conversions. Results
// must be finite; WGS84 → GCJ-02 → WGS84 comes back within 1e-7° (1 cm)
// wherever the offset applies (more than 0.05° inside the rectangle: at its
// edge the inverse's iteration steps in and out of it and does not
// converge, see docs/fuzzing.md) and is the identity outside China; GCJ-02 → BD-09 → GCJ-02 comes back within 1e-5° (the published
// inverse is approximate, about 2e-6°); Distance is finite, symmetric and
// at most half the circumference.
//
//	go test -run '^$' -fuzz FuzzCoordConversions -fuzztime 60s ./internal/platform/geo/
func FuzzCoordConversions(f *testing.F) {
	for _, p := range [][4]float64{
		{121.4405, 37.4605, 121.4265, 37.4825}, // 烟台
		{116.397428, 39.90923, 121.473701, 31.230416},
		{72.004, 0.8293, 137.8347, 55.8271}, // the corners of the GCJ rectangle
		{-0.1276, 51.5072, 0, 0},
		{180, 90, -180, -90},
		{113.264385, 23.129112, 114.057868, 22.543099},
	} {
		f.Add(p[0], p[1], p[2], p[3])
	}
	f.Fuzz(func(t *testing.T, lon, lat, lon2, lat2 float64) {
		p, q := orb.Point{lon, lat}, orb.Point{lon2, lat2}
		if !fuzzInRange(p) || !fuzzInRange(q) {
			return
		}
		g := WGS84ToGCJ02(p)
		b := GCJ02ToBD09(g)
		for _, r := range []orb.Point{g, b, GCJ02ToWGS84(p), BD09ToGCJ02(p), BD09ToWGS84(p), WGS84ToBD09(p)} {
			if !fuzzFinite(r) {
				t.Fatalf("a conversion of %v gave %v", p, r)
			}
		}
		if OutOfChina(p) {
			if g != p || GCJ02ToWGS84(p) != p {
				t.Fatalf("%v is outside China but moved: GCJ %v, WGS %v", p, g, GCJ02ToWGS84(p))
			}
		} else if !nearChinaEdge(p) {
			if back := GCJ02ToWGS84(g); !fuzzNear(back, p, 1e-7) {
				t.Fatalf("WGS %v → GCJ %v → WGS %v", p, g, back)
			}
		}
		if back := BD09ToGCJ02(b); !fuzzNear(back, g, 1e-5) {
			t.Fatalf("GCJ %v → BD %v → GCJ %v", g, b, back)
		}
		d, e := Distance(p, q), Distance(q, p)
		if math.IsNaN(d) || d < 0 || d > math.Pi*6371008.8*(1+1e-9) || math.Abs(d-e) > 1e-6*(1+d) {
			t.Fatalf("Distance(%v, %v) = %v, reverse %v", p, q, d, e)
		}
		if Distance(p, p) != 0 {
			t.Fatalf("Distance(%v, itself) = %v", p, Distance(p, p))
		}
	})
}

// nearChinaEdge reports whether p lies within 0.05° (more than any GCJ-02
// offset) of the edge of the rectangle OutOfChina tests.
func nearChinaEdge(p orb.Point) bool {
	const m = 0.05
	return OutOfChina(orb.Point{p[0] - m, p[1]}) || OutOfChina(orb.Point{p[0] + m, p[1]}) ||
		OutOfChina(orb.Point{p[0], p[1] - m}) || OutOfChina(orb.Point{p[0], p[1] + m})
}

func fuzzInRange(p orb.Point) bool {
	return fuzzFinite(p) && math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90
}

func fuzzFinite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsInf(p[0], 0) && !math.IsNaN(p[1]) && !math.IsInf(p[1], 0)
}

func fuzzNear(a, b orb.Point, tol float64) bool {
	return math.Abs(a[0]-b[0]) <= tol && math.Abs(a[1]-b[1]) <= tol
}
