package registry

import (
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/web"
)

type handler struct {
	svc *Service
	srv *web.Server
}

// maxVisitBody bounds a visit form with its photo.
const maxVisitBody = MaxPhotoBytes + 1<<20

// Routes registers the register's API and pages, API first. Every route
// needs a login; the service checks the rest.
func Routes(srv *web.Server, svc *Service) {
	h := &handler{svc: svc, srv: srv}
	api := []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /api/v1/registry/care-levels", h.apiCareLevels},
		{"PUT /api/v1/registry/care-levels/{code}", h.apiSetInterval},
		{"GET /api/v1/registry/groups", h.apiGroups},
		{"PUT /api/v1/registry/groups/{code}", h.apiSaveGroup},
		{"GET /api/v1/registry/buildings", h.apiBuildings},
		{"POST /api/v1/registry/buildings", h.apiCreateBuilding},
		{"GET /api/v1/registry/buildings/{id}", h.apiBuilding},
		{"PUT /api/v1/registry/buildings/{id}", h.apiUpdateBuilding},
		{"POST /api/v1/registry/buildings/{id}/rooms", h.apiAddRoom},
		{"POST /api/v1/registry/households", h.apiCreateHousehold},
		{"GET /api/v1/registry/residents", h.apiResidents},
		{"GET /api/v1/registry/export/residents.csv", h.apiExportResidents},
		{"POST /api/v1/registry/residents", h.apiCreateResident},
		{"GET /api/v1/registry/residents/{id}", h.apiResident},
		{"PUT /api/v1/registry/residents/{id}", h.apiUpdateResident},
		{"POST /api/v1/registry/residents/{id}/rooms", h.apiLinkRoom},
		{"POST /api/v1/registry/residents/{id}/rooms/{link}/end", h.apiEndLink},
		{"POST /api/v1/registry/residents/{id}/reveal", h.apiReveal},
		{"POST /api/v1/registry/residents/{id}/account", h.apiLinkUser},
		{"GET /api/v1/registry/residents/{id}/visits", h.apiVisits},
		{"GET /api/v1/registry/places", h.apiPlaces},
		{"POST /api/v1/registry/places", h.apiCreatePlace},
		{"GET /api/v1/registry/places/{id}", h.apiPlace},
		{"PUT /api/v1/registry/places/{id}", h.apiUpdatePlace},
		{"POST /api/v1/registry/places/{id}/reveal", h.apiRevealPlace},
		{"GET /api/v1/registry/components", h.apiComponents},
		{"POST /api/v1/registry/components", h.apiCreateComponent},
		{"GET /api/v1/registry/components/{id}", h.apiComponent},
		{"PUT /api/v1/registry/components/{id}/state", h.apiSetState},
		{"GET /api/v1/registry/visits/due", h.apiDue},
		{"POST /api/v1/registry/visits/{id}/case", h.apiCaseFromVisit},
		{"GET /api/v1/registry/patrols", h.apiPatrols},
		{"POST /api/v1/registry/patrols", h.apiStartPatrol},
		{"POST /api/v1/registry/patrols/{id}/points", h.apiCheckIn},
		{"POST /api/v1/registry/patrols/{id}/end", h.apiEndPatrol},
	}
	for _, r := range api {
		srv.Handle(web.Route{Pattern: r.pattern}, r.fn)
	}
	srv.Handle(web.Route{Pattern: "POST /api/v1/registry/residents/{id}/visits", MaxBody: maxVisitBody}, h.apiRecordVisit)
	pageRoutes(h)
	importRoutes(h)
}

// queryID reads a cursor or id from the query string; junk reads as 0.
func queryID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	return id
}

func queryInt(r *http.Request, name string) int {
	n, _ := strconv.Atoi(r.URL.Query().Get(name))
	return n
}

func (h *handler) apiCareLevels(w http.ResponseWriter, r *http.Request) error {
	ls, err := h.svc.CareLevels(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(ls), err)
}

func (h *handler) apiSetInterval(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[struct {
		EveryDays int `json:"every_days"`
	}](r)
	if err != nil {
		return err
	}
	if err := h.svc.SetVisitInterval(r.Context(), r.PathValue("code"), in.EveryDays); err != nil {
		return err
	}
	return h.apiCareLevels(w, r)
}

func (h *handler) apiGroups(w http.ResponseWriter, r *http.Request) error {
	gs, err := h.svc.Groups(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(gs), err)
}

func (h *handler) apiSaveGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := web.Decode[Group](r)
	if err != nil {
		return err
	}
	g.Code = r.PathValue("code")
	if err := h.svc.SaveGroup(r.Context(), g); err != nil {
		return err
	}
	return h.apiGroups(w, r)
}

