package cases

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/jobs"
)

// Get returns a case the caller may read, with the reporter's contact
// masked.
func (s *Service) Get(ctx context.Context, number string) (Case, error) {
	c, err := s.store.byNumber(ctx, number)
	if err != nil {
		return Case{}, err
	}
	if p := auth.From(ctx); !s.canRead(p, c) {
		return Case{}, s.denied(p, c)
	}
	return s.masked(c), nil
}

// masked opens the sealed contact and masks it for the screen.
func (s *Service) masked(c Case) Case {
	name, _ := s.box.Open("case.reporter_name", c.Reporter.Name)
	phone, _ := s.box.Open("case.reporter_phone", c.Reporter.Phone)
	email, _ := s.box.Open("case.reporter_email", c.Reporter.Email)
	c.Reporter = Contact{Name: crypto.MaskName(name), Phone: crypto.MaskPhone(phone), Email: maskEmail(email), Masked: true}
	return c
}

func maskEmail(e string) string {
	user, domain, ok := strings.Cut(e, "@")
	if !ok {
		return ""
	}
	return crypto.MaskName(user) + "@" + domain
}

// RevealContact returns the reporter's contact in clear for staff who must
// call back, with the reason recorded in the audit log.
func (s *Service) RevealContact(ctx context.Context, number, reason string) (Contact, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return Contact{}, fieldErr("reason", "err.case.reason")
	}
	var out Contact
	err := s.db.Write(ctx, func(ctx context.Context) error {
		c, err := s.store.byNumber(ctx, number)
		if err != nil {
			return err
		}
		p := auth.From(ctx)
		if !p.Can(auth.CaseCallback, c.AreaPath) && !p.Can(auth.CaseDispatch, c.AreaPath) {
			return s.denied(p, c)
		}
		name, err1 := s.box.Open("case.reporter_name", c.Reporter.Name)
		phone, err2 := s.box.Open("case.reporter_phone", c.Reporter.Phone)
		email, err3 := s.box.Open("case.reporter_email", c.Reporter.Email)
		if err := errors.Join(err1, err2, err3); err != nil {
			return errs.Wrap(err, "err.internal")
		}
		out = Contact{Name: name, Phone: phone, Email: email}
		return s.audit.Record(ctx, audit.Entry{Action: "case.reveal_contact", TargetType: "case", TargetID: number, Detail: reason})
	})
	return out, err
}

// Timeline returns a case's moves, oldest first.
func (s *Service) Timeline(ctx context.Context, number string) ([]Event, error) {
	c, err := s.Get(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.store.events(ctx, c.ID)
}

// List returns a queue of cases in the caller's scope.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Case, error) {
	p := auth.From(ctx)
	if !p.CanAnywhere(auth.CaseRead) {
		return nil, p.Require(auth.CaseRead, "")
	}
	cs, err := s.store.list(ctx, p, q)
	for i := range cs {
		cs[i] = s.masked(cs[i])
	}
	return cs, err
}

// File returns a file of a case the caller may read.
func (s *Service) File(ctx context.Context, number string, fileID int64) (FileInfo, []byte, error) {
	c, err := s.Get(ctx, number)
	if err != nil {
		return FileInfo{}, nil, err
	}
	return s.store.file(ctx, c.ID, fileID)
}

// Tracked is what the reporter sees through the private link.
type Tracked struct {
	Case    Case
	Events  []Event // the moves a reporter should know about
	Follows string  // the number of the case this one was merged into
	CanRate bool
}

// publicMoves are the moves shown to the reporter; internal notes and
// system flags are not.
var publicMoves = map[Action]bool{ActReport: true, ActSelfHandle: true, ActAccept: true, ActReject: true, ActDispatch: true,
	ActReceive: true, ActFeedback: true, ActVerifyPass: true, ActVerifyFail: true, ActMerge: true, ActCallback: true, ActRate: true,
	ActMediate: true, ActEscalateDispute: true}

// Track returns the case behind a private link. A merged case shows the
// progress of the case it was merged into, so every reporter follows the
// one outcome.
func (s *Service) Track(ctx context.Context, token string) (Tracked, error) {
	c, err := s.store.byTracking(ctx, hashToken(token))
	if err != nil {
		return Tracked{}, err
	}
	var t Tracked
	if c.MergedInto != 0 {
		target, err := s.store.byID(ctx, c.MergedInto)
		if err != nil {
			return Tracked{}, err
		}
		t.Follows = target.Number
		c = target
	}
	evs, err := s.store.events(ctx, c.ID)
	if err != nil {
		return Tracked{}, err
	}
	for _, e := range evs {
		if publicMoves[e.Action] {
			if e.Action == ActDispatch || e.Action == ActReceive || e.Action == ActMediate {
				e.Note = "" // working notes and mediation records stay inside
			}
			t.Events = append(t.Events, e)
		}
	}
	t.Case = s.masked(c)
	t.CanRate = c.State == Closed && !rated(evs)
	return t, nil
}

