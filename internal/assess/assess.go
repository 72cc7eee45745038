// Package assess is assessment led by residents and less paperwork for
// communities: resident surveys, the integrated scorecard, the task
// admission registry (社区工作准入) and the certificate whitelist.
package assess

import (
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/web"
	"github.com/linli/linli/internal/registry"
)

// Service is the module.
type Service struct {
	db    *db.DB
	audit *audit.Log
	box   *crypto.Box
	areas *area.Service
	reg   *registry.Service
	now   func() time.Time
}

// NewService returns the module's service.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas *area.Service, reg *registry.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: log, box: box, areas: areas, reg: reg, now: now}
}

// Routes registers the module's API and pages.
func Routes(srv *web.Server, svc *Service) {}
