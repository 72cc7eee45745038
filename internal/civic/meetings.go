package civic

import (
	"context"
	"slices"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// MeetingKinds: 居民会议, 居民代表会议, 议事会.
var MeetingKinds = []string{"residents", "representatives", "council"}

// MeetingInput schedules a meeting with the topics on its agenda.
type MeetingInput struct {
	Community string    `json:"community"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	HeldAt    time.Time `json:"held_at"`
	Place     string    `json:"place"`
	Agenda    string    `json:"agenda"`
	TopicIDs  []int64   `json:"topic_ids"`
}

// ScheduleMeeting records a meeting and moves its topics to scheduled.
func (s *Service) ScheduleMeeting(ctx context.Context, in MeetingInput) (Meeting, error) {
	p, err := auth.Require(ctx, auth.CivicModerate)
	if err != nil {
		return Meeting{}, err
	}
	var v errs.Validation
	v.Check(slices.Contains(MeetingKinds, in.Kind), "kind", "err.civic.meeting_kind", in.Kind)
	text(&v, "title", &in.Title, 100)
	text(&v, "place", &in.Place, 100)
	text(&v, "agenda", &in.Agenda, 5000)
	v.Check(!in.HeldAt.IsZero(), "held_at", "err.civic.required")
	v.Check(len(in.TopicIDs) <= 20, "topic_ids", "err.civic.too_many_rows", 20)
	if err := v.Err(); err != nil {
		return Meeting{}, err
	}
	c, err := s.community(ctx, in.Community)
	if err != nil {
		return Meeting{}, err
	}
	if err := auth.Allowed(p, auth.CivicModerate, c.Path, outOfScope); err != nil {
		return Meeting{}, err
	}
	m := Meeting{Kind: in.Kind, Title: in.Title, HeldAt: in.HeldAt.UTC().Truncate(time.Second), Place: in.Place, Agenda: in.Agenda}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO civic_meetings (area_id, area_path, kind, title, held_at, place, agenda, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, c.ID, c.Path, m.Kind, m.Title, m.HeldAt, m.Place, m.Agenda, s.clock()).Scan(&m.ID); err != nil {
			return err
		}
		for _, id := range in.TopicIDs {
			if err := s.putOnAgenda(ctx, m.ID, id, c.Path); err != nil {
				return err
			}
		}
		return s.record(ctx, "meeting.schedule", "meeting", m.ID, m.Kind)
	})
	return m, err
}

func (s *Service) putOnAgenda(ctx context.Context, meetingID, topicID int64, path string) error {
	t, err := s.topicHead(ctx, topicID)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && t.AreaPath != path) {
		return errs.OnField("topic_ids", "err.civic.topic_unknown", topicID)
	}
	if err != nil {
		return err
	}
	if err := s.move(ctx, t, Scheduled, ""); err != nil {
		return err
	}
	_, err = s.db.Q(ctx).ExecContext(ctx, "INSERT INTO civic_meeting_topics (meeting_id, topic_id) VALUES ($1, $2)", meetingID, topicID)
	return err
}

// RecordMinutes records a meeting's attendance and minutes.
func (s *Service) RecordMinutes(ctx context.Context, meetingID int64, attendance int, minutes string) error {
	p, err := auth.Require(ctx, auth.CivicModerate)
	if err != nil {
		return err
	}
	var v errs.Validation
	v.Check(attendance > 0 && attendance <= 100000, "attendance", "err.civic.attendance")
	text(&v, "minutes", &minutes, 20000)
	if err := v.Err(); err != nil {
		return err
	}
	var path string
	err = s.db.Q(ctx).QueryRowContext(ctx, "SELECT area_path FROM civic_meetings WHERE id = $1", meetingID).Scan(&path)
	if isNoRows(err) {
		return errs.E(errs.NotFound, "err.civic.meeting_not_found", meetingID)
	}
	if err != nil {
		return err
	}
	if err := auth.Allowed(p, auth.CivicModerate, path, outOfScope); err != nil {
		return err
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE civic_meetings SET attendance = $1, minutes = $2 WHERE id = $3",
			attendance, minutes, meetingID); err != nil {
			return err
		}
		return s.record(ctx, "meeting.minutes", "meeting", meetingID, "")
	})
}

// DecisionInput is how a topic was decided: by a meeting it was on, or by
// a closed vote about it.
type DecisionInput struct {
	By        string `json:"by"`
	MeetingID int64  `json:"meeting_id"`
	VoteID    int64  `json:"vote_id"`
	Adopted   bool   `json:"adopted"`
	Summary   string `json:"summary"`
}

// Decide records a topic's decision (民事民决).
func (s *Service) Decide(ctx context.Context, topicID int64, in DecisionInput) error {
	t, _, err := s.staffTopic(ctx, topicID, auth.CivicModerate)
	if err != nil {
		return err
	}
	var v errs.Validation
	v.Check(in.By == "meeting" || in.By == "vote", "by", "err.civic.decided_by")
	text(&v, "summary", &in.Summary, 5000)
	if err := v.Err(); err != nil {
		return err
	}
	var meeting, vote any
	switch in.By {
	case "meeting":
		if err := s.checkOnAgenda(ctx, in.MeetingID, topicID); err != nil {
			return err
		}
		meeting = in.MeetingID
	case "vote":
		vt, err := s.GetVote(ctx, in.VoteID)
		if err != nil || vt.TopicID != topicID {
			return errs.OnField("vote_id", "err.civic.vote_not_for_topic")
		}
		if !vt.Closed {
			return errs.OnField("vote_id", "err.civic.vote_open")
		}
		vote = in.VoteID
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.move(ctx, t, Decided, ""); err != nil {
			return err
		}
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO civic_decisions (topic_id, area_path, by_kind, meeting_id, vote_id, adopted, summary, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, topicID, t.AreaPath, in.By, meeting, vote, in.Adopted, in.Summary, s.clock())
		return err
	})
}

func (s *Service) checkOnAgenda(ctx context.Context, meetingID, topicID int64) error {
	var n int
	if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM civic_meeting_topics WHERE meeting_id = $1 AND topic_id = $2",
		meetingID, topicID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.OnField("meeting_id", "err.civic.not_on_agenda")
	}
	return nil
}

// ReportProgress adds an implementation update (民事民办); 100 % completes
// the topic and opens it for evaluation.
func (s *Service) ReportProgress(ctx context.Context, topicID int64, percent int, note string) error {
	t, p, err := s.staffTopic(ctx, topicID, auth.CivicModerate)
	if err != nil {
		return err
	}
	var v errs.Validation
	v.Check(percent >= 0 && percent <= 100, "percent", "err.civic.percent")
	text(&v, "note", &note, 2000)
	if err := v.Err(); err != nil {
		return err
	}
	to := Implementing
	if percent == 100 {
		to = Completed
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.move(ctx, t, to, ""); err != nil {
			return err
		}
		_, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO civic_progress (topic_id, percent, note, author, at) VALUES ($1, $2, $3, $4, $5)",
			topicID, percent, note, actorName(p), s.clock())
		return err
	})
}

// Evaluate records a resident's rating of a completed topic (民事民评),
// once per account.
func (s *Service) Evaluate(ctx context.Context, topicID int64, rating int, comment string) error {
	var v errs.Validation
	v.Check(rating >= 1 && rating <= 5, "rating", "err.civic.rating")
	optional(&v, "comment", &comment, 1000)
	if err := v.Err(); err != nil {
		return err
	}
	t, err := s.topicHead(ctx, topicID)
	if err != nil {
		return err
	}
	if t.Stage != Completed {
		return errs.E(errs.Conflict, "err.civic.not_completed")
	}
	if _, err := s.resident(ctx, t.AreaPath); err != nil {
		return err
	}
	user := auth.From(ctx).UserID
	return s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, "INSERT INTO civic_evaluations (topic_id, user_id, rating, comment, at) VALUES ($1, $2, $3, $4, $5)",
			topicID, user, rating, comment, s.clock())
		if db.IsUnique(err) {
			return errs.E(errs.Conflict, "err.civic.already_evaluated")
		}
		return err
	})
}
