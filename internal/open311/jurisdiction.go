package open311

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// The deployment's jurisdiction_id is a setting (every node reads the
// same), by default Config.Jurisdiction ("linli"); clients such as
// FixMyStreet are configured with the city's domain and send it on every
// call.

const jurisdictionSetting = "open311.jurisdiction"

var jurisdictionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

type jurisdictionCache struct {
	mu sync.Mutex
	at time.Time
	id string
}

// Jurisdiction returns the deployment's jurisdiction_id.
func (s *Server) Jurisdiction(ctx context.Context) (string, error) {
	s.juris.mu.Lock()
	defer s.juris.mu.Unlock()
	if s.juris.id != "" && time.Since(s.juris.at) < categoryCacheFor {
		return s.juris.id, nil
	}
	var id string
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT value FROM settings WHERE key = $1", jurisdictionSetting).Scan(&id)
	if isNoRows(err) {
		id, err = s.cfg.Jurisdiction, nil
	}
	if err != nil {
		return "", err
	}
	s.juris.id, s.juris.at = id, time.Now()
	return id, nil
}

// SetJurisdiction sets the deployment's jurisdiction_id (administrators).
func (s *Server) SetJurisdiction(ctx context.Context, id string) error {
	if err := auth.From(ctx).Require(auth.UserManage, ""); err != nil {
		return err
	}
	id = strings.TrimSpace(id)
	if !jurisdictionRE.MatchString(id) {
		return &errs.Error{Code: errs.Invalid, Key: "err.invalid",
			Fields: []errs.Field{{Field: "jurisdiction_id", Key: "err.open311.jurisdiction"}}}
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, jurisdictionSetting, id); err != nil {
			return err
		}
		db.AfterCommit(ctx, func() {
			s.juris.mu.Lock()
			s.juris.id = ""
			s.juris.mu.Unlock()
		})
		return s.audit.Record(ctx, audit.Entry{Action: "open311.jurisdiction", TargetType: "setting", TargetID: jurisdictionSetting,
			Detail: id})
	})
}
