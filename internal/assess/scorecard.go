package assess

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/civic"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/services"
	"github.com/linli/linli/internal/volunteer"
)

// CaseFigures are the case figures of communities by area id over days
// (inclusive): *cases.Service.
type CaseFigures interface {
	CommunityKPIs(ctx context.Context, areaIDs []int64, from, to string) (map[int64]cases.KPIs, error)
}

// ServiceFigures are the desk's figures by community path over
// [start, end): *services.Service.
type ServiceFigures interface {
	AssessFigures(ctx context.Context, streetPath string, communityPaths []string, start, end time.Time) (map[string]services.AssessFigures, error)
}

// CivicFigures are open affairs' figures by community path over
// [start, end): *civic.Service.
type CivicFigures interface {
	AssessFigures(ctx context.Context, streetPath string, comms []area.Area, start, end time.Time) (map[string]civic.AssessFigures, error)
}

// VolunteerFigures are volunteer activity by area path over [start, end):
// *volunteer.Service.
type VolunteerFigures interface {
	AssessFigures(ctx context.Context, streetPath string, start, end time.Time) (map[string]volunteer.AssessFigures, error)
}

// Figure is one figure of a community's card.
type Figure struct {
	Key    FigureKey `json:"key"`
	Value  float64   `json:"value"` // a rate (0–1), the mean rating (1–5) or hours
	Score  float64   `json:"score"` // 0–1: what the weight multiplies
	Num    float64   `json:"num"`   // the counts behind the value
	Den    float64   `json:"den"`
	Data   bool      `json:"data"` // false: nothing to judge; left out of the total
	Weight int       `json:"weight"`
	Rank   int       `json:"rank"`   // among the communities with data, 1 the best; 0 without data
	Source string    `json:"source"` // where the figure comes from: a page to drill down
}

// CardRow is one community's scorecard.
type CardRow struct {
	Community string   `json:"community"`
	Name      string   `json:"name"`
	Total     float64  `json:"total"` // 0–100
	Rank      int      `json:"rank"`
	Figures   []Figure `json:"figures"`
	id        int64
	path      string
}

// Weak is a figure of a community among the street's lowest.
type Weak struct {
	Community string    `json:"community"`
	Name      string    `json:"name"`
	Key       FigureKey `json:"key"`
	Score     float64   `json:"score"`
	Source    string    `json:"source"`
}

// Scorecard is a street's integrated assessment for a period.
type Scorecard struct {
	Period Period    `json:"period"`
	Rows   []CardRow `json:"rows"`  // best first
	Worst  []Weak    `json:"worst"` // the lowest figures of the street, worst first
}

// maxWorst is how many of the lowest figures the dashboard lists.
const maxWorst = 10

