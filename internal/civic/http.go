package civic

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

type handler struct {
	svc *Service
	srv *web.Server
}

// maxNoticeBody fits MaxAttachments files in base64 inside JSON.
const maxNoticeBody = MaxAttachments*MaxAttachmentBytes*4/3 + 1<<20

// Routes registers the module's API and pages. Reading is public (居务
// is open to anyone: notices, chain heads, topics, votes); writing needs a
// login and the service checks the rest.
func Routes(srv *web.Server, svc *Service) {
	h := &handler{svc: svc, srv: srv}
	public := []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /api/v1/civic/communities/{code}/notices", h.apiNotices},
		{"GET /api/v1/civic/communities/{code}/check", h.apiCheck},
		{"GET /api/v1/civic/notices/{id}", h.apiNotice},
		{"GET /api/v1/civic/topics/{id}", h.apiTopic},
		{"GET /api/v1/civic/votes/{id}", h.apiVote},
		{"GET /civic/community/{code}", h.communityPage},
		{"GET /civic/community/{code}/check", h.checkPage},
		{"GET /civic/notices/{id}", h.noticePage},
		{"GET /civic/notices/{id}/attachments/{idx}", h.attachment},
		{"GET /civic/topics/{id}", h.topicPage},
		{"GET /civic/votes/{id}", h.votePage},
	}
	for _, r := range public {
		srv.Handle(web.Route{Pattern: r.pattern, Access: web.Public}, r.fn)
	}
	api := []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"POST /api/v1/civic/notices/{id}/corrections", h.apiCorrect},
		{"GET /api/v1/civic/communities/{code}/plan", h.apiPlan},
		{"PUT /api/v1/civic/communities/{code}/plan/{category}", h.apiSetPlan},
		{"GET /api/v1/civic/communities/{code}/due", h.apiDue},
		{"POST /api/v1/civic/topics", h.apiPropose},
		{"POST /api/v1/civic/topics/{id}/moderation", h.apiModerate},
		{"POST /api/v1/civic/topics/{id}/support", h.apiSupport},
		{"POST /api/v1/civic/topics/{id}/comments", h.apiComment},
		{"POST /api/v1/civic/comments/{id}/hide", h.apiHide},
		{"POST /api/v1/civic/topics/{id}/decision", h.apiDecide},
		{"POST /api/v1/civic/topics/{id}/progress", h.apiProgress},
		{"POST /api/v1/civic/topics/{id}/evaluations", h.apiEvaluate},
		{"POST /api/v1/civic/meetings", h.apiSchedule},
		{"POST /api/v1/civic/meetings/{id}/minutes", h.apiMinutes},
		{"POST /api/v1/civic/votes", h.apiCreateVote},
		{"POST /api/v1/civic/votes/{id}/ballots", h.apiCast},
		{"POST /api/v1/civic/votes/{id}/paper", h.apiPaper},
		{"GET /api/v1/civic/votes/{id}/voters", h.apiVoters},
		{"POST /api/v1/civic/questions", h.apiAsk},
		{"POST /api/v1/civic/questions/{id}/answer", h.apiAnswer},
		{"GET /api/v1/civic/questions/unanswered", h.apiUnanswered},
		{"POST /api/v1/civic/opinions", h.apiOpine},
		{"GET /civic", h.hubPage},
		{"POST /civic/topics", h.formPropose},
		{"POST /civic/topics/{id}/support", h.formSupport},
		{"POST /civic/topics/{id}/comments", h.formComment},
		{"POST /civic/votes/{id}/ballot", h.formCast},
		{"POST /civic/questions", h.formAsk},
	}
	for _, r := range api {
		srv.Handle(web.Route{Pattern: r.pattern}, r.fn)
	}
	srv.Handle(web.Route{Pattern: "POST /api/v1/civic/notices", MaxBody: maxNoticeBody}, h.apiPublish)
	staffRoutes(h)
}

func done(w http.ResponseWriter, err error) error {
	return web.Reply(w, http.StatusOK, map[string]bool{"ok": true}, err)
}

func (h *handler) apiNotices(w http.ResponseWriter, r *http.Request) error {
	vs, err := h.svc.Notices(r.Context(), r.PathValue("code"))
	return web.Reply(w, http.StatusOK, web.Items(vs), err)
}

func (h *handler) apiCheck(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.svc.Check(r.Context(), r.PathValue("code"))
	return web.Reply(w, http.StatusOK, rep, err)
}

func (h *handler) apiNotice(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		hist, err := h.svc.History(r.Context(), id)
		return web.Reply(w, http.StatusOK, map[string]any{"versions": hist}, err)
	})
}

func (h *handler) apiPublish(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[NoticeInput](r)
	if err != nil {
		return err
	}
	v, err := h.svc.Publish(r.Context(), in)
	return web.Reply(w, http.StatusCreated, v, err)
}

func (h *handler) apiCorrect(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[NoticeInput](r)
		if err != nil {
			return err
		}
		v, err := h.svc.Correct(r.Context(), id, in)
		return web.Reply(w, http.StatusCreated, v, err)
	})
}

func (h *handler) apiPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.Plan(r.Context(), r.PathValue("code"))
	return web.Reply(w, http.StatusOK, web.Items(p), err)
}

