// Package auth holds accounts, roles with area scopes, sessions and API
// tokens, and the one authorization helper every module uses (Principal.Can
// for an object, Principal.Filter for a list query).
package auth

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Service manages accounts, sessions and tokens.
type Service struct {
	db    *db.DB
	audit *audit.Log
	now   func() time.Time

	// SessionIdle ends a session nobody used for this long; SessionMax ends
	// every session this long after login.
	SessionIdle time.Duration
	SessionMax  time.Duration
}

// NewService returns a Service; now is the clock (time.Now when nil).
func NewService(d *db.DB, log *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: log, now: now, SessionIdle: 12 * time.Hour, SessionMax: 7 * 24 * time.Hour}
}

// System is the principal of the command line: someone with shell access to
// the server, who may do anything an administrator may.
func System() *Principal {
	return &Principal{Name: "system", Grants: []GrantInfo{{Role: Admin}}}
}

// User is an account as administrators see it.
type User struct {
	ID          int64
	Name        string
	DisplayName string
	Locale      string
	LargeText   bool
	Disabled    bool
	CreatedAt   time.Time
	Grants      []GrantInfo
}

// NewUser is what creating an account takes.
type NewUser struct {
	Name        string
	DisplayName string
	Password    string
	Role        Role
	AreaCode    string // "" for a global grant (administrators only)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

func validatePassword(v *errs.Validation, field, pw string) {
	v.Check(utf8.RuneCountInString(pw) >= MinPasswordLen, field, "err.user.password_short", MinPasswordLen)
	v.Check(len(pw) <= 256, field, "err.user.password_long")
}

// CreateUser creates an account with its first grant. The caller needs
// user.manage over the grant's area.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	nu.Name = strings.ToLower(strings.TrimSpace(nu.Name))
	nu.DisplayName = strings.TrimSpace(nu.DisplayName)
	if nu.DisplayName == "" {
		nu.DisplayName = nu.Name
	}
	var v errs.Validation
	v.Check(nameRE.MatchString(nu.Name), "name", "err.user.name_format")
	v.Check(utf8.RuneCountInString(nu.DisplayName) <= 64, "display_name", "err.user.display_name_long")
	validatePassword(&v, "password", nu.Password)
	v.Check(ValidRole(nu.Role), "role", "err.user.role_unknown", string(nu.Role))
	if err := v.Err(); err != nil {
		return User{}, err
	}
	hash := HashPassword(nu.Password) // slow on purpose: outside the write transaction
	var u User
	err := s.db.Write(ctx, func(ctx context.Context) error {
		area, err := s.grantableArea(ctx, nu.Role, nu.AreaCode)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO users (name, display_name, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) RETURNING id`, nu.Name, nu.DisplayName, hash, now).Scan(&u.ID)
		if db.IsUnique(err) {
			return &errs.Error{Code: errs.Conflict, Key: "err.invalid",
				Fields: []errs.Field{{Field: "name", Key: "err.user.name_taken", Args: []any{nu.Name}}}}
		}
		if err != nil {
			return err
		}
		if err := s.insertGrant(ctx, u.ID, nu.Role, area); err != nil {
			return err
		}
		u.Name, u.DisplayName, u.CreatedAt = nu.Name, nu.DisplayName, now
		return s.audit.Record(ctx, audit.Entry{Action: "user.create", TargetType: "user", TargetID: nu.Name,
			Detail: string(nu.Role) + "@" + orEverywhere(nu.AreaCode)})
	})
	return u, err
}

func orEverywhere(code string) string {
	if code == "" {
		return "*"
	}
	return code
}

// area is the part of an area that grants need.
type area struct {
	ID   int64
	Path string
}

// grantableArea resolves code and checks that the caller may grant role
// there: user.manage over the area, and a global grant only for
// administrators, by an administrator who is global too.
func (s *Service) grantableArea(ctx context.Context, role Role, code string) (area, error) {
	p := From(ctx)
	if code == "" {
		if role != Admin {
			return area{}, &errs.Error{Code: errs.Invalid, Key: "err.invalid",
				Fields: []errs.Field{{Field: "area", Key: "err.grant.area_required", Args: []any{string(role)}}}}
		}
		return area{}, p.Require(UserManage, "")
	}
	if role == Admin {
		// Administrators manage accounts; a scoped admin would be an odd
		// half-power, so admin grants are global.
		return area{}, &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: "area", Key: "err.grant.admin_global"}}}
	}
	var a area
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT id, path FROM areas WHERE code = $1", code).Scan(&a.ID, &a.Path)
	if errors.Is(err, sql.ErrNoRows) {
		return area{}, &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: "area", Key: "err.area.unknown", Args: []any{code}}}}
	}
	if err != nil {
		return area{}, err
	}
	return a, p.Require(UserManage, a.Path)
}

func (s *Service) insertGrant(ctx context.Context, userID int64, role Role, a area) error {
	var exists int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM grants
		WHERE user_id = $1 AND role = $2 AND COALESCE(area_id, 0) = $3`, userID, string(role), a.ID).Scan(&exists)
	if err != nil {
		return err
	}
	if exists > 0 {
		return errs.E(errs.Conflict, "err.grant.exists")
	}
	var areaID any
	if a.ID != 0 {
		areaID = a.ID
	}
	_, err = s.db.Q(ctx).ExecContext(ctx, "INSERT INTO grants (user_id, role, area_id, created_at) VALUES ($1, $2, $3, $4)",
		userID, string(role), areaID, s.now().UTC())
	return err
}

// userID finds an account by login name.
func (s *Service) userID(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT id FROM users WHERE name = $1", strings.ToLower(strings.TrimSpace(name))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.E(errs.NotFound, "err.user.not_found", name)
	}
	return id, err
}

