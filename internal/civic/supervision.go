package civic

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Question is a resident's question on a notice or a topic, with the
// staff's answer.
type Question struct {
	ID         int64     `json:"id"`
	TargetType string    `json:"target_type"`
	TargetID   int64     `json:"target_id"`
	Asker      string    `json:"asker"` // masked: questions are public
	Body       string    `json:"body"`
	AskedAt    time.Time `json:"asked_at"`
	DueAt      time.Time `json:"due_at"`
	Answer     string    `json:"answer,omitempty"`
	Answerer   string    `json:"answerer,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
}

// Opinion is a supervision committee member's opinion on an item.
type Opinion struct {
	Member  string    `json:"member"`
	Stance  string    `json:"stance"` // "agree" or "object"
	Reasons string    `json:"reasons,omitempty"`
	At      time.Time `json:"at"`
}

// target resolves what a question or opinion is about to its community.
func (s *Service) target(ctx context.Context, kind string, id int64) (areaPath string, err error) {
	switch kind {
	case "notice":
		v, err := s.Version(ctx, id)
		if errs.CodeOf(err) == errs.NotFound {
			return "", errs.OnField("target_id", "err.civic.target_unknown")
		}
		return v.AreaPath, err
	case "topic":
		t, err := s.topicHead(ctx, id)
		if errs.CodeOf(err) == errs.NotFound {
			return "", errs.OnField("target_id", "err.civic.target_unknown")
		}
		return t.AreaPath, err
	}
	return "", errs.OnField("target_type", "err.civic.target_type")
}

// Ask records a resident's question; staff must answer it within
// AnswerDays.
func (s *Service) Ask(ctx context.Context, kind string, targetID int64, body string) (Question, error) {
	var v errs.Validation
	text(&v, "body", &body, 1000)
	if err := v.Err(); err != nil {
		return Question{}, err
	}
	path, err := s.target(ctx, kind, targetID)
	if err != nil {
		return Question{}, err
	}
	id, err := s.resident(ctx, path)
	if err != nil {
		return Question{}, err
	}
	user := auth.From(ctx).UserID
	now := s.clock()
	q := Question{TargetType: kind, TargetID: targetID, Asker: maskedName(id.Name), Body: body, AskedAt: now,
		DueAt: now.AddDate(0, 0, s.AnswerDays)}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.rateLimit(ctx, "civic_questions", "user_id", "asked_at", user, max(1, s.CommentBurst/2)); err != nil {
			return err
		}
		return s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO civic_questions (area_id, area_path, target_type, target_id, user_id, asker, body, asked_at, due_at)
			VALUES ((SELECT id FROM areas WHERE path = $1), $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			path, kind, targetID, user, q.Asker, body, now, q.DueAt).Scan(&q.ID)
	})
	return q, err
}

// Answer records the staff's answer to a question.
func (s *Service) Answer(ctx context.Context, questionID int64, answer string) error {
	p, err := auth.Require(ctx, auth.CivicPublish)
	if err != nil {
		return err
	}
	var v errs.Validation
	text(&v, "answer", &answer, 2000)
	if err := v.Err(); err != nil {
		return err
	}
	var path string
	var answered *time.Time
	err = s.db.Q(ctx).QueryRowContext(ctx, "SELECT area_path, answered_at FROM civic_questions WHERE id = $1", questionID).Scan(&path, &answered)
	if isNoRows(err) {
		return errs.E(errs.NotFound, "err.civic.question_not_found", questionID)
	}
	if err != nil {
		return err
	}
	if err := auth.Allowed(p, auth.CivicPublish, path, outOfScope); err != nil {
		return err
	}
	if answered != nil {
		return errs.E(errs.Conflict, "err.civic.already_answered")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE civic_questions SET answer = $1, answerer = $2, answered_at = $3 WHERE id = $4 AND answered_at IS NULL",
			answer, actorName(p), s.clock(), questionID); err != nil {
			return err
		}
		return s.record(ctx, "question.answer", "question", questionID, "")
	})
}

const questionCols = "SELECT id, target_type, target_id, asker, body, asked_at, due_at, answer, answerer, answered_at FROM civic_questions "

func scanQuestion(r db.Scanner) (Question, error) {
	var q Question
	var at *time.Time
	err := r.Scan(&q.ID, &q.TargetType, &q.TargetID, &q.Asker, &q.Body, &q.AskedAt, &q.DueAt, &q.Answer, &q.Answerer, &at)
	if at != nil {
		q.AnsweredAt = *at
	}
	return q, err
}

// Questions lists the questions on an item, oldest first. Public.
func (s *Service) Questions(ctx context.Context, kind string, targetID int64) ([]Question, error) {
	return db.All(ctx, s.db.Q(ctx), scanQuestion, questionCols+"WHERE target_type = $1 AND target_id = $2 ORDER BY id", kind, targetID)
}

// Unanswered lists the questions still waiting for an answer in the
// caller's communities, the longest-waiting first.
func (s *Service) Unanswered(ctx context.Context) ([]Question, error) {
	p, err := auth.Require(ctx, auth.CivicRead)
	if err != nil {
		return nil, err
	}
	cond, args := pathFilter(p, auth.CivicRead, "area_path", 1)
	return db.All(ctx, s.db.Q(ctx), scanQuestion, questionCols+"WHERE answered_at IS NULL AND "+cond+" ORDER BY due_at LIMIT 200", args...)
}

// UnansweredOverdue counts the questions of the communities under path
// left unanswered past their deadline at asOf: what the scorecard counts
// against a community.
func (s *Service) UnansweredOverdue(ctx context.Context, path string, asOf time.Time) (int, error) {
	p, err := auth.Require(ctx, auth.CivicRead)
	if err != nil {
		return 0, err
	}
	if err := auth.Allowed(p, auth.CivicRead, path, outOfScope); err != nil {
		return 0, err
	}
	var n int
	err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM civic_questions WHERE area_path >= $1 AND area_path < $2
		AND answered_at IS NULL AND due_at < $3`, path, auth.PathEnd(path), asOf.UTC()).Scan(&n)
	return n, err
}

