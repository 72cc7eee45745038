package assess

import (
	"context"
	"database/sql"
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
)

// List is one of a community's work lists (三项清单).
type List string

const (
	Duty     List = "duty"     // 依法履行职责事项
	Assist   List = "assist"   // 依法协助政府工作事项
	Negative List = "negative" // 负面清单: not to be given to communities
)

// Lists are the lists in the order pages show them.
var Lists = []List{Duty, Assist, Negative}

// TaskState is where an admission application stands.
type TaskState string

const (
	Pending  TaskState = "pending"
	Admitted TaskState = "admitted"
	Refused  TaskState = "refused"
	Revoked  TaskState = "revoked"
)

// ReviewDays is how long (calendar days, about 15 working days as in the
// localities' rules) the burden-reduction group has to decide.
const ReviewDays = 21

// Task is an item of the admission registry (准入事项).
type Task struct {
	ID           int64      `json:"id"`
	Number       string     `json:"number,omitempty"` // admission number, once admitted
	List         List       `json:"list"`
	Street       string     `json:"street"` // the area whose communities it concerns
	DepartmentID int64      `json:"department_id,omitempty"`
	Department   string     `json:"department"` // its name when the task was applied for
	Title        string     `json:"title"`
	Content      string     `json:"content"`
	LegalBasis   string     `json:"legal_basis"`
	Hours        float64    `json:"hours"`   // workload per occurrence, hours
	Cadence      string     `json:"cadence"` // once, monthly, quarterly, yearly
	Funding      string     `json:"funding"` // 费随事转
	Staff        string     `json:"staff"`   // 权随事转、人随事转
	State        TaskState  `json:"state"`
	Reason       string     `json:"reason,omitempty"`
	ReviewDue    time.Time  `json:"review_due"`
	Overdue      bool       `json:"overdue"` // pending past review_due
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	path         string
}

// TaskInput is an application (or, from the street, a list entry). The
// department is one of the street's list, by id; Department (its exact
// name) is still accepted from clients written before the list.
type TaskInput struct {
	Street       string  `json:"street"`
	List         List    `json:"list"`
	DepartmentID int64   `json:"department_id"`
	Department   string  `json:"department"`
	Title        string  `json:"title"`
	Content      string  `json:"content"`
	LegalBasis   string  `json:"legal_basis"`
	Hours        float64 `json:"hours"`
	Cadence      string  `json:"cadence"`
	Funding      string  `json:"funding"`
	Staff        string  `json:"staff"`
	ExpiresOn    string  `json:"expires_on"` // list entries the street adds directly
}

// Cadences are how often a task recurs.
var Cadences = []string{"once", "monthly", "quarterly", "yearly"}

func (in *TaskInput) validate(v *errs.Validation, direct bool) {
	lists := []List{Duty, Assist}
	if direct {
		lists = Lists
	}
	v.Check(slices.Contains(lists, in.List), "list", "err.assess.list")
	departmentRequired(v, in.DepartmentID, &in.Department)
	text(v, "title", &in.Title, 200)
	optional(v, "content", &in.Content, 4000)
	if in.List != Negative {
		text(v, "content", &in.Content, 4000)
		text(v, "legal_basis", &in.LegalBasis, 500)
		v.Check(in.Hours > 0 && in.Hours <= 10000, "hours", "err.assess.hours")
		text(v, "funding", &in.Funding, 500)
		text(v, "staff", &in.Staff, 500)
	}
	if in.Cadence == "" {
		in.Cadence = "once"
	}
	v.Check(slices.Contains(Cadences, in.Cadence), "cadence", "err.assess.cadence")
}

// Apply records a department's application to admit a task for the
// communities of a street, for an active department of the street's
// list. Errors: Invalid (fields), Forbidden.
func (s *Service) Apply(ctx context.Context, in TaskInput) (Task, error) {
	if _, err := auth.Require(ctx, auth.TaskApply); err != nil {
		return Task{}, err
	}
	var v errs.Validation
	in.validate(&v, false)
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	st, err := s.areaAt(ctx, in.Street, "street", auth.TaskApply, area.Street, area.District)
	if err != nil {
		return Task{}, err
	}
	if err := s.taskDepartment(ctx, st, &in); err != nil {
		return Task{}, err
	}
	now := s.now().UTC()
	return s.insertTask(ctx, st, in, Pending, now.AddDate(0, 0, ReviewDays), nil, "assess.task.apply")
}

