package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// pageRoutes are the server-rendered pages: the register's lists and
// forms, and the grid worker's visit list, which is built for a phone.
func pageRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /registry", h.residentsPage},
		{"GET /registry/residents/new", h.newResidentPage},
		{"POST /registry/residents", h.createResident},
		{"GET /registry/residents/{id}", h.residentPage},
		{"GET /registry/residents/{id}/edit", h.editResidentPage},
		{"POST /registry/residents/{id}/edit", h.updateResident},
		{"POST /registry/residents/{id}/reveal", h.revealResident},
		{"GET /registry/buildings", h.buildingsPage},
		{"POST /registry/buildings", h.createBuilding},
		{"GET /registry/buildings/{id}", h.buildingPage},
		{"POST /registry/buildings/{id}/rooms", h.addRoom},
		{"GET /registry/places", h.placesPage},
		{"POST /registry/places", h.createPlace},
		{"GET /registry/components", h.componentsPage},
		{"POST /registry/components", h.createComponent},
		{"POST /registry/components/{id}/state", h.setComponentState},
		{"GET /registry/visits", h.duePage},
		{"GET /registry/visits/{id}/photo", h.visitPhoto},
		{"POST /registry/visits/{id}/case", h.caseFromVisit},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
	h.srv.Handle(web.Route{Pattern: "POST /registry/residents/{id}/visits", MaxBody: maxVisitBody}, h.recordVisit)
	extraPageRoutes(h)
}

// formError puts an input error on the page; other errors end the request.
func (h *handler) formError(ctx context.Context, data map[string]any, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || (e.Code != errs.Invalid && e.Code != errs.Conflict) {
		return err
	}
	msg, fields := web.Message(h.srv.Catalog(), web.Ctx(ctx).Lang, err)
	data["Error"], data["Fields"] = msg, fields
	return nil
}

// Grids lists the grids the caller may read, for the pages' grid choice.
func (s *Service) Grids(ctx context.Context) ([]area.Area, error) {
	return s.areas.List(ctx, area.ListQuery{Level: area.Grid, Limit: 500})
}

// common is what every register page shows: the sections and what the
// caller may do.
func (h *handler) common(ctx context.Context, section string) (map[string]any, error) {
	p := auth.From(ctx)
	if !p.CanAnywhere(auth.RegistryRead) {
		return nil, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	grids, err := h.svc.Grids(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Section": section, "Grids": grids, "CanEdit": p.CanAnywhere(auth.RegistryEdit),
		"CanVisit": p.CanAnywhere(auth.RegistryVisit)}, nil
}

// pageData is common's data with formErr, when it is the user's to mend,
// shown on the page.
func (h *handler) pageData(ctx context.Context, section string, formErr error) (map[string]any, error) {
	data, err := h.common(ctx, section)
	if err != nil {
		return nil, err
	}
	return data, h.formError(ctx, data, formErr)
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data map[string]any) error {
	return h.srv.RenderStatus(w, r, status, name, web.PageData{Title: title, Data: data})
}

// --- residents ---

func (h *handler) residentsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	data, err := h.common(ctx, "residents")
	if err != nil {
		return err
	}
	q := residentQuery(r)
	page, err := h.svc.Residents(ctx, q)
	if err != nil {
		if err := h.formError(ctx, data, err); err != nil {
			return err
		}
	}
	groups, err := h.svc.Groups(ctx)
	if err != nil {
		return err
	}
	data["Query"], data["Page"], data["Groups"] = q, page, groups
	if page.NextCursor != "" {
		data["Next"] = nextLink(r, page.NextCursor)
	}
	return h.render(w, r, http.StatusOK, "registry_residents", "registry.title", data)
}

// nextLink is the page's own URL with the next cursor.
func nextLink(r *http.Request, cursor string) string {
	q := r.URL.Query()
	q.Set("cursor", cursor)
	return r.URL.Path + "?" + q.Encode()
}

