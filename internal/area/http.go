package area

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
	"github.com/linli/linli/internal/platform/web"
)

// Handler serves the area pages and API.
type Handler struct {
	svc  *Service
	srv  *web.Server
	maps MapConfig
}

// MapConfig says where map tiles come from. Without a URL the map draws
// outlines on a plain background, which works on a closed network.
type MapConfig struct {
	TileURL     string // e.g. https://t{s}.tianditu.gov.cn/vec_w/wmts?…&tk=KEY, or an OSM URL template
	Attribution string
}

// Routes registers the module's routes.
func Routes(srv *web.Server, svc *Service, maps MapConfig) {
	h := &Handler{svc: svc, srv: srv, maps: maps}
	srv.Handle(web.Route{Pattern: "GET /api/v1/locate"}, h.apiLocate)
	srv.Handle(web.Route{Pattern: "GET /api/v1/areas"}, h.apiList)
	srv.Handle(web.Route{Pattern: "GET /api/v1/areas/{code}"}, h.apiGet)
	srv.Handle(web.Route{Pattern: "GET /api/v1/areas/{code}/geojson"}, h.apiExport)
	srv.Handle(web.Route{Pattern: "GET /api/v1/areas/{code}/members"}, h.apiMembers)
	srv.Handle(web.Route{Pattern: "POST /api/v1/areas/{code}/members"}, h.apiAssign)
	srv.Handle(web.Route{Pattern: "DELETE /api/v1/areas/{code}/members/{name}"}, h.apiUnassign)
	srv.Handle(web.Route{Pattern: "GET /areas"}, h.page)
	srv.Handle(web.Route{Pattern: "GET /areas/{code}"}, h.areaPage)
	srv.Handle(web.Route{Pattern: "POST /areas/{code}/members"}, h.assign)
	srv.Handle(web.Route{Pattern: "POST /areas/{code}/members/{name}/remove"}, h.unassign)
	srv.Handle(web.Route{Pattern: "GET /map"}, h.mapPage)
	adminRoutes(h)
}

// Page is a page of a list in the API, with the cursor of the next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	lq := ListQuery{Level: Level(q.Get("level")), Parent: q.Get("parent"), After: q.Get("cursor"), Limit: limit}
	items, err := h.svc.List(r.Context(), lq)
	if err != nil {
		return err
	}
	page := Page[Area]{Items: items}
	if page.Items == nil {
		page.Items = []Area{}
	}
	if lq.Limit > 0 && len(items) == lq.Limit || lq.Limit <= 0 && len(items) == 100 {
		page.NextCursor = items[len(items)-1].Code
	}
	web.JSON(w, http.StatusOK, page)
	return nil
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) error {
	a, err := h.svc.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a)
	return nil
}

// LocateAnswer is the JSON of /api/v1/locate.
type LocateAnswer struct {
	Found bool `json:"found"`
	*Location
	WGS84   [2]float64 `json:"wgs84"` // [lon, lat] as stored
	Message string     `json:"message,omitempty"`
}

// apiLocate answers which grid a point is in. Coordinates from 高德/腾讯
// (GCJ-02) or 百度 (BD-09) map SDKs are converted to WGS84 first.
func (h *Handler) apiLocate(w http.ResponseWriter, r *http.Request) error {
	p, err := ParsePoint(r.URL.Query().Get("lat"), r.URL.Query().Get("lon"), r.URL.Query().Get("coord"))
	if err != nil {
		return err
	}
	loc, ok, err := h.svc.Locate(r.Context(), p)
	if err != nil {
		return err
	}
	ans := LocateAnswer{Found: ok, WGS84: [2]float64{p[0], p[1]}}
	if ok {
		ans.Location = &loc
	} else {
		ans.Message = h.srv.Catalog().T(web.Ctx(r.Context()).Lang, "areas.outside_all")
	}
	web.JSON(w, http.StatusOK, ans)
	return nil
}

