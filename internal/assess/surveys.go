package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/registry"
)

// QuestionKind is how a question is answered.
type QuestionKind string

const (
	Single   QuestionKind = "single"   // one option
	Multiple QuestionKind = "multiple" // any options, at least one
	Rating   QuestionKind = "rating"   // 1 (very dissatisfied) to 5 (very satisfied)
	Text     QuestionKind = "text"
)

// QuestionKinds lists the kinds in the order forms offer them.
var QuestionKinds = []QuestionKind{Single, Multiple, Rating, Text}

// Per is who answers once: each resident, or each household.
type Per string

const (
	PerResident  Per = "resident"
	PerHousehold Per = "household"
)

// Question is one question of a survey.
type Question struct {
	ID       int64        `json:"id"`
	Kind     QuestionKind `json:"kind"`
	Prompt   string       `json:"prompt"`
	Options  []string     `json:"options,omitempty"`
	Required bool         `json:"required"`
}

// Survey is a resident satisfaction survey (满意度测评).
type Survey struct {
	ID        int64      `json:"id"`
	Area      string     `json:"area"`
	AreaName  string     `json:"area_name"`
	Title     string     `json:"title"`
	Per       Per        `json:"per"`
	Anonymous bool       `json:"anonymous"`
	OpensAt   time.Time  `json:"opens_at"`
	ClosesAt  time.Time  `json:"closes_at"` // exclusive
	Questions []Question `json:"questions,omitempty"`
	path      string
}

// Open reports whether the survey takes answers at t.
func (v Survey) Open(t time.Time) bool { return !t.Before(v.OpensAt) && t.Before(v.ClosesAt) }

// QuestionInput is a question as a form gives it.
type QuestionInput struct {
	Kind     QuestionKind `json:"kind"`
	Prompt   string       `json:"prompt"`
	Options  []string     `json:"options"`
	Optional bool         `json:"optional"`
}

// SurveyInput creates a survey. Opens and Closes are days, inclusive.
type SurveyInput struct {
	Area      string          `json:"area"`
	Title     string          `json:"title"`
	Per       Per             `json:"per"`
	Anonymous bool            `json:"anonymous"`
	Opens     string          `json:"opens"`
	Closes    string          `json:"closes"`
	Questions []QuestionInput `json:"questions"`
}

const maxQuestions = 50

func (in *SurveyInput) validate(v *errs.Validation) (opens, closes time.Time) {
	text(v, "title", &in.Title, 200)
	v.Check(in.Per == PerResident || in.Per == PerHousehold, "per", "err.assess.per")
	opens, closes = parseDay(v, "opens", in.Opens), parseDay(v, "closes", in.Closes)
	v.Check(!closes.Before(opens), "closes", "err.assess.to_before_from")
	v.Check(len(in.Questions) > 0 && len(in.Questions) <= maxQuestions, "questions", "err.assess.questions", maxQuestions)
	for i := range in.Questions {
		in.Questions[i].validate(v, fmt.Sprintf("questions[%d]", i))
	}
	return opens, closes.AddDate(0, 0, 1)
}

func (q *QuestionInput) validate(v *errs.Validation, field string) {
	v.Check(slices.Contains(QuestionKinds, q.Kind), field+".kind", "err.assess.question_kind")
	text(v, field+".prompt", &q.Prompt, 500)
	choice := q.Kind == Single || q.Kind == Multiple
	if !choice {
		v.Check(len(q.Options) == 0, field+".options", "err.assess.no_options")
		return
	}
	v.Check(len(q.Options) >= 2 && len(q.Options) <= 20, field+".options", "err.assess.options")
	for i := range q.Options {
		text(v, fmt.Sprintf("%s.options[%d]", field, i), &q.Options[i], 200)
	}
}

