package services

import (
	"bytes"
	"embed"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// maxUploadBody bounds a request that carries files (base64 in JSON
// makes them a third larger).
const maxUploadBody = 40 << 20

//go:embed static/gaps.js
var static embed.FS

type handler struct {
	srv *web.Server
	svc *Service
}

// Routes registers the module's API and pages: one table, top to bottom.
func Routes(srv *web.Server, svc *Service) {
	h := &handler{srv: srv, svc: svc}
	up := int64(maxUploadBody)
	// Facilities, calendars and bookings.
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/facilities"}, h.apiFacilities)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/facilities"}, h.apiCreateFacility)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/facilities/{id}"}, h.apiFacility)
	srv.Handle(web.Route{Pattern: "PUT /api/v1/services/facilities/{id}"}, h.apiUpdateFacility)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/facilities/{id}/calendar"}, h.apiFacilityCalendar)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/facilities/{id}/blocks"}, h.apiBlock)
	srv.Handle(web.Route{Pattern: "DELETE /api/v1/services/facilities/{id}/blocks/{day}"}, h.apiUnblock)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/calendar"}, h.apiCommunityCalendar)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/bookings"}, h.apiBook)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/bookings/mine"}, h.apiMyBookings)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/bookings/{id}/{action}"}, h.apiMoveBooking)
	// Catalog and applications.
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/items"}, h.apiItems)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/items"}, h.apiSaveItem)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/applications", MaxBody: up}, h.apiApply)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/applications"}, h.apiApplications)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/applications/{id}"}, h.apiApplication)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/applications/{id}/{action}", MaxBody: up}, h.apiStep)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/applications/{id}/files/{file}"}, h.apiFile)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/track/{number}", Access: web.Public}, h.apiTrack)
	// Providers, needs and matches.
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/providers"}, h.apiProviders)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/providers"}, h.apiCreateProvider)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/needs"}, h.apiNeeds)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/needs"}, h.apiRecordNeed)
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/needs/{id}/proposals"}, h.apiProposals)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/needs/{id}/matches"}, h.apiMatch)
	srv.Handle(web.Route{Pattern: "POST /api/v1/services/matches/{id}/close"}, h.apiCloseMatch)
	// Resource gaps.
	srv.Handle(web.Route{Pattern: "GET /api/v1/services/gaps"}, h.apiGaps)
	// Pages.
	srv.Handle(web.Route{Pattern: "GET /services"}, h.index)
	srv.Handle(web.Route{Pattern: "GET /services/facilities/{id}"}, h.facilityPage)
	srv.Handle(web.Route{Pattern: "POST /services/facilities/{id}/book"}, h.bookForm)
	srv.Handle(web.Route{Pattern: "POST /services/bookings/{id}/move"}, h.moveBookingForm)
	srv.Handle(web.Route{Pattern: "GET /services/calendar"}, h.communityPage)
	srv.Handle(web.Route{Pattern: "GET /services/items/{id}/apply"}, h.applyPage)
	srv.Handle(web.Route{Pattern: "POST /services/items/{id}/apply", MaxBody: up}, h.applyForm)
	srv.Handle(web.Route{Pattern: "GET /services/desk"}, h.deskPage)
	srv.Handle(web.Route{Pattern: "GET /services/applications/{id}"}, h.applicationPage)
	srv.Handle(web.Route{Pattern: "POST /services/applications/{id}/step"}, h.stepForm)
	srv.Handle(web.Route{Pattern: "GET /services/track", Access: web.Public}, h.trackPage)
	srv.Handle(web.Route{Pattern: "GET /services/gaps"}, h.gapsPage)
	srv.Handle(web.Route{Pattern: "GET /services/gaps.xlsx"}, h.gapsExport)
	srv.Handle(web.Route{Pattern: "GET /services/static/gaps.js", Access: web.Public}, h.script)
	// Staff pages: facilities, catalog, providers, needs (staff_pages.go).
	staffRoutes(h)
}

func queryInt(r *http.Request, name string) int {
	n, _ := strconv.Atoi(r.URL.Query().Get(name))
	return n
}

