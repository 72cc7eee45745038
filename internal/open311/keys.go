package open311

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Key is an Open311 client's key as administrators see it (never the
// secret). Open311 keys are not API tokens: they belong to a client
// system, not to a user, carry a rate and act only through this
// endpoint, so they have their own table.
type Key struct {
	ID         int64
	Name       string
	Rate       float64 // posts per second; 0: no limit
	Batch      bool    // answered with a token instead of the request id
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

const keyPrefix = "o311_"

func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// CreateKey issues a key and returns it; it is shown once and only its
// hash is kept (administrators).
func (s *Server) CreateKey(ctx context.Context, name string, rate float64, batch bool) (string, Key, error) {
	if err := auth.From(ctx).Require(auth.UserManage, ""); err != nil {
		return "", Key{}, err
	}
	name = strings.TrimSpace(name)
	var v errs.Validation
	v.Check(name != "" && utf8.RuneCountInString(name) <= 64, "name", "err.open311.key_name")
	v.Check(rate >= 0 && rate <= 1e6 && !math.IsNaN(rate), "rate", "err.open311.key_rate")
	if err := v.Err(); err != nil {
		return "", Key{}, err
	}
	b := make([]byte, 24)
	rand.Read(b)
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k := Key{Name: name, Rate: rate, Batch: batch, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO open311_keys (key_hash, name, rate, batch, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, hashKey(secret), k.Name, k.Rate, k.Batch, k.CreatedAt).Scan(&k.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "open311.key_create", TargetType: "open311_key", TargetID: itoa(k.ID),
			Detail: k.Name + " rate=" + strconv.FormatFloat(k.Rate, 'f', -1, 64) + " batch=" + strconv.FormatBool(k.Batch)})
	})
	if err != nil {
		return "", Key{}, err
	}
	return secret, k, nil
}

// Keys lists every key, newest first (administrators).
func (s *Server) Keys(ctx context.Context) ([]Key, error) {
	if err := auth.From(ctx).Require(auth.UserManage, ""); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), scanKey, "SELECT "+keyCols+" FROM open311_keys ORDER BY id DESC")
}

// RevokeKey ends a key, found by id or by name (administrators). It stops
// working on this node at once and on the others within keyCacheFor.
func (s *Server) RevokeKey(ctx context.Context, idOrName string) (Key, error) {
	if err := auth.From(ctx).Require(auth.UserManage, ""); err != nil {
		return Key{}, err
	}
	var k Key
	err := s.db.Write(ctx, func(ctx context.Context) error {
		keys, err := db.All(ctx, s.db.Q(ctx), scanKey, "SELECT "+keyCols+
			" FROM open311_keys WHERE (CAST(id AS TEXT) = $1 OR name = $1) AND revoked_at IS NULL", strings.TrimSpace(idOrName))
		if err != nil {
			return err
		}
		switch len(keys) {
		case 0:
			return errs.E(errs.NotFound, "err.open311.key_not_found", idOrName)
		case 1:
		default:
			return errs.E(errs.Conflict, "err.open311.key_ambiguous", idOrName)
		}
		k = keys[0]
		now := s.now().UTC()
		k.RevokedAt = &now
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE open311_keys SET revoked_at = $1 WHERE id = $2", now, k.ID); err != nil {
			return err
		}
		db.AfterCommit(ctx, func() { s.keys.drop() })
		return s.audit.Record(ctx, audit.Entry{Action: "open311.key_revoke", TargetType: "open311_key", TargetID: itoa(k.ID),
			Detail: k.Name})
	})
	return k, err
}

const keyCols = "id, name, rate, batch, created_at, last_used_at, revoked_at"

func scanKey(row db.Scanner) (Key, error) {
	var k Key
	var used, revoked sql.NullTime
	err := row.Scan(&k.ID, &k.Name, &k.Rate, &k.Batch, &k.CreatedAt, &used, &revoked)
	if used.Valid {
		k.LastUsedAt = &used.Time
	}
	if revoked.Valid {
		k.RevokedAt = &revoked.Time
	}
	return k, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// keyCacheFor is how long a node trusts its copy of a key: a revocation on
// another node takes effect within it.
const keyCacheFor = 2 * time.Second

// keyCache holds the keys seen lately, with their rate buckets.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]*cachedKey // by hash
}

type cachedKey struct {
	key     Key
	ok      bool // false: unknown or revoked
	fetched time.Time
	touched time.Time
	bucket  bucket
}

func (c *keyCache) drop() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

var errBadKey = errors.New("bad key")

// poster is the key a POST is made with: 403 without one or with a bad or
// revoked one, 429 when it is over its rate.
func (s *Server) poster(c *call) (Key, error) {
	secret := c.form.get("api_key")
	if secret == "" {
		return Key{}, fail(http.StatusForbidden, "key_missing")
	}
	key, allowed, err := s.authenticate(c.r.Context(), secret)
	if err == errBadKey {
		return Key{}, fail(http.StatusForbidden, "key_bad")
	}
	if err != nil {
		return Key{}, err
	}
	if !allowed {
		return Key{}, fail(http.StatusTooManyRequests, "rate", key.Name, strconv.FormatFloat(key.Rate, 'f', -1, 64))
	}
	return key, nil
}

// authenticate returns the key behind secret, errBadKey when it is
// unknown or revoked, and whether it may post now (its rate).
func (s *Server) authenticate(ctx context.Context, secret string) (Key, bool, error) {
	if !strings.HasPrefix(secret, keyPrefix) || len(secret) > 100 {
		return Key{}, false, errBadKey
	}
	h := hashKey(secret)
	now := time.Now()
	s.keys.mu.Lock()
	e := s.keys.entries[h]
	s.keys.mu.Unlock()
	if e == nil || now.Sub(e.fetched) > keyCacheFor {
		keys, err := db.All(ctx, s.db.Q(ctx), scanKey, "SELECT "+keyCols+" FROM open311_keys WHERE key_hash = $1", h)
		if err != nil {
			return Key{}, false, err
		}
		fresh := &cachedKey{fetched: now}
		if len(keys) == 1 && keys[0].RevokedAt == nil {
			fresh.key, fresh.ok = keys[0], true
		}
		s.keys.mu.Lock()
		if s.keys.entries == nil {
			s.keys.entries = map[string]*cachedKey{}
		}
		if len(s.keys.entries) > 10000 {
			clear(s.keys.entries) // a flood of made-up keys must not grow the cache
		}
		if old := s.keys.entries[h]; old != nil && old.ok && fresh.ok {
			fresh.bucket, fresh.touched = old.bucket, old.touched // keep the rate state across refreshes
		}
		s.keys.entries[h] = fresh
		e = fresh
		s.keys.mu.Unlock()
	}
	if !e.ok {
		return Key{}, false, errBadKey
	}
	s.keys.mu.Lock()
	allowed := e.bucket.take(e.key.Rate, now)
	touch := now.Sub(e.touched) > time.Minute
	if touch {
		e.touched = now
	}
	s.keys.mu.Unlock()
	if touch {
		if err := s.db.Write(ctx, func(ctx context.Context) error {
			_, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE open311_keys SET last_used_at = $1 WHERE id = $2", now.UTC(), e.key.ID)
			return err
		}); err != nil {
			return Key{}, false, err
		}
	}
	return e.key, allowed, nil
}

// bucket is a token bucket: rate tokens a second, as many in a burst
// (at least one).
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(rate float64, now time.Time) bool {
	if rate <= 0 {
		return true
	}
	burst := max(rate, 1)
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