// CreateSurvey creates a survey of an area's residents. Errors: Invalid,
// Forbidden.
func (s *Service) CreateSurvey(ctx context.Context, in SurveyInput) (Survey, error) {
	if _, err := auth.Require(ctx, auth.AssessSurvey); err != nil {
		return Survey{}, err
	}
	var v errs.Validation
	opens, closes := in.validate(&v)
	if err := v.Err(); err != nil {
		return Survey{}, err
	}
	a, err := s.areaAt(ctx, in.Area, "area", auth.AssessSurvey, area.Street, area.Community, area.Grid)
	if err != nil {
		return Survey{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO assess_surveys (area_id, area_path, title, per, anonymous, opens_at, closes_at, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			a.ID, a.Path, in.Title, in.Per, in.Anonymous, opens.UTC(), closes.UTC(), actorID(ctx), s.now().UTC()).Scan(&id)
		if err != nil {
			return err
		}
		for i, q := range in.Questions {
			opts, _ := json.Marshal(q.Options)
			if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO assess_questions (survey_id, seq, kind, prompt, options, required)
				VALUES ($1, $2, $3, $4, $5, $6)`, id, i+1, q.Kind, q.Prompt, string(opts), !q.Optional); err != nil {
				return err
			}
		}
		return s.record(ctx, "assess.survey.create", "assess_survey", id, in.Title)
	})
	if err != nil {
		return Survey{}, errs.Wrap(err, "err.internal")
	}
	return s.survey(ctx, id)
}

const surveyCols = `SELECT v.id, a.code, a.name, v.title, v.per, v.anonymous, v.opens_at, v.closes_at, v.area_path
	FROM assess_surveys v JOIN areas a ON a.id = v.area_id `

func scanSurvey(r db.Scanner) (Survey, error) {
	var v Survey
	err := r.Scan(&v.ID, &v.Area, &v.AreaName, &v.Title, &v.Per, &v.Anonymous, &v.OpensAt, &v.ClosesAt, &v.path)
	return v, err
}

// survey reads a survey with its questions, unchecked.
func (s *Service) survey(ctx context.Context, id int64) (Survey, error) {
	v, err := scanSurvey(s.db.Q(ctx).QueryRowContext(ctx, surveyCols+"WHERE v.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Survey{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	if err != nil {
		return Survey{}, err
	}
	v.Questions, err = db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Question, error) {
		var q Question
		var opts string
		err := r.Scan(&q.ID, &q.Kind, &q.Prompt, &opts, &q.Required)
		if err == nil {
			err = json.Unmarshal([]byte(opts), &q.Options)
		}
		return q, err
	}, `SELECT id, kind, prompt, options, required FROM assess_questions WHERE survey_id = $1 ORDER BY seq`, id)
	return v, err
}

// Survey returns a survey to staff who may read its area, or to a resident
// it targets.
func (s *Service) Survey(ctx context.Context, id int64) (Survey, error) {
	p := auth.From(ctx)
	if p == nil {
		return Survey{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	v, err := s.survey(ctx, id)
	if err != nil {
		return Survey{}, err
	}
	if relatedTo(p, v.path, auth.AssessRead) {
		return v, nil
	}
	if id, err := s.reg.IdentityOf(ctx, p.UserID); err == nil && strings.HasPrefix(id.AreaPath, v.path) {
		return v, nil
	}
	return Survey{}, errs.E(errs.NotFound, "err.assess.not_found")
}

// relatedTo reports whether the area at path lies inside or above one of
// the grants that give perm.
func relatedTo(p *auth.Principal, path string, perm auth.Perm) bool {
	for _, g := range p.Grants {
		if grantGives(p, g, perm) && (g.AreaID == 0 || strings.HasPrefix(path, g.AreaPath) || strings.HasPrefix(g.AreaPath, path)) {
			return true
		}
	}
	return false
}

// Surveys lists the surveys that concern the caller's areas, newest first.
func (s *Service) Surveys(ctx context.Context) ([]Survey, error) {
	p, err := auth.Require(ctx, auth.AssessRead)
	if err != nil {
		return nil, err
	}
	cond, args := relatedFilter(p, "v.area_path", 1, auth.AssessRead)
	return db.All(ctx, s.db.Q(ctx), scanSurvey, surveyCols+"WHERE "+cond+" ORDER BY v.opens_at DESC, v.id DESC LIMIT 200", args...)
}

// concerning keeps the surveys whose residents include some of the area
// with code: the scorecard's drill-down from a community's survey figure.
func (s *Service) concerning(ctx context.Context, vs []Survey, code string) ([]Survey, error) {
	a, err := s.areas.Get(authSystem(ctx), code)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(vs, func(v Survey) bool {
		return !strings.HasPrefix(a.Path, v.path) && !strings.HasPrefix(v.path, a.Path)
	}), nil
}

// OpenSurveys lists the surveys open now for the logged-in resident: those
// of an area that holds their grid.
func (s *Service) OpenSurveys(ctx context.Context) ([]Survey, error) {
	id, err := s.identity(ctx)
	if err != nil {
		return nil, err
	}
	up := append(ancestors(id.AreaPath), id.AreaPath)
	args := []any{s.now().UTC()}
	var in []string
	for _, p := range up {
		args = append(args, p)
		in = append(in, "$"+strconv.Itoa(len(args)))
	}
	return db.All(ctx, s.db.Q(ctx), scanSurvey, surveyCols+"WHERE v.opens_at <= $1 AND v.closes_at > $1 AND v.area_path IN ("+
		strings.Join(in, ", ")+") ORDER BY v.closes_at", args...)
}

// identity is the logged-in resident's entry in the register.
func (s *Service) identity(ctx context.Context) (registry.Identity, error) {
	p := auth.From(ctx)
	if p == nil {
		return registry.Identity{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	id, err := s.reg.IdentityOf(ctx, p.UserID)
	if errs.CodeOf(err) == errs.NotFound {
		return registry.Identity{}, errs.E(errs.Forbidden, "err.assess.not_linked")
	}
	return id, err
}

// AnswerInput answers one question.
type AnswerInput struct {
	Question int64  `json:"question"`
	Choices  []int  `json:"choices"` // option indexes, from 0
	Rating   int    `json:"rating"`
	Text     string `json:"text"`
}

// respondent is who answers, as the store keeps them.
type respondent struct {
	voter      string // the key of assess_voters
	residentID int64  // 0 when anonymous or unknown
	areaPath   string // the respondent's grid
	channel    string
}

// Answer records the logged-in resident's answers: once per resident or
// household, in a survey that targets their area and is open. Errors:
// Invalid (answers), NotFound, Forbidden (not linked to the register),
// Conflict (answered already; the database refuses a second answer even
// when both arrive at once).
func (s *Service) Answer(ctx context.Context, surveyID int64, answers []AnswerInput) error {
	id, err := s.identity(ctx)
	if err != nil {
		return err
	}
	v, err := s.survey(ctx, surveyID)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(id.AreaPath, v.path) {
		return errs.E(errs.NotFound, "err.assess.not_found")
	}
	voter := "r" + strconv.FormatInt(id.ResidentID, 10)
	if v.Per == PerHousehold && id.HouseholdID != 0 {
		voter = "h" + strconv.FormatInt(id.HouseholdID, 10)
	}
	return s.respond(ctx, v, respondent{voter: voter, residentID: id.ResidentID, areaPath: id.AreaPath, channel: "online"}, answers)
}

// PaperInput is a paper sheet staff enter: it names the resident of the
// register who answered, or only the sheet's number and the grid.
type PaperInput struct {
	Resident int64         `json:"resident"`
	Sheet    string        `json:"sheet"`
	Grid     string        `json:"grid"`
	Answers  []AnswerInput `json:"answers"`
}

// EnterPaper records a paper sheet. A sheet naming a resident counts as
// their (or their household's) one answer; an unnamed one is kept once per
// sheet number. Errors as Answer's, and Forbidden for staff outside the
// survey's area.
func (s *Service) EnterPaper(ctx context.Context, surveyID int64, in PaperInput) error {
	p, err := auth.Require(ctx, auth.AssessSurvey)
	if err != nil {
		return err
	}
	v, err := s.survey(ctx, surveyID)
	if err != nil {
		return err
	}
	if err := auth.Allowed(p, auth.AssessSurvey, v.path, "err.assess.out_of_scope"); err != nil {
		return err
	}
	who, err := s.paperRespondent(ctx, v, in)
	if err != nil {
		return err
	}
	return s.respond(ctx, v, who, in.Answers)
}

func (s *Service) paperRespondent(ctx context.Context, v Survey, in PaperInput) (respondent, error) {
	if in.Resident != 0 {
		r, err := s.reg.Resident(ctx, in.Resident)
		if err != nil || !strings.HasPrefix(r.AreaPath, v.path) {
			return respondent{}, errs.OnField("resident", "err.assess.resident_unknown")
		}
		voter := "r" + strconv.FormatInt(r.ID, 10)
		if v.Per == PerHousehold && r.HouseholdID != 0 {
			voter = "h" + strconv.FormatInt(r.HouseholdID, 10)
		}
		return respondent{voter: voter, residentID: r.ID, areaPath: r.AreaPath, channel: "paper"}, nil
	}
	var val errs.Validation
	text(&val, "sheet", &in.Sheet, 40)
	if err := val.Err(); err != nil {
		return respondent{}, err
	}
	g, err := s.areaAt(ctx, in.Grid, "grid", auth.AssessSurvey, area.Grid, area.Community)
	if err != nil {
		return respondent{}, err
	}
	if !strings.HasPrefix(g.Path, v.path) {
		return respondent{}, errs.OnField("grid", "err.assess.grid_outside")
	}
	return respondent{voter: "p" + in.Sheet, areaPath: g.Path, channel: "paper"}, nil
}

// respond checks the answers and stores them with the voter, in one
// transaction: the voter's primary key is the one arbiter of "once".
func (s *Service) respond(ctx context.Context, v Survey, who respondent, answers []AnswerInput) error {
	now := s.now()
	if !v.Open(now) {
		return errs.E(errs.Conflict, "err.assess.survey_closed")
	}
	if err := checkAnswers(v.Questions, answers); err != nil {
		return err
	}
	if v.Anonymous {
		// A keyed hash: the same voter always gives the same key, so a
		// second answer is still refused, but the key names nobody.
		who.voter, who.residentID = s.box.Index("assess.voter", fmt.Sprintf("%d/%s", v.ID, who.voter)), 0
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO assess_voters (survey_id, voter) VALUES ($1, $2)`, v.ID, who.voter)
		if db.IsUnique(err) {
			return errs.E(errs.Conflict, "err.assess.already_answered")
		}
		if err != nil {
			return err
		}
		var rid int64
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO assess_responses (survey_id, area_path, resident_id, channel, day)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, v.ID, who.areaPath, nullID(who.residentID), who.channel, day(now)).Scan(&rid); err != nil {
			return err
		}
		for _, a := range answers {
			if err := s.insertAnswer(ctx, rid, a); err != nil {
				return err
			}
		}
		// The audit row names the survey only, never the response: a
		// response id next to the actor would undo an anonymous survey's
		// anonymity, and so would the actor next to the order of the rows.
		e := audit.Entry{Action: "assess.survey.answer." + who.channel, TargetType: "assess_survey", TargetID: strconv.FormatInt(v.ID, 10)}
		if v.Anonymous {
			e.Actor = &audit.Actor{Name: "anonymous"}
		}
		return s.audit.Record(ctx, e)
	})
}

