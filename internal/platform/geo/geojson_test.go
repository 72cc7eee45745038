package geo

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

const squareCoords = `[[[121.0,37.0],[121.1,37.0],[121.1,37.1],[121.0,37.1],[121.0,37.0]]]`

func read(t *testing.T, doc string) ([]Feature, error) {
	t.Helper()
	return ReadFeatures(strings.NewReader(doc), 1<<20)
}

func TestReadFeatureCollection(t *testing.T) {
	doc := `{"features": [
		{"type": "Feature", "id": "g-1", "properties": {"code": 370602001001001, "name": "一网格"},
		 "geometry": {"type": "Polygon", "coordinates": ` + squareCoords + `}},
		{"type": "Feature", "id": 7, "properties": null,
		 "geometry": {"type": "MultiPolygon", "coordinates": [` + squareCoords + `, ` + squareCoords + `]}}
	], "type": "FeatureCollection", "crs": {"type": "name"}}`
	fs, err := read(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d features", len(fs))
	}
	if fs[0].ID != "g-1" || fs[0].Properties["name"] != "一网格" || fs[0].Properties["code"] != json.Number("370602001001001") {
		t.Errorf("feature 0: %+v", fs[0])
	}
	if p, ok := fs[0].Geometry.(orb.Polygon); !ok || len(p[0]) != 5 || p[0][1] != (orb.Point{121.1, 37.0}) {
		t.Errorf("feature 0 geometry: %v", fs[0].Geometry)
	}
	if fs[1].Index != 1 || fs[1].ID != json.Number("7") || fs[1].Properties == nil {
		t.Errorf("feature 1: %+v", fs[1])
	}
	if mp, ok := fs[1].Geometry.(orb.MultiPolygon); !ok || len(mp) != 2 {
		t.Errorf("feature 1 geometry: %v", fs[1].Geometry)
	}
}

func TestReadSingleFeatureAndBareGeometry(t *testing.T) {
	for name, doc := range map[string]string{
		"feature":      `{"type":"Feature","properties":{"a":1},"geometry":{"type":"Polygon","coordinates":` + squareCoords + `}}`,
		"polygon":      `{"coordinates":` + squareCoords + `,"type":"Polygon"}`,
		"multipolygon": `{"type":"MultiPolygon","coordinates":[` + squareCoords + `]}`,
		"altitude":     `{"type":"Polygon","coordinates":[[[121,37,5],[122,37,5],[122,38,5],[121,37,5]]]}`,
	} {
		fs, err := read(t, doc)
		if err != nil || len(fs) != 1 || fs[0].Geometry == nil || fs[0].Properties == nil {
			t.Errorf("%s: %v, %+v", name, err, fs)
		}
	}
}

