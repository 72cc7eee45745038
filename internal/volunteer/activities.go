package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Audience says who an activity is for.
type Audience string

const (
	ForVolunteers Audience = "volunteers" // volunteer service, credited in hours
	ForResidents  Audience = "residents"  // lectures, events, briefings (学习、宣传、讲座) for everyone
)

// ActivityKinds are the kinds of service and event; the points rules and
// the reports go by them.
var ActivityKinds = []string{"elder_care", "environment", "patrol", "culture", "health", "legal", "education", "party_service",
	"lecture", "sports", "health_talk", "policy_briefing", "other"}

// Activity is a volunteer activity or a community event.
type Activity struct {
	ID int64 `json:"id"`
	placed
	OrgID       int64     `json:"org_id,omitempty"`
	TeamID      int64     `json:"team_id,omitempty"`
	Title       string    `json:"title"`
	Kind        string    `json:"kind"`
	Audience    Audience  `json:"audience"`
	Description string    `json:"description,omitempty"`
	Place       string    `json:"place"`
	Lon         float64   `json:"lon"`
	Lat         float64   `json:"lat"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	Slots       int       `json:"slots"`
	Taken       int       `json:"taken"`
	Skills      []string  `json:"skills"`
	Risk        string    `json:"risk"`
	Insured     bool      `json:"insured"`
	TimeBank    bool      `json:"time_bank"`
	CapMinutes  int       `json:"cap_minutes"`
	Status      string    `json:"status"`
	Organiser   string    `json:"organiser,omitempty"`
}

// Free is the number of open places.
func (a Activity) Free() int { return a.Slots - a.Taken }

// ActivityInput publishes an activity. Times are RFC 3339 or
// "2006-01-02T15:04" in China time (what a datetime-local field sends).
type ActivityInput struct {
	Community   string   `json:"community"`
	OrgID       int64    `json:"org_id"`
	TeamID      int64    `json:"team_id"`
	Title       string   `json:"title"`
	Kind        string   `json:"kind"`
	Audience    Audience `json:"audience"`
	Description string   `json:"description"`
	Place       string   `json:"place"`
	Lon         float64  `json:"lon"`
	Lat         float64  `json:"lat"`
	StartsAt    string   `json:"starts_at"`
	EndsAt      string   `json:"ends_at"`
	Slots       int      `json:"slots"`
	Skills      []string `json:"skills"`
	Risk        string   `json:"risk"`
	Insurance   string   `json:"insurance"`
	TimeBank    bool     `json:"time_bank"`
	CapMinutes  int      `json:"cap_minutes"`
	Organiser   string   `json:"organiser"`
}

// parseTime reads an RFC 3339 time or a datetime-local value in China time.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, chinaTime); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// maxSlots and maxActivityDays bound an activity to what a community runs.
const (
	maxSlots        = 5000
	maxActivityDays = 31
)

func (s *Service) validateActivity(in *ActivityInput) (start, end time.Time, err error) {
	in.Title, in.Place, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Place), strings.TrimSpace(in.Description)
	in.Insurance, in.Organiser = strings.TrimSpace(in.Insurance), strings.TrimSpace(in.Organiser)
	if in.Audience == "" {
		in.Audience = ForVolunteers
	}
	if in.Risk == "" {
		in.Risk = "low"
	}
	if in.CapMinutes == 0 {
		in.CapMinutes = s.Config.DefaultCapMinutes
	}
	in.Skills = cleanList(in.Skills)
	var v errs.Validation
	v.Check(in.Title != "" && textOK(in.Title, 80), "title", "err.volunteer.title")
	v.Check(slices.Contains(ActivityKinds, in.Kind), "kind", "err.volunteer.activity_kind", in.Kind)
	v.Check(in.Audience == ForVolunteers || in.Audience == ForResidents, "audience", "err.volunteer.audience")
	v.Check(textOK(in.Description, 2000), "description", "err.volunteer.description")
	v.Check(in.Place != "" && textOK(in.Place, 100), "place", "err.volunteer.place")
	v.Check(in.Lon >= 73 && in.Lon <= 136 && in.Lat >= 3 && in.Lat <= 54, "lon", "err.volunteer.location")
	v.Check(in.Slots >= 1 && in.Slots <= maxSlots, "slots", "err.volunteer.slots", maxSlots)
	v.Check(len(in.Skills) <= 10 && allText(in.Skills, 20), "skills", "err.volunteer.skills")
	v.Check(in.Risk == "low" || in.Risk == "high", "risk", "err.volunteer.risk")
	v.Check(textOK(in.Insurance, 60), "insurance", "err.volunteer.insurance")
	v.Check(in.CapMinutes >= 1 && in.CapMinutes <= 24*60, "cap_minutes", "err.volunteer.cap")
	v.Check(textOK(in.Organiser, 30), "organiser", "err.volunteer.person_name")
	start, okStart := parseTime(in.StartsAt)
	end, okEnd := parseTime(in.EndsAt)
	v.Check(okStart, "starts_at", "err.volunteer.time")
	v.Check(okEnd, "ends_at", "err.volunteer.time")
	if okStart && okEnd {
		v.Check(end.After(start) && end.Sub(start) <= maxActivityDays*24*time.Hour, "ends_at", "err.volunteer.window", maxActivityDays)
		v.Check(end.After(s.now()), "ends_at", "err.volunteer.past")
	}
	return start, end, v.Err()
}

// Publish publishes an activity in a community.
func (s *Service) Publish(ctx context.Context, in ActivityInput) (Activity, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Activity{}, err
	}
	start, end, err := s.validateActivity(&in)
	if err != nil {
		return Activity{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		pl, err := s.community(ctx, in.Community, auth.VolunteerManage)
		if err != nil {
			return err
		}
		if err := s.checkOwners(ctx, in.OrgID, in.TeamID); err != nil {
			return err
		}
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_activities (area_id, area_path, org_id, team_id, title, kind, audience,
			description, place, lon, lat, starts_at, ends_at, slots, skills, risk, insurance, time_bank, cap_minutes, status, organiser, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 'published', $20, $21, $22) RETURNING id`,
			pl.AreaID, pl.AreaPath, nullID(in.OrgID), nullID(in.TeamID), in.Title, in.Kind, string(in.Audience), in.Description, in.Place,
			in.Lon, in.Lat, start, end, in.Slots, strings.Join(in.Skills, ","), in.Risk, in.Insurance, in.TimeBank, in.CapMinutes,
			in.Organiser, userOf(ctx), s.now().UTC()).Scan(&id)
		if err != nil {
			return err
		}
		return s.record(ctx, "activity.publish", "volunteer_activity", id, in.Kind)
	})
	if err != nil {
		return Activity{}, err
	}
	return s.loadActivity(ctx, id)
}

