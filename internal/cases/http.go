package cases

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

type handler struct {
	svc *Service
	srv *web.Server
}

// maxReportBody bounds a report with all its photos.
const maxReportBody = MaxFiles*MaxFileBytes + 1<<20

// Routes registers the module's pages and API.
func Routes(srv *web.Server, svc *Service) {
	h := &handler{svc: svc, srv: srv}
	srv.Handle(web.Route{Pattern: "GET /api/v1/categories", Access: web.Public}, h.apiCategories)
	srv.Handle(web.Route{Pattern: "POST /api/v1/cases", Access: web.Public}, h.apiReport)
	srv.Handle(web.Route{Pattern: "GET /api/v1/cases"}, h.apiList)
	srv.Handle(web.Route{Pattern: "GET /api/v1/cases/{number}"}, h.apiGet)
	srv.Handle(web.Route{Pattern: "GET /api/v1/cases/{number}/events"}, h.apiEvents)
	srv.Handle(web.Route{Pattern: "POST /api/v1/cases/{number}/actions"}, h.apiAct)
	srv.Handle(web.Route{Pattern: "GET /api/v1/track/{token}", Access: web.Public}, h.apiTrack)
	srv.Handle(web.Route{Pattern: "GET /report", Access: web.Public}, h.reportPage)
	srv.Handle(web.Route{Pattern: "POST /report", Access: web.Public, MaxBody: maxReportBody}, h.report)
	srv.Handle(web.Route{Pattern: "GET /t/{token}", Access: web.Public}, h.trackPage)
	srv.Handle(web.Route{Pattern: "POST /t/{token}/rate", Access: web.Public}, h.rate)
	srv.Handle(web.Route{Pattern: "GET /cases"}, h.queue)
	srv.Handle(web.Route{Pattern: "GET /cases/{number}"}, h.casePage)
	srv.Handle(web.Route{Pattern: "POST /cases/{number}/act", MaxBody: maxReportBody}, h.act)
	srv.Handle(web.Route{Pattern: "POST /cases/{number}/reveal"}, h.reveal)
	srv.Handle(web.Route{Pattern: "GET /cases/{number}/files/{id}"}, h.file)
	dashboardRoutes(h)
	categoryRoutes(h)
	hotlineRoutes(h)
	h.srv.Handle(web.Route{Pattern: "POST /cases/{number}/parties"}, h.addParty)
	h.srv.Handle(web.Route{Pattern: "POST /cases/{number}/mediate"}, h.mediate)
}

// --- API ---

