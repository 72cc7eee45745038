package app

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

func (a *App) healthz(w http.ResponseWriter, r *http.Request) error {
	web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 when the database answers and carries the schema this
// binary expects; a load balancer sends traffic only then.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	v, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return errs.E(errs.Unavailable, "err.not_ready", err.Error())
	}
	if want := db.LatestVersion(); v != want {
		return errs.E(errs.Unavailable, "err.schema_version", v, want)
	}
	web.JSON(w, http.StatusOK, map[string]any{"status": "ready", "schema": v})
	return nil
}

// metrics serves Prometheus figures to holders of a token with the
// "metrics" scope (or an administrator's session), not to the public.
func (a *App) metrics(w http.ResponseWriter, r *http.Request) error {
	if err := auth.From(r.Context()).Require(auth.MetricsRead, ""); err != nil {
		return err
	}
	promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (a *App) notFound(w http.ResponseWriter, r *http.Request) error {
	return errs.E(errs.NotFound, "err.page_not_found")
}

// roleCard is one role's part of the home page: what it is for and where
// to go.
type roleCard struct {
	Role  auth.Role
	Areas []auth.GrantInfo
	Links []link
}

type link struct {
	Href, Key string
}

// roleLinks lists, per role, the pages that exist for it today. Modules
// add theirs as they land.
var roleLinks = map[auth.Role][]link{
	auth.Resident: {
		{"/report", "home.link.report"}, {"/areas", "home.link.my_community"}, {"/civic", "home.link.civic"},
		{"/volunteer", "home.link.volunteer"}, {"/services", "home.link.services"},
		{"/assess/surveys", "home.link.assess_surveys"},
	},
	auth.GridWorker: {
		{"/report", "home.link.report"}, {"/cases?tab=verify", "home.link.verify"},
		{"/areas", "home.link.my_grids"}, {"/map", "home.link.map"}, {"/registry/visits", "home.link.visits"},
		{"/registry", "home.link.registry"}, {"/volunteer", "home.link.volunteer"},
		{"/services", "home.link.services"},
	},
	auth.CommunityStaff: {
		{"/cases", "home.link.cases"}, {"/cases/import", "home.link.hotline"},
		{"/dashboard", "home.link.dashboard"}, {"/areas", "home.link.community_areas"}, {"/map", "home.link.map"},
		{"/registry", "home.link.registry"}, {"/civic", "home.link.civic"}, {"/volunteer", "home.link.volunteer"},
		{"/services", "home.link.services"}, {"/services/desk", "home.link.service_desk"},
		{"/assess", "home.link.assess"}, {"/assess/tasks", "home.link.assess_tasks"},
	},
	auth.StreetStaff: {
		{"/cases", "home.link.cases"}, {"/cases/import", "home.link.hotline"},
		{"/dashboard", "home.link.dashboard"}, {"/areas", "home.link.street_areas"}, {"/map", "home.link.map"},
		{"/registry", "home.link.registry"}, {"/civic", "home.link.civic"}, {"/volunteer", "home.link.volunteer"},
		{"/volunteer/report", "home.link.volunteer_report"}, {"/services", "home.link.services"},
		{"/services/desk", "home.link.service_desk"}, {"/services/gaps", "home.link.service_gaps"},
		{"/assess", "home.link.assess"}, {"/assess/tasks", "home.link.assess_tasks"},
	},
	auth.DepartmentHandler: {
		{"/cases?tab=working", "home.link.my_cases"}, {"/areas", "home.link.areas"},
		{"/services/desk", "home.link.service_desk"},
		{"/assess/tasks", "home.link.assess_tasks"},
	},
	auth.Supervisor: {
		{"/dashboard", "home.link.dashboard"}, {"/cases?tab=all", "home.link.cases"},
		{"/areas", "home.link.areas"}, {"/map", "home.link.map"}, {"/civic", "home.link.civic"},
		{"/volunteer", "home.link.volunteer"}, {"/volunteer/report", "home.link.volunteer_report"},
		{"/services/gaps", "home.link.service_gaps"},
		{"/assess", "home.link.assess"},
	},
	auth.Overseer: {
		{"/areas", "home.link.my_community"}, {"/civic", "home.link.civic"}, {"/services", "home.link.services"},
	},
	auth.Admin: {
		{"/admin/users", "home.link.users"}, {"/admin/areas", "home.link.admin_areas"},
		{"/admin/categories", "home.link.categories"}, {"/admin/calendar", "home.link.calendar"},
		{"/admin/open311", "home.link.open311"}, {"/cases", "home.link.cases"},
		{"/dashboard", "home.link.dashboard"}, {"/areas", "home.link.areas"}, {"/map", "home.link.map"},
		{"/registry", "home.link.registry"}, {"/civic", "home.link.civic"}, {"/volunteer", "home.link.volunteer"},
		{"/volunteer/report", "home.link.volunteer_report"}, {"/services/desk", "home.link.service_desk"},
		{"/services/gaps", "home.link.service_gaps"},
		{"/assess", "home.link.assess"}, {"/assess/tasks", "home.link.assess_tasks"},
	},
}

func (a *App) home(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	var cards []roleCard
	for _, role := range p.Roles() {
		c := roleCard{Role: role, Links: roleLinks[role]}
		for _, g := range p.Grants {
			if g.Role == role {
				c.Areas = append(c.Areas, g)
			}
		}
		cards = append(cards, c)
	}
	counts, err := a.Areas.Count(r.Context())
	if err != nil {
		return err
	}
	return a.Server.Render(w, r, "home", web.PageData{Title: "home.title", Data: map[string]any{
		"Cards": cards, "Counts": counts, "Levels": []area.Level{area.District, area.Street, area.Community, area.Grid},
	}})
}