func (h *handler) residentForm(w http.ResponseWriter, r *http.Request, status int, in ResidentInput, id int64, formErr error) error {
	ctx := r.Context()
	data, err := h.pageData(ctx, "residents", formErr)
	if err != nil {
		return err
	}
	groups, err := h.svc.Groups(ctx)
	if err != nil {
		return err
	}
	levels, err := h.svc.CareLevels(ctx)
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, g := range in.Groups {
		chosen[g] = true
	}
	data["In"], data["ID"], data["Groups"], data["Levels"], data["Chosen"], data["PopTypes"] = in, id, groups, levels, chosen, PopTypes
	title := "registry.new_resident"
	if id != 0 {
		title = "registry.edit_resident"
	}
	return h.render(w, r, status, "registry_resident_form", title, data)
}

func (h *handler) newResidentPage(w http.ResponseWriter, r *http.Request) error {
	return h.residentForm(w, r, http.StatusOK, ResidentInput{Grid: r.URL.Query().Get("grid"), PopType: Registered}, 0, nil)
}

// residentFromForm reads the resident form.
func residentFromForm(r *http.Request) ResidentInput {
	f := r.PostForm
	in := ResidentInput{Grid: f.Get("grid"), Name: f.Get("name"), Sex: Sex(f.Get("sex")), BirthDate: f.Get("birth_date"),
		IDNumber: f.Get("id_number"), Phone: f.Get("phone"), PopType: PopType(f.Get("pop_type")), CareLevel: f.Get("care_level"),
		Groups: f["groups"], Relation: f.Get("relation"), Note: f.Get("note")}
	in.HouseholdID, _ = strconv.ParseInt(f.Get("household_id"), 10, 64)
	if room, _ := strconv.ParseInt(f.Get("room_id"), 10, 64); room > 0 {
		in.Room = &LinkInput{RoomID: room, Role: Role(f.Get("role")), From: f.Get("from")}
	}
	return in
}

func (h *handler) createResident(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := residentFromForm(r)
	res, err := h.svc.CreateResident(r.Context(), in)
	if err != nil {
		in.IDNumber, in.Phone = "", "" // personal numbers are not echoed back into the page
		return h.residentForm(w, r, web.Status(err), in, 0, err)
	}
	http.Redirect(w, r, "/registry/residents/"+strconv.FormatInt(res.ID, 10), http.StatusSeeOther)
	return nil
}

func (h *handler) editResidentPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		res, err := h.svc.Resident(r.Context(), id)
		if err != nil {
			return err
		}
		if !auth.From(r.Context()).Can(auth.RegistryEdit, res.AreaPath) {
			return errs.E(errs.Forbidden, "err.auth.forbidden")
		}
		in := ResidentInput{Grid: res.Grid, HouseholdID: res.HouseholdID, Relation: res.Relation, Name: res.Name, Sex: res.Sex,
			BirthDate: res.BirthDate, PopType: res.PopType, CareLevel: res.CareLevel, Groups: res.Groups, Note: res.Note}
		return h.residentForm(w, r, http.StatusOK, in, id, nil)
	})
}

func (h *handler) updateResident(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		in := residentFromForm(r)
		if _, err := h.svc.UpdateResident(r.Context(), id, in); err != nil {
			in.IDNumber, in.Phone = "", ""
			return h.residentForm(w, r, web.Status(err), in, id, err)
		}
		http.Redirect(w, r, "/registry/residents/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	})
}

func (h *handler) residentPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.renderResident(w, r, http.StatusOK, id, nil, nil) })
}