// AddToList puts a task on a list directly, as the street's
// burden-reduction group does with statutory duties and the negative
// list: it is admitted at once (a negative entry gets no number).
func (s *Service) AddToList(ctx context.Context, in TaskInput) (Task, error) {
	if _, err := auth.Require(ctx, auth.TaskReview); err != nil {
		return Task{}, err
	}
	var v errs.Validation
	in.validate(&v, true)
	var expires *time.Time
	if in.List != Negative {
		e := parseDay(&v, "expires_on", in.ExpiresOn)
		v.Check(e.After(s.now()), "expires_on", "err.assess.expiry_past")
		expires = &e
	}
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	st, err := s.areaAt(ctx, in.Street, "street", auth.TaskReview, area.Street, area.District)
	if err != nil {
		return Task{}, err
	}
	if err := s.taskDepartment(ctx, st, &in); err != nil {
		return Task{}, err
	}
	return s.insertTask(ctx, st, in, Admitted, s.now().UTC(), expires, "assess.task.list")
}

// taskDepartment resolves the application's department among the
// street's active ones, and keeps its id and its current name.
func (s *Service) taskDepartment(ctx context.Context, st area.Area, in *TaskInput) error {
	d, err := s.activeDepartment(ctx, st.Path, in.DepartmentID, in.Department)
	in.DepartmentID, in.Department = d.ID, d.Name
	return err
}

func (s *Service) insertTask(ctx context.Context, st area.Area, in TaskInput, state TaskState, due time.Time, expires *time.Time, action string) (Task, error) {
	now := s.now().UTC()
	var id int64
	err := s.db.Write(ctx, func(ctx context.Context) error {
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO assess_tasks (list, area_id, area_path, department_id, department, title, content, legal_basis,
			hours, cadence, funding, staff, state, applied_by, review_due, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
			in.List, st.ID, st.Path, in.DepartmentID, in.Department, in.Title, in.Content, in.LegalBasis, in.Hours, in.Cadence, in.Funding, in.Staff,
			state, actorID(ctx), due, utcPtr(expires), now).Scan(&id)
		if err != nil {
			return err
		}
		if state == Admitted && in.List != Negative {
			if err := s.number(ctx, id, now); err != nil {
				return err
			}
		}
		return s.record(ctx, action, "assess_task", id, string(in.List)+" "+in.Department)
	})
	if err != nil {
		return Task{}, errs.Wrap(err, "err.internal")
	}
	return s.task(ctx, id)
}

// number gives an admitted task its admission number, from its id so that
// concurrent decisions never draw the same one.
func (s *Service) number(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_tasks SET number = $1, decided_at = $2, decided_by = $3 WHERE id = $4`,
		fmt.Sprintf("ZR-%d-%06d", now.In(local).Year(), id), now, actorID(ctx), id)
	return err
}

// Decision is the burden-reduction group's answer to an application.
type Decision struct {
	Admit     bool   `json:"admit"`
	Reason    string `json:"reason"`     // required to refuse
	ExpiresOn string `json:"expires_on"` // required to admit: YYYY-MM-DD
}

// Decide admits or refuses a pending application. Errors: Invalid
// (fields), NotFound, Forbidden, Conflict (decided already).
func (s *Service) Decide(ctx context.Context, id int64, d Decision) (Task, error) {
	p, err := auth.Require(ctx, auth.TaskReview)
	if err != nil {
		return Task{}, err
	}
	var v errs.Validation
	var expires time.Time
	if d.Admit {
		optional(&v, "reason", &d.Reason, 1000)
		expires = parseDay(&v, "expires_on", d.ExpiresOn)
		v.Check(expires.After(s.now()), "expires_on", "err.assess.expiry_past")
	} else {
		text(&v, "reason", &d.Reason, 1000)
	}
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	t, err := s.task(ctx, id)
	if err != nil {
		return Task{}, err
	}
	if err := auth.Allowed(p, auth.TaskReview, t.path, "err.assess.out_of_scope"); err != nil {
		return Task{}, err
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		now := s.now().UTC()
		state, exp := Refused, any(nil)
		if d.Admit {
			state, exp = Admitted, expires.UTC()
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_tasks SET state = $1, reason = $2, expires_at = $3, decided_at = $4, decided_by = $5
			WHERE id = $6 AND state = 'pending'`, state, d.Reason, exp, now, p.UserID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.TakenOnField("state", "err.assess.decided")
		}
		if d.Admit {
			if err := s.number(ctx, id, now); err != nil {
				return err
			}
		}
		return s.record(ctx, "assess.task."+string(state), "assess_task", id, d.Reason)
	})
	if err != nil {
		return Task{}, errs.Wrap(err, "err.internal")
	}
	return s.task(ctx, id)
}