func (h *handler) apiSetPlan(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[struct {
		Cadence string `json:"cadence"`
		Days    int    `json:"days"`
	}](r)
	if err != nil {
		return err
	}
	return done(w, h.svc.SetPlan(r.Context(), r.PathValue("code"), r.PathValue("category"), in.Cadence, in.Days))
}

func (h *handler) apiDue(w http.ResponseWriter, r *http.Request) error {
	d, err := h.svc.Due(r.Context(), r.PathValue("code"), h.svc.now())
	return web.Reply(w, http.StatusOK, web.Items(d), err)
}

func (h *handler) apiPropose(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[TopicInput](r)
	if err != nil {
		return err
	}
	t, err := h.svc.Propose(r.Context(), in)
	return web.Reply(w, http.StatusCreated, t, err)
}

func (h *handler) apiTopic(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		t, err := h.svc.GetTopic(r.Context(), id)
		return web.Reply(w, http.StatusOK, t, err)
	})
}

func (h *handler) apiModerate(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Accept bool   `json:"accept"`
			Reason string `json:"reason"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.Moderate(r.Context(), id, in.Accept, in.Reason))
	})
}

func (h *handler) apiSupport(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return done(w, h.svc.Support(r.Context(), id)) })
}

func (h *handler) apiComment(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Body string `json:"body"`
		}](r)
		if err != nil {
			return err
		}
		c, err := h.svc.AddComment(r.Context(), id, in.Body)
		return web.Reply(w, http.StatusCreated, c, err)
	})
}

func (h *handler) apiHide(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Reason string `json:"reason"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.HideComment(r.Context(), id, in.Reason))
	})
}

func (h *handler) apiDecide(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[DecisionInput](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.Decide(r.Context(), id, in))
	})
}

func (h *handler) apiProgress(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Percent int    `json:"percent"`
			Note    string `json:"note"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.ReportProgress(r.Context(), id, in.Percent, in.Note))
	})
}

func (h *handler) apiEvaluate(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Rating  int    `json:"rating"`
			Comment string `json:"comment"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.Evaluate(r.Context(), id, in.Rating, in.Comment))
	})
}

func (h *handler) apiSchedule(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[MeetingInput](r)
	if err != nil {
		return err
	}
	m, err := h.svc.ScheduleMeeting(r.Context(), in)
	return web.Reply(w, http.StatusCreated, m, err)
}

func (h *handler) apiMinutes(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Attendance int    `json:"attendance"`
			Minutes    string `json:"minutes"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.RecordMinutes(r.Context(), id, in.Attendance, in.Minutes))
	})
}

func (h *handler) apiCreateVote(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[VoteInput](r)
	if err != nil {
		return err
	}
	v, err := h.svc.CreateVote(r.Context(), in)
	return web.Reply(w, http.StatusCreated, v, err)
}

func (h *handler) apiVote(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		v, err := h.svc.GetVote(r.Context(), id)
		return web.Reply(w, http.StatusOK, v, err)
	})
}

func (h *handler) apiCast(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Option int `json:"option"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.Cast(r.Context(), id, in.Option))
	})
}

func (h *handler) apiPaper(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			ResidentID int64 `json:"resident_id"`
			Option     int   `json:"option"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.CastPaper(r.Context(), id, in.ResidentID, in.Option))
	})
}

func (h *handler) apiVoters(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		vs, err := h.svc.Voters(r.Context(), id)
		return web.Reply(w, http.StatusOK, web.Items(vs), err)
	})
}

type askInput struct {
	TargetType string `json:"target_type"`
	TargetID   int64  `json:"target_id"`
	Body       string `json:"body"`
}

func (h *handler) apiAsk(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[askInput](r)
	if err != nil {
		return err
	}
	q, err := h.svc.Ask(r.Context(), in.TargetType, in.TargetID, in.Body)
	return web.Reply(w, http.StatusCreated, q, err)
}

func (h *handler) apiAnswer(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Answer string `json:"answer"`
		}](r)
		if err != nil {
			return err
		}
		return done(w, h.svc.Answer(r.Context(), id, in.Answer))
	})
}

func (h *handler) apiUnanswered(w http.ResponseWriter, r *http.Request) error {
	qs, err := h.svc.Unanswered(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(qs), err)
}

func (h *handler) apiOpine(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[struct {
		TargetType string `json:"target_type"`
		TargetID   int64  `json:"target_id"`
		Stance     string `json:"stance"`
		Reasons    string `json:"reasons"`
	}](r)
	if err != nil {
		return err
	}
	return web.Reply(w, http.StatusCreated, map[string]bool{"ok": true}, h.svc.Opine(r.Context(), in.TargetType, in.TargetID, in.Stance, in.Reasons))
}

// attachment serves a notice's file as a download, never rendered inline
// (a PDF or image from staff still should not run in this origin).
func (h *handler) attachment(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		idx, err := strconv.Atoi(r.PathValue("idx"))
		if err != nil {
			return errs.E(errs.NotFound, "err.civic.attachment_not_found", r.PathValue("idx"))
		}
		a, data, err := h.svc.AttachmentData(r.Context(), id, idx)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", a.ContentType)
		w.Header().Set("Content-Disposition", `attachment; filename*=UTF-8''`+urlEscape(a.Name))
		_, err = w.Write(data)
		return err
	})
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}
