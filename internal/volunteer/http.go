package volunteer

import (
	"context"
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

type handler struct {
	svc *Service
	srv *web.Server
}

// Routes registers the module's API and pages. Every route needs a login
// except the proof verification and the public calendar; the service
// checks the rest.
func Routes(srv *web.Server, svc *Service) {
	h := &handler{svc: svc, srv: srv}
	for _, r := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /api/v1/volunteer/orgs", h.apiOrgs},
		{"POST /api/v1/volunteer/orgs", h.apiCreateOrg},
		{"GET /api/v1/volunteer/orgs/{id}", h.apiOrg},
		{"POST /api/v1/volunteer/orgs/{id}/members", h.apiAddMember},
		{"POST /api/v1/volunteer/orgs/{id}/reviews", h.apiReview},
		{"GET /api/v1/volunteer/gaps", h.apiGaps},
		{"GET /api/v1/volunteer/volunteers", h.apiVolunteers},
		{"POST /api/v1/volunteer/volunteers", h.apiRegister},
		{"GET /api/v1/volunteer/volunteers/{id}", h.apiVolunteer},
		{"POST /api/v1/volunteer/volunteers/{id}/verify", h.apiVerify},
		{"GET /api/v1/volunteer/volunteers/{id}/hours", h.apiHours},
		{"POST /api/v1/volunteer/volunteers/{id}/hours", h.apiCorrectHours},
		{"GET /api/v1/volunteer/volunteers/{id}/points", h.apiPoints},
		{"POST /api/v1/volunteer/volunteers/{id}/points", h.apiCorrectPoints},
		{"POST /api/v1/volunteer/volunteers/{id}/proofs", h.apiIssueProof},
		{"POST /api/v1/volunteer/volunteers/{id}/stars/{level}/withdraw", h.apiWithdrawStar},
		{"GET /api/v1/volunteer/me", h.apiMe},
		{"POST /api/v1/volunteer/me", h.apiRegisterSelf},
		{"GET /api/v1/volunteer/me/signups", h.apiMySignups},
		{"GET /api/v1/volunteer/teams", h.apiTeams},
		{"POST /api/v1/volunteer/teams", h.apiCreateTeam},
		{"POST /api/v1/volunteer/teams/{id}/members", h.apiJoinTeam},
		{"GET /api/v1/volunteer/activities", h.apiActivities},
		{"POST /api/v1/volunteer/activities", h.apiPublish},
		{"GET /api/v1/volunteer/activities/{id}", h.apiActivity},
		{"POST /api/v1/volunteer/activities/{id}/insurance", h.apiInsurance},
		{"GET /api/v1/volunteer/activities/{id}/signups", h.apiSignups},
		{"POST /api/v1/volunteer/activities/{id}/signups", h.apiSignUp},
		{"POST /api/v1/volunteer/activities/{id}/token", h.apiToken},
		{"POST /api/v1/volunteer/signups/{id}/confirm", h.apiConfirm},
		{"POST /api/v1/volunteer/signups/{id}/withdraw", h.apiWithdraw},
		{"POST /api/v1/volunteer/signups/{id}/stamp", h.apiStamp},
		{"POST /api/v1/volunteer/signups/{id}/credit", h.apiCredit},
		{"POST /api/v1/volunteer/signups/{id}/feedback", h.apiFeedback},
		{"POST /api/v1/volunteer/checkin", h.apiCheckin},
		{"GET /api/v1/volunteer/rewards", h.apiShelf},
		{"POST /api/v1/volunteer/rewards", h.apiCreateReward},
		{"POST /api/v1/volunteer/rewards/{id}/redeem", h.apiRedeem},
		{"POST /api/v1/volunteer/redemptions/collect", h.apiCollect},
		{"POST /api/v1/volunteer/timebank", h.apiMoveCoins},
		{"GET /api/v1/volunteer/timebank/{id}", h.apiTimeBank},
		{"PUT /api/v1/volunteer/rules", h.apiSetRule},
		{"GET /api/v1/volunteer/report", h.apiReport},
		{"GET /api/v1/volunteer/report.xlsx", h.exportReport},
	} {
		srv.Handle(web.Route{Pattern: r.pattern}, r.fn)
	}
	srv.Handle(web.Route{Pattern: "GET /api/v1/volunteer/proofs/{number}", Access: web.Public}, h.apiProof)
	srv.Handle(web.Route{Pattern: "GET /api/v1/volunteer/calendar/{community}", Access: web.Public}, h.apiCalendar)
	pageRoutes(h)
}

// create decodes a T and answers 201 with what make returns.
func create[T, R any](w http.ResponseWriter, r *http.Request, make func(context.Context, T) (R, error)) error {
	in, err := web.Decode[T](r)
	if err != nil {
		return err
	}
	out, err := make(r.Context(), in)
	return web.Reply(w, http.StatusCreated, out, err)
}

