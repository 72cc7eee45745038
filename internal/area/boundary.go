package area

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
)

// Boundary is one version of an area's polygon.
type Boundary struct {
	AreaID    int64
	Version   int
	Geometry  orb.Geometry // orb.Polygon or orb.MultiPolygon, WGS84
	ValidFrom time.Time
	ValidTo   *time.Time // nil for the current version
	Source    string
}

// setBoundary makes g the current boundary of the area, closing the
// version before it, and tells every node to rebuild its lookup index. It
// runs inside the caller's transaction; the caller has checked permissions.
func (s *Service) setBoundary(ctx context.Context, a Area, g orb.Geometry, source string) (int, error) {
	now := s.now().UTC()
	version, err := s.store.closeBoundary(ctx, a.ID, now)
	if err != nil {
		return 0, err
	}
	raw, err := marshalGeometry(g)
	if err != nil {
		return 0, err
	}
	if err := s.store.insertBoundary(ctx, a.ID, version+1, raw, g.Bound(), now, source); err != nil {
		return 0, err
	}
	if err := s.db.BumpCounter(ctx, "boundaries"); err != nil {
		return 0, err
	}
	db.AfterCommit(ctx, s.locator.invalidate)
	return version + 1, s.audit.Record(ctx, audit.Entry{Action: "area.boundary", TargetType: "area", TargetID: a.Code,
		Detail: "version " + itoa(version+1) + " " + source})
}

// SetBoundary replaces the polygon of one area (administrators).
func (s *Service) SetBoundary(ctx context.Context, code string, g orb.Geometry, source string) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		a, err := s.store.byCode(ctx, code)
		if err != nil {
			return err
		}
		if err := auth.From(ctx).Require(auth.AreaManage, a.Path); err != nil {
			return err
		}
		if err := s.checkGeometry(ctx, a, g); err != nil {
			return err
		}
		_, err = s.setBoundary(ctx, a, g, source)
		return err
	})
}

// Boundaries returns every version of an area's boundary, newest first.
func (s *Service) Boundaries(ctx context.Context, code string) ([]Boundary, error) {
	a, err := s.Get(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.store.boundaries(ctx, a.ID)
}

// BoundaryAt returns the boundary the area had at time t (a case filed
// last year shows the grid as it was then). NotFound when it had none.
func (s *Service) BoundaryAt(ctx context.Context, code string, t time.Time) (Boundary, error) {
	all, err := s.Boundaries(ctx, code)
	if err != nil {
		return Boundary{}, err
	}
	for _, b := range all {
		if !t.Before(b.ValidFrom) && (b.ValidTo == nil || t.Before(*b.ValidTo)) {
			return b, nil
		}
	}
	return Boundary{}, errNoBoundary(code)
}

// ExportGeoJSON writes the current boundaries of the area with code and of
// everything below it that the caller may read, as a FeatureCollection.
func (s *Service) ExportGeoJSON(ctx context.Context, code string, w io.Writer) error {
	root, err := s.Get(ctx, code)
	if err != nil {
		return err
	}
	shapes, err := s.store.currentBoundaries(ctx, auth.From(ctx), root.Path)
	if err != nil {
		return err
	}
	fc := featureCollection{Type: "FeatureCollection", Features: make([]feature, 0, len(shapes))}
	for _, a := range shapes {
		props := map[string]any{"code": a.Code, "name": a.Name, "level": string(a.Level), "parent": a.Parent}
		if a.Kind != "" {
			props["kind"] = string(a.Kind)
		}
		if a.Purpose != "" {
			props["purpose"] = a.Purpose
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", Properties: props, Geometry: json.RawMessage(a.Geometry)})
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: "area.export", TargetType: "area", TargetID: code}); err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(fc)
}
