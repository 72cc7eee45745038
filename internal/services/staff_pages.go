package services

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/web"
)

// The staff pages of the desk: facilities (and their closed days), the
// service catalog, providers, and needs with their matches. Plain forms
// post to these routes, which call the service; a saved form redirects
// back with a notice, a refused one is shown again with the messages.

func staffRoutes(h *handler) {
	for _, rt := range []struct {
		pattern string
		fn      web.HandlerFunc
	}{
		{"GET /services/facilities", h.facilitiesPage},
		{"POST /services/facilities", h.createFacilityForm},
		{"GET /services/facilities/{id}/edit", h.editFacilityPage},
		{"POST /services/facilities/{id}/edit", h.updateFacilityForm},
		{"POST /services/facilities/{id}/block", h.blockForm},
		{"POST /services/facilities/{id}/unblock", h.unblockForm},
		{"GET /services/catalog", h.catalogPage},
		{"POST /services/catalog", h.createItemForm},
		{"GET /services/catalog/{id}/edit", h.editItemPage},
		{"POST /services/catalog/{id}/edit", h.updateItemForm},
		{"GET /services/providers", h.providersPage},
		{"POST /services/providers", h.createProviderForm},
		{"GET /services/providers/{id}/edit", h.editProviderPage},
		{"POST /services/providers/{id}/edit", h.updateProviderForm},
		{"GET /services/needs", h.needsPage},
		{"POST /services/needs", h.recordNeedForm},
		{"GET /services/needs/{id}", h.needPage},
		{"POST /services/needs/{id}/match", h.matchForm},
		{"POST /services/matches/{id}/close", h.closeMatchForm},
	} {
		h.srv.Handle(web.Route{Pattern: rt.pattern}, rt.fn)
	}
}

// notices are the notices a redirect may ask a staff page to show.
var notices = map[string]bool{"facility_saved": true, "blocked": true, "unblocked": true, "item_saved": true,
	"provider_saved": true, "need_saved": true, "matched": true, "match_closed": true}

// userError reports whether err is the user's to mend on the form.
func userError(err error) bool {
	c := errs.CodeOf(err)
	return c == errs.Invalid || c == errs.Conflict
}

// staffData is what every staff page shows: the sections, what the caller
// may do, the notice asked for and a refused form's messages. A caller
// without perm anywhere is refused the page.
func (h *handler) staffData(r *http.Request, section string, perm auth.Perm, failed error) (map[string]any, error) {
	p, err := auth.Require(r.Context(), perm)
	if err != nil {
		return nil, err
	}
	form := map[string]any{"Fields": map[string]string{}}
	if failed != nil {
		form = h.formError(r, failed)
	}
	if n := r.URL.Query().Get("notice"); notices[n] && failed == nil {
		form["Notice"] = h.srv.Catalog().T(web.Ctx(r.Context()).Lang, "services.notice."+n)
	}
	return map[string]any{"Section": section, "Form": form, "CanManage": p.CanAnywhere(auth.ServiceManage),
		"CanHandle": p.CanAnywhere(auth.ServiceHandle), "CanRead": p.CanAnywhere(auth.ServiceRead)}, nil
}

func (h *handler) renderStaff(w http.ResponseWriter, r *http.Request, status int, name, title string, data map[string]any) error {
	return h.srv.RenderStatus(w, r, status, name, web.PageData{Title: title, Data: data})
}

// redirect sends the browser back to path with a notice.
func redirect(w http.ResponseWriter, r *http.Request, path, notice string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"notice="+url.QueryEscape(notice), http.StatusSeeOther)
	return nil
}

func idPath(prefix string, id int64, suffix string) string {
	return prefix + strconv.FormatInt(id, 10) + suffix
}

// failedStatus is the status of a page shown again with err.
func failedStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return web.Status(err)
}

// communities lists the communities the caller sees, for the forms.
func (h *handler) communities(r *http.Request) ([]area.Area, error) {
	return h.svc.areas.List(r.Context(), area.ListQuery{Level: area.Community, Limit: 500})
}