func (s *Service) checkOwners(ctx context.Context, orgID, teamID int64) error {
	if orgID != 0 {
		if _, err := s.orgFor(ctx, orgID, auth.VolunteerManage); err != nil {
			return errs.OnField("org_id", "err.volunteer.org_unknown", orgID)
		}
	}
	if teamID != 0 {
		var path string
		err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT area_path FROM volunteer_teams WHERE id = $1", teamID).Scan(&path)
		if err != nil || !auth.From(ctx).Can(auth.VolunteerManage, path) {
			return errs.OnField("team_id", "err.volunteer.team_unknown", teamID)
		}
	}
	return nil
}

const activityCols = `x.id, x.area_id, x.area_path, a.code, COALESCE(x.org_id, 0), COALESCE(x.team_id, 0), x.title, x.kind, x.audience,
	x.description, x.place, x.lon, x.lat, x.starts_at, x.ends_at, x.slots, x.taken, x.skills, x.risk, x.insurance <> '', x.time_bank,
	x.cap_minutes, x.status, x.organiser`

const activityFrom = " FROM volunteer_activities x JOIN areas a ON a.id = x.area_id "

func scanActivity(r db.Scanner) (Activity, error) {
	var x Activity
	var skills string
	err := r.Scan(&x.ID, &x.AreaID, &x.AreaPath, &x.Community, &x.OrgID, &x.TeamID, &x.Title, &x.Kind, &x.Audience, &x.Description,
		&x.Place, &x.Lon, &x.Lat, &x.StartsAt, &x.EndsAt, &x.Slots, &x.Taken, &skills, &x.Risk, &x.Insured, &x.TimeBank,
		&x.CapMinutes, &x.Status, &x.Organiser)
	x.Skills = cleanList([]string{skills})
	if x.Skills == nil {
		x.Skills = []string{}
	}
	return x, err
}

