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
	fields, err := s.geometryFields(ctx, a, g, "geometry", nil, nil, 0)
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

// geometryFields lists what is wrong with g as a's boundary. extra are
// siblings arriving in the same import, which count as current; replaced
// names the siblings whose stored boundary the import supersedes;
// overlapTolerance (m², 0 for the default) absorbs digitising slivers.
func (s *Service) geometryFields(ctx context.Context, a Area, g orb.Geometry, field string,
	extra []siblingShape, replaced map[string]bool, overlapTolerance float64) ([]errs.Field, error) {
	if overlapTolerance <= 0 {
		overlapTolerance = defaultOverlapTolerance
	}
	if problems := s.shapeProblems(g); len(problems) > 0 {
		return geometryProblems(field, problems), nil
	}
	var out []errs.Field
	parent, err := s.store.currentBoundaryOf(ctx, a.Parent)
	if err != nil {
		return nil, err
	}
	if parent != nil {
		within, outside, err := geo.Within(g, parent, outsideTolerance)
		if err != nil {
			return nil, err
		}
		if !within {
			out = append(out, errs.Field{Field: field, Key: "err.area.outside_parent", Args: []any{a.Parent, math.Round(outside)}})
		}
	}
	stored, err := s.store.siblingBoundaries(ctx, a.Parent, a.Code)
	if err != nil {
		return nil, err
	}
	var siblings []siblingShape
	for _, sib := range stored {
		if !replaced[sib.Code] { // superseded by a feature of the same import
			siblings = append(siblings, sib)
		}
	}
	for _, sib := range append(siblings, extra...) {
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
