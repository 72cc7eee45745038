package auth

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/errs"
)

// tokenPrefix marks Linli API tokens so that secret scanners can find them.
const tokenPrefix = "lnl_"

// Token is an API token as its owner sees it (never the secret).
type Token struct {
	ID         int64
	Name       string
	Scopes     []Scope
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// NewToken is what issuing a token takes.
type NewToken struct {
	User    string // login name; the caller must be that user (in a session) or an administrator
	Name    string
	Scopes  []Scope       // default: read
	Expires time.Duration // 0: never
}

// ParseScopes reads "read,write" (commas or spaces) and rejects unknown scopes.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		sc := Scope(strings.ToLower(f))
		if !slices.Contains(Scopes, sc) {
			return nil, &errs.Error{Code: errs.Invalid, Key: "err.invalid",
				Fields: []errs.Field{{Field: "scope", Key: "err.token.scope_unknown", Args: []any{f}}}}
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// CreateToken issues a token and returns it; it is shown once and only its
// hash is kept.
func (s *Service) CreateToken(ctx context.Context, nt NewToken) (string, error) {
	nt.Name = strings.TrimSpace(nt.Name)
	if len(nt.Scopes) == 0 {
		nt.Scopes = []Scope{ScopeRead}
	}
	var v errs.Validation
	v.Check(nt.Name != "" && utf8.RuneCountInString(nt.Name) <= 64, "name", "err.token.name")
	for _, sc := range nt.Scopes {
		v.Check(slices.Contains(Scopes, sc), "scope", "err.token.scope_unknown", string(sc))
	}
	v.Check(nt.Expires >= 0 && nt.Expires <= 5*366*24*time.Hour, "expires", "err.token.expires")
	if err := v.Err(); err != nil {
		return "", err
	}
	selector, secret := splitToken()
	err := s.db.Write(ctx, func(ctx context.Context) error {
		id, err := s.userID(ctx, nt.User)
		if err != nil {
			return err
		}
		if err := requireOwnOrManage(From(ctx), id); err != nil {
			return err
		}
		now := s.now().UTC()
		var expires any
		if nt.Expires > 0 {
			expires = now.Add(nt.Expires)
		}
		scopes := make([]string, len(nt.Scopes))
		for i, sc := range nt.Scopes {
			scopes[i] = string(sc)
		}
		var tokenID int64
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO api_tokens (selector, secret_hash, user_id, name, scopes, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			selector, hashSecret(secret), id, nt.Name, strings.Join(scopes, " "), now, expires).Scan(&tokenID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "token.create", TargetType: "token", TargetID: itoa(tokenID),
			Detail: nt.User + " " + strings.Join(scopes, ",")})
	})
	if err != nil {
		return "", err
	}
	return tokenPrefix + selector + "." + secret, nil
}

// ListTokens returns the caller's own tokens, newest first.
func (s *Service) ListTokens(ctx context.Context) ([]Token, error) {
	p := From(ctx)
	if p == nil || p.UserID == 0 {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at
		FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var scopes string
		var exp, used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.Name, &scopes, &t.CreatedAt, &exp, &used, &revoked); err != nil {
			return nil, err
		}
		for _, f := range strings.Fields(scopes) {
			t.Scopes = append(t.Scopes, Scope(f))
		}
		t.ExpiresAt, t.LastUsedAt, t.RevokedAt = timePtr(exp), timePtr(used), timePtr(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// RevokeToken ends one of the caller's tokens.
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	p := From(ctx)
	if p == nil || p.UserID == 0 {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
			s.now().UTC(), id, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "err.token.not_found")
		}
		return s.audit.Record(ctx, audit.Entry{Action: "token.revoke", TargetType: "token", TargetID: itoa(id)})
	})
}

// AuthenticateToken returns the principal of a bearer token, limited to
// the token's scopes, or Unauthenticated when it is unknown, forged,
// revoked or expired.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*Principal, error) {
	bad := errs.E(errs.Unauthenticated, "err.auth.bad_token")
	selector, secret, ok := strings.Cut(strings.TrimPrefix(token, tokenPrefix), ".")
	if !ok || !strings.HasPrefix(token, tokenPrefix) {
		return nil, bad
	}
	var id, userID int64
	var hash, scopes string
	var exp, used, revoked sql.NullTime
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, user_id, secret_hash, scopes, expires_at, last_used_at, revoked_at
		FROM api_tokens WHERE selector = $1`, selector).Scan(&id, &userID, &hash, &scopes, &exp, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !sameHash(hash, hashSecret(secret)) || revoked.Valid || (exp.Valid && now.After(exp.Time)) {
		return nil, bad
	}
	if !used.Valid || now.Sub(used.Time) > touchEvery {
		if err := s.db.Write(ctx, func(ctx context.Context) error {
			_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", now.UTC(), id)
			return err
		}); err != nil {
			return nil, err
		}
	}
	p, err := s.principal(ctx, userID)
	if err != nil {
		return nil, err
	}
	p.Scopes = []Scope{}
	for _, f := range strings.Fields(scopes) {
		p.Scopes = append(p.Scopes, Scope(f))
	}
	return p, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
