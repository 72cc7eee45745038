package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
)

// statKey is a row of case_stats: a China-time day, the case's area, its
// unit and its category (0 when none).
type statKey struct {
	day                        string
	areaID, unitID, categoryID int64
}

// counters are what each transition adds to the day's row.
type counters struct {
	reported, accepted, rejected, dispatched, closed, closedOnTime, closedDeferred, feedbacks,
	reworked, extended, callbacks, contacted, solved, satisfied, basicallySatisfied, unsatisfied int64
}

func (c counters) values() []int64 {
	return []int64{c.reported, c.accepted, c.rejected, c.dispatched, c.closed, c.closedOnTime, c.closedDeferred, c.feedbacks,
		c.reworked, c.extended, c.callbacks, c.contacted, c.solved, c.satisfied, c.basicallySatisfied, c.unsatisfied}
}

func (c *counters) add(o counters) {
	c.reported += o.reported
	c.accepted += o.accepted
	c.rejected += o.rejected
	c.dispatched += o.dispatched
	c.closed += o.closed
	c.closedOnTime += o.closedOnTime
	c.closedDeferred += o.closedDeferred
	c.feedbacks += o.feedbacks
	c.reworked += o.reworked
	c.extended += o.extended
	c.callbacks += o.callbacks
	c.contacted += o.contacted
	c.solved += o.solved
	c.satisfied += o.satisfied
	c.basicallySatisfied += o.basicallySatisfied
	c.unsatisfied += o.unsatisfied
}

var statCols = []string{"reported", "accepted", "rejected", "dispatched", "closed", "closed_on_time", "closed_deferred", "feedbacks",
	"reworked", "extended", "callbacks", "contacted", "solved", "satisfied", "basically_satisfied", "unsatisfied"}

// addSQL is the upsert that adds a transition's counters to its day's row.
var addSQL = func() string {
	var sets, ph []string
	for i, c := range statCols {
		ph = append(ph, "$"+strconv.Itoa(i+5))
		sets = append(sets, c+" = case_stats."+c+" + excluded."+c)
	}
	return "INSERT INTO case_stats (day, area_id, unit_id, category_id, " + strings.Join(statCols, ", ") + ") VALUES ($1, $2, $3, $4, " +
		strings.Join(ph, ", ") + ") ON CONFLICT (day, area_id, unit_id, category_id) DO UPDATE SET " + strings.Join(sets, ", ")
}()

func (s store) addStats(ctx context.Context, k statKey, c counters) error {
	args := []any{k.day, k.areaID, k.unitID, k.categoryID}
	for _, v := range c.values() {
		args = append(args, v)
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, addSQL, args...)
	return err
}

