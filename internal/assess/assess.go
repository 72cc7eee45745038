// Package assess is assessment led by residents and less paperwork for
// communities: the task admission registry (社区工作准入), the certificate
// list (证明事项), resident surveys and the integrated scorecard.
//
// Task admission. A community's work is on three lists: statutory duties
// (履职事项), assistance tasks (协助事项) and the negative list (负面清单).
// A department (one of the street's list, departments.go, so that the
// burden report counts it once however it is spelt) applies to add a
// task, saying what it is, its legal basis, the hours it costs, its
// cadence and the funding and staff that follow it (权随事转、费随事转);
// the street's burden-reduction group admits or refuses it before
// review_due (applications past it are flagged). An
// admitted task gets an admission number and an expiry. A hand-down (a
// report form, a ledger, an inspection, a plaque) that cites a valid number
// is admitted; one that cites none reaches the community marked
// "unadmitted" and the community refuses it with one click, audited; an
// emergency is exempt but recorded with its reason. The burden report adds
// up, per department and community, what was admitted, refused, exempted
// and the hours it cost.
//
// Certificates. A community may issue only what is allowed (the default
// list follows the localities in the reference; a street adds its own).
// Anything on the national list of proofs communities must not issue
// (民发〔2020〕20号) is refused with the reason and the proper office.
// CheckCertificate is what other modules call.
//
// Surveys. A survey targets an area and a period, per resident or per
// household. assess_voters holds who answered, with a primary key that
// refuses a second answer under any concurrency; for an anonymous survey
// the voter is a keyed hash and the response keeps no resident, so stored
// answers cannot be traced back. Residents answer on their phones after
// logging in (the register says who they are); staff enter paper sheets.
//
// Scorecard. A street's period (考核周期) scores each community on figures
// read from the other modules through small interfaces (CaseFigures, …):
// every figure is a rate in [0, 1] (or a count scored against the best
// community), weighted by the period's weights. Weights are versioned per
// period: a change adds a version to this period only, so the card of a
// past period never moves. Data keep arriving after a period, so the
// street closes it: the cards are frozen then (freeze.go), and only an
// explicit, audited reopening with a reason unfreezes them. Residents' judgement (the survey) carries the
// largest weight by default. A figure without data is left out and the
// remaining weights count in proportion, so that a community is neither
// rewarded nor punished for, say, having no facility.
package assess

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/workcal"
	"github.com/linli/linli/internal/registry"
)

// Areas is what the module needs of the area module (*area.Service).
type Areas interface {
	Get(ctx context.Context, code string) (area.Area, error)
	List(ctx context.Context, q area.ListQuery) ([]area.Area, error)
}

// Register is what the module needs of the register (*registry.Service):
// who a logged-in resident is, and how many residents and households live
// where (for response rates). CountHouseholds checks no permission: the
// caller does.
type Register interface {
	IdentityOf(ctx context.Context, userID int64) (registry.Identity, error)
	Resident(ctx context.Context, id int64) (registry.Resident, error)
	Population(ctx context.Context, pathPrefix, bornBy string) ([]registry.PopulationCount, error)
	CountHouseholds(ctx context.Context, path string) (int, error)
}

var _ Register = (*registry.Service)(nil)

// Service is the module.
type Service struct {
	db    *db.DB
	audit *audit.Log
	box   *crypto.Box
	areas Areas
	reg   Register
	now   func() time.Time

	// The scorecard's sources in other modules; a nil one leaves its
	// figures out of the card (shown as "no data").
	Cases      CaseFigures
	Services   ServiceFigures
	Civic      CivicFigures
	Volunteers VolunteerFigures
}

// NewService returns the module's service.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas Areas, reg Register, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: log, box: box, areas: areas, reg: reg, now: now}
}

// local is the time zone of days and deadlines: China Standard Time.
var local = workcal.CST

// day is t's China-time date.
func day(t time.Time) string { return t.In(local).Format(time.DateOnly) }

// areaAt resolves an area code of one of the given levels and checks perm
// there. Outside the caller's areas the area module answers "not found";
// the form says so on the field.
func (s *Service) areaAt(ctx context.Context, code, field string, perm auth.Perm, levels ...area.Level) (area.Area, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return area.Area{}, errs.OnField(field, "err.assess.area_missing")
	}
	a, err := s.areas.Get(ctx, code)
	if errs.CodeOf(err) == errs.NotFound {
		return area.Area{}, errs.OnField(field, "err.assess.area_unknown", code)
	}
	if err != nil {
		return area.Area{}, err
	}
	ok := false
	for _, l := range levels {
		ok = ok || a.Level == l
	}
	if !ok {
		return area.Area{}, errs.OnField(field, "err.assess.area_level", code)
	}
	return a, auth.Allowed(auth.From(ctx), perm, a.Path, "err.assess.out_of_scope")
}

// text trims *s and checks it is there and at most max characters.
func text(v *errs.Validation, field string, s *string, max int) {
	*s = strings.TrimSpace(*s)
	v.Check(*s != "", field, "err.assess.required")
	v.Check(utf8.RuneCountInString(*s) <= max, field, "err.assess.too_long", max)
}

// optional trims *s and checks it is at most max characters.
func optional(v *errs.Validation, field string, s *string, max int) {
	*s = strings.TrimSpace(*s)
	v.Check(utf8.RuneCountInString(*s) <= max, field, "err.assess.too_long", max)
}

// parseDay reads a YYYY-MM-DD date as the start of that day in China time.
func parseDay(v *errs.Validation, field, s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), local)
	v.Check(err == nil, field, "err.assess.date")
	return t
}

// actorID is the user acting, 0 for the system.
func actorID(ctx context.Context) int64 {
	if p := auth.From(ctx); p != nil {
		return p.UserID
	}
	return 0
}
