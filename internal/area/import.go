package area

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
)

// MaxImportBytes bounds a GeoJSON upload; bigger files are refused before
// they are read into memory.
const MaxImportBytes = 64 << 20

// ImportRequest describes a GeoJSON boundary import.
type ImportRequest struct {
	File     io.Reader
	Level    Level  // level of the imported areas (default grid)
	Parent   string // code of the area they belong to
	CodeProp string // property holding the code; "" numbers them
	NameProp string // property holding the name (default "name")
	Kind     Kind   // for grids: comprehensive (default) or dedicated
	Purpose  string // for dedicated grids: one of Purposes
	Source   string // where the file came from, kept with each boundary
	DryRun   bool   // check and report, change nothing
	// OverlapTolerance is how many m² two grids may share before they
	// count as overlapping (default 1 m²: digitising noise).
	OverlapTolerance float64
}

// ImportItem is what happens to one feature.
type ImportItem struct {
	Feature int    `json:"feature"` // 1-based position in the file
	Code    string `json:"code"`
	Name    string `json:"name"`
	New     bool   `json:"new"`     // a new area, not a new boundary of an existing one
	Version int    `json:"version"` // the boundary version written (or that would be)
}

// ImportReport lists the features of an import.
type ImportReport struct {
	Items  []ImportItem `json:"items"`
	DryRun bool         `json:"dry_run"`
}

// planned is a feature on its way in.
type planned struct {
	ImportItem
	geometry orb.Geometry
	existing *Area
}

// Import reads a GeoJSON file of polygons and makes them the boundaries of
// areas under Parent: creating the areas that do not exist (numbered
// west→east, north→south when the file gives no codes) and adding a new
// boundary version to those that do. It is all or nothing: any bad feature
// fails the whole import with every problem listed, and nothing changes.
func (s *Service) Import(ctx context.Context, req ImportRequest) (ImportReport, error) {
	if req.Level == "" {
		req.Level = Grid
	}
	if req.NameProp == "" {
		req.NameProp = "name"
	}
	features, err := geo.ReadFeatures(req.File, MaxImportBytes)
	if err != nil {
		return ImportReport{}, readError(err)
	}
	if len(features) == 0 {
		return ImportReport{}, errs.E(errs.Invalid, "err.import.empty")
	}
	var rep ImportReport
	err = s.db.Write(ctx, func(ctx context.Context) error {
		parent, err := s.importParent(ctx, req)
		if err != nil {
			return err
		}
		plan, err := s.plan(ctx, req, parent, features)
		if err != nil {
			return err
		}
		if !req.DryRun {
			if err := s.apply(ctx, req, parent, plan); err != nil {
				return err
			}
		}
		rep = ImportReport{DryRun: req.DryRun}
		for _, p := range plan {
			rep.Items = append(rep.Items, p.ImportItem)
		}
		return nil
	})
	return rep, err
}

func readError(err error) error {
	var fe *geo.FeatureError
	switch {
	case errors.Is(err, geo.ErrTooLarge):
		return errs.E(errs.TooLarge, "err.import.too_large", MaxImportBytes>>20)
	case errors.As(err, &fe):
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: featureField(fe.Index+1, ""), Key: "err.import.feature", Args: []any{fe.Err.Error()}}}}
	default:
		return errs.E(errs.Invalid, "err.import.geojson", err.Error())
	}
}

func featureField(n int, name string) string {
	if name == "" {
		return fmt.Sprintf("#%d", n)
	}
	return fmt.Sprintf("#%d «%s»", n, name)
}

func (s *Service) importParent(ctx context.Context, req ImportRequest) (Area, error) {
	want, ok := parentLevel[req.Level]
	if !ok {
		return Area{}, fieldErr("level", "err.area.level", string(req.Level))
	}
	parent, err := s.store.byCode(ctx, req.Parent)
	if errs.CodeOf(err) == errs.NotFound {
		return Area{}, fieldErr("parent", "err.area.unknown", req.Parent)
	}
	if err != nil {
		return Area{}, err
	}
	if parent.Level != want {
		return Area{}, fieldErr("parent", "err.area.parent_level", string(want))
	}
	return parent, auth.From(ctx).Require(auth.AreaManage, parent.Path)
}

