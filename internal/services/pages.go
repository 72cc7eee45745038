package services

import (
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// The desk's HTML pages beyond the overview: a resident applies from a
// phone, staff work the queue of applications and bookings, and anyone
// looks at one day of a community's facilities. Forms post and redirect;
// a refused form is shown again with the bilingual messages.

// formError turns an error into what the "formerror" partial shows.
func (h *handler) formError(r *http.Request, err error) map[string]any {
	msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, err)
	byField := map[string]string{}
	for _, f := range fields {
		byField[f.Field] += f.Message + " "
	}
	return map[string]any{"Error": msg, "Fields": byField}
}

// applyPage is the application form of a catalog item.
func (h *handler) applyPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderApply(w, r, http.StatusOK, nil)
}

func (h *handler) renderApply(w http.ResponseWriter, r *http.Request, status int, failed error) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	it, err := h.svc.Item(r.Context(), id)
	if err != nil {
		return err
	}
	p := auth.From(r.Context())
	_, idErr := h.svc.reg.IdentityOf(r.Context(), p.UserID)
	data := map[string]any{"Item": it, "Linked": idErr == nil, "Proxy": p.CanAnywhere(auth.ServiceHandle),
		"MaxMB": MaxUploadBytes >> 20, "Form": map[string]any{}}
	if failed != nil {
		data["Form"] = h.formError(r, failed)
	}
	return h.srv.RenderStatus(w, r, status, "services_apply", web.PageData{Title: "services.apply", Data: data})
}

// applyForm takes the multipart form and sends the applicant to the
// tracking page of their new application.
func (h *handler) applyForm(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	files, err := formFiles(r)
	if err != nil {
		return err
	}
	resident, _ := strconv.ParseInt(r.FormValue("resident_id"), 10, 64)
	a, err := h.svc.Apply(r.Context(), ApplyInput{Item: id, Name: r.FormValue("name"), Phone: r.FormValue("phone"),
		ResidentID: resident, Note: r.FormValue("note"), Files: files})
	if errs.CodeOf(err) == errs.Invalid {
		return h.renderApply(w, r, http.StatusBadRequest, err)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/services/track?number="+a.Number, http.StatusSeeOther)
	return nil
}

// deskPage is the staff queue: open applications and bookings to approve.
func (h *handler) deskPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var open []Application
	for _, st := range []AppState{Submitted, Forwarded, Missing} {
		page, err := h.svc.Applications(ctx, AppQuery{State: st, Limit: 100})
		if err != nil {
			return err
		}
		open = append(open, page.Items...)
	}
	pending, err := h.svc.PendingBookings(ctx)
	if err != nil {
		return err
	}
	p := auth.From(ctx)
	return h.render(w, r, "services_desk", "services.desk", map[string]any{"Applications": open, "Bookings": pending, "Section": "desk",
		"CanManage": p.CanAnywhere(auth.ServiceManage), "CanHandle": p.CanAnywhere(auth.ServiceHandle), "CanRead": p.CanAnywhere(auth.ServiceRead)})
}

// applicationPage shows an application to staff with the forms of the
// steps they may take.
func (h *handler) applicationPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderApplication(w, r, http.StatusOK, nil)
}

func (h *handler) renderApplication(w http.ResponseWriter, r *http.Request, status int, failed error) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.Application(r.Context(), id)
	if err != nil {
		return err
	}
	it, err := h.svc.Item(r.Context(), a.ItemID)
	if err != nil {
		return err
	}
	data := map[string]any{"App": a, "Item": it, "CanHandle": auth.From(r.Context()).Can(auth.ServiceHandle, a.areaPath), "Form": map[string]any{}}
	if failed != nil {
		data["Form"] = h.formError(r, failed)
	}
	return h.srv.RenderStatus(w, r, status, "services_application", web.PageData{Title: "services.application", Data: data})
}

// stepForm takes a step from the application page.
func (h *handler) stepForm(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := StepInput{Materials: r.PostForm["materials"], Note: r.PostFormValue("note"), Department: r.PostFormValue("department")}
	_, err = h.svc.Step(r.Context(), id, AppAction(r.PostFormValue("action")), in)
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.Conflict {
		return h.renderApplication(w, r, web.Status(err), err)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/services/applications/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// moveBookingForm approves, refuses, cancels or records attendance from
// the desk or the facility page.
func (h *handler) moveBookingForm(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	b, err := h.svc.MoveBooking(r.Context(), id, BookingAction(r.PostFormValue("action")), r.PostFormValue("reason"))
	if err != nil {
		return err
	}
	back := "/services/desk"
	if r.PostFormValue("back") == "facility" {
		back = "/services/facilities/" + strconv.FormatInt(b.FacilityID, 10) + "?from=" + b.Day
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// communityPage is one day of every facility of a community.
func (h *handler) communityPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	data := map[string]any{"Community": q.Get("community"), "Day": q.Get("day")}
	if q.Get("community") != "" {
		cal, err := h.svc.CommunityCalendar(r.Context(), q.Get("community"), q.Get("day"))
		if err != nil {
			return err
		}
		data["Calendar"] = cal
	}
	return h.render(w, r, "services_calendar", "services.calendar", data)
}