// Grant gives an existing user a role over an area.
func (s *Service) Grant(ctx context.Context, name string, role Role, areaCode string) error {
	if !ValidRole(role) {
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: "role", Key: "err.user.role_unknown", Args: []any{string(role)}}}}
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		id, err := s.userID(ctx, name)
		if err != nil {
			return err
		}
		a, err := s.grantableArea(ctx, role, areaCode)
		if err != nil {
			return err
		}
		if err := s.insertGrant(ctx, id, role, a); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.grant", TargetType: "user", TargetID: name,
			Detail: string(role) + "@" + orEverywhere(areaCode)})
	})
}

// Revoke takes a role over an area away from a user.
func (s *Service) Revoke(ctx context.Context, name string, role Role, areaCode string) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		id, err := s.userID(ctx, name)
		if err != nil {
			return err
		}
		a, err := s.grantableArea(ctx, role, areaCode)
		if err != nil {
			return err
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM grants
			WHERE user_id = $1 AND role = $2 AND COALESCE(area_id, 0) = $3`, id, string(role), a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "err.grant.not_found")
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.revoke", TargetType: "user", TargetID: name,
			Detail: string(role) + "@" + orEverywhere(areaCode)})
	})
}

// SetPassword changes a password: one's own (through a session), or
// anyone's for an administrator. Every session of the account ends.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	var v errs.Validation
	validatePassword(&v, "password", password)
	if err := v.Err(); err != nil {
		return err
	}
	hash := HashPassword(password)
	return s.db.Write(ctx, func(ctx context.Context) error {
		id, err := s.userID(ctx, name)
		if err != nil {
			return err
		}
		if err := requireOwnOrManage(From(ctx), id); err != nil {
			return err
		}
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", hash, s.now().UTC(), id); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.password", TargetType: "user", TargetID: name})
	})
}

// requireOwnOrManage returns nil when p may change the account id: its own
// through a browser session, anyone's with user.manage. A token acting on
// its own account needs user.manage as well: otherwise a read-only token
// could mint itself a wider token, or set the password and sign in with
// every scope.
func requireOwnOrManage(p *Principal, id int64) error {
	if p != nil && p.UserID == id && p.Scopes == nil {
		return nil
	}
	return p.Require(UserManage, "")
}

// SetPreferences stores the caller's language and large-text choice.
func (s *Service) SetPreferences(ctx context.Context, locale string, largeText bool) error {
	p := From(ctx)
	if p == nil || p.UserID == 0 {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE users SET locale = $1, large_text = $2, updated_at = $3 WHERE id = $4",
			locale, largeText, s.now().UTC(), p.UserID)
		return err
	})
}

// ListUsers returns the accounts the caller manages, with their grants:
// all of them for a global administrator. One query, grouped here.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	p := From(ctx)
	if !p.CanAnywhere(UserManage) {
		return nil, p.Require(UserManage, "")
	}
	cond, args := p.Filter(UserManage, "g2.area_id", 1)
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT u.id, u.name, u.display_name, u.locale, u.large_text, u.disabled, u.created_at,
		COALESCE(g.id, 0), COALESCE(g.role, ''), COALESCE(g.area_id, 0), COALESCE(a.path, ''), COALESCE(a.code, ''), COALESCE(a.name, '')
		FROM users u LEFT JOIN grants g ON g.user_id = u.id LEFT JOIN areas a ON a.id = g.area_id
		WHERE `+globalOr(cond)+` u.id IN (SELECT g2.user_id FROM grants g2 WHERE `+cond+`)
		ORDER BY u.name, g.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var g GrantInfo
		if err := rows.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Locale, &u.LargeText, &u.Disabled, &u.CreatedAt,
			&g.ID, &g.Role, &g.AreaID, &g.AreaPath, &g.AreaCode, &g.AreaName); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != u.ID {
			out = append(out, u)
		}
		if g.ID != 0 {
			last := &out[len(out)-1]
			last.Grants = append(last.Grants, g)
		}
	}
	return out, rows.Err()
}

// globalOr lets a global manager also see accounts that hold no grant yet.
func globalOr(cond string) string {
	if cond == "1 = 1" {
		return "1 = 1 OR"
	}
	return ""
}

func (s *Service) grants(ctx context.Context, userID int64) ([]GrantInfo, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT g.id, g.role, COALESCE(g.area_id, 0), COALESCE(a.path, ''),
		COALESCE(a.code, ''), COALESCE(a.name, '') FROM grants g LEFT JOIN areas a ON a.id = g.area_id
		WHERE g.user_id = $1 ORDER BY g.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GrantInfo
	for rows.Next() {
		var g GrantInfo
		if err := rows.Scan(&g.ID, &g.Role, &g.AreaID, &g.AreaPath, &g.AreaCode, &g.AreaName); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Holders returns the users who hold one of roles over one of areaIDs,
// or over any area when areaIDs is empty, each once. It checks no
// permission: it is for modules deciding whom a move concerns (the staff
// told of a new report), not for showing who holds what.
func (s *Service) Holders(ctx context.Context, roles []Role, areaIDs []int64) ([]int64, error) {
	roleNames := make([]string, len(roles))
	for i, r := range roles {
		roleNames[i] = string(r)
	}
	var args db.Args
	where := "role IN (" + db.In(&args, roleNames) + ")"
	if len(areaIDs) > 0 {
		where += " AND area_id IN (" + db.In(&args, areaIDs) + ")"
	}
	return db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (int64, error) {
		var id int64
		err := row.Scan(&id)
		return id, err
	}, "SELECT DISTINCT user_id FROM grants WHERE "+where, args...)
}

// ChangePassword changes the caller's own password after checking the
// current one.
func (s *Service) ChangePassword(ctx context.Context, current, password string) error {
	p := From(ctx)
	if p == nil || p.UserID == 0 {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	var hash string
	if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT password_hash FROM users WHERE id = $1", p.UserID).Scan(&hash); err != nil {
		return err
	}
	if !CheckPassword(hash, current) {
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: "current", Key: "err.user.password_wrong"}}}
	}
	return s.SetPassword(ctx, p.Name, password)
}

// Lookup returns the account called name (ID, names; no grants), for
// modules that link people to their objects. NotFound when there is none.
func (s *Service) Lookup(ctx context.Context, name string) (User, error) {
	var u User
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT id, name, display_name, disabled FROM users WHERE name = $1",
		strings.ToLower(strings.TrimSpace(name))).Scan(&u.ID, &u.Name, &u.DisplayName, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errs.E(errs.NotFound, "err.user.not_found", name)
	}
	return u, err
}

// EnsureGrant gives a user a role over an area unless they hold it
// already. It does not check the caller: it is for modules whose own
// permission decides (community staff assigning grid workers hold
// grid.assign, not user.manage). It records the grant in the audit log.
func (s *Service) EnsureGrant(ctx context.Context, userID int64, role Role, areaID int64) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		err := s.insertGrant(ctx, userID, role, area{ID: areaID})
		if errs.CodeOf(err) == errs.Conflict {
			return nil
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.grant", TargetType: "user", TargetID: itoa(userID),
			Detail: string(role) + "@area:" + itoa(areaID)})
	})
}

// DropGrant removes a grant given by EnsureGrant; a missing one is no error.
func (s *Service) DropGrant(ctx context.Context, userID int64, role Role, areaID int64) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM grants WHERE user_id = $1 AND role = $2 AND area_id = $3",
			userID, string(role), areaID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.revoke", TargetType: "user", TargetID: itoa(userID),
			Detail: string(role) + "@area:" + itoa(areaID)})
	})
}
