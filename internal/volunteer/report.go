package volunteer

import (
	"context"
	"slices"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
)

// Figures are one community's volunteer figures.
type Figures struct {
	Community  string             `json:"community"`
	Name       string             `json:"name"`
	Registered int                `json:"registered"`
	Verified   int                `json:"verified"`
	Active90   int                `json:"active_90_days"` // credited service in the last 90 days
	Orgs       int                `json:"orgs"`
	Months     []string           `json:"months"`          // YYYY-MM, oldest first
	Hours      []float64          `json:"hours_per_month"` // by Months
	ByKind     map[string]float64 `json:"hours_by_kind"`
}

// reportMonths is how many months the report covers, this one included.
const reportMonths = 12

// Report returns the figures of every community the caller may see. The
// hours are summed per month in Go: month arithmetic is spelt differently
// by the two engines, and a community's year of entries is small.
func (s *Service) Report(ctx context.Context) ([]Figures, error) {
	p, err := auth.Require(ctx, auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	communities, err := s.areas.List(ctx, area.ListQuery{Level: area.Community, Limit: 500})
	if err != nil {
		return nil, err
	}
	now := s.now().In(chinaTime)
	months := make([]string, reportMonths)
	first := time.Date(now.Year(), now.Month()-reportMonths+1, 1, 0, 0, 0, 0, chinaTime)
	for i := range months {
		months[i] = first.AddDate(0, i, 0).Format("2006-01")
	}
	byID := map[int64]*Figures{}
	var out []*Figures
	for _, c := range communities {
		if !p.Can(auth.VolunteerRead, c.Path) {
			continue
		}
		f := &Figures{Community: c.Code, Name: c.Name, Months: months, Hours: make([]float64, reportMonths), ByKind: map[string]float64{}}
		byID[c.ID] = f
		out = append(out, f)
	}
	if err := s.countVolunteers(ctx, p, byID); err != nil {
		return nil, err
	}
	if err := s.sumHours(ctx, p, byID, first, months, now.AddDate(0, 0, -90)); err != nil {
		return nil, err
	}
	res := make([]Figures, len(out))
	for i, f := range out {
		res[i] = *f
	}
	return res, nil
}

func (s *Service) countVolunteers(ctx context.Context, p *auth.Principal, byID map[int64]*Figures) error {
	cond, args := p.Filter(auth.VolunteerRead, "area_id", 1)
	type row struct {
		areaID             int64
		registered, verify int
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.areaID, &x.registered, &x.verify)
	}, "SELECT community_id, COUNT(*), SUM(CASE WHEN status = 'verified' THEN 1 ELSE 0 END) FROM volunteers WHERE "+cond+" GROUP BY community_id", args...)
	if err != nil {
		return err
	}
	for _, x := range rows {
		if f := byID[x.areaID]; f != nil {
			f.Registered, f.Verified = x.registered, x.verify
		}
	}
	orgs, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.areaID, &x.registered)
	}, "SELECT area_id, COUNT(*) FROM volunteer_orgs WHERE kind <> 'party' AND "+cond+" GROUP BY area_id", args...)
	for _, x := range orgs {
		if f := byID[x.areaID]; f != nil {
			f.Orgs = x.registered
		}
	}
	return err
}

func (s *Service) sumHours(ctx context.Context, p *auth.Principal, byID map[int64]*Figures, since time.Time, months []string, active time.Time) error {
	cond, args := p.Filter(auth.VolunteerRead, "v.area_id", 2)
	type row struct {
		areaID, volunteerID int64
		kind, entryKind     string
		minutes             int
		at                  time.Time
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.areaID, &x.volunteerID, &x.kind, &x.entryKind, &x.minutes, &x.at)
	}, `SELECT v.community_id, h.volunteer_id, h.service_kind, h.kind, h.minutes, h.created_at FROM volunteer_hours h
		JOIN volunteers v ON v.id = h.volunteer_id WHERE h.created_at >= $1 AND `+cond, append([]any{since.UTC()}, args...)...)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, x := range rows {
		f := byID[x.areaID]
		if f == nil {
			continue
		}
		if i := slices.Index(months, x.at.In(chinaTime).Format("2006-01")); i >= 0 {
			f.Hours[i] += float64(x.minutes) / 60
		}
		kind := x.kind
		if kind == "" {
			kind = "other"
		}
		f.ByKind[kind] += float64(x.minutes) / 60
		if x.entryKind == "credit" && x.at.After(active) && !seen[x.volunteerID] {
			seen[x.volunteerID] = true
			f.Active90++
		}
	}
	return nil
}
