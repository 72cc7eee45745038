package registry

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// CareLevel is how closely someone is looked after, and so how often they
// are visited.
type CareLevel struct {
	Code      string `json:"code"`
	Rank      int    `json:"rank"` // higher is closer care
	NameZH    string `json:"name_zh"`
	NameEN    string `json:"name_en"`
	EveryDays int    `json:"every_days"`
}

// Group is a special group (特殊人群 / 关爱对象) a resident may belong to.
type Group struct {
	Code      string `json:"code"`
	NameZH    string `json:"name_zh"`
	NameEN    string `json:"name_en"`
	CareLevel string `json:"care_level,omitempty"`
	Active    bool   `json:"active"`
}

func findGroup(gs []Group, code string) (Group, bool) {
	i := slices.IndexFunc(gs, func(g Group) bool { return g.Code == code })
	if i < 0 {
		return Group{}, false
	}
	return gs[i], true
}

// rankOf is a level's rank; 0 for none or an unknown code.
func rankOf(ls []CareLevel, code string) int {
	for _, l := range ls {
		if l.Code == code {
			return l.Rank
		}
	}
	return 0
}

// CareLevels lists the care levels, closest care first.
func (s *Service) CareLevels(ctx context.Context) ([]CareLevel, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return nil, err
	}
	return s.store.careLevels(ctx)
}

// Groups lists the special groups.
func (s *Service) Groups(ctx context.Context) ([]Group, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return nil, err
	}
	return s.store.groups(ctx)
}

// SetVisitInterval changes how often residents at a care level are
// visited. It applies at once: who is due is computed from the last visit
// and the interval on every read.
func (s *Service) SetVisitInterval(ctx context.Context, level string, days int) error {
	if days < 1 || days > 366 {
		return errs.OnField("every_days", "err.registry.every_days")
	}
	if err := auth.From(ctx).Require(auth.RegistryConfig, ""); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		ok, err := s.store.setInterval(ctx, level, days)
		if err != nil {
			return err
		}
		if !ok {
			return errs.OnField("care_level", "err.registry.care_level", level)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.care_level.update", TargetType: "care_level", TargetID: level,
			Detail: strconv.Itoa(days) + "d"})
	})
}

// SaveGroup adds a special group or changes one (name, default care level,
// active); the list is the deployment's to keep.
func (s *Service) SaveGroup(ctx context.Context, g Group) error {
	g.Code, g.NameZH, g.NameEN = strings.TrimSpace(g.Code), strings.TrimSpace(g.NameZH), strings.TrimSpace(g.NameEN)
	if err := auth.From(ctx).Require(auth.RegistryConfig, ""); err != nil {
		return err
	}
	levels, err := s.store.careLevels(ctx)
	if err != nil {
		return err
	}
	var v errs.Validation
	v.Check(codeRE.MatchString(g.Code), "group_code", "err.registry.group_code")
	v.Check(g.NameZH != "" && textOK(g.NameZH, 30), "name_zh", "err.registry.group_name")
	v.Check(g.NameEN != "" && textOK(g.NameEN, 60), "name_en", "err.registry.group_name")
	v.Check(g.CareLevel == "" || rankOf(levels, g.CareLevel) > 0, "care_level", "err.registry.care_level", g.CareLevel)
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.store.upsertGroup(ctx, g); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.group.save", TargetType: "group", TargetID: g.Code})
	})
}

// Due is a resident whose visit is due or overdue.
type Due struct {
	Resident Resident  `json:"resident"`
	Level    CareLevel `json:"level"`
	DueAt    time.Time `json:"due_at"`
	Overdue  bool      `json:"overdue"`
	Address  string    `json:"address,omitempty"`
}

// dueAhead is how far ahead the visit list looks: what falls due in the
// next days is listed too, so a worker can plan the week's round.
const dueAhead = 3 * 24 * time.Hour