// formPoint reads a location from two fields; both empty is no location,
// anything unreadable an invalid one.
func formPoint(f url.Values, lonField, latField string) *Point {
	lonS, latS := strings.TrimSpace(f.Get(lonField)), strings.TrimSpace(f.Get(latField))
	if lonS == "" && latS == "" {
		return nil
	}
	lon, err1 := strconv.ParseFloat(lonS, 64)
	lat, err2 := strconv.ParseFloat(latS, 64)
	if err1 != nil || err2 != nil {
		return &Point{Lon: 999, Lat: 999}
	}
	return &Point{Lon: lon, Lat: lat}
}

func pointText(p *Point) (string, string) {
	if p == nil {
		return "", ""
	}
	return strconv.FormatFloat(p.Lon, 'f', -1, 64), strconv.FormatFloat(p.Lat, 'f', -1, 64)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// --- facilities ---

// facilityForm is a facility form's values as typed.
type facilityForm struct {
	ID       int64
	In       FacilityInput
	Hours    [7]string // periods of each weekday, comma separated
	Lon, Lat string
	Active   bool
}

func facilityFormOf(f Facility) facilityForm {
	ff := facilityForm{ID: f.ID, Active: f.Active, In: FacilityInput{Community: f.Community, Name: f.Name, Kind: f.Kind,
		Capacity: f.Capacity, Shared: f.Shared, SlotMinutes: f.SlotMinutes, Rules: f.Rules, NeedsApproval: f.NeedsApproval}}
	for wd := range f.Hours {
		ff.Hours[wd] = strings.Join(f.Hours[wd], ", ")
	}
	ff.Lon, ff.Lat = pointText(f.Location)
	return ff
}

// readFacilityForm reads the posted facility form.
func readFacilityForm(r *http.Request) facilityForm {
	f := r.PostForm
	ff := facilityForm{Lon: f.Get("lon"), Lat: f.Get("lat"), Active: f.Get("active") == "1"}
	ff.In = FacilityInput{Community: f.Get("community"), Name: f.Get("name"), Kind: FacilityKind(f.Get("kind")),
		Capacity: atoi(f.Get("capacity")), Shared: f.Get("shared") == "1", SlotMinutes: atoi(f.Get("slot_minutes")),
		Rules: f.Get("rules"), NeedsApproval: f.Get("needs_approval") == "1", Location: formPoint(f, "lon", "lat")}
	for wd := range ff.Hours {
		ff.Hours[wd] = f.Get("hours." + strconv.Itoa(wd))
		// Periods are separated by commas or semicolons; spaces inside
		// one ("08:00 - 12:00") are dropped.
		for _, p := range strings.FieldsFunc(ff.Hours[wd], func(r rune) bool { return strings.ContainsRune(",，;；、\n", r) }) {
			if p = strings.Join(strings.Fields(p), ""); p != "" {
				ff.In.Hours[wd] = append(ff.In.Hours[wd], p)
			}
		}
	}
	return ff
}

func (h *handler) facilitiesPage(w http.ResponseWriter, r *http.Request) error {
	ff := facilityForm{In: FacilityInput{Community: r.URL.Query().Get("community"), Kind: ActivityRoom, SlotMinutes: 60}}
	for wd := range ff.Hours {
		ff.Hours[wd] = "09:00-12:00, 14:00-17:00"
	}
	return h.renderFacilities(w, r, ff, nil)
}

func (h *handler) renderFacilities(w http.ResponseWriter, r *http.Request, ff facilityForm, failed error) error {
	data, err := h.staffData(r, "facilities", auth.ServiceManage, failed)
	if err != nil {
		return err
	}
	community := r.URL.Query().Get("community")
	page, err := h.svc.Facilities(r.Context(), FacilityQuery{Community: community, Limit: 200})
	if err != nil {
		return err
	}
	comms, err := h.communities(r)
	if err != nil {
		return err
	}
	data["Facilities"], data["Communities"], data["Community"] = page.Items, comms, community
	data["F"], data["Kinds"] = ff, FacilityKinds
	return h.renderStaff(w, r, failedStatus(failed), "services_facilities", "services.facilities", data)
}

func (h *handler) createFacilityForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ff := readFacilityForm(r)
	f, err := h.svc.CreateFacility(r.Context(), ff.In)
	if userError(err) {
		return h.renderFacilities(w, r, ff, err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/services/facilities?community="+url.QueryEscape(f.Community), "facility_saved")
}

func (h *handler) editFacilityPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		f, err := h.svc.Facility(r.Context(), id)
		if err != nil {
			return err
		}
		return h.renderFacility(w, r, f, facilityFormOf(f), nil)
	})
}

