package volunteer

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// The staff pages: the check-in QR code, cancelling an activity, the
// organisations, teams and brands, points rules, the reward shelf's
// collection desk and the time bank. Plain forms post to page routes that
// call the service and redirect back with a notice, or show the page
// again with the field errors.

// QRSize is the side of the check-in QR code in pixels, sharp when
// printed; QRShown is its side on the page, in CSS pixels: large enough to
// scan from a printed sheet or across a table, and within a phone's width.
const (
	QRSize  = 512
	QRShown = 288
)

// notices are the messages a redirect may ask a page to show (?done=…).
var notices = []string{"saved", "cancelled", "member", "review", "team", "team_member", "rule", "collected", "reward", "moved",
	"hours", "points", "star", "insurance"}

func staffPageRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /volunteer/activities/{id}/qr.png", h.checkinQR},
		{"GET /volunteer/activities/{id}/code", h.checkinCode},
		{"POST /volunteer/activities/{id}/cancel", h.cancelActivity},
		{"GET /volunteer/orgs", h.orgsPage},
		{"POST /volunteer/orgs", h.createOrg},
		{"GET /volunteer/orgs/{id}", h.orgPage},
		{"POST /volunteer/orgs/{id}", h.updateOrg},
		{"POST /volunteer/orgs/{id}/members", h.addMember},
		{"POST /volunteer/orgs/{id}/reviews", h.reviewOrg},
		{"GET /volunteer/teams", h.teamsPage},
		{"POST /volunteer/teams", h.createTeam},
		{"POST /volunteer/teams/{id}/members", h.joinTeam},
		{"GET /volunteer/rules", h.rulesPage},
		{"POST /volunteer/rules", h.setRule},
		{"GET /volunteer/shelf", h.shelfPage},
		{"POST /volunteer/shelf", h.createReward},
		{"POST /volunteer/shelf/collect", h.collect},
		{"GET /volunteer/timebank", h.timeBankPage},
		{"POST /volunteer/timebank", h.moveCoins},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
}

// staffData starts a staff page's data: it refuses those who may not read
// volunteers, and carries the notice a redirect asked for.
func staffData(r *http.Request) (map[string]any, error) {
	p, err := auth.Require(r.Context(), auth.VolunteerRead)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"CanManage": p.CanAnywhere(auth.VolunteerManage)}
	if d := r.URL.Query().Get("done"); slices.Contains(notices, d) {
		data["Notice"] = "volunteer.notice." + d
	}
	return data, nil
}

// staffPage starts a staff page's data as staffData does, with formErr
// on it when it is the user's to mend (other errors end the request).
func (h *handler) staffPage(r *http.Request, formErr error) (map[string]any, error) {
	data, err := staffData(r)
	if err != nil {
		return nil, err
	}
	return data, h.formError(r.Context(), data, formErr)
}

// doneTo redirects to a page with a notice.
func doneTo(w http.ResponseWriter, r *http.Request, to, notice string) error {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return redirect(w, r, to+sep+"done="+notice)
}

// --- the check-in QR code ---

// checkinLink is the absolute link a phone opens from the QR code.
func checkinLink(r *http.Request, code string) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/volunteer/checkin?code=" + url.QueryEscape(code)
}

// QR encodes a check-in link as a PNG QR code.
func QR(link string) ([]byte, error) {
	return qrcode.Encode(link, qrcode.Medium, QRSize)
}

// checkinQR serves a check-in link of the activity as a QR code, to those
// who may see its code: the link of ?code= when that is a valid code of
// this activity (so that the picture matches the code the page shows),
// else of a fresh code. It is never cached, as the code expires.
func (h *handler) checkinQR(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		tok, err := h.svc.CheckinToken(r.Context(), id)
		if err != nil {
			return err
		}
		code := tok.Code
		if given := r.URL.Query().Get("code"); given != "" {
			if of, err := h.svc.readToken(given); err == nil && of == id {
				code = given
			}
		}
		png, err := QR(checkinLink(r, code))
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		_, err = w.Write(png)
		return err
	})
}