// DueVisits lists, for the caller's grids (or one grid), the residents
// with a care level whose next visit is due within dueAhead or overdue,
// the most overdue first. A resident never visited is due from the day
// they were registered.
func (s *Service) DueVisits(ctx context.Context, gridCode string, limit int) ([]Due, error) {
	p, err := auth.Require(ctx, auth.RegistryVisit)
	if err != nil {
		return nil, err
	}
	var areaID int64
	if gridCode != "" {
		g, err := s.grid(ctx, gridCode, auth.RegistryVisit)
		if err != nil {
			return nil, err
		}
		areaID = g.ID
	}
	levels, err := s.store.careLevels(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	rs, err := s.store.due(ctx, p, areaID, levels, now.Add(dueAhead), limitOf(limit))
	if err != nil {
		return nil, err
	}
	if err := s.store.fillGroups(ctx, rs); err != nil {
		return nil, err
	}
	out := make([]Due, 0, len(rs))
	for _, r := range rs {
		l := levels[slices.IndexFunc(levels, func(l CareLevel) bool { return l.Code == r.CareLevel })]
		from := r.CreatedAt
		if r.LastVisitAt != nil {
			from = *r.LastVisitAt
		}
		due := from.Add(time.Duration(l.EveryDays) * 24 * time.Hour)
		out = append(out, Due{Resident: s.masked(r), Level: l, DueAt: due, Overdue: due.Before(now)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out, nil
}

// VisitMode is how a visit was made.
type VisitMode string

const (
	ModeHome  VisitMode = "home"  // 上门
	ModePhone VisitMode = "phone" // 电话/视频
	ModeOther VisitMode = "other"
)

// VisitModes lists every mode.
var VisitModes = []VisitMode{ModeHome, ModePhone, ModeOther}

// Visit is one visit (走访) to a resident.
type Visit struct {
	ID         int64     `json:"id"`
	ResidentID int64     `json:"resident_id"`
	Visitor    string    `json:"visitor"`
	At         time.Time `json:"at"`
	Mode       VisitMode `json:"mode"`
	Place      string    `json:"place,omitempty"`
	Finding    string    `json:"finding,omitempty"`
	HasPhoto   bool      `json:"has_photo"`
	CaseNumber string    `json:"case_number,omitempty"`
}

// Photo is a picture taken on a visit.
type Photo struct {
	ContentType string
	Data        []byte
}

// MaxPhotoBytes bounds a visit's photo.
const MaxPhotoBytes = 10 << 20

// VisitInput is what recording a visit takes. With Category set, the
// finding becomes a case in the same step (channel grid_worker).
type VisitInput struct {
	At       time.Time `json:"at"` // zero: now
	Mode     VisitMode `json:"mode"`
	Place    string    `json:"place"`
	Finding  string    `json:"finding"`
	Photo    *Photo    `json:"-"`
	Category string    `json:"case_category"`
	Location *Point    `json:"location"`
}

var photoTypes = []string{"image/jpeg", "image/png", "image/webp"}

func (s *Service) validateVisit(in *VisitInput) error {
	in.Place, in.Finding, in.Category = strings.TrimSpace(in.Place), strings.TrimSpace(in.Finding), strings.TrimSpace(in.Category)
	if in.Mode == "" {
		in.Mode = ModeHome
	}
	now := s.now().UTC()
	if in.At.IsZero() {
		in.At = now
	}
	var v errs.Validation
	v.Check(slices.Contains(VisitModes, in.Mode), "mode", "err.registry.visit_mode", string(in.Mode))
	v.Check(!in.At.After(now.Add(5*time.Minute)) && in.At.After(now.AddDate(-1, 0, 0)), "at", "err.registry.visit_time")
	v.Check(textOK(in.Place, 100), "place", "err.registry.visit_place")
	v.Check(textOK(in.Finding, 2000), "finding", "err.registry.finding")
	v.Check(in.Category == "" || in.Finding != "", "finding", "err.registry.finding_for_case")
	if in.Photo != nil {
		v.Check(len(in.Photo.Data) > 0 && len(in.Photo.Data) <= MaxPhotoBytes, "photo", "err.registry.photo_size", MaxPhotoBytes>>20)
		v.Check(slices.Contains(photoTypes, in.Photo.ContentType), "photo", "err.registry.photo_type")
	}
	checkPoint(&v, "location", in.Location)
	return v.Err()
}

// RecordVisit records a visit to a resident and moves their visit plan on.
// When the input names a case category, the finding is filed as a case in
// the same transaction: the visit and its case land together or not at all.
func (s *Service) RecordVisit(ctx context.Context, residentID int64, in VisitInput) (Visit, error) {
	if _, err := auth.Require(ctx, auth.RegistryVisit); err != nil {
		return Visit{}, err
	}
	if err := s.validateVisit(&in); err != nil {
		return Visit{}, err
	}
	var vis Visit
	err := s.db.Write(ctx, func(ctx context.Context) error {
		r, err := s.residentFor(ctx, residentID, auth.RegistryVisit)
		if err != nil {
			return err
		}
		actor := audit.ActorFrom(ctx)
		vis = Visit{ResidentID: r.ID, Visitor: actor.Name, At: in.At, Mode: in.Mode, Place: in.Place, Finding: in.Finding,
			HasPhoto: in.Photo != nil}
		if in.Category != "" {
			if vis.CaseNumber, err = s.reportFinding(ctx, r, in); err != nil {
				return err
			}
		}
		if vis.ID, err = s.store.insertVisit(ctx, r.AreaID, actor.ID, vis, in.Photo, s.now().UTC()); err != nil {
			return err
		}
		if err := s.store.touchVisit(ctx, r.ID, in.At); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.visit.create", TargetType: "resident", TargetID: strconv.FormatInt(r.ID, 10)})
	})
	return vis, err
}

// reportFinding files a visit's finding as a case located in the
// resident's grid (or at the visit's point).
func (s *Service) reportFinding(ctx context.Context, r Resident, in VisitInput) (string, error) {
	if s.Cases == nil {
		return "", errs.E(errs.Unavailable, "err.registry.cases_unavailable")
	}
	nc := cases.NewCase{Channel: cases.ChannelGridWorker, Category: in.Category, Description: in.Finding,
		Address: in.Place, AreaCode: r.Grid}
	if in.Location != nil {
		nc.Point = &orb.Point{in.Location.Lon, in.Location.Lat}
	}
	rc, err := s.Cases.Report(ctx, nc)
	if err != nil {
		return "", err
	}
	return rc.Number, nil
}

// CaseFromVisit turns the finding of an earlier visit into a case, once.
func (s *Service) CaseFromVisit(ctx context.Context, visitID int64, category string) (string, error) {
	if _, err := auth.Require(ctx, auth.RegistryVisit); err != nil {
		return "", err
	}
	category = strings.TrimSpace(category)
	if category == "" {
		return "", errs.OnField("case_category", "err.registry.case_category")
	}
	var number string
	err := s.db.Write(ctx, func(ctx context.Context) error {
		vis, err := s.store.visit(ctx, visitID)
		if err != nil {
			return err
		}
		r, err := s.residentFor(ctx, vis.ResidentID, auth.RegistryVisit)
		if err != nil {
			return err
		}
		if vis.CaseNumber != "" {
			return errs.E(errs.Conflict, "err.registry.visit_has_case", vis.CaseNumber)
		}
		if vis.Finding == "" {
			return errs.OnField("finding", "err.registry.finding_for_case")
		}
		if number, err = s.reportFinding(ctx, r, VisitInput{Finding: vis.Finding, Place: vis.Place, Category: category}); err != nil {
			return err
		}
		if err := s.store.setVisitCase(ctx, visitID, number); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.visit.case", TargetType: "visit", TargetID: strconv.FormatInt(visitID, 10),
			Detail: number})
	})
	return number, err
}

// Visits lists a resident's visits, newest first.
func (s *Service) Visits(ctx context.Context, residentID int64) ([]Visit, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return nil, err
	}
	if _, err := s.residentFor(ctx, residentID, auth.RegistryRead); err != nil {
		return nil, err
	}
	return s.store.visits(ctx, residentID)
}

// VisitPhoto returns the photo of a visit the caller may read.
func (s *Service) VisitPhoto(ctx context.Context, visitID int64) (Photo, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return Photo{}, err
	}
	vis, err := s.store.visit(ctx, visitID)
	if err != nil {
		return Photo{}, err
	}
	if _, err := s.residentFor(ctx, vis.ResidentID, auth.RegistryRead); err != nil {
		return Photo{}, err
	}
	return s.store.photo(ctx, visitID)
}

