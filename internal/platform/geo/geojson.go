package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/paulmach/orb"
)

// Feature is one polygon feature read by ReadFeatures.
type Feature struct {
	// Index is the feature's position in its FeatureCollection (0 for a
	// lone Feature or geometry); errors name features by it.
	Index int
	// ID is the feature's "id" member: a string, a json.Number, or nil.
	ID any
	// Properties holds the "properties" member; numbers are json.Number so
	// that long codes survive intact. Never nil.
	Properties map[string]any
	// Geometry is an orb.Polygon or an orb.MultiPolygon.
	Geometry orb.Geometry
}

// Errors returned by ReadFeatures, to be tested with errors.Is. A problem
// with one feature is also a *FeatureError naming it.
var (
	ErrTooLarge          = errors.New("GeoJSON input is larger than the limit")
	ErrInvalidJSON       = errors.New("input is not valid JSON")
	ErrInvalidGeoJSON    = errors.New("input is not valid GeoJSON")
	ErrNotPolygon        = errors.New("geometry is not a Polygon or MultiPolygon")
	ErrGeometryMissing   = errors.New("feature has no geometry")
	errReaderNoProgress  = errors.New("reader returned no data and no error")
	errFeaturesNotArray  = fmt.Errorf("%w: \"features\" must be an array", ErrInvalidGeoJSON)
	errTopLevelNotObject = fmt.Errorf("%w: the top level must be a JSON object", ErrInvalidGeoJSON)
)

// FeatureError is a problem with one feature of a collection.
type FeatureError struct {
	Index int
	Err   error
}

func (e *FeatureError) Error() string { return fmt.Sprintf("feature %d: %v", e.Index, e.Err) }
func (e *FeatureError) Unwrap() error { return e.Err }

// ReadFeatures reads a GeoJSON FeatureCollection, a single Feature, or a bare
// Polygon or MultiPolygon geometry (returned as one feature without
// properties). Every feature must have a Polygon or MultiPolygon geometry.
//
// It reads at most maxBytes bytes (which must be positive) and returns
// ErrTooLarge if the input is longer, without reading further. Features are
// decoded one at a time, so memory stays proportional to the result, not to
// the input. It checks structure only; use Validate on each geometry.
func ReadFeatures(r io.Reader, maxBytes int64) ([]Feature, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("geo: ReadFeatures needs a positive byte limit, got %d", maxBytes)
	}
	lr := &limitReader{r: r, left: maxBytes}
	dec := json.NewDecoder(lr)
	dec.UseNumber()
	features, err := readTopLevel(dec)
	if err == nil {
		err = expectEOF(dec)
	}
	if err != nil {
		return nil, describeReadError(err, lr, maxBytes)
	}
	return features, nil
}

// topLevel collects the members of the outermost object; which of them
// matter depends on "type", which may come last.
type topLevel struct {
	typ         string
	features    []Feature
	hasFeatures bool
	members     map[string]json.RawMessage // geometry, properties, id, coordinates
}

func readTopLevel(dec *json.Decoder) ([]Feature, error) {
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, errTopLevelNotObject
	}
	doc := topLevel{members: map[string]json.RawMessage{}}
	for dec.More() {
		if err := doc.readMember(dec); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return doc.result()
}

func (doc *topLevel) readMember(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	key, _ := tok.(string)
	switch key {
	case "type":
		err := dec.Decode(&doc.typ)
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%w: \"type\" must be a string", ErrInvalidGeoJSON)
		}
		return err
	case "features":
		doc.hasFeatures = true
		doc.features, err = readFeatureArray(dec)
		return err
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	switch key {
	case "geometry", "properties", "id", "coordinates":
		doc.members[key] = raw
	}
	return nil
}

func (doc *topLevel) result() ([]Feature, error) {
	switch doc.typ {
	case "FeatureCollection":
		if !doc.hasFeatures {
			return nil, fmt.Errorf("%w: FeatureCollection has no \"features\" member", ErrInvalidGeoJSON)
		}
		if doc.features == nil {
			doc.features = []Feature{}
		}
		return doc.features, nil
	case "Feature":
		f, err := featureFromMembers(doc.members["geometry"], doc.members["properties"], doc.members["id"])
		if err != nil {
			return nil, &FeatureError{Index: 0, Err: err}
		}
		return []Feature{f}, nil
	case "":
		return nil, fmt.Errorf("%w: the top-level object has no \"type\"", ErrInvalidGeoJSON)
	}
	g, err := geometryFromMembers(doc.typ, doc.members["coordinates"])
	if err != nil {
		return nil, err
	}
	return []Feature{{Properties: map[string]any{}, Geometry: g}}, nil
}

// readFeatureArray decodes the "features" array one element at a time.
func readFeatureArray(dec *json.Decoder) ([]Feature, error) {
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('[') {
		return nil, errFeaturesNotArray
	}
	features := []Feature{}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &FeatureError{Index: i, Err: err}
		}
		f, err := parseFeature(raw)
		if err != nil {
			return nil, &FeatureError{Index: i, Err: err}
		}
		f.Index = i
		features = append(features, f)
	}
	_, err := dec.Token() // the closing bracket
	return features, err
}

