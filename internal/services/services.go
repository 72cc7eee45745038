// Package services is the one-stop service desk (一站式服务): the service
// catalog and applications, facilities and bookings, providers matched to
// residents' needs, and the resource gaps between communities.
//
// Facilities and bookings: a facility belongs to a community and opens in
// periods per weekday, cut into slots. A booking takes seats of one slot
// through a conditional UPDATE of the slot's row (see
// 00016_services.sql), so that no slot is ever double-booked whatever the
// number of nodes; a weekly series takes every occurrence in one
// transaction or none. Blocking a day and booking on it update the same
// day row, which orders them.
//
// Applications: a resident applies for a catalog item with the materials
// it requires; the desk asks for what is missing (naming each material),
// approves, refuses with a reason or forwards to a department; every step
// is an immutable log row the applicant follows by number. A logged-in
// resident whose account is linked to the register applies as that
// resident; an unlinked one gives a name and phone number (the phone is
// sealed with the crypto box and shown masked). Staff apply on behalf of a
// resident of the register (代办). The time limit runs in working days
// from submission (Calendar).
//
// Providers and needs: a provider must have a service area (a radius or a
// polygon); a need is matched to providers that offer its service, cover
// its point and have free capacity, nearest first.
//
// Gaps: per community of a street, facilities and capacity per 1,000
// residents and per 1,000 older residents (60+), booking utilisation and
// unmet needs. Population comes from an index-only count of the register.
//
// Every read and write is scoped: the service checks the caller's grants
// on the object's area, and list queries filter by area path in SQL.
package services

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// outOfScope is what auth.Allowed answers a caller who holds the permission
// but not over this object's area: it says to ask the community it belongs to.
const outOfScope = "err.services.out_of_scope"

// Areas is what the desk needs of the area module (*area.Service).
type Areas interface {
	Get(ctx context.Context, code string) (area.Area, error)
	List(ctx context.Context, q area.ListQuery) ([]area.Area, error)
}

// Register is what the desk needs of the register (*registry.Service):
// who a logged-in resident is, a resident staff apply for, and population
// counts for the gap report.
type Register interface {
	IdentityOf(ctx context.Context, userID int64) (registry.Identity, error)
	Resident(ctx context.Context, id int64) (registry.Resident, error)
	Population(ctx context.Context, pathPrefix, bornBy string) ([]registry.PopulationCount, error)
}

// WorkingDays adds working days to an instant; *cases.Calendars and
// *workcal.Calendar both do.
type WorkingDays interface {
	AddDays(start time.Time, n int) time.Time
}

// Service is the one-stop service desk.
type Service struct {
	db    *db.DB
	audit *audit.Log
	box   *crypto.Box
	areas Areas
	reg   Register
	now   func() time.Time
	// Calendar counts application time limits in working days. It starts
	// as the shipped default calendar; the app sets the editable one.
	Calendar WorkingDays

	recounting sync.Map       // streets whose population is being counted again
	recounts   sync.WaitGroup // background recounts, for tests and Close
}

// Wait waits for background population counts to finish (tests, shutdown).
func (s *Service) Wait() { s.recounts.Wait() }

// NewService returns the module's service.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas Areas, reg *registry.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: d, audit: log, box: box, areas: areas, now: now, Calendar: workcal.DefaultCalendar()}
	if reg != nil {
		s.reg = reg
	}
	return s
}

// Local time of the desk: opening hours and days are China Standard Time.
var local = workcal.CST

// fieldPhone is the box's field name of an applicant's phone number.
const fieldPhone = "service.applicant_phone"

// conflictErr is a lost race or a state that moved on, on the field
// concerned. It stays local on purpose instead of errs.TakenOnField: every
// conflict of the desk is a race (a slot taken, an application or booking
// changed meanwhile, a provider full), so its headline is
// "err.services.conflict" ("there is a conflict") rather than the shared
// "err.invalid", which would tell the user to correct their input.
func conflictErr(field, key string, args ...any) error {
	return &errs.Error{Code: errs.Conflict, Key: "err.services.conflict", Fields: []errs.Field{{Field: field, Key: key, Args: args}}}
}

// community resolves a community code given in a form and checks perm
// there.
func (s *Service) community(ctx context.Context, code string, perm auth.Perm) (area.Area, error) {
	return s.areaAt(ctx, code, perm, "community", area.Community)
}

