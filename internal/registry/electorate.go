package registry

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// The electorate of a community vote comes from the register: its
// households, or its residents of age on a date. These methods serve the
// civic module, which checks its own permission (civic.moderate, or the
// resident's own account) before it calls them; they return counts and the
// identity of one resident, never lists of personal data.

// AdultAge is the age from which a resident votes (完全民事行为能力).
const AdultAge = 18

// CountHouseholds returns how many households the register holds in the
// area subtree at path (a community's path).
func (s *Service) CountHouseholds(ctx context.Context, path string) (int, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM registry_households h JOIN areas a ON a.id = h.area_id
		WHERE a.path >= $1 AND a.path < $2`, path, auth.PathEnd(path)).Scan(&n)
	return n, err
}

// CountAdults returns how many residents of the area subtree at path are
// AdultAge or older on the day of asOf.
func (s *Service) CountAdults(ctx context.Context, path string, asOf time.Time) (int, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM registry_residents
		WHERE area_path >= $1 AND area_path < $2 AND birth_date <= $3`,
		path, auth.PathEnd(path), AdultBornBy(asOf)).Scan(&n)
	return n, err
}

// AdultBornBy is the last birth date (YYYY-MM-DD) of someone who is of age
// on the day of asOf; ISO dates compare as strings.
func AdultBornBy(asOf time.Time) string {
	return asOf.AddDate(-AdultAge, 0, 0).Format("2006-01-02")
}

// Voter returns the register entry of a resident for a paper ballot that
// staff enter at the desk: the same facts IdentityOf gives for an account.
func (s *Service) Voter(ctx context.Context, residentID int64) (Identity, error) {
	var id Identity
	var household sql.NullInt64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT r.id, r.household_id, r.name, r.birth_date, r.area_id, r.area_path, a.code
		FROM registry_residents r JOIN areas a ON a.id = r.area_id WHERE r.id = $1`, residentID).
		Scan(&id.ResidentID, &household, &id.Name, &id.BirthDate, &id.AreaID, &id.AreaPath, &id.Grid)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, errs.E(errs.NotFound, "err.registry.resident_not_found", residentID)
	}
	if err != nil {
		return Identity{}, err
	}
	id.HouseholdID = household.Int64
	return id, nil
}