// refreshMargin is how long before a code expires the organiser's page
// fetches the next one: room for a slow network at the site.
const refreshMargin = 2 * time.Minute

// CheckinCode is a fresh check-in code as the organiser's page shows it:
// the code, its link and QR picture, the hint with its expiry in the
// reader's language, and in how many seconds to fetch the next one.
type CheckinCode struct {
	Code      string    `json:"code"`
	Link      string    `json:"link"`
	QR        string    `json:"qr"`
	ExpiresAt time.Time `json:"expires_at"`
	Hint      string    `json:"hint"`
	RefreshIn int       `json:"refresh_in"`
}

func (h *handler) checkinCode(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		tok, err := h.svc.CheckinToken(r.Context(), id)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return web.Reply(w, http.StatusOK, h.checkinCodeOf(r, id, tok), nil)
	})
}

func (h *handler) checkinCodeOf(r *http.Request, id int64, tok Token) CheckinCode {
	left := tok.ExpiresAt.Sub(h.svc.now())
	lang := web.Ctx(r.Context()).Lang
	return CheckinCode{Code: tok.Code, Link: checkinLink(r, tok.Code), ExpiresAt: tok.ExpiresAt,
		QR:        fmt.Sprintf("/volunteer/activities/%d/qr.png?code=%s", id, url.QueryEscape(tok.Code)),
		Hint:      h.srv.Catalog().T(lang, "volunteer.checkin.auto_refresh", localTime(tok.ExpiresAt)),
		RefreshIn: int(max(left-refreshMargin, left/2, time.Second) / time.Second)}
}

func (h *handler) cancelActivity(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		if err := h.svc.CancelActivity(r.Context(), id, r.PostFormValue("reason")); err != nil {
			return h.activity(w, r, id, err, map[string]any{"CancelReason": r.PostFormValue("reason")})
		}
		return doneTo(w, r, fmt.Sprintf("/volunteer/activities/%d", id), "cancelled")
	})
}

// --- organisations ---

func (h *handler) orgsPage(w http.ResponseWriter, r *http.Request) error {
	return h.orgs(w, r, nil, nil)
}

// orgs lists the organisations of one community (or all), with the form
// for a new one.
func (h *handler) orgs(w http.ResponseWriter, r *http.Request, formErr error, form *OrgInput) error {
	ctx := r.Context()
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	all, err := h.svc.Orgs(ctx)
	if err != nil {
		return err
	}
	gaps, err := h.svc.MissingKinds(ctx)
	if err != nil {
		return err
	}
	community := r.URL.Query().Get("community")
	var shown []Org
	for _, o := range all {
		if community == "" || o.Community == community {
			shown = append(shown, o)
		}
	}
	if form == nil {
		form = &OrgInput{Community: community, Status: Incubating}
	}
	data["Orgs"], data["Gaps"], data["Community"], data["Form"] = shown, gaps, community, form
	data["Kinds"], data["Statuses"] = append(slices.Clone(SocialKinds), Party), orgStatuses
	return h.render(w, r, http.StatusOK, "volunteer_orgs", data)
}

func orgForm(r *http.Request) OrgInput {
	return OrgInput{Community: strings.TrimSpace(r.PostFormValue("community")), Name: r.PostFormValue("name"), Kind: OrgKind(r.PostFormValue("kind")),
		Status: OrgStatus(r.PostFormValue("status")), Leader: r.PostFormValue("leader"), Contact: r.PostFormValue("contact"),
		Founded: r.PostFormValue("founded"), Description: r.PostFormValue("description")}
}

func (h *handler) createOrg(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := orgForm(r)
	o, err := h.svc.CreateOrg(r.Context(), in)
	if err != nil {
		return h.orgs(w, r, err, &in)
	}
	return doneTo(w, r, fmt.Sprintf("/volunteer/orgs/%d", o.ID), "saved")
}

func (h *handler) orgPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.org(w, r, id, nil, nil) })
}