func (h *handler) apiFacilities(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cursor, _ := strconv.ParseInt(q.Get("cursor"), 10, 64)
	page, err := h.svc.Facilities(r.Context(), FacilityQuery{Community: q.Get("community"), Kind: FacilityKind(q.Get("kind")),
		After: cursor, Limit: queryInt(r, "limit")})
	return web.Reply(w, http.StatusOK, page, err)
}

func (h *handler) apiCreateFacility(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[FacilityInput](r)
	if err != nil {
		return err
	}
	f, err := h.svc.CreateFacility(r.Context(), in)
	return web.Reply(w, http.StatusCreated, f, err)
}

func (h *handler) apiFacility(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f, err := h.svc.Facility(r.Context(), id)
	return web.Reply(w, http.StatusOK, f, err)
}

func (h *handler) apiUpdateFacility(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	in, err := web.Decode[FacilityInput](r)
	if err != nil {
		return err
	}
	f, err := h.svc.UpdateFacility(r.Context(), id, in)
	return web.Reply(w, http.StatusOK, f, err)
}

func (h *handler) apiFacilityCalendar(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	cal, err := h.svc.FacilityCalendar(r.Context(), id, r.URL.Query().Get("from"), queryInt(r, "days"))
	return web.Reply(w, http.StatusOK, cal, err)
}

func (h *handler) apiBlock(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	in, err := web.Decode[struct {
		Day    string `json:"day"`
		Reason string `json:"reason"`
	}](r)
	if err != nil {
		return err
	}
	n, err := h.svc.Block(r.Context(), id, in.Day, in.Reason)
	return web.Reply(w, http.StatusOK, map[string]int{"cancelled": n}, err)
}

func (h *handler) apiUnblock(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	err = h.svc.Unblock(r.Context(), id, r.PathValue("day"))
	return web.Reply(w, http.StatusOK, map[string]bool{"ok": true}, err)
}

func (h *handler) apiCommunityCalendar(w http.ResponseWriter, r *http.Request) error {
	cal, err := h.svc.CommunityCalendar(r.Context(), r.URL.Query().Get("community"), r.URL.Query().Get("day"))
	return web.Reply(w, http.StatusOK, cal, err)
}

func (h *handler) apiBook(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[BookingInput](r)
	if err != nil {
		return err
	}
	bs, err := h.svc.Book(r.Context(), in)
	return web.Reply(w, http.StatusCreated, map[string]any{"bookings": bs}, err)
}

func (h *handler) apiMyBookings(w http.ResponseWriter, r *http.Request) error {
	bs, err := h.svc.MyBookings(r.Context(), queryInt(r, "limit"))
	if bs == nil {
		bs = []Booking{}
	}
	return web.Reply(w, http.StatusOK, map[string]any{"items": bs}, err)
}

func (h *handler) apiMoveBooking(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	in, err := web.Decode[struct {
		Reason string `json:"reason"`
	}](r)
	if err != nil {
		return err
	}
	b, err := h.svc.MoveBooking(r.Context(), id, BookingAction(r.PathValue("action")), in.Reason)
	return web.Reply(w, http.StatusOK, b, err)
}

func (h *handler) apiItems(w http.ResponseWriter, r *http.Request) error {
	items, err := h.svc.Items(r.Context(), r.URL.Query().Get("community"), r.URL.Query().Get("all") == "1")
	return web.Reply(w, http.StatusOK, map[string]any{"items": items}, err)
}

func (h *handler) apiSaveItem(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[ItemInput](r)
	if err != nil {
		return err
	}
	it, err := h.svc.SaveItem(r.Context(), in)
	return web.Reply(w, http.StatusCreated, it, err)
}

// multipart reports whether the request is a form with files (a phone
// uploading photos) rather than JSON (files in base64).
func multipart(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "multipart/form-data"
}

// formFiles reads the files of a multipart form: each part named
// "file.<material code>".
func formFiles(r *http.Request) ([]Upload, error) {
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return nil, web.ParseForm(r)
	}
	var out []Upload
	for name, fhs := range r.MultipartForm.File {
		code, ok := strings.CutPrefix(name, "file.")
		if !ok {
			continue
		}
		for _, fh := range fhs {
			if fh.Size > MaxUploadBytes {
				// Not read into memory: the validation names it by size.
				out = append(out, Upload{Material: code, Name: fh.Filename})
				continue
			}
			f, err := fh.Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, err
			}
			out = append(out, Upload{Material: code, Name: fh.Filename, Data: b})
		}
	}
	return out, nil
}

