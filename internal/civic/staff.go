package civic

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// Staff pages: plain forms over the service for the community's staff, who
// work in the browser. Each page answers 403 to a caller without the
// permission it needs; the service checks the community as for the API.

// maxNoticeForm fits MaxAttachments files in a multipart form.
const maxNoticeForm = MaxAttachments*MaxAttachmentBytes + 1<<20

func staffRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /civic/staff/notices", h.staffNoticesPage},
		{"GET /civic/staff/notices/{id}/correct", h.staffCorrectPage},
		{"GET /civic/staff/questions", h.staffQuestionsPage},
		{"POST /civic/staff/questions/{id}/answer", h.staffAnswer},
		{"GET /civic/staff/plan", h.staffPlanPage},
		{"POST /civic/staff/plan", h.staffSetPlan},
		{"GET /civic/staff/votes", h.staffVotesPage},
		{"POST /civic/staff/votes", h.staffCreateVote},
		{"GET /civic/staff/votes/{id}", h.staffVotePage},
		{"POST /civic/staff/votes/{id}/paper", h.staffPaper},
		{"GET /civic/staff/meetings", h.staffMeetingsPage},
		{"POST /civic/staff/meetings", h.staffSchedule},
		{"POST /civic/staff/meetings/{id}/minutes", h.staffMinutes},
		{"GET /civic/staff/topics/{id}", h.staffTopicPage},
		{"POST /civic/staff/topics/{id}/decision", h.staffDecide},
		{"POST /civic/staff/topics/{id}/progress", h.staffProgress},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
	h.srv.Handle(web.Route{Pattern: "POST /civic/staff/notices", MaxBody: maxNoticeForm}, h.staffPublish)
	h.srv.Handle(web.Route{Pattern: "POST /civic/staff/notices/{id}/correct", MaxBody: maxNoticeForm}, h.staffCorrect)
}

// fieldMsg is a bad field as the form shows it: its label and message.
type fieldMsg struct {
	Label, Message string
}

// staffData starts a staff page's data: the section, the communities the
// caller works in and the one chosen; perm is what the page needs.
func (h *handler) staffData(r *http.Request, section string, perm auth.Perm) (map[string]any, error) {
	if _, err := auth.Require(r.Context(), perm); err != nil {
		return nil, err
	}
	comms := staffCommunities(auth.From(r.Context()))
	community := r.URL.Query().Get("community")
	if community == "" && r.Method == http.MethodPost {
		community = r.PostFormValue("community")
	}
	if community == "" && len(comms) > 0 {
		community = comms[0]
	}
	p := auth.From(r.Context())
	if community != "" {
		// A staff page works in one community, which must be the
		// caller's: ?community= may not open another's.
		c, err := h.svc.community(r.Context(), community)
		if err != nil {
			return nil, err
		}
		if err := p.Require(perm, c.Path); err != nil {
			return nil, err
		}
	}
	return map[string]any{"Section": section, "Communities": comms, "Community": community,
		"CanPublish": p.CanAnywhere(auth.CivicPublish), "CanModerate": p.CanAnywhere(auth.CivicModerate),
		"Categories": Categories, "Cadences": Cadences, "Kinds": MeetingKinds}, nil
}

// staffCommunities are the communities (12-digit codes) of p's grants.
func staffCommunities(p *auth.Principal) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range p.Grants {
		if len(g.AreaCode) == 12 && !seen[g.AreaCode] {
			seen[g.AreaCode] = true
			out = append(out, g.AreaCode)
		}
	}
	return out
}

// formError puts an error that is the user's to mend on the page, in the
// page's language; any other error ends the request.
func (h *handler) formError(ctx context.Context, data map[string]any, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || (e.Code != errs.Invalid && e.Code != errs.Conflict && e.Code != errs.TooLarge) {
		return err
	}
	lang := web.Ctx(ctx).Lang
	cat := h.srv.Catalog()
	msg, fields := web.Message(cat, lang, err)
	out := make([]fieldMsg, len(fields))
	for i, f := range fields {
		base, row := f.Field, ""
		if j := strings.IndexByte(base, '['); j >= 0 {
			if k := strings.IndexByte(base[j:], ']'); k > 0 {
				if n, err := strconv.Atoi(base[j+1 : j+k]); err == nil {
					row = " " + strconv.Itoa(n+1)
				}
			}
			base = base[:j]
		}
		out[i] = fieldMsg{Label: cat.T(lang, "civic.form."+base) + row, Message: f.Message}
	}
	data["Error"], data["Fields"] = msg, out
	return nil
}