// onID decodes a T and answers 200 with what fn returns for the {id}.
func onID[T, R any](w http.ResponseWriter, r *http.Request, fn func(context.Context, int64, T) (R, error)) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[T](r)
		if err != nil {
			return err
		}
		out, err := fn(r.Context(), id, in)
		return web.Reply(w, http.StatusOK, out, err)
	})
}

// get answers 200 with what fn returns for the {id}.
func get[R any](w http.ResponseWriter, r *http.Request, fn func(context.Context, int64) (R, error)) error {
	return web.WithID(r, func(id int64) error {
		out, err := fn(r.Context(), id)
		return web.Reply(w, http.StatusOK, out, err)
	})
}

// list answers {"items": …} with what fn returns.
func list[R any](w http.ResponseWriter, r *http.Request, fn func(context.Context) ([]R, error)) error {
	out, err := fn(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(out), err)
}

// done answers 204 or err.
func done(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) apiOrgs(w http.ResponseWriter, r *http.Request) error {
	return list(w, r, h.svc.Orgs)
}
func (h *handler) apiGaps(w http.ResponseWriter, r *http.Request) error {
	return list(w, r, h.svc.MissingKinds)
}
func (h *handler) apiTeams(w http.ResponseWriter, r *http.Request) error {
	return list(w, r, h.svc.Teams)
}
func (h *handler) apiActivities(w http.ResponseWriter, r *http.Request) error {
	return list(w, r, h.svc.Activities)
}
func (h *handler) apiMySignups(w http.ResponseWriter, r *http.Request) error {
	return list(w, r, h.svc.MySignups)
}
func (h *handler) apiReport(w http.ResponseWriter, r *http.Request) error {
	return list(w, r, h.svc.Report)
}

func (h *handler) apiCreateOrg(w http.ResponseWriter, r *http.Request) error {
	return create(w, r, h.svc.CreateOrg)
}
func (h *handler) apiRegister(w http.ResponseWriter, r *http.Request) error {
	return create(w, r, h.svc.Register)
}
func (h *handler) apiRegisterSelf(w http.ResponseWriter, r *http.Request) error {
	return create(w, r, h.svc.RegisterSelf)
}
func (h *handler) apiCreateTeam(w http.ResponseWriter, r *http.Request) error {
	return create(w, r, h.svc.CreateTeam)
}
func (h *handler) apiPublish(w http.ResponseWriter, r *http.Request) error {
	return create(w, r, h.svc.Publish)
}
func (h *handler) apiCreateReward(w http.ResponseWriter, r *http.Request) error {
	return create(w, r, h.svc.CreateReward)
}

func (h *handler) apiOrg(w http.ResponseWriter, r *http.Request) error { return get(w, r, h.svc.Org) }
func (h *handler) apiVolunteer(w http.ResponseWriter, r *http.Request) error {
	return get(w, r, h.svc.Volunteer)
}
func (h *handler) apiActivity(w http.ResponseWriter, r *http.Request) error {
	return get(w, r, h.svc.Activity)
}
func (h *handler) apiSignUp(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		g, err := h.svc.SignUp(r.Context(), id)
		return web.Reply(w, http.StatusCreated, g, err)
	})
}
func (h *handler) apiToken(w http.ResponseWriter, r *http.Request) error {
	return get(w, r, h.svc.CheckinToken)
}
func (h *handler) apiConfirm(w http.ResponseWriter, r *http.Request) error {
	return get(w, r, h.svc.Confirm)
}
func (h *handler) apiRedeem(w http.ResponseWriter, r *http.Request) error {
	return get(w, r, h.svc.Redeem)
}
func (h *handler) apiTimeBank(w http.ResponseWriter, r *http.Request) error {
	return get(w, r, h.svc.TimeBank)
}

func (h *handler) apiSignups(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		gs, err := h.svc.Signups(r.Context(), id)
		return web.Reply(w, http.StatusOK, web.Items(gs), err)
	})
}

func (h *handler) apiHours(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		es, err := h.svc.HoursOf(r.Context(), id)
		return web.Reply(w, http.StatusOK, web.Items(es), err)
	})
}

func (h *handler) apiPoints(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		es, err := h.svc.PointsOf(r.Context(), id)
		return web.Reply(w, http.StatusOK, web.Items(es), err)
	})
}

func (h *handler) apiAddMember(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, h.svc.AddMember)
}

func (h *handler) apiReview(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, func(ctx context.Context, id int64, in Review) (Org, error) {
		if err := h.svc.ReviewOrg(ctx, id, in); err != nil {
			return Org{}, err
		}
		return h.svc.Org(ctx, id)
	})
}