func (h *handler) apiApply(w http.ResponseWriter, r *http.Request) error {
	var in ApplyInput
	if multipart(r) {
		files, err := formFiles(r)
		if err != nil {
			return err
		}
		item, _ := strconv.ParseInt(r.FormValue("item"), 10, 64)
		resident, _ := strconv.ParseInt(r.FormValue("resident_id"), 10, 64)
		in = ApplyInput{Item: item, Name: r.FormValue("name"), Phone: r.FormValue("phone"), ResidentID: resident,
			Note: r.FormValue("note"), Files: files}
	} else {
		var err error
		if in, err = web.Decode[ApplyInput](r); err != nil {
			return err
		}
	}
	a, err := h.svc.Apply(r.Context(), in)
	return web.Reply(w, http.StatusCreated, a, err)
}

func (h *handler) apiApplications(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cursor, _ := strconv.ParseInt(q.Get("cursor"), 10, 64)
	page, err := h.svc.Applications(r.Context(), AppQuery{Community: q.Get("community"), State: AppState(q.Get("state")),
		Mine: q.Get("mine") == "1", After: cursor, Limit: queryInt(r, "limit")})
	return web.Reply(w, http.StatusOK, page, err)
}

func (h *handler) apiApplication(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.Application(r.Context(), id)
	return web.Reply(w, http.StatusOK, a, err)
}

func (h *handler) apiStep(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in StepInput
	if multipart(r) {
		if in.Files, err = formFiles(r); err != nil {
			return err
		}
		in.Note = r.FormValue("note")
	} else if in, err = web.Decode[StepInput](r); err != nil {
		return err
	}
	a, err := h.svc.Step(r.Context(), id, AppAction(r.PathValue("action")), in)
	return web.Reply(w, http.StatusOK, a, err)
}

func (h *handler) apiFile(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := web.PathID(r, "file")
	if err != nil {
		return err
	}
	f, err := h.svc.ApplicationFile(r.Context(), id, fid)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(f.Data)
	return err
}

func (h *handler) apiTrack(w http.ResponseWriter, r *http.Request) error {
	a, err := h.svc.Track(r.Context(), r.PathValue("number"))
	return web.Reply(w, http.StatusOK, a, err)
}

func (h *handler) apiProviders(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.Providers(r.Context())
	return web.Reply(w, http.StatusOK, map[string]any{"items": ps}, err)
}

func (h *handler) apiCreateProvider(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[ProviderInput](r)
	if err != nil {
		return err
	}
	p, err := h.svc.CreateProvider(r.Context(), in)
	return web.Reply(w, http.StatusCreated, p, err)
}

func (h *handler) apiNeeds(w http.ResponseWriter, r *http.Request) error {
	ns, err := h.svc.Needs(r.Context(), NeedState(r.URL.Query().Get("state")))
	return web.Reply(w, http.StatusOK, map[string]any{"items": ns}, err)
}

func (h *handler) apiRecordNeed(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[NeedInput](r)
	if err != nil {
		return err
	}
	n, err := h.svc.RecordNeed(r.Context(), in)
	return web.Reply(w, http.StatusCreated, n, err)
}

func (h *handler) apiProposals(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ps, err := h.svc.Propose(r.Context(), id)
	return web.Reply(w, http.StatusOK, map[string]any{"items": ps}, err)
}

func (h *handler) apiMatch(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	in, err := web.Decode[struct {
		Provider int64 `json:"provider"`
	}](r)
	if err != nil {
		return err
	}
	m, err := h.svc.Match(r.Context(), id, in.Provider)
	return web.Reply(w, http.StatusCreated, map[string]int64{"id": m}, err)
}

func (h *handler) apiCloseMatch(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	in, err := web.Decode[struct {
		Done    bool   `json:"done"`
		Outcome string `json:"outcome"`
	}](r)
	if err != nil {
		return err
	}
	err = h.svc.CloseMatch(r.Context(), id, in.Done, in.Outcome)
	return web.Reply(w, http.StatusOK, map[string]bool{"ok": true}, err)
}