// page renders a staff page, with formErr on it when there is one.
func (h *handler) page(w http.ResponseWriter, r *http.Request, name, title string, data map[string]any, formErr error) error {
	status := http.StatusOK
	if formErr != nil {
		if err := h.formError(r.Context(), data, formErr); err != nil {
			return err
		}
		status = web.Status(formErr)
	}
	if d := doneNotice(r); d != "" {
		data["Done"] = d
	}
	return h.srv.RenderStatus(w, r, status, name, web.PageData{Title: title, Data: data})
}

var doneKeys = map[string]bool{"published": true, "corrected": true, "answered": true, "plan": true, "vote": true,
	"paper": true, "meeting": true, "minutes": true, "decision": true, "progress": true}

// doneNotice is the message key of the success notice a form's redirect
// asked for with ?done=, or "".
func doneNotice(r *http.Request) string {
	if d := r.URL.Query().Get("done"); doneKeys[d] {
		return "civic.done." + d
	}
	return ""
}

// back redirects to path with the success notice done, keeping ?lang.
func back(w http.ResponseWriter, r *http.Request, path string, q url.Values, done string) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("done", done)
	if l := r.URL.Query().Get("lang"); l != "" {
		q.Set("lang", l)
	}
	http.Redirect(w, r, path+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// --- notices ---

func (h *handler) staffNoticesPage(w http.ResponseWriter, r *http.Request) error {
	return h.noticesForm(w, r, NoticeInput{Category: r.URL.Query().Get("category")}, "", nil)
}

func (h *handler) noticesForm(w http.ResponseWriter, r *http.Request, in NoticeInput, recipients string, formErr error) error {
	data, err := h.staffData(r, "notices", auth.CivicPublish)
	if err != nil {
		return err
	}
	if in.Community != "" {
		data["Community"] = in.Community
	}
	if c, _ := data["Community"].(string); c != "" {
		if vs, err := h.svc.Notices(r.Context(), c); err == nil {
			data["Notices"] = vs
		}
	}
	data["In"], data["RecipientsText"], data["MaxAttachments"], data["MaxMB"] = in, recipients, MaxAttachments, MaxAttachmentBytes>>20
	return h.page(w, r, "civic_staff_notices", "civic.staff.notices", data, formErr)
}

// noticeFromForm reads the notice form: fields, the recipients list (one
// line each: name, ID number, people, amount) and the uploaded files.
func noticeFromForm(r *http.Request) (NoticeInput, string, error) {
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return NoticeInput{}, "", errs.E(errs.TooLarge, "err.too_large", tooLarge.Limit/1024)
		}
		return NoticeInput{}, "", errs.E(errs.Invalid, "err.form")
	}
	in := NoticeInput{Community: r.FormValue("community"), Category: r.FormValue("category"), Title: r.FormValue("title"),
		Body: r.FormValue("body"), PeriodFrom: r.FormValue("period_from"), PeriodTo: r.FormValue("period_to"),
		Reason: r.FormValue("reason")}
	if t := strings.TrimSpace(r.FormValue("topic_id")); t != "" {
		id, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			id = -1
		}
		in.TopicID = id
	}
	text := r.FormValue("recipients")
	in.Recipients = parseRecipients(text)
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["attachments"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue // no file chosen
			}
			f, err := fh.Open()
			if err != nil {
				return in, text, errs.E(errs.Invalid, "err.form")
			}
			data, err := io.ReadAll(io.LimitReader(f, MaxAttachmentBytes+1))
			f.Close()
			if err != nil {
				return in, text, errs.E(errs.Invalid, "err.form")
			}
			in.Attachments = append(in.Attachments, AttachmentInput{Name: fh.Filename, Data: data})
		}
	}
	return in, text, nil
}

