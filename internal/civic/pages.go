package civic

import (
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// communityPage is the public notice board of a community: current and
// past notices, topics, votes and the chain head, printable as it is.
func (h *handler) communityPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	code := r.PathValue("code")
	c, err := h.svc.community(ctx, code)
	if err != nil {
		return err
	}
	notices, err := h.svc.Notices(ctx, code)
	if err != nil {
		return err
	}
	head, err := h.svc.HeadOf(ctx, code)
	if err != nil {
		return err
	}
	topics, err := h.svc.Topics(ctx, code)
	if err != nil {
		return err
	}
	votes, err := h.svc.Votes(ctx, code)
	if err != nil {
		return err
	}
	now := h.svc.now()
	var current, past []Version
	for _, v := range notices {
		if v.Current(now) {
			current = append(current, v)
		} else {
			past = append(past, v)
		}
	}
	return h.srv.Render(w, r, "civic_community", web.PageData{Title: "civic.community_title", Data: map[string]any{
		"Community": c, "Current": current, "Past": past, "Head": head, "Topics": topics, "Votes": votes,
		"CanPropose": auth.From(ctx) != nil,
	}})
}

func (h *handler) checkPage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.svc.community(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	rep, err := h.svc.Check(r.Context(), c.Code)
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "civic_check", web.PageData{Title: "civic.check_title", Data: map[string]any{
		"Community": c, "Report": rep, "Now": h.svc.now()}})
}

// versionView is a version with what changed from the one before it.
type versionView struct {
	Version
	Changes []Change
}

func (h *handler) noticePage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		ctx := r.Context()
		hist, err := h.svc.History(ctx, id)
		if err != nil {
			return err
		}
		views := make([]versionView, len(hist))
		var shown versionView
		for i, v := range hist {
			views[i] = versionView{Version: v}
			if i > 0 {
				views[i].Changes = Changes(hist[i-1], v)
			}
			if v.ID == id {
				shown = views[i]
			}
		}
		questions, err := h.svc.Questions(ctx, "notice", id)
		if err != nil {
			return err
		}
		opinions, err := h.svc.Opinions(ctx, "notice", id)
		if err != nil {
			return err
		}
		latest := hist[len(hist)-1]
		return h.srv.Render(w, r, "civic_notice", web.PageData{Title: "civic.notice_title", Data: map[string]any{
			"Shown": shown, "Versions": views, "Latest": latest, "IsLatest": latest.ID == id,
			"Questions": questions, "Opinions": opinions, "LoggedIn": auth.From(ctx) != nil, "Done": doneNotice(r),
		}})
	})
}

func (h *handler) topicPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		ctx := r.Context()
		t, err := h.svc.GetTopic(ctx, id)
		if err != nil {
			return err
		}
		questions, err := h.svc.Questions(ctx, "topic", id)
		if err != nil {
			return err
		}
		opinions, err := h.svc.Opinions(ctx, "topic", id)
		if err != nil {
			return err
		}
		return h.srv.Render(w, r, "civic_topic", web.PageData{Title: "civic.topic_title", Data: map[string]any{
			"Topic": t, "Stages": stagesOf(t), "Questions": questions, "Opinions": opinions, "LoggedIn": auth.From(ctx) != nil,
		}})
	})
}

// stage is one step of 提 → 议 → 决 → 办 → 评 as the topic page shows it.
type stage struct {
	Key  string
	Done bool
}

func stagesOf(t Topic) []stage {
	reached := map[string]int{Proposed: 1, Discussing: 2, Scheduled: 2, Decided: 3, Implementing: 4, Completed: 5, Rejected: 1}[t.Stage]
	if t.Ratings > 0 {
		reached = 6
	}
	keys := []string{"propose", "discuss", "decide", "implement", "evaluate"}
	out := make([]stage, len(keys))
	for i, k := range keys {
		out[i] = stage{Key: "civic.stage_step." + k, Done: i < reached}
	}
	return out
}

func (h *handler) votePage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		ctx := r.Context()
		v, err := h.svc.GetVote(ctx, id)
		if err != nil {
			return err
		}
		return h.srv.Render(w, r, "civic_vote", web.PageData{Title: "civic.vote_title", Data: map[string]any{
			"Vote": v, "Open": v.Open(h.svc.clock()), "HasVoted": h.svc.HasVoted(ctx, v), "LoggedIn": auth.From(ctx) != nil,
			"Voted": r.URL.Query().Get("voted") == "1",
		}})
	})
}

// hubPage is the logged-in entry: staff see what is due and unanswered in
// their communities; everyone gets the link to their community's board.
func (h *handler) hubPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := auth.From(ctx)
	var communities []string
	for _, g := range p.Grants {
		if len(g.AreaCode) == 12 {
			communities = append(communities, g.AreaCode)
		}
	}
	if id, err := h.svc.reg.IdentityOf(ctx, p.UserID); err == nil && len(id.Grid) == 15 {
		communities = append(communities, id.Grid[:12])
	}
	data := map[string]any{"Communities": communities, "CanPublish": p.CanAnywhere(auth.CivicPublish), "CanModerate": p.CanAnywhere(auth.CivicModerate)}
	if p.CanAnywhere(auth.CivicRead) {
		var due []DueItem
		for _, c := range communities {
			if d, err := h.svc.Due(ctx, c, h.svc.now()); err == nil {
				due = append(due, d...)
			}
		}
		qs, err := h.svc.Unanswered(ctx)
		if err != nil {
			return err
		}
		data["Due"], data["Unanswered"], data["Staff"] = due, qs, true
	}
	return h.srv.Render(w, r, "civic_index", web.PageData{Title: "civic.title", Data: data})
}

func formID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PostFormValue(name), 10, 64)
	return id
}

func (h *handler) formPropose(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	t, err := h.svc.Propose(r.Context(), TopicInput{Community: r.PostFormValue("community"), Title: r.PostFormValue("title"), Body: r.PostFormValue("body")})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/civic/topics/"+itoa(t.ID), http.StatusSeeOther)
	return nil
}

func (h *handler) formSupport(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := h.svc.Support(r.Context(), id); err != nil && errs.CodeOf(err) != errs.Conflict {
			return err
		}
		http.Redirect(w, r, "/civic/topics/"+itoa(id), http.StatusSeeOther)
		return nil
	})
}

func (h *handler) formComment(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		if _, err := h.svc.AddComment(r.Context(), id, r.PostFormValue("body")); err != nil {
			return err
		}
		http.Redirect(w, r, "/civic/topics/"+itoa(id)+"#comments", http.StatusSeeOther)
		return nil
	})
}

func (h *handler) formCast(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		choice, err := strconv.Atoi(r.PostFormValue("option"))
		if err != nil {
			return errs.OnField("option", "err.civic.option_unknown")
		}
		if err := h.svc.Cast(r.Context(), id, choice); err != nil {
			return err
		}
		http.Redirect(w, r, "/civic/votes/"+itoa(id)+"?voted=1", http.StatusSeeOther)
		return nil
	})
}

func (h *handler) formAsk(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	kind, id := r.PostFormValue("target_type"), formID(r, "target_id")
	if _, err := h.svc.Ask(r.Context(), kind, id, r.PostFormValue("body")); err != nil {
		return err
	}
	back := "/civic/topics/"
	if kind == "notice" {
		back = "/civic/notices/"
	}
	http.Redirect(w, r, back+itoa(id)+"#questions", http.StatusSeeOther)
	return nil
}
