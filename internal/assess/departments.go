package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Department is one entry of a street's list of departments (部门名录):
// those that apply to admit tasks and hand them down. Applications and
// hand-downs name a department by id, so that the burden report counts a
// department once however people spell it. A department is deactivated,
// never deleted: the rows that name it keep their history.
type Department struct {
	ID         int64     `json:"id"`
	Street     string    `json:"street"` // the street's (or district's) area code
	StreetName string    `json:"street_name"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	path       string
}

// DepartmentInput adds a department to a street's list.
type DepartmentInput struct {
	Street string `json:"street"`
	Code   string `json:"code"`
	Name   string `json:"name"`
}

// DepartmentChange renames a department ("" keeps the name) and
// deactivates or reactivates it (nil keeps it as it is).
type DepartmentChange struct {
	Name   string `json:"name"`
	Active *bool  `json:"active"`
}

// DepartmentQuery selects departments: of one street ("" for every street
// the caller's areas concern), active ones only or all.
type DepartmentQuery struct {
	Street     string
	ActiveOnly bool
}

// departmentEditor may keep the list: the street's burden-reduction group
// (task.review), because it is the group that decides who may put tasks
// on the communities, and it works at the street, where the list lives.
// assess.manage is not enough: it is the assessors' permission over
// scorecards (supervisors hold it district-wide), and an assessor adding
// departments would bypass the group the rules put in charge.
const departmentEditor = auth.TaskReview

var departmentCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,20}$`)

const departmentCols = `SELECT d.id, a.code, a.name, d.code, d.name, d.active, d.created_at, d.area_path
	FROM assess_departments d JOIN areas a ON a.id = d.area_id `

func scanDepartment(r db.Scanner) (Department, error) {
	var d Department
	err := r.Scan(&d.ID, &d.Street, &d.StreetName, &d.Code, &d.Name, &d.Active, &d.CreatedAt, &d.path)
	return d, err
}

