package volunteer

import (
	"cmp"
	"context"
	"slices"
	"strconv"
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
	// Stars counts the volunteers by star level awarded, from none (0)
	// to the highest configured.
	Stars []int `json:"volunteers_by_stars"`
	// Activities counts the activities held or planned in the months of
	// the report, by kind, cancelled ones left out.
	Activities map[string]int `json:"activities_by_kind"`
}

// TotalHours is the community's hours over the months of the report.
func (f Figures) TotalHours() float64 {
	var sum float64
	for _, h := range f.Hours {
		sum += h
	}
	return sum
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
		f := &Figures{Community: c.Code, Name: c.Name, Months: months, Hours: make([]float64, reportMonths), ByKind: map[string]float64{},
			Stars: make([]int, len(s.Config.StarHours)+1), Activities: map[string]int{}}
		byID[c.ID] = f
		out = append(out, f)
	}
	if err := s.countVolunteers(ctx, p, byID); err != nil {
		return nil, err
	}
	if err := s.sumHours(ctx, p, byID, first, months, now.AddDate(0, 0, -90)); err != nil {
		return nil, err
	}
	if err := s.countStars(ctx, p, byID); err != nil {
		return nil, err
	}
	if err := s.countActivities(ctx, p, byID, first); err != nil {
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

// countStars counts each community's volunteers by the highest star level
// awarded and not withdrawn.
func (s *Service) countStars(ctx context.Context, p *auth.Principal, byID map[int64]*Figures) error {
	cond, args := p.Filter(auth.VolunteerRead, "v.area_id", 1)
	rows, err := db.All(ctx, s.db.Q(ctx), scanCount, `SELECT v.community_id, CAST(COALESCE(st.level, 0) AS TEXT), COUNT(*) FROM volunteers v
		LEFT JOIN (SELECT volunteer_id, MAX(level) AS level FROM volunteer_stars WHERE awarded_at IS NOT NULL AND withdrawn = ''
		GROUP BY volunteer_id) st ON st.volunteer_id = v.id WHERE `+cond+" GROUP BY v.community_id, COALESCE(st.level, 0)", args...)
	for _, x := range rows {
		level, _ := strconv.Atoi(x.key)
		if f := byID[x.areaID]; f != nil && level >= 0 && level < len(f.Stars) {
			f.Stars[level] += x.n
		}
	}
	return err
}

// countActivities counts each community's activities since the report's
// first month by kind.
func (s *Service) countActivities(ctx context.Context, p *auth.Principal, byID map[int64]*Figures, since time.Time) error {
	cond, args := p.Filter(auth.VolunteerRead, "area_id", 2)
	rows, err := db.All(ctx, s.db.Q(ctx), scanCount, `SELECT area_id, kind, COUNT(*) FROM volunteer_activities
		WHERE status = 'published' AND starts_at >= $1 AND `+cond+" GROUP BY area_id, kind", append([]any{since.UTC()}, args...)...)
	for _, x := range rows {
		if f := byID[x.areaID]; f != nil {
			f.Activities[x.key] += x.n
		}
	}
	return err
}

// count is a row of a grouped count: a community, a key and how many.
type count struct {
	areaID int64
	key    string
	n      int
}

func scanCount(r db.Scanner) (count, error) {
	var c count
	return c, r.Scan(&c.areaID, &c.key, &c.n)
}

// Summary is the report over every community shown: what the page's
// charts draw, and its tables print. It is summed from the communities'
// figures, so the charts, the tables and the export cannot disagree.
type Summary struct {
	Months      []string
	Hours       []float64   // by Months
	Communities []Figures   // with their hours over the months
	Stars       []int       // volunteers by star level, 0 first
	Kinds       []KindCount // activities and hours by kind, most hours first
}

// KindCount is one kind of activity in the summary.
type KindCount struct {
	Kind       string
	Activities int
	Hours      float64
}

// Summarise adds up the figures of the communities.
func Summarise(figs []Figures) Summary {
	sum := Summary{Communities: figs}
	kinds := map[string]*KindCount{}
	kind := func(k string) *KindCount {
		if kinds[k] == nil {
			kinds[k] = &KindCount{Kind: k}
		}
		return kinds[k]
	}
	for _, f := range figs {
		if sum.Months == nil {
			sum.Months, sum.Hours, sum.Stars = f.Months, make([]float64, len(f.Hours)), make([]int, len(f.Stars))
		}
		for i, h := range f.Hours {
			sum.Hours[i] += h
		}
		for i, n := range f.Stars {
			sum.Stars[i] += n
		}
		for k, n := range f.Activities {
			kind(k).Activities += n
		}
		for k, h := range f.ByKind {
			kind(k).Hours += h
		}
	}
	for _, k := range kinds {
		sum.Kinds = append(sum.Kinds, *k)
	}
	slices.SortFunc(sum.Kinds, func(a, b KindCount) int {
		if a.Hours != b.Hours {
			return cmp.Compare(b.Hours, a.Hours)
		}
		if a.Activities != b.Activities {
			return cmp.Compare(b.Activities, a.Activities)
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return sum
}