func (h *handler) apiBuildings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := h.svc.Buildings(r.Context(), BuildingQuery{Grid: q.Get("grid"), Address: q.Get("address"),
		After: queryID(r, "cursor"), Limit: queryInt(r, "limit")})
	return web.Reply(w, http.StatusOK, nonNil(page), err)
}

func (h *handler) apiCreateBuilding(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[BuildingInput](r)
	if err != nil {
		return err
	}
	b, err := h.svc.CreateBuilding(r.Context(), in)
	return web.Reply(w, http.StatusCreated, b, err)
}

func (h *handler) apiBuilding(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		b, err := h.svc.Building(r.Context(), id)
		if b.Rooms == nil {
			b.Rooms = []Room{}
		}
		return web.Reply(w, http.StatusOK, b, err)
	})
}

func (h *handler) apiUpdateBuilding(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[BuildingInput](r)
		if err != nil {
			return err
		}
		b, err := h.svc.UpdateBuilding(r.Context(), id, in)
		return web.Reply(w, http.StatusOK, b, err)
	})
}

func (h *handler) apiAddRoom(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[RoomInput](r)
		if err != nil {
			return err
		}
		room, err := h.svc.AddRoom(r.Context(), id, in)
		return web.Reply(w, http.StatusCreated, room, err)
	})
}

func (h *handler) apiCreateHousehold(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[HouseholdInput](r)
	if err != nil {
		return err
	}
	hh, err := h.svc.CreateHousehold(r.Context(), in)
	return web.Reply(w, http.StatusCreated, hh, err)
}

// residentQuery reads a search from the query string. The numbers travel
// in the query of a GET; the request log records paths only.
func residentQuery(r *http.Request) ResidentQuery {
	q := r.URL.Query()
	return ResidentQuery{Grid: q.Get("grid"), Name: q.Get("name"), Address: q.Get("address"), Phone: q.Get("phone"),
		IDNumber: q.Get("id_number"), Group: q.Get("group"), CareLevel: q.Get("care_level"), After: q.Get("cursor"), Limit: queryInt(r, "limit")}
}

func (h *handler) apiResidents(w http.ResponseWriter, r *http.Request) error {
	page, err := h.svc.Residents(r.Context(), residentQuery(r))
	return web.Reply(w, http.StatusOK, nonNil(page), err)
}

