package registry

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// Identity is who a logged-in resident is in the register: what votes,
// volunteer registration and applications need to know of them, and no
// more (no ID or phone number).
type Identity struct {
	UserID      int64
	ResidentID  int64
	HouseholdID int64 // 0 when the resident belongs to no household
	Name        string
	BirthDate   string // YYYY-MM-DD
	AreaID      int64  // the resident's grid
	AreaPath    string
	Grid        string
}

// LinkUser ties a login account to a resident of the register. Staff who
// may edit the resident's grid do it, at the desk, after checking the
// person's identity; the link is audited. An account already linked to
// someone else, or a resident who already has an account, is a conflict.
func (s *Service) LinkUser(ctx context.Context, residentID, userID int64) error {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.residentFor(ctx, residentID, auth.RegistryEdit); err != nil {
			return err
		}
		var taken int
		err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM registry_resident_users WHERE user_id = $1 OR resident_id = $2",
			userID, residentID).Scan(&taken)
		if err != nil {
			return err
		}
		if taken > 0 {
			return errs.TakenOnField("user_id", "err.registry.account_linked")
		}
		var exists int
		if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE id = $1", userID).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return errs.OnField("user_id", "err.registry.account_unknown", userID)
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO registry_resident_users (user_id, resident_id, linked_at) VALUES ($1, $2, $3)",
			userID, residentID, s.now().UTC()); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.resident.link_user", TargetType: "resident",
			TargetID: strconv.FormatInt(residentID, 10), Detail: "user " + strconv.FormatInt(userID, 10)})
	})
}

// IdentityOf returns the register entry of a login account, for the
// account's own requests (a resident voting, registering as a volunteer).
// An account with no entry is NotFound, with a message that tells the
// resident to ask the community to link it.
func (s *Service) IdentityOf(ctx context.Context, userID int64) (Identity, error) {
	var id Identity
	var household sql.NullInt64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT u.user_id, r.id, r.household_id, r.name, r.birth_date, r.area_id, r.area_path, a.code
		FROM registry_resident_users u JOIN registry_residents r ON r.id = u.resident_id JOIN areas a ON a.id = r.area_id
		WHERE u.user_id = $1`, userID).Scan(&id.UserID, &id.ResidentID, &household, &id.Name, &id.BirthDate, &id.AreaID, &id.AreaPath, &id.Grid)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, errs.E(errs.NotFound, "err.registry.account_not_linked")
	}
	if err != nil {
		return Identity{}, err
	}
	id.HouseholdID = household.Int64
	return id, nil
}
