// Package cases is the heart of Linli (居民诉求全响应): every demand and event,
// from every channel, becomes a case that moves through the closed loop —
// 受理/立案 → 派遣 → 处置 → 反馈 → 核查 → 结案 → 回访/评价 — with deadlines
// in working time, escalation, and the figures residents are judged by.
//
// The allowed moves are one table (transitions); every move is a row of
// case_events that is never changed, written in the same transaction as
// the case, its audit row and its counters.
package cases

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is where a case is in the loop.
type State string

const (
	Reported   State = "reported"   // 上报/受理: waiting to be accepted
	Rejected   State = "rejected"   // 不予立案 (with a reason)
	Accepted   State = "accepted"   // 立案: waiting to be dispatched
	Dispatched State = "dispatched" // 派遣: the unit has not received it yet
	Handling   State = "handling"   // 处置: the unit works on it
	Feedback   State = "feedback"   // 反馈: the unit reported a result; to be verified
	Closed     State = "closed"     // 结案
	Merged     State = "merged"     // a duplicate, following another case's outcome
)

// Open reports whether a case in s still needs work.
func (s State) Open() bool {
	return s != Rejected && s != Closed && s != Merged
}

// Action is a move through the loop.
type Action string

const (
	ActReport           Action = "report"            // 上报
	ActSelfHandle       Action = "self_handle"       // 自行处置: a grid worker fixed it on the spot
	ActAccept           Action = "accept"            // 立案
	ActReject           Action = "reject"            // 不予立案
	ActDispatch         Action = "dispatch"          // 派遣
	ActReceive          Action = "receive"           // 签收
	ActReturn           Action = "return"            // 退回 (wrong unit), with a reason
	ActAskExtension     Action = "ask_extension"     // 申请延期
	ActApproveExtension Action = "approve_extension" // 批准延期
	ActDefer            Action = "defer"             // 缓办: the clock stops
	ActResume           Action = "resume"            // 恢复办理
	ActFeedback         Action = "feedback"          // 处置反馈
	ActVerifyPass       Action = "verify_pass"       // 核查通过 → 结案
	ActVerifyFail       Action = "verify_fail"       // 核查不通过 → 返工
	ActCallback         Action = "callback"          // 回访
	ActRate             Action = "rate"              // 评价 by the reporter
	ActMerge            Action = "merge"             // 合并 into another case
	ActWarn             Action = "warn"              // 80% of the time used (a job)
	ActOverdue          Action = "overdue"           // past the deadline: 督办 (a job)
	ActEscalate         Action = "escalate"          // not received in time: up the area tree (a job)
	ActNote             Action = "note"              // a remark, no state change
	ActMediate          Action = "mediate"           // a mediation session (recorded by Service.Mediate)
	ActEscalateDispute  Action = "escalate_dispute"  // mediation failed: up to the next level, to be dispatched again
	ActFollowUp         Action = "follow_up"         // the follow-up check of an agreement is due (a job)
)

// Who may make a move. Jobs act as the system.
type role string

const (
	byReporter role = "reporter" // the resident holding the private link
	byStaff    role = "staff"    // case.accept / case.dispatch / case.verify holders, by action
	byUnit     role = "unit"     // a member of the case's current unit
	bySystem   role = "system"
)

// transition is one row of the loop's table.
type transition struct {
	from []State
	to   State // "" keeps the state
	by   role
	// note says whether the move needs a written reason.
	note bool
}

