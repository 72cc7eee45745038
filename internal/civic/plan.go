package civic

import (
	"context"
	"slices"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// Cadences of the disclosure plan. after_decision means within Days of
// each decision taken in the community (重大事项随时, 陕西: 5 days).
var Cadences = []string{"monthly", "quarterly", "half_yearly", "yearly", "after_decision"}

var cadenceMonths = map[string]int{"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}

// PlanEntry is how often a community discloses one category.
type PlanEntry struct {
	Category string `json:"category"`
	Cadence  string `json:"cadence"`
	Days     int    `json:"days,omitempty"`
	Default  bool   `json:"default"`
}

// defaultPlan follows the statutory baseline (财务 monthly, 一般事项
// quarterly, 重大事项 at once) and 居委会 practice (低保 monthly, plans
// half-yearly, 评议 yearly).
var defaultPlan = map[string]PlanEntry{
	"finances":    {Cadence: "monthly"},
	"subsidies":   {Cadence: "monthly"},
	"decisions":   {Cadence: "after_decision", Days: 5},
	"services":    {Cadence: "quarterly"},
	"work_plans":  {Cadence: "half_yearly"},
	"evaluations": {Cadence: "yearly"},
}

// Plan returns a community's disclosure plan, every category.
func (s *Service) Plan(ctx context.Context, code string) ([]PlanEntry, error) {
	p, err := auth.Require(ctx, auth.CivicRead)
	if err != nil {
		return nil, err
	}
	c, err := s.community(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := auth.Allowed(p, auth.CivicRead, c.Path, outOfScope); err != nil {
		return nil, err
	}
	plan, _, err := s.plan(ctx, c.ID)
	return plan, err
}

// plan merges the stored rows over the defaults; since is when each
// stored row took effect.
func (s *Service) plan(ctx context.Context, areaID int64) ([]PlanEntry, map[string]time.Time, error) {
	stored := map[string]PlanEntry{}
	since := map[string]time.Time{}
	rows, err := s.db.Q(ctx).QueryContext(ctx, "SELECT category, cadence, days, since FROM civic_plans WHERE area_id = $1", areaID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e PlanEntry
		var t time.Time
		if err := rows.Scan(&e.Category, &e.Cadence, &e.Days, &t); err != nil {
			return nil, nil, err
		}
		stored[e.Category], since[e.Category] = e, t
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out := make([]PlanEntry, 0, len(Categories))
	for _, cat := range Categories {
		e, ok := stored[cat]
		if !ok {
			e = defaultPlan[cat]
			e.Category, e.Default = cat, true
		}
		out = append(out, e)
	}
	return out, since, nil
}

// SetPlan sets how often a community discloses a category.
func (s *Service) SetPlan(ctx context.Context, code, category, cadence string, days int) error {
	p, err := auth.Require(ctx, auth.CivicPublish)
	if err != nil {
		return err
	}
	var v errs.Validation
	v.Check(slices.Contains(Categories, category), "category", "err.civic.category", category)
	v.Check(slices.Contains(Cadences, cadence), "cadence", "err.civic.cadence", cadence)
	v.Check(cadence != "after_decision" || (days >= 1 && days <= 60), "days", "err.civic.days")
	if err := v.Err(); err != nil {
		return err
	}
	if cadence != "after_decision" {
		days = 0
	}
	c, err := s.community(ctx, code)
	if err != nil {
		return err
	}
	if err := auth.Allowed(p, auth.CivicPublish, c.Path, outOfScope); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO civic_plans (area_id, category, cadence, days, since) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (area_id, category) DO UPDATE SET cadence = excluded.cadence, days = excluded.days, since = excluded.since`,
			c.ID, category, cadence, days, s.clock()); err != nil {
			return err
		}
		return s.record(ctx, "plan.set", "community", c.ID, category+" "+cadence)
	})
}

// DueItem is a disclosure the plan asks for: due in the current period,
// or overdue.
type DueItem struct {
	Community string    `json:"community"`
	Category  string    `json:"category"`
	Cadence   string    `json:"cadence"`
	DueBy     time.Time `json:"due_by"`
	Overdue   bool      `json:"overdue"`
	TopicID   int64     `json:"topic_id,omitempty"` // after_decision: the decision's topic
}

// Due lists a community's disclosures due or overdue at asOf, for staff.
func (s *Service) Due(ctx context.Context, code string, asOf time.Time) ([]DueItem, error) {
	p, err := auth.Require(ctx, auth.CivicRead)
	if err != nil {
		return nil, err
	}
	c, err := s.community(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := auth.Allowed(p, auth.CivicRead, c.Path, outOfScope); err != nil {
		return nil, err
	}
	plan, since, err := s.plan(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var out []DueItem
	for _, e := range plan {
		var items []DueItem
		if e.Cadence == "after_decision" {
			items, err = s.dueDecisions(ctx, c.Path, e, asOf)
		} else {
			start := c.CreatedAt
			if t, ok := since[e.Category]; ok {
				start = t
			}
			items, err = s.duePeriodic(ctx, c.ID, e, start, asOf)
		}
		if err != nil {
			return nil, err
		}
		for i := range items {
			items[i].Community = c.Code
		}
		out = append(out, items...)
	}
	return out, nil
}

// Overdue lists only the overdue disclosures of a community at asOf: what
// the assessment scorecard counts against it.
func (s *Service) Overdue(ctx context.Context, code string, asOf time.Time) ([]DueItem, error) {
	all, err := s.Due(ctx, code, asOf)
	return slices.DeleteFunc(all, func(d DueItem) bool { return !d.Overdue }), err
}

// duePeriodic: each period of the cadence needs a notice of the category.
// After a notice in one period, the next is due by the end of the period
// after it; with none yet, by the end of the period the plan began in.
func (s *Service) duePeriodic(ctx context.Context, areaID int64, e PlanEntry, since, asOf time.Time) ([]DueItem, error) {
	months := cadenceMonths[e.Cadence]
	var last time.Time
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT published_at FROM civic_notice_versions WHERE area_id = $1 AND category = $2
		ORDER BY published_at DESC LIMIT 1`, areaID, e.Category).Scan(&last)
	var dueBy time.Time
	switch {
	case isNoRows(err):
		dueBy = periodStart(since, months).AddDate(0, months, 0)
	case err != nil:
		return nil, err
	default:
		dueBy = periodStart(last, months).AddDate(0, 2*months, 0)
	}
	if asOf.Before(dueBy.AddDate(0, -months, 0)) {
		return nil, nil // not yet in the period it is due in
	}
	return []DueItem{{Category: e.Category, Cadence: e.Cadence, DueBy: dueBy.UTC(), Overdue: !asOf.Before(dueBy)}}, nil
}

// periodStart is the start, in China time, of the period of months
// (1, 3, 6 or 12) that holds t.
func periodStart(t time.Time, months int) time.Time {
	t = t.In(chinaTime)
	m := (int(t.Month())-1)/months*months + 1
	return time.Date(t.Year(), time.Month(m), 1, 0, 0, 0, 0, chinaTime)
}

// dueDecisions: each decision of the community needs a notice of category
// decisions naming its topic within e.Days.
func (s *Service) dueDecisions(ctx context.Context, path string, e PlanEntry, asOf time.Time) ([]DueItem, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT d.topic_id, d.decided_at FROM civic_decisions d WHERE d.area_path = $1
		AND NOT EXISTS (SELECT 1 FROM civic_notice_versions v WHERE v.area_path = d.area_path AND v.category = 'decisions' AND v.topic_id = d.topic_id)
		ORDER BY d.decided_at`, path)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DueItem
	for rows.Next() {
		var topic int64
		var at time.Time
		if err := rows.Scan(&topic, &at); err != nil {
			return nil, err
		}
		due := at.AddDate(0, 0, e.Days).UTC()
		out = append(out, DueItem{Category: e.Category, Cadence: e.Cadence, DueBy: due, Overdue: !asOf.Before(due), TopicID: topic})
	}
	return out, rows.Err()
}
