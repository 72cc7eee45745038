package volunteer

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/platform/web"
)

// The module's scripts: checkin.js fills the check-in form with the
// phone's position and renews the organiser's code; report.js draws the
// report's charts. They are served from this module because the pages
// allow scripts from the site only (no inline script).
var (
	//go:embed checkin.js
	checkinJS []byte
	//go:embed report.js
	reportJS []byte
)

// pageRoutes are the server-rendered pages: the staff desk and the
// resident's own page (one URL, by role), activities, check-in on the
// phone, proofs, the report, and the public calendar and verification.
func pageRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /volunteer", h.indexPage},
		{"POST /volunteer/register", h.registerSelf},
		{"POST /volunteer/volunteers/{id}/verify", h.verify},
		{"POST /volunteer/activities", h.publish},
		{"GET /volunteer/activities/{id}", h.activityPage},
		{"POST /volunteer/activities/{id}/signup", h.signUp},
		{"POST /volunteer/signups/{id}/confirm", h.confirm},
		{"POST /volunteer/signups/{id}/stamp", h.stamp},
		{"POST /volunteer/signups/{id}/credit", h.credit},
		{"GET /volunteer/checkin", h.checkinPage},
		{"POST /volunteer/checkin", h.checkinForm},
		{"POST /volunteer/rewards/{id}/redeem", h.redeem},
		{"POST /volunteer/proofs", h.issueProof},
		{"GET /volunteer/proofs/{number}", h.proofPage},
		{"GET /volunteer/report", h.reportPage},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
	staffPageRoutes(h)
	ledgerPageRoutes(h)
	h.srv.Handle(web.Route{Pattern: "GET /volunteer/checkin.js", Access: web.Public}, script(checkinJS))
	h.srv.Handle(web.Route{Pattern: "GET /volunteer/report.js", Access: web.Public}, script(reportJS))
	h.srv.Handle(web.Route{Pattern: "GET /volunteer/verify", Access: web.Public}, h.verifyPage)
	h.srv.Handle(web.Route{Pattern: "GET /volunteer/calendar/{community}", Access: web.Public}, h.calendarPage)
}

func script(js []byte) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, err := w.Write(js)
		return err
	}
}

// formError puts an input error on the page; other errors end the request.
func (h *handler) formError(ctx context.Context, data map[string]any, err error) error {
	var e *errs.Error
	if err == nil {
		return nil
	}
	if !errors.As(err, &e) || (e.Code != errs.Invalid && e.Code != errs.Conflict) {
		return err
	}
	msg, fields := web.Message(h.srv.Catalog(), web.Ctx(ctx).Lang, err)
	data["Error"], data["Fields"] = msg, fields
	return nil
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) error {
	if data["Error"] != nil && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	return h.srv.RenderStatus(w, r, status, name, web.PageData{Title: "volunteer.title", Data: data})
}

func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// --- the desk and the resident's page ---

func (h *handler) indexPage(w http.ResponseWriter, r *http.Request) error {
	return h.index(w, r, nil, nil)
}

// index is the staff desk for those who may read volunteers, else the
// resident's own page; formErr, when the user's to mend, is shown on it.
func (h *handler) index(w http.ResponseWriter, r *http.Request, formErr error, extra map[string]any) error {
	ctx := r.Context()
	data := map[string]any{"Kinds": ActivityKinds, "OrgKinds": SocialKinds}
	for k, v := range extra {
		data[k] = v
	}
	if err := h.formError(ctx, data, formErr); err != nil {
		return err
	}
	if auth.From(ctx).CanAnywhere(auth.VolunteerRead) {
		if err := h.deskData(ctx, data); err != nil {
			return err
		}
		return h.render(w, r, http.StatusOK, "volunteer_index", data)
	}
	if err := h.mineData(ctx, data); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "volunteer_mine", data)
}

func (h *handler) deskData(ctx context.Context, data map[string]any) error {
	p := auth.From(ctx)
	pending, err := h.svc.Volunteers(ctx, VolunteerQuery{Status: Pending, Limit: 50})
	if err != nil {
		return err
	}
	all, err := h.svc.Volunteers(ctx, VolunteerQuery{Limit: 50})
	if err != nil {
		return err
	}
	acts, err := h.svc.Activities(ctx)
	if err != nil {
		return err
	}
	orgs, err := h.svc.Orgs(ctx)
	if err != nil {
		return err
	}
	gaps, err := h.svc.MissingKinds(ctx)
	if err != nil {
		return err
	}
	teams, err := h.svc.Teams(ctx)
	if err != nil {
		return err
	}
	data["Pending"], data["Volunteers"], data["Activities"], data["Orgs"], data["Gaps"], data["Teams"] = pending, all, acts, orgs, gaps, teams
	data["CanManage"] = p.CanAnywhere(auth.VolunteerManage)
	return nil
}

