package volunteer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// maxCorrection bounds one correction: a day of service, either way. A
// larger figure is a typing error, not a correction.
const maxCorrection = 24 * 60

// hoursEntry is one row of the hours ledger.
type hoursEntry struct {
	volunteerID int64
	kind        string // credit, correction
	minutes     int
	signupID    int64
	activityID  int64
	serviceKind string
	reason      string
}

// addHours appends an entry and moves the balance with it. The balance
// moves by a conditional UPDATE: a correction that would take it below
// zero changes nothing and is refused.
func (s *Service) addHours(ctx context.Context, e hoursEntry) error {
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteers SET minutes = minutes + $1 WHERE id = $2 AND minutes + $1 >= 0",
		e.minutes, e.volunteerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.OnField("minutes", "err.volunteer.hours_negative")
	}
	_, err = s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_hours (volunteer_id, kind, minutes, signup_id, activity_id, service_kind, reason, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.volunteerID, e.kind, e.minutes, nullID(e.signupID), nullID(e.activityID),
		e.serviceKind, e.reason, userOf(ctx), s.now().UTC())
	if db.IsUnique(err) {
		return errs.TakenOnField("signup_id", "err.volunteer.credited_already")
	}
	return err
}

// CorrectionInput mends a ledger by a new entry: a non-zero amount
// (minutes for hours, points for points) and the reason.
type CorrectionInput struct {
	Amount int    `json:"amount"`
	Reason string `json:"reason"`
}

func (in *CorrectionInput) validate(limit int, key string) error {
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validation
	v.Check(in.Amount != 0 && in.Amount >= -limit && in.Amount <= limit, "amount", key, limit)
	v.Check(in.Reason != "" && textOK(in.Reason, 200), "reason", "err.volunteer.reason")
	return v.Err()
}

// CorrectHours appends a correction to a volunteer's hours.
func (s *Service) CorrectHours(ctx context.Context, volunteerID int64, in CorrectionInput) error {
	if err := s.mayManageVolunteer(ctx, volunteerID); err != nil {
		return err
	}
	if err := in.validate(maxCorrection, "err.volunteer.correction"); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerManage); err != nil {
			return err
		}
		if err := s.addHours(ctx, hoursEntry{volunteerID: volunteerID, kind: "correction", minutes: in.Amount, reason: in.Reason}); err != nil {
			return err
		}
		return s.record(ctx, "hours.correct", "volunteer", volunteerID, fmt.Sprint(in.Amount))
	})
}

// mayManageVolunteer refuses, before the input is looked at, a caller who
// may not manage the volunteer: whoever may not act is told so, not what
// is wrong with a form they cannot send. The transaction checks again.
func (s *Service) mayManageVolunteer(ctx context.Context, volunteerID int64) error {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return err
	}
	_, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerManage)
	return err
}

