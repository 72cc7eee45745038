package assess

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// QuestionResult adds up the answers to one question.
type QuestionResult struct {
	Question
	Answers int      `json:"answers"`
	Counts  []int    `json:"counts,omitempty"` // per option (choice) or per rating 1–5
	Mean    float64  `json:"mean,omitempty"`   // ratings
	Texts   []string `json:"texts,omitempty"`  // the latest texts, up to maxTexts
}

// AreaResult is the response of one area under the survey's.
type AreaResult struct {
	Code      string  `json:"code"`
	Name      string  `json:"name"`
	Responses int     `json:"responses"`
	Eligible  int     `json:"eligible"` // residents (households, for a household survey) in the register; 0 when unknown
	Rate      float64 `json:"rate"`     // responses / eligible
	Mean      float64 `json:"mean"`     // mean of all ratings
	path      string
	ratings   ratingSum
}

// Results are a survey's answers, by question and by area.
type Results struct {
	Survey    Survey           `json:"survey"`
	Responses int              `json:"responses"`
	Questions []QuestionResult `json:"questions"`
	Areas     []AreaResult     `json:"areas"`
}

const maxTexts = 200

// Results adds up a survey's answers for staff who may read its area (or
// an area inside it). Errors: NotFound, Forbidden.
func (s *Service) Results(ctx context.Context, id int64) (Results, error) {
	p, err := auth.Require(ctx, auth.AssessRead)
	if err != nil {
		return Results{}, err
	}
	v, err := s.survey(ctx, id)
	if err != nil {
		return Results{}, err
	}
	if !relatedTo(p, v.path, auth.AssessRead) {
		return Results{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	res := Results{Survey: v}
	if res.Questions, err = s.questionResults(ctx, v); err != nil {
		return Results{}, err
	}
	if res.Areas, err = s.areaResults(ctx, v); err != nil {
		return Results{}, err
	}
	for _, a := range res.Areas {
		res.Responses += a.Responses
	}
	return res, nil
}

// questionResults reads every answer of the survey once.
func (s *Service) questionResults(ctx context.Context, v Survey) ([]QuestionResult, error) {
	out := make([]QuestionResult, len(v.Questions))
	at := map[int64]*QuestionResult{}
	for i, q := range v.Questions {
		out[i] = QuestionResult{Question: q}
		switch q.Kind {
		case Single, Multiple:
			out[i].Counts = make([]int, len(q.Options))
		case Rating:
			out[i].Counts = make([]int, 5)
		}
		at[q.ID] = &out[i]
	}
	type answer struct {
		question int64
		choices  string
		rating   int
		body     string
	}
	answers, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (answer, error) {
		var a answer
		return a, r.Scan(&a.question, &a.choices, &a.rating, &a.body)
	}, `SELECT a.question_id, a.choices, COALESCE(a.rating, 0), a.body FROM assess_answers a JOIN assess_responses r ON r.id = a.response_id
		WHERE r.survey_id = $1 ORDER BY r.id DESC`, v.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range answers {
		q := at[a.question]
		if q == nil {
			continue
		}
		q.Answers++
		switch q.Kind {
		case Single, Multiple:
			var cs []int
			json.Unmarshal([]byte(a.choices), &cs)
			for _, c := range cs {
				if c >= 0 && c < len(q.Counts) {
					q.Counts[c]++
				}
			}
		case Rating:
			q.Counts[a.rating-1]++
			q.Mean += float64(a.rating)
		case Text:
			if a.body != "" && len(q.Texts) < maxTexts {
				q.Texts = append(q.Texts, a.body)
			}
		}
	}
	for i := range out {
		if out[i].Kind == Rating && out[i].Answers > 0 {
			out[i].Mean /= float64(out[i].Answers)
		}
	}
	return out, nil
}

// areaResults breaks the responses down by the areas directly under the
// survey's (the survey's own area when it has none), with response rates
// against the register's count of residents.
func (s *Service) areaResults(ctx context.Context, v Survey) ([]AreaResult, error) {
	sys := authSystem(ctx)
	kids, err := s.areas.List(sys, area.ListQuery{Parent: v.Area, Limit: 500})
	if err != nil {
		return nil, err
	}
	rows := make([]AreaResult, 0, len(kids)+1)
	for _, k := range kids {
		rows = append(rows, AreaResult{Code: k.Code, Name: k.Name, path: k.Path})
	}
	if len(rows) == 0 {
		rows = append(rows, AreaResult{Code: v.Area, Name: v.AreaName, path: v.path})
	}
	type count struct {
		path    string
		n       int
		ratings ratingSum
	}
	counts, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (count, error) {
		var c count
		return c, r.Scan(&c.path, &c.n, &c.ratings.n, &c.ratings.sum)
	}, `SELECT r.area_path, COUNT(DISTINCT r.id), COUNT(a.rating), COALESCE(SUM(a.rating), 0)
		FROM assess_responses r LEFT JOIN assess_answers a ON a.response_id = r.id
		WHERE r.survey_id = $1 GROUP BY r.area_path`, v.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		if r := areaOf(rows, c.path); r != nil {
			r.Responses += c.n
			r.ratings.n += c.ratings.n
			r.ratings.sum += c.ratings.sum
		}
	}
	s.eligible(ctx, v, rows)
	for i := range rows {
		r := &rows[i]
		if r.Eligible > 0 {
			r.Rate = float64(r.Responses) / float64(r.Eligible)
		}
		if r.ratings.n > 0 {
			r.Mean = float64(r.ratings.sum) / float64(r.ratings.n)
		}
	}
	return rows, nil
}

// eligible fills in who could answer in each area: its residents, or its
// households for a survey answered once per household. The counts are the
// register's (counts only, no person); a caller who may not count gets
// results without rates rather than none.
func (s *Service) eligible(ctx context.Context, v Survey, rows []AreaResult) {
	if s.reg == nil {
		return
	}
	if v.Per == PerHousehold {
		s.households(ctx, rows)
		return
	}
	counts, err := s.reg.Population(ctx, v.path, "")
	if err != nil {
		return
	}
	for _, c := range counts {
		if r := areaOf(rows, c.GridPath); r != nil {
			r.Eligible += c.Residents
		}
	}
}

// households counts the register's households of each area the caller
// may assess. In a household survey a response is a household's one
// answer, so responses / households is the households' response rate.
func (s *Service) households(ctx context.Context, rows []AreaResult) {
	p := auth.From(ctx)
	for i := range rows {
		if !p.Can(auth.AssessRead, rows[i].path) {
			continue
		}
		if n, err := s.reg.CountHouseholds(ctx, rows[i].path); err == nil {
			rows[i].Eligible = n
		}
	}
}

func areaOf(rows []AreaResult, path string) *AreaResult {
	for i := range rows {
		if strings.HasPrefix(path, rows[i].path) {
			return &rows[i]
		}
	}
	return nil
}

// authSystem is ctx acting as the system, to read the area tree (no
// personal data) whatever the caller's own area grants.
func authSystem(ctx context.Context) context.Context {
	return auth.WithPrincipal(ctx, auth.System())
}
