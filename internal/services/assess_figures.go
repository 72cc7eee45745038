package services

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
)

// AssessFigures are a community's figures of the desk over a period, as
// the assessment scorecard reads them.
type AssessFigures struct {
	Due          int // applications whose time limit fell in the period (and has passed)
	InTime       int // of those, decided (approved, refused or forwarded) by their time limit
	SlotsOffered int // facility seats offered in the period
	SlotsTaken   int // seats booked (neither refused nor cancelled)
}

// AssessFigures returns the figures of each community (by area path)
// under the street at streetPath over [start, end), keyed by community
// path. Facility use is the gap report's count (countSupply). It checks no
// permission: the scorecard has checked the caller's right to the street.
func (s *Service) AssessFigures(ctx context.Context, streetPath string, communityPaths []string, start, end time.Time) (map[string]AssessFigures, error) {
	rows := map[string]*GapRow{}
	for _, p := range communityPaths {
		rows[p] = &GapRow{path: p}
	}
	if err := s.countSupply(ctx, streetPath, start, end, rows); err != nil {
		return nil, err
	}
	out := map[string]AssessFigures{}
	for p, r := range rows {
		out[p] = AssessFigures{SlotsOffered: r.SlotsOffered, SlotsTaken: r.SlotsTaken}
	}
	// Only time limits that have passed are judged: an application still
	// within its limit is neither in time nor late yet.
	if now := s.now(); now.Before(end) {
		end = now
	}
	type due struct {
		path        string
		due, ontime int
	}
	ds, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (due, error) {
		var d due
		return d, r.Scan(&d.path, &d.due, &d.ontime)
	}, `SELECT a.area_path, COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM service_application_log l WHERE l.application_id = a.id
			AND l.to_state IN ('approved', 'refused', 'forwarded') AND l.at <= a.due_at) THEN 1 ELSE 0 END), 0)
		FROM service_applications a WHERE a.area_path >= $1 AND a.area_path < $2 AND a.due_at >= $3 AND a.due_at < $4
		GROUP BY a.area_path`, streetPath, auth.PathEnd(streetPath), start.UTC(), end.UTC())
	for _, d := range ds {
		if r := communityOf(rows, d.path); r != nil {
			f := out[r.path]
			f.Due += d.due
			f.InTime += d.ontime
			out[r.path] = f
		}
	}
	return out, err
}
