package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// metres converts a planar test layout in metres to lon/lat near Yantai, so
// that expected areas are easy to state. The projection used by the code is
// centred elsewhere, hence tolerances of 1e-4 relative.
func metres(r orb.Ring) orb.Ring {
	const lat0 = 37.5
	k := earthRadius * math.Pi / 180
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[i] = orb.Point{121.4 + p[0]/(k*math.Cos(lat0*math.Pi/180)), lat0 + p[1]/k}
	}
	return out
}

func mSquare(x0, y0, x1, y1 float64) orb.Ring { return metres(square(x0, y0, x1, y1)) }

func TestOverlapArea(t *testing.T) {
	a := orb.Polygon{mSquare(0, 0, 100, 100)}
	cases := []struct {
		name string
		b    orb.Geometry
		want float64 // m²
	}{
		{"quarter overlap", orb.Polygon{mSquare(50, 50, 150, 150)}, 2500},
		{"identical", orb.Polygon{mSquare(0, 0, 100, 100)}, 10000},
		{"identical, clockwise", orb.Polygon{reversed(mSquare(0, 0, 100, 100))}, 10000},
		{"adjacent, sharing a side", orb.Polygon{mSquare(100, 0, 200, 100)}, 0},
		{"touching at a corner", orb.Polygon{mSquare(100, 100, 200, 200)}, 0},
		{"apart", orb.Polygon{mSquare(300, 0, 400, 100)}, 0},
		{"inside", orb.Polygon{mSquare(10, 10, 30, 40)}, 600},
		{"containing", orb.Polygon{mSquare(-10, -10, 110, 110)}, 10000},
		{"inside, sharing two sides", orb.Polygon{mSquare(0, 0, 30, 30)}, 900},
		{"in the hole of a donut", orb.Polygon{mSquare(-50, -50, 150, 150), mSquare(-1, -1, 101, 101)}, 0},
		{"donut over a corner", orb.Polygon{mSquare(50, 50, 250, 250), mSquare(60, 60, 240, 240)}, 2500 - 1600},
		{"strip crossing", orb.Polygon{mSquare(40, -20, 60, 120)}, 2000},
		{"passing through a side at a vertex", orb.Polygon{metres(orb.Ring{{30, -20}, {50, 0}, {70, 20}, {70, -20}, {30, -20}})}, 200},
		{"multipolygon", orb.MultiPolygon{{mSquare(-10, -10, 10, 10)}, {mSquare(90, 90, 110, 110)}}, 200},
	}
	for _, c := range cases {
		got, err := OverlapArea(a, c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 0.01+1e-4*c.want {
			t.Errorf("%s: overlap %.4f m², want %v", c.name, got, c.want)
		}
		back, _ := OverlapArea(c.b, a)
		if math.Abs(back-got) > 0.01 {
			t.Errorf("%s: not symmetric: %v vs %v", c.name, got, back)
		}
	}
}

func TestOverlapAreaOfAdjacentGridsIsZero(t *testing.T) {
	shapes := HexCity(200, 8)
	for i := range 60 {
		for j := i + 1; j < 60; j++ {
			if !shapes[i].Geometry.Bound().Intersects(shapes[j].Geometry.Bound()) {
				continue
			}
			got, err := OverlapArea(shapes[i].Geometry, shapes[j].Geometry)
			if err != nil {
				t.Fatal(err)
			}
			if got > 1e-3 {
				t.Errorf("grids %d and %d overlap by %v m²", shapes[i].Key, shapes[j].Key, got)
			}
		}
	}
	self, _ := OverlapArea(shapes[0].Geometry, shapes[0].Geometry)
	area, _ := Area(shapes[0].Geometry)
	if math.Abs(self-area) > 1e-6*area || area < 50000 {
		t.Errorf("self overlap %v, area %v", self, area)
	}
}

func TestWithin(t *testing.T) {
	community := orb.Polygon{mSquare(0, 0, 1000, 1000)}
	cases := []struct {
		name    string
		grid    orb.Geometry
		within  bool
		outside float64
	}{
		{"inside", orb.Polygon{mSquare(100, 100, 200, 200)}, true, 0},
		{"on the boundary", orb.Polygon{mSquare(0, 0, 200, 1000)}, true, 0},
		{"whole community", community, true, 0},
		{"sticking out", orb.Polygon{mSquare(900, 100, 1100, 200)}, false, 10000},
		{"outside", orb.Polygon{mSquare(2000, 0, 2100, 100)}, false, 10000},
	}
	for _, c := range cases {
		within, outside, err := Within(c.grid, community, 1)
		if err != nil {
			t.Fatal(err)
		}
		if within != c.within || math.Abs(outside-c.outside) > 0.01+1e-4*c.outside {
			t.Errorf("%s: Within = %v, %.4f m²; want %v, %v", c.name, within, outside, c.within, c.outside)
		}
	}
}

func TestAreaOfNYCDistrict(t *testing.T) {
	// Shape_Area in the NYC file is in square feet (NY State Plane).
	shapes := nycShapes(t)
	area, err := Area(shapes[0].Geometry)
	if err != nil {
		t.Fatal(err)
	}
	want := 103175931.712 * 0.09290304 // feature 0, BoroCD 311
	if math.Abs(area-want) > 0.005*want {
		t.Errorf("area %.0f m², want about %.0f", area, want)
	}
}

func TestOverlapRejectsNonPolygons(t *testing.T) {
	if _, err := OverlapArea(orb.Point{1, 2}, orb.Polygon{mSquare(0, 0, 1, 1)}); err == nil {
		t.Error("expected an error for a point")
	}
	if _, _, err := Within(orb.Polygon{{{0, 0}, {200, 0}, {0, 1}, {0, 0}}}, orb.Polygon{mSquare(0, 0, 1, 1)}, 1); err == nil {
		t.Error("expected an error for an out-of-range coordinate")
	}
}
