package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// HandDownKind is what a department hands down to a community.
type HandDownKind string

// The kinds of hand-down the localities' rules name (牌子、台账、报表、检查).
var HandDownKinds = []HandDownKind{"report", "ledger", "inspection", "plaque", "other"}

// HandDownState says whether the community must do it.
type HandDownState string

const (
	HandAdmitted   HandDownState = "admitted"   // cites a valid admission number
	HandUnadmitted HandDownState = "unadmitted" // cites none: the community may refuse it
	HandRefused    HandDownState = "refused"    // the community refused it
	HandExempt     HandDownState = "exempt"     // an emergency: not gated, but recorded
)

// HandDown is a task a department handed down to a community (下派).
type HandDown struct {
	ID           int64         `json:"id"`
	TaskID       int64         `json:"task_id,omitempty"`
	Number       string        `json:"number,omitempty"` // the admission number cited
	Community    string        `json:"community"`
	DepartmentID int64         `json:"department_id,omitempty"`
	Department   string        `json:"department"` // its name when it handed the task down
	Kind         HandDownKind  `json:"kind"`
	Title        string        `json:"title"`
	Hours        float64       `json:"hours"`
	Emergency    string        `json:"emergency,omitempty"` // why it is exempt
	State        HandDownState `json:"state"`
	Reason       string        `json:"reason,omitempty"` // the community's, when refused
	CreatedAt    time.Time     `json:"created_at"`
	RefusedAt    *time.Time    `json:"refused_at,omitempty"`
	path         string
}

// HandDownInput is a department's hand-down. The department is one of
// the list of the community's street, by id; Department (its exact name)
// is still accepted from clients written before the list.
type HandDownInput struct {
	Community    string       `json:"community"`
	DepartmentID int64        `json:"department_id"`
	Department   string       `json:"department"`
	Kind         HandDownKind `json:"kind"`
	Title        string       `json:"title"`
	Hours        float64      `json:"hours"`
	Number       string       `json:"number"`    // admission number; "" for none
	Emergency    string       `json:"emergency"` // the emergency that exempts it; "" for none
}

// HandDown records a task handed down to a community. With an admission
// number, the number must name an admitted, unexpired task set for an
// area at or above the community (else the field says why); without one
// the task arrives "unadmitted" and the community may refuse it; an
// emergency is exempt. The department must be an active one of the
// community's street's list. Errors: Invalid, Forbidden.
func (s *Service) HandDown(ctx context.Context, in HandDownInput) (HandDown, error) {
	if _, err := auth.Require(ctx, auth.TaskApply); err != nil {
		return HandDown{}, err
	}
	var v errs.Validation
	departmentRequired(&v, in.DepartmentID, &in.Department)
	text(&v, "title", &in.Title, 200)
	optional(&v, "emergency", &in.Emergency, 500)
	in.Number = strings.TrimSpace(in.Number)
	v.Check(slices.Contains(HandDownKinds, in.Kind), "kind", "err.assess.kind")
	v.Check(in.Hours >= 0 && in.Hours <= 10000, "hours", "err.assess.hours")
	if err := v.Err(); err != nil {
		return HandDown{}, err
	}
	c, err := s.areaAt(ctx, in.Community, "community", auth.TaskApply, area.Community)
	if err != nil {
		return HandDown{}, err
	}
	// The community's street keeps the list of departments.
	d, err := s.activeDepartment(ctx, parentPath(c.Path), in.DepartmentID, in.Department)
	if err != nil {
		return HandDown{}, err
	}
	in.DepartmentID, in.Department = d.ID, d.Name
	state, taskID, err := s.gate(ctx, in, c)
	if err != nil {
		return HandDown{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO assess_handdowns (task_id, area_id, area_path, department_id, department, kind, title, hours,
			emergency, state, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			taskID, c.ID, c.Path, in.DepartmentID, in.Department, in.Kind, in.Title, in.Hours, in.Emergency, state, actorID(ctx), s.now().UTC()).Scan(&id)
		if err != nil {
			return err
		}
		return s.record(ctx, "assess.handdown."+string(state), "assess_handdown", id, in.Department+" "+in.Number)
	})
	if err != nil {
		return HandDown{}, errs.Wrap(err, "err.internal")
	}
	return s.handDown(ctx, id)
}

