// Package volunteer keeps a community's social organisations and volunteers
// (社会组织, 志愿者): the organisations in five kinds and the community party
// organisation (社区党组织) with its members and their service commitments;
// volunteers, their teams and service brands (品牌项目); activities with
// sign-up, check-in and check-out; and the ledgers that follow from service.
//
// The model, and why it is shaped so:
//
//   - Every object belongs to a community (area_id, area_path). Staff act
//     within their area subtree (auth.VolunteerRead, auth.VolunteerManage);
//     list queries filter by the path range in SQL.
//   - Service hours are an append-only ledger in minutes (volunteer_hours):
//     hours are the volunteer's record under the 志愿服务记录与证明出具办法 and
//     never expire or change; a mistake is mended by a correction entry with
//     a reason. Points (volunteer_points) are a separate, spendable ledger,
//     earned by rules per hour and per activity kind with a cap, spent on
//     the community's reward shelf (爱心超市), and expiring after a
//     configurable number of years. The optional time bank (时间银行) keeps
//     coins (1 hour = 1 coin) per register resident, given only to family in
//     the same household and never paid out as money.
//   - Each ledger's balance is kept on its account row too, changed by a
//     conditional UPDATE in the entry's transaction. The database refuses a
//     balance below zero, and two concurrent debits cannot both pass; the
//     tests check that every balance equals the sum of its entries.
//   - Capacity of an activity is a counter raised by a conditional UPDATE
//     (taken < slots), so no amount of concurrency over-fills it.
//   - Check-in at the site is by an HMAC-signed, time-limited token (shown
//     as a QR code or link by the organiser), refused outside the
//     activity's window or too far from its place.
//   - Participants are reminded in their inbox ReminderLead before an
//     activity starts, and told when it is cancelled; a row per sign-up
//     and kind of message (volunteer_signup_notices) makes each message
//     go out once however many nodes run the job (reminders.go).
//   - Stars follow the hours (100/300/600/1000/1500 by default) after a
//     public notice period (公示); proofs of service are frozen when issued
//     and verifiable by number on a public page.
//
// Personal numbers (ID, phone) are sealed at rest with crypto.Box and shown
// masked.
package volunteer

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
	"github.com/linli/linli/internal/platform/notify"
	"github.com/linli/linli/internal/registry"
)

// outOfScope is what auth.Allowed answers a caller who holds the permission
// but not over this record's community: "outside your area".
const outOfScope = "err.volunteer.out_of_scope"

// Areas is what the module needs of the area module (*area.Service).
type Areas interface {
	Get(ctx context.Context, code string) (area.Area, error)
	List(ctx context.Context, q area.ListQuery) ([]area.Area, error)
}

// Register is what the module needs of the register (*registry.Service):
// who a logged-in resident is, and a resident's household for time-bank
// gifts.
type Register interface {
	IdentityOf(ctx context.Context, userID int64) (registry.Identity, error)
	Resident(ctx context.Context, id int64) (registry.Resident, error)
}

var (
	_ Areas    = (*area.Service)(nil)
	_ Register = (*registry.Service)(nil)
)

// Config holds the rules a deployment may tune.
type Config struct {
	// StarHours are the hours for one, two, … stars.
	StarHours []int
	// NoticeDays is the public notice period before a star is awarded
	// (公示 of at least five working days: seven calendar days).
	NoticeDays int
	// DefaultCapMinutes is the most credited per participant and activity
	// when the activity names no cap (海林: 2 hours).
	DefaultCapMinutes int
	// CheckinRadius is how far, in metres, a phone may be from the site.
	CheckinRadius float64
	// CheckinSlack lets check-in open before the start and check-out close
	// after the end.
	CheckinSlack time.Duration
	// TokenTTL is how long a check-in code stays valid.
	TokenTTL time.Duration
	// PointsExpireYears is how long points stay valid; 0: forever.
	PointsExpireYears int
	// TimeBank turns the time bank on.
	TimeBank bool
}

