package area

import (
	"encoding/json"
	"fmt"

	"github.com/paulmach/orb"
)

// Boundaries are stored as GeoJSON geometry text. The two shapes Linli keeps
// need a few lines of encoding/json, not orb/geojson, which would pull a BSON
// driver into the binary.

type geometryJSON struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

func marshalGeometry(g orb.Geometry) (string, error) {
	var typ string
	switch g.(type) {
	case orb.Polygon:
		typ = "Polygon"
	case orb.MultiPolygon:
		typ = "MultiPolygon"
	default:
		return "", fmt.Errorf("area: cannot store a %T boundary", g)
	}
	coords, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(geometryJSON{Type: typ, Coordinates: coords})
	return string(b), err
}

func unmarshalGeometry(s string) (orb.Geometry, error) {
	var gj geometryJSON
	if err := json.Unmarshal([]byte(s), &gj); err != nil {
		return nil, err
	}
	switch gj.Type {
	case "Polygon":
		var p orb.Polygon
		err := json.Unmarshal(gj.Coordinates, &p)
		return p, err
	case "MultiPolygon":
		var mp orb.MultiPolygon
		err := json.Unmarshal(gj.Coordinates, &mp)
		return mp, err
	}
	return nil, fmt.Errorf("area: stored boundary has type %q", gj.Type)
}

// feature is a GeoJSON feature for exports.
type feature struct {
	Type       string          `json:"type"`
	Properties map[string]any  `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
}

type featureCollection struct {
	Type     string    `json:"type"`
	Features []feature `json:"features"`
}