// transitions is the closed loop. Anything not here is refused.
var transitions = map[Action]transition{
	ActAccept:           {from: []State{Reported}, to: Accepted, by: byStaff},
	ActReject:           {from: []State{Reported}, to: Rejected, by: byStaff, note: true},
	ActMerge:            {from: []State{Reported, Accepted}, to: Merged, by: byStaff},
	ActDispatch:         {from: []State{Accepted}, to: Dispatched, by: byStaff},
	ActReceive:          {from: []State{Dispatched}, to: Handling, by: byUnit},
	ActReturn:           {from: []State{Dispatched, Handling}, to: Accepted, by: byUnit, note: true},
	ActAskExtension:     {from: []State{Handling}, by: byUnit, note: true},
	ActApproveExtension: {from: []State{Handling}, by: byStaff},
	ActDefer:            {from: []State{Handling}, by: byStaff, note: true},
	ActResume:           {from: []State{Handling}, by: byStaff},
	ActFeedback:         {from: []State{Handling}, to: Feedback, by: byUnit, note: true},
	ActVerifyPass:       {from: []State{Feedback}, to: Closed, by: byStaff},
	ActVerifyFail:       {from: []State{Feedback}, to: Handling, by: byStaff, note: true},
	ActCallback:         {from: []State{Closed}, by: byStaff},
	ActRate:             {from: []State{Closed}, by: byReporter},
	ActNote:             {from: []State{Reported, Accepted, Dispatched, Handling, Feedback, Closed}, by: byStaff, note: true},
	ActWarn:             {from: []State{Dispatched, Handling}, by: bySystem},
	ActOverdue:          {from: []State{Dispatched, Handling, Feedback}, by: bySystem},
	ActEscalate:         {from: []State{Dispatched}, by: bySystem},
	ActEscalateDispute:  {from: []State{Dispatched, Handling}, to: Accepted, by: bySystem},
	ActFollowUp:         {from: []State{Handling, Feedback, Closed}, by: bySystem},
}

// Channel is where a case came from.
type Channel string

const (
	ChannelResident   Channel = "resident"    // the resident's phone page
	ChannelGridWorker Channel = "grid_worker" // a patrol or a visit
	ChannelHotline    Channel = "hotline"     // a call taken by an operator
	Channel12345      Channel = "12345"       // a ticket imported from the city hotline
	ChannelOpen311    Channel = "open311"     // an Open311 client
	ChannelStaff      Channel = "staff"       // entered by community staff
	ChannelReplay     Channel = "replay"      // a historic case replayed in simulated time
)

var channels = []Channel{ChannelResident, ChannelGridWorker, ChannelHotline, Channel12345, ChannelOpen311, ChannelStaff, ChannelReplay}

// Satisfaction is the reporter's judgement at the callback.
type Satisfaction string

const (
	Satisfied          Satisfaction = "satisfied"           // 满意
	BasicallySatisfied Satisfaction = "basically_satisfied" // 基本满意
	Unsatisfied        Satisfaction = "unsatisfied"         // 不满意
)

// Case is a case as staff see it (personal data masked unless revealed).
type Case struct {
	ID           int64
	Number       string
	Channel      Channel
	ExternalID   string
	CategoryID   int64
	Category     string // the category's name in the reader's language
	CategoryCode string
	Description  string
	Address      string
	Lon, Lat     *float64
	AreaID       int64
	AreaPath     string
	GridCode     string
	GridName     string
	NeedsRouting bool
	Reporter     Contact
	State        State
	Version      int
	Urgency      string
	UnitID       int64
	Unit         string
	FirstUnitID  int64
	DispatchedAt *time.Time
	DueAt        *time.Time
	WarnAt       *time.Time
	ReceivedAt   *time.Time
	Deferred     bool
	PausedAt     *time.Time
	AskedDays    string
	Extensions   int
	Reworks      int
	Warned       bool
	Overdue      bool
	Escalations  int
	ClosedAt     *time.Time
	OnTime       *bool
	MergedInto   int64
	Contacted    *bool
	Solved       *bool
	Satisfaction Satisfaction
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Contact is how to reach the reporter.
type Contact struct {
	Name, Phone, Email string
	Masked             bool // true when the values are masks, not the data
}

// chinaTime is UTC+8 without daylight saving.
var chinaTime = time.FixedZone("CST", 8*3600)

// NumberOf makes the case number people quote: the China-time date of the
// report and the case id, e.g. 202611260000123. It needs no counter that
// concurrent reports would queue on.
func NumberOf(id int64, created time.Time) string {
	return created.In(chinaTime).Format("20060102") + fmt.Sprintf("%07d", id)
}

// ParseNumber returns the id in a case number; the date is checked by the
// caller against the case.
func ParseNumber(number string) (int64, bool) {
	number = strings.TrimSpace(number)
	if len(number) < 9 {
		return 0, false
	}
	id, err := strconv.ParseInt(number[8:], 10, 64)
	return id, err == nil && id > 0
}