// Entry is a row of one of the ledgers, as shown.
type Entry struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Amount    int       `json:"amount"`
	Activity  string    `json:"activity,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func scanEntry(r db.Scanner) (Entry, error) {
	var e Entry
	return e, r.Scan(&e.ID, &e.Kind, &e.Amount, &e.Activity, &e.Reason, &e.CreatedAt)
}

// HoursOf lists a volunteer's hours ledger, newest first.
func (s *Service) HoursOf(ctx context.Context, volunteerID int64) ([]Entry, error) {
	if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerRead); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), scanEntry, `SELECT h.id, h.kind, h.minutes, COALESCE(x.title, ''), h.reason, h.created_at
		FROM volunteer_hours h LEFT JOIN volunteer_activities x ON x.id = h.activity_id WHERE h.volunteer_id = $1 ORDER BY h.id DESC`, volunteerID)
}

// PointsOf lists a volunteer's points ledger, newest first.
func (s *Service) PointsOf(ctx context.Context, volunteerID int64) ([]Entry, error) {
	if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerRead); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), scanEntry, `SELECT p.id, p.kind, p.points, COALESCE(x.title, ''), p.reason, p.created_at
		FROM volunteer_points p LEFT JOIN volunteer_activities x ON x.id = p.activity_id WHERE p.volunteer_id = $1 ORDER BY p.id DESC`, volunteerID)
}

// --- points ---

// pointsEntry is one row of the points ledger.
type pointsEntry struct {
	volunteerID  int64
	kind         string // earn, spend, expire, correction
	points       int
	activityID   int64
	signupID     int64
	redemptionID int64
	reason       string
}

// addPoints appends an entry and moves the balance, refusing (and
// changing nothing) when the balance would fall below zero. Positive
// entries are lots that expire after PointsExpireYears.
func (s *Service) addPoints(ctx context.Context, e pointsEntry) error {
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteers SET points = points + $1 WHERE id = $2 AND points + $1 >= 0",
		e.points, e.volunteerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.OnField("points", "err.volunteer.points_short")
	}
	now := s.now().UTC()
	var expires any
	if e.points > 0 && s.Config.PointsExpireYears > 0 {
		expires = now.AddDate(s.Config.PointsExpireYears, 0, 0)
	}
	_, err = s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_points (volunteer_id, kind, points, activity_id, signup_id, redemption_id, reason, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.volunteerID, e.kind, e.points, nullID(e.activityID), nullID(e.signupID),
		nullID(e.redemptionID), e.reason, expires, now)
	return err
}

// Rule is how points are earned for activities of a kind ("" for every
// kind without a rule of its own): per hour, per activity, at most cap.
type Rule struct {
	Kind        string `json:"kind"`
	PerHour     int    `json:"per_hour"`
	PerActivity int    `json:"per_activity"`
	Cap         int    `json:"cap"`
}

// ruleFor returns the rule of kind, or the default one.
func (s *Service) ruleFor(ctx context.Context, kind string) (Rule, error) {
	var r Rule
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT kind, per_hour, per_activity, cap FROM volunteer_point_rules
		WHERE kind = $1 OR kind = '' ORDER BY kind DESC LIMIT 1`, kind).Scan(&r.Kind, &r.PerHour, &r.PerActivity, &r.Cap)
	if errors.Is(err, sql.ErrNoRows) {
		return Rule{}, nil
	}
	return r, err
}

// Points is what a service of minutes earns under the rule: whole hours'
// worth plus the activity's share, at most the cap.
func (r Rule) Points(minutes int) int {
	return min(r.Cap, r.PerHour*minutes/60+r.PerActivity)
}

// SetRule sets the points rule of an activity kind; rules hold everywhere,
// so only a grant over every area may change them.
func (s *Service) SetRule(ctx context.Context, r Rule) error {
	p := auth.From(ctx)
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return err
	}
	if !p.Can(auth.VolunteerManage, "") {
		return errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	var v errs.Validation
	v.Check(r.Kind == "" || contains(ActivityKinds, r.Kind), "kind", "err.volunteer.activity_kind", r.Kind)
	v.Check(r.PerHour >= 0 && r.PerHour <= 100, "per_hour", "err.volunteer.rule_amount", 100)
	v.Check(r.PerActivity >= 0 && r.PerActivity <= 100, "per_activity", "err.volunteer.rule_amount", 100)
	v.Check(r.Cap >= 0 && r.Cap <= 1000, "cap", "err.volunteer.rule_amount", 1000)
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, "DELETE FROM volunteer_point_rules WHERE kind = $1", r.Kind); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO volunteer_point_rules (kind, per_hour, per_activity, cap) VALUES ($1, $2, $3, $4)",
			r.Kind, r.PerHour, r.PerActivity, r.Cap); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "volunteer.rule", TargetType: "volunteer_rule", TargetID: r.Kind})
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// earnPoints credits the points a confirmed service earns.
func (s *Service) earnPoints(ctx context.Context, g Signup, x Activity, minutes int) error {
	r, err := s.ruleFor(ctx, x.Kind)
	if err != nil {
		return err
	}
	pts := r.Points(minutes)
	if pts <= 0 {
		return nil
	}
	return s.addPoints(ctx, pointsEntry{volunteerID: g.VolunteerID, kind: "earn", points: pts, activityID: x.ID, signupID: g.ID})
}

// CorrectPoints appends a correction to a volunteer's points.
func (s *Service) CorrectPoints(ctx context.Context, volunteerID int64, in CorrectionInput) error {
	if err := s.mayManageVolunteer(ctx, volunteerID); err != nil {
		return err
	}
	if err := in.validate(1000, "err.volunteer.points_correction"); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.volunteerFor(ctx, volunteerID, auth.VolunteerManage); err != nil {
			return err
		}
		if err := s.expireFor(ctx, volunteerID); err != nil {
			return err
		}
		if err := s.addPoints(ctx, pointsEntry{volunteerID: volunteerID, kind: "correction", points: in.Amount, reason: in.Reason}); err != nil {
			return err
		}
		return s.record(ctx, "points.correct", "volunteer", volunteerID, fmt.Sprint(in.Amount))
	})
}

