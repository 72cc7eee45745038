package cases

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Unit is a handling unit (处置单位) as staff see it.
type Unit struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	AreaCode string `json:"area"`
	AreaName string `json:"area_name"`
}

var unitCodeRE = regexp.MustCompile(`^[A-Za-z0-9._-]{2,40}$`)

// CreateUnit adds a handling unit in an area; the caller dispatches there.
func (s *Service) CreateUnit(ctx context.Context, code, name, areaCode string) error {
	code, name = strings.TrimSpace(code), strings.TrimSpace(name)
	var v errs.Validation
	v.Check(unitCodeRE.MatchString(code), "code", "err.unit.code")
	v.Check(name != "" && utf8.RuneCountInString(name) <= 64, "name", "err.unit.name")
	if err := v.Err(); err != nil {
		return err
	}
	a, err := s.areas.Get(ctx, areaCode)
	if err != nil {
		return err
	}
	if err := auth.From(ctx).Require(auth.CaseDispatch, a.Path); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO units (code, name, area_id) VALUES ($1, $2, $3)", code, name, a.ID)
		if db.IsUnique(err) {
			return &errs.Error{Code: errs.Conflict, Key: "err.invalid", Fields: []errs.Field{{Field: "code", Key: "err.unit.taken", Args: []any{code}}}}
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "unit.create", TargetType: "unit", TargetID: code})
	})
}

// AddUnitMember makes an account a member of a unit: they receive and
// handle its cases.
func (s *Service) AddUnitMember(ctx context.Context, unitCode string, userID int64) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		u, err := s.store.unitByCode(ctx, unitCode)
		if err != nil {
			return err
		}
		if err := auth.From(ctx).Require(auth.CaseDispatch, u.areaPath); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO unit_members (unit_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
			u.id, userID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "unit.member", TargetType: "unit", TargetID: unitCode})
	})
}

// Units lists the units the caller may dispatch to, or read.
func (s *Service) Units(ctx context.Context) ([]Unit, error) {
	p := auth.From(ctx)
	cond, args := p.Filter(auth.CaseRead, "u.area_id", 1)
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Unit, error) {
		var u Unit
		err := row.Scan(&u.Code, &u.Name, &u.AreaCode, &u.AreaName)
		return u, err
	}, "SELECT u.code, u.name, a.code, a.name FROM units u JOIN areas a ON a.id = u.area_id WHERE u.active AND ("+cond+
		" OR u.area_id IN (SELECT id FROM areas WHERE level IN ('district', 'street'))) ORDER BY a.path, u.code", args...)
}

// MyUnits lists the units the caller is a member of.
func (s *Service) MyUnits(ctx context.Context) ([]Unit, error) {
	p := auth.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (Unit, error) {
		var u Unit
		err := row.Scan(&u.Code, &u.Name, &u.AreaCode, &u.AreaName)
		return u, err
	}, `SELECT u.code, u.name, a.code, a.name FROM units u JOIN areas a ON a.id = u.area_id
		JOIN unit_members m ON m.unit_id = u.id WHERE m.user_id = $1 ORDER BY u.code`, p.UserID)
}

// UnitID returns a unit's id for queue filters.
func (s *Service) UnitID(ctx context.Context, code string) (int64, error) {
	u, err := s.store.unitByCode(ctx, code)
	return u.id, err
}