func (h *handler) mineData(ctx context.Context, data map[string]any) error {
	v, err := h.svc.Me(ctx)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		data["Unregistered"] = true
	case err != nil:
		return err
	default:
		data["Me"] = v
		shelf, err := h.svc.Shelf(ctx, v.communityPath)
		if err != nil {
			return err
		}
		data["Shelf"] = shelf
		if data["Open"], err = h.svc.Calendar(ctx, v.Community, 60); err != nil {
			return err
		}
	}
	signups, err := h.svc.MySignups(ctx)
	if err != nil {
		return err
	}
	data["Signups"] = signups
	return nil
}

func formInt(r *http.Request, name string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name)))
	return n
}

func formFloat(r *http.Request, name string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue(name)), 64)
	return f
}

func (h *handler) registerSelf(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := RegisterInput{IDType: r.PostFormValue("id_type"), IDNumber: r.PostFormValue("id_number"), Phone: r.PostFormValue("phone"),
		Skills: []string{r.PostFormValue("skills")}, Availability: r.PostFormValue("availability")}
	if _, err := h.svc.RegisterSelf(r.Context(), in); err != nil {
		return h.index(w, r, err, map[string]any{"Form": in})
	}
	return redirect(w, r, "/volunteer")
}

func (h *handler) verify(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		if _, err := h.svc.Verify(r.Context(), id, Status(r.PostFormValue("status"))); err != nil {
			return h.index(w, r, err, nil)
		}
		return redirect(w, r, "/volunteer")
	})
}

func (h *handler) publish(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := ActivityInput{Community: r.PostFormValue("community"), Title: r.PostFormValue("title"), Kind: r.PostFormValue("kind"),
		Audience: Audience(r.PostFormValue("audience")), Description: r.PostFormValue("description"), Place: r.PostFormValue("place"),
		Lon: formFloat(r, "lon"), Lat: formFloat(r, "lat"), StartsAt: r.PostFormValue("starts_at"), EndsAt: r.PostFormValue("ends_at"),
		Slots: formInt(r, "slots"), Skills: []string{r.PostFormValue("skills")}, Risk: r.PostFormValue("risk"),
		Insurance: r.PostFormValue("insurance"), TimeBank: r.PostFormValue("time_bank") != "", CapMinutes: formInt(r, "cap_minutes"),
		Organiser: r.PostFormValue("organiser")}
	x, err := h.svc.Publish(r.Context(), in)
	if err != nil {
		return h.index(w, r, err, map[string]any{"ActivityForm": in})
	}
	return redirect(w, r, fmt.Sprintf("/volunteer/activities/%d", x.ID))
}

// --- activities ---

func (h *handler) activityPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.activity(w, r, id, nil, nil) })
}

// activity shows an activity: its sign-ups and check-in code to those who
// may read the community's volunteers, a sign-up button to others.
func (h *handler) activity(w http.ResponseWriter, r *http.Request, id int64, formErr error, extra map[string]any) error {
	ctx := r.Context()
	x, err := h.svc.Activity(ctx, id)
	if err != nil {
		return err
	}
	data := map[string]any{"Activity": x}
	if d := r.URL.Query().Get("done"); slices.Contains(notices, d) {
		data["Notice"] = "volunteer.notice." + d
	}
	for k, v := range extra {
		data[k] = v
	}
	if err := h.formError(ctx, data, formErr); err != nil {
		return err
	}
	p := auth.From(ctx)
	if p.Can(auth.VolunteerRead, x.AreaPath) {
		if data["Signups"], err = h.svc.Signups(ctx, id); err != nil {
			return err
		}
		data["Staff"] = true
		if err := h.insuranceData(ctx, id, data); err != nil {
			return err
		}
	}
	if p.Can(auth.VolunteerManage, x.AreaPath) {
		tok, err := h.svc.CheckinToken(ctx, id)
		if err != nil {
			return err
		}
		data["Manage"], data["Token"], data["CheckinURL"], data["Code"] = true, tok, checkinLink(r, tok.Code), h.checkinCodeOf(r, id, tok)
		data["QRSize"], data["Cancellable"] = QRShown, x.Status == "published" && x.EndsAt.After(h.svc.now())
	}
	return h.render(w, r, http.StatusOK, "volunteer_activity", data)
}

// insuranceData puts the activity's recorded insurance on its page, and
// fills the form with it unless the user's refused input is there.
func (h *handler) insuranceData(ctx context.Context, id int64, data map[string]any) error {
	in, err := h.svc.InsuranceOf(ctx, id)
	if err != nil {
		return err
	}
	data["Insurance"] = in
	if data["InsuranceForm"] == nil {
		data["InsuranceForm"] = in
	}
	return nil
}

func (h *handler) signUp(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if _, err := h.svc.SignUp(r.Context(), id); err != nil {
			if errs.CodeOf(err) == errs.Forbidden {
				return h.activity(w, r, id, errs.OnField("activity_id", errs.As(err).Key), nil)
			}
			return h.activity(w, r, id, err, nil)
		}
		return redirect(w, r, fmt.Sprintf("/volunteer/activities/%d", id))
	})
}

// onSignup runs an organiser's action on a sign-up and returns to its
// activity, showing an input error there.
func (h *handler) onSignup(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, id int64) error) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		err := fn(r.Context(), id)
		g, lerr := h.svc.loadSignup(r.Context(), id)
		if lerr != nil {
			return lerr
		}
		if err != nil {
			return h.activity(w, r, g.ActivityID, err, nil)
		}
		return redirect(w, r, fmt.Sprintf("/volunteer/activities/%d", g.ActivityID))
	})
}