// Patrol is a walk through a grid (巡查) with its check-in points.
type Patrol struct {
	ID        int64        `json:"id"`
	Patroller string       `json:"patroller"`
	StartedAt time.Time    `json:"started_at"`
	EndedAt   *time.Time   `json:"ended_at,omitempty"`
	Note      string       `json:"note,omitempty"`
	Points    []CheckPoint `json:"points"`
	placed
	userID int64
}

// CheckPoint is a place a patrol checked in at.
type CheckPoint struct {
	At       time.Time `json:"at"`
	Location Point     `json:"location"`
	Note     string    `json:"note,omitempty"`
}

// StartPatrol begins a patrol of a grid.
func (s *Service) StartPatrol(ctx context.Context, gridCode, note string) (Patrol, error) {
	if _, err := auth.Require(ctx, auth.RegistryVisit); err != nil {
		return Patrol{}, err
	}
	note = strings.TrimSpace(note)
	if !textOK(note, 500) {
		return Patrol{}, errs.OnField("note", "err.registry.note")
	}
	var pt Patrol
	err := s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.grid(ctx, strings.TrimSpace(gridCode), auth.RegistryVisit)
		if err != nil {
			return err
		}
		actor := audit.ActorFrom(ctx)
		pt = Patrol{Patroller: actor.Name, StartedAt: s.now().UTC(), Note: note, Points: []CheckPoint{},
			placed: placed{AreaID: g.ID, AreaPath: g.Path, Grid: g.Code, GridName: g.Name}}
		if pt.ID, err = s.store.insertPatrol(ctx, g.ID, actor.ID, pt); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.patrol.start", TargetType: "patrol", TargetID: strconv.FormatInt(pt.ID, 10)})
	})
	return pt, err
}