// renderResident shows a resident: masked numbers (or, just after a
// reveal, the clear ones), groups, rooms, visits and the visit form.
func (h *handler) renderResident(w http.ResponseWriter, r *http.Request, status int, id int64, revealed *Revealed, formErr error) error {
	ctx := r.Context()
	data, err := h.common(ctx, "residents")
	if err != nil {
		return err
	}
	res, err := h.svc.Resident(ctx, id)
	if err != nil {
		return err
	}
	if err := h.formError(ctx, data, formErr); err != nil {
		return err
	}
	visits, err := h.svc.Visits(ctx, id)
	if err != nil {
		return err
	}
	groups, err := h.svc.Groups(ctx)
	if err != nil {
		return err
	}
	levels, err := h.svc.CareLevels(ctx)
	if err != nil {
		return err
	}
	p := auth.From(ctx)
	data["Resident"], data["Revealed"], data["Visits"], data["GroupNames"], data["Levels"] = res, revealed, visits, groupNames(groups), levels
	data["CanReveal"] = p.Can(auth.RegistryReveal, res.AreaPath)
	data["CanVisitHere"] = p.Can(auth.RegistryVisit, res.AreaPath)
	data["CanEditHere"] = p.Can(auth.RegistryEdit, res.AreaPath)
	data["Categories"] = h.caseCategories(ctx)
	data["Modes"] = VisitModes
	return h.render(w, r, status, "registry_resident", "registry.resident", data)
}

// groupNames maps group codes to their names in both languages.
func groupNames(gs []Group) map[string]Group {
	out := make(map[string]Group, len(gs))
	for _, g := range gs {
		out[g.Code] = g
	}
	return out
}

// caseCategories are the leaves a finding may be filed under; none when the
// case module is not wired.
func (h *handler) caseCategories(ctx context.Context) []cases.Category {
	lister, ok := h.svc.Cases.(interface {
		Categories(ctx context.Context) ([]cases.Category, error)
	})
	if !ok {
		return nil
	}
	all, err := lister.Categories(ctx)
	if err != nil {
		return nil
	}
	var leaves []cases.Category
	for _, c := range all {
		if c.Parent != "" && c.Active {
			leaves = append(leaves, c)
		}
	}
	return leaves
}

func (h *handler) revealResident(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		out, err := h.svc.Reveal(r.Context(), id, r.PostForm.Get("reason"))
		if err != nil {
			return h.renderResident(w, r, web.Status(err), id, nil, err)
		}
		return h.renderResident(w, r, http.StatusOK, id, &out, nil)
	})
}

// recordVisit takes the visit form, with an optional photo.
func (h *handler) recordVisit(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := visitFromForm(r)
		if err == nil {
			_, err = h.svc.RecordVisit(r.Context(), id, in)
		}
		if err != nil {
			return h.renderResident(w, r, web.Status(err), id, nil, err)
		}
		http.Redirect(w, r, "/registry/residents/"+strconv.FormatInt(id, 10)+"#visits", http.StatusSeeOther)
		return nil
	})
}

func visitFromForm(r *http.Request) (VisitInput, error) {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return VisitInput{}, errs.E(errs.TooLarge, "err.too_large", tooLarge.Limit/1024)
		}
		return VisitInput{}, errs.E(errs.Invalid, "err.form")
	}
	in := VisitInput{Mode: VisitMode(r.FormValue("mode")), Place: r.FormValue("place"), Finding: r.FormValue("finding"),
		Category: r.FormValue("case_category")}
	file, _, err := r.FormFile("photo")
	if err == nil {
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, MaxPhotoBytes+1))
		if err != nil {
			return VisitInput{}, errs.E(errs.Invalid, "err.form")
		}
		// The type is read from the bytes, not from what the browser claims.
		in.Photo = &Photo{ContentType: http.DetectContentType(data), Data: data}
	}
	return in, nil
}

func (h *handler) visitPhoto(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		p, err := h.svc.VisitPhoto(r.Context(), id)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", p.ContentType)
		w.Header().Set("Cache-Control", "private, no-store")
		_, err = w.Write(p.Data)
		return err
	})
}

func (h *handler) caseFromVisit(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		number, err := h.svc.CaseFromVisit(r.Context(), id, r.PostForm.Get("case_category"))
		if err != nil {
			return err
		}
		http.Redirect(w, r, "/cases/"+number, http.StatusSeeOther)
		return nil
	})
}

