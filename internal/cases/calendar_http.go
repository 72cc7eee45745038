package cases

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
	"github.com/linli/linli/internal/platform/workcal"
)

type calendarHandler struct {
	cals *Calendars
	srv  *web.Server
}

// CalendarRoutes registers the calendar's admin page and API.
func CalendarRoutes(srv *web.Server, cals *Calendars) {
	h := &calendarHandler{cals: cals, srv: srv}
	srv.Handle(web.Route{Pattern: "GET /admin/calendar"}, h.page)
	srv.Handle(web.Route{Pattern: "POST /admin/calendar"}, h.save)
	srv.Handle(web.Route{Pattern: "GET /api/v1/calendar/{year}"}, h.apiYear)
}

func (h *calendarHandler) render(w http.ResponseWriter, r *http.Request, status int, year int, text string, formErr error, saved bool) error {
	if err := auth.From(r.Context()).Require(auth.AreaManage, ""); err != nil {
		return err
	}
	cal := h.cals.Current()
	if text == "" {
		y, _, _ := h.cals.Year(year)
		b, _ := json.MarshalIndent(y, "", "  ")
		text = string(b)
	}
	var years []map[string]any
	for _, y := range cal.Years() {
		years = append(years, map[string]any{"Year": y, "Coverage": cal.Coverage(y).String()})
	}
	data := map[string]any{"Year": year, "Text": text, "Years": years, "Saved": saved}
	if formErr != nil {
		msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, formErr)
		data["Error"], data["Fields"] = msg, fields
	}
	return h.srv.RenderStatus(w, r, status, "calendar", web.PageData{Title: "calendar.title", Data: data})
}

func (h *calendarHandler) page(w http.ResponseWriter, r *http.Request) error {
	year, err := strconv.Atoi(r.URL.Query().Get("year"))
	if err != nil {
		year = h.cals.now().In(workcal.CST).Year()
	}
	return h.render(w, r, http.StatusOK, year, "", nil, false)
}

func (h *calendarHandler) save(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	text := r.PostForm.Get("config")
	var y workcal.Year
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	err := dec.Decode(&y)
	if err != nil {
		err = fieldErr("config", "err.calendar.json", err.Error())
	} else {
		err = h.cals.SaveYear(r.Context(), y)
	}
	if code := errs.CodeOf(err); code == errs.Invalid {
		return h.render(w, r, http.StatusBadRequest, y.Year, text, err, false)
	}
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, y.Year, "", nil, true)
}

func (h *calendarHandler) apiYear(w http.ResponseWriter, r *http.Request) error {
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return fieldErr("year", "err.calendar.year", r.PathValue("year"))
	}
	y, cov, err := h.cals.Year(year)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, map[string]any{"year": y, "coverage": cov.String()})
	return nil
}