func TestReadFeaturesErrors(t *testing.T) {
	poly := `{"type":"Polygon","coordinates":` + squareCoords + `}`
	feature := func(geometry string) string {
		return `{"type":"Feature","properties":{},"geometry":` + geometry + `}`
	}
	collection := func(fs ...string) string {
		return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
	}
	cases := []struct {
		name    string
		doc     string
		kind    error
		feature int // -1 when no feature is named
		text    string
	}{
		{"not JSON", `{"type": "FeatureCollection", "features": [}`, ErrInvalidJSON, -1, "at byte 43"},
		{"not JSON in a feature", collection(feature(poly), `{"type": "Feature",,}`), ErrInvalidJSON, 1, "feature 1"},
		{"truncated", `{"type": "FeatureCollection", "features": [`, ErrInvalidJSON, -1, "ends early"},
		{"array at top", `[1, 2]`, ErrInvalidGeoJSON, -1, "top level"},
		{"no type", `{"features": []}`, ErrInvalidGeoJSON, -1, "no \"type\""},
		{"numeric type", `{"type": 5}`, ErrInvalidGeoJSON, -1, "must be a string"},
		{"features not array", `{"type":"FeatureCollection","features":{}}`, ErrInvalidGeoJSON, -1, "array"},
		{"no features", `{"type":"FeatureCollection"}`, ErrInvalidGeoJSON, -1, "features"},
		{"point", collection(feature(poly), feature(poly), feature(`{"type":"Point","coordinates":[1,2]}`)), ErrNotPolygon, 2, "Point"},
		{"line", collection(feature(`{"type":"LineString","coordinates":[[1,2],[3,4]]}`)), ErrNotPolygon, 0, "LineString"},
		{"collection", collection(feature(poly), feature(`{"type":"GeometryCollection","geometries":[]}`)), ErrNotPolygon, 1, "GeometryCollection"},
		{"null geometry", collection(feature(poly), feature(`null`)), ErrGeometryMissing, 1, "no geometry"},
		{"unknown type", collection(feature(`{"type":"Circle","coordinates":[]}`)), ErrInvalidGeoJSON, 0, "Circle"},
		{"short position", collection(feature(`{"type":"Polygon","coordinates":[[[1],[2,3],[4,5],[1,2]]]}`)), ErrInvalidGeoJSON, 0, "position 0"},
		{"string coordinate", collection(feature(`{"type":"Polygon","coordinates":[[["1","2"]]]}`)), ErrInvalidGeoJSON, 0, "coordinates"},
		{"not a feature", collection(poly), ErrInvalidGeoJSON, 0, "want \"Feature\""},
		{"bad properties", collection(`{"type":"Feature","properties":[1],"geometry":` + poly + `}`), ErrInvalidGeoJSON, 0, "properties"},
		{"bad id", collection(`{"type":"Feature","id":{},"geometry":` + poly + `}`), ErrInvalidGeoJSON, 0, "id"},
		{"trailing data", poly + ` {}`, ErrInvalidJSON, -1, "after"},
		{"huge number", `{"type":"Polygon","coordinates":[[[1e999,0],[1,1],[0,1],[0,0]]]}`, ErrInvalidGeoJSON, -1, "coordinates"},
	}
	for _, c := range cases {
		_, err := read(t, c.doc)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: error %q is not %v", c.name, err, c.kind)
		}
		var fe *FeatureError
		if named := errors.As(err, &fe); named != (c.feature >= 0) || (named && fe.Index != c.feature) {
			t.Errorf("%s: error %q names the wrong feature (want %d)", c.name, err, c.feature)
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.text)
		}
	}
}

// endless serves a FeatureCollection that never ends, counting the bytes
// it hands out.
type endless struct{ served int64 }

func (e *endless) Read(p []byte) (int, error) {
	const head = `{"type":"FeatureCollection","features":[`
	const feature = `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}},`
	for i := range p {
		k := e.served + int64(i)
		if k < int64(len(head)) {
			p[i] = head[k]
		} else {
			p[i] = feature[(k-int64(len(head)))%int64(len(feature))]
		}
	}
	e.served += int64(len(p))
	return len(p), nil
}

func TestReadFeaturesRefusesOversizedInputEarly(t *testing.T) {
	src := &endless{}
	const limit = 1 << 20
	_, err := ReadFeatures(src, limit)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if src.served > limit+1 {
		t.Errorf("read %d bytes with a limit of %d", src.served, limit)
	}
	if _, err := ReadFeatures(strings.NewReader(`{"type":"Polygon","coordinates":`+squareCoords+`}`), 20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("small limit: got %v", err)
	}
	if _, err := ReadFeatures(strings.NewReader(`{}`), 0); err == nil {
		t.Error("a zero limit was accepted")
	}
}

func TestReadFeaturesExactlyAtLimit(t *testing.T) {
	doc := `{"type":"Polygon","coordinates":` + squareCoords + `}`
	if _, err := ReadFeatures(strings.NewReader(doc), int64(len(doc))); err != nil {
		t.Errorf("a document of exactly the limit was refused: %v", err)
	}
}

func TestReadFeaturesNYC(t *testing.T) {
	shapes := nycShapes(t)
	if len(shapes) != 71 {
		t.Fatalf("got %d districts, want 71", len(shapes))
	}
	vertices := 0
	for _, s := range shapes {
		rings, _ := shapeRings(s.Geometry)
		for _, r := range rings {
			vertices += len(r)
		}
	}
	if vertices < 80000 {
		t.Errorf("only %d vertices", vertices)
	}
}

// slowReader returns one byte per call, as a network connection may.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(1, len(p))]) }

func TestReadFeaturesFromSlowReader(t *testing.T) {
	doc := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":` + squareCoords + `}}]}`
	fs, err := ReadFeatures(slowReader{strings.NewReader(doc)}, int64(len(doc)))
	if err != nil || len(fs) != 1 {
		t.Errorf("got %v, %v", fs, err)
	}
}