// DefaultConfig is the rules of the reference (§5 of cn-grid-governance.md).
func DefaultConfig() Config {
	return Config{StarHours: []int{100, 300, 600, 1000, 1500}, NoticeDays: 7, DefaultCapMinutes: 120,
		CheckinRadius: 500, CheckinSlack: 30 * time.Minute, TokenTTL: 15 * time.Minute, PointsExpireYears: 3, TimeBank: true}
}

// Service is the module.
type Service struct {
	db    *db.DB
	audit *audit.Log
	box   *crypto.Box
	areas Areas
	reg   Register
	now   func() time.Time
	// Config may be changed before the service is used.
	Config Config
	// Notify puts reminders and cancellation notices in the inboxes of
	// those signed up; without it none are sent (set it before Jobs).
	Notify *notify.Notifier
}

// NewService returns the module's service with DefaultConfig.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas Areas, reg Register, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: log, box: box, areas: areas, reg: reg, now: now, Config: DefaultConfig()}
}

// Sealed fields; the name is bound into the ciphertext.
const (
	fieldIDNumber   = "volunteer.id_number"
	fieldPhone      = "volunteer.phone"
	fieldOrgContact = "volunteer.org_contact"
	fieldCheckin    = "volunteer.checkin"
)

// placed is the community an object belongs to.
type placed struct {
	AreaID    int64  `json:"-"`
	AreaPath  string `json:"-"`
	Community string `json:"community"`
}

// community resolves a community code given in a form and checks perm
// there. Outside the caller's areas the area module answers "not found";
// the message says so on the field.
func (s *Service) community(ctx context.Context, code string, perm auth.Perm) (placed, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return placed{}, errs.OnField("community", "err.volunteer.community_missing")
	}
	p := auth.From(ctx)
	if p == nil {
		return placed{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	a, err := s.areas.Get(ctx, code)
	if errs.CodeOf(err) == errs.NotFound {
		return placed{}, errs.OnField("community", "err.volunteer.community_unknown", code)
	}
	if err != nil {
		return placed{}, err
	}
	if a.Level != area.Community {
		return placed{}, errs.OnField("community", "err.volunteer.not_community", code)
	}
	if err := auth.Allowed(p, perm, a.Path, outOfScope); err != nil {
		return placed{}, err
	}
	return placed{AreaID: a.ID, AreaPath: a.Path, Community: a.Code}, nil
}

// communityOfGrid is the community of a resident's grid: the grid's
// parent, whose id is the next-to-last element of the grid's path and
// whose code is the first 12 digits of the grid's.
func communityOfGrid(gridPath, gridCode string) placed {
	parent := gridPath[:strings.LastIndex(strings.TrimSuffix(gridPath, "/"), "/")+1]
	parts := strings.Split(strings.Trim(parent, "/"), "/")
	id, _ := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	code := gridCode
	if len(code) > 12 {
		code = code[:12]
	}
	return placed{AreaID: id, AreaPath: parent, Community: code}
}

// caller is the logged-in user, for what residents do for themselves.
func caller(ctx context.Context) (*auth.Principal, error) {
	p := auth.From(ctx)
	if p == nil || p.UserID == 0 {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	return p, nil
}

// textOK reports whether s is at most n characters and free of control
// characters.
func textOK(s string, n int) bool {
	if utf8.RuneCountInString(s) > n {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}

// record writes an audit row for a change to a target of the module.
func (s *Service) record(ctx context.Context, action, target string, id int64, detail string) error {
	return s.audit.Record(ctx, audit.Entry{Action: "volunteer." + action, TargetType: target,
		TargetID: strconv.FormatInt(id, 10), Detail: detail})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func userOf(ctx context.Context) any {
	if p := auth.From(ctx); p != nil && p.UserID != 0 {
		return p.UserID
	}
	return nil
}
