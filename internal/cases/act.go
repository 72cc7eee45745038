package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/jobs"
	"github.com/linli/linli/internal/platform/workcal"
)

// Request is one move on a case.
type Request struct {
	Action  Action
	Version int    // the version the actor saw; 0 takes the current one
	Note    string // the reason, result or remark
	Unit    string // dispatch: the unit's code
	Days    int    // ask_extension / approve_extension: working days more
	Into    string // merge: the number of the case this one duplicates
	// Callback answers (回访).
	Contacted, Solved *bool
	Satisfaction      Satisfaction
	Files             []File
	// Due overrides the category's time limit at dispatch (a replayed
	// historic case keeps the city's own target). System use only.
	Due *time.Time
	// At is the time of a replayed move; zero means now. System use only.
	At time.Time
}

// staffPerm is the permission each staff move needs on the case's area.
var staffPerm = map[Action]auth.Perm{
	ActAccept: auth.CaseAccept, ActReject: auth.CaseAccept, ActMerge: auth.CaseAccept,
	ActDispatch: auth.CaseDispatch, ActApproveExtension: auth.CaseDispatch, ActDefer: auth.CaseDispatch,
	ActResume: auth.CaseDispatch, ActVerifyPass: auth.CaseVerify, ActVerifyFail: auth.CaseVerify,
	ActCallback: auth.CaseCallback, ActNote: auth.CaseRead,
}

// Act makes a move on the case with number, checking the transition table,
// the actor's right to make it, and that nobody changed the case meanwhile
// (two people acting at once: one wins, the other gets a conflict).
func (s *Service) Act(ctx context.Context, number string, req Request) (Case, error) {
	return s.act(ctx, number, []Request{req}, true)
}