// expireFor writes off a volunteer's points whose lots have expired.
// Debits use the oldest lots first, so what is left of the expired lots is
// their sum less every debit so far (debits are negative), if positive.
func (s *Service) expireFor(ctx context.Context, volunteerID int64) error {
	var due int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN points > 0 AND expires_at IS NOT NULL AND expires_at <= $2 THEN points ELSE 0 END), 0) +
		COALESCE(SUM(CASE WHEN points < 0 THEN points ELSE 0 END), 0)
		FROM volunteer_points WHERE volunteer_id = $1`, volunteerID, s.now().UTC()).Scan(&due)
	if err != nil || due <= 0 {
		return err
	}
	return s.addPoints(ctx, pointsEntry{volunteerID: volunteerID, kind: "expire", points: -due})
}

// ExpirePoints writes off expired points of every volunteer; a daily job.
// It returns how many volunteers lost points.
func (s *Service) ExpirePoints(ctx context.Context) (int, error) {
	ids, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT DISTINCT volunteer_id FROM volunteer_points WHERE points > 0 AND expires_at IS NOT NULL AND expires_at <= $1`, s.now().UTC())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		var before, after int
		err := s.db.Write(ctx, func(ctx context.Context) error {
			if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT points FROM volunteers WHERE id = $1", id).Scan(&before); err != nil {
				return err
			}
			if err := s.expireFor(ctx, id); err != nil {
				return err
			}
			return s.db.Q(ctx).QueryRowContext(ctx, "SELECT points FROM volunteers WHERE id = $1", id).Scan(&after)
		})
		if err != nil {
			return n, err
		}
		if after < before {
			n++
		}
	}
	return n, nil
}

// --- the reward shelf (爱心超市) ---

// Reward is an item on a community's reward shelf.
type Reward struct {
	ID int64 `json:"id"`
	placed
	Name   string `json:"name"`
	Cost   int    `json:"cost"`
	Stock  int    `json:"stock"`
	Active bool   `json:"active"`
}

// RewardInput puts an item on the shelf.
type RewardInput struct {
	Community string `json:"community"`
	Name      string `json:"name"`
	Cost      int    `json:"cost"`
	Stock     int    `json:"stock"`
}

// CreateReward puts an item on a community's shelf.
func (s *Service) CreateReward(ctx context.Context, in RewardInput) (Reward, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Reward{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	var v errs.Validation
	v.Check(in.Name != "" && textOK(in.Name, 60), "name", "err.volunteer.reward_name")
	v.Check(in.Cost >= 1 && in.Cost <= 100000, "cost", "err.volunteer.cost")
	v.Check(in.Stock >= 0 && in.Stock <= 100000, "stock", "err.volunteer.stock")
	if err := v.Err(); err != nil {
		return Reward{}, err
	}
	r := Reward{Name: in.Name, Cost: in.Cost, Stock: in.Stock, Active: true}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		pl, err := s.community(ctx, in.Community, auth.VolunteerManage)
		if err != nil {
			return err
		}
		r.placed = pl
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_rewards (area_id, area_path, name, cost, stock, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, pl.AreaID, pl.AreaPath, in.Name, in.Cost, in.Stock, s.now().UTC()).Scan(&r.ID); err != nil {
			return err
		}
		return s.record(ctx, "reward.create", "volunteer_reward", r.ID, "")
	})
	return r, err
}

// Shelf lists the active rewards of a community (by area path), the ones
// a volunteer of that community may take.
func (s *Service) Shelf(ctx context.Context, communityPath string) ([]Reward, error) {
	return db.All(ctx, s.db.Q(ctx), scanReward, "SELECT id, area_id, area_path, name, cost, stock, active FROM volunteer_rewards WHERE area_path = $1 AND active ORDER BY cost, id", communityPath)
}

// Redemption is a reward taken for points; the code is shown at the shelf
// to collect it.
type Redemption struct {
	ID       int64  `json:"id"`
	RewardID int64  `json:"reward_id"`
	Reward   string `json:"reward"`
	Cost     int    `json:"cost"`
	Code     string `json:"code"`
}

