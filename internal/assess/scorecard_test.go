package assess

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
)

// exec runs statements in one write transaction.
func (f *fixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if err := f.db.Write(context.Background(), func(ctx context.Context) error {
		_, err := f.db.Q(ctx).ExecContext(ctx, query, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// caseDay adds a day's counters of a grid to case_stats, as the cases
// module's transitions would have.
func (f *fixture) caseDay(t testing.TB, g area.Area, day string, callbacks, contacted, solved, satisfied, basically, onTime, late int) {
	f.exec(t, `INSERT INTO case_stats (day, area_id, unit_id, category_id, callbacks, contacted, solved, satisfied, basically_satisfied,
		unsatisfied, closed, closed_on_time, closed_late) VALUES ($1, $2, 0, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		day, g.ID, callbacks, contacted, solved, satisfied, basically, callbacks-satisfied-basically, onTime+late, onTime, late)
}

// seedRaw gives the first two communities a month of figures from every
// module (and some outside the month), the third nothing.
func (f *fixture) seedRaw(t testing.TB) {
	f.seedFacilities(t)
	f.seedNotices(t)
	f.caseDay(t, f.grids[0], "2026-01-05", 10, 9, 7, 5, 2, 6, 1)
	f.caseDay(t, f.grids[0], "2026-01-20", 4, 4, 3, 2, 1, 3, 0)
	f.caseDay(t, f.grids[0], "2026-02-10", 50, 0, 0, 0, 0, 0, 50) // outside the period
	f.caseDay(t, f.grids[1], "2026-01-31", 8, 6, 4, 3, 3, 2, 2)
	if err := f.cases.RebuildRollup(f.admin); err != nil {
		t.Fatal(err)
	}
	// Service applications: due in January, decided in time or not.
	f.exec(t, `INSERT INTO service_items (id, area_id, area_path, code, name, unit, limit_days, created_at, updated_at)
		VALUES (1, $1, $2, 'dibao', '低保申请', '民政', 10, $3, $3)`, f.street.ID, f.street.Path, f.now)
	for i, app := range []struct {
		comm         int
		due, decided string
	}{{0, "2026-01-10", "2026-01-08"}, {0, "2026-01-10", "2026-01-12"}, {1, "2026-01-15", "2026-01-14"}, {1, "2026-02-15", "2026-02-01"}} {
		c := f.comms[app.comm]
		due, _ := time.Parse(time.DateOnly, app.due)
		decided, _ := time.Parse(time.DateOnly, app.decided)
		f.exec(t, `INSERT INTO service_applications (id, number, item_id, area_id, area_path, applicant_name, state, due_at, created_at, updated_at)
			VALUES ($1, $2, 1, $3, $4, '张三', 'approved', $5, $6, $6)`, i+1, fmt.Sprintf("A%d", i), c.ID, c.Path, due, due.AddDate(0, 0, -10))
		f.exec(t, `INSERT INTO service_application_log (application_id, at, actor, action, to_state) VALUES ($1, $2, 'x', 'approve', 'approved')`, i+1, decided)
	}
	// Supervision questions: due in January, answered in time or not.
	for i, q := range []struct {
		comm     int
		answered any
	}{{0, time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC)}, {0, nil}, {1, time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)}} {
		c := f.comms[q.comm]
		f.exec(t, `INSERT INTO civic_questions (area_id, area_path, target_type, target_id, user_id, asker, body, asked_at, due_at, answered_at)
			VALUES ($1, $2, 'notice', $3, 1, '居民', '?', $4, $5, $6)`, c.ID, c.Path, i+1, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC), q.answered)
	}
	// Volunteer hours: two volunteers, one of them also in February.
	for i, v := range []struct {
		grid    int
		minutes []int
		at      []time.Time
	}{{0, []int{90, 30, 60}, []time.Time{time.Date(2026, 1, 4, 3, 0, 0, 0, time.UTC), time.Date(2026, 1, 30, 3, 0, 0, 0, time.UTC), time.Date(2026, 2, 3, 3, 0, 0, 0, time.UTC)}},
		{1, []int{30}, []time.Time{time.Date(2026, 1, 6, 3, 0, 0, 0, time.UTC)}}} {
		g, c := f.grids[v.grid], f.comms[v.grid]
		f.exec(t, `INSERT INTO volunteers (id, number, area_id, area_path, community_id, community_path, name, id_type, id_enc, id_idx, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, '志愿者', 'resident_id', 'x', $2, 'verified', $7)`, i+1, fmt.Sprintf("V%d", i), g.ID, g.Path, c.ID, c.Path, f.now)
		for j, m := range v.minutes {
			f.exec(t, `INSERT INTO volunteer_hours (volunteer_id, kind, minutes, reason, created_at) VALUES ($1, 'correction', $2, '补录', $3)`, i+1, m, v.at[j])
		}
	}
	// Survey answers given in January.
	f.now = time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC)
	v, err := f.svc.CreateSurvey(f.streeter, SurveyInput{Area: f.street.Code, Title: "一月测评", Per: PerResident, Opens: "2026-01-01", Closes: "2026-01-31",
		Questions: []QuestionInput{{Kind: Rating, Prompt: "总体满意度"}, {Kind: Rating, Prompt: "环境卫生"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ grid, r1, r2 int }{{0, 5, 4}, {0, 4, 4}, {1, 2, 3}} {
		ctx, _ := f.resident(t, f.grids[a.grid], 0)
		if err := f.svc.Answer(ctx, v.ID, []AnswerInput{{Question: v.Questions[0].ID, Rating: a.r1}, {Question: v.Questions[1].ID, Rating: a.r2}}); err != nil {
			t.Fatal(err)
		}
	}
	f.now = start
}

// recompute works a community's figures out of the raw rows, independently
// of the modules' code: value and whether there is data, by figure.
func (f *fixture) recompute(t testing.TB, c area.Area, from, to string) map[FigureKey]Figure {
	q := func(query string, args ...any) []float64 {
		t.Helper()
		row := f.db.Q(context.Background()).QueryRowContext(context.Background(), query, args...)
		out := make([]float64, 8)
		ptrs := make([]any, 8)
		for i := range out {
			ptrs[i] = &out[i]
		}
		if err := row.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return out
	}
	end := f.endOf(to)
	pathEnd := c.Path[:len(c.Path)-1] + "0"
	cs := q(`SELECT COALESCE(SUM(callbacks), 0), COALESCE(SUM(contacted), 0), COALESCE(SUM(solved), 0), COALESCE(SUM(satisfied), 0),
		COALESCE(SUM(basically_satisfied), 0), COALESCE(SUM(closed_on_time), 0), COALESCE(SUM(closed_late), 0), 0
		FROM case_stats s JOIN areas a ON a.id = s.area_id WHERE a.path >= $1 AND a.path < $2 AND s.day >= $3 AND s.day <= $4`, c.Path, pathEnd, from, to)
	sv := q(`SELECT COALESCE(SUM(a.rating), 0), COUNT(a.rating), 0, 0, 0, 0, 0, 0 FROM assess_answers a JOIN assess_responses r ON r.id = a.response_id
		WHERE r.area_path >= $1 AND r.area_path < $2 AND r.day >= $3 AND r.day <= $4`, c.Path, pathEnd, from, to)
	ap := q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN (SELECT MIN(l.at) FROM service_application_log l WHERE l.application_id = a.id) <= a.due_at THEN 1 ELSE 0 END), 0),
		0, 0, 0, 0, 0, 0 FROM service_applications a WHERE a.area_id = $1 AND a.due_at >= $2 AND a.due_at < $3`, c.ID, f.startOf(from), end)
	qs := q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN answered_at <= due_at THEN 1 ELSE 0 END), 0), 0, 0, 0, 0, 0, 0
		FROM civic_questions WHERE area_id = $1 AND due_at >= $2 AND due_at < $3`, c.ID, f.startOf(from), end)
	vh := q(`SELECT COALESCE(SUM(h.minutes), 0), 0, 0, 0, 0, 0, 0, 0 FROM volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id
		WHERE v.community_id = $1 AND h.created_at >= $2 AND h.created_at < $3`, c.ID, f.startOf(from), end)
	ratio := ratioFigure
	w := f.cases.Config.BasicallySatisfiedWeight
	out := map[FigureKey]Figure{
		FigCaseResponse:     ratio(FigCaseResponse, cs[1], cs[0]),
		FigCaseResolution:   ratio(FigCaseResolution, cs[2], cs[0]),
		FigCaseSatisfaction: ratio(FigCaseSatisfaction, cs[3]+w*cs[4], cs[0]),
		FigCaseOnTime:       ratio(FigCaseOnTime, cs[5], cs[5]+cs[6]),
		FigServiceInTime:    ratio(FigServiceInTime, ap[1], ap[0]),
		FigFacilityUse:      f.recomputeFacilityUse(t, c, from, to),
		FigDisclosure:       f.recomputeDisclosure(t, c, from, to),
		FigQuestions:        ratio(FigQuestions, qs[1], qs[0]),
		FigVolunteer:        {Key: FigVolunteer, Value: vh[0] / 60, Data: true},
	}
	out[FigSurvey] = Figure{Key: FigSurvey}
	if sv[1] > 0 {
		mean := sv[0] / sv[1]
		out[FigSurvey] = Figure{Key: FigSurvey, Value: mean, Score: (mean - 1) / 4, Data: true}
	}
	return out
}

func (f *fixture) startOf(day string) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, day, local)
	return t.UTC()
}

func (f *fixture) endOf(day string) time.Time { return f.startOf(day).AddDate(0, 0, 1) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScorecardEqualsRecomputation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.seedRaw(t)
		per, err := f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: "2026-01", From: "2026-01-01", To: "2026-01-31"})
		if err != nil {
			t.Fatal(err)
		}
		card, err := f.svc.Scorecard(f.super, per.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(card.Rows) != 3 {
			t.Fatalf("%d rows", len(card.Rows))
		}
		want := map[string]map[FigureKey]Figure{}
		best := 0.0
		for _, c := range f.comms {
			want[c.Code] = f.recompute(t, c, "2026-01-01", "2026-01-31")
			best = max(best, want[c.Code][FigVolunteer].Value)
		}
		totals := map[string]float64{}
		for code, figs := range want {
			v := figs[FigVolunteer]
			v.Score = v.Value / best
			figs[FigVolunteer] = v
			var sum, weights float64
			for k, fig := range figs {
				if fig.Data {
					sum += float64(DefaultWeights[k]) * fig.Score
					weights += float64(DefaultWeights[k])
				}
			}
			totals[code] = 100 * sum / weights
		}
		for i, row := range card.Rows {
			for _, got := range row.Figures {
				w := want[row.Community][got.Key]
				if got.Data != w.Data || !near(got.Value, w.Value) || !near(got.Score, w.Score) {
					t.Errorf("%s %s: got %+v, want %+v", row.Name, got.Key, got, w)
				}
				if got.Source == "" || got.Weight != DefaultWeights[got.Key] {
					t.Errorf("%s %s: source %q weight %d", row.Name, got.Key, got.Source, got.Weight)
				}
			}
			if !near(row.Total, totals[row.Community]) {
				t.Errorf("%s: total %v, want %v", row.Name, row.Total, totals[row.Community])
			}
			if i > 0 && card.Rows[i-1].Total < row.Total {
				t.Errorf("rows not best first")
			}
		}
		// The data behind it are not trivial: every source counted.
		first := want[f.comms[0].Code]
		for _, k := range []FigureKey{FigSurvey, FigCaseResponse, FigCaseOnTime, FigServiceInTime, FigFacilityUse, FigDisclosure, FigQuestions} {
			if !first[k].Data {
				t.Errorf("no data for %s", k)
			}
		}
		if first[FigServiceInTime].Value != 0.5 || first[FigVolunteer].Value != 2 || first[FigSurvey].Value != 4.25 {
			t.Errorf("recomputation itself is off: %+v", first)
		}
		// January has 22 weekdays, one closed: 42 room slots, 2 held;
		// the day-care centre offers 31 × 2 slots of 10 seats, 7 taken.
		// Two notices published, the November subsidies list overdue.
		second, third := want[f.comms[1].Code], want[f.comms[2].Code]
		if !near(first[FigFacilityUse].Value, 2.0/42) || !near(second[FigFacilityUse].Value, 7.0/620) ||
			!near(first[FigDisclosure].Value, 2.0/3) || second[FigDisclosure].Value != 1 || third[FigFacilityUse].Data || third[FigDisclosure].Data {
			t.Errorf("recomputation of facilities and notices is off: %+v / %+v / %+v", first, second, third)
		}
		if len(card.Worst) == 0 || card.Worst[0].Score > card.Worst[len(card.Worst)-1].Score {
			t.Errorf("worst figures: %+v", card.Worst)
		}
	})
}

// TestWeightsAreVersionedPerPeriod runs on SQLite only: its SQL runs on
// PostgreSQL in TestScorecardEqualsRecomputation, and a PostgreSQL
// database costs seconds of migrations.
func TestWeightsAreVersionedPerPeriod(t *testing.T) {
	t.Parallel()
	func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.seedRaw(t)
		jan, err := f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: "2026-01", From: "2026-01-01", To: "2026-01-31"})
		if err != nil {
			t.Fatal(err)
		}
		feb, err := f.svc.CreatePeriod(f.super, PeriodInput{Street: f.street.Code, Code: "2026-02", From: "2026-02-01", To: "2026-02-28"})
		if err != nil {
			t.Fatal(err)
		}
		before, err := f.svc.Scorecard(f.super, jan.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Bad weights change nothing.
		_, err = f.svc.SetWeights(f.super, feb.ID, Weights{FigSurvey: 50, "popularity": 10})
		if fieldsOf(err) != "weights.popularity:err.assess.weight_unknown" {
			t.Fatalf("unknown figure: %v", err)
		}
		_, err = f.svc.SetWeights(f.super, feb.ID, Weights{FigSurvey: 50, FigCaseResolution: 30})
		if fieldsOf(err) != "weights:err.assess.weight_sum" {
			t.Fatalf("sum: %v", err)
		}
		_, err = f.svc.SetWeights(f.staff, feb.ID, Weights{FigSurvey: 100})
		wantCode(t, err, errs.Forbidden)
		// This period's new weights…
		feb, err = f.svc.SetWeights(f.super, feb.ID, Weights{FigSurvey: 20, FigCaseResolution: 60, FigVolunteer: 20})
		if err != nil || feb.Version != 2 || feb.Weights[FigCaseResolution] != 60 || feb.Weights[FigCaseResponse] != 0 {
			t.Fatalf("set weights: %+v %v", feb, err)
		}
		// …leave last period's card exactly as it was.
		after, err := f.svc.Scorecard(f.super, jan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) || after.Period.Version != 1 {
			t.Fatalf("January's card moved:\n%+v\n%+v", before, after)
		}
		// A period opened later starts from the latest weights.
		mar, err := f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: "2026-03", From: "2026-03-01", To: "2026-03-31"})
		if err != nil || mar.Weights[FigCaseResolution] != 60 || mar.Version != 1 {
			t.Fatalf("march: %+v %v", mar, err)
		}
		_, err = f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: "2026-03", From: "2026-03-01", To: "2026-03-31"})
		if fieldsOf(err) != "code:err.assess.period_taken" || errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("duplicate code: %v", err)
		}
		// January's weights can still change, as a version of January only.
		if _, err := f.svc.SetWeights(f.super, jan.ID, Weights{FigSurvey: 100}); err != nil {
			t.Fatal(err)
		}
		janCard, _ := f.svc.Scorecard(f.super, jan.ID)
		febNow, _ := f.svc.period(context.Background(), feb.ID)
		if janCard.Period.Version != 2 || febNow.Version != 2 || febNow.Weights[FigSurvey] != 20 {
			t.Fatalf("versions: jan %d, feb %+v", janCard.Period.Version, febNow)
		}
	}(t, dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db"))
}

func TestScorecardScope(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	f := newFixture(t, d)
	f.seedRaw(t)
	per, err := f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: "2026-01", From: "2026-01-01", To: "2026-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Scorecard(f.dept, per.ID)
	wantCode(t, err, errs.Forbidden)
	_, err = f.svc.CreatePeriod(f.staff, PeriodInput{Street: f.street.Code, Code: "x", From: "2026-01-01", To: "2026-01-31"})
	wantCode(t, err, errs.Forbidden)
	all, err := f.svc.Scorecard(f.super, per.ID)
	if err != nil {
		t.Fatal(err)
	}
	own, err := f.svc.Scorecard(f.staff, per.ID)
	if err != nil || len(own.Rows) != 1 || own.Rows[0].Community != f.comms[0].Code {
		t.Fatalf("community staff: %+v %v", own.Rows, err)
	}
	for _, r := range all.Rows {
		if r.Community == own.Rows[0].Community && r.Rank != own.Rows[0].Rank {
			t.Fatalf("rank %d among all, %d shown", r.Rank, own.Rows[0].Rank)
		}
	}
	tr, err := f.svc.Trend(f.super, f.street.Code)
	if err != nil || len(tr.Periods) != 1 || len(tr.Series) != 3 {
		t.Fatalf("trend: %+v %v", tr, err)
	}
}