// Scorecard is the cards of a period's communities: computed with the
// period's latest weights while it is open, the frozen copy once it is
// closed. Street staff and assessors see every
// community; community staff see their own rows, ranked among all.
// Errors: NotFound (no such period, or none of the caller's concern),
// Forbidden.
func (s *Service) Scorecard(ctx context.Context, periodID int64) (Scorecard, error) {
	p, err := auth.Require(ctx, auth.AssessRead)
	if err != nil {
		return Scorecard{}, err
	}
	per, err := s.period(ctx, periodID)
	if err != nil {
		return Scorecard{}, err
	}
	if !relatedTo(p, per.path, auth.AssessRead) {
		return Scorecard{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	card, err := s.card(ctx, per)
	if err != nil {
		return Scorecard{}, err
	}
	if !p.Can(auth.AssessRead, per.path) {
		card.Rows = slices.DeleteFunc(card.Rows, func(r CardRow) bool { return !p.Can(auth.AssessRead, r.path) })
		card.Worst = slices.DeleteFunc(card.Worst, func(w Weak) bool {
			return !slices.ContainsFunc(card.Rows, func(r CardRow) bool { return r.Community == w.Community })
		})
	}
	return card, nil
}

// compute builds the card of every community of the period's street.
func (s *Service) compute(ctx context.Context, per Period) (Scorecard, error) {
	// The communities of the street, all of them whoever asks: the ranks
	// are among all. Reading the area tree is no personal data.
	sys := auth.WithPrincipal(ctx, auth.System())
	comms, err := s.areas.List(sys, area.ListQuery{Level: area.Community, Parent: per.Street, Limit: 500})
	if err != nil {
		return Scorecard{}, err
	}
	rows := make([]CardRow, len(comms))
	for i, c := range comms {
		rows[i] = CardRow{Community: c.Code, Name: c.Name, id: c.ID, path: c.Path}
	}
	raw, err := s.gather(ctx, per, comms)
	if err != nil {
		return Scorecard{}, err
	}
	for i := range rows {
		rows[i].Figures = raw.figures(per, rows[i])
	}
	scoreRelative(rows, FigVolunteer)
	rank(rows)
	return Scorecard{Period: per, Rows: rows, Worst: worst(rows)}, nil
}

// sources are the raw figures of a period, by community.
type sources struct {
	cases     map[int64]cases.KPIs
	surveys   map[string]ratingSum
	services  map[string]services.AssessFigures
	civic     map[string]civic.AssessFigures
	volunteer map[string]volunteer.AssessFigures
}

// gather reads every module's figures for the period: one grouped read
// per source for the whole street.
func (s *Service) gather(ctx context.Context, per Period, comms []area.Area) (sources, error) {
	start, _ := time.ParseInLocation(time.DateOnly, per.From, local)
	end, _ := time.ParseInLocation(time.DateOnly, per.To, local)
	end = end.AddDate(0, 0, 1)
	ids := make([]int64, len(comms))
	paths := make([]string, len(comms))
	for i, c := range comms {
		ids[i], paths[i] = c.ID, c.Path
	}
	var src sources
	var err error
	if src.surveys, err = s.ratings(ctx, per); err != nil {
		return src, err
	}
	if s.Cases != nil && len(ids) > 0 {
		if src.cases, err = s.Cases.CommunityKPIs(ctx, ids, per.From, per.To); err != nil {
			return src, err
		}
	}
	if s.Services != nil {
		if src.services, err = s.Services.AssessFigures(ctx, per.path, paths, start, end); err != nil {
			return src, err
		}
	}
	if s.Civic != nil {
		if src.civic, err = s.Civic.AssessFigures(ctx, per.path, comms, start, end); err != nil {
			return src, err
		}
	}
	if s.Volunteers != nil {
		if src.volunteer, err = s.Volunteers.AssessFigures(ctx, per.path, start, end); err != nil {
			return src, err
		}
	}
	return src, nil
}

// ratingSum adds up the rating answers of residents of an area.
type ratingSum struct{ n, sum int64 }

// ratings adds up, by the respondent's area, the rating answers given in
// the period by residents of the street, to any survey.
func (s *Service) ratings(ctx context.Context, per Period) (map[string]ratingSum, error) {
	type row struct {
		path string
		r    ratingSum
	}
	rows, err := db.All(ctx, s.db.Q(ctx), func(sc db.Scanner) (row, error) {
		var r row
		return r, sc.Scan(&r.path, &r.r.n, &r.r.sum)
	}, `SELECT r.area_path, COUNT(a.rating), COALESCE(SUM(a.rating), 0) FROM assess_responses r JOIN assess_answers a ON a.response_id = r.id
		WHERE r.area_path >= $1 AND r.area_path < $2 AND r.day >= $3 AND r.day <= $4 AND a.rating IS NOT NULL GROUP BY r.area_path`,
		per.path, auth.PathEnd(per.path), per.From, per.To)
	out := map[string]ratingSum{}
	for _, r := range rows {
		out[r.path] = r.r
	}
	return out, err
}

// under adds up the entries of m whose path lies in the community.
func under[T any](m map[string]T, path string, add func(acc *T, v T)) T {
	var acc T
	for p, v := range m {
		if strings.HasPrefix(p, path) {
			add(&acc, v)
		}
	}
	return acc
}

// figures are a community's figures before ranks and relative scores.
func (src sources) figures(per Period, row CardRow) []Figure {
	sv := under(src.surveys, row.path, func(a *ratingSum, v ratingSum) { a.n += v.n; a.sum += v.sum })
	k := src.cases[row.id]
	sf := under(src.services, row.path, func(a *services.AssessFigures, v services.AssessFigures) {
		a.Due, a.InTime, a.SlotsOffered, a.SlotsTaken = a.Due+v.Due, a.InTime+v.InTime, a.SlotsOffered+v.SlotsOffered, a.SlotsTaken+v.SlotsTaken
	})
	cf := under(src.civic, row.path, func(a *civic.AssessFigures, v civic.AssessFigures) {
		a.Published, a.Overdue, a.Questions, a.Answered = a.Published+v.Published, a.Overdue+v.Overdue, a.Questions+v.Questions, a.Answered+v.Answered
	})
	vf := under(src.volunteer, row.path, func(a *volunteer.AssessFigures, v volunteer.AssessFigures) {
		a.Activities, a.Minutes = a.Activities+v.Activities, a.Minutes+v.Minutes
	})
	link := sourceLinks(per, row.Community)
	fs := []Figure{
		meanRating(sv),
		rate(FigCaseResponse, float64(k.Contacted), float64(k.Callbacks)),
		rate(FigCaseResolution, float64(k.Solved), float64(k.Callbacks)),
		{Key: FigCaseSatisfaction, Value: k.SatisfactionRate, Score: k.SatisfactionRate, Num: k.SatisfactionRate * float64(k.Callbacks),
			Den: float64(k.Callbacks), Data: k.Callbacks > 0},
		rate(FigCaseOnTime, float64(k.OnTime), float64(k.OnTime+k.Late)),
		rate(FigServiceInTime, float64(sf.InTime), float64(sf.Due)),
		rate(FigFacilityUse, float64(sf.SlotsTaken), float64(sf.SlotsOffered)),
		rate(FigDisclosure, float64(cf.Published), float64(cf.Published+cf.Overdue)),
		rate(FigQuestions, float64(cf.Answered), float64(cf.Questions)),
		{Key: FigVolunteer, Value: float64(vf.Minutes) / 60, Num: float64(vf.Minutes) / 60, Den: float64(vf.Activities), Data: src.volunteer != nil},
	}
	for i := range fs {
		fs[i].Weight = per.Weights[fs[i].Key]
		fs[i].Source = link[fs[i].Key]
	}
	return fs
}

// rate is a figure num / den; without a denominator there is no data.
func rate(key FigureKey, num, den float64) Figure {
	f := Figure{Key: key, Num: num, Den: den, Data: den > 0}
	if f.Data {
		f.Value = num / den
		f.Score = f.Value
	}
	return f
}

// meanRating is the survey figure: the mean of the 1–5 ratings, scored
// from 0 (all 1) to 1 (all 5).
func meanRating(r ratingSum) Figure {
	f := Figure{Key: FigSurvey, Num: float64(r.sum), Den: float64(r.n), Data: r.n > 0}
	if f.Data {
		f.Value = float64(r.sum) / float64(r.n)
		f.Score = (f.Value - 1) / 4
	}
	return f
}

// scoreRelative scores a count figure against the best community: the
// best gets 1, the others their share of it. With no activity anywhere
// nobody has data.
func scoreRelative(rows []CardRow, key FigureKey) {
	best := 0.0
	for _, r := range rows {
		if f := r.figure(key); f != nil && f.Data {
			best = max(best, f.Value)
		}
	}
	for i := range rows {
		f := rows[i].figure(key)
		if f == nil {
			continue
		}
		f.Data = f.Data && best > 0
		if f.Data {
			f.Score = f.Value / best
		}
	}
}

func (r *CardRow) figure(key FigureKey) *Figure {
	for i := range r.Figures {
		if r.Figures[i].Key == key {
			return &r.Figures[i]
		}
	}
	return nil
}

// Total weighs the figures with data; their weights count in proportion
// so that a figure nobody could judge neither adds nor takes away.
func Total(fs []Figure) float64 {
	var sum, weights float64
	for _, f := range fs {
		if f.Data {
			sum += float64(f.Weight) * f.Score
			weights += float64(f.Weight)
		}
	}
	if weights == 0 {
		return 0
	}
	return 100 * sum / weights
}

// rank sets totals, ranks each figure among the communities with data and
// the totals among all, and orders the rows best first. Equal values
// share a rank.
func rank(rows []CardRow) {
	for i := range rows {
		rows[i].Total = Total(rows[i].Figures)
	}
	for j := range Figures {
		var scores []float64
		for _, r := range rows {
			if r.Figures[j].Data {
				scores = append(scores, r.Figures[j].Score)
			}
		}
		for i := range rows {
			if f := &rows[i].Figures[j]; f.Data {
				f.Rank = 1 + countAbove(scores, f.Score)
			}
		}
	}
	totals := make([]float64, len(rows))
	for i, r := range rows {
		totals[i] = r.Total
	}
	for i := range rows {
		rows[i].Rank = 1 + countAbove(totals, rows[i].Total)
	}
	slices.SortStableFunc(rows, func(a, b CardRow) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Community, b.Community))
	})
}