func rated(evs []Event) bool {
	for _, e := range evs {
		if e.Action == ActRate {
			return true
		}
	}
	return false
}

// Rate records the reporter's judgement of a closed case, once, through
// the private link.
func (s *Service) Rate(ctx context.Context, token string, sat Satisfaction, comment string) error {
	if !validSatisfaction(sat) {
		return fieldErr("satisfaction", "err.case.satisfaction")
	}
	if utf8.RuneCountInString(comment) > 500 {
		return fieldErr("comment", "err.case.comment_long")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		c, err := s.store.byTracking(ctx, hashToken(token))
		if err != nil {
			return err
		}
		if c.State != Closed {
			return errs.E(errs.Conflict, "err.case.rate_open")
		}
		evs, err := s.store.events(ctx, c.ID)
		if err != nil {
			return err
		}
		if rated(evs) {
			return errs.E(errs.Conflict, "err.case.rated")
		}
		now := s.now().UTC()
		data, _ := json.Marshal(map[string]any{"satisfaction": sat})
		key := statKey{day: dayOf(now), areaID: c.AreaID, unitID: c.UnitID, categoryID: c.CategoryID}
		if _, err := s.store.insertEvent(ctx, event{caseID: c.ID, at: now, actor: actor{name: "reporter"}, action: ActRate,
			from: c.State, to: c.State, note: strings.TrimSpace(comment), data: string(data), key: key}); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "case.rate", TargetType: "case", TargetID: c.Number,
			Actor: &audit.Actor{Name: "reporter", IP: audit.ActorFrom(ctx).IP, RequestID: audit.ActorFrom(ctx).RequestID}})
	})
}

// Jobs registers the loop's background work on a runner: the warning at
// 80% of the time, the overdue flag (督办) at the deadline, and the
// escalation of cases not received in time. Each runs once across nodes.
func (s *Service) Jobs(r *jobs.Runner) {
	for kind, action := range map[string]Action{"case.warn": ActWarn, "case.overdue": ActOverdue, "case.escalate": ActEscalate,
		"case.mediation_followup": ActFollowUp} {
		r.Handle(kind, func(ctx context.Context, j jobs.Job) error {
			var p struct {
				Case int64 `json:"case"`
			}
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				return err
			}
			c, err := s.store.byID(ctx, p.Case)
			if err != nil {
				return err
			}
			_, err = s.Act(AsSystem(ctx), c.Number, Request{Action: action, At: j.RunAt})
			if errs.CodeOf(err) == errs.Conflict {
				return nil // the case moved on meanwhile: nothing to flag
			}
			return err
		})
	}
}

// FlushStats adds the moves' pending counters into the figures every
// statsFlushEvery until ctx ends. Readers of the figures add them too, so
// this only keeps the queue short. Every node runs it: applyPending counts
// each row once however many nodes apply at the same time, in a
// transaction per batch, so that a backlog never holds SQLite's writer for
// long. With nothing pending it only reads; as a recurring job it claimed
// and rescheduled its row every second, two commits and their syncs on a
// node with nothing to store.
func (s *Service) FlushStats(ctx context.Context, log *slog.Logger) {
	jobs.Repeat(ctx, statsFlushEvery, func(ctx context.Context) {
		if err := s.store.flushStats(ctx); err != nil && ctx.Err() == nil {
			log.Warn("adding the pending case counters failed; the figures' readers add them", "err", err)
		}
	})
}

// statsFlushEvery is how often FlushStats adds the pending counters in.
// Every 5 s instead was tried: p99 at 1,000 reports/s 38–52 ms against
// 28–41 ms in four alternating pairs, within this machine's noise but no
// better, so the measured setting stays.
const statsFlushEvery = time.Second

// Move is a move the caller may make on a case now, for the case page.
type Move struct {
	Action Action
	Note   bool // a written reason is needed
}

// moveOrder is the order moves are offered in: the usual next step first.
var moveOrder = []Action{ActAccept, ActDispatch, ActReceive, ActFeedback, ActVerifyPass, ActCallback, ActReject,
	ActMerge, ActReturn, ActAskExtension, ActApproveExtension, ActDefer, ActResume, ActVerifyFail, ActNote}

// MovesFor lists what the caller may do with c in its current state.
func (s *Service) MovesFor(ctx context.Context, c Case) []Move {
	var out []Move
	for _, a := range moveOrder {
		t := transitions[a]
		if !slices.Contains(t.from, c.State) || a == ActDefer && c.Deferred || a == ActResume && !c.Deferred {
			continue
		}
		if a == ActApproveExtension && c.AskedDays == "" || a == ActCallback && c.Satisfaction != "" {
			continue
		}
		if s.mayAct(ctx, c, a, t) == nil {
			out = append(out, Move{Action: a, Note: t.note})
		}
	}
	return out
}
