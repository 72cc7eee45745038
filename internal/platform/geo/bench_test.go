package geo

import "testing"

func TestRunLocateBench(t *testing.T) {
	res, err := RunLocateBench(HexCity(500, 1), 20000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if res.Shapes != 500 || res.Points != 20000 {
		t.Errorf("counts: %+v", res)
	}
	// The hex city fills most of its bounding box; only the jagged rim and
	// the incomplete top row are empty.
	if res.Found < 15000 || res.Found > 20000 {
		t.Errorf("found %d of 20000", res.Found)
	}
	if res.PointsPerSec <= 0 || res.BuildMS <= 0 || res.HeapMB <= 0 {
		t.Errorf("measurements missing: %+v", res)
	}
	again, _ := RunLocateBench(HexCity(500, 1), 20000, 7)
	if again.Found != res.Found {
		t.Errorf("same seed, different points: %d vs %d", again.Found, res.Found)
	}
	if _, err := RunLocateBench([]Shape{{Key: 1}}, 10, 1); err == nil {
		t.Error("a shape without geometry was accepted")
	}
}

func TestHexCitySmall(t *testing.T) {
	if HexCity(0, 1) != nil {
		t.Error("HexCity(0) is not empty")
	}
	for _, n := range []int{1, 2, 17, 100} {
		if got := len(HexCity(n, 5)); got != n {
			t.Errorf("HexCity(%d) has %d shapes", n, got)
		}
	}
}