// Revoke takes an admitted task off the lists (撤销); hand-downs can no
// longer cite it.
func (s *Service) Revoke(ctx context.Context, id int64, reason string) (Task, error) {
	p, err := auth.Require(ctx, auth.TaskReview)
	if err != nil {
		return Task{}, err
	}
	var v errs.Validation
	text(&v, "reason", &reason, 1000)
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	t, err := s.task(ctx, id)
	if err != nil {
		return Task{}, err
	}
	if err := auth.Allowed(p, auth.TaskReview, t.path, "err.assess.out_of_scope"); err != nil {
		return Task{}, err
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_tasks SET state = 'revoked', reason = $1 WHERE id = $2 AND state = 'admitted'`, reason, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.TakenOnField("state", "err.assess.not_admitted")
		}
		return s.record(ctx, "assess.task.revoke", "assess_task", id, reason)
	})
	if err != nil {
		return Task{}, errs.Wrap(err, "err.internal")
	}
	return s.task(ctx, id)
}

const taskCols = `SELECT t.id, COALESCE(t.number, ''), t.list, a.code, COALESCE(t.department_id, 0), t.department, t.title, t.content, t.legal_basis, t.hours, t.cadence,
	t.funding, t.staff, t.state, t.reason, t.review_due, t.decided_at, t.expires_at, t.created_at, t.area_path
	FROM assess_tasks t JOIN areas a ON a.id = t.area_id `

func (s *Service) scanTask(r db.Scanner) (Task, error) {
	var t Task
	var decided, expires sql.NullTime
	err := r.Scan(&t.ID, &t.Number, &t.List, &t.Street, &t.DepartmentID, &t.Department, &t.Title, &t.Content, &t.LegalBasis, &t.Hours, &t.Cadence,
		&t.Funding, &t.Staff, &t.State, &t.Reason, &t.ReviewDue, &decided, &expires, &t.CreatedAt, &t.path)
	t.DecidedAt, t.ExpiresAt = timePtr(decided), timePtr(expires)
	t.Overdue = t.State == Pending && s.now().After(t.ReviewDue)
	return t, err
}

// task reads one task, unchecked.
func (s *Service) task(ctx context.Context, id int64) (Task, error) {
	t, err := s.scanTask(s.db.Q(ctx).QueryRowContext(ctx, taskCols+"WHERE t.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	return t, err
}

// TaskQuery filters the registry.
type TaskQuery struct {
	List  List      `json:"list"`
	State TaskState `json:"state"`
}

// taskReaders may see the registry: assessors, the departments that
// apply, the communities that refuse.
var taskReaders = []auth.Perm{auth.AssessRead, auth.TaskApply, auth.TaskRefuse, auth.TaskReview}

// Tasks lists the registry's tasks that concern the caller's areas (set
// for an area above or below a grant), pending first, overdue ones
// flagged.
func (s *Service) Tasks(ctx context.Context, q TaskQuery) ([]Task, error) {
	p := auth.From(ctx)
	cond, args := relatedFilter(p, "t.area_path", 1, taskReaders...)
	if cond == "" {
		return nil, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	if q.List != "" {
		args = append(args, q.List)
		cond += fmt.Sprintf(" AND t.list = $%d", len(args))
	}
	if q.State != "" {
		args = append(args, q.State)
		cond += fmt.Sprintf(" AND t.state = $%d", len(args))
	}
	return db.All(ctx, s.db.Q(ctx), s.scanTask, taskCols+"WHERE "+cond+
		" ORDER BY CASE t.state WHEN 'pending' THEN 0 ELSE 1 END, t.review_due, t.id LIMIT 500", args...)
}

// relatedFilter keeps rows whose area (column holds its path) lies inside
// a grant for one of perms, or above one: a task set for a street
// concerns the community staff of each of its communities. The ancestors
// of a grant are listed from its path, so the condition is plain
// comparisons that run alike on both engines. "" when no grant gives any
// of perms.
func relatedFilter(p *auth.Principal, column string, first int, perms ...auth.Perm) (string, []any) {
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
		for _, up := range ancestors(g.AreaPath) {
			args = append(args, up)
			conds = append(conds, fmt.Sprintf("%s = $%d", column, first+len(args)-1))
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// grantGives reports whether grant g itself (not another of p's grants)
// gives perm.
func grantGives(p *auth.Principal, g auth.GrantInfo, perm auth.Perm) bool {
	one := &auth.Principal{UserID: p.UserID, Grants: []auth.GrantInfo{g}, Scopes: p.Scopes}
	return one.CanAnywhere(perm)
}

// ancestors lists the paths strictly above path: "/1/5/9/" → "/1/", "/1/5/".
func ancestors(path string) []string {
	var out []string
	for i := 1; i < len(path)-1; i++ {
		if path[i] == '/' {
			out = append(out, path[:i+1])
		}
	}
	return out
}

// parentPath is the path of the area directly above path: a community's
// street.
func parentPath(path string) string {
	up := ancestors(path)
	if len(up) == 0 {
		return ""
	}
	return up[len(up)-1]
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// record writes an audit row in the caller's transaction.
func (s *Service) record(ctx context.Context, action, targetType string, id int64, detail string) error {
	return s.audit.Record(ctx, audit.Entry{Action: action, TargetType: targetType, TargetID: strconv.FormatInt(id, 10), Detail: detail})
}