// countAbove counts the values strictly above v.
func countAbove(values []float64, v float64) int {
	n := 0
	for _, x := range values {
		if x > v+1e-12 {
			n++
		}
	}
	return n
}

// worst lists the street's lowest weighted figures, lowest score first.
func worst(rows []CardRow) []Weak {
	var out []Weak
	for _, r := range rows {
		for _, f := range r.Figures {
			if f.Data && f.Weight > 0 {
				out = append(out, Weak{Community: r.Community, Name: r.Name, Key: f.Key, Score: f.Score, Source: f.Source})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Weak) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Community, b.Community), cmp.Compare(a.Key, b.Key))
	})
	return out[:min(len(out), maxWorst)]
}

// sourceLinks are the pages each figure drills down to.
func sourceLinks(per Period, community string) map[FigureKey]string {
	period := url.Values{"from": {per.From}, "to": {per.To}}
	cases := "/dashboard?" + url.Values{"area": {community}, "from": {per.From}, "to": {per.To}, "group": {"category"}}.Encode()
	return map[FigureKey]string{
		FigSurvey:           "/assess/surveys?" + url.Values{"area": {community}}.Encode(),
		FigCaseResponse:     cases,
		FigCaseResolution:   cases,
		FigCaseSatisfaction: cases,
		FigCaseOnTime:       cases,
		FigServiceInTime:    "/services/desk?" + url.Values{"community": {community}}.Encode(),
		FigFacilityUse:      "/services/gaps?street=" + url.QueryEscape(per.Street) + "&" + period.Encode(),
		FigDisclosure:       "/civic/community/" + url.PathEscape(community),
		FigQuestions:        "/civic/community/" + url.PathEscape(community),
		FigVolunteer:        "/volunteer?" + url.Values{"community": {community}}.Encode(),
	}
}