func (h *handler) renderFacility(w http.ResponseWriter, r *http.Request, f Facility, ff facilityForm, failed error) error {
	data, err := h.staffData(r, "facilities", auth.ServiceManage, failed)
	if err != nil {
		return err
	}
	if err := auth.Allowed(auth.From(r.Context()), auth.ServiceManage, f.AreaPath, outOfScope); err != nil {
		return err
	}
	blocks, err := h.svc.Blocks(r.Context(), f.ID)
	if err != nil {
		return err
	}
	data["Facility"], data["F"], data["Kinds"], data["Blocks"] = f, ff, FacilityKinds, blocks
	data["BlockDay"], data["BlockReason"] = r.PostFormValue("day"), r.PostFormValue("reason")
	return h.renderStaff(w, r, failedStatus(failed), "services_facility_edit", "services.edit_facility", data)
}

func (h *handler) updateFacilityForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		ff := readFacilityForm(r)
		ff.ID = id
		active := ff.Active
		ff.In.Active = &active
		_, err := h.svc.UpdateFacility(r.Context(), id, ff.In)
		if userError(err) {
			f, ferr := h.svc.Facility(r.Context(), id)
			if ferr != nil {
				return ferr
			}
			return h.renderFacility(w, r, f, ff, err)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/services/facilities/", id, "/edit"), "facility_saved")
	})
}

// blockForm closes a facility on a day (bookings of the day are cancelled);
// unblockForm opens it again.
func (h *handler) blockForm(w http.ResponseWriter, r *http.Request) error {
	return h.dayForm(w, r, true)
}

func (h *handler) unblockForm(w http.ResponseWriter, r *http.Request) error {
	return h.dayForm(w, r, false)
}

func (h *handler) dayForm(w http.ResponseWriter, r *http.Request, block bool) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		day := strings.TrimSpace(r.PostFormValue("day"))
		var err error
		notice := "unblocked"
		if block {
			_, err = h.svc.Block(r.Context(), id, day, r.PostFormValue("reason"))
			notice = "blocked"
		} else {
			err = h.svc.Unblock(r.Context(), id, day)
		}
		if userError(err) {
			f, ferr := h.svc.Facility(r.Context(), id)
			if ferr != nil {
				return ferr
			}
			return h.renderFacility(w, r, f, facilityFormOf(f), err)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/services/facilities/", id, "/edit"), notice)
	})
}

// --- catalog ---

// itemForm is a catalog item form's values; Materials has blank rows to
// add more.
type itemForm struct {
	ID        int64
	In        ItemInput
	Materials []Material
	Active    bool
}

// blankMaterials is how many empty material rows a form offers.
const blankMaterials = 3

func withBlanks(ms []Material) []Material {
	out := append([]Material{}, ms...)
	for range blankMaterials {
		out = append(out, Material{Required: true})
	}
	return out
}

