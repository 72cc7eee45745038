package cases

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/jobs"
)

// The reporter hears by e-mail, when they left an address, of the moves
// they would want to know about. The job carries only the event's id: the
// address stays sealed in the case and is opened when the mail is sent.
var toReporter = map[Action]bool{ActAccept: true, ActReject: true, ActDispatch: true, ActFeedback: true,
	ActVerifyPass: true, ActMerge: true}

// mailJob is the payload of a "case.email" job.
type mailJob struct {
	Case   int64  `json:"case"`
	Event  int64  `json:"event"`
	Action Action `json:"action"`
}

// queueMail plans the reporter's e-mail in the move's transaction.
func (s *Service) queueMail(ctx context.Context, c Case, a Action, eventID int64) error {
	if s.Mailer == nil || !toReporter[a] || c.Reporter.Email == "" {
		return nil
	}
	payload, _ := json.Marshal(mailJob{Case: c.ID, Event: eventID, Action: a})
	return jobs.Enqueue(ctx, s.db, jobs.Job{Kind: "case.email", Key: fmt.Sprintf("case-mail:%d", eventID), Payload: payload})
}

// MailJobs registers the sending of reporters' e-mail, outside any
// transaction; cat supplies the words.
func (s *Service) MailJobs(r *jobs.Runner, cat *i18n.Catalog) {
	r.HandleExternal("case.email", func(ctx context.Context, j jobs.Job) error {
		var m mailJob
		if err := json.Unmarshal(j.Payload, &m); err != nil {
			return err
		}
		c, err := s.store.byID(ctx, m.Case)
		if err != nil {
			return err
		}
		to, err := s.box.Open("case.reporter_email", c.Reporter.Email)
		if err != nil || to == "" {
			return err
		}
		// Both languages: the report page does not record which one the
		// reporter read.
		var subject, body string
		for _, lang := range i18n.Langs {
			state := cat.T(lang, "cases.state."+string(c.State))
			subject += cat.T(lang, "mail.case.subject", c.Number, state) + " / "
			body += cat.T(lang, "mail.case.body", c.Number, cat.T(lang, "cases.action."+string(m.Action)), state) + "\n\n"
		}
		return s.Mailer.Send(ctx, to, subject[:len(subject)-3], body, fmt.Sprintf("case-event-%d", m.Event))
	})
}
