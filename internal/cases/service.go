package cases

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
	"github.com/linli/linli/internal/platform/notify"
)

// WorkTime is the working-time calendar deadlines run on (platform/workcal).
type WorkTime interface {
	AddHours(start time.Time, d time.Duration) time.Time
	AddDays(start time.Time, n int) time.Time
	Between(a, b time.Time) time.Duration
}

// Areas is what the loop needs of the area module: where a point is, and
// the areas a case or a dashboard refers to.
type Areas interface {
	Locate(ctx context.Context, p orb.Point) (area.Location, bool, error)
	Get(ctx context.Context, code string) (area.Area, error)
	List(ctx context.Context, q area.ListQuery) ([]area.Area, error)
	Holders(ctx context.Context, roles []auth.Role, areaIDs []int64) ([]int64, error)
}

// Service runs the closed loop.
type Service struct {
	db     *db.DB
	store  store
	audit  *audit.Log
	box    *crypto.Box
	areas  Areas
	cal    WorkTime
	now    func() time.Time
	Config Config
	// Notify, when set, tells staff and other systems about moves.
	Notify *notify.Notifier
	// Mailer, when set, tells reporters who left an e-mail address.
	Mailer *notify.Mailer
	// refs is the node's copy of the categories, shared by copies of the
	// service (a replay runs on a quiet copy).
	refs *refCache
}

// Config holds the loop's tunable rules.
type Config struct {
	// ReceiveWithin is how long a unit has to receive (签收) a dispatched
	// case before it escalates up the area tree.
	ReceiveWithin time.Duration
	// WarnAt is the share of the time limit after which the unit is warned.
	WarnAt float64
	// DuplicateRadius and DuplicateWindow: a new case of the same category
	// this near and this recent is offered as a likely duplicate.
	DuplicateRadius float64 // metres
	DuplicateWindow time.Duration
	// Weights of the combined score of the three rates.
	WeightResponse, WeightResolution, WeightSatisfaction float64
	// BasicallySatisfiedWeight is how much 基本满意 counts as 满意.
	BasicallySatisfiedWeight float64
}

// DefaultConfig is what a new deployment starts with.
func DefaultConfig() Config {
	return Config{ReceiveWithin: 2 * time.Hour, WarnAt: 0.8, DuplicateRadius: 100, DuplicateWindow: 72 * time.Hour,
		WeightResponse: 0.1, WeightResolution: 0.5, WeightSatisfaction: 0.4, BasicallySatisfiedWeight: 0.9}
}

// NewService returns the case service.
func NewService(d *db.DB, log *audit.Log, box *crypto.Box, areas Areas, cal WorkTime, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, store: store{db: d, near: newOpenNear(d)}, audit: log, box: box, areas: areas, cal: cal, now: now,
		Config: DefaultConfig(), refs: &refCache{}}
}

// NewCase is a report from any channel.
type NewCase struct {
	Channel     Channel
	Category    string // leaf code
	Description string
	Address     string
	Point       *orb.Point // WGS84
	AreaCode    string     // where staff say it is, when there is no point
	Name        string
	Phone       string
	Email       string
	ExternalID  string // the hotline's or Open311 client's id
	FixedOnSite bool   // a grid worker fixed it already (自行处置)
	Files       []File
	// Answers are the answers to the category's attributes (attributes.go).
	Answers map[string][]string
	// Stored, when set, runs in the report's transaction: a channel keeps its own record of the new case.
	Stored func(ctx context.Context, caseID int64, number string) error
	// At is the report time of a replayed historic case; zero means now.
	At time.Time
}

// File is an uploaded photo or document.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Receipt is what the reporter gets back.
type Receipt struct {
	Number     string      `json:"number"`
	Token      string      `json:"token"` // the private link's secret, shown once
	State      State       `json:"state"`
	Grid       *area.Ref   `json:"grid,omitempty"`
	Routing    bool        `json:"needs_routing"` // outside every grid: staff will route it
	Duplicates []Duplicate `json:"duplicates,omitempty"`
}

// Duplicate is a recent open case that may be the same problem.
type Duplicate struct {
	Number   string  `json:"number"`
	Distance float64 `json:"distance_m"`
}

// Limits on what a report may carry.
const (
	MaxDescription = 4000
	MaxFiles       = 9
	MaxFileBytes   = 10 << 20
)