// duePage is the grid worker's phone page: who is due or overdue a visit.
func (h *handler) duePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	data, err := h.common(ctx, "visits")
	if err != nil {
		return err
	}
	due, err := h.svc.DueVisits(ctx, r.URL.Query().Get("grid"), 200)
	if err != nil {
		return err
	}
	groups, err := h.svc.Groups(ctx)
	if err != nil {
		return err
	}
	data["Due"], data["GroupNames"], data["Grid"] = due, groupNames(groups), r.URL.Query().Get("grid")
	return h.render(w, r, http.StatusOK, "registry_visits", "registry.visits", data)
}

// --- buildings ---

func (h *handler) buildingsPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderBuildings(w, r, http.StatusOK, BuildingInput{Grid: r.URL.Query().Get("grid")}, nil)
}

func (h *handler) renderBuildings(w http.ResponseWriter, r *http.Request, status int, in BuildingInput, formErr error) error {
	ctx := r.Context()
	data, err := h.pageData(ctx, "buildings", formErr)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := h.svc.Buildings(ctx, BuildingQuery{Grid: q.Get("grid"), Address: q.Get("address"), After: queryID(r, "cursor")})
	if err != nil {
		return err
	}
	data["Page"], data["In"], data["Address"] = page, in, q.Get("address")
	if page.NextCursor != "" {
		data["Next"] = nextLink(r, page.NextCursor)
	}
	return h.render(w, r, status, "registry_buildings", "registry.buildings", data)
}

func (h *handler) createBuilding(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	in := BuildingInput{Grid: f.Get("grid"), Estate: f.Get("estate"), Road: f.Get("road"), DoorNo: f.Get("door_no"), Name: f.Get("name")}
	in.Floors, _ = strconv.Atoi(f.Get("floors"))
	in.Units, _ = strconv.Atoi(f.Get("units"))
	in.Location = formPoint(f.Get("lon"), f.Get("lat"))
	b, err := h.svc.CreateBuilding(r.Context(), in)
	if err != nil {
		return h.renderBuildings(w, r, web.Status(err), in, err)
	}
	http.Redirect(w, r, "/registry/buildings/"+strconv.FormatInt(b.ID, 10), http.StatusSeeOther)
	return nil
}

// formPoint reads an optional location from two form fields; a half-given
// or unreadable one becomes an out-of-range point, which the service
// refuses on the location field.
func formPoint(lon, lat string) *Point {
	lon, lat = strings.TrimSpace(lon), strings.TrimSpace(lat)
	if lon == "" && lat == "" {
		return nil
	}
	x, err1 := strconv.ParseFloat(lon, 64)
	y, err2 := strconv.ParseFloat(lat, 64)
	if err1 != nil || err2 != nil {
		return &Point{Lon: 999, Lat: 999}
	}
	return &Point{Lon: x, Lat: y}
}

func (h *handler) buildingPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.renderBuilding(w, r, http.StatusOK, id, nil) })
}

func (h *handler) renderBuilding(w http.ResponseWriter, r *http.Request, status int, id int64, formErr error) error {
	ctx := r.Context()
	data, err := h.common(ctx, "buildings")
	if err != nil {
		return err
	}
	b, err := h.svc.Building(ctx, id)
	if err != nil {
		return err
	}
	if err := h.formError(ctx, data, formErr); err != nil {
		return err
	}
	data["Building"], data["Usages"] = b, Usages
	data["CanEditHere"] = auth.From(ctx).Can(auth.RegistryEdit, b.AreaPath)
	return h.render(w, r, status, "registry_building", "registry.building", data)
}

func (h *handler) addRoom(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		f := r.PostForm
		in := RoomInput{Unit: f.Get("unit"), Number: f.Get("number"), Usage: Usage(f.Get("usage"))}
		in.Floor, _ = strconv.Atoi(f.Get("floor"))
		if _, err := h.svc.AddRoom(r.Context(), id, in); err != nil {
			return h.renderBuilding(w, r, web.Status(err), id, err)
		}
		http.Redirect(w, r, "/registry/buildings/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	})
}

// --- places ---

func (h *handler) placesPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderPlaces(w, r, http.StatusOK, PlaceInput{Grid: r.URL.Query().Get("grid"), Kind: Shop}, nil)
}

