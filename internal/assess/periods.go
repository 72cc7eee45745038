package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// FigureKey names a figure of the scorecard.
type FigureKey string

const (
	FigSurvey           FigureKey = "survey"             // 居民满意度测评: mean rating of the residents' surveys
	FigCaseResponse     FigureKey = "case_response"      // 响应率
	FigCaseResolution   FigureKey = "case_resolution"    // 解决率
	FigCaseSatisfaction FigureKey = "case_satisfaction"  // 满意率
	FigCaseOnTime       FigureKey = "case_on_time"       // 按期结案率
	FigServiceInTime    FigureKey = "service_in_time"    // applications decided within their time limit
	FigFacilityUse      FigureKey = "facility_use"       // facility seats booked / offered
	FigDisclosure       FigureKey = "disclosure_on_time" // notices published / (published + overdue)
	FigQuestions        FigureKey = "questions_answered" // supervision questions answered by their deadline
	FigVolunteer        FigureKey = "volunteer"          // volunteer hours, against the best community
)

// Figures lists the figures in the order the card shows them.
var Figures = []FigureKey{FigSurvey, FigCaseResponse, FigCaseResolution, FigCaseSatisfaction, FigCaseOnTime,
	FigServiceInTime, FigFacilityUse, FigDisclosure, FigQuestions, FigVolunteer}

// Weights are a period's weights, figure → points, adding up to 100.
type Weights map[FigureKey]int

// DefaultWeights give residents' own judgement the largest share: the
// survey alone 40, and with the callers' satisfaction with their cases
// half of the card. The rest follows the localities' three rates and the
// other modules' duties.
var DefaultWeights = Weights{FigSurvey: 40, FigCaseResponse: 5, FigCaseResolution: 10, FigCaseSatisfaction: 10, FigCaseOnTime: 5,
	FigServiceInTime: 8, FigFacilityUse: 5, FigDisclosure: 7, FigQuestions: 5, FigVolunteer: 5}

func (w Weights) validate() error {
	var v errs.Validation
	sum := 0
	for k, n := range w {
		v.Check(slices.Contains(Figures, k), "weights."+string(k), "err.assess.weight_unknown")
		v.Check(n >= 0 && n <= 100, "weights."+string(k), "err.assess.weight_range")
		sum += n
	}
	if err := v.Err(); err != nil {
		return err
	}
	if sum != 100 {
		return errs.OnField("weights", "err.assess.weight_sum", sum)
	}
	return nil
}

// Period is a street's assessment period (考核周期) with the weights its
// scorecard uses.
type Period struct {
	ID         int64     `json:"id"`
	Street     string    `json:"street"`
	StreetName string    `json:"street_name"`
	Code       string    `json:"code"`
	From       string    `json:"from"` // inclusive
	To         string    `json:"to"`   // inclusive
	Version    int       `json:"weights_version"`
	Weights    Weights   `json:"weights"`
	SetAt      time.Time `json:"weights_set_at"`
	// Closed is when the street closed the period: its card is frozen
	// (read from the copy made then). Nil while it is open.
	Closed       *time.Time `json:"closed_at,omitempty"`
	ReopenedAt   *time.Time `json:"reopened_at,omitempty"` // the last reopening, if any
	ReopenReason string     `json:"reopen_reason,omitempty"`
	streetID     int64
	path         string
}

// PeriodInput creates a period.
type PeriodInput struct {
	Street string `json:"street"`
	Code   string `json:"code"` // e.g. 2026-Q3
	From   string `json:"from"`
	To     string `json:"to"`
}

// CreatePeriod opens a period for a street. Its weights start as those of
// the street's latest period (the defaults for the first). Errors:
// Invalid, Forbidden, Conflict (the code is taken).
func (s *Service) CreatePeriod(ctx context.Context, in PeriodInput) (Period, error) {
	if _, err := auth.Require(ctx, auth.AssessManage); err != nil {
		return Period{}, err
	}
	var v errs.Validation
	in.Code = strings.TrimSpace(in.Code)
	v.Check(in.Code != "" && utf8.RuneCountInString(in.Code) <= 20, "code", "err.assess.period_code")
	from, to := parseDay(&v, "from", in.From), parseDay(&v, "to", in.To)
	v.Check(!to.Before(from), "to", "err.assess.to_before_from")
	v.Check(to.Sub(from) <= 366*24*time.Hour, "to", "err.assess.period_long")
	if err := v.Err(); err != nil {
		return Period{}, err
	}
	st, err := s.areaAt(ctx, in.Street, "street", auth.AssessManage, area.Street)
	if err != nil {
		return Period{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		w, err := s.latestWeights(ctx, st.ID)
		if err != nil {
			return err
		}
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO assess_periods (area_id, area_path, code, from_day, to_day, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, st.ID, st.Path, in.Code, day(from), day(to), s.now().UTC()).Scan(&id)
		if db.IsUnique(err) {
			return errs.TakenOnField("code", "err.assess.period_taken", in.Code)
		}
		if err != nil {
			return err
		}
		if err := s.insertWeights(ctx, id, 1, w); err != nil {
			return err
		}
		return s.record(ctx, "assess.period.create", "assess_period", id, in.Code)
	})
	if err != nil {
		return Period{}, errs.Wrap(err, "err.internal")
	}
	return s.period(ctx, id)
}