func (s *Service) loadActivity(ctx context.Context, id int64) (Activity, error) {
	x, err := scanActivity(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+activityCols+activityFrom+"WHERE x.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Activity{}, errs.E(errs.NotFound, "err.volunteer.activity_not_found", id)
	}
	return x, err
}

// activityFor loads an activity the caller may use perm on.
func (s *Service) activityFor(ctx context.Context, id int64, perm auth.Perm) (Activity, error) {
	x, err := s.loadActivity(ctx, id)
	if err != nil {
		return Activity{}, err
	}
	return x, auth.Allowed(auth.From(ctx), perm, x.AreaPath, outOfScope)
}

// Activity returns one activity: published activities are public.
func (s *Service) Activity(ctx context.Context, id int64) (Activity, error) {
	return s.loadActivity(ctx, id)
}

// Activities lists the activities of the caller's areas, newest first.
func (s *Service) Activities(ctx context.Context) ([]Activity, error) {
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	cond, args := p.Filter(auth.VolunteerRead, "x.area_id", 1)
	return db.All(ctx, s.db.Q(ctx), scanActivity, "SELECT "+activityCols+activityFrom+"WHERE "+cond+" ORDER BY x.starts_at DESC LIMIT 200", args...)
}

// Calendar lists a community's published activities that have not ended
// and start within days: the public calendar, which needs no login.
func (s *Service) Calendar(ctx context.Context, community string, days int) ([]Activity, error) {
	if days <= 0 || days > 366 {
		days = 60
	}
	now := s.now().UTC()
	return db.All(ctx, s.db.Q(ctx), scanActivity, "SELECT "+activityCols+activityFrom+
		`WHERE a.code = $1 AND x.status = 'published' AND x.ends_at > $2 AND x.starts_at < $3 ORDER BY x.starts_at LIMIT 200`,
		community, now, now.AddDate(0, 0, days))
}

// Signup is a participant's place in an activity.
type Signup struct {
	ID           int64      `json:"id"`
	ActivityID   int64      `json:"activity_id"`
	Participant  string     `json:"-"`
	VolunteerID  int64      `json:"volunteer_id,omitempty"`
	ResidentID   int64      `json:"resident_id,omitempty"`
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	CheckedInAt  *time.Time `json:"checked_in_at,omitempty"`
	CheckedOutAt *time.Time `json:"checked_out_at,omitempty"`
	CheckMethod  string     `json:"check_method,omitempty"`
	Credited     int        `json:"credited_minutes,omitempty"`
	Rating       int        `json:"rating,omitempty"`
	Feedback     string     `json:"feedback,omitempty"`
	Title        string     `json:"title,omitempty"` // the activity's, in a participant's list
}

const signupCols = `g.id, g.activity_id, g.participant, COALESCE(g.volunteer_id, 0), COALESCE(g.resident_id, 0), g.name, g.status,
	g.checked_in_at, g.checked_out_at, g.check_method, COALESCE(g.credited_minutes, 0), COALESCE(g.rating, 0), g.feedback, x.title`

const signupFrom = " FROM volunteer_signups g JOIN volunteer_activities x ON x.id = g.activity_id "

func scanSignup(r db.Scanner) (Signup, error) {
	var g Signup
	var in, out sql.NullTime
	err := r.Scan(&g.ID, &g.ActivityID, &g.Participant, &g.VolunteerID, &g.ResidentID, &g.Name, &g.Status, &in, &out, &g.CheckMethod,
		&g.Credited, &g.Rating, &g.Feedback, &g.Title)
	if in.Valid {
		g.CheckedInAt = &in.Time
	}
	if out.Valid {
		g.CheckedOutAt = &out.Time
	}
	return g, err
}

// participant is who the logged-in user takes part as: their volunteer
// registration for volunteer service, else (for residents' events) their
// register entry.
type participant struct {
	key         string
	volunteerID int64
	residentID  int64
	name        string
}

