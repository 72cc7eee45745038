package volunteer

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
)

// AssessFigures are a community's volunteer activity over a period, as
// the assessment scorecard reads them.
type AssessFigures struct {
	Activities int // activities held (not cancelled) that started in the period
	Minutes    int // service minutes entered in the ledger in the period, corrections included
}

// AssessFigures returns the figures of the communities under the street
// at streetPath over [start, end), keyed by the area path of the activity
// or of the volunteer. It checks no permission: the scorecard has checked
// the caller's right to the street.
func (s *Service) AssessFigures(ctx context.Context, streetPath string, start, end time.Time) (map[string]AssessFigures, error) {
	type count struct {
		path string
		n    int
	}
	scan := func(r db.Scanner) (count, error) {
		var c count
		return c, r.Scan(&c.path, &c.n)
	}
	rng := []any{streetPath, auth.PathEnd(streetPath), start.UTC(), end.UTC()}
	acts, err := db.All(ctx, s.db.Q(ctx), scan, `SELECT area_path, COUNT(*) FROM volunteer_activities
		WHERE area_path >= $1 AND area_path < $2 AND starts_at >= $3 AND starts_at < $4 AND status <> 'cancelled' GROUP BY area_path`, rng...)
	if err != nil {
		return nil, err
	}
	mins, err := db.All(ctx, s.db.Q(ctx), scan, `SELECT v.area_path, COALESCE(SUM(h.minutes), 0) FROM volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id
		WHERE v.area_path >= $1 AND v.area_path < $2 AND h.created_at >= $3 AND h.created_at < $4 GROUP BY v.area_path`, rng...)
	out := map[string]AssessFigures{}
	for _, c := range acts {
		f := out[c.path]
		f.Activities += c.n
		out[c.path] = f
	}
	for _, c := range mins {
		f := out[c.path]
		f.Minutes += c.n
		out[c.path] = f
	}
	return out, err
}