// patrolFor returns an open patrol the caller runs (or may run in its
// grid, for staff finishing a forgotten one).
func (s *Service) patrolFor(ctx context.Context, id int64) (Patrol, error) {
	pt, err := s.store.patrol(ctx, id)
	if err != nil {
		return Patrol{}, err
	}
	if err := auth.Allowed(auth.From(ctx), auth.RegistryVisit, pt.AreaPath, outOfScope); err != nil {
		return Patrol{}, err
	}
	if pt.EndedAt != nil {
		return Patrol{}, errs.E(errs.Conflict, "err.registry.patrol_ended")
	}
	return pt, nil
}

// CheckIn records a check-in point of an open patrol.
func (s *Service) CheckIn(ctx context.Context, patrolID int64, at Point, note string) error {
	if _, err := auth.Require(ctx, auth.RegistryVisit); err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	var v errs.Validation
	checkPoint(&v, "location", &at)
	v.Check(textOK(note, 200), "note", "err.registry.note")
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.patrolFor(ctx, patrolID); err != nil {
			return err
		}
		return s.store.insertCheckPoint(ctx, patrolID, CheckPoint{At: s.now().UTC(), Location: at, Note: note})
	})
}

// EndPatrol closes a patrol.
func (s *Service) EndPatrol(ctx context.Context, patrolID int64) (Patrol, error) {
	if _, err := auth.Require(ctx, auth.RegistryVisit); err != nil {
		return Patrol{}, err
	}
	var pt Patrol
	err := s.db.Write(ctx, func(ctx context.Context) error {
		var err error
		if pt, err = s.patrolFor(ctx, patrolID); err != nil {
			return err
		}
		end := s.now().UTC()
		pt.EndedAt = &end
		if err := s.store.endPatrol(ctx, patrolID, end); err != nil {
			return err
		}
		if pt.Points, err = s.store.checkPoints(ctx, patrolID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.patrol.end", TargetType: "patrol", TargetID: strconv.FormatInt(patrolID, 10),
			Detail: strconv.Itoa(len(pt.Points)) + " points"})
	})
	return pt, err
}

// Patrols lists the latest patrols in the caller's scope, with their points.
func (s *Service) Patrols(ctx context.Context, limit int) ([]Patrol, error) {
	p, err := auth.Require(ctx, auth.RegistryRead)
	if err != nil {
		return nil, err
	}
	pts, err := s.store.patrols(ctx, p, limitOf(limit))
	if err != nil {
		return nil, err
	}
	for i := range pts {
		if pts[i].Points, err = s.store.checkPoints(ctx, pts[i].ID); err != nil {
			return nil, err
		}
	}
	return pts, nil
}