func readItemForm(r *http.Request) itemForm {
	f := r.PostForm
	in := ItemInput{Community: f.Get("community"), Code: f.Get("code"), Name: f.Get("name"), Eligibility: f.Get("eligibility"),
		MinAge: atoi(f.Get("min_age")), Unit: f.Get("unit"), LimitDays: atoi(f.Get("limit_days")), Online: f.Get("online") == "1"}
	required := map[string]bool{}
	for _, i := range f["material_required"] {
		required[i] = true
	}
	codes, names := f["material_code"], f["material_name"]
	var rows []Material
	for i := range codes {
		m := Material{Code: strings.TrimSpace(codes[i]), Required: required[strconv.Itoa(i)]}
		if i < len(names) {
			m.Name = strings.TrimSpace(names[i])
		}
		if m.Code == "" && m.Name == "" {
			continue
		}
		rows = append(rows, m)
	}
	in.Materials = rows
	active := f.Get("active") == "1"
	return itemForm{In: in, Materials: withBlanks(rows), Active: active}
}

func (h *handler) catalogPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderCatalog(w, r, itemForm{In: ItemInput{Community: r.URL.Query().Get("community")}, Materials: withBlanks(nil), Active: true}, nil)
}

func (h *handler) renderCatalog(w http.ResponseWriter, r *http.Request, f itemForm, failed error) error {
	data, err := h.staffData(r, "catalog", auth.ServiceManage, failed)
	if err != nil {
		return err
	}
	community := r.URL.Query().Get("community")
	items, err := h.svc.Items(r.Context(), community, true)
	if err != nil {
		return err
	}
	comms, err := h.communities(r)
	if err != nil {
		return err
	}
	data["Items"], data["Communities"], data["Community"], data["F"] = items, comms, community, f
	return h.renderStaff(w, r, failedStatus(failed), "services_catalog", "services.catalog", data)
}

func (h *handler) createItemForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := readItemForm(r)
	active := true
	f.In.Active = &active
	it, err := h.svc.SaveItem(r.Context(), f.In)
	if userError(err) {
		return h.renderCatalog(w, r, f, err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/services/catalog?community="+url.QueryEscape(it.Community), "item_saved")
}

// itemFor loads an item the caller may keep.
func (h *handler) itemFor(r *http.Request, id int64) (Item, error) {
	it, err := h.svc.Item(r.Context(), id)
	if err != nil {
		return Item{}, err
	}
	if _, err := auth.Require(r.Context(), auth.ServiceManage); err != nil {
		return Item{}, err
	}
	return it, auth.Allowed(auth.From(r.Context()), auth.ServiceManage, it.AreaPath, outOfScope)
}

func (h *handler) editItemPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		it, err := h.itemFor(r, id)
		if err != nil {
			return err
		}
		f := itemForm{ID: id, Active: it.Active, Materials: withBlanks(it.Materials), In: ItemInput{Community: it.Community, Code: it.Code,
			Name: it.Name, Eligibility: it.Eligibility, MinAge: it.MinAge, Unit: it.Unit, LimitDays: it.LimitDays, Online: it.Online}}
		return h.renderItem(w, r, it, f, nil)
	})
}

func (h *handler) renderItem(w http.ResponseWriter, r *http.Request, it Item, f itemForm, failed error) error {
	data, err := h.staffData(r, "catalog", auth.ServiceManage, failed)
	if err != nil {
		return err
	}
	data["Item"], data["F"] = it, f
	return h.renderStaff(w, r, failedStatus(failed), "services_item_edit", "services.edit_item", data)
}

func (h *handler) updateItemForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		it, err := h.itemFor(r, id)
		if err != nil {
			return err
		}
		if err := web.ParseForm(r); err != nil {
			return err
		}
		f := readItemForm(r)
		f.ID = id
		// The community and code name the item; the form cannot move it.
		f.In.Community, f.In.Code = it.Community, it.Code
		f.In.Active = &f.Active
		_, err = h.svc.SaveItem(r.Context(), f.In)
		if userError(err) {
			return h.renderItem(w, r, it, f, err)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/services/catalog/", id, "/edit"), "item_saved")
	})
}

// --- providers ---

// providerForm is a provider form's values as typed.
type providerForm struct {
	ID       int64
	In       ProviderInput
	Chosen   map[string]bool
	Lon, Lat string
	Radius   string
	Polygon  bool // the service area is a polygon drawn on the map, kept as is
	Active   bool
}

