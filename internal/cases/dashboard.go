package cases

import (
	"net/http"

	"github.com/linli/linli/internal/platform/web"
)

// The figures: the KPI API and the three-rates dashboard.

func dashboardRoutes(h *handler) {
	h.srv.Handle(web.Route{Pattern: "GET /api/v1/kpis"}, h.apiKPIs)
	h.srv.Handle(web.Route{Pattern: "GET /dashboard"}, h.dashboard)
}

func (h *handler) apiKPIs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	k, err := h.svc.KPIs(r.Context(), KPIQuery{AreaCode: q.Get("area"), From: q.Get("from"), To: q.Get("to")})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, k)
	return nil
}

func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	kq := KPIQuery{AreaCode: q.Get("area"), From: q.Get("from"), To: q.Get("to")}
	rows, total, err := h.svc.KPIsByChild(r.Context(), kq)
	if err != nil {
		return err
	}
	return h.srv.Render(w, r, "dashboard", web.PageData{Title: "cases.dashboard.title", Data: map[string]any{
		"Rows": rows, "Total": total, "Query": kq}})
}