// org shows an organisation with the forms to edit it, add a member and
// record the year's review; extra holds what the user typed.
func (h *handler) org(w http.ResponseWriter, r *http.Request, id int64, formErr error, extra map[string]any) error {
	ctx := r.Context()
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	o, err := h.svc.Org(ctx, id)
	if err != nil {
		return err
	}
	data["Org"], data["Form"] = o, OrgInput{Name: o.Name, Kind: o.Kind, Status: o.Status, Leader: o.Leader, Founded: o.Founded, Description: o.Description}
	data["Kinds"], data["Statuses"], data["Year"] = append(slices.Clone(SocialKinds), Party), orgStatuses, h.svc.now().In(chinaTime).Year()
	maps.Copy(data, extra)
	return h.render(w, r, http.StatusOK, "volunteer_org", data)
}

func (h *handler) updateOrg(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		in := orgForm(r)
		if _, err := h.svc.UpdateOrg(r.Context(), id, in); err != nil {
			return h.org(w, r, id, err, map[string]any{"Form": in})
		}
		return doneTo(w, r, fmt.Sprintf("/volunteer/orgs/%d", id), "saved")
	})
}

func (h *handler) addMember(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		vid, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("volunteer_id")), 10, 64)
		in := MemberInput{VolunteerID: vid, Name: r.PostFormValue("name"), Role: r.PostFormValue("role"), Party: r.PostFormValue("party"),
			Workplace: r.PostFormValue("workplace"), Commitment: r.PostFormValue("commitment"), JoinedOn: r.PostFormValue("joined_on")}
		if _, err := h.svc.AddMember(r.Context(), id, in); err != nil {
			return h.org(w, r, id, err, map[string]any{"MemberForm": in})
		}
		return doneTo(w, r, fmt.Sprintf("/volunteer/orgs/%d", id), "member")
	})
}

func (h *handler) reviewOrg(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		in := Review{Year: formInt(r, "year"), Result: r.PostFormValue("result"), Note: r.PostFormValue("note")}
		if err := h.svc.ReviewOrg(r.Context(), id, in); err != nil {
			return h.org(w, r, id, err, map[string]any{"ReviewForm": in})
		}
		return doneTo(w, r, fmt.Sprintf("/volunteer/orgs/%d", id), "review")
	})
}

// --- teams and service brands ---

func (h *handler) teamsPage(w http.ResponseWriter, r *http.Request) error {
	return h.teams(w, r, nil, nil)
}

func (h *handler) teams(w http.ResponseWriter, r *http.Request, formErr error, form *TeamInput) error {
	ctx := r.Context()
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	teams, err := h.svc.Teams(ctx)
	if err != nil {
		return err
	}
	orgs, err := h.svc.Orgs(ctx)
	if err != nil {
		return err
	}
	if form == nil {
		form = &TeamInput{}
	}
	data["Teams"], data["Orgs"], data["Form"] = teams, orgs, form
	return h.render(w, r, http.StatusOK, "volunteer_teams", data)
}

func (h *handler) createTeam(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	org, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("org_id")), 10, 64)
	in := TeamInput{Community: strings.TrimSpace(r.PostFormValue("community")), OrgID: org, Name: r.PostFormValue("name"),
		Brand: r.PostFormValue("brand"), Description: r.PostFormValue("description")}
	if _, err := h.svc.CreateTeam(r.Context(), in); err != nil {
		return h.teams(w, r, err, &in)
	}
	return doneTo(w, r, "/volunteer/teams", "team")
}

func (h *handler) joinTeam(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	return web.WithID(r, func(id int64) error {
		vid, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("volunteer_id")), 10, 64)
		if err := h.svc.JoinTeam(r.Context(), id, vid); err != nil {
			return h.teams(w, r, err, nil)
		}
		return doneTo(w, r, "/volunteer/teams", "team_member")
	})
}

// --- points rules ---

func (h *handler) rulesPage(w http.ResponseWriter, r *http.Request) error {
	return h.rules(w, r, nil, nil)
}