func (h *handler) apiVolunteers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	vs, err := h.svc.Volunteers(r.Context(), VolunteerQuery{Community: q.Get("community"), Status: Status(q.Get("status")),
		Skill: q.Get("skill"), Limit: limit})
	return web.Reply(w, http.StatusOK, web.Items(vs), err)
}

func (h *handler) apiVerify(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, func(ctx context.Context, id int64, in struct {
		Status Status `json:"status"`
	}) (Volunteer, error) {
		return h.svc.Verify(ctx, id, in.Status)
	})
}

func (h *handler) apiCorrectHours(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, func(ctx context.Context, id int64, in CorrectionInput) (Volunteer, error) {
		if err := h.svc.CorrectHours(ctx, id, in); err != nil {
			return Volunteer{}, err
		}
		return h.svc.Volunteer(ctx, id)
	})
}

func (h *handler) apiCorrectPoints(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, func(ctx context.Context, id int64, in CorrectionInput) (Volunteer, error) {
		if err := h.svc.CorrectPoints(ctx, id, in); err != nil {
			return Volunteer{}, err
		}
		return h.svc.Volunteer(ctx, id)
	})
}

func (h *handler) apiIssueProof(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[ProofInput](r)
		if err != nil {
			return err
		}
		p, err := h.svc.IssueProof(r.Context(), id, in)
		return web.Reply(w, http.StatusCreated, p, err)
	})
}

func (h *handler) apiWithdrawStar(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		level, err := strconv.Atoi(r.PathValue("level"))
		if err != nil {
			return errs.E(errs.NotFound, "err.bad_id", r.PathValue("level"))
		}
		in, err := web.Decode[struct {
			Reason string `json:"reason"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.WithdrawStar(r.Context(), id, level, in.Reason))
	})
}

func (h *handler) apiMe(w http.ResponseWriter, r *http.Request) error {
	v, err := h.svc.Me(r.Context())
	return web.Reply(w, http.StatusOK, v, err)
}

func (h *handler) apiJoinTeam(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			VolunteerID int64 `json:"volunteer_id"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.JoinTeam(r.Context(), id, in.VolunteerID))
	})
}

func (h *handler) apiInsurance(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, h.svc.RecordInsurance)
}

func (h *handler) apiWithdraw(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return done(w, h.svc.Withdraw(r.Context(), id)) })
}

func (h *handler) apiStamp(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, h.svc.Stamp)
}

func (h *handler) apiCredit(w http.ResponseWriter, r *http.Request) error {
	return onID(w, r, func(ctx context.Context, id int64, in struct {
		Minutes int `json:"minutes"`
	}) (Signup, error) {
		return h.svc.Credit(ctx, id, in.Minutes)
	})
}

func (h *handler) apiFeedback(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Rating   int    `json:"rating"`
			Feedback string `json:"feedback"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.Feedback(r.Context(), id, in.Rating, in.Feedback))
	})
}

// CheckinInput is a scan of the code at the site.
type CheckinInput struct {
	Code string  `json:"code"`
	Lon  float64 `json:"lon"`
	Lat  float64 `json:"lat"`
	Out  bool    `json:"out"`
}

func (h *handler) apiCheckin(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[CheckinInput](r)
	if err != nil {
		return err
	}
	g, err := h.checkin(r.Context(), in)
	return web.Reply(w, http.StatusOK, g, err)
}

func (h *handler) checkin(ctx context.Context, in CheckinInput) (Signup, error) {
	at := Position{Lon: in.Lon, Lat: in.Lat}
	if in.Out {
		return h.svc.CheckOut(ctx, in.Code, at)
	}
	return h.svc.CheckIn(ctx, in.Code, at)
}

func (h *handler) apiShelf(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.svc.MyShelf(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(rs), err)
}

func (h *handler) apiCollect(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[struct {
		Code string `json:"code"`
	}](r)
	if err != nil {
		return err
	}
	rd, err := h.svc.Collect(r.Context(), in.Code)
	return web.Reply(w, http.StatusOK, rd, err)
}

func (h *handler) apiMoveCoins(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[TimeBankInput](r)
	if err != nil {
		return err
	}
	return done(w, h.svc.MoveCoins(r.Context(), in))
}

func (h *handler) apiSetRule(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[Rule](r)
	if err != nil {
		return err
	}
	return done(w, h.svc.SetRule(r.Context(), in))
}

func (h *handler) apiProof(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.ProofByNumber(r.Context(), r.PathValue("number"))
	return web.Reply(w, http.StatusOK, p.PublicProof(), err)
}

func (h *handler) apiCalendar(w http.ResponseWriter, r *http.Request) error {
	xs, err := h.svc.Calendar(r.Context(), r.PathValue("community"), 0)
	return web.Reply(w, http.StatusOK, web.Items(xs), err)
}
