package area

import (
	"context"
	"math"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
)

// China is the default region boundaries must lie in: a polygon outside it
// is most likely a file with latitude and longitude swapped.
var China = orb.Bound{Min: orb.Point{73, 3}, Max: orb.Point{136, 54}}

// Tolerances for comparing polygons drawn by different people: slivers
// smaller than these are digitising noise, not overlaps.
const (
	defaultOverlapTolerance = 1.0  // m² shared by two sibling grids
	outsideTolerance        = 10.0 // m² of a grid outside its community
)

// geometryProblems turns geo's findings into fields of a bilingual error.
func geometryProblems(field string, ps []geo.Problem) []errs.Field {
	out := make([]errs.Field, 0, len(ps))
	for _, p := range ps {
		f := errs.Field{Field: field, Key: "err.geo." + string(p.Kind)}
		if p.Kind != geo.ProblemUnsupported && p.Kind != geo.ProblemEmpty {
			// Rings and positions count from 1 for people.
			f.Args = []any{p.Ring + 1, p.Vertex + 1, round6(p.Point[0]), round6(p.Point[1])}
		}
		out = append(out, f)
	}
	return out
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// siblingShape is the current boundary of an area under the same parent.
type siblingShape struct {
	Code     string
	Geometry orb.Geometry
}

// checkGeometry validates g as the new boundary of a: well-formed, in the
// configured region, inside its parent when the parent has a polygon (a
// parent without one accepts any child), and not overlapping its siblings.
func (s *Service) checkGeometry(ctx context.Context, a Area, g orb.Geometry) error {
	fields, err := s.geometryFields(ctx, a, g, "geometry")
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid", Fields: fields}
	}
	return nil
}

// shapeProblems lists what is wrong with g as a shape, whatever its
// neighbours: rings, coordinates, the service's region.
func (s *Service) shapeProblems(g orb.Geometry) []geo.Problem {
	if s.Region == (orb.Bound{}) {
		return geo.Validate(g)
	}
	return geo.ValidateIn(g, s.Region)
}

// geometryFields lists what is wrong with g as a's boundary: its shape,
// then its place among its parent and siblings.
func (s *Service) geometryFields(ctx context.Context, a Area, g orb.Geometry, field string) ([]errs.Field, error) {
	if problems := s.shapeProblems(g); len(problems) > 0 {
		return geometryProblems(field, problems), nil
	}
	n, err := s.neighboursOf(ctx, a.Parent, nil, nil)
	if err != nil {
		return nil, err
	}
	return n.fields(a, g, field, 0)
}

// neighbours is what a well-formed boundary is checked against: its
// parent's current polygon (nil: any child fits) and its siblings'.
type neighbours struct {
	parentCode string
	parent     orb.Geometry
	siblings   []siblingShape
}

// neighboursOf reads them once for any number of children of parentCode.
// extra are siblings arriving in the same import, which count as current;
// replaced names the siblings whose stored boundary the import supersedes.
func (s *Service) neighboursOf(ctx context.Context, parentCode string, extra []siblingShape, replaced map[string]bool) (neighbours, error) {
	n := neighbours{parentCode: parentCode}
	var err error
	if n.parent, err = s.store.currentBoundaryOf(ctx, parentCode); err != nil {
		return n, err
	}
	stored, err := s.store.siblingBoundaries(ctx, parentCode, "")
	if err != nil {
		return n, err
	}
	for _, sib := range stored {
		if !replaced[sib.Code] { // superseded by a feature of the same import
			n.siblings = append(n.siblings, sib)
		}
	}
	n.siblings = append(n.siblings, extra...)
	return n, nil
}

// fields lists where g, a's well-formed boundary, leaves its parent or
// overlaps a sibling; overlapTolerance (m², 0 for the default) absorbs
// digitising slivers.
func (n neighbours) fields(a Area, g orb.Geometry, field string, overlapTolerance float64) ([]errs.Field, error) {
	if overlapTolerance <= 0 {
		overlapTolerance = defaultOverlapTolerance
	}
	var out []errs.Field
	if n.parent != nil {
		within, outside, err := geo.Within(g, n.parent, outsideTolerance)
		if err != nil {
			return nil, err
		}
		if !within {
			out = append(out, errs.Field{Field: field, Key: "err.area.outside_parent", Args: []any{n.parentCode, math.Round(outside)}})
		}
	}
	for _, sib := range n.siblings {
		if sib.Code == a.Code || !sib.Geometry.Bound().Intersects(g.Bound()) {
			continue
		}
		shared, err := geo.OverlapArea(g, sib.Geometry)
		if err != nil {
			return nil, err
		}
		if shared > overlapTolerance {
			out = append(out, errs.Field{Field: field, Key: "err.area.overlap", Args: []any{sib.Code, math.Round(shared)}})
		}
	}
	return out, nil
}
