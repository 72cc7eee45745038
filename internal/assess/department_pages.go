package assess

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// departmentRow is a department as the list page shows it: with whether
// the caller may rename or deactivate it (the street's burden-reduction
// group).
type departmentRow struct {
	Department
	CanManage bool
}

// departmentsPage lists the departments of the caller's streets (one
// street with ?street=CODE), with the forms that keep the list.
func (h *handler) departmentsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	street := r.URL.Query().Get("street")
	ds, err := h.svc.Departments(ctx, DepartmentQuery{Street: street})
	if err != nil {
		return err
	}
	p := auth.From(ctx)
	rows := make([]departmentRow, len(ds))
	for i, d := range ds {
		rows[i] = departmentRow{Department: d, CanManage: p.Can(departmentEditor, d.path)}
	}
	return h.render(w, r, "assess_departments", "assess.departments.title", map[string]any{
		"Rows": rows, "Street": street, "CanAdd": p.CanAnywhere(departmentEditor)})
}

// createDepartmentForm adds a department and shows its street's list.
func (h *handler) createDepartmentForm(w http.ResponseWriter, r *http.Request) error {
	in := DepartmentInput{Street: r.PostFormValue("street"), Code: r.PostFormValue("code"), Name: r.PostFormValue("name")}
	d, err := h.svc.CreateDepartment(r.Context(), in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/assess/departments?street="+url.QueryEscape(d.Street), http.StatusSeeOther)
	return nil
}

// changeDepartmentForm renames (field name) or deactivates and
// reactivates (field active, "0" or "1") a department.
func (h *handler) changeDepartmentForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		ch := DepartmentChange{Name: r.PostFormValue("name")}
		if v := r.PostFormValue("active"); v != "" {
			active := v == "1"
			ch.Active = &active
		}
		d, err := h.svc.ChangeDepartment(r.Context(), id, ch)
		if err != nil {
			return err
		}
		http.Redirect(w, r, "/assess/departments?street="+url.QueryEscape(d.Street), http.StatusSeeOther)
		return nil
	})
}

// formDepartment reads the department select of a form (department_id).
func formDepartment(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PostFormValue("department_id"), 10, 64)
	return id
}

// formHours reads an hours field: blank is 0; a bad number is -1, which
// the service refuses on the field.
func formHours(r *http.Request) float64 {
	v := r.PostFormValue("hours")
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return -1
	}
	return f
}

// applyForm is a department's application from the tasks page. The form
// has no street field: the department chosen belongs to one street, and
// the application is for that street.
func (h *handler) applyForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// Asked before the department is looked up, so that a caller who may
	// not apply hears that rather than about the field.
	if _, err := auth.Require(ctx, auth.TaskApply); err != nil {
		return err
	}
	street, err := h.departmentStreet(ctx, formDepartment(r))
	if err != nil {
		return err
	}
	in := TaskInput{Street: street, List: List(r.PostFormValue("list")), DepartmentID: formDepartment(r),
		Title: r.PostFormValue("title"), Content: r.PostFormValue("content"), LegalBasis: r.PostFormValue("legal_basis"),
		Hours: formHours(r), Cadence: r.PostFormValue("cadence"), Funding: r.PostFormValue("funding"), Staff: r.PostFormValue("staff")}
	if _, err := h.svc.Apply(ctx, in); err != nil {
		return err
	}
	http.Redirect(w, r, "/assess/tasks", http.StatusSeeOther)
	return nil
}

// departmentStreet is the code of the street whose list holds the
// department; a department the caller cannot see is a field error.
func (h *handler) departmentStreet(ctx context.Context, id int64) (string, error) {
	if id == 0 {
		return "", errs.OnField("department_id", "err.assess.department_required")
	}
	d, err := h.svc.Department(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		return "", errs.OnField("department_id", "err.assess.department_unknown", id)
	}
	return d.Street, err
}

// handDownForm is a department's hand-down from the tasks page.
func (h *handler) handDownForm(w http.ResponseWriter, r *http.Request) error {
	in := HandDownInput{Community: r.PostFormValue("community"), DepartmentID: formDepartment(r),
		Kind: HandDownKind(r.PostFormValue("kind")), Title: r.PostFormValue("title"), Hours: formHours(r),
		Number: r.PostFormValue("number"), Emergency: r.PostFormValue("emergency")}
	hd, err := h.svc.HandDown(r.Context(), in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/assess/tasks#handdown-%d", hd.ID), http.StatusSeeOther)
	return nil
}
