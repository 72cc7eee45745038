// Package civic makes community affairs public and lets residents take
// part (居务公开, 议事协商): tamper-evident disclosures, deliberation from
// proposal to evaluation, votes and supervision.
//
// Disclosures. A notice (公开事项) belongs to a community and a category.
// It is never edited in place: publishing stores version 1, a correction
// stores version n+1 with its reason, and the notice page shows what
// changed between versions. Every version is appended to its community's
// hash chain: seq numbers it, and its hash is sha256 over its canonical
// content (fields length-prefixed, attachments by their sha256) and the
// previous version's hash. The chain's head (seq and hash) is shown on the
// community's public page, to be printed for the notice board: an edited
// row fails its hash, a removed row leaves a gap, a removed last row no
// longer matches the head, and a rewritten chain no longer matches the
// head people printed. VerifyChain (linli civic verify) and the public
// check page re-compute it. Subsidy lists (低保) are masked before they
// are stored, since a published version is public for good.
//
// Deliberation (民事民提、民议、民决、民办、民评). A topic moves through the
// stages in transitions; each stage leaves its record (supports and
// comments, the meeting with agenda, attendance and minutes, the decision,
// progress updates, evaluations), all shown on the topic page.
//
// Votes. A vote counts one ballot per household or per adult resident of
// the community, from the register. The voter row's primary key (vote,
// household or resident) is what refuses a second ballot, on any node at
// the same instant. A secret ballot is stored only as +1 on its option's
// tally, in the transaction that records the voter: there is no ballot row
// to link back to the voter or to order by time. Staff see who voted,
// never how.
//
// Supervision. Residents ask questions on a notice or a topic; staff
// answer within AnswerDays, and unanswered overdue questions are counted
// for the scorecard. Members of the supervision committee (居务监督委员会)
// record an opinion (agree, or object with reasons) shown beside the item.
package civic

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
)

// outOfScope is what auth.Allowed answers a caller who holds the permission
// but not over this community.
const outOfScope = "err.civic.out_of_scope"

// Areas is what civic needs of the area module (*area.Service).
type Areas interface {
	Get(ctx context.Context, code string) (area.Area, error)
}

// Register is what civic needs of the register (*registry.Service): who a
// resident is, and how many may vote.
type Register interface {
	IdentityOf(ctx context.Context, userID int64) (registry.Identity, error)
	Voter(ctx context.Context, residentID int64) (registry.Identity, error)
	CountHouseholds(ctx context.Context, path string) (int, error)
	CountAdults(ctx context.Context, path string, asOf time.Time) (int, error)
}

var _ Register = (*registry.Service)(nil)
var _ Areas = (*area.Service)(nil)

// Service is the module.
type Service struct {
	db    *db.DB
	audit *audit.Log
	box   *crypto.Box
	areas Areas
	reg   Register
	now   func() time.Time

	// AnswerDays is how long staff have to answer a question.
	AnswerDays int
	// CommentBurst comments (and CommentBurst/2 topics, questions) per
	// RateWindow are allowed per account; more is refused as spam.
	CommentBurst int
	RateWindow   time.Duration
}

// NewService returns the module's service.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas Areas, reg *registry.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: log, box: box, areas: areas, reg: reg, now: now,
		AnswerDays: 7, CommentBurst: 5, RateWindow: 10 * time.Minute}
}

// clock is the service's time, as stored: UTC to the microsecond.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// community resolves a community code. Public pages have no principal, so
// the lookup is made as the system: a community's name is public.
func (s *Service) community(ctx context.Context, code string) (area.Area, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return area.Area{}, errs.OnField("community", "err.civic.community_missing")
	}
	a, err := s.areas.Get(auth.WithPrincipal(ctx, auth.System()), code)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && a.Level != area.Community) {
		return area.Area{}, errs.E(errs.NotFound, "err.civic.community_unknown", code)
	}
	return a, err
}

// resident is the logged-in resident's register entry, which must lie in
// the community at path: only its residents propose, vote and evaluate.
func (s *Service) resident(ctx context.Context, path string) (registry.Identity, error) {
	p := auth.From(ctx)
	if p == nil {
		return registry.Identity{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	id, err := s.reg.IdentityOf(ctx, p.UserID)
	if err != nil {
		return registry.Identity{}, err
	}
	if !strings.HasPrefix(id.AreaPath, path) {
		return registry.Identity{}, errs.E(errs.Forbidden, "err.civic.not_resident")
	}
	return id, nil
}

// text checks a required text field: trimmed, not empty, at most max
// characters.
func text(v *errs.Validation, field string, s *string, max int) {
	*s = strings.TrimSpace(*s)
	v.Check(*s != "", field, "err.civic.required")
	v.Check(utf8.RuneCountInString(*s) <= max, field, "err.civic.too_long", max)
}

// optional checks an optional text field.
func optional(v *errs.Validation, field string, s *string, max int) {
	*s = strings.TrimSpace(*s)
	v.Check(utf8.RuneCountInString(*s) <= max, field, "err.civic.too_long", max)
}

// actorName is how the caller is named on public records.
func actorName(p *auth.Principal) string {
	if p == nil {
		return "system"
	}
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// record writes an audit entry inside the transaction of ctx.
func (s *Service) record(ctx context.Context, action, targetType string, id int64, detail string) error {
	return s.audit.Record(ctx, audit.Entry{Action: "civic." + action, TargetType: targetType, TargetID: itoa(id), Detail: detail})
}

// pathFilter is the SQL condition keeping rows of col inside p's grants
// for perm, numbered from arg n: the path-range twin of Principal.Filter.
func pathFilter(p *auth.Principal, perm auth.Perm, col string, n int) (string, []any) {
	var conds []string
	var args []any
	for _, g := range p.Grants {
		if !p.Can(perm, g.AreaPath) && g.AreaID != 0 {
			continue
		}
		if g.AreaID == 0 {
			if p.Can(perm, "") {
				return "1 = 1", nil
			}
			continue
		}
		i := n + len(args)
		conds = append(conds, "("+col+" >= $"+strconv.Itoa(i)+" AND "+col+" < $"+strconv.Itoa(i+1)+")")
		args = append(args, g.AreaPath, auth.PathEnd(g.AreaPath))
	}
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// rateLimit refuses the account's write when it already made limit rows
// in table (by user_col and time_col) within the window: bursts of spam
// stop here, inside the write's transaction so parallel bursts count too.
func (s *Service) rateLimit(ctx context.Context, table, userCol, timeCol string, userID int64, limit int) error {
	var n int
	since := s.clock().Add(-s.RateWindow)
	if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+userCol+" = $1 AND "+timeCol+" > $2",
		userID, since).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		e := errs.E(errs.TooMany, "err.civic.too_many", int(s.RateWindow.Minutes()))
		e.Retry = s.RateWindow
		return e
	}
	return nil
}