func (h *handler) rules(w http.ResponseWriter, r *http.Request, formErr error, form *Rule) error {
	ctx := r.Context()
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	rules, err := h.svc.Rules(ctx)
	if err != nil {
		return err
	}
	if form == nil {
		form = &Rule{}
	}
	data["Rules"], data["Form"], data["Kinds"] = rules, form, ActivityKinds
	data["CanSetRules"] = auth.From(ctx).Can(auth.VolunteerManage, "")
	return h.render(w, r, http.StatusOK, "volunteer_rules", data)
}

func (h *handler) setRule(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := Rule{Kind: r.PostFormValue("kind"), PerHour: formInt(r, "per_hour"), PerActivity: formInt(r, "per_activity"), Cap: formInt(r, "cap")}
	if err := h.svc.SetRule(r.Context(), in); err != nil {
		return h.rules(w, r, err, &in)
	}
	return doneTo(w, r, "/volunteer/rules", "rule")
}

// --- the reward shelf's desk ---

func (h *handler) shelfPage(w http.ResponseWriter, r *http.Request) error {
	return h.shelf(w, r, nil, nil)
}

func (h *handler) shelf(w http.ResponseWriter, r *http.Request, formErr error, extra map[string]any) error {
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	maps.Copy(data, extra)
	return h.render(w, r, http.StatusOK, "volunteer_shelf", data)
}

// collect hands over a redeemed reward: the code is checked and marked
// collected, and the page shows what to hand over.
func (h *handler) collect(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	code := r.PostFormValue("code")
	rd, err := h.svc.Collect(r.Context(), code)
	if err != nil {
		return h.shelf(w, r, err, map[string]any{"Code": code})
	}
	return h.shelf(w, r, nil, map[string]any{"Collected": rd, "Notice": "volunteer.notice.collected"})
}

func (h *handler) createReward(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := RewardInput{Community: strings.TrimSpace(r.PostFormValue("community")), Name: r.PostFormValue("name"),
		Cost: formInt(r, "cost"), Stock: formInt(r, "stock")}
	if _, err := h.svc.CreateReward(r.Context(), in); err != nil {
		return h.shelf(w, r, err, map[string]any{"RewardForm": in})
	}
	return doneTo(w, r, "/volunteer/shelf", "reward")
}

// --- the time bank ---

func (h *handler) timeBankPage(w http.ResponseWriter, r *http.Request) error {
	return h.timeBank(w, r, nil, nil)
}

// timeBank shows a resident's time bank account (?resident=…) and the
// form to move coins to a family member.
func (h *handler) timeBank(w http.ResponseWriter, r *http.Request, formErr error, form *TimeBankInput) error {
	ctx := r.Context()
	data, err := h.staffPage(r, formErr)
	if err != nil {
		return err
	}
	resident, _ := strconv.ParseInt(strings.TrimSpace(r.URL.Query().Get("resident")), 10, 64)
	if form == nil {
		form = &TimeBankInput{From: resident}
	}
	if resident == 0 && form.From != 0 {
		resident = form.From
	}
	data["Resident"], data["Form"], data["TimeBankOn"] = resident, form, h.svc.Config.TimeBank
	if resident > 0 {
		acc, err := h.svc.TimeBank(ctx, resident)
		switch {
		case errs.CodeOf(err) == errs.NotFound:
			data["NotFound"] = true
		case err != nil:
			return err
		default:
			data["Account"] = acc
		}
	}
	return h.render(w, r, http.StatusOK, "volunteer_timebank", data)
}

func (h *handler) moveCoins(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	from, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("from")), 10, 64)
	to, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("to")), 10, 64)
	in := TimeBankInput{From: from, To: to, Minutes: formInt(r, "minutes"), Reason: r.PostFormValue("reason")}
	if err := h.svc.MoveCoins(r.Context(), in); err != nil {
		return h.timeBank(w, r, err, &in)
	}
	return doneTo(w, r, fmt.Sprintf("/volunteer/timebank?resident=%d", from), "moved")
}