// Trend are the totals of a street's communities over its periods, oldest
// first.
type Trend struct {
	Street  string   `json:"street"`
	Periods []string `json:"periods"`
	Series  []Series `json:"series"`
}

// Series is one community's totals, period by period (nil: no card).
type Series struct {
	Community string     `json:"community"`
	Name      string     `json:"name"`
	Totals    []*float64 `json:"totals"`
}

// maxTrend bounds the periods a trend computes.
const maxTrend = 12

// Trend computes the cards of the street's latest periods (up to 12).
func (s *Service) Trend(ctx context.Context, street string) (Trend, error) {
	all, err := s.Periods(ctx)
	if err != nil {
		return Trend{}, err
	}
	all = slices.DeleteFunc(all, func(x Period) bool { return x.Street != street })
	all = all[:min(len(all), maxTrend)]
	slices.Reverse(all)
	t := Trend{Street: street, Periods: []string{}, Series: []Series{}}
	index := map[string]int{}
	for i, per := range all {
		card, err := s.Scorecard(ctx, per.ID)
		if err != nil {
			return Trend{}, err
		}
		t.Periods = append(t.Periods, per.Code)
		for _, r := range card.Rows {
			j, ok := index[r.Community]
			if !ok {
				j = len(t.Series)
				index[r.Community] = j
				t.Series = append(t.Series, Series{Community: r.Community, Name: r.Name, Totals: make([]*float64, len(all))})
			}
			total := r.Total
			t.Series[j].Totals[i] = &total
		}
	}
	return t, nil
}

// The modules the app wires in satisfy the sources.
var (
	_ CaseFigures      = (*cases.Service)(nil)
	_ ServiceFigures   = (*services.Service)(nil)
	_ CivicFigures     = (*civic.Service)(nil)
	_ VolunteerFigures = (*volunteer.Service)(nil)
)
