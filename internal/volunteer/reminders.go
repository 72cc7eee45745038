package volunteer

import (
	"context"
	"fmt"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/notify"
)

// Reminders (活动提醒) and cancellation notices go to the in-app inbox of
// the account behind a sign-up: the one that signed up, or for older
// sign-ups the volunteer's. A volunteer registered at the desk without an
// account has no inbox and is told by the organiser as before.
//
// Each message is sent at most once per sign-up and kind, whatever runs
// it and however often: the sender inserts a row keyed by (sign-up, kind)
// into volunteer_signup_notices in the transaction that fills the inbox,
// and sends only when that insert added the row. On PostgreSQL a second
// node's insert waits for the first one's commit and then adds nothing.

// ReminderLead is how long before an activity starts its participants are
// reminded of it.
const ReminderLead = 24 * time.Hour

// ReminderSweep is how often the reminder job looks for sign-ups whose
// reminder is due: a reminder goes out at most this long after the lead.
const ReminderSweep = 10 * time.Minute

// reminderBatch bounds one sweep, so that the job holds the writer
// briefly; the rest wait for the next sweep.
const reminderBatch = 500

// participating is the condition of a sign-up that takes part: confirmed
// by the organiser, or signed up to a residents' event, which needs no
// confirmation (as at check-in).
const participating = `(g.status = 'confirmed' OR (g.status = 'signed' AND x.audience = 'residents'))`

// noticeFrom selects what a notice about a sign-up needs.
const noticeFrom = `SELECT g.id, x.id, COALESCE(g.user_id, v.user_id, 0), x.title, x.starts_at
	FROM volunteer_signups g JOIN volunteer_activities x ON x.id = g.activity_id LEFT JOIN volunteers v ON v.id = g.volunteer_id `

// notice is one message about a sign-up.
type notice struct {
	signupID, activityID, userID int64
	title                        string
	startsAt                     time.Time
}

func scanNotice(r db.Scanner) (notice, error) {
	var n notice
	return n, r.Scan(&n.signupID, &n.activityID, &n.userID, &n.title, &n.startsAt)
}

// SendReminders reminds the participants of activities that start within
// ReminderLead and have not been reminded; the reminder job. It returns
// how many reminders it put in inboxes.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	if s.Notify == nil {
		return 0, nil
	}
	sent := 0
	err := s.db.Write(ctx, func(ctx context.Context) error {
		sent = 0
		now := s.now().UTC()
		due, err := db.All(ctx, s.db.Q(ctx), scanNotice, noticeFrom+`WHERE x.status = 'published' AND x.starts_at > $1 AND x.starts_at <= $2
			AND g.checked_in_at IS NULL AND `+participating+`
			AND NOT EXISTS (SELECT 1 FROM volunteer_signup_notices n WHERE n.signup_id = g.id AND n.kind = 'reminder')
			ORDER BY x.starts_at, g.id LIMIT `+fmt.Sprint(reminderBatch), now, now.Add(ReminderLead))
		if err != nil {
			return err
		}
		for _, n := range due {
			ok, err := s.tell(ctx, n, "reminder")
			if err != nil {
				return err
			}
			if ok {
				sent++
			}
		}
		return nil
	})
	return sent, err
}

// tellCancelled tells everyone with an open place in an activity that it
// is cancelled; it runs in the cancellation's transaction, before the
// places are closed.
func (s *Service) tellCancelled(ctx context.Context, activityID int64) error {
	if s.Notify == nil {
		return nil
	}
	open, err := db.All(ctx, s.db.Q(ctx), scanNotice, noticeFrom+`WHERE g.activity_id = $1 AND g.status IN ('signed', 'confirmed')
		AND g.checked_in_at IS NULL ORDER BY g.id`, activityID)
	if err != nil {
		return err
	}
	for _, n := range open {
		if _, err := s.tell(ctx, n, "cancelled"); err != nil {
			return err
		}
	}
	return nil
}

// tell sends a notice of kind about a sign-up unless one was sent before,
// and reports whether it sent it. A sign-up without an account is marked
// too, so that the sweep does not pick it up again and again.
func (s *Service) tell(ctx context.Context, n notice, kind string) (bool, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_signup_notices (signup_id, kind, sent_at) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, n.signupID, kind, s.now().UTC())
	if err != nil {
		return false, err
	}
	if added, _ := res.RowsAffected(); added == 0 || n.userID == 0 {
		return false, nil
	}
	return true, s.Notify.Send(ctx, notify.Message{
		ID: fmt.Sprintf("volunteer-%s-%d", kind, n.signupID), Kind: "volunteer." + kind, Key: "notify.volunteer." + kind,
		// The inbox shows one argument: the activity and when it starts.
		Args: []any{n.title + " · " + localTime(n.startsAt)}, Link: fmt.Sprintf("/volunteer/activities/%d", n.activityID),
		At: s.now(), UserIDs: []int64{n.userID},
		Data: map[string]any{"signup_id": n.signupID, "activity_id": n.activityID},
	})
}
