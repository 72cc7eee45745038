package civic

import (
	"context"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
)

// AssessFigures are a community's figures of open affairs over a period,
// as the assessment scorecard reads them.
type AssessFigures struct {
	Published int // notices first published in the period
	Overdue   int // disclosures overdue at the end of the period (or now)
	Questions int // supervision questions due in the period (and past due)
	Answered  int // of those, answered by their deadline
}

// AssessFigures returns the figures of the communities under the street
// at streetPath over [start, end), keyed by community path. Overdue
// disclosures are what Overdue reports, at the end of the period. It
// checks no permission: the scorecard has checked the caller's right to
// the street.
func (s *Service) AssessFigures(ctx context.Context, streetPath string, comms []area.Area, start, end time.Time) (map[string]AssessFigures, error) {
	if now := s.now(); now.Before(end) {
		end = now
	}
	out := map[string]AssessFigures{}
	for _, c := range comms {
		n, err := s.overdueCount(ctx, c, end)
		if err != nil {
			return nil, err
		}
		out[c.Path] = AssessFigures{Overdue: n}
	}
	type count struct {
		path string
		a, b int
	}
	scan := func(r db.Scanner) (count, error) {
		var c count
		return c, r.Scan(&c.path, &c.a, &c.b)
	}
	rng := []any{streetPath, auth.PathEnd(streetPath), start.UTC(), end.UTC()}
	pub, err := db.All(ctx, s.db.Q(ctx), scan, `SELECT area_path, COUNT(*), 0 FROM civic_notice_versions
		WHERE area_path >= $1 AND area_path < $2 AND published_at >= $3 AND published_at < $4 AND version = 1 GROUP BY area_path`, rng...)
	if err != nil {
		return nil, err
	}
	qs, err := db.All(ctx, s.db.Q(ctx), scan, `SELECT area_path, COUNT(*), COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= due_at THEN 1 ELSE 0 END), 0)
		FROM civic_questions WHERE area_path >= $1 AND area_path < $2 AND due_at >= $3 AND due_at < $4 GROUP BY area_path`, rng...)
	for _, c := range pub {
		f := out[c.path]
		f.Published += c.a
		out[c.path] = f
	}
	for _, c := range qs {
		f := out[c.path]
		f.Questions, f.Answered = f.Questions+c.a, f.Answered+c.b
		out[c.path] = f
	}
	return out, err
}

// overdueCount counts a community's overdue disclosures at asOf, as Due
// does without its permission check.
func (s *Service) overdueCount(ctx context.Context, c area.Area, asOf time.Time) (int, error) {
	plan, since, err := s.plan(ctx, c.ID)
	if err != nil {
		return 0, err
	}
	n := 0
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
			return 0, err
		}
		for _, it := range items {
			if it.Overdue {
				n++
			}
		}
	}
	return n, nil
}