func (h *handler) renderPlaces(w http.ResponseWriter, r *http.Request, status int, in PlaceInput, formErr error) error {
	ctx := r.Context()
	data, err := h.pageData(ctx, "places", formErr)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := h.svc.Places(ctx, PlaceQuery{Grid: q.Get("grid"), Kind: PlaceKind(q.Get("kind")), Name: q.Get("name"), After: queryID(r, "cursor")})
	if err != nil {
		return err
	}
	data["Page"], data["In"], data["Kinds"] = page, in, PlaceKinds
	if page.NextCursor != "" {
		data["Next"] = nextLink(r, page.NextCursor)
	}
	return h.render(w, r, status, "registry_places", "registry.places", data)
}

func (h *handler) createPlace(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	in := PlaceInput{Grid: f.Get("grid"), Kind: PlaceKind(f.Get("kind")), Name: f.Get("name"), CreditCode: f.Get("credit_code"),
		Address: f.Get("address"), ContactName: f.Get("contact_name"), ContactPhone: f.Get("contact_phone"),
		Location: formPoint(f.Get("lon"), f.Get("lat"))}
	if _, err := h.svc.CreatePlace(r.Context(), in); err != nil {
		in.ContactPhone = ""
		return h.renderPlaces(w, r, web.Status(err), in, err)
	}
	http.Redirect(w, r, "/registry/places?grid="+in.Grid, http.StatusSeeOther)
	return nil
}

// --- components ---

func (h *handler) componentsPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderComponents(w, r, http.StatusOK, ComponentInput{Grid: r.URL.Query().Get("grid"), Major: "01", Minor: "01"}, nil)
}

func (h *handler) renderComponents(w http.ResponseWriter, r *http.Request, status int, in ComponentInput, formErr error) error {
	ctx := r.Context()
	data, err := h.pageData(ctx, "components", formErr)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := h.svc.Components(ctx, ComponentQuery{Grid: q.Get("grid"), State: ComponentState(q.Get("state")), After: queryID(r, "cursor")})
	if err != nil {
		return err
	}
	data["Page"], data["In"], data["States"] = page, in, ComponentStates
	if page.NextCursor != "" {
		data["Next"] = nextLink(r, page.NextCursor)
	}
	return h.render(w, r, status, "registry_components", "registry.components", data)
}

func (h *handler) createComponent(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	in := ComponentInput{Grid: f.Get("grid"), Code: f.Get("code"), Major: f.Get("major"), Minor: f.Get("minor"), Name: f.Get("name"),
		State: ComponentState(f.Get("state")), Owner: f.Get("owner"), Location: formPoint(f.Get("lon"), f.Get("lat"))}
	if in.Code != "" { // a full code names its class itself
		in.Major, in.Minor = "", ""
	}
	if _, err := h.svc.CreateComponent(r.Context(), in); err != nil {
		return h.renderComponents(w, r, web.Status(err), in, err)
	}
	http.Redirect(w, r, "/registry/components?grid="+in.Grid, http.StatusSeeOther)
	return nil
}

func (h *handler) setComponentState(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		c, err := h.svc.SetComponentState(r.Context(), id, ComponentState(r.PostForm.Get("state")))
		if err != nil {
			return err
		}
		http.Redirect(w, r, "/registry/components?grid="+c.Grid, http.StatusSeeOther)
		return nil
	})
}

// --- editing buildings, places and room links; patrols; settings ---

func extraPageRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"POST /registry/buildings/{id}/edit", h.updateBuilding},
		{"GET /registry/places/{id}", h.placePage},
		{"POST /registry/places/{id}/edit", h.updatePlace},
		{"POST /registry/places/{id}/reveal", h.revealPlace},
		{"POST /registry/residents/{id}/rooms", h.linkRoom},
		{"POST /registry/residents/{id}/rooms/{link}/end", h.endLink},
		{"GET /registry/patrols", h.patrolsPage},
		{"POST /registry/patrols", h.startPatrol},
		{"POST /registry/patrols/{id}/points", h.checkIn},
		{"POST /registry/patrols/{id}/end", h.endPatrol},
		{"GET /registry/settings", h.settingsPage},
		{"POST /registry/settings/levels/{code}", h.setInterval},
		{"POST /registry/settings/groups", h.saveGroup},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
}

func buildingFromForm(r *http.Request) BuildingInput {
	f := r.PostForm
	in := BuildingInput{Grid: f.Get("grid"), Estate: f.Get("estate"), Road: f.Get("road"), DoorNo: f.Get("door_no"), Name: f.Get("name")}
	in.Floors, _ = strconv.Atoi(f.Get("floors"))
	in.Units, _ = strconv.Atoi(f.Get("units"))
	in.Location = formPoint(f.Get("lon"), f.Get("lat"))
	return in
}

func (h *handler) updateBuilding(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		if _, err := h.svc.UpdateBuilding(r.Context(), id, buildingFromForm(r)); err != nil {
			return h.renderBuilding(w, r, web.Status(err), id, err)
		}
		http.Redirect(w, r, "/registry/buildings/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	})
}

func (h *handler) placePage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error { return h.renderPlace(w, r, http.StatusOK, id, "", nil) })
}

func (h *handler) renderPlace(w http.ResponseWriter, r *http.Request, status int, id int64, revealed string, formErr error) error {
	ctx := r.Context()
	data, err := h.common(ctx, "places")
	if err != nil {
		return err
	}
	pl, err := h.svc.Place(ctx, id)
	if err != nil {
		return err
	}
	if err := h.formError(ctx, data, formErr); err != nil {
		return err
	}
	p := auth.From(ctx)
	data["Place"], data["Revealed"], data["Kinds"] = pl, revealed, PlaceKinds
	data["CanEditHere"], data["CanReveal"] = p.Can(auth.RegistryEdit, pl.AreaPath), p.Can(auth.RegistryReveal, pl.AreaPath)
	return h.render(w, r, status, "registry_place", "registry.place", data)
}

func (h *handler) updatePlace(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		f := r.PostForm
		in := PlaceInput{Grid: f.Get("grid"), Kind: PlaceKind(f.Get("kind")), Name: f.Get("name"), CreditCode: f.Get("credit_code"),
			Address: f.Get("address"), ContactName: f.Get("contact_name"), ContactPhone: f.Get("contact_phone"),
			Location: formPoint(f.Get("lon"), f.Get("lat"))}
		if _, err := h.svc.UpdatePlace(r.Context(), id, in); err != nil {
			return h.renderPlace(w, r, web.Status(err), id, "", err)
		}
		http.Redirect(w, r, "/registry/places/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	})
}

func (h *handler) revealPlace(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		phone, err := h.svc.RevealPlaceContact(r.Context(), id, r.PostForm.Get("reason"))
		if err != nil {
			return h.renderPlace(w, r, web.Status(err), id, "", err)
		}
		return h.renderPlace(w, r, http.StatusOK, id, phone, nil)
	})
}

func (h *handler) linkRoom(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		f := r.PostForm
		in := LinkInput{Role: Role(f.Get("role")), From: f.Get("from"), To: f.Get("to")}
		in.RoomID, _ = strconv.ParseInt(f.Get("room_id"), 10, 64)
		if _, err := h.svc.LinkRoom(r.Context(), id, in); err != nil {
			return h.renderResident(w, r, web.Status(err), id, nil, err)
		}
		http.Redirect(w, r, "/registry/residents/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	})
}

func (h *handler) endLink(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		link, err := web.PathID(r, "link")
		if err != nil {
			return err
		}
		if err := web.ParseForm(r); err != nil {
			return err
		}
		if err := h.svc.EndLink(r.Context(), id, link, r.PostForm.Get("to")); err != nil {
			return h.renderResident(w, r, web.Status(err), id, nil, err)
		}
		http.Redirect(w, r, "/registry/residents/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
		return nil
	})
}

