package assess

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// Scale of the benchmark: a street of 50 communities and a year of
// 1,000,000 cases, seeded as the cases module keeps them (daily counters
// per grid and category, rolled up by RebuildRollup) rather than by
// reporting a million cases, plus 10,000 survey answers.
const (
	benchCommunities = 50
	benchCategories  = 4
	benchDays        = 365
	benchResponses   = 200 // per community
)

// BenchmarkStreetScorecard computes a street's scorecard for a year:
//
//	go test ./internal/assess/ -run '^$' -bench StreetScorecard -benchtime 20x
//
// It reports ms/card; the goal is under 300 ms.
func BenchmarkStreetScorecard(b *testing.B) {
	for kind, dsn := range dbtest.Engines(b) {
		d := dbtest.Open(b, dsn)
		f := newFixture(b, d)
		cases := f.seedBench(b)
		per, err := f.svc.CreatePeriod(f.streeter, PeriodInput{Street: f.street.Code, Code: "2025", From: "2025-01-01", To: "2025-12-31"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(kind), func(b *testing.B) { benchCard(b, f, per.ID, cases) })
		// A closed period reads its frozen copy instead.
		if _, err := f.svc.ClosePeriod(f.streeter, per.ID); err != nil {
			b.Fatal(err)
		}
		b.Run(string(kind)+"/closed", func(b *testing.B) { benchCard(b, f, per.ID, cases) })
	}
}

func benchCard(b *testing.B, f *fixture, periodID, cases int64) {
	for b.Loop() {
		card, err := f.svc.Scorecard(f.super, periodID)
		if err != nil || len(card.Rows) != benchCommunities {
			b.Fatalf("%d rows, %v", len(card.Rows), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/card")
	b.ReportMetric(float64(cases), "cases")
}

// seedBench adds communities up to benchCommunities, a year of case
// counters and survey answers, and returns the number of cases reported.
func (f *fixture) seedBench(b *testing.B) int64 {
	for i := len(f.comms); i < benchCommunities; i++ {
		code := fmt.Sprintf("370613001%03d", i+1)
		f.comms = append(f.comms, f.area(b, area.NewArea{Code: code, Name: fmt.Sprintf("第%d社区", i+1), Level: area.Community, Parent: f.street.Code}))
		f.grids = append(f.grids, f.area(b, area.NewArea{Code: code + "001", Name: "第一网格", Level: area.Grid, Parent: code}))
	}
	var rows [][]any
	var total int64
	day0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for gi, g := range f.grids {
		for d := range benchDays {
			day := day0.AddDate(0, 0, d).Format(time.DateOnly)
			for c := range benchCategories {
				n := int64(13 + (gi+d+c)%2) // 13.7 on average: 1,000,000 a year
				if (gi*7+d*3+c)%10 < 2 {
					n++
				}
				total += n
				cb := n * 6 / 10
				rows = append(rows, []any{day, g.ID, int64(c + 1), n, n, n - 1, cb, cb - int64(d%2), cb - int64(gi%3), cb - 2, 1, n - 2, 1})
			}
		}
	}
	f.bulk(b, `INSERT INTO case_stats (day, area_id, unit_id, category_id, reported, accepted, closed, callbacks, contacted, solved,
		satisfied, basically_satisfied, closed_on_time, closed_late) VALUES `, "($%d, $%d, 0, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", rows)
	if err := f.cases.RebuildRollup(f.admin); err != nil {
		b.Fatal(err)
	}
	f.seedAnswers(b)
	return total
}

// seedAnswers adds a year-long survey with benchResponses rating answers
// per community.
func (f *fixture) seedAnswers(b *testing.B) {
	f.now = time.Date(2025, 1, 2, 2, 0, 0, 0, time.UTC)
	defer func() { f.now = start }()
	v, err := f.svc.CreateSurvey(f.streeter, SurveyInput{Area: f.street.Code, Title: "年度测评", Per: PerResident, Opens: "2025-01-01", Closes: "2025-12-31",
		Questions: []QuestionInput{{Kind: Rating, Prompt: "总体满意度"}}})
	if err != nil {
		b.Fatal(err)
	}
	var voters, responses, answers [][]any
	id := int64(0)
	for gi, g := range f.grids {
		for i := range benchResponses {
			id++
			voters = append(voters, []any{v.ID, fmt.Sprintf("p%d", id)})
			responses = append(responses, []any{id, v.ID, g.Path, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365).Format(time.DateOnly)})
			answers = append(answers, []any{id, v.Questions[0].ID, int64(1 + (gi+i)%5)})
		}
	}
	f.bulk(b, "INSERT INTO assess_voters (survey_id, voter) VALUES ", "($%d, $%d)", voters)
	f.bulk(b, "INSERT INTO assess_responses (id, survey_id, area_path, channel, day) VALUES ", "($%d, $%d, $%d, 'paper', $%d)", responses)
	f.bulk(b, "INSERT INTO assess_answers (response_id, question_id, rating) VALUES ", "($%d, $%d, $%d)", answers)
}

// bulk inserts rows with multi-row INSERTs of up to 500 rows, each in its
// own transaction.
func (f *fixture) bulk(b *testing.B, head, tuple string, rows [][]any) {
	for len(rows) > 0 {
		chunk := rows[:min(500, len(rows))]
		rows = rows[len(chunk):]
		var sb strings.Builder
		sb.WriteString(head)
		var args []any
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			ph := make([]any, len(r))
			for j := range r {
				ph[j] = len(args) + j + 1
			}
			sb.WriteString(fmt.Sprintf(tuple, ph...))
			args = append(args, r...)
		}
		err := f.db.Write(context.Background(), func(ctx context.Context) error {
			_, err := f.db.Q(ctx).ExecContext(ctx, sb.String(), args...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