func parseFeature(raw json.RawMessage) (Feature, error) {
	var f struct {
		Type       string          `json:"type"`
		ID         json.RawMessage `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return Feature{}, fmt.Errorf("%w: a feature must be an object with a string \"type\"", ErrInvalidGeoJSON)
	}
	if f.Type != "Feature" {
		return Feature{}, fmt.Errorf("%w: \"type\" is %q, want \"Feature\"", ErrInvalidGeoJSON, f.Type)
	}
	return featureFromMembers(f.Geometry, f.Properties, f.ID)
}

func featureFromMembers(geometry, properties, id json.RawMessage) (Feature, error) {
	f := Feature{Properties: map[string]any{}}
	if isAbsent(geometry) {
		return f, ErrGeometryMissing
	}
	g, err := parseGeometry(geometry)
	if err != nil {
		return f, err
	}
	f.Geometry = g
	if !isAbsent(properties) {
		if err := decodeNumbers(properties, &f.Properties); err != nil || f.Properties == nil {
			return f, fmt.Errorf("%w: \"properties\" must be an object or null", ErrInvalidGeoJSON)
		}
	}
	if !isAbsent(id) {
		if err := decodeNumbers(id, &f.ID); err != nil {
			return f, err
		}
		switch f.ID.(type) {
		case string, json.Number:
		default:
			return f, fmt.Errorf("%w: \"id\" must be a string or a number", ErrInvalidGeoJSON)
		}
	}
	return f, nil
}

func parseGeometry(raw json.RawMessage) (orb.Geometry, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("%w: a geometry must be an object with a string \"type\"", ErrInvalidGeoJSON)
	}
	return geometryFromMembers(g.Type, g.Coordinates)
}

// geometryFromMembers decodes Polygon and MultiPolygon coordinates. It
// decodes positions itself instead of through orb/geojson because orb.Point
// is a [2]float64, into which encoding/json silently reads [x] as (x, 0):
// a truncated position must be an error, not a point on the equator.
func geometryFromMembers(typ string, coordinates json.RawMessage) (orb.Geometry, error) {
	switch typ {
	case "Polygon", "MultiPolygon":
	case "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection":
		return nil, fmt.Errorf("%w: got %s", ErrNotPolygon, typ)
	default:
		return nil, fmt.Errorf("%w: unknown geometry type %q", ErrInvalidGeoJSON, typ)
	}
	if isAbsent(coordinates) {
		return nil, fmt.Errorf("%w: %s has no \"coordinates\"", ErrInvalidGeoJSON, typ)
	}
	if typ == "Polygon" {
		var c [][][]float64
		if err := json.Unmarshal(coordinates, &c); err != nil {
			return nil, fmt.Errorf("%w: Polygon coordinates must be an array of rings of [lon, lat] positions", ErrInvalidGeoJSON)
		}
		return toPolygon(c)
	}
	var c [][][][]float64
	if err := json.Unmarshal(coordinates, &c); err != nil {
		return nil, fmt.Errorf("%w: MultiPolygon coordinates must be an array of polygons of rings of [lon, lat] positions", ErrInvalidGeoJSON)
	}
	mp := make(orb.MultiPolygon, len(c))
	for i, pc := range c {
		p, err := toPolygon(pc)
		if err != nil {
			return nil, fmt.Errorf("polygon %d: %w", i, err)
		}
		mp[i] = p
	}
	return mp, nil
}

func toPolygon(c [][][]float64) (orb.Polygon, error) {
	p := make(orb.Polygon, len(c))
	for ri, rc := range c {
		ring := make(orb.Ring, len(rc))
		for vi, pos := range rc {
			if len(pos) < 2 {
				return nil, fmt.Errorf("%w: ring %d position %d has %d numbers, want at least 2", ErrInvalidGeoJSON, ri, vi, len(pos))
			}
			ring[vi] = orb.Point{pos[0], pos[1]}
		}
		p[ri] = ring
	}
	return p, nil
}

func decodeNumbers(raw json.RawMessage, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}

func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("%w: unexpected data after the top-level object", ErrInvalidJSON)
		}
		return err
	}
	return nil
}

// describeReadError turns decoder errors into the package's error kinds,
// keeping the feature index when the problem is inside one feature.
func describeReadError(err error, lr *limitReader, maxBytes int64) error {
	if lr.exceeded {
		return fmt.Errorf("geo: %w (%d bytes)", ErrTooLarge, maxBytes)
	}
	var fe *FeatureError
	if errors.As(err, &fe) {
		return &FeatureError{Index: fe.Index, Err: describeDecodeError(fe.Err)}
	}
	return fmt.Errorf("geo: %w", describeDecodeError(err))
}

func describeDecodeError(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: %v at byte %d", ErrInvalidJSON, syntax, syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: input ends early", ErrInvalidJSON)
	}
	return err
}

// limitReader passes through at most left bytes and then fails with
// ErrTooLarge as soon as one more byte is available, so an oversized upload
// is refused after reading the limit plus one byte.
type limitReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left > 0 {
		if int64(len(p)) > l.left {
			p = p[:l.left]
		}
		n, err := l.r.Read(p)
		l.left -= int64(n)
		return n, err
	}
	var probe [1]byte
	for range 100 {
		n, err := l.r.Read(probe[:])
		if n > 0 {
			l.exceeded = true
			return 0, ErrTooLarge
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, errReaderNoProgress
}