// plan names and numbers every feature and checks all of them, collecting
// every problem before failing.
func (s *Service) plan(ctx context.Context, req ImportRequest, parent Area, features []geo.Feature) ([]*planned, error) {
	children, err := s.store.children(ctx, parent.ID)
	if err != nil {
		return nil, err
	}
	byCode, byName := map[string]*Area{}, map[string]*Area{}
	for i := range children {
		byCode[children[i].Code], byName[children[i].Name] = &children[i], &children[i]
	}
	var v errs.Validation
	plan := make([]*planned, len(features))
	seen := map[string]int{}
	for i, f := range features {
		p := &planned{ImportItem: ImportItem{Feature: i + 1, Name: propString(f.Properties, req.NameProp)}, geometry: f.Geometry}
		field := featureField(i+1, p.Name)
		v.Check(p.Name != "", field, "err.import.no_name", req.NameProp)
		if req.CodeProp != "" {
			p.Code = propString(f.Properties, req.CodeProp)
			v.Check(p.Code != "", field, "err.import.no_code", req.CodeProp)
			p.existing = byCode[p.Code]
		} else {
			p.existing = byName[p.Name] // a re-import without codes keeps each area's code
			if p.existing != nil {
				p.Code = p.existing.Code
			}
		}
		p.New = p.existing == nil
		if first, dup := seen[p.Code+"\x00"+p.Name]; dup && p.Code+p.Name != "" {
			v.Add(field, "err.import.duplicate", first)
		}
		seen[p.Code+"\x00"+p.Name] = i + 1
		plan[i] = p
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.number(req, parent, children, plan); err != nil {
		return nil, err
	}
	return plan, s.checkPlan(ctx, req, parent, plan)
}

func propString(props map[string]any, key string) string {
	v, ok := props[key]
	if !ok || v == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// number gives new areas without a code the next free sequence numbers
// under the parent, west→east within rows and rows north→south. A row is a
// band of latitude as tall as the median feature, so that grids of one
// street block share a row although their centroids differ a little.
func (s *Service) number(req ImportRequest, parent Area, children []Area, plan []*planned) error {
	digits := codeDigits[req.Level] - len(parent.Code)
	var fresh []*planned
	next := 0
	for _, c := range children {
		if seq, ok := sequence(c.Code, parent.Code); ok && seq > next {
			next = seq
		}
	}
	for _, p := range plan {
		if p.Code == "" {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	row := rowHeight(fresh)
	north := math.Inf(-1)
	for _, p := range fresh {
		north = math.Max(north, p.geometry.Bound().Max[1])
	}
	sort.SliceStable(fresh, func(i, j int) bool {
		ci, cj := fresh[i].geometry.Bound().Center(), fresh[j].geometry.Bound().Center()
		ri, rj := math.Floor((north-ci[1])/row), math.Floor((north-cj[1])/row)
		if ri != rj {
			return ri < rj
		}
		return ci[0] < cj[0]
	})
	limit := int(math.Pow10(digits)) - 1
	if next+len(fresh) > limit {
		return errs.E(errs.Invalid, "err.import.sequence_full", parent.Code, limit)
	}
	for _, p := range fresh {
		next++
		p.Code = fmt.Sprintf("%s%0*d", parent.Code, digits, next)
	}
	return nil
}

func sequence(code, parent string) (int, bool) {
	var n int
	_, err := fmt.Sscanf(strings.TrimPrefix(code, parent), "%d", &n)
	return n, err == nil && strings.HasPrefix(code, parent)
}

func rowHeight(ps []*planned) float64 {
	hs := make([]float64, len(ps))
	for i, p := range ps {
		b := p.geometry.Bound()
		hs[i] = b.Max[1] - b.Min[1]
	}
	sort.Float64s(hs)
	if h := hs[len(hs)/2]; h > 0 {
		return h
	}
	return 1e-9
}

// checkPlan validates codes and geometries of every feature, reporting all
// problems at once.
func (s *Service) checkPlan(ctx context.Context, req ImportRequest, parent Area, plan []*planned) error {
	var fields []errs.Field
	// Each shape is checked once. The features are each other's
	// neighbours for the overlap check; a feature whose shape is wrong is
	// reported for itself and is no neighbour (the fuzzer found a latitude
	// of 3.8e10 in one feature failing its sibling's check with an
	// internal error).
	problems := make([][]geo.Problem, len(plan))
	var extra []siblingShape
	for i, p := range plan {
		if problems[i] = s.shapeProblems(p.geometry); len(problems[i]) == 0 {
			extra = append(extra, siblingShape{Code: p.Code, Geometry: p.geometry})
		}
	}
	n, err := s.neighboursOf(ctx, parent.Code, extra, codesOf(plan))
	if err != nil {
		return err
	}
	for i, p := range plan {
		field := featureField(p.Feature, p.Name)
		if p.existing == nil {
			na := NewArea{Code: p.Code, Name: p.Name, Level: req.Level, Parent: parent.Code, Kind: req.Kind, Purpose: req.Purpose}
			var v errs.Validation
			digits := codeDigits[req.Level]
			v.Check(len(p.Code) == digits && digitsRE.MatchString(p.Code) && strings.HasPrefix(p.Code, parent.Code),
				field, "err.import.code", p.Code, digits, parent.Code)
			checkKind(&v, &na)
			if e, ok := v.Err().(*errs.Error); ok {
				fields = append(fields, e.Fields...)
				continue
			}
		}
		if len(problems[i]) > 0 {
			fields = append(fields, geometryProblems(field, problems[i])...)
			continue
		}
		found, err := n.fields(Area{Code: p.Code, Parent: parent.Code, Level: req.Level}, p.geometry, field, req.OverlapTolerance)
		if err != nil {
			return err
		}
		fields = append(fields, found...)
	}
	if len(fields) > 0 {
		return &errs.Error{Code: errs.Invalid, Key: "err.import.rejected", Args: []any{countFeatures(fields), len(plan)}, Fields: fields}
	}
	return nil
}

func codesOf(plan []*planned) map[string]bool {
	out := make(map[string]bool, len(plan))
	for _, p := range plan {
		out[p.Code] = true
	}
	return out
}

func countFeatures(fields []errs.Field) int {
	seen := map[string]bool{}
	for _, f := range fields {
		seen[f.Field] = true
	}
	return len(seen)
}

// apply writes the plan: new areas, then a new boundary for every feature.
func (s *Service) apply(ctx context.Context, req ImportRequest, parent Area, plan []*planned) error {
	for _, p := range plan {
		a := p.existing
		if a == nil {
			created := Area{Code: p.Code, Name: p.Name, Level: req.Level, Parent: parent.Code, CreatedAt: s.now().UTC()}
			if req.Level == Grid {
				created.Kind, created.Purpose = req.Kind, req.Purpose
				if created.Kind == "" {
					created.Kind = Comprehensive
				}
			}
			if err := s.store.insert(ctx, &created, parent); err != nil {
				return err
			}
			a = &created
		}
		version, err := s.setBoundary(ctx, *a, p.geometry, req.Source)
		if err != nil {
			return err
		}
		p.Version = version
	}
	return nil
}