var recipientSep = strings.NewReplacer("，", ",", "\t", ",", "、", ",")

// parseRecipients reads one recipient a line, fields split by commas
// (either width) or tabs, as pasted from a spreadsheet.
func parseRecipients(s string) []RecipientInput {
	var out []RecipientInput
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// Split at each separator, keeping empty columns in their place.
		f := strings.Split(recipientSep.Replace(line), ",")
		for len(f) < 4 {
			f = append(f, "")
		}
		ri := RecipientInput{Name: strings.TrimSpace(f[0]), IDNumber: strings.TrimSpace(f[1]), Amount: strings.TrimSpace(f[3])}
		if p := strings.TrimSpace(f[2]); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				n = -1
			}
			ri.People = n
		}
		out = append(out, ri)
	}
	return out
}

func (h *handler) staffPublish(w http.ResponseWriter, r *http.Request) error {
	in, text, err := noticeFromForm(r)
	if err == nil {
		var v Version
		if v, err = h.svc.Publish(r.Context(), in); err == nil {
			return back(w, r, "/civic/notices/"+itoa(v.ID), nil, "published")
		}
	}
	in.Attachments = nil
	return h.noticesForm(w, r, in, text, err)
}

func (h *handler) staffCorrectPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		return h.correctForm(w, r, id, nil, "", nil)
	})
}

// correctForm shows the correction form of a notice, filled with its
// latest version unless in is given (the form sent back with errors).
func (h *handler) correctForm(w http.ResponseWriter, r *http.Request, id int64, in *NoticeInput, recipients string, formErr error) error {
	data, err := h.staffData(r, "notices", auth.CivicPublish)
	if err != nil {
		return err
	}
	hist, err := h.svc.History(r.Context(), id)
	if err != nil {
		return err
	}
	latest := hist[len(hist)-1]
	// The form shows the notice as it stands (drafts and lists
	// included): only to those who may correct it, in its community.
	if err := auth.From(r.Context()).Require(auth.CivicPublish, latest.AreaPath); err != nil {
		return err
	}
	if in == nil {
		in = &NoticeInput{Title: latest.Title, Body: latest.Body, PeriodFrom: latest.PeriodFrom, PeriodTo: latest.PeriodTo, TopicID: latest.TopicID}
	}
	data["Community"] = latest.Community
	data["Latest"], data["In"], data["RecipientsText"], data["MaxAttachments"], data["MaxMB"] = latest, in, recipients, MaxAttachments, MaxAttachmentBytes>>20
	return h.page(w, r, "civic_staff_correct", "civic.staff.correct", data, formErr)
}

func (h *handler) staffCorrect(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, text, err := noticeFromForm(r)
		if err == nil {
			var v Version
			if v, err = h.svc.Correct(r.Context(), id, in); err == nil {
				return back(w, r, "/civic/notices/"+itoa(v.ID), nil, "corrected")
			}
		}
		in.Attachments = nil
		return h.correctForm(w, r, id, &in, text, err)
	})
}

// --- questions ---

func (h *handler) staffQuestionsPage(w http.ResponseWriter, r *http.Request) error {
	return h.questionsForm(w, r, 0, "", nil)
}

func (h *handler) questionsForm(w http.ResponseWriter, r *http.Request, failed int64, answer string, formErr error) error {
	data, err := h.staffData(r, "questions", auth.CivicPublish)
	if err != nil {
		return err
	}
	qs, err := h.svc.Unanswered(r.Context())
	if err != nil {
		return err
	}
	data["Questions"], data["Failed"], data["Answer"], data["Now"] = qs, failed, answer, h.svc.now()
	return h.page(w, r, "civic_staff_questions", "civic.staff.questions", data, formErr)
}

func (h *handler) staffAnswer(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		answer := r.PostFormValue("answer")
		if err := h.svc.Answer(r.Context(), id, answer); err != nil {
			return h.questionsForm(w, r, id, answer, err)
		}
		return back(w, r, "/civic/staff/questions", nil, "answered")
	})
}

