package area

import (
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/web"
)

// Handler serves the area pages and API.
type Handler struct {
	svc *Service
	srv *web.Server
}

// Routes registers the module's routes.
func Routes(srv *web.Server, svc *Service) {
	h := &Handler{svc: svc, srv: srv}
	srv.Handle(web.Route{Pattern: "GET /api/v1/areas"}, h.apiList)
	srv.Handle(web.Route{Pattern: "GET /api/v1/areas/{code}"}, h.apiGet)
	srv.Handle(web.Route{Pattern: "GET /areas"}, h.page)
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

// page lists the areas in the caller's scope, level by level.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	parent := r.URL.Query().Get("parent")
	q := ListQuery{Parent: parent, Limit: 500}
	var current *Area
	if parent != "" {
		a, err := h.svc.Get(r.Context(), parent)
		if err != nil {
			return err
		}
		current = &a
	}
	items, err := h.svc.List(r.Context(), q)
	if err != nil {
		return err
	}
	if parent == "" {
		items = topmost(items)
	}
	return h.srv.Render(w, r, "areas", web.PageData{Title: "areas.title", Data: map[string]any{
		"Current": current, "Items": items,
	}})
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