func readProviderForm(r *http.Request) providerForm {
	f := r.PostForm
	pf := providerForm{Lon: f.Get("lon"), Lat: f.Get("lat"), Radius: f.Get("radius_m"), Chosen: map[string]bool{}, Active: f.Get("active") == "1"}
	pf.In = ProviderInput{Area: f.Get("area"), Name: f.Get("name"), Kind: ProviderKind(f.Get("kind")), Services: f["services"],
		Location: formPoint(f, "lon", "lat"), RadiusM: atoi(f.Get("radius_m")), Capacity: atoi(f.Get("capacity"))}
	for _, s := range pf.In.Services {
		pf.Chosen[s] = true
	}
	return pf
}

func (h *handler) providersPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderProviders(w, r, providerForm{In: ProviderInput{Kind: SocialOrg}, Chosen: map[string]bool{}, Radius: "3000", Active: true}, nil)
}

func (h *handler) renderProviders(w http.ResponseWriter, r *http.Request, pf providerForm, failed error) error {
	data, err := h.staffData(r, "providers", auth.ServiceManage, failed)
	if err != nil {
		return err
	}
	ps, err := h.svc.Providers(r.Context())
	if err != nil {
		return err
	}
	comms, err := h.communities(r)
	if err != nil {
		return err
	}
	data["Providers"], data["Communities"], data["F"], data["Kinds"], data["Types"] = ps, comms, pf, ProviderKinds, ServiceTypes
	return h.renderStaff(w, r, failedStatus(failed), "services_providers", "services.providers", data)
}

func (h *handler) createProviderForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	pf := readProviderForm(r)
	_, err := h.svc.CreateProvider(r.Context(), pf.In)
	if userError(err) {
		return h.renderProviders(w, r, pf, err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/services/providers", "provider_saved")
}

func (h *handler) editProviderPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		p, err := h.svc.Provider(r.Context(), id)
		if err != nil {
			return err
		}
		pf := providerForm{ID: id, Chosen: map[string]bool{}, Active: p.Active, Polygon: len(p.Polygon) > 0,
			In: ProviderInput{Area: p.Area, Name: p.Name, Kind: p.Kind, Services: p.Services, RadiusM: p.RadiusM, Capacity: p.Capacity}}
		for _, s := range p.Services {
			pf.Chosen[s] = true
		}
		pf.Lon, pf.Lat = pointText(p.Location)
		if p.RadiusM > 0 {
			pf.Radius = strconv.Itoa(p.RadiusM)
		}
		return h.renderProvider(w, r, p, pf, nil)
	})
}

func (h *handler) renderProvider(w http.ResponseWriter, r *http.Request, p Provider, pf providerForm, failed error) error {
	data, err := h.staffData(r, "providers", auth.ServiceManage, failed)
	if err != nil {
		return err
	}
	if err := auth.Allowed(auth.From(r.Context()), auth.ServiceManage, p.AreaPath, outOfScope); err != nil {
		return err
	}
	data["Provider"], data["F"], data["Kinds"], data["Types"] = p, pf, ProviderKinds, ServiceTypes
	return h.renderStaff(w, r, failedStatus(failed), "services_provider_edit", "services.edit_provider", data)
}

func (h *handler) updateProviderForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		p, err := h.svc.Provider(r.Context(), id)
		if err != nil {
			return err
		}
		if err := web.ParseForm(r); err != nil {
			return err
		}
		pf := readProviderForm(r)
		pf.ID, pf.In.Area = id, p.Area
		// A polygon drawn on the map stays unless staff give a radius instead.
		if len(p.Polygon) > 0 && pf.In.RadiusM == 0 {
			pf.In.Polygon, pf.Polygon = p.Polygon, true
		}
		_, err = h.svc.UpdateProvider(r.Context(), id, pf.In, pf.Active)
		if userError(err) {
			return h.renderProvider(w, r, p, pf, err)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/services/providers/", id, "/edit"), "provider_saved")
	})
}

// --- needs and matches ---