// --- plan ---

// planRow is a category of the plan with what is due of it.
type planRow struct {
	PlanEntry
	Due []DueItem
}

func (h *handler) staffPlanPage(w http.ResponseWriter, r *http.Request) error {
	return h.planForm(w, r, nil)
}

func (h *handler) planForm(w http.ResponseWriter, r *http.Request, formErr error) error {
	data, err := h.staffData(r, "plan", auth.CivicPublish)
	if err != nil {
		return err
	}
	if c, _ := data["Community"].(string); c != "" {
		plan, err := h.svc.Plan(r.Context(), c)
		if err != nil {
			return err
		}
		due, err := h.svc.Due(r.Context(), c, h.svc.now())
		if err != nil {
			return err
		}
		rows := make([]planRow, len(plan))
		for i, e := range plan {
			rows[i].PlanEntry = e
			for _, d := range due {
				if d.Category == e.Category {
					rows[i].Due = append(rows[i].Due, d)
				}
			}
		}
		data["Plan"] = rows
	}
	return h.page(w, r, "civic_staff_plan", "civic.staff.plan", data, formErr)
}

func (h *handler) staffSetPlan(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	days := 0
	if d := strings.TrimSpace(f.Get("days")); d != "" {
		var err error
		if days, err = strconv.Atoi(d); err != nil {
			days = -1
		}
	}
	if err := h.svc.SetPlan(r.Context(), f.Get("community"), f.Get("category"), f.Get("cadence"), days); err != nil {
		return h.planForm(w, r, err)
	}
	return back(w, r, "/civic/staff/plan", url.Values{"community": {f.Get("community")}}, "plan")
}

// --- votes ---

// voteForm is the vote form as sent, to show it again.
type voteForm struct {
	Title, Body, Options, Rule, OpensAt, ClosesAt, TopicID string
	Secret                                                 bool
}

const formTime = "2006-01-02T15:04"

func (h *handler) staffVotesPage(w http.ResponseWriter, r *http.Request) error {
	now := h.svc.now().In(chinaTime)
	return h.votesForm(w, r, voteForm{Rule: PerHousehold, OpensAt: now.Format(formTime), ClosesAt: now.AddDate(0, 0, 7).Format(formTime)}, nil)
}

func (h *handler) votesForm(w http.ResponseWriter, r *http.Request, in voteForm, formErr error) error {
	data, err := h.staffData(r, "votes", auth.CivicModerate)
	if err != nil {
		return err
	}
	if c, _ := data["Community"].(string); c != "" {
		if vs, err := h.svc.Votes(r.Context(), c); err == nil {
			data["Votes"] = vs
		}
	}
	data["In"] = in
	return h.page(w, r, "civic_staff_votes", "civic.staff.votes", data, formErr)
}

// formTimeValue reads a datetime-local field, in China time.
func formTimeValue(s string) (time.Time, bool) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(formTime, s, chinaTime)
	return t, err == nil
}

func (h *handler) staffCreateVote(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	form := voteForm{Title: f.Get("title"), Body: f.Get("body"), Options: f.Get("options"), Rule: f.Get("rule"),
		OpensAt: f.Get("opens_at"), ClosesAt: f.Get("closes_at"), TopicID: f.Get("topic_id"), Secret: f.Get("secret") != ""}
	in := VoteInput{Community: f.Get("community"), Title: form.Title, Body: form.Body, Rule: form.Rule, Secret: form.Secret}
	for _, o := range strings.Split(form.Options, "\n") {
		if o = strings.TrimSpace(o); o != "" {
			in.Options = append(in.Options, o)
		}
	}
	var bad errs.Validation
	var ok bool
	in.OpensAt, ok = formTimeValue(form.OpensAt)
	bad.Check(ok, "opens_at", "err.civic.time")
	in.ClosesAt, ok = formTimeValue(form.ClosesAt)
	bad.Check(ok, "closes_at", "err.civic.time")
	if t := strings.TrimSpace(form.TopicID); t != "" {
		id, err := strconv.ParseInt(t, 10, 64)
		bad.Check(err == nil && id > 0, "topic_id", "err.civic.bad_id", t)
		in.TopicID = id
	}
	err := bad.Err()
	if err == nil {
		var v Vote
		if v, err = h.svc.CreateVote(r.Context(), in); err == nil {
			return back(w, r, "/civic/staff/votes/"+itoa(v.ID), nil, "vote")
		}
	}
	return h.votesForm(w, r, form, err)
}