var (
	mobileRE   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landlineRE = regexp.MustCompile(`^(0[0-9]{2,3}-?)?[0-9]{7,8}$`)
	emailRE    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

func (s *Service) validate(nc *NewCase) error {
	nc.Description = strings.TrimSpace(nc.Description)
	nc.Phone = strings.ReplaceAll(strings.TrimSpace(nc.Phone), " ", "")
	var v errs.Validation
	v.Check(nc.Description != "", "description", "err.case.description_missing")
	v.Check(utf8.RuneCountInString(nc.Description) <= MaxDescription, "description", "err.case.description_long", MaxDescription)
	v.Check(utf8.RuneCountInString(nc.Address) <= 200, "address", "err.case.address_long")
	v.Check(nc.Phone == "" || mobileRE.MatchString(nc.Phone) || landlineRE.MatchString(nc.Phone), "phone", "err.case.phone")
	v.Check(nc.Email == "" || emailRE.MatchString(nc.Email), "email", "err.case.email")
	v.Check(utf8.RuneCountInString(nc.Name) <= 50, "name", "err.case.name_long")
	v.Check(len(nc.Files) <= MaxFiles, "files", "err.case.too_many_files", MaxFiles)
	for i, f := range nc.Files {
		checkFile(&v, fmt.Sprintf("files[%d]", i+1), f)
	}
	if nc.Point != nil {
		p := *nc.Point
		v.Check(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90, "location", "err.case.location")
	}
	validChannel := false
	for _, c := range channels {
		validChannel = validChannel || c == nc.Channel
	}
	v.Check(validChannel, "channel", "err.case.channel", string(nc.Channel))
	v.Check(!nc.FixedOnSite || nc.Channel == ChannelGridWorker, "fixed_on_site", "err.case.fixed_on_site")
	v.Check(!nc.FixedOnSite || len(nc.Files) > 0, "photos", "err.case.fixed_needs_photo")
	return v.Err()
}

// allowedTypes are what a case's files may be: photos and PDFs.
var allowedTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "image/gif": true, "application/pdf": true}

func checkFile(v *errs.Validation, field string, f File) {
	v.Check(len(f.Data) > 0, field, "err.case.file_empty", f.Name)
	v.Check(len(f.Data) <= MaxFileBytes, field, "err.case.file_large", f.Name, MaxFileBytes>>20)
	v.Check(allowedTypes[f.ContentType], field, "err.case.file_type", f.Name)
}

// Report files a case. Residents need no account; staff and grid workers
// report for others with case.report. A point outside every grid is
// accepted and flagged for routing by staff.
func (s *Service) Report(ctx context.Context, nc NewCase) (Receipt, error) {
	p := auth.From(ctx)
	if nc.Channel == "" {
		nc.Channel = ChannelResident
	}
	if nc.Channel != ChannelResident && nc.Channel != ChannelOpen311 && !p.CanAnywhere(auth.CaseReport) {
		return Receipt{}, p.Require(auth.CaseReport, "")
	}
	if err := s.validate(&nc); err != nil {
		return Receipt{}, err
	}
	cat, err := s.batchCategory(ctx, nc.Category)
	if err != nil {
		return Receipt{}, err
	}
	answers, err := s.checkAnswers(ctx, cat, nc.Answers)
	if err != nil {
		return Receipt{}, err
	}
	var rc Receipt
	var areaID int64
	if nc.Point != nil {
		loc, ok, err := s.areas.Locate(ctx, *nc.Point)
		if err != nil {
			return Receipt{}, err
		}
		if ok {
			areaID, rc.Grid = loc.GridID, &loc.Grid
		}
	}
	if areaID == 0 && nc.AreaCode != "" {
		a, err := s.batchArea(ctx, nc.AreaCode)
		if err != nil {
			return Receipt{}, err
		}
		areaID = a.ID
	}
	rc.Routing = areaID == 0
	token := newToken(s.now())
	rc.Token = token
	now := s.now().UTC()
	at := now
	if !nc.At.IsZero() {
		at = nc.At.UTC()
	}
	// Everything that needs no lock happens before the write (sealing, the
	// duplicate search, who is to be told): on SQLite all writes queue for
	// one writer, so its share of each report is kept to the statements that
	// must be in the transaction.
	c := row{channel: nc.Channel, externalID: nc.ExternalID, categoryID: cat.ID, description: nc.Description,
		address: strings.TrimSpace(nc.Address), point: nc.Point, areaID: areaID, needsRouting: rc.Routing,
		reporterUserID: userID(p), name: s.box.Seal("case.reporter_name", nc.Name),
		phone: s.box.Seal("case.reporter_phone", nc.Phone), phoneIdx: s.box.Index("phone", nc.Phone),
		email: s.box.Seal("case.reporter_email", nc.Email), state: Reported, urgency: cat.Urgency,
		trackingHash: hashToken(token), createdAt: at}
	// Likely duplicates are the cases reported before this one: a read,
	// advisory, so it runs beside the writer rather than in its queue.
	// (History being replayed is not offered duplicates: nobody would merge them.)
	if nc.Point != nil && !nc.FixedOnSite && nc.Channel != ChannelReplay {
		if rc.Duplicates, err = s.duplicates(ctx, cat.ID, *nc.Point, at); err != nil {
			return Receipt{}, err
		}
	}
	staff, err := s.recipients(ctx, Case{AreaID: areaID}, ActReport)
	if err != nil {
		return Receipt{}, err
	}
	key := statKey{day: dayOf(at), areaID: areaID, categoryID: cat.ID}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		id, err := s.store.insertCase(ctx, c)
		if err != nil {
			return err
		}
		rc.Number, rc.State = NumberOf(id, at), Reported
		if !nc.FixedOnSite { // a case fixed on the spot is closed in this transaction
			s.store.near.moved(ctx, nearChange{id: id, category: cat.ID, point: nc.Point, createdAt: at, open: true})
		}
		eventID, err := s.store.insertEvent(ctx, event{caseID: id, at: at, actor: actorOf(ctx), action: ActReport,
			to: Reported, data: string(nc.Channel), key: key})
		if err != nil {
			return err
		}
		if err := s.saveFiles(ctx, id, eventID, nc.Files, at); err != nil {
			return err
		}
		if err := s.storeAnswers(ctx, id, rc.Number, answers, nc.Stored); err != nil {
			return err
		}
		if err := s.tellTo(ctx, Case{ID: id, Number: rc.Number, AreaID: areaID, State: Reported, CategoryCode: cat.Code},
			ActReport, eventID, at, staff); err != nil {
			return err
		}
		if err := s.store.addStats(ctx, key, counters{reported: 1}); err != nil {
			return err
		}
		if nc.FixedOnSite {
			if err := s.selfHandled(ctx, id, at, key); err != nil {
				return err
			}
			rc.State = Closed
		}
		noteReported(ctx, id, rc.Number, c, cat, rc.State)
		return s.audit.Record(ctx, audit.Entry{Action: "case.report", TargetType: "case", TargetID: rc.Number,
			Detail: string(nc.Channel)})
	})
	return rc, err
}