// patrolsPage lists the latest patrols and, for a grid worker, the forms
// to start one, check in and finish.
func (h *handler) patrolsPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderPatrols(w, r, http.StatusOK, nil)
}

func (h *handler) renderPatrols(w http.ResponseWriter, r *http.Request, status int, formErr error) error {
	ctx := r.Context()
	data, err := h.pageData(ctx, "patrols", formErr)
	if err != nil {
		return err
	}
	ps, err := h.svc.Patrols(ctx, 50)
	if err != nil {
		return err
	}
	p := auth.From(ctx)
	var open []int64
	for _, pt := range ps {
		if pt.EndedAt == nil && p.Can(auth.RegistryVisit, pt.AreaPath) {
			open = append(open, pt.ID)
		}
	}
	data["Patrols"], data["Open"] = ps, open
	return h.render(w, r, status, "registry_patrols", "registry.patrols", data)
}

func (h *handler) startPatrol(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	if _, err := h.svc.StartPatrol(r.Context(), r.PostForm.Get("grid"), r.PostForm.Get("note")); err != nil {
		return h.renderPatrols(w, r, web.Status(err), err)
	}
	http.Redirect(w, r, "/registry/patrols", http.StatusSeeOther)
	return nil
}

func (h *handler) checkIn(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		at := formPoint(r.PostForm.Get("lon"), r.PostForm.Get("lat"))
		if at == nil {
			at = &Point{Lon: 999, Lat: 999} // none given: refused on the location field
		}
		if err := h.svc.CheckIn(r.Context(), id, *at, r.PostForm.Get("note")); err != nil {
			return h.renderPatrols(w, r, web.Status(err), err)
		}
		http.Redirect(w, r, "/registry/patrols", http.StatusSeeOther)
		return nil
	})
}

func (h *handler) endPatrol(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if _, err := h.svc.EndPatrol(r.Context(), id); err != nil {
			return err
		}
		http.Redirect(w, r, "/registry/patrols", http.StatusSeeOther)
		return nil
	})
}

// settingsPage shows the visit frequencies and special groups; the forms
// only to those who may change them.
func (h *handler) settingsPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderSettings(w, r, http.StatusOK, nil)
}

func (h *handler) renderSettings(w http.ResponseWriter, r *http.Request, status int, formErr error) error {
	ctx := r.Context()
	data, err := h.pageData(ctx, "settings", formErr)
	if err != nil {
		return err
	}
	levels, err := h.svc.CareLevels(ctx)
	if err != nil {
		return err
	}
	groups, err := h.svc.Groups(ctx)
	if err != nil {
		return err
	}
	data["Levels"], data["Groups"] = levels, groups
	data["CanConfig"] = auth.From(ctx).Can(auth.RegistryConfig, "")
	return h.render(w, r, status, "registry_settings", "registry.settings", data)
}

func (h *handler) setInterval(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	days, _ := strconv.Atoi(r.PostForm.Get("every_days"))
	if err := h.svc.SetVisitInterval(r.Context(), r.PathValue("code"), days); err != nil {
		return h.renderSettings(w, r, web.Status(err), err)
	}
	http.Redirect(w, r, "/registry/settings", http.StatusSeeOther)
	return nil
}

func (h *handler) saveGroup(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	g := Group{Code: f.Get("code"), NameZH: f.Get("name_zh"), NameEN: f.Get("name_en"), CareLevel: f.Get("care_level"), Active: f.Get("active") != ""}
	if err := h.svc.SaveGroup(r.Context(), g); err != nil {
		return h.renderSettings(w, r, web.Status(err), err)
	}
	http.Redirect(w, r, "/registry/settings", http.StatusSeeOther)
	return nil
}