func (h *handler) staffVotePage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.voteForm(w, r, id, "", nil) })
}

func (h *handler) voteForm(w http.ResponseWriter, r *http.Request, id int64, resident string, formErr error) error {
	data, err := h.staffData(r, "votes", auth.CivicModerate)
	if err != nil {
		return err
	}
	v, err := h.svc.GetVote(r.Context(), id)
	if err != nil {
		return err
	}
	voters, err := h.svc.Voters(r.Context(), id)
	if err != nil {
		return err
	}
	data["Community"] = v.Community
	data["Vote"], data["Voters"], data["Open"], data["Resident"] = v, voters, v.Open(h.svc.clock()), resident
	return h.page(w, r, "civic_staff_vote", "civic.staff.vote", data, formErr)
}

func (h *handler) staffPaper(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		resident := strings.TrimSpace(r.PostFormValue("resident_id"))
		rid, rerr := strconv.ParseInt(resident, 10, 64)
		choice, cerr := strconv.Atoi(r.PostFormValue("option"))
		var bad errs.Validation
		bad.Check(rerr == nil && rid > 0, "resident_id", "err.civic.bad_id", resident)
		bad.Check(cerr == nil, "option", "err.civic.option_unknown")
		err := bad.Err()
		if err == nil {
			err = h.svc.CastPaper(r.Context(), id, rid, choice)
		}
		if err != nil {
			return h.voteForm(w, r, id, resident, err)
		}
		return back(w, r, "/civic/staff/votes/"+itoa(id), nil, "paper")
	})
}

// --- meetings and topics ---

// meetingForm is the meeting form as sent, to show it again.
type meetingForm struct {
	Kind, Title, HeldAt, Place, Agenda string
	Topics                             map[int64]bool
}

// Meetings lists a community's meetings, the latest first (staff).
func (s *Service) Meetings(ctx context.Context, code string) ([]Meeting, error) {
	p, err := auth.Require(ctx, auth.CivicRead)
	if err != nil {
		return nil, err
	}
	c, err := s.community(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := auth.Allowed(p, auth.CivicRead, c.Path, outOfScope); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), scanMeeting, meetingCols+"WHERE m.area_id = $1 ORDER BY m.held_at DESC, m.id DESC LIMIT 100", c.ID)
}

func (h *handler) staffMeetingsPage(w http.ResponseWriter, r *http.Request) error {
	return h.meetingsForm(w, r, meetingForm{Kind: MeetingKinds[0]}, 0, nil)
}

func (h *handler) meetingsForm(w http.ResponseWriter, r *http.Request, in meetingForm, failed int64, formErr error) error {
	data, err := h.staffData(r, "meetings", auth.CivicModerate)
	if err != nil {
		return err
	}
	if c, _ := data["Community"].(string); c != "" {
		ms, err := h.svc.Meetings(r.Context(), c)
		if err != nil {
			return err
		}
		ts, err := h.svc.Topics(r.Context(), c)
		if err != nil {
			return err
		}
		data["Meetings"], data["Topics"] = ms, ts
	}
	data["In"], data["Failed"] = in, failed
	return h.page(w, r, "civic_staff_meetings", "civic.staff.meetings", data, formErr)
}