// Stances of an opinion.
const (
	Agree  = "agree"
	Object = "object"
)

// Opine records a supervision committee member's opinion on a notice
// version or a topic, once per member and item. An objection needs its
// reasons.
func (s *Service) Opine(ctx context.Context, kind string, targetID int64, stance, reasons string) error {
	p, err := auth.Require(ctx, auth.CivicOversee)
	if err != nil {
		return err
	}
	var v errs.Validation
	v.Check(stance == Agree || stance == Object, "stance", "err.civic.stance")
	if stance == Object {
		text(&v, "reasons", &reasons, 2000)
	} else {
		optional(&v, "reasons", &reasons, 2000)
	}
	if err := v.Err(); err != nil {
		return err
	}
	path, err := s.target(ctx, kind, targetID)
	if err != nil {
		return err
	}
	if err := auth.Allowed(p, auth.CivicOversee, path, outOfScope); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO civic_opinions (area_path, target_type, target_id, user_id, member, stance, reasons, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, path, kind, targetID, p.UserID, actorName(p), stance, reasons, s.clock())
		if db.IsUnique(err) {
			return errs.E(errs.Conflict, "err.civic.already_opined")
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "opinion", kind, targetID, stance)
	})
}

// Opinions lists the committee's opinions on an item. Public.
func (s *Service) Opinions(ctx context.Context, kind string, targetID int64) ([]Opinion, error) {
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Opinion, error) {
		var o Opinion
		return o, r.Scan(&o.Member, &o.Stance, &o.Reasons, &o.At)
	}, "SELECT member, stance, reasons, at FROM civic_opinions WHERE target_type = $1 AND target_id = $2 ORDER BY at", kind, targetID)
}

// maskedName is how a resident asking a question is shown publicly.
func maskedName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	return string(r[0]) + "**"
}