// selfHandled closes a case a grid worker fixed on the spot (自行处置). It
// counts as reported and closed; with no deadline, it is outside the
// on-time figures.
func (s *Service) selfHandled(ctx context.Context, id int64, at time.Time, key statKey) error {
	if err := s.store.closeSelfHandled(ctx, id, at); err != nil {
		return err
	}
	if _, err := s.store.insertEvent(ctx, event{caseID: id, at: at, actor: actorOf(ctx), action: ActSelfHandle,
		from: Reported, to: Closed, key: key}); err != nil {
		return err
	}
	return s.store.addStats(ctx, key, counters{accepted: 1, closed: 1})
}

func (s *Service) saveFiles(ctx context.Context, caseID, eventID int64, files []File, at time.Time) error {
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		if err := s.store.insertFile(ctx, caseID, eventID, f, hex.EncodeToString(sum[:]), at); err != nil {
			return err
		}
	}
	return nil
}

// maxDuplicates is how many likely duplicates a report is offered.
const maxDuplicates = 20

// duplicates finds open cases of the same category near p reported within
// the window before at.
func (s *Service) duplicates(ctx context.Context, categoryID int64, p orb.Point, at time.Time) ([]Duplicate, error) {
	since := at.Add(-s.Config.DuplicateWindow)
	s.store.near.refresh(s.store)
	near, ok := s.store.near.search(categoryID, p, s.Config.DuplicateRadius, since)
	if !ok {
		var err error
		if near, err = s.store.nearby(ctx, categoryID, p, s.Config.DuplicateRadius, since); err != nil {
			return nil, err
		}
	}
	// The oldest first: the case a new report most likely repeats, and
	// the one the others would be merged into.
	slices.SortFunc(near, func(a, b nearbyCase) int { return cmp.Compare(a.id, b.id) })
	var out []Duplicate
	for _, n := range near {
		if d := geo.Distance(p, n.point); d <= s.Config.DuplicateRadius && len(out) < maxDuplicates {
			out = append(out, Duplicate{Number: NumberOf(n.id, n.createdAt), Distance: float64(int(d + 0.5))})
		}
	}
	return out, nil
}

// newToken makes the secret of a case's private link. It is ordered by
// time, so that the unique index of the links' hashes takes each report at
// its end (see crypto.OrderedToken).
func newToken(now time.Time) string { return crypto.OrderedToken(now, 16) }

// hashToken is what is stored of a private link: its hash, so that a copy
// of the database opens no case page, after the link's time prefix, which
// keeps the index of new links in order. Links made before the prefix
// (24 characters, random) are stored as the bare hash and still found.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	hash := hex.EncodeToString(sum[:])
	if len(token) == orderedTokenLen && crypto.IsTokenText(token) {
		return token[:crypto.OrderedTokenTimeChars] + hash
	}
	return hash
}

// orderedTokenLen is the length of newToken's tokens.
const orderedTokenLen = 36

func userID(p *auth.Principal) int64 {
	if p == nil {
		return 0
	}
	return p.UserID
}

func actorOf(ctx context.Context) actor {
	a := audit.ActorFrom(ctx)
	return actor{id: a.ID, name: a.Name}
}

// dayOf is the China-time date of t, the key of the daily counters.
func dayOf(t time.Time) string { return t.In(chinaTime).Format(time.DateOnly) }