type apiCategory struct {
	Code      string `json:"code"`
	Parent    string `json:"parent,omitempty"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	TimeLimit string `json:"time_limit,omitempty"`
	Urgency   string `json:"urgency"`
}

func (h *handler) apiCategories(w http.ResponseWriter, r *http.Request) error {
	cats, err := h.publicCategories(r)
	if err != nil {
		return err
	}
	lang := web.Ctx(r.Context()).Lang
	out := []apiCategory{}
	for _, c := range cats {
		out = append(out, apiCategory{Code: c.Code, Parent: c.Parent, Name: c.Name(lang), Kind: c.Kind, TimeLimit: c.TimeLimit, Urgency: c.Urgency})
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// reportJSON is the body of POST /api/v1/cases.
type reportJSON struct {
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Address     string   `json:"address"`
	Lat         *float64 `json:"lat"`
	Lon         *float64 `json:"lon"`
	Coord       string   `json:"coord"`
	Area        string   `json:"area"`
	Name        string   `json:"name"`
	Phone       string   `json:"phone"`
	Email       string   `json:"email"`
	Channel     Channel  `json:"channel"`
	ExternalID  string   `json:"external_id"`
	FixedOnSite bool     `json:"fixed_on_site"`
}

func (in reportJSON) newCase() (NewCase, error) {
	nc := NewCase{Channel: in.Channel, Category: in.Category, Description: in.Description, Address: in.Address,
		AreaCode: in.Area, Name: in.Name, Phone: in.Phone, Email: in.Email, ExternalID: in.ExternalID, FixedOnSite: in.FixedOnSite}
	if in.Lat != nil || in.Lon != nil {
		if in.Lat == nil || in.Lon == nil {
			return nc, fieldErr("location", "err.case.location")
		}
		p, err := area.ParsePoint(strconv.FormatFloat(*in.Lat, 'f', -1, 64), strconv.FormatFloat(*in.Lon, 'f', -1, 64), in.Coord)
		if err != nil {
			return nc, err
		}
		nc.Point = &p
	}
	return nc, nil
}

func (h *handler) apiReport(w http.ResponseWriter, r *http.Request) error {
	var in reportJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	nc, err := in.newCase()
	if err != nil {
		return err
	}
	rc, err := h.svc.Report(r.Context(), nc)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, map[string]any{"receipt": rc, "track_url": "/t/" + rc.Token})
	return nil
}

// caseJSON is a case in the API.
type caseJSON struct {
	Number       string     `json:"number"`
	State        State      `json:"state"`
	Version      int        `json:"version"`
	Channel      Channel    `json:"channel"`
	Category     string     `json:"category"`
	Description  string     `json:"description"`
	Address      string     `json:"address,omitempty"`
	Lat          *float64   `json:"lat,omitempty"`
	Lon          *float64   `json:"lon,omitempty"`
	Grid         string     `json:"grid,omitempty"`
	NeedsRouting bool       `json:"needs_routing"`
	Unit         string     `json:"unit,omitempty"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	Deferred     bool       `json:"deferred"`
	Overdue      bool       `json:"overdue"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	OnTime       *bool      `json:"on_time,omitempty"`
	Reporter     Contact    `json:"reporter"`
	CreatedAt    time.Time  `json:"created_at"`
}

func toJSON(c Case) caseJSON {
	return caseJSON{Number: c.Number, State: c.State, Version: c.Version, Channel: c.Channel, Category: c.CategoryCode,
		Description: c.Description, Address: c.Address, Lat: c.Lat, Lon: c.Lon, Grid: c.GridCode, NeedsRouting: c.NeedsRouting,
		Unit: c.Unit, DueAt: c.DueAt, Deferred: c.Deferred, Overdue: c.Overdue, ClosedAt: c.ClosedAt, OnTime: c.OnTime,
		Reporter: c.Reporter, CreatedAt: c.CreatedAt}
}

func listQuery(q url.Values) ListQuery {
	lq := ListQuery{Overdue: q.Get("overdue") == "1", Routing: q.Get("routing") == "1"}
	for _, st := range strings.Split(q.Get("state"), ",") {
		if st != "" {
			lq.States = append(lq.States, State(st))
		}
	}
	lq.Before, _ = strconv.ParseInt(q.Get("cursor"), 10, 64)
	lq.Limit, _ = strconv.Atoi(q.Get("limit"))
	return lq
}

func (h *handler) apiList(w http.ResponseWriter, r *http.Request) error {
	lq := listQuery(r.URL.Query())
	cs, err := h.svc.List(r.Context(), lq)
	if err != nil {
		return err
	}
	out := map[string]any{"items": []caseJSON{}}
	items := make([]caseJSON, len(cs))
	for i, c := range cs {
		items[i] = toJSON(c)
	}
	if len(items) > 0 {
		out["items"] = items
		out["next_cursor"] = strconv.FormatInt(cs[len(cs)-1].ID, 10)
	}
	web.JSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) apiGet(w http.ResponseWriter, r *http.Request) error {
	c, err := h.svc.Get(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, toJSON(c))
	return nil
}

func (h *handler) apiEvents(w http.ResponseWriter, r *http.Request) error {
	evs, err := h.svc.Timeline(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": evs})
	return nil
}

// actJSON is the body of POST /api/v1/cases/{number}/actions.
type actJSON struct {
	Action       Action       `json:"action"`
	Version      int          `json:"version"`
	Note         string       `json:"note"`
	Unit         string       `json:"unit"`
	Days         int          `json:"days"`
	Into         string       `json:"into"`
	Contacted    *bool        `json:"contacted"`
	Solved       *bool        `json:"solved"`
	Satisfaction Satisfaction `json:"satisfaction"`
}

func (h *handler) apiAct(w http.ResponseWriter, r *http.Request) error {
	var in actJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	c, err := h.svc.Act(r.Context(), r.PathValue("number"), Request{Action: in.Action, Version: in.Version, Note: in.Note,
		Unit: in.Unit, Days: in.Days, Into: in.Into, Contacted: in.Contacted, Solved: in.Solved, Satisfaction: in.Satisfaction})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, toJSON(h.svc.masked(c)))
	return nil
}

func (h *handler) apiTrack(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.Track(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, map[string]any{"case": toJSON(t.Case), "follows": t.Follows, "events": t.Events, "can_rate": t.CanRate})
	return nil
}

// --- pages ---

func (h *handler) publicCategories(r *http.Request) ([]Category, error) {
	cats, err := h.svc.Categories(r.Context())
	var out []Category
	for _, c := range cats {
		if c.Active && c.Public {
			out = append(out, c)
		}
	}
	return out, err
}

func (h *handler) reportPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderReport(w, r, http.StatusOK, nil, url.Values{})
}

func (h *handler) renderReport(w http.ResponseWriter, r *http.Request, status int, formErr error, values url.Values) error {
	cats, err := h.publicCategories(r)
	if err != nil {
		return err
	}
	p := auth.From(r.Context())
	data := map[string]any{"Categories": cats, "Values": values, "Lang": web.Ctx(r.Context()).Lang,
		// Staff enter calls and walk-ins; grid workers report what they
		// found on patrol and may have fixed already.
		"ForOthers": p.CanAnywhere(auth.CaseReport), "GridWorker": p.HasRole(auth.GridWorker)}
	if formErr != nil {
		msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, formErr)
		data["Error"], data["Fields"] = msg, fields
	}
	return h.srv.RenderStatus(w, r, status, "report", web.PageData{Title: "cases.report.title", Data: data})
}

// formFiles reads the uploaded photos of a form.
func formFiles(r *http.Request, field string) ([]File, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []File
	for _, fh := range r.MultipartForm.File[field] {
		f, err := readPart(fh)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func readPart(fh *multipart.FileHeader) (File, error) {
	src, err := fh.Open()
	if err != nil {
		return File{}, err
	}
	defer src.Close()
	data, err := io.ReadAll(io.LimitReader(src, MaxFileBytes+1))
	if err != nil {
		return File{}, err
	}
	// The type is read from the bytes, not taken from the browser's word.
	return File{Name: fh.Filename, ContentType: http.DetectContentType(data), Data: data}, nil
}

// parseForm reads a form that may carry photos.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return errs.E(errs.TooLarge, "err.too_large", tooLarge.Limit/1024)
			}
			return errs.E(errs.Invalid, "err.form")
		}
		return nil
	}
	return web.ParseForm(r)
}

func (h *handler) report(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.Form
	nc := NewCase{Channel: ChannelResident, Category: f.Get("category"), Description: f.Get("description"),
		Address: f.Get("address"), Name: f.Get("name"), Phone: f.Get("phone"), Email: f.Get("email")}
	if auth.From(r.Context()) != nil && f.Get("channel") != "" {
		nc.Channel = Channel(f.Get("channel"))
		nc.FixedOnSite = f.Get("fixed_on_site") == "1"
	}
	var err error
	if f.Get("lat") != "" || f.Get("lon") != "" {
		var p orb.Point
		if p, err = area.ParsePoint(f.Get("lat"), f.Get("lon"), f.Get("coord")); err == nil {
			nc.Point = &p
		}
	}
	if err == nil {
		nc.Files, err = formFiles(r, "photos")
	}
	var rc Receipt
	if err == nil {
		rc, err = h.svc.Report(r.Context(), nc)
	}
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.TooLarge {
		return h.renderReport(w, r, web.Status(err), err, f)
	}
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "reported", web.PageData{Title: "cases.reported.title", Data: rc})
}

func (h *handler) trackPage(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.Track(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "track", web.PageData{Title: "cases.track.title", Data: map[string]any{
		"T": t, "Token": r.PathValue("token"), "Category": h.categoryName(r, t.Case.CategoryCode)}})
}

func (h *handler) categoryName(r *http.Request, code string) string {
	cats, _ := h.svc.Categories(r.Context())
	for _, c := range cats {
		if c.Code == code {
			return c.Name(web.Ctx(r.Context()).Lang)
		}
	}
	return code
}

func (h *handler) rate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	token := r.PathValue("token")
	if err := h.svc.Rate(r.Context(), token, Satisfaction(r.PostForm.Get("satisfaction")), r.PostForm.Get("comment")); err != nil {
		return err
	}
	http.Redirect(w, r, "/t/"+token, http.StatusSeeOther)
	return nil
}

// queues are the tabs of the staff's case list.
var queues = []struct {
	Key    string
	States []State
}{
	{"todo", []State{Reported}},
	{"accepted", []State{Accepted}},
	{"working", []State{Dispatched, Handling}},
	{"verify", []State{Feedback}},
	{"closed", []State{Closed}},
	{"all", nil},
}

func (h *handler) queue(w http.ResponseWriter, r *http.Request) error {
	tab := r.URL.Query().Get("tab")
	lq := listQuery(r.URL.Query())
	lq.States = nil
	for _, q := range queues {
		if q.Key == tab || (tab == "" && q.Key == "todo") {
			lq.States, tab = q.States, q.Key
		}
	}
	cs, err := h.svc.List(r.Context(), lq)
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "queue", web.PageData{Title: "cases.queue.title", Data: map[string]any{
		"Cases": cs, "Tab": tab, "Queues": queues, "CanImport": auth.From(r.Context()).CanAnywhere(auth.CaseAccept)}})
}

func (h *handler) casePage(w http.ResponseWriter, r *http.Request) error {
	return h.renderCase(w, r, http.StatusOK, nil, nil)
}

// renderCase shows a case with its timeline and the moves the caller may
// make now.
func (h *handler) renderCase(w http.ResponseWriter, r *http.Request, status int, formErr error, revealed *Contact) error {
	ctx := r.Context()
	number := r.PathValue("number")
	c, err := h.svc.Get(ctx, number)
	if err != nil {
		return err
	}
	evs, err := h.svc.Timeline(ctx, number)
	if err != nil {
		return err
	}
	units, err := h.svc.Units(ctx)
	if err != nil {
		return err
	}
	data := map[string]any{"Case": c, "Events": evs, "Moves": h.svc.MovesFor(ctx, c), "Units": units,
		"Revealed": revealed, "Category": h.categoryName(r, c.CategoryCode)}
	if isDispute(c) {
		parties, err := h.svc.Parties(ctx, number)
		if err != nil {
			return err
		}
		sessions, level, err := h.svc.Sessions(ctx, number)
		if err != nil {
			return err
		}
		data["Dispute"] = map[string]any{"Parties": parties, "Sessions": sessions, "Level": level,
			"CanMediate": c.State.Open() && h.svc.mayAct(ctx, c, ActFeedback, transitions[ActFeedback]) == nil}
	}
	if formErr != nil {
		msg, fields := web.Message(h.srv.Catalog(), web.Ctx(ctx).Lang, formErr)
		data["Error"], data["Fields"] = msg, fields
	}
	return h.srv.RenderStatus(w, r, status, "case", web.PageData{Title: "cases.case.title", Data: data})
}

func (h *handler) act(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.Form
	req := Request{Action: Action(f.Get("action")), Note: f.Get("note"), Unit: f.Get("unit"), Into: f.Get("into"),
		Satisfaction: Satisfaction(f.Get("satisfaction"))}
	req.Version, _ = strconv.Atoi(f.Get("version"))
	req.Days, _ = strconv.Atoi(f.Get("days"))
	if v := f.Get("contacted"); v != "" {
		b := v == "1"
		req.Contacted = &b
	}
	if v := f.Get("solved"); v != "" {
		b := v == "1"
		req.Solved = &b
	}
	files, err := formFiles(r, "photos")
	if err == nil {
		req.Files = files
		_, err = h.svc.Act(r.Context(), r.PathValue("number"), req)
	}
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.Conflict || code == errs.TooLarge {
		return h.renderCase(w, r, web.Status(err), err, nil)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/cases/"+r.PathValue("number"), http.StatusSeeOther)
	return nil
}

func (h *handler) reveal(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	c, err := h.svc.RevealContact(r.Context(), r.PathValue("number"), r.PostForm.Get("reason"))
	if errs.CodeOf(err) == errs.Invalid {
		return h.renderCase(w, r, http.StatusBadRequest, err, nil)
	}
	if err != nil {
		return err
	}
	return h.renderCase(w, r, http.StatusOK, nil, &c)
}

func (h *handler) file(w http.ResponseWriter, r *http.Request) error {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f, data, err := h.svc.File(r.Context(), r.PathValue("number"), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(f.Name))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, err = w.Write(data)
	return err
}

func (h *handler) addParty(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	err := h.svc.AddParty(r.Context(), r.PathValue("number"), Party{Role: f.Get("role"), Name: f.Get("name"), Phone: f.Get("phone")})
	return h.afterForm(w, r, err)
}

func (h *handler) mediate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	days, _ := strconv.Atoi(f.Get("follow_up_days"))
	err := h.svc.Mediate(r.Context(), r.PathValue("number"), Session{Place: f.Get("place"), Mediators: f.Get("mediators"),
		Summary: f.Get("summary"), Outcome: f.Get("outcome"), Agreement: f.Get("agreement"), FollowUpDays: days})
	return h.afterForm(w, r, err)
}

// afterForm shows the case again with the form's errors, or redirects to it.
func (h *handler) afterForm(w http.ResponseWriter, r *http.Request, err error) error {
	if code := errs.CodeOf(err); code == errs.Invalid || code == errs.Conflict {
		return h.renderCase(w, r, web.Status(err), err, nil)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/cases/"+r.PathValue("number"), http.StatusSeeOther)
	return nil
}