func (h *handler) staffSchedule(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	form := meetingForm{Kind: f.Get("kind"), Title: f.Get("title"), HeldAt: f.Get("held_at"), Place: f.Get("place"), Agenda: f.Get("agenda"),
		Topics: map[int64]bool{}}
	in := MeetingInput{Community: f.Get("community"), Kind: form.Kind, Title: form.Title, Place: form.Place, Agenda: form.Agenda}
	var bad errs.Validation
	var ok bool
	in.HeldAt, ok = formTimeValue(form.HeldAt)
	bad.Check(ok, "held_at", "err.civic.time")
	for _, s := range f["topic_ids"] {
		id, err := strconv.ParseInt(s, 10, 64)
		bad.Check(err == nil && id > 0, "topic_ids", "err.civic.bad_id", s)
		in.TopicIDs = append(in.TopicIDs, id)
		form.Topics[id] = true
	}
	err := bad.Err()
	if err == nil {
		if _, err = h.svc.ScheduleMeeting(r.Context(), in); err == nil {
			return back(w, r, "/civic/staff/meetings", url.Values{"community": {in.Community}}, "meeting")
		}
	}
	return h.meetingsForm(w, r, form, 0, err)
}

func (h *handler) staffMinutes(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		att, aerr := strconv.Atoi(strings.TrimSpace(r.PostFormValue("attendance")))
		if aerr != nil {
			att = 0
		}
		if err := h.svc.RecordMinutes(r.Context(), id, att, r.PostFormValue("minutes")); err != nil {
			return h.meetingsForm(w, r, meetingForm{Kind: MeetingKinds[0]}, id, err)
		}
		return back(w, r, "/civic/staff/meetings", url.Values{"community": {r.PostFormValue("community")}}, "minutes")
	})
}

// decisionForm is the decision form as sent, to show it again.
type decisionForm struct {
	By, MeetingID, VoteID, Summary string
	Adopted                        bool
	Percent, Note                  string
}

func (h *handler) staffTopicPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		return h.topicForm(w, r, id, decisionForm{By: "meeting", Adopted: true}, nil)
	})
}

func (h *handler) topicForm(w http.ResponseWriter, r *http.Request, id int64, in decisionForm, formErr error) error {
	data, err := h.staffData(r, "meetings", auth.CivicModerate)
	if err != nil {
		return err
	}
	t, err := h.svc.GetTopic(r.Context(), id)
	if err != nil {
		return err
	}
	// The decision and progress forms, and the votes about the topic,
	// are for the moderators of its own community.
	if err := auth.From(r.Context()).Require(auth.CivicModerate, t.AreaPath); err != nil {
		return err
	}
	votes, err := h.svc.Votes(r.Context(), t.Community)
	if err != nil {
		return err
	}
	var about []Vote
	for _, v := range votes {
		if v.TopicID == id {
			about = append(about, v)
		}
	}
	data["Community"] = t.Community
	data["Topic"], data["Votes"], data["In"] = t, about, in
	return h.page(w, r, "civic_staff_topic", "civic.staff.topic", data, formErr)
}

func (h *handler) staffDecide(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		f := r.PostForm
		form := decisionForm{By: f.Get("by"), MeetingID: f.Get("meeting_id"), VoteID: f.Get("vote_id"), Summary: f.Get("summary"),
			Adopted: f.Get("adopted") == "1"}
		in := DecisionInput{By: form.By, Adopted: form.Adopted, Summary: form.Summary}
		in.MeetingID, _ = strconv.ParseInt(form.MeetingID, 10, 64)
		in.VoteID, _ = strconv.ParseInt(form.VoteID, 10, 64)
		if err := h.svc.Decide(r.Context(), id, in); err != nil {
			return h.topicForm(w, r, id, form, err)
		}
		return back(w, r, "/civic/staff/topics/"+itoa(id), nil, "decision")
	})
}

func (h *handler) staffProgress(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		form := decisionForm{By: "meeting", Adopted: true, Percent: r.PostFormValue("percent"), Note: r.PostFormValue("note")}
		pct, err := strconv.Atoi(strings.TrimSpace(form.Percent))
		if err != nil {
			pct = -1
		}
		if err := h.svc.ReportProgress(r.Context(), id, pct, form.Note); err != nil {
			return h.topicForm(w, r, id, form, err)
		}
		return back(w, r, "/civic/staff/topics/"+itoa(id), nil, "progress")
	})
}