func (s *Service) participantFor(ctx context.Context, aud Audience) (participant, error) {
	if v, err := s.Me(ctx); err == nil {
		if aud == ForVolunteers && v.Status != Verified {
			return participant{}, errs.E(errs.Forbidden, "err.volunteer.not_verified")
		}
		return participant{key: fmt.Sprintf("v%d", v.ID), volunteerID: v.ID, residentID: v.ResidentID, name: v.Name}, nil
	} else if errs.CodeOf(err) != errs.NotFound {
		return participant{}, err
	}
	if aud == ForVolunteers {
		return participant{}, errs.E(errs.Forbidden, "err.volunteer.not_registered")
	}
	p, _ := caller(ctx)
	me, err := s.reg.IdentityOf(ctx, p.UserID)
	if err != nil {
		return participant{}, err
	}
	return participant{key: fmt.Sprintf("r%d", me.ResidentID), residentID: me.ResidentID, name: me.Name}, nil
}

// SignUp takes a place in an activity for the logged-in user. The place
// is taken by a conditional UPDATE, so a full activity refuses however
// many sign up at once; signing up twice is a conflict.
func (s *Service) SignUp(ctx context.Context, activityID int64) (Signup, error) {
	if _, err := caller(ctx); err != nil {
		return Signup{}, err
	}
	x, err := s.loadActivity(ctx, activityID)
	if err != nil {
		return Signup{}, err
	}
	who, err := s.participantFor(ctx, x.Audience)
	if err != nil {
		return Signup{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE volunteer_activities SET taken = taken + 1
			WHERE id = $1 AND status = 'published' AND taken < slots AND ends_at > $2`, activityID, s.now().UTC())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.whyNoPlace(ctx, activityID)
		}
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_signups (activity_id, participant, volunteer_id, resident_id, name, status, created_at, user_id)
			VALUES ($1, $2, $3, $4, $5, 'signed', $6, $7) RETURNING id`, activityID, who.key, nullID(who.volunteerID), nullID(who.residentID),
			who.name, s.now().UTC(), userOf(ctx)).Scan(&id)
		if db.IsUnique(err) {
			return errs.TakenOnField("activity_id", "err.volunteer.signed_already")
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "signup", "volunteer_activity", activityID, who.key)
	})
	if err != nil {
		return Signup{}, err
	}
	return s.loadSignup(ctx, id)
}

// whyNoPlace says why the conditional UPDATE took no place.
func (s *Service) whyNoPlace(ctx context.Context, id int64) error {
	x, err := s.loadActivity(ctx, id)
	switch {
	case err != nil:
		return err
	case x.Status != "published":
		return errs.OnField("activity_id", "err.volunteer.activity_cancelled")
	case !x.EndsAt.After(s.now()):
		return errs.OnField("activity_id", "err.volunteer.activity_over")
	default:
		return errs.TakenOnField("activity_id", "err.volunteer.full", x.Slots)
	}
}

func (s *Service) loadSignup(ctx context.Context, id int64) (Signup, error) {
	g, err := scanSignup(s.db.Q(ctx).QueryRowContext(ctx, "SELECT "+signupCols+signupFrom+"WHERE g.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Signup{}, errs.E(errs.NotFound, "err.volunteer.signup_not_found", id)
	}
	return g, err
}

// ownSignup loads a sign-up of the logged-in user.
func (s *Service) ownSignup(ctx context.Context, id int64) (Signup, error) {
	p, err := caller(ctx)
	if err != nil {
		return Signup{}, err
	}
	g, err := s.loadSignup(ctx, id)
	if err != nil {
		return Signup{}, err
	}
	if !s.isOwn(ctx, p.UserID, g) {
		return Signup{}, errs.E(errs.NotFound, "err.volunteer.signup_not_found", id)
	}
	return g, nil
}

func (s *Service) isOwn(ctx context.Context, userID int64, g Signup) bool {
	if g.VolunteerID != 0 {
		var owner sql.NullInt64
		s.db.Q(ctx).QueryRowContext(ctx, "SELECT user_id FROM volunteers WHERE id = $1", g.VolunteerID).Scan(&owner)
		return owner.Valid && owner.Int64 == userID
	}
	me, err := s.reg.IdentityOf(ctx, userID)
	return err == nil && me.ResidentID == g.ResidentID
}

// organiserSignup loads a sign-up for the organiser (VolunteerManage on
// the activity's community), with its activity.
func (s *Service) organiserSignup(ctx context.Context, id int64) (Signup, Activity, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Signup{}, Activity{}, err
	}
	g, err := s.loadSignup(ctx, id)
	if err != nil {
		return Signup{}, Activity{}, err
	}
	x, err := s.activityFor(ctx, g.ActivityID, auth.VolunteerManage)
	return g, x, err
}