// Departments lists the departments of the streets the caller's areas
// concern (a street above a community's staff, a street below a
// district's department), the same readers as the task registry's.
// Errors: Forbidden.
func (s *Service) Departments(ctx context.Context, q DepartmentQuery) ([]Department, error) {
	cond, args := relatedFilter(auth.From(ctx), "d.area_path", 1, taskReaders...)
	if cond == "" {
		return nil, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	if q.Street = strings.TrimSpace(q.Street); q.Street != "" {
		args = append(args, q.Street)
		cond += fmt.Sprintf(" AND a.code = $%d", len(args))
	}
	if q.ActiveOnly {
		args = append(args, true)
		cond += fmt.Sprintf(" AND d.active = $%d", len(args))
	}
	return db.All(ctx, s.db.Q(ctx), scanDepartment, departmentCols+"WHERE "+cond+" ORDER BY a.code, d.code LIMIT 1000", args...)
}

// Department reads one department the caller may see. Errors: NotFound.
func (s *Service) Department(ctx context.Context, id int64) (Department, error) {
	cond, args := relatedFilter(auth.From(ctx), "d.area_path", 2, taskReaders...)
	if cond == "" {
		return Department{}, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	d, err := scanDepartment(s.db.Q(ctx).QueryRowContext(ctx, departmentCols+"WHERE d.id = $1 AND "+cond, append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Department{}, errs.E(errs.NotFound, "err.assess.not_found")
	}
	return d, err
}

// CreateDepartment adds a department to a street's list, audited.
// Errors: Invalid, Forbidden, Conflict (code or name taken in the street).
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (Department, error) {
	if _, err := auth.Require(ctx, departmentEditor); err != nil {
		return Department{}, err
	}
	var v errs.Validation
	in.Code = strings.TrimSpace(in.Code)
	v.Check(departmentCode.MatchString(in.Code), "code", "err.assess.department_code")
	text(&v, "name", &in.Name, 100)
	if err := v.Err(); err != nil {
		return Department{}, err
	}
	st, err := s.areaAt(ctx, in.Street, "street", departmentEditor, area.Street, area.District)
	if err != nil {
		return Department{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.departmentFree(ctx, st.Path, 0, in.Code, in.Name); err != nil {
			return err
		}
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO assess_departments (area_id, area_path, code, name, active, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, st.ID, st.Path, in.Code, in.Name, true, s.now().UTC()).Scan(&id)
		if db.IsUnique(err) { // a concurrent add won the race
			return errs.TakenOnField("code", "err.assess.department_code_taken", in.Code)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "assess.department.create", "assess_department", id, in.Code+" "+in.Name)
	})
	if err != nil {
		return Department{}, errs.Wrap(err, "err.internal")
	}
	return s.Department(ctx, id)
}

// departmentFree checks that no department of the street (with path
// streetPath) other than except has the code or the name, saying on the
// field which is taken.
func (s *Service) departmentFree(ctx context.Context, streetPath string, except int64, code, name string) error {
	rows, err := db.All(ctx, s.db.Q(ctx), func(r db.Scanner) ([2]string, error) {
		var cn [2]string
		return cn, r.Scan(&cn[0], &cn[1])
	}, `SELECT code, name FROM assess_departments WHERE area_path = $1 AND id <> $2 AND (code = $3 OR name = $4)`,
		streetPath, except, code, name)
	if err != nil {
		return err
	}
	for _, cn := range rows {
		if cn[1] == name {
			return errs.TakenOnField("name", "err.assess.department_name_taken", name)
		}
		return errs.TakenOnField("code", "err.assess.department_code_taken", code)
	}
	return nil
}

// ChangeDepartment renames, deactivates or reactivates a department,
// audited. Rows already naming it keep the name they were given (their
// history); the burden report shows the current name. Errors: Invalid,
// NotFound, Forbidden, Conflict (the name is taken in the street).
func (s *Service) ChangeDepartment(ctx context.Context, id int64, ch DepartmentChange) (Department, error) {
	p, err := auth.Require(ctx, departmentEditor)
	if err != nil {
		return Department{}, err
	}
	var v errs.Validation
	optional(&v, "name", &ch.Name, 100)
	if err := v.Err(); err != nil {
		return Department{}, err
	}
	d, err := s.Department(ctx, id)
	if err != nil {
		return Department{}, err
	}
	if err := auth.Allowed(p, departmentEditor, d.path, "err.assess.out_of_scope"); err != nil {
		return Department{}, err
	}
	name, active := d.Name, d.Active
	if ch.Name != "" {
		name = ch.Name
	}
	if ch.Active != nil {
		active = *ch.Active
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.departmentFree(ctx, d.path, id, "", name); err != nil {
			return err
		}
		_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_departments SET name = $1, active = $2 WHERE id = $3`, name, active, id)
		if db.IsUnique(err) {
			return errs.TakenOnField("name", "err.assess.department_name_taken", name)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "assess.department.change", "assess_department", id,
			fmt.Sprintf("%s → %s, active %t → %t", d.Name, name, d.Active, active))
	})
	if err != nil {
		return Department{}, errs.Wrap(err, "err.internal")
	}
	return s.Department(ctx, id)
}

// departmentRequired checks that a request names a department at all, by
// id or (older clients) by name, alongside the other fields.
func departmentRequired(v *errs.Validation, id int64, name *string) {
	optional(v, "department", name, 100)
	v.Check(id != 0 || *name != "", "department_id", "err.assess.department_required")
}

// activeDepartment resolves the department a request names for the
// street with path streetPath: by id, which must be an active department
// of that street; or, for clients written before the list, by a name that
// is exactly an active department's. Anything else is a field error that
// says to pick one from the list.
func (s *Service) activeDepartment(ctx context.Context, streetPath string, id int64, name string) (Department, error) {
	if id == 0 {
		d, err := scanDepartment(s.db.Q(ctx).QueryRowContext(ctx, departmentCols+"WHERE d.area_path = $1 AND d.name = $2 AND d.active = $3",
			streetPath, name, true))
		if errors.Is(err, sql.ErrNoRows) {
			return Department{}, errs.OnField("department", "err.assess.department_pick", name)
		}
		return d, err
	}
	d, err := scanDepartment(s.db.Q(ctx).QueryRowContext(ctx, departmentCols+"WHERE d.id = $1 AND d.area_path = $2", id, streetPath))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Department{}, errs.OnField("department_id", "err.assess.department_unknown", id)
	case err != nil:
		return Department{}, err
	case !d.Active:
		return Department{}, errs.OnField("department_id", "err.assess.department_inactive", d.Name)
	}
	return d, nil
}
