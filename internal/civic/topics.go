package civic

import (
	"context"
	"slices"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Stages of a topic (提 → 议 → 决 → 办 → 评).
const (
	Proposed     = "proposed"     // 民事民提: waiting for staff to take it up
	Discussing   = "discussing"   // 民事民议: open for support and comments
	Scheduled    = "scheduled"    // on a meeting's agenda
	Decided      = "decided"      // 民事民决: by a meeting or a vote
	Implementing = "implementing" // 民事民办: progress reported
	Completed    = "completed"    // done; residents evaluate (民事民评)
	Rejected     = "rejected"     // not taken up, with the reason
)

// transitions is the topic state machine: from a stage, the stages it may
// move to. Every move goes through move, which checks this table.
var transitions = map[string][]string{
	Proposed:     {Discussing, Rejected},
	Discussing:   {Scheduled, Decided, Rejected},
	Scheduled:    {Decided, Scheduled},
	Decided:      {Implementing, Completed},
	Implementing: {Implementing, Completed},
}

// Topic is a matter for deliberation with everything that happened to it.
type Topic struct {
	ID         int64        `json:"id"`
	Community  string       `json:"community"`
	AreaPath   string       `json:"-"`
	Title      string       `json:"title"`
	Body       string       `json:"body"`
	Stage      string       `json:"stage"`
	StageNote  string       `json:"stage_note,omitempty"`
	Proposer   string       `json:"proposer"`
	ByStaff    bool         `json:"by_staff"`
	CreatedAt  time.Time    `json:"created_at"`
	Supports   int          `json:"supports"`
	Comments   []Comment    `json:"comments"`
	Meetings   []Meeting    `json:"meetings"`
	Decision   *Decision    `json:"decision,omitempty"`
	Progress   []Progress   `json:"progress"`
	Rating     float64      `json:"rating"`
	Ratings    int          `json:"ratings"`
	Evaluation []Evaluation `json:"evaluations"`
}

// Comment is a resident's or staff's word on a topic.
type Comment struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	Hidden    bool      `json:"hidden"`
	Reason    string    `json:"hidden_reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Meeting is a residents' meeting, representatives' meeting or 议事会.
type Meeting struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Title      string    `json:"title"`
	HeldAt     time.Time `json:"held_at"`
	Place      string    `json:"place"`
	Agenda     string    `json:"agenda"`
	Attendance int       `json:"attendance"`
	Minutes    string    `json:"minutes"`
}

// Decision is how a topic was decided.
type Decision struct {
	By        string    `json:"by"` // "meeting" or "vote"
	MeetingID int64     `json:"meeting_id,omitempty"`
	VoteID    int64     `json:"vote_id,omitempty"`
	Adopted   bool      `json:"adopted"`
	Summary   string    `json:"summary"`
	DecidedAt time.Time `json:"decided_at"`
}

// Progress is an implementation update.
type Progress struct {
	Percent int       `json:"percent"`
	Note    string    `json:"note"`
	Author  string    `json:"author"`
	At      time.Time `json:"at"`
}

// Evaluation is a resident's rating of the result (1–5).
type Evaluation struct {
	Rating  int       `json:"rating"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// TopicInput is a proposal.
type TopicInput struct {
	Community string `json:"community"`
	Title     string `json:"title"`
	Body      string `json:"body"`
}

// Propose records a topic: by a resident of the community (at most
// CommentBurst/2 per window), or by staff who moderate it, whose topics
// start open for discussion.
func (s *Service) Propose(ctx context.Context, in TopicInput) (Topic, error) {
	p := auth.From(ctx)
	if p == nil {
		return Topic{}, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	var v errs.Validation
	text(&v, "title", &in.Title, 100)
	text(&v, "body", &in.Body, 5000)
	if err := v.Err(); err != nil {
		return Topic{}, err
	}
	c, err := s.community(ctx, in.Community)
	if err != nil {
		return Topic{}, err
	}
	t := Topic{Community: c.Code, AreaPath: c.Path, Title: in.Title, Body: in.Body, Stage: Proposed, Proposer: actorName(p)}
	if p.Can(auth.CivicModerate, c.Path) {
		t.ByStaff, t.Stage = true, Discussing
	} else {
		id, err := s.resident(ctx, c.Path)
		if err != nil {
			return Topic{}, err
		}
		t.Proposer = id.Name
	}
	t.CreatedAt = s.clock()
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.rateLimit(ctx, "civic_topics", "proposer_id", "created_at", p.UserID, max(1, s.CommentBurst/2)); err != nil && !t.ByStaff {
			return err
		}
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO civic_topics (area_id, area_path, community, title, body, stage, proposer_id,
			proposer_name, by_staff, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
			c.ID, c.Path, c.Code, t.Title, t.Body, t.Stage, p.UserID, t.Proposer, t.ByStaff, t.CreatedAt).Scan(&t.ID); err != nil {
			return err
		}
		return s.record(ctx, "topic.propose", "topic", t.ID, t.Stage)
	})
	return t, err
}