// ActAll makes several moves in a row on one case, for the system only (a
// replayed history): each move is checked and logged as by Act, but the
// case is read and saved once, its jobs are planned once for where the
// sequence ends, and one audit row lists the moves.
func (s *Service) ActAll(ctx context.Context, number string, reqs []Request) (Case, error) {
	if !isSystem(ctx) {
		return Case{}, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	return s.act(ctx, number, reqs, false)
}

// actAllOn is ActAll on the case load reads (the replay's own copy of a
// case it has just filed).
func (s *Service) actAllOn(ctx context.Context, load func(ctx context.Context) (Case, error), reqs []Request) (Case, error) {
	if !isSystem(ctx) {
		return Case{}, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	return s.actOn(ctx, load, reqs, false)
}

func (s *Service) act(ctx context.Context, number string, reqs []Request, perMove bool) (Case, error) {
	return s.actOn(ctx, func(ctx context.Context) (Case, error) { return s.store.byNumber(ctx, number) }, reqs, perMove)
}

// actOn makes the moves on the case load reads in the transaction.
func (s *Service) actOn(ctx context.Context, load func(ctx context.Context) (Case, error), reqs []Request, perMove bool) (Case, error) {
	for _, req := range reqs {
		t, ok := transitions[req.Action]
		if !ok || t.by == byReporter || (t.by == bySystem && !isSystem(ctx)) {
			return Case{}, fieldErr("action", "err.case.action", string(req.Action))
		}
		if err := s.checkRequest(req, t); err != nil {
			return Case{}, err
		}
	}
	var out Case
	err := s.db.Write(ctx, func(ctx context.Context) error {
		c, err := load(ctx)
		if err != nil {
			return err
		}
		if len(reqs) > 0 && reqs[0].Version != 0 && reqs[0].Version != c.Version {
			return errs.E(errs.Conflict, "err.case.stale", c.Number)
		}
		cur := c
		var actions []string
		for _, req := range reqs {
			if cur, err = s.move(ctx, cur, req, perMove); err != nil {
				return err
			}
			actions = append(actions, string(req.Action))
		}
		if !perMove {
			if err := s.planJobs(ctx, &cur); err != nil {
				return err
			}
		}
		if err := s.store.saveCase(ctx, cur, c.Version); err != nil {
			return err
		}
		out = cur
		if perMove {
			return nil // each move wrote its audit row
		}
		return s.audit.Record(ctx, audit.Entry{Action: "case.act_all", TargetType: "case", TargetID: c.Number,
			Detail: strings.Join(actions, ",")})
	})
	return out, err
}

// move applies one request to c and logs it: the event, its files, the
// notifications, the counters, and (when perMove) its audit row and jobs.
func (s *Service) move(ctx context.Context, c Case, req Request, perMove bool) (Case, error) {
	t := transitions[req.Action]
	if err := s.mayAct(ctx, c, req.Action, t); err != nil {
		return c, err
	}
	if !slices.Contains(t.from, c.State) {
		return c, errs.E(errs.Conflict, "err.case.transition", string(req.Action), string(c.State))
	}
	now := s.now().UTC()
	if !req.At.IsZero() && isSystem(ctx) {
		now = req.At.UTC()
	}
	mv := &move{svc: s, c: c, req: req, to: t.to, now: now, planJobs: perMove}
	if err := mv.apply(ctx); err != nil {
		return c, err
	}
	mv.c.UpdatedAt = now
	data := ""
	if mv.data != nil {
		b, _ := json.Marshal(mv.data)
		data = string(b)
	}
	key := statKey{day: dayOf(now), areaID: mv.c.AreaID, unitID: mv.c.UnitID, categoryID: mv.c.CategoryID}
	eventID, err := s.store.insertEvent(ctx, event{caseID: c.ID, at: now, actor: actorOf(ctx), action: req.Action,
		from: c.State, to: mv.c.State, note: strings.TrimSpace(req.Note), data: data, key: key})
	if err != nil {
		return c, err
	}
	if err := s.saveFiles(ctx, c.ID, eventID, req.Files, now); err != nil {
		return c, err
	}
	if err := s.tell(ctx, mv.c, req.Action, eventID, now); err != nil {
		return c, err
	}
	if mv.stats != (counters{}) {
		if err := s.store.addStats(ctx, key, mv.stats); err != nil {
			return c, err
		}
	}
	if perMove {
		if err := s.audit.Record(ctx, audit.Entry{Action: "case." + string(req.Action), TargetType: "case", TargetID: c.Number}); err != nil {
			return c, err
		}
	}
	return mv.c, nil
}

// planJobs sets the jobs of a case for the state it is in: the reminders
// of an open case with a deadline, none otherwise.
func (s *Service) planJobs(ctx context.Context, c *Case) error {
	if c.State.Open() && c.DueAt != nil && !c.Deferred {
		return s.scheduleJobs(ctx, c, c.UpdatedAt)
	}
	return s.cancelJobs(ctx, c.ID)
}

// checkRequest validates what the move carries before anything is read.
func (s *Service) checkRequest(req Request, t transition) error {
	var v errs.Validation
	note := strings.TrimSpace(req.Note)
	v.Check(!t.note || note != "", "note", "err.case.note_required")
	v.Check(utf8.RuneCountInString(note) <= MaxDescription, "note", "err.case.description_long", MaxDescription)
	switch req.Action {
	case ActAskExtension, ActApproveExtension:
		v.Check(req.Days >= 1 && req.Days <= 60, "days", "err.case.days")
	case ActCallback:
		v.Check(req.Contacted != nil, "contacted", "err.case.callback_answer")
		v.Check(req.Solved != nil, "solved", "err.case.callback_answer")
		v.Check(validSatisfaction(req.Satisfaction), "satisfaction", "err.case.satisfaction")
	case ActMerge:
		v.Check(req.Into != "", "into", "err.case.merge_into")
	}
	v.Check(len(req.Files) <= MaxFiles, "files", "err.case.too_many_files", MaxFiles)
	for i, f := range req.Files {
		checkFile(&v, fmt.Sprintf("files[%d]", i+1), f)
	}
	return v.Err()
}

func validSatisfaction(s Satisfaction) bool {
	return s == Satisfied || s == BasicallySatisfied || s == Unsatisfied
}

// mayAct checks that the principal may make this move on c.
func (s *Service) mayAct(ctx context.Context, c Case, a Action, t transition) error {
	if isSystem(ctx) {
		return nil
	}
	p := auth.From(ctx)
	switch t.by {
	case byUnit:
		// The unit's members act; staff who may dispatch may act for them.
		if p != nil && c.UnitID != 0 {
			member, err := s.store.isMember(ctx, c.UnitID, p.UserID)
			if err != nil {
				return err
			}
			if member && p.Can(auth.CaseHandle, c.AreaPath) || p.Can(auth.CaseHandle, "") {
				return nil
			}
		}
		if p.Can(auth.CaseDispatch, c.AreaPath) {
			return nil
		}
		return s.denied(p, c)
	default:
		if p.Can(staffPerm[a], c.AreaPath) || (c.AreaPath == "" && p.CanAnywhere(staffPerm[a])) {
			return nil
		}
		return s.denied(p, c)
	}
}

// denied hides cases the principal may not even read.
func (s *Service) denied(p *auth.Principal, c Case) error {
	if p == nil {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if !s.canRead(p, c) {
		return errs.E(errs.NotFound, "err.case.not_found", c.Number)
	}
	return errs.E(errs.Forbidden, "err.auth.forbidden")
}

func (s *Service) canRead(p *auth.Principal, c Case) bool {
	return p.Can(auth.CaseRead, c.AreaPath) || (c.AreaPath == "" && p.CanAnywhere(auth.CaseAccept))
}

type systemKey struct{}

// AsSystem marks ctx as the system's own work: jobs and replays.
func AsSystem(ctx context.Context) context.Context {
	return audit.WithActor(context.WithValue(ctx, systemKey{}, true), audit.Actor{Name: "system"})
}

func isSystem(ctx context.Context) bool { return ctx.Value(systemKey{}) != nil }

// move carries out one transition on a copy of the case.
type move struct {
	svc      *Service
	c        Case
	req      Request
	to       State
	now      time.Time
	planJobs bool // plan the case's jobs now (Act), or once at the end (ActAll)
	stats    counters
	data     map[string]any
}

// jobs runs a change of the case's jobs unless they are planned at the end.
func (m *move) jobs(f func() error) error {
	if !m.planJobs {
		return nil
	}
	return f()
}

func (m *move) set(k string, v any) {
	if m.data == nil {
		m.data = map[string]any{}
	}
	m.data[k] = v
}

func (m *move) apply(ctx context.Context) error {
	if m.to != "" {
		m.c.State = m.to
	}
	switch m.req.Action {
	case ActAccept:
		m.stats.accepted = 1
	case ActReject:
		m.stats.rejected = 1
	case ActMerge:
		return m.merge(ctx)
	case ActDispatch:
		return m.dispatch(ctx)
	case ActReceive:
		m.c.ReceivedAt = &m.now
		return m.jobs(func() error { return jobs.Cancel(ctx, m.svc.db, jobKey(m.c.ID, "escalate")) })
	case ActReturn:
		m.c.UnitID, m.c.DispatchedAt, m.c.DueAt, m.c.WarnAt, m.c.ReceivedAt = 0, nil, nil, nil, nil
		return m.jobs(func() error { return m.svc.cancelJobs(ctx, m.c.ID) })
	case ActAskExtension:
		m.c.AskedDays = fmt.Sprint(m.req.Days)
		m.set("days", m.req.Days)
	case ActApproveExtension:
		return m.extend(ctx)
	case ActDefer:
		m.c.Deferred, m.c.PausedAt = true, &m.now
		return m.jobs(func() error { return m.svc.cancelJobs(ctx, m.c.ID) })
	case ActResume:
		return m.resume(ctx)
	case ActFeedback:
		m.stats.feedbacks = 1
	case ActVerifyPass:
		return m.close(ctx)
	case ActVerifyFail:
		m.c.Reworks++
		m.stats.reworked = 1
	case ActCallback:
		return m.callback()
	case ActWarn:
		m.c.Warned = true
	case ActOverdue:
		m.c.Overdue = true
	case ActEscalate:
		m.c.Escalations++
	case ActEscalateDispute:
		m.c.UnitID, m.c.DispatchedAt, m.c.DueAt, m.c.WarnAt, m.c.ReceivedAt = 0, nil, nil, nil, nil
		m.c.Escalations++
		m.set("level", m.req.Note)
		return m.jobs(func() error { return m.svc.cancelJobs(ctx, m.c.ID) })
	}
	return nil
}

func (m *move) dispatch(ctx context.Context) error {
	unit, err := m.svc.batchUnit(ctx, m.req.Unit)
	if err != nil {
		return err
	}
	m.c.UnitID, m.c.Unit = unit.id, unit.name
	if m.c.FirstUnitID == 0 {
		m.c.FirstUnitID = unit.id // 首接负责: the first unit keeps coordinating
	}
	m.c.DispatchedAt, m.c.ReceivedAt = &m.now, nil
	due, err := m.svc.deadline(ctx, m.c, m.now, m.req.Due)
	if err != nil {
		return err
	}
	m.c.DueAt = due
	m.set("unit", unit.code)
	m.stats.dispatched = 1
	return m.jobs(func() error { return m.svc.scheduleJobs(ctx, &m.c, m.now) })
}

func (m *move) extend(ctx context.Context) error {
	if m.c.DueAt == nil {
		return errs.E(errs.Conflict, "err.case.no_deadline")
	}
	due := m.svc.cal.AddDays(*m.c.DueAt, m.req.Days)
	m.c.DueAt, m.c.AskedDays = &due, ""
	m.c.Extensions++
	m.c.Warned, m.c.Overdue = false, false
	m.set("due", due)
	m.stats.extended = 1
	return m.jobs(func() error { return m.svc.scheduleJobs(ctx, &m.c, m.now) })
}

// resume restarts a deferred case's clock with the working time it had
// left when it was paused.
func (m *move) resume(ctx context.Context) error {
	if !m.c.Deferred {
		return errs.E(errs.Conflict, "err.case.not_deferred")
	}
	m.c.Deferred = false
	if m.c.DueAt != nil && m.c.PausedAt != nil {
		left := m.svc.cal.Between(*m.c.PausedAt, *m.c.DueAt)
		due := m.svc.cal.AddHours(m.now, left)
		m.c.DueAt = &due
		m.set("due", due)
	}
	m.c.PausedAt = nil
	return m.jobs(func() error { return m.svc.scheduleJobs(ctx, &m.c, m.now) })
}

// close ends the loop. A deferred case closes outside the on-time figures.
func (m *move) close(ctx context.Context) error {
	m.c.ClosedAt = &m.now
	m.stats.closed = 1
	switch {
	case m.c.Deferred:
		m.stats.closedDeferred = 1
		m.set("deferred", true)
	case m.c.DueAt != nil:
		onTime := !m.now.After(*m.c.DueAt)
		m.c.OnTime = &onTime
		if onTime {
			m.stats.closedOnTime = 1
		} else {
			m.stats.closedLate = 1
		}
		m.set("on_time", onTime)
	}
	return m.jobs(func() error { return m.svc.cancelJobs(ctx, m.c.ID) })
}

func (m *move) callback() error {
	if m.c.Satisfaction != "" {
		return errs.E(errs.Conflict, "err.case.callback_done")
	}
	m.c.Contacted, m.c.Solved, m.c.Satisfaction = m.req.Contacted, m.req.Solved, m.req.Satisfaction
	m.stats.callbacks = 1
	m.stats.contacted = b2i(*m.req.Contacted)
	m.stats.solved = b2i(*m.req.Solved)
	switch m.req.Satisfaction {
	case Satisfied:
		m.stats.satisfied = 1
	case BasicallySatisfied:
		m.stats.basicallySatisfied = 1
	case Unsatisfied:
		m.stats.unsatisfied = 1
	}
	m.set("contacted", *m.req.Contacted)
	m.set("solved", *m.req.Solved)
	m.set("satisfaction", m.req.Satisfaction)
	return nil
}

func (m *move) merge(ctx context.Context) error {
	target, err := m.svc.store.byNumber(ctx, m.req.Into)
	if err != nil || target.ID == m.c.ID {
		return fieldErr("into", "err.case.merge_target", m.req.Into)
	}
	if target.MergedInto != 0 || target.State == Rejected {
		return fieldErr("into", "err.case.merge_target", m.req.Into)
	}
	m.c.MergedInto = target.ID
	m.set("into", target.Number)
	return m.jobs(func() error { return m.svc.cancelJobs(ctx, m.c.ID) })
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// deadline computes when a case dispatched at start is due: the
// category's limit in working time, or the given due time.
func (s *Service) deadline(ctx context.Context, c Case, start time.Time, due *time.Time) (*time.Time, error) {
	if due != nil {
		d := due.UTC()
		return &d, nil
	}
	cat, err := s.store.categoryByID(ctx, c.CategoryID)
	if err != nil {
		return nil, err
	}
	if cat.TimeLimit == "" {
		return nil, nil
	}
	limit, err := workcal.ParseLimit(cat.TimeLimit)
	if err != nil {
		return nil, errs.Wrap(err, "err.internal")
	}
	var d time.Time
	if limit.Unit == workcal.Days {
		d = s.cal.AddDays(start, int(limit.Amount))
	} else {
		d = s.cal.AddHours(start, limit.Duration())
	}
	return &d, nil
}

// jobKey names a case's pending job so that it can be moved or dropped.
func jobKey(caseID int64, what string) string { return fmt.Sprintf("case:%d:%s", caseID, what) }

// scheduleJobs (re)plans the warning at WarnAt of the time, the overdue
// flag at the deadline, and the escalation if the unit does not receive
// the case in time. It runs in the case's transaction.
func (s *Service) scheduleJobs(ctx context.Context, c *Case, now time.Time) error {
	if err := s.cancelJobs(ctx, c.ID); err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]int64{"case": c.ID})
	plan := map[string]time.Time{}
	if c.DueAt != nil {
		left := s.cal.Between(now, *c.DueAt)
		warn := s.cal.AddHours(now, time.Duration(float64(left)*s.Config.WarnAt))
		c.WarnAt = &warn
		plan["warn"], plan["overdue"] = warn, *c.DueAt
	}
	if c.State == Dispatched && c.ReceivedAt == nil && s.Config.ReceiveWithin > 0 {
		plan["escalate"] = s.cal.AddHours(now, s.Config.ReceiveWithin)
	}
	for what, at := range plan {
		if err := jobs.Enqueue(ctx, s.db, jobs.Job{Kind: "case." + what, Key: jobKey(c.ID, what), Payload: payload, RunAt: at}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) cancelJobs(ctx context.Context, caseID int64) error {
	if b := batchRefsOf(ctx); b != nil && b.jobless == caseID {
		return nil // filed in this very batch, its jobs not yet planned: none to drop
	}
	for _, what := range []string{"warn", "overdue", "escalate"} {
		if err := jobs.Cancel(ctx, s.db, jobKey(caseID, what)); err != nil {
			return err
		}
	}
	return nil
}