// gate decides a new hand-down's state and the task it cites.
func (s *Service) gate(ctx context.Context, in HandDownInput, c area.Area) (HandDownState, any, error) {
	if in.Emergency != "" {
		return HandExempt, nil, nil
	}
	if in.Number == "" {
		return HandUnadmitted, nil, nil
	}
	t, err := s.scanTask(s.db.Q(ctx).QueryRowContext(ctx, taskCols+"WHERE t.number = $1", in.Number))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil, errs.OnField("number", "err.assess.number_unknown", in.Number)
	case err != nil:
		return "", nil, err
	case t.State != Admitted || t.List == Negative:
		return "", nil, errs.OnField("number", "err.assess.number_not_admitted", in.Number)
	case t.ExpiresAt != nil && !s.now().Before(*t.ExpiresAt):
		return "", nil, errs.OnField("number", "err.assess.number_expired", in.Number, day(*t.ExpiresAt))
	case !strings.HasPrefix(c.Path, t.path):
		return "", nil, errs.OnField("number", "err.assess.number_elsewhere", in.Number)
	}
	return HandAdmitted, t.ID, nil
}

// RefuseHandDown is the community's one click: it refuses a task handed
// down without admission, audited in the same transaction. Errors:
// NotFound, Forbidden, Conflict (admitted, exempt or refused already).
func (s *Service) RefuseHandDown(ctx context.Context, id int64, reason string) (HandDown, error) {
	p, err := auth.Require(ctx, auth.TaskRefuse)
	if err != nil {
		return HandDown{}, err
	}
	var v errs.Validation
	optional(&v, "reason", &reason, 1000)
	if err := v.Err(); err != nil {
		return HandDown{}, err
	}
	h, err := s.handDown(ctx, id)
	if err != nil {
		return HandDown{}, err
	}
	if err := auth.Allowed(p, auth.TaskRefuse, h.path, "err.assess.out_of_scope"); err != nil {
		return HandDown{}, err
	}
	if reason == "" {
		reason = "未经准入"
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_handdowns SET state = 'refused', reason = $1, refused_by = $2, refused_at = $3
			WHERE id = $4 AND state = 'unadmitted'`, reason, p.UserID, s.now().UTC(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.TakenOnField("state", "err.assess.not_refusable")
		}
		return s.record(ctx, "assess.handdown.refuse", "assess_handdown", id, reason)
	})
	if err != nil {
		return HandDown{}, errs.Wrap(err, "err.internal")
	}
	return s.handDown(ctx, id)
}

const handDownCols = `SELECT h.id, COALESCE(h.task_id, 0), COALESCE(t.number, ''), a.code, COALESCE(h.department_id, 0), h.department, h.kind, h.title, h.hours,
	h.emergency, h.state, h.reason, h.created_at, h.refused_at, h.area_path
	FROM assess_handdowns h JOIN areas a ON a.id = h.area_id LEFT JOIN assess_tasks t ON t.id = h.task_id `

func scanHandDown(r db.Scanner) (HandDown, error) {
	var h HandDown
	var refused sql.NullTime
	err := r.Scan(&h.ID, &h.TaskID, &h.Number, &h.Community, &h.DepartmentID, &h.Department, &h.Kind, &h.Title, &h.Hours,
		&h.Emergency, &h.State, &h.Reason, &h.CreatedAt, &refused, &h.path)
	h.RefusedAt = timePtr(refused)
	return h, err
}

func (s *Service) handDown(ctx context.Context, id int64) (HandDown, error) {
	h, err := scanHandDown(s.db.Q(ctx).QueryRowContext(ctx, handDownCols+"WHERE h.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return HandDown{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	return h, err
}

// HandDowns lists the newest hand-downs in the caller's areas, optionally
// of one state (a community's inbox: "unadmitted").
func (s *Service) HandDowns(ctx context.Context, state HandDownState) ([]HandDown, error) {
	p := auth.From(ctx)
	cond, args := scopeFilter(p, "h.area_path", 1, taskReaders...)
	if cond == "" {
		return nil, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	if state != "" {
		args = append(args, state)
		cond += fmt.Sprintf(" AND h.state = $%d", len(args))
	}
	return db.All(ctx, s.db.Q(ctx), scanHandDown, handDownCols+"WHERE "+cond+" ORDER BY h.id DESC LIMIT 500", args...)
}

// scopeFilter keeps rows whose area path lies inside a grant for one of
// perms; "" when no grant gives any.
func scopeFilter(p *auth.Principal, column string, first int, perms ...auth.Perm) (string, []any) {
	if p == nil {
		return "", nil
	}
	var conds []string
	var args []any
	for _, g := range p.Grants {
		if !slices.ContainsFunc(perms, func(perm auth.Perm) bool { return grantGives(p, g, perm) }) {
			continue
		}
		if g.AreaID == 0 {
			return "1 = 1", nil
		}
		n := first + len(args)
		conds = append(conds, fmt.Sprintf("(%s >= $%d AND %s < $%d)", column, n, column, n+1))
		args = append(args, g.AreaPath, auth.PathEnd(g.AreaPath))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// BurdenRow is one department's hand-downs to one community.
type BurdenRow struct {
	DepartmentID int64   `json:"department_id"`
	Department   string  `json:"department"` // its current name
	Community    string  `json:"community"`
	Name         string  `json:"name"`
	Admitted     int     `json:"admitted"`
	Unadmitted   int     `json:"unadmitted"` // not refused (yet)
	Refused      int     `json:"refused"`
	Exempt       int     `json:"exempt"`
	Hours        float64 `json:"hours"` // the hours of what the community carries: all but the refused
}

// BurdenReport is the burden a street's communities carry over a period.
type BurdenReport struct {
	Street string      `json:"street"`
	From   string      `json:"from"`
	To     string      `json:"to"`
	Rows   []BurdenRow `json:"rows"`
	Total  BurdenRow   `json:"total"`
}

// Burden adds up the hand-downs to the communities under a street, per
// department and community, created from from to to (days, inclusive).
// It groups by the department's id and shows its current name, so that a
// renamed department is one row, not one per spelling.
func (s *Service) Burden(ctx context.Context, street, from, to string) (BurdenReport, error) {
	if _, err := auth.Require(ctx, auth.AssessRead); err != nil {
		return BurdenReport{}, err
	}
	var v errs.Validation
	f, t := parseDay(&v, "from", from), parseDay(&v, "to", to)
	v.Check(!t.Before(f), "to", "err.assess.to_before_from")
	if err := v.Err(); err != nil {
		return BurdenReport{}, err
	}
	st, err := s.areaAt(ctx, street, "street", auth.AssessRead, area.Street, area.District)
	if err != nil {
		return BurdenReport{}, err
	}
	rows, err := db.All(ctx, s.db.Q(ctx), scanBurden, `SELECT COALESCE(d.id, 0), COALESCE(d.name, h.department), a.code, a.name, h.state, COUNT(*), COALESCE(SUM(h.hours), 0)
		FROM assess_handdowns h JOIN areas a ON a.id = h.area_id LEFT JOIN assess_departments d ON d.id = h.department_id
		WHERE h.area_path >= $1 AND h.area_path < $2 AND h.created_at >= $3 AND h.created_at < $4
		GROUP BY COALESCE(d.id, 0), COALESCE(d.name, h.department), a.code, a.name, h.state
		ORDER BY COALESCE(d.name, h.department), COALESCE(d.id, 0), a.code`,
		st.Path, auth.PathEnd(st.Path), f.UTC(), t.AddDate(0, 0, 1).UTC())
	if err != nil {
		return BurdenReport{}, err
	}
	r := BurdenReport{Street: st.Code, From: from, To: to, Total: BurdenRow{Department: "*"}}
	for _, b := range rows {
		if n := len(r.Rows); n == 0 || r.Rows[n-1].DepartmentID != b.DepartmentID || r.Rows[n-1].Department != b.Department ||
			r.Rows[n-1].Community != b.Community {
			r.Rows = append(r.Rows, BurdenRow{DepartmentID: b.DepartmentID, Department: b.Department, Community: b.Community, Name: b.Name})
		}
		b.addTo(&r.Rows[len(r.Rows)-1])
		b.addTo(&r.Total)
	}
	return r, nil
}

// burdenCount is one group of the burden query.
type burdenCount struct {
	DepartmentID                int64
	Department, Community, Name string
	State                       HandDownState
	N                           int
	Hours                       float64
}

func scanBurden(r db.Scanner) (burdenCount, error) {
	var b burdenCount
	err := r.Scan(&b.DepartmentID, &b.Department, &b.Community, &b.Name, &b.State, &b.N, &b.Hours)
	return b, err
}

func (b burdenCount) addTo(row *BurdenRow) {
	switch b.State {
	case HandAdmitted:
		row.Admitted += b.N
	case HandUnadmitted:
		row.Unadmitted += b.N
	case HandRefused:
		row.Refused += b.N
	case HandExempt:
		row.Exempt += b.N
	}
	if b.State != HandRefused {
		row.Hours += b.Hours
	}
}