// ParsePoint reads a latitude and longitude in the named coordinate system
// (wgs84 by default, gcj02, bd09) and returns it in WGS84.
func ParsePoint(latText, lonText, coord string) (orb.Point, error) {
	var v errs.Validation
	lat, err1 := strconv.ParseFloat(latText, 64)
	lon, err2 := strconv.ParseFloat(lonText, 64)
	v.Check(err1 == nil && lat >= -90 && lat <= 90, "lat", "err.locate.lat")
	v.Check(err2 == nil && lon >= -180 && lon <= 180, "lon", "err.locate.lon")
	switch coord {
	case "", "wgs84", "gcj02", "bd09":
	default:
		v.Add("coord", "err.locate.coord", coord)
	}
	if err := v.Err(); err != nil {
		return orb.Point{}, err
	}
	p := orb.Point{lon, lat}
	switch coord {
	case "gcj02":
		p = geo.GCJ02ToWGS84(p)
	case "bd09":
		p = geo.BD09ToWGS84(p)
	}
	return p, nil
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer // a failure half-way must become an error, not half a file
	code := r.PathValue("code")
	if err := h.svc.ExportGeoJSON(r.Context(), code, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/geo+json")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+code+`.geojson"`)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func (h *Handler) apiMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.svc.Members(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []Member{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": ms})
	return nil
}

func (h *Handler) apiAssign(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
		Duty Duty   `json:"duty"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := h.svc.AssignWorker(r.Context(), r.PathValue("code"), in.Name, in.Duty); err != nil {
		return err
	}
	return h.apiMembers(w, r)
}

func (h *Handler) apiUnassign(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.RemoveWorker(r.Context(), r.PathValue("code"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// page lists the areas in the caller's scope: the top of what they see,
// or the children of ?parent=.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	if parent := r.URL.Query().Get("parent"); parent != "" {
		http.Redirect(w, r, "/areas/"+parent, http.StatusSeeOther)
		return nil
	}
	items, err := h.svc.List(r.Context(), ListQuery{Limit: 500})
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "areas", web.PageData{Title: "areas.title", Data: map[string]any{"Items": topmost(items)}})
}

// areaPage shows one area: what it is, what lies below it, its boundary
// versions, and for a grid its workers.
func (h *Handler) areaPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderArea(w, r, http.StatusOK, nil)
}

func (h *Handler) renderArea(w http.ResponseWriter, r *http.Request, status int, formErr error) error {
	ctx := r.Context()
	a, err := h.svc.Get(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	children, err := h.svc.List(ctx, ListQuery{Parent: a.Code, Limit: 500})
	if err != nil {
		return err
	}
	versions, err := h.svc.Boundaries(ctx, a.Code)
	if err != nil {
		return err
	}
	data := map[string]any{"Area": a, "Children": children, "Versions": versions}
	if a.Level == Grid {
		members, err := h.svc.Members(ctx, a.Code)
		if err != nil {
			return err
		}
		data["Members"] = members
		data["CanAssign"] = auth.From(ctx).Can(auth.GridAssign, a.Path)
	}
	if formErr != nil {
		msg, fields := web.Message(h.srv.Catalog(), web.Ctx(ctx).Lang, formErr)
		data["Error"], data["Fields"] = msg, fields
	}
	return h.srv.RenderStatus(w, r, status, "area", web.PageData{Title: "areas.area_title", Data: data})
}

func (h *Handler) assign(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	err := h.svc.AssignWorker(r.Context(), r.PathValue("code"), r.PostForm.Get("name"), Duty(r.PostForm.Get("duty")))
	return h.afterMemberChange(w, r, err)
}

func (h *Handler) unassign(w http.ResponseWriter, r *http.Request) error {
	err := h.svc.RemoveWorker(r.Context(), r.PathValue("code"), r.PathValue("name"))
	return h.afterMemberChange(w, r, err)
}

// afterMemberChange shows the grid again: with the form's error when the
// input was at fault, else redirected so a reload does not repeat the post.
func (h *Handler) afterMemberChange(w http.ResponseWriter, r *http.Request, err error) error {
	var e *errs.Error
	if errors.As(err, &e) && (e.Code == errs.Invalid || e.Code == errs.NotFound || e.Code == errs.Conflict) {
		return h.renderArea(w, r, web.Status(err), err)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/areas/"+r.PathValue("code"), http.StatusSeeOther)
	return nil
}

// mapPage draws an area and its grids with Leaflet. The page holds no
// script of its own (the CSP forbids inline script): map.js reads the data
// attributes and fetches the GeoJSON.
func (h *Handler) mapPage(w http.ResponseWriter, r *http.Request) error {
	code := r.URL.Query().Get("area")
	if code == "" {
		top, err := h.svc.List(r.Context(), ListQuery{Limit: 500})
		if err != nil {
			return err
		}
		if top = topmost(top); len(top) == 0 {
			return errs.E(errs.NotFound, "areas.none")
		}
		code = top[0].Code
	}
	a, err := h.svc.Get(r.Context(), code)
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "map", web.PageData{Title: "map.title", Data: map[string]any{"Area": a, "Tiles": h.maps}})
}

// topmost keeps the areas whose parent is not in the list: the roots of
// what the caller sees.
func topmost(items []Area) []Area {
	codes := map[string]bool{}
	for _, a := range items {
		codes[a.Code] = true
	}
	var out []Area
	for _, a := range items {
		if !codes[a.Parent] {
			out = append(out, a)
		}
	}
	return out
}