// needForm is the need form's values as typed.
type needForm struct {
	In       NeedInput
	Resident string
	Lon, Lat string
}

func (h *handler) needsPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderNeeds(w, r, needForm{In: NeedInput{Service: "meal_delivery"}, Resident: r.URL.Query().Get("resident")}, nil)
}

func (h *handler) renderNeeds(w http.ResponseWriter, r *http.Request, nf needForm, failed error) error {
	data, err := h.staffData(r, "needs", auth.ServiceRead, failed)
	if err != nil {
		return err
	}
	state := NeedState(r.URL.Query().Get("state"))
	needs, err := h.svc.Needs(r.Context(), state)
	if err != nil {
		return err
	}
	grids, err := h.svc.areas.List(r.Context(), area.ListQuery{Level: area.Grid, Limit: 500})
	if err != nil {
		return err
	}
	data["Needs"], data["Grids"], data["F"], data["Types"], data["State"] = needs, grids, nf, ServiceTypes, string(state)
	data["States"] = []NeedState{NeedOpen, NeedMatched, NeedMet, NeedClosed}
	return h.renderStaff(w, r, failedStatus(failed), "services_needs", "services.needs", data)
}

func (h *handler) recordNeedForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context(), auth.ServiceHandle); err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	nf := needForm{Resident: strings.TrimSpace(f.Get("resident_id")), Lon: f.Get("lon"), Lat: f.Get("lat")}
	nf.In = NeedInput{Grid: f.Get("grid"), Person: f.Get("person"), Service: f.Get("service"), Note: f.Get("note"),
		Location: formPoint(f, "lon", "lat")}
	if nf.Resident != "" {
		id, err := strconv.ParseInt(nf.Resident, 10, 64)
		if err != nil || id <= 0 {
			return h.renderNeeds(w, r, nf, errs.OnField("resident_id", "err.services.resident_unknown", nf.Resident))
		}
		nf.In.ResidentID = id
	}
	n, err := h.svc.RecordNeed(r.Context(), nf.In)
	if userError(err) {
		return h.renderNeeds(w, r, nf, err)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, idPath("/services/needs/", n.ID, ""), "need_saved")
}

func (h *handler) needPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderNeed(w, r, nil)
}

func (h *handler) renderNeed(w http.ResponseWriter, r *http.Request, failed error) error {
	return web.WithID(r, func(id int64) error {
		data, err := h.staffData(r, "needs", auth.ServiceRead, failed)
		if err != nil {
			return err
		}
		n, err := h.svc.Need(r.Context(), id)
		if err != nil {
			return err
		}
		matches, err := h.svc.Matches(r.Context(), id)
		if err != nil {
			return err
		}
		proposals := []Proposal{}
		if n.State == NeedOpen {
			if proposals, err = h.svc.Propose(r.Context(), id); err != nil {
				return err
			}
		}
		data["Need"], data["Matches"], data["Proposals"] = n, matches, proposals
		data["CanMatch"] = auth.From(r.Context()).Can(auth.ServiceHandle, n.AreaPath)
		return h.renderStaff(w, r, failedStatus(failed), "services_need", "services.need", data)
	})
}

func (h *handler) matchForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		provider, _ := strconv.ParseInt(r.PostFormValue("provider"), 10, 64)
		_, err := h.svc.Match(r.Context(), id, provider)
		if userError(err) {
			return h.renderNeed(w, r, err)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/services/needs/", id, ""), "matched")
	})
}

// closeMatchForm records how a match ended, from the need's page.
func (h *handler) closeMatchForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if err := web.ParseForm(r); err != nil {
			return err
		}
		need, err := h.svc.MatchNeed(r.Context(), id)
		if err != nil {
			return err
		}
		err = h.svc.CloseMatch(r.Context(), id, r.PostFormValue("done") == "1", r.PostFormValue("outcome"))
		if userError(err) {
			r.SetPathValue("id", strconv.FormatInt(need, 10))
			return h.renderNeed(w, r, err)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/services/needs/", need, ""), "match_closed")
	})
}