// latestWeights are the weights of the street's latest period, or the
// defaults.
func (s *Service) latestWeights(ctx context.Context, streetID int64) (Weights, error) {
	var raw string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT w.weights FROM assess_weights w JOIN assess_periods p ON p.id = w.period_id
		WHERE p.area_id = $1 ORDER BY p.to_day DESC, p.id DESC, w.version DESC LIMIT 1`, streetID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultWeights, nil
	}
	if err != nil {
		return nil, err
	}
	var w Weights
	return w, json.Unmarshal([]byte(raw), &w)
}

func (s *Service) insertWeights(ctx context.Context, periodID int64, version int, w Weights) error {
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	_, err = s.db.Q(ctx).ExecContext(ctx, `INSERT INTO assess_weights (period_id, version, weights, set_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
		periodID, version, string(b), actorID(ctx), s.now().UTC())
	return err
}

// SetWeights gives a period new weights: a new version of that period
// only, so that no other period's scorecard changes. A closed period's
// weights are frozen with its card. Errors: Invalid (unknown figure, out
// of range, not adding up to 100), NotFound, Forbidden, Conflict (the
// period is closed, or a concurrent change won).
func (s *Service) SetWeights(ctx context.Context, periodID int64, w Weights) (Period, error) {
	per, err := s.managed(ctx, periodID)
	if err != nil {
		return Period{}, err
	}
	if err := w.validate(); err != nil {
		return Period{}, err
	}
	full := Weights{}
	for _, k := range Figures {
		full[k] = w[k]
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.lockOpen(ctx, periodID); err != nil {
			return err
		}
		err := s.insertWeights(ctx, periodID, per.Version+1, full)
		if db.IsUnique(err) {
			return errs.TakenOnField("weights", "err.assess.weights_moved")
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "assess.weights.set", "assess_period", periodID, per.Code)
	})
	if err != nil {
		return Period{}, errs.Wrap(err, "err.internal")
	}
	return s.period(ctx, periodID)
}

const periodCols = `SELECT p.id, a.code, a.name, p.code, p.from_day, p.to_day, w.version, w.weights, w.created_at, p.closed_at,
	p.reopened_at, p.reopen_reason, p.area_id, p.area_path FROM assess_periods p JOIN areas a ON a.id = p.area_id
	JOIN assess_weights w ON w.period_id = p.id AND w.version = (SELECT MAX(version) FROM assess_weights x WHERE x.period_id = p.id) `

func scanPeriod(r db.Scanner) (Period, error) {
	var p Period
	var raw string
	var closed, reopened sql.NullTime
	err := r.Scan(&p.ID, &p.Street, &p.StreetName, &p.Code, &p.From, &p.To, &p.Version, &raw, &p.SetAt, &closed,
		&reopened, &p.ReopenReason, &p.streetID, &p.path)
	p.Closed, p.ReopenedAt = timePtr(closed), timePtr(reopened)
	if err == nil {
		err = json.Unmarshal([]byte(raw), &p.Weights)
	}
	return p, err
}

// period reads a period with its latest weights, unchecked.
func (s *Service) period(ctx context.Context, id int64) (Period, error) {
	p, err := scanPeriod(s.db.Q(ctx).QueryRowContext(ctx, periodCols+"WHERE p.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Period{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	return p, err
}

// Periods lists the periods of the streets that concern the caller, the
// latest first.
func (s *Service) Periods(ctx context.Context) ([]Period, error) {
	p, err := auth.Require(ctx, auth.AssessRead)
	if err != nil {
		return nil, err
	}
	cond, args := relatedFilter(p, "p.area_path", 1, auth.AssessRead)
	return db.All(ctx, s.db.Q(ctx), scanPeriod, periodCols+"WHERE "+cond+" ORDER BY p.to_day DESC, p.id DESC LIMIT 200", args...)
}