// KPIs are the figures of a set of cases over a period.
type KPIs struct {
	Counts counters `json:"-"`

	// The counts behind the rates, so that anyone can check them.
	Reported           int64 `json:"reported"`
	Accepted           int64 `json:"accepted"`
	Rejected           int64 `json:"rejected"`
	Dispatched         int64 `json:"dispatched"`
	Closed             int64 `json:"closed"`
	OnTime             int64 `json:"closed_on_time"`
	Deferred           int64 `json:"closed_deferred"`
	Feedbacks          int64 `json:"feedbacks"`
	Reworked           int64 `json:"reworked"`
	Extended           int64 `json:"extended"`
	Callbacks          int64 `json:"callbacks"`
	Contacted          int64 `json:"contacted"`
	Solved             int64 `json:"solved"`
	Satisfied          int64 `json:"satisfied"`
	BasicallySatisfied int64 `json:"basically_satisfied"`
	Unsatisfied        int64 `json:"unsatisfied"`

	AcceptRate       float64 `json:"accept_rate"`       // 立案率 = 立案 / (立案 + 不予立案)
	CloseRate        float64 `json:"close_rate"`        // 结案率 = 结案 / 派遣
	OnTimeRate       float64 `json:"on_time_rate"`      // 按期结案率 = 按期结案 / (结案 − 缓办)
	ReworkRate       float64 `json:"rework_rate"`       // 返工率 = 返工 / 处置反馈
	ExtensionRate    float64 `json:"extension_rate"`    // 延期率 = 延期 / 派遣
	ResponseRate     float64 `json:"response_rate"`     // 响应率 = 联系 / 回访
	ResolutionRate   float64 `json:"resolution_rate"`   // 解决率 = 解决 / 回访
	SatisfactionRate float64 `json:"satisfaction_rate"` // 满意率 = (满意 + w × 基本满意) / 回访
	Combined         float64 `json:"combined"`          // 综合 = weighted three rates
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// kpis derives the rates from counters with the configured weights.
func (s *Service) kpis(c counters) KPIs {
	k := KPIs{Counts: c, Reported: c.reported, Accepted: c.accepted, Rejected: c.rejected, Dispatched: c.dispatched,
		Closed: c.closed, OnTime: c.closedOnTime, Deferred: c.closedDeferred, Feedbacks: c.feedbacks, Reworked: c.reworked,
		Extended: c.extended, Callbacks: c.callbacks, Contacted: c.contacted, Solved: c.solved, Satisfied: c.satisfied,
		BasicallySatisfied: c.basicallySatisfied, Unsatisfied: c.unsatisfied}
	k.AcceptRate = ratio(c.accepted, c.accepted+c.rejected)
	k.CloseRate = ratio(c.closed, c.dispatched)
	k.OnTimeRate = ratio(c.closedOnTime, c.closed-c.closedDeferred)
	k.ReworkRate = ratio(c.reworked, c.feedbacks)
	k.ExtensionRate = ratio(c.extended, c.dispatched)
	k.ResponseRate = ratio(c.contacted, c.callbacks)
	k.ResolutionRate = ratio(c.solved, c.callbacks)
	k.SatisfactionRate = (float64(c.satisfied) + s.Config.BasicallySatisfiedWeight*float64(c.basicallySatisfied)) / max(1, float64(c.callbacks))
	if c.callbacks == 0 {
		k.SatisfactionRate = 0
	}
	k.Combined = s.Config.WeightResponse*k.ResponseRate + s.Config.WeightResolution*k.ResolutionRate +
		s.Config.WeightSatisfaction*k.SatisfactionRate
	return k
}

// countersFor says what an event adds to the figures, from the event
// alone: the independent second reading of the log that Recompute uses.
func countersFor(action Action, data string) counters {
	var d struct {
		OnTime       *bool        `json:"on_time"`
		Deferred     bool         `json:"deferred"`
		Contacted    bool         `json:"contacted"`
		Solved       bool         `json:"solved"`
		Satisfaction Satisfaction `json:"satisfaction"`
	}
	if strings.HasPrefix(data, "{") {
		json.Unmarshal([]byte(data), &d)
	}
	var c counters
	switch action {
	case ActReport:
		c.reported = 1
	case ActSelfHandle:
		c.accepted, c.closed = 1, 1
	case ActAccept:
		c.accepted = 1
	case ActReject:
		c.rejected = 1
	case ActDispatch:
		c.dispatched = 1
	case ActFeedback:
		c.feedbacks = 1
	case ActVerifyFail:
		c.reworked = 1
	case ActApproveExtension:
		c.extended = 1
	case ActVerifyPass:
		c.closed = 1
		if d.Deferred {
			c.closedDeferred = 1
		} else if d.OnTime != nil && *d.OnTime {
			c.closedOnTime = 1
		}
	case ActCallback:
		c.callbacks, c.contacted, c.solved = 1, b2i(d.Contacted), b2i(d.Solved)
		switch d.Satisfaction {
		case Satisfied:
			c.satisfied = 1
		case BasicallySatisfied:
			c.basicallySatisfied = 1
		case Unsatisfied:
			c.unsatisfied = 1
		}
	}
	return c
}

// Recompute rebuilds every daily counter from the transition log, without
// touching case_stats: the proof that the kept aggregates are what the
// history says, and the way to rebuild them.
func (s *Service) Recompute(ctx context.Context) (map[statKey]counters, error) {
	type ev struct {
		key    statKey
		at     time.Time
		action Action
		data   string
	}
	evs, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (ev, error) {
		var e ev
		err := row.Scan(&e.at, &e.action, &e.data, &e.key.areaID, &e.key.unitID, &e.key.categoryID)
		e.key.day = dayOf(e.at)
		return e, err
	}, "SELECT at, action, data, area_id, unit_id, category_id FROM case_events ORDER BY id")
	if err != nil {
		return nil, err
	}
	out := map[statKey]counters{}
	for _, e := range evs {
		c := countersFor(e.action, e.data)
		if c == (counters{}) {
			continue
		}
		sum := out[e.key]
		sum.add(c)
		out[e.key] = sum
	}
	return out, nil
}

// storedStats reads case_stats as Recompute returns it.
func (s *Service) storedStats(ctx context.Context) (map[statKey]counters, error) {
	type r struct {
		k statKey
		c counters
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(row db.Scanner) (r, error) {
		var x r
		c := &x.c
		err := row.Scan(&x.k.day, &x.k.areaID, &x.k.unitID, &x.k.categoryID, &c.reported, &c.accepted, &c.rejected, &c.dispatched,
			&c.closed, &c.closedOnTime, &c.closedDeferred, &c.feedbacks, &c.reworked, &c.extended, &c.callbacks, &c.contacted,
			&c.solved, &c.satisfied, &c.basicallySatisfied, &c.unsatisfied)
		return x, err
	}, "SELECT day, area_id, unit_id, category_id, "+strings.Join(statCols, ", ")+" FROM case_stats")
	if err != nil {
		return nil, err
	}
	out := map[statKey]counters{}
	for _, x := range rows {
		if x.c != (counters{}) {
			out[x.k] = x.c
		}
	}
	return out, nil
}
