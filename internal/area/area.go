// Package area keeps the administrative areas (行政区划) and grids (网格):
// district → street → community → grid. Every scope in Linli is a subtree of
// this tree. The grids issue adds polygons and point lookup.
package area

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Level is an area's place in the tree.
type Level string

const (
	Province  Level = "province"  // 省
	City      Level = "city"      // 市
	District  Level = "district"  // 区县
	Street    Level = "street"    // 街道/乡镇
	Community Level = "community" // 社区/村
	Grid      Level = "grid"      // 网格
)

// codeDigits is the length of a code at each level: the statistical
// division codes (2, 4, 6, 9, 12 digits) and, for grids, the community's 12
// digits plus a 3-digit sequence.
var codeDigits = map[Level]int{Province: 2, City: 4, District: 6, Street: 9, Community: 12, Grid: 15}

// parentLevel is the level an area's parent must have.
var parentLevel = map[Level]Level{City: Province, District: City, Street: District, Community: Street, Grid: Community}

// Kind tells the two sorts of grid apart.
type Kind string

const (
	Comprehensive Kind = "comprehensive" // 综合网格: the residential grid covering an area
	Dedicated     Kind = "dedicated"     // 专属网格: a school, hospital, park, company, …
)

// Purposes of dedicated grids.
var Purposes = []string{"school", "hospital", "park", "company", "market", "government", "other"}

// Area is one node of the tree.
type Area struct {
	ID        int64     `json:"-"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Level     Level     `json:"level"`
	Parent    string    `json:"parent,omitempty"`  // parent's code
	Kind      Kind      `json:"kind,omitempty"`    // grids only
	Purpose   string    `json:"purpose,omitempty"` // dedicated grids only
	Path      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// NewArea is what creating an area takes.
type NewArea struct {
	Code    string
	Name    string
	Level   Level
	Parent  string // parent's code; "" for a root
	Kind    Kind   // grids: comprehensive (default) or dedicated
	Purpose string // dedicated grids: one of Purposes
}

// Service manages areas.
type Service struct {
	db       *db.DB
	store    store
	audit    *audit.Log
	accounts Accounts
	locator  *locator
	now      func() time.Time

	// Region is where boundaries must lie (default China); the zero Bound
	// accepts the whole world.
	Region orb.Bound
}

// NewService returns the area service.
func NewService(d *db.DB, log *audit.Log, accounts Accounts, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: d, store: store{d}, audit: log, accounts: accounts, now: now, Region: China}
	s.locator = &locator{svc: s}
	return s
}

var digitsRE = regexp.MustCompile(`^[0-9]+$`)

// Create adds an area under its parent. The code must have the digits of
// its level and begin with the parent's code, as statistical codes do.
func (s *Service) Create(ctx context.Context, na NewArea) (Area, error) {
	na.Code, na.Name, na.Parent = strings.TrimSpace(na.Code), strings.TrimSpace(na.Name), strings.TrimSpace(na.Parent)
	var v errs.Validation
	digits, known := codeDigits[na.Level]
	v.Check(known, "level", "err.area.level", string(na.Level))
	v.Check(!known || (len(na.Code) == digits && digitsRE.MatchString(na.Code)), "code", "err.area.code_format", digits)
	v.Check(na.Name != "" && utf8.RuneCountInString(na.Name) <= 64, "name", "err.area.name")
	checkKind(&v, &na)
	if err := v.Err(); err != nil {
		return Area{}, err
	}
	var a Area
	err := s.db.Write(ctx, func(ctx context.Context) error {
		parent, err := s.parentFor(ctx, na)
		if err != nil {
			return err
		}
		if err := auth.From(ctx).Require(auth.AreaManage, parent.Path); err != nil {
			return err
		}
		a = Area{Code: na.Code, Name: na.Name, Level: na.Level, Parent: parent.Code, Kind: na.Kind, Purpose: na.Purpose,
			CreatedAt: s.now().UTC()}
		if err := s.store.insert(ctx, &a, parent); err != nil {
			if db.IsUnique(err) {
				return &errs.Error{Code: errs.Conflict, Key: "err.invalid",
					Fields: []errs.Field{{Field: "code", Key: "err.area.code_taken", Args: []any{na.Code}}}}
			}
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "area.create", TargetType: "area", TargetID: a.Code})
	})
	return a, err
}

// checkKind defaults a grid to comprehensive and refuses kinds elsewhere.
func checkKind(v *errs.Validation, na *NewArea) {
	if na.Level != Grid {
		v.Check(na.Kind == "" && na.Purpose == "", "kind", "err.area.kind_not_grid")
		return
	}
	if na.Kind == "" {
		na.Kind = Comprehensive
	}
	switch na.Kind {
	case Comprehensive:
		v.Check(na.Purpose == "", "purpose", "err.area.purpose_comprehensive")
	case Dedicated:
		v.Check(slices.Contains(Purposes, na.Purpose), "purpose", "err.area.purpose", strings.Join(Purposes, ", "))
	default:
		v.Add("kind", "err.area.kind", string(na.Kind))
	}
}

// parentFor finds and checks the parent of a new area.
func (s *Service) parentFor(ctx context.Context, na NewArea) (Area, error) {
	want, needs := parentLevel[na.Level]
	if na.Parent == "" {
		if needs && na.Level != District { // a district may be a root: a street office's deployment starts there
			return Area{}, fieldErr("parent", "err.area.parent_required", string(want))
		}
		return Area{}, nil
	}
	parent, err := s.store.byCode(ctx, na.Parent)
	if errs.CodeOf(err) == errs.NotFound {
		return Area{}, fieldErr("parent", "err.area.unknown", na.Parent)
	}
	if err != nil {
		return Area{}, err
	}
	if needs && parent.Level != want {
		return Area{}, fieldErr("parent", "err.area.parent_level", string(want))
	}
	if !strings.HasPrefix(na.Code, parent.Code) {
		return Area{}, fieldErr("code", "err.area.code_prefix", parent.Code)
	}
	return parent, nil
}

func fieldErr(field, key string, args ...any) error {
	return &errs.Error{Code: errs.Invalid, Key: "err.invalid", Fields: []errs.Field{{Field: field, Key: key, Args: args}}}
}

// Get returns the area with code, if the caller may read it.
func (s *Service) Get(ctx context.Context, code string) (Area, error) {
	a, err := s.store.byCode(ctx, code)
	if err != nil {
		return Area{}, err
	}
	if err := auth.From(ctx).Require(auth.AreaRead, a.Path); err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			return Area{}, errs.E(errs.NotFound, "err.area.not_found", code)
		}
		return Area{}, err
	}
	return a, nil
}

// ListQuery selects areas for List.
type ListQuery struct {
	Level  Level  // "" for all levels
	Parent string // "" for any parent
	After  string // cursor: the last code of the previous page
	Limit  int    // 1–500, default 100
}

// List returns the areas the caller may read, ordered by code, one page at a
// time; the scope filter runs in SQL.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Area, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	if q.Level != "" {
		if _, ok := codeDigits[q.Level]; !ok {
			return nil, fieldErr("level", "err.area.level", string(q.Level))
		}
	}
	return s.store.list(ctx, p, q)
}

// Count returns how many areas of each level the caller may read.
func (s *Service) Count(ctx context.Context) (map[Level]int, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	return s.store.countByLevel(ctx, p)
}