// Signups lists an activity's sign-ups, for its organiser.
func (s *Service) Signups(ctx context.Context, activityID int64) ([]Signup, error) {
	if _, err := s.activityFor(ctx, activityID, auth.VolunteerRead); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), scanSignup, "SELECT "+signupCols+signupFrom+"WHERE g.activity_id = $1 ORDER BY g.id", activityID)
}

// MySignups lists the logged-in user's sign-ups, latest first.
func (s *Service) MySignups(ctx context.Context) ([]Signup, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var keys []any
	if v, err := s.Me(ctx); err == nil {
		keys = append(keys, fmt.Sprintf("v%d", v.ID))
	}
	if me, err := s.reg.IdentityOf(ctx, p.UserID); err == nil {
		keys = append(keys, fmt.Sprintf("r%d", me.ResidentID))
	}
	if len(keys) == 0 {
		return nil, nil
	}
	in := "$1"
	if len(keys) == 2 {
		in = "$1, $2"
	}
	return db.All(ctx, s.db.Q(ctx), scanSignup, "SELECT "+signupCols+signupFrom+"WHERE g.participant IN ("+in+") ORDER BY x.starts_at DESC LIMIT 100", keys...)
}

// setSignup moves a sign-up from one of the states from to state to, and
// audits it; the conditional UPDATE makes the move happen once.
func (s *Service) setSignup(ctx context.Context, id int64, to string, from ...string) error {
	marks := make([]string, len(from))
	args := []any{to, id}
	for i, f := range from {
		marks[i] = fmt.Sprintf("$%d", i+3)
		args = append(args, f)
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_signups SET status = $1 WHERE id = $2 AND status IN ("+strings.Join(marks, ", ")+")", args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.TakenOnField("status", "err.volunteer.signup_state")
	}
	return s.record(ctx, "signup."+to, "volunteer_signup", id, "")
}

// Confirm admits a sign-up (the organiser's choice among volunteers).
func (s *Service) Confirm(ctx context.Context, signupID int64) (Signup, error) {
	err := s.db.Write(ctx, func(ctx context.Context) error {
		if _, _, err := s.organiserSignup(ctx, signupID); err != nil {
			return err
		}
		return s.setSignup(ctx, signupID, "confirmed", "signed")
	})
	if err != nil {
		return Signup{}, err
	}
	return s.loadSignup(ctx, signupID)
}

// Withdraw gives the logged-in user's place back before the activity has
// started.
func (s *Service) Withdraw(ctx context.Context, signupID int64) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.ownSignup(ctx, signupID)
		if err != nil {
			return err
		}
		if g.CheckedInAt != nil {
			return errs.TakenOnField("status", "err.volunteer.signup_state")
		}
		if err := s.setSignup(ctx, signupID, "cancelled", "signed", "confirmed"); err != nil {
			return err
		}
		_, err = s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_activities SET taken = taken - 1 WHERE id = $1 AND taken > 0", g.ActivityID)
		return err
	})
}

// Feedback records a participant's rating (1–5) and comment after the
// activity has begun.
func (s *Service) Feedback(ctx context.Context, signupID int64, rating int, comment string) error {
	comment = strings.TrimSpace(comment)
	var v errs.Validation
	v.Check(rating >= 1 && rating <= 5, "rating", "err.volunteer.rating")
	v.Check(textOK(comment, 500), "feedback", "err.volunteer.description")
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.ownSignup(ctx, signupID)
		if err != nil {
			return err
		}
		if g.CheckedInAt == nil {
			return errs.OnField("rating", "err.volunteer.feedback_early")
		}
		_, err = s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_signups SET rating = $1, feedback = $2 WHERE id = $3", rating, comment, signupID)
		return err
	})
}