// Redeem takes a reward of the volunteer's community for points. The last
// item in stock goes to one volunteer only: the stock falls by a
// conditional UPDATE (stock > 0) in the same transaction as the points,
// which fall the same way (points >= cost). Points are spent at once and
// not refunded (黄山's rule).
func (s *Service) Redeem(ctx context.Context, rewardID int64) (Redemption, error) {
	v, err := s.Me(ctx)
	if err != nil {
		return Redemption{}, err
	}
	if v.Status != Verified {
		return Redemption{}, errs.E(errs.Forbidden, "err.volunteer.not_verified")
	}
	return s.redeemFor(ctx, v, rewardID)
}

func (s *Service) redeemFor(ctx context.Context, v Volunteer, rewardID int64) (Redemption, error) {
	var rd Redemption
	err := s.db.Write(ctx, func(ctx context.Context) error {
		var path string
		err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT name, cost, area_path FROM volunteer_rewards WHERE id = $1 AND active", rewardID).
			Scan(&rd.Reward, &rd.Cost, &path)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && path != v.communityPath) {
			return errs.E(errs.NotFound, "err.volunteer.reward_not_found", rewardID)
		}
		if err != nil {
			return err
		}
		if err := s.expireFor(ctx, v.ID); err != nil {
			return err
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_rewards SET stock = stock - 1 WHERE id = $1 AND stock > 0", rewardID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.TakenOnField("reward_id", "err.volunteer.out_of_stock", rd.Reward)
		}
		rd.RewardID, rd.Code = rewardID, redemptionCode()
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO volunteer_redemptions (reward_id, volunteer_id, cost, code, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, rewardID, v.ID, rd.Cost, rd.Code, s.now().UTC()).Scan(&rd.ID); err != nil {
			return err
		}
		err = s.addPoints(ctx, pointsEntry{volunteerID: v.ID, kind: "spend", points: -rd.Cost, redemptionID: rd.ID, reason: rd.Reward})
		if errs.CodeOf(err) == errs.Invalid {
			return errs.OnField("points", "err.volunteer.points_short_for", rd.Cost)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "reward.redeem", "volunteer_reward", rewardID, rd.Code)
	})
	return rd, err
}

// redemptionCode is 10 characters from an alphabet without look-alikes
// (no 0/O, 1/I/L), easy to read out at the counter.
func redemptionCode() string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Collect marks a redemption collected at the shelf, once.
func (s *Service) Collect(ctx context.Context, code string) (Redemption, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Redemption{}, err
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	var rd Redemption
	err := s.db.Write(ctx, func(ctx context.Context) error {
		var path string
		var collected sql.NullTime
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT d.id, d.reward_id, w.name, d.cost, d.code, w.area_path, d.collected_at
			FROM volunteer_redemptions d JOIN volunteer_rewards w ON w.id = d.reward_id WHERE d.code = $1`, code).
			Scan(&rd.ID, &rd.RewardID, &rd.Reward, &rd.Cost, &rd.Code, &path, &collected)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.OnField("code", "err.volunteer.redemption_unknown")
		}
		if err != nil {
			return err
		}
		if err := auth.Allowed(auth.From(ctx), auth.VolunteerManage, path, outOfScope); err != nil {
			return err
		}
		if collected.Valid {
			return errs.TakenOnField("code", "err.volunteer.collected_already")
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_redemptions SET collected_at = $1 WHERE id = $2", s.now().UTC(), rd.ID); err != nil {
			return err
		}
		return s.record(ctx, "reward.collect", "volunteer_redemption", rd.ID, "")
	})
	return rd, err
}

// MyShelf is the reward shelf the caller sees: a volunteer's community's,
// or for staff every shelf of their areas.
func (s *Service) MyShelf(ctx context.Context) ([]Reward, error) {
	if v, err := s.Me(ctx); err == nil {
		return s.Shelf(ctx, v.communityPath)
	} else if errs.CodeOf(err) != errs.NotFound {
		return nil, err
	}
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	cond, args := p.Filter(auth.VolunteerRead, "area_id", 1)
	return db.All(ctx, s.db.Q(ctx), scanReward, "SELECT id, area_id, area_path, name, cost, stock, active FROM volunteer_rewards WHERE "+cond+
		" ORDER BY area_path, cost, id LIMIT 500", args...)
}

func scanReward(r db.Scanner) (Reward, error) {
	var w Reward
	return w, r.Scan(&w.ID, &w.AreaID, &w.AreaPath, &w.Name, &w.Cost, &w.Stock, &w.Active)
}
