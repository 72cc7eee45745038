package volunteer

import (
	"context"
	"fmt"
	"maps"
	"net/http"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/web"
)

// The staff pages that mend records: a volunteer's page with the hours
// and points ledgers, where a correction is a new entry with a reason
// (never an edit), and a star on notice is withdrawn with a reason; and
// the insurance form on an activity's page. Each form calls the service
// function the API calls, so permissions and validation are the same.

func ledgerPageRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /volunteer/volunteers/{id}", h.volunteerPage},
		{"POST /volunteer/volunteers/{id}/hours", h.correctHours},
		{"POST /volunteer/volunteers/{id}/points", h.correctPoints},
		{"POST /volunteer/volunteers/{id}/stars/withdraw", h.withdrawStar},
		{"POST /volunteer/activities/{id}/insurance", h.recordInsurance},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
}

func (h *handler) volunteerPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.volunteer(w, r, id, nil, nil) })
}

// volunteer shows a volunteer with their ledgers and stars, and to those
// who manage their community the forms to mend them; extra holds what the
// user typed into a refused form.
func (h *handler) volunteer(w http.ResponseWriter, r *http.Request, id int64, formErr error, extra map[string]any) error {
	ctx := r.Context()
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	v, err := h.svc.Volunteer(ctx, id)
	if err != nil {
		return err
	}
	if data["Hours"], err = h.svc.HoursOf(ctx, id); err != nil {
		return err
	}
	if data["Points"], err = h.svc.PointsOf(ctx, id); err != nil {
		return err
	}
	stars, err := h.svc.StarsOf(ctx, id)
	if err != nil {
		return err
	}
	var onNotice []int
	for _, st := range stars {
		if st.OnNotice() {
			onNotice = append(onNotice, st.Level)
		}
	}
	data["Volunteer"], data["Stars"], data["OnNotice"] = v, stars, onNotice
	data["Manage"] = auth.From(ctx).Can(auth.VolunteerManage, v.AreaPath)
	maps.Copy(data, extra)
	return h.render(w, r, http.StatusOK, "volunteer_volunteer", data)
}

// onVolunteer runs a form's action on the volunteer {id}: back to their
// page with notice when it succeeds, else the page again with the error
// and what was typed (under formKey).
func (h *handler) onVolunteer(w http.ResponseWriter, r *http.Request, notice, formKey string,
	fn func(ctx context.Context, id int64) (form any, err error)) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		form, err := fn(r.Context(), id)
		if err != nil {
			return h.volunteer(w, r, id, err, map[string]any{formKey: form})
		}
		return doneTo(w, r, fmt.Sprintf("/volunteer/volunteers/%d", id), notice)
	})
}

func correctionForm(r *http.Request) CorrectionInput {
	return CorrectionInput{Amount: formInt(r, "amount"), Reason: r.PostFormValue("reason")}
}

func (h *handler) correctHours(w http.ResponseWriter, r *http.Request) error {
	return h.onVolunteer(w, r, "hours", "HoursForm", func(ctx context.Context, id int64) (any, error) {
		in := correctionForm(r)
		return in, h.svc.CorrectHours(ctx, id, in)
	})
}

func (h *handler) correctPoints(w http.ResponseWriter, r *http.Request) error {
	return h.onVolunteer(w, r, "points", "PointsForm", func(ctx context.Context, id int64) (any, error) {
		in := correctionForm(r)
		return in, h.svc.CorrectPoints(ctx, id, in)
	})
}

// StarForm is what the withdrawal form holds.
type StarForm struct {
	Level  int
	Reason string
}

func (h *handler) withdrawStar(w http.ResponseWriter, r *http.Request) error {
	return h.onVolunteer(w, r, "star", "StarForm", func(ctx context.Context, id int64) (any, error) {
		in := StarForm{Level: formInt(r, "level"), Reason: r.PostFormValue("reason")}
		return in, h.svc.WithdrawStar(ctx, id, in.Level, in.Reason)
	})
}

func (h *handler) recordInsurance(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		in := Insurance{Insurer: r.PostFormValue("insurer"), Policy: r.PostFormValue("insurance"),
			From: r.PostFormValue("covered_from"), To: r.PostFormValue("covered_to")}
		if _, err := h.svc.RecordInsurance(r.Context(), id, in); err != nil {
			return h.activity(w, r, id, err, map[string]any{"InsuranceForm": in, "InsuranceOpen": true})
		}
		return doneTo(w, r, fmt.Sprintf("/volunteer/activities/%d", id), "insurance")
	})
}