func (h *handler) confirm(w http.ResponseWriter, r *http.Request) error {
	return h.onSignup(w, r, func(ctx context.Context, id int64) error {
		_, err := h.svc.Confirm(ctx, id)
		return err
	})
}

func (h *handler) stamp(w http.ResponseWriter, r *http.Request) error {
	return h.onSignup(w, r, func(ctx context.Context, id int64) error {
		_, err := h.svc.Stamp(ctx, id, StampInput{In: r.PostFormValue("dir") == "in", At: r.PostFormValue("at")})
		return err
	})
}

func (h *handler) credit(w http.ResponseWriter, r *http.Request) error {
	return h.onSignup(w, r, func(ctx context.Context, id int64) error {
		_, err := h.svc.Credit(ctx, id, formInt(r, "minutes"))
		return err
	})
}

// --- check-in on the phone ---

func (h *handler) checkinPage(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "volunteer_checkin", map[string]any{"Code": r.URL.Query().Get("code")})
}

func (h *handler) checkinForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := CheckinInput{Code: r.PostFormValue("code"), Lon: formFloat(r, "lon"), Lat: formFloat(r, "lat"), Out: r.PostFormValue("dir") == "out"}
	data := map[string]any{"Code": in.Code}
	g, err := h.checkin(r.Context(), in)
	if err := h.formError(r.Context(), data, err); err != nil {
		return err
	}
	if err == nil {
		data["Done"], data["Signup"] = true, g
	}
	return h.render(w, r, http.StatusOK, "volunteer_checkin", data)
}

// --- rewards and proofs ---

func (h *handler) redeem(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		rd, err := h.svc.Redeem(r.Context(), id)
		if err != nil {
			return h.index(w, r, err, nil)
		}
		return h.index(w, r, nil, map[string]any{"Redeemed": rd})
	})
}

func (h *handler) issueProof(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id, _ := strconv.ParseInt(r.PostFormValue("volunteer_id"), 10, 64)
	if id == 0 {
		v, err := h.svc.Me(r.Context())
		if err != nil {
			return err
		}
		id = v.ID
	}
	p, err := h.svc.IssueProof(r.Context(), id, ProofInput{Responsible: r.PostFormValue("responsible")})
	if err != nil {
		return h.index(w, r, err, nil)
	}
	return redirect(w, r, "/volunteer/proofs/"+url.PathEscape(p.Number))
}

func (h *handler) proofPage(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.ProofFor(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "volunteer_proof", map[string]any{"Proof": p, "Lines": strings.Split(p.Content, "\n")})
}

// verifyPage is the public check of a proof by its number: the fields of
// the paper with the name masked.
func (h *handler) verifyPage(w http.ResponseWriter, r *http.Request) error {
	number := strings.TrimSpace(r.URL.Query().Get("number"))
	data := map[string]any{"Number": number}
	if number != "" {
		p, err := h.svc.ProofByNumber(r.Context(), number)
		switch {
		case errs.CodeOf(err) == errs.NotFound:
			data["NotFound"] = true
		case err != nil:
			return err
		default:
			data["Proof"] = p.PublicProof()
		}
	}
	return h.render(w, r, http.StatusOK, "volunteer_verify", data)
}

// calendarPage is a community's public calendar and its star notices.
func (h *handler) calendarPage(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("community")
	xs, err := h.svc.Calendar(r.Context(), code, 60)
	if err != nil {
		return err
	}
	notices, err := h.svc.Notices(r.Context(), code)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "volunteer_calendar", map[string]any{"Community": code, "Activities": xs, "Notices": notices})
}

// --- the report ---

func (h *handler) reportPage(w http.ResponseWriter, r *http.Request) error {
	figs, err := h.svc.Report(r.Context())
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "volunteer_report", map[string]any{"Figures": figs, "Summary": Summarise(figs)})
}

// exportReport writes the report as an Excel workbook, one row per
// community and month, in the reader's language.
func (h *handler) exportReport(w http.ResponseWriter, r *http.Request) error {
	figs, err := h.svc.Report(r.Context())
	if err != nil {
		return err
	}
	cat, lang := h.srv.Catalog(), web.Ctx(r.Context()).Lang
	t := func(key string) string { return cat.T(lang, key) }
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="volunteer-report.xlsx"`)
	x, err := sheet.NewXLSXWriter(w, t("volunteer.report.sheet"), []string{t("volunteer.field.community_code"), t("volunteer.field.community"),
		t("volunteer.report.registered"), t("volunteer.report.verified"), t("volunteer.report.active"), t("volunteer.report.orgs"),
		t("volunteer.report.month"), t("volunteer.report.hours")})
	if err != nil {
		return err
	}
	for _, f := range figs {
		for i, m := range f.Months {
			if err := x.Write([]any{f.Community, f.Name, f.Registered, f.Verified, f.Active90, f.Orgs, m, f.Hours[i]}); err != nil {
				return err
			}
		}
	}
	return x.Close()
}