// topicHead reads a topic's own row.
func (s *Service) topicHead(ctx context.Context, id int64) (Topic, error) {
	var t Topic
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, community, area_path, title, body, stage, stage_note, proposer_name, by_staff, created_at
		FROM civic_topics WHERE id = $1`, id).Scan(&t.ID, &t.Community, &t.AreaPath, &t.Title, &t.Body, &t.Stage, &t.StageNote,
		&t.Proposer, &t.ByStaff, &t.CreatedAt)
	if isNoRows(err) {
		return Topic{}, errs.E(errs.NotFound, "err.civic.topic_not_found", id)
	}
	return t, err
}

// GetTopic returns a topic with every stage's record. Public: 议事 is open.
func (s *Service) GetTopic(ctx context.Context, id int64) (Topic, error) {
	t, err := s.topicHead(ctx, id)
	if err != nil {
		return Topic{}, err
	}
	q := s.db.Q(ctx)
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM civic_supports WHERE topic_id = $1", id).Scan(&t.Supports); err != nil {
		return Topic{}, err
	}
	if t.Comments, err = db.All(ctx, q, scanComment, "SELECT id, author, body, hidden, hidden_reason, created_at FROM civic_comments WHERE topic_id = $1 ORDER BY id", id); err != nil {
		return Topic{}, err
	}
	if t.Meetings, err = db.All(ctx, q, scanMeeting, meetingCols+"JOIN civic_meeting_topics mt ON mt.meeting_id = m.id WHERE mt.topic_id = $1 ORDER BY m.held_at", id); err != nil {
		return Topic{}, err
	}
	if t.Decision, err = s.decision(ctx, id); err != nil {
		return Topic{}, err
	}
	if t.Progress, err = db.All(ctx, q, func(r db.Scanner) (Progress, error) {
		var p Progress
		return p, r.Scan(&p.Percent, &p.Note, &p.Author, &p.At)
	}, "SELECT percent, note, author, at FROM civic_progress WHERE topic_id = $1 ORDER BY id", id); err != nil {
		return Topic{}, err
	}
	if t.Evaluation, err = db.All(ctx, q, func(r db.Scanner) (Evaluation, error) {
		var e Evaluation
		return e, r.Scan(&e.Rating, &e.Comment, &e.At)
	}, "SELECT rating, comment, at FROM civic_evaluations WHERE topic_id = $1 ORDER BY at", id); err != nil {
		return Topic{}, err
	}
	for _, e := range t.Evaluation {
		t.Rating += float64(e.Rating)
	}
	if t.Ratings = len(t.Evaluation); t.Ratings > 0 {
		t.Rating /= float64(t.Ratings)
	}
	return t, nil
}

func scanComment(r db.Scanner) (Comment, error) {
	var c Comment
	return c, r.Scan(&c.ID, &c.Author, &c.Body, &c.Hidden, &c.Reason, &c.CreatedAt)
}

const meetingCols = "SELECT m.id, m.kind, m.title, m.held_at, m.place, m.agenda, m.attendance, m.minutes FROM civic_meetings m "

func scanMeeting(r db.Scanner) (Meeting, error) {
	var m Meeting
	return m, r.Scan(&m.ID, &m.Kind, &m.Title, &m.HeldAt, &m.Place, &m.Agenda, &m.Attendance, &m.Minutes)
}

func (s *Service) decision(ctx context.Context, topicID int64) (*Decision, error) {
	var d Decision
	var meeting, vote *int64
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT by_kind, meeting_id, vote_id, adopted, summary, decided_at FROM civic_decisions WHERE topic_id = $1",
		topicID).Scan(&d.By, &meeting, &vote, &d.Adopted, &d.Summary, &d.DecidedAt)
	if isNoRows(err) {
		return nil, nil
	}
	if meeting != nil {
		d.MeetingID = *meeting
	}
	if vote != nil {
		d.VoteID = *vote
	}
	return &d, err
}

// Topics lists a community's topics, newest first. Public.
func (s *Service) Topics(ctx context.Context, code string) ([]Topic, error) {
	c, err := s.community(ctx, code)
	if err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Topic, error) {
		var t Topic
		return t, r.Scan(&t.ID, &t.Community, &t.Title, &t.Stage, &t.Proposer, &t.CreatedAt, &t.Supports)
	}, `SELECT t.id, t.community, t.title, t.stage, t.proposer_name, t.created_at,
		(SELECT COUNT(*) FROM civic_supports s WHERE s.topic_id = t.id) FROM civic_topics t
		WHERE t.area_id = $1 ORDER BY t.created_at DESC, t.id DESC LIMIT 100`, c.ID)
}

// move changes a topic's stage if the state machine allows it.
func (s *Service) move(ctx context.Context, t Topic, to, note string) error {
	if !slices.Contains(transitions[t.Stage], to) {
		return errs.E(errs.Conflict, "err.civic.stage", t.Stage, to)
	}
	if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE civic_topics SET stage = $1, stage_note = $2, updated_at = $3 WHERE id = $4",
		to, note, s.clock(), t.ID); err != nil {
		return err
	}
	return s.record(ctx, "topic.stage", "topic", t.ID, t.Stage+"→"+to)
}

// staffTopic loads a topic for a staff action needing perm.
func (s *Service) staffTopic(ctx context.Context, id int64, perm auth.Perm) (Topic, *auth.Principal, error) {
	p, err := auth.Require(ctx, perm)
	if err != nil {
		return Topic{}, nil, err
	}
	t, err := s.topicHead(ctx, id)
	if err != nil {
		return Topic{}, nil, err
	}
	return t, p, auth.Allowed(p, perm, t.AreaPath, outOfScope)
}

// Moderate takes a proposed topic up for discussion or rejects it with a
// reason that is shown on the topic.
func (s *Service) Moderate(ctx context.Context, id int64, accept bool, reason string) error {
	t, _, err := s.staffTopic(ctx, id, auth.CivicModerate)
	if err != nil {
		return err
	}
	var v errs.Validation
	if !accept {
		text(&v, "reason", &reason, 500)
	}
	if err := v.Err(); err != nil {
		return err
	}
	to := Discussing
	if !accept {
		to = Rejected
	}
	return s.db.Write(ctx, func(ctx context.Context) error { return s.move(ctx, t, to, reason) })
}

// openTopic loads a topic that residents of its community may act on.
func (s *Service) openTopic(ctx context.Context, id int64) (Topic, error) {
	t, err := s.topicHead(ctx, id)
	if err != nil {
		return Topic{}, err
	}
	if t.Stage == Proposed || t.Stage == Rejected {
		return Topic{}, errs.E(errs.Conflict, "err.civic.not_open")
	}
	return t, nil
}

// participant is the caller acting on a topic: staff of the community, or
// one of its residents (named as in the register).
func (s *Service) participant(ctx context.Context, t Topic) (int64, string, error) {
	p := auth.From(ctx)
	if p == nil {
		return 0, "", errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if p.Can(auth.CivicModerate, t.AreaPath) {
		return p.UserID, actorName(p), nil
	}
	id, err := s.resident(ctx, t.AreaPath)
	return p.UserID, id.Name, err
}

// Support adds the caller's support to a topic; supporting twice is a
// no-op answered as a conflict.
func (s *Service) Support(ctx context.Context, id int64) error {
	t, err := s.openTopic(ctx, id)
	if err != nil {
		return err
	}
	user, _, err := s.participant(ctx, t)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO civic_supports (topic_id, user_id, at) VALUES ($1, $2, $3)", id, user, s.clock())
		if db.IsUnique(err) {
			return errs.E(errs.Conflict, "err.civic.already_supported")
		}
		return err
	})
}

// AddComment adds a comment, at most CommentBurst per RateWindow per
// account. The text is stored as typed and escaped where shown.
func (s *Service) AddComment(ctx context.Context, id int64, body string) (Comment, error) {
	var v errs.Validation
	text(&v, "body", &body, 2000)
	if err := v.Err(); err != nil {
		return Comment{}, err
	}
	t, err := s.openTopic(ctx, id)
	if err != nil {
		return Comment{}, err
	}
	user, name, err := s.participant(ctx, t)
	if err != nil {
		return Comment{}, err
	}
	c := Comment{Author: name, Body: body, CreatedAt: s.clock()}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.rateLimit(ctx, "civic_comments", "user_id", "created_at", user, s.CommentBurst); err != nil {
			return err
		}
		return s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO civic_comments (topic_id, user_id, author, body, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, id, user, name, body, c.CreatedAt).Scan(&c.ID)
	})
	return c, err
}

// HideComment hides a comment with a reason (moderation); the reason
// shows in its place.
func (s *Service) HideComment(ctx context.Context, commentID int64, reason string) error {
	var v errs.Validation
	text(&v, "reason", &reason, 200)
	if err := v.Err(); err != nil {
		return err
	}
	var topicID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT topic_id FROM civic_comments WHERE id = $1", commentID).Scan(&topicID)
	if isNoRows(err) {
		return errs.E(errs.NotFound, "err.civic.comment_not_found", commentID)
	}
	if err != nil {
		return err
	}
	if _, _, err := s.staffTopic(ctx, topicID, auth.CivicModerate); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE civic_comments SET hidden = TRUE, hidden_reason = $1 WHERE id = $2", reason, commentID); err != nil {
			return err
		}
		return s.record(ctx, "comment.hide", "comment", commentID, "")
	})
}