func (s *Service) insertAnswer(ctx context.Context, responseID int64, a AnswerInput) error {
	choices, _ := json.Marshal(a.Choices)
	if a.Choices == nil {
		choices = []byte("[]")
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO assess_answers (response_id, question_id, choices, rating, body) VALUES ($1, $2, $3, $4, $5)`,
		responseID, a.Question, string(choices), nullID(int64(a.Rating)), a.Text)
	return err
}

// checkAnswers checks answers against the questions: each question at
// most once, each required one answered, every value in range.
func checkAnswers(qs []Question, answers []AnswerInput) error {
	var v errs.Validation
	seen := map[int64]bool{}
	for i, a := range answers {
		field := fmt.Sprintf("answers[%d]", i)
		j := slices.IndexFunc(qs, func(q Question) bool { return q.ID == a.Question })
		if j < 0 || seen[a.Question] {
			v.Add(field, "err.assess.question_unknown")
			continue
		}
		seen[a.Question] = true
		checkAnswer(&v, field, qs[j], &answers[i])
	}
	for _, q := range qs {
		v.Check(!q.Required || seen[q.ID], fmt.Sprintf("question_%d", q.ID), "err.assess.answer_required", q.Prompt)
	}
	return v.Err()
}

func checkAnswer(v *errs.Validation, field string, q Question, a *AnswerInput) {
	switch q.Kind {
	case Single, Multiple:
		ok := len(a.Choices) > 0 && (q.Kind == Multiple || len(a.Choices) == 1)
		for k, c := range a.Choices {
			ok = ok && c >= 0 && c < len(q.Options) && !slices.Contains(a.Choices[:k], c)
		}
		v.Check(ok, field, "err.assess.choice")
		a.Rating, a.Text = 0, ""
	case Rating:
		v.Check(a.Rating >= 1 && a.Rating <= 5, field, "err.assess.rating")
		a.Choices, a.Text = nil, ""
	case Text:
		optional(v, field, &a.Text, 2000)
		v.Check(!q.Required || a.Text != "", field, "err.assess.required")
		a.Choices, a.Rating = nil, 0
	}
}

func nullID(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}