// areaAt resolves an area code of one of the given levels and checks perm.
// Outside the caller's areas the area module answers "not found"; the desk
// says so on the field.
func (s *Service) areaAt(ctx context.Context, code string, perm auth.Perm, field string, levels ...area.Level) (area.Area, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return area.Area{}, errs.OnField(field, "err.services.area_missing")
	}
	p := auth.From(ctx)
	if p == nil {
		return area.Area{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	a, err := s.areas.Get(ctx, code)
	if errs.CodeOf(err) == errs.NotFound {
		return area.Area{}, errs.OnField(field, "err.services.area_unknown", code)
	}
	if err != nil {
		return area.Area{}, err
	}
	ok := false
	for _, l := range levels {
		ok = ok || a.Level == l
	}
	if !ok {
		return area.Area{}, errs.OnField(field, "err.services.area_level", code)
	}
	if err := auth.Allowed(p, perm, a.Path, outOfScope); err != nil {
		return area.Area{}, err
	}
	return a, nil
}

// sees reports whether the caller may see a community's facilities and
// catalog at path: a grant over the community or above it, or over a grid
// inside it (a grid worker, a resident registered in a grid: the
// community's desk serves them too).
func sees(p *auth.Principal, path string) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.AreaID == 0 || strings.HasPrefix(path, g.AreaPath) || strings.HasPrefix(g.AreaPath, path) {
			return true
		}
	}
	return false
}

// seesFilter is the SQL twin of sees: rows whose pathColumn lies in a
// grant's subtree or is one of its ancestors. Arguments are numbered from
// firstArg.
func seesFilter(p *auth.Principal, pathColumn string, firstArg int) (string, []any) {
	var conds []string
	var args []any
	for _, g := range p.Grants {
		if g.AreaID == 0 {
			return "1 = 1", nil
		}
		n := firstArg + len(args)
		conds = append(conds, fmt.Sprintf("(%s >= $%d AND %s < $%d)", pathColumn, n, pathColumn, n+1))
		args = append(args, g.AreaPath, auth.PathEnd(g.AreaPath))
		for i := 1; i < len(g.AreaPath)-1; i++ {
			if g.AreaPath[i] == '/' {
				conds = append(conds, fmt.Sprintf("%s = $%d", pathColumn, firstArg+len(args)))
				args = append(args, g.AreaPath[:i+1])
			}
		}
	}
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

var digitsRE = regexp.MustCompile(`^[0-9]{6,15}$`)

// codePrefix filters on an area code and the codes below it: statistical
// codes begin with their parent's code, so a street's code selects its
// communities. The caller's scope is applied separately.
func codePrefix(column, code string, arg int) (string, any, error) {
	code = strings.TrimSpace(code)
	if !digitsRE.MatchString(code) {
		return "", nil, errs.OnField("community", "err.services.area_unknown", code)
	}
	return fmt.Sprintf("%s LIKE $%d", column, arg), code + "%", nil
}

// textOK reports whether s is at most max characters with no control
// characters other than newlines and tabs.
func textOK(s string, max int) bool {
	if utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}

// record writes an audit row for the caller's action on a target.
func (s *Service) record(ctx context.Context, action, targetType string, id int64, detail string) error {
	return s.audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType, TargetID: strconv.FormatInt(id, 10), Detail: detail})
}

// actorName is who acts, for logs people read.
func actorName(ctx context.Context) string {
	if p := auth.From(ctx); p != nil {
		if p.DisplayName != "" {
			return p.DisplayName
		}
		return p.Name
	}
	return audit.ActorFrom(ctx).Name
}

// Page is one page of a list, with the cursor of the next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func pageOf[T any](items []T, limit int, id func(T) int64) Page[T] {
	if items == nil {
		items = []T{}
	}
	page := Page[T]{Items: items}
	if len(items) == limit && limit > 0 {
		page.NextCursor = strconv.FormatInt(id(items[len(items)-1]), 10)
	}
	return page
}

func limitOf(n int) int {
	if n <= 0 || n > 200 {
		return 50
	}
	return n
}

// afterID turns a cursor into the id to list after (0: from the start).
func afterID(cursor int64) int64 {
	if cursor < 0 {
		return 0
	}
	return cursor
}
