package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/errs"
)

// Login throttling: after this many failures in the window, the account (or
// the address) must wait until the oldest failure leaves the window.
const (
	failWindow     = 15 * time.Minute
	maxFailsByName = 5
	maxFailsByIP   = 30
)

// splitToken makes a public selector and a secret; only the secret's hash
// is stored.
func splitToken() (selector, secret string) {
	b := make([]byte, 40)
	rand.Read(b)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b[:9]), enc.EncodeToString(b[9:])
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Login checks a password and starts a session. The session id changes at
// every login (and the old session, if any, ends), so a session fixed by
// someone else before login is worthless. It returns the cookie value.
func (s *Service) Login(ctx context.Context, name, password, oldCookie string) (string, *Principal, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	actor := audit.ActorFrom(ctx)
	if wait, err := s.throttled(ctx, name, actor.IP); err != nil {
		return "", nil, err
	} else if wait > 0 {
		e := errs.E(errs.TooMany, "err.auth.throttled", int(wait.Minutes())+1)
		e.Retry = wait
		return "", nil, e
	}
	var id int64
	var hash string
	var disabled bool
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT id, password_hash, disabled FROM users WHERE name = $1", name).
		Scan(&id, &hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		hash = dummyHash()
	} else if err != nil {
		return "", nil, err
	}
	if ok := CheckPassword(hash, password); !ok || id == 0 || disabled {
		return "", nil, s.loginFailed(ctx, name, actor)
	}
	selector, secret := splitToken()
	now := s.now().UTC()
	err = s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if old, oldSecret, ok := strings.Cut(oldCookie, "."); ok {
			// Only the whole cookie ends a session (see Logout).
			if _, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1 AND secret_hash = $2",
				old, hashSecret(oldSecret)); err != nil {
				return err
			}
		}
		if _, err := q.ExecContext(ctx, "DELETE FROM login_failures WHERE name = $1", name); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO sessions (id, secret_hash, user_id, created_at, last_seen_at, expires_at, ip)
			VALUES ($1, $2, $3, $4, $4, $5, $6)`, selector, hashSecret(secret), id, now, now.Add(s.SessionMax), actor.IP); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.login", TargetType: "user", TargetID: name,
			Actor: &audit.Actor{ID: id, Name: name, IP: actor.IP, RequestID: actor.RequestID}})
	})
	if err != nil {
		return "", nil, err
	}
	p, err := s.principal(ctx, id)
	if err != nil {
		return "", nil, err
	}
	p.SessionID = selector
	return selector + "." + secret, p, nil
}

func (s *Service) loginFailed(ctx context.Context, name string, actor audit.Actor) error {
	err := s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO login_failures (name, ip, at) VALUES ($1, $2, $3)",
			name, actor.IP, now); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM login_failures WHERE name = $1 AND at < $2",
			name, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "user.login", TargetType: "user", TargetID: name,
			Outcome: audit.Denied, Actor: &audit.Actor{Name: "anonymous", IP: actor.IP, RequestID: actor.RequestID}})
	})
	if err != nil {
		return err
	}
	return errs.E(errs.Unauthenticated, "err.auth.bad_login")
}

// throttled returns how long the account or address must wait: until the
// oldest of its last max failures leaves the window.
func (s *Service) throttled(ctx context.Context, name, ip string) (time.Duration, error) {
	since := s.now().UTC().Add(-failWindow)
	var wait time.Duration
	for _, c := range []struct {
		col, val string
		max      int
	}{{"name", name, maxFailsByName}, {"ip", ip, maxFailsByIP}} {
		if c.val == "" {
			continue
		}
		rows, err := s.db.Q(ctx).QueryContext(ctx, fmt.Sprintf(
			"SELECT at FROM login_failures WHERE %s = $1 AND at >= $2 ORDER BY at DESC LIMIT %d", c.col, c.max), c.val, since)
		if err != nil {
			return 0, err
		}
		var n int
		var oldest time.Time
		for rows.Next() {
			if err := rows.Scan(&oldest); err != nil {
				rows.Close()
				return 0, err
			}
			n++
		}
		rows.Close()
		if n >= c.max {
			wait = max(wait, oldest.Add(failWindow).Sub(s.now()))
		}
	}
	return wait, nil
}

// Logout ends the session of cookie; an unknown cookie is not an error.
func (s *Service) Logout(ctx context.Context, cookie string) error {
	selector, secret, _ := strings.Cut(cookie, ".")
	if selector == "" {
		return nil
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		// The secret must match, as in Authenticate: the selector alone is
		// no credential (it is stored in clear and is Principal.SessionID),
		// so a forged cookie must not end someone else's session.
		res, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM sessions WHERE id = $1 AND secret_hash = $2",
			selector, hashSecret(secret))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return s.audit.Record(ctx, audit.Entry{Action: "user.logout"})
		}
		return nil
	})
}

// touchEvery limits how often a session's last use is written.
const touchEvery = 5 * time.Minute

// Authenticate returns the principal of a session cookie, or
// Unauthenticated when it is unknown, forged or expired.
func (s *Service) Authenticate(ctx context.Context, cookie string) (*Principal, error) {
	selector, secret, ok := strings.Cut(cookie, ".")
	if !ok || selector == "" || secret == "" {
		return nil, errs.E(errs.Unauthenticated, "err.auth.session_expired")
	}
	var userID int64
	var hash string
	var expires, lastSeen time.Time
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT user_id, secret_hash, expires_at, last_seen_at FROM sessions WHERE id = $1", selector).
		Scan(&userID, &hash, &expires, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sameHash(hash, hashSecret(secret))) {
		return nil, errs.E(errs.Unauthenticated, "err.auth.session_expired")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if now.After(expires) || now.Sub(lastSeen) > s.SessionIdle {
		return nil, errs.E(errs.Unauthenticated, "err.auth.session_expired")
	}
	if now.Sub(lastSeen) > touchEvery {
		if err := s.db.Write(ctx, func(ctx context.Context) error {
			_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", now.UTC(), selector)
			return err
		}); err != nil {
			return nil, err
		}
	}
	p, err := s.principal(ctx, userID)
	if err != nil {
		return nil, err
	}
	p.SessionID = selector
	return p, nil
}

// principal loads a user and their grants; a disabled account has none.
func (s *Service) principal(ctx context.Context, userID int64) (*Principal, error) {
	p := &Principal{UserID: userID}
	var disabled bool
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT name, display_name, locale, large_text, disabled FROM users WHERE id = $1", userID).
		Scan(&p.Name, &p.DisplayName, &p.Locale, &p.LargeText, &disabled)
	if errors.Is(err, sql.ErrNoRows) || disabled {
		return nil, errs.E(errs.Unauthenticated, "err.auth.session_expired")
	}
	if err != nil {
		return nil, err
	}
	p.Grants, err = s.grants(ctx, userID)
	return p, err
}

// PurgeExpired deletes sessions past their end; a background job calls it.
func (s *Service) PurgeExpired(ctx context.Context) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		_, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2", now, now.Add(-s.SessionIdle))
		return err
	})
}