// apiExportResidents streams the search as CSV, masked. An error after
// the first row can only cut the file short; the audit row is written at
// the end, so a cut export is not recorded as complete.
func (h *handler) apiExportResidents(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context(), auth.RegistryRead); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="residents.csv"`)
	_, err := h.svc.ExportResidents(r.Context(), residentQuery(r), w)
	return err
}

func (h *handler) apiCreateResident(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[ResidentInput](r)
	if err != nil {
		return err
	}
	res, err := h.svc.CreateResident(r.Context(), in)
	return web.Reply(w, http.StatusCreated, res, err)
}

func (h *handler) apiResident(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		res, err := h.svc.Resident(r.Context(), id)
		return web.Reply(w, http.StatusOK, res, err)
	})
}

func (h *handler) apiUpdateResident(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[ResidentInput](r)
		if err != nil {
			return err
		}
		res, err := h.svc.UpdateResident(r.Context(), id, in)
		return web.Reply(w, http.StatusOK, res, err)
	})
}

func (h *handler) apiLinkRoom(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[LinkInput](r)
		if err != nil {
			return err
		}
		l, err := h.svc.LinkRoom(r.Context(), id, in)
		return web.Reply(w, http.StatusCreated, l, err)
	})
}

func (h *handler) apiEndLink(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		link, err := web.PathID(r, "link")
		if err != nil {
			return err
		}
		in, err := web.Decode[struct {
			To string `json:"to"`
		}](r)
		if err != nil {
			return err
		}
		if err := h.svc.EndLink(r.Context(), id, link, in.To); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

type revealJSON struct {
	Reason string `json:"reason"`
}

func (h *handler) apiReveal(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[revealJSON](r)
		if err != nil {
			return err
		}
		out, err := h.svc.Reveal(r.Context(), id, in.Reason)
		return web.Reply(w, http.StatusOK, out, err)
	})
}

type linkUserJSON struct {
	UserID int64 `json:"user_id"`
}

// apiLinkUser ties a resident's login account to their register entry.
func (h *handler) apiLinkUser(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[linkUserJSON](r)
		if err != nil {
			return err
		}
		err = h.svc.LinkUser(r.Context(), id, in.UserID)
		return web.Reply(w, http.StatusOK, map[string]int64{"resident_id": id, "user_id": in.UserID}, err)
	})
}

func (h *handler) apiVisits(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		vs, err := h.svc.Visits(r.Context(), id)
		return web.Reply(w, http.StatusOK, web.Items(vs), err)
	})
}

// apiRecordVisit takes JSON; a photo comes through the page's form.
func (h *handler) apiRecordVisit(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[VisitInput](r)
		if err != nil {
			return err
		}
		v, err := h.svc.RecordVisit(r.Context(), id, in)
		return web.Reply(w, http.StatusCreated, v, err)
	})
}

func (h *handler) apiCaseFromVisit(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Category string `json:"case_category"`
		}](r)
		if err != nil {
			return err
		}
		number, err := h.svc.CaseFromVisit(r.Context(), id, in.Category)
		return web.Reply(w, http.StatusCreated, map[string]string{"case_number": number}, err)
	})
}

func (h *handler) apiPlaces(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := h.svc.Places(r.Context(), PlaceQuery{Grid: q.Get("grid"), Kind: PlaceKind(q.Get("kind")), Name: q.Get("name"),
		After: queryID(r, "cursor"), Limit: queryInt(r, "limit")})
	return web.Reply(w, http.StatusOK, nonNil(page), err)
}

func (h *handler) apiCreatePlace(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[PlaceInput](r)
	if err != nil {
		return err
	}
	p, err := h.svc.CreatePlace(r.Context(), in)
	return web.Reply(w, http.StatusCreated, p, err)
}

func (h *handler) apiPlace(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		p, err := h.svc.Place(r.Context(), id)
		return web.Reply(w, http.StatusOK, p, err)
	})
}

func (h *handler) apiUpdatePlace(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[PlaceInput](r)
		if err != nil {
			return err
		}
		p, err := h.svc.UpdatePlace(r.Context(), id, in)
		return web.Reply(w, http.StatusOK, p, err)
	})
}

func (h *handler) apiRevealPlace(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[revealJSON](r)
		if err != nil {
			return err
		}
		phone, err := h.svc.RevealPlaceContact(r.Context(), id, in.Reason)
		return web.Reply(w, http.StatusOK, map[string]string{"contact_phone": phone}, err)
	})
}

func (h *handler) apiComponents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := h.svc.Components(r.Context(), ComponentQuery{Grid: q.Get("grid"), State: ComponentState(q.Get("state")),
		After: queryID(r, "cursor"), Limit: queryInt(r, "limit")})
	return web.Reply(w, http.StatusOK, nonNil(page), err)
}

func (h *handler) apiCreateComponent(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[ComponentInput](r)
	if err != nil {
		return err
	}
	c, err := h.svc.CreateComponent(r.Context(), in)
	return web.Reply(w, http.StatusCreated, c, err)
}

func (h *handler) apiComponent(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		c, err := h.svc.Component(r.Context(), id)
		return web.Reply(w, http.StatusOK, c, err)
	})
}

func (h *handler) apiSetState(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			State ComponentState `json:"state"`
		}](r)
		if err != nil {
			return err
		}
		c, err := h.svc.SetComponentState(r.Context(), id, in.State)
		return web.Reply(w, http.StatusOK, c, err)
	})
}

func (h *handler) apiDue(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.svc.DueVisits(r.Context(), r.URL.Query().Get("grid"), queryInt(r, "limit"))
	return web.Reply(w, http.StatusOK, web.Items(ds), err)
}

func (h *handler) apiPatrols(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.Patrols(r.Context(), queryInt(r, "limit"))
	return web.Reply(w, http.StatusOK, web.Items(ps), err)
}

func (h *handler) apiStartPatrol(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[struct {
		Grid string `json:"grid"`
		Note string `json:"note"`
	}](r)
	if err != nil {
		return err
	}
	p, err := h.svc.StartPatrol(r.Context(), in.Grid, in.Note)
	return web.Reply(w, http.StatusCreated, p, err)
}

func (h *handler) apiCheckIn(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[struct {
			Location Point  `json:"location"`
			Note     string `json:"note"`
		}](r)
		if err != nil {
			return err
		}
		if err := h.svc.CheckIn(r.Context(), id, in.Location, in.Note); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (h *handler) apiEndPatrol(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		p, err := h.svc.EndPatrol(r.Context(), id)
		return web.Reply(w, http.StatusOK, p, err)
	})
}

// nonNil makes an empty page's items [] rather than null.
func nonNil[T any](p Page[T]) Page[T] {
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