func (h *handler) apiGaps(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	rep, err := h.svc.Gaps(r.Context(), q.Get("street"), q.Get("from"), q.Get("to"))
	return web.Reply(w, http.StatusOK, rep, err)
}

// Pages.

func (h *handler) render(w http.ResponseWriter, r *http.Request, name, title string, data any) error {
	return h.srv.Render(w, r, name, web.PageData{Title: title, Data: data})
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	items, err := h.svc.Items(ctx, "", false)
	if err != nil {
		return err
	}
	facs, err := h.svc.Facilities(ctx, FacilityQuery{Limit: 200})
	if err != nil {
		return err
	}
	mine, err := h.svc.MyBookings(ctx, 20)
	if err != nil {
		return err
	}
	apps, err := h.svc.Applications(ctx, AppQuery{Mine: true, Limit: 20})
	if err != nil {
		return err
	}
	p := auth.From(ctx)
	return h.render(w, r, "services_index", "services.title", map[string]any{"Items": items, "Facilities": facs.Items,
		"Bookings": mine, "Applications": apps.Items, "CanSeeGaps": p.CanAnywhere(auth.ServiceRead)})
}

func (h *handler) facilityPage(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	cal, err := h.svc.FacilityCalendar(r.Context(), id, r.URL.Query().Get("from"), 7)
	if err != nil {
		return err
	}
	return h.render(w, r, "services_facility", "services.facility", map[string]any{"Calendar": cal, "Booked": r.URL.Query().Get("booked"),
		"CanHandle": auth.From(r.Context()).Can(auth.ServiceHandle, cal.Facility.AreaPath)})
}

func (h *handler) bookForm(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, r.PostFormValue("start"))
	if err != nil {
		return errs.OnField("start", "err.services.start_missing")
	}
	places, _ := strconv.Atoi(r.PostFormValue("places"))
	if _, err := h.svc.Book(r.Context(), BookingInput{Facility: id, Start: start, Places: places, Purpose: r.PostFormValue("purpose")}); err != nil {
		return err
	}
	from := start.In(local).Format("2006-01-02")
	http.Redirect(w, r, "/services/facilities/"+strconv.FormatInt(id, 10)+"?booked=1&from="+url.QueryEscape(from), http.StatusSeeOther)
	return nil
}

func (h *handler) trackPage(w http.ResponseWriter, r *http.Request) error {
	number := r.URL.Query().Get("number")
	data := map[string]any{"Number": number}
	if number != "" {
		a, err := h.svc.Track(r.Context(), number)
		if err != nil && errs.CodeOf(err) != errs.NotFound {
			return err
		}
		data["Found"], data["Application"] = err == nil, a
	}
	return h.render(w, r, "services_track", "services.track", data)
}

func (h *handler) gapsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	data := map[string]any{"Street": q.Get("street")}
	if q.Get("street") != "" {
		rep, err := h.svc.Gaps(r.Context(), q.Get("street"), q.Get("from"), q.Get("to"))
		if err != nil {
			return err
		}
		data["Report"], data["Header"] = rep, gapHeader
		data["Export"] = "/services/gaps.xlsx?" + r.URL.RawQuery
	}
	return h.render(w, r, "services_gaps", "services.gaps", data)
}

// gapHeader is the order of the report's columns, as message keys.
var gapHeader = []string{"services.gaps.code", "services.gaps.community", "services.gaps.residents", "services.gaps.older",
	"services.gaps.facilities", "services.gaps.capacity", "services.gaps.per_1000", "services.gaps.per_1000_older",
	"services.gaps.offered", "services.gaps.taken", "services.gaps.utilisation", "services.gaps.unmet"}

func (h *handler) gapsExport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	rep, err := h.svc.Gaps(r.Context(), q.Get("street"), q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	lang := web.Ctx(r.Context()).Lang
	header := make([]string, len(gapHeader))
	for i, k := range gapHeader {
		header[i] = h.srv.Catalog().T(lang, k)
	}
	var buf bytes.Buffer
	if err := WriteGapsXLSX(&buf, rep, header); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="gaps-`+rep.Street+`.xlsx"`)
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *handler) script(w http.ResponseWriter, r *http.Request) error {
	b, err := static.ReadFile("static/gaps.js")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write(b)
	return err
}
