package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/auth"
)

// The register's end-to-end tests drive the demo register over HTTP: who
// may reach which endpoint, masking on screen and in the API, the audited
// reveal, and the bilingual validation errors.

// The demo's grid worker works 岱山社区第一网格; community staff the whole of
// 岱山社区; 黄海社区 is outside both.
const (
	workerGrid  = "370613001001001"
	otherGrid   = "370613001002001"
	clearIDText = `[0-9]{17}[0-9X]`
)

var (
	maskedIDRE = regexp.MustCompile(`370613\*{8}[0-9X]{4}`)
	revealedRE = regexp.MustCompile(`id="revealed-`) // a page showing clear numbers
)

// jsonCall sends a JSON request (no body for GET) and returns the answer.
func (c *client) jsonCall(method, path, body string, header ...string) response {
	c.t.Helper()
	h := headers(header)
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
		h.Set("Content-Type", "application/json")
	} else {
		rd = strings.NewReader("")
	}
	return c.do(c.request(method, path, rd, h), false)
}

// firstID returns the id of the first item a list answer holds.
func firstID(t *testing.T, r response) int64 {
	t.Helper()
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.Body), &page); err != nil || len(page.Items) == 0 || r.Status != http.StatusOK {
		t.Fatalf("no items: %d %s", r.Status, snippet(r.Body))
	}
	return page.Items[0].ID
}

// registryIDs are objects of the demo register, in and out of the grid
// worker's grid.
type registryIDs struct {
	resident, building, room, place, component, otherResident, otherBuilding int64
}

func demoRegistryIDs(t *testing.T, admin *client) registryIDs {
	t.Helper()
	var ids registryIDs
	ids.resident = firstID(t, admin.get("/api/v1/registry/residents?limit=1&grid="+workerGrid))
	ids.building = firstID(t, admin.get("/api/v1/registry/buildings?limit=1&grid="+workerGrid))
	ids.place = firstID(t, admin.get("/api/v1/registry/places?limit=1&grid="+workerGrid))
	ids.component = firstID(t, admin.get("/api/v1/registry/components?limit=1&grid="+workerGrid))
	ids.otherResident = firstID(t, admin.get("/api/v1/registry/residents?limit=1&grid="+otherGrid))
	ids.otherBuilding = firstID(t, admin.get("/api/v1/registry/buildings?limit=1&grid="+otherGrid))
	var b struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	r := admin.get(fmt.Sprintf("/api/v1/registry/buildings/%d", ids.building))
	if err := json.Unmarshal([]byte(r.Body), &b); err != nil || len(b.Rooms) == 0 {
		t.Fatalf("rooms of the demo building: %s", snippet(r.Body))
	}
	ids.room = b.Rooms[0].ID
	return ids
}

// testID builds a valid ID number (GB 11643 check character) for a test
// person born on birth (YYYYMMDD).
func testID(birth string, seq int) string {
	first := fmt.Sprintf("370613%s%03d", birth, seq)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first[i]-'0') * w
	}
	return first + string("10X98765432"[sum%11])
}

// probe is one register endpoint and the roles that may use it.
type probe struct {
	method, path string
	body         func(n int) string // JSON; n differs per role, so that creations do not collide
	// ok is the allowed roles' answer; 0 accepts any answer but 403 and
	// 5xx (a one-time move: the first role makes it, the next get 404/409).
	ok      int
	allowed []auth.Role
	form    func(n int) url.Values // a page's form instead of JSON
}

// Who may use what: the permission matrix of auth/roles.go, by role.
var (
	readers = []auth.Role{auth.GridWorker, auth.CommunityStaff, auth.StreetStaff, auth.Admin}
	editors = []auth.Role{auth.GridWorker, auth.CommunityStaff, auth.Admin}
	wide    = []auth.Role{auth.StreetStaff, auth.Admin} // the whole street
	admins  = []auth.Role{auth.Admin}
)

func (p probe) send(c *client, n int) response {
	c.t.Helper()
	switch {
	case p.form != nil:
		return c.post(p.path, p.form(n))
	case p.body != nil:
		return c.jsonCall(p.method, p.path, p.body(n))
	}
	return c.jsonCall(p.method, p.path, "")
}

// walkIDs are objects of the demo register, in and out of the grid
// worker's grid, and a few made for the walk: a visit with a photo, an
// open patrol, a resident's room link.
type walkIDs struct {
	registryIDs
	visit, patrol, link int64
	buildingJSON        map[string]any
}

func registryProbes(ids walkIDs) []probe {
	res := fmt.Sprintf("/api/v1/registry/residents/%d", ids.resident)
	bld := fmt.Sprintf("/api/v1/registry/buildings/%d", ids.building)
	plc := fmt.Sprintf("/api/v1/registry/places/%d", ids.place)
	pres := fmt.Sprintf("/registry/residents/%d", ids.resident)
	pbld := fmt.Sprintf("/registry/buildings/%d", ids.building)
	pplc := fmt.Sprintf("/registry/places/%d", ids.place)
	patrol := fmt.Sprintf("/registry/patrols/%d", ids.patrol)
	fixed := func(s string) func(int) string { return func(int) string { return s } }
	form := func(kv ...string) func(int) url.Values {
		return func(int) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Add(kv[i], kv[i+1])
			}
			return v
		}
	}
	resident := func(n int) string {
		return fmt.Sprintf(`{"grid":%q,"name":"测试%d","id_number":%q,"phone":"1390000%04d"}`, workerGrid, n, testID("19700101", 500+n), n)
	}
	b := ids.buildingJSON
	keep := fmt.Sprintf(`{"grid":%q,"estate":%q,"road":%q,"door_no":%q,"name":%q}`, b["grid"], b["estate"], b["road"], b["door_no"], b["name"])
	keepForm := form("grid", fmt.Sprint(b["grid"]), "estate", fmt.Sprint(b["estate"]), "road", fmt.Sprint(b["road"]),
		"door_no", fmt.Sprint(b["door_no"]), "name", fmt.Sprint(b["name"]))
	place := `{"grid":"` + workerGrid + `","kind":"shop","name":"便民超市"}`
	return []probe{
		// The API.
		{"GET", "/api/v1/registry/care-levels", nil, 200, readers, nil},
		{"PUT", "/api/v1/registry/care-levels/general", fixed(`{"every_days":90}`), 200, admins, nil},
		{"GET", "/api/v1/registry/groups", nil, 200, readers, nil},
		{"PUT", "/api/v1/registry/groups/hoarding", fixed(`{"name_zh":"囤积","name_en":"Hoarding","care_level":"priority","active":true}`), 200, admins, nil},
		{"GET", "/api/v1/registry/buildings", nil, 200, readers, nil},
		{"POST", "/api/v1/registry/buildings", func(n int) string {
			return fmt.Sprintf(`{"grid":%q,"road":"测试路","door_no":"%d号","name":"1号楼"}`, workerGrid, n)
		}, 201, editors, nil},
		{"GET", bld, nil, 200, readers, nil},
		{"GET", fmt.Sprintf("/api/v1/registry/buildings/%d", ids.otherBuilding), nil, 200, wide, nil},
		{"PUT", bld, fixed(keep), 200, editors, nil},
		{"POST", bld + "/rooms", func(n int) string { return fmt.Sprintf(`{"unit":"9","number":"9%02d"}`, n) }, 201, editors, nil},
		{"POST", "/api/v1/registry/households", fixed(fmt.Sprintf(`{"room_id":%d}`, ids.room)), 201, editors, nil},
		{"GET", "/api/v1/registry/residents", nil, 200, readers, nil},
		{"GET", "/api/v1/registry/residents?name=王", nil, 200, readers, nil},
		{"GET", "/api/v1/registry/export/residents.csv?grid=" + workerGrid, nil, 200, readers, nil},
		{"POST", "/api/v1/registry/residents", resident, 201, editors, nil},
		{"GET", res, nil, 200, readers, nil},
		{"GET", fmt.Sprintf("/api/v1/registry/residents/%d", ids.otherResident), nil, 200, wide, nil},
		{"PUT", res, fixed(`{"name":"改名测试","note":"e2e"}`), 200, editors, nil},
		{"POST", res + "/rooms", func(n int) string {
			return fmt.Sprintf(`{"room_id":%d,"role":"lives","from":"2024-01-0%d"}`, ids.room, 1+n%9)
		}, 201, editors, nil},
		{"POST", fmt.Sprintf("%s/rooms/%d/end", res, ids.link), fixed(`{"to":"2026-01-31"}`), 0, editors, nil},
		{"POST", res + "/reveal", fixed(`{"reason":"核实身份"}`), 200, editors, nil},
		{"POST", res + "/account", fixed(`{"user_id":1}`), 0, editors, nil}, // 200 once, then 409: the resident has an account
		{"GET", res + "/visits", nil, 200, readers, nil},
		{"POST", res + "/visits", fixed(`{"mode":"phone","finding":"身体尚好"}`), 201, editors, nil},
		{"GET", "/api/v1/registry/places", nil, 200, readers, nil},
		{"POST", "/api/v1/registry/places", func(n int) string {
			return fmt.Sprintf(`{"grid":%q,"kind":"shop","name":"测试商店%d","contact_phone":"13900001111"}`, workerGrid, n)
		}, 201, editors, nil},
		{"GET", plc, nil, 200, readers, nil},
		{"PUT", plc, fixed(place), 200, editors, nil},
		{"POST", plc + "/reveal", fixed(`{"reason":"联系商户"}`), 200, editors, nil},
		{"GET", "/api/v1/registry/components", nil, 200, readers, nil},
		{"POST", "/api/v1/registry/components", fixed(fmt.Sprintf(`{"grid":%q,"major":"01","minor":"09"}`, workerGrid)), 201, editors, nil},
		{"GET", fmt.Sprintf("/api/v1/registry/components/%d", ids.component), nil, 200, readers, nil},
		{"PUT", fmt.Sprintf("/api/v1/registry/components/%d/state", ids.component), fixed(`{"state":"damaged"}`), 200, editors, nil},
		{"GET", "/api/v1/registry/visits/due", nil, 200, editors, nil},
		{"POST", fmt.Sprintf("/api/v1/registry/visits/%d/case", ids.visit), fixed(`{"case_category":"E0103"}`), 0, editors, nil},
		{"GET", "/api/v1/registry/patrols", nil, 200, readers, nil},
		{"POST", "/api/v1/registry/patrols", fixed(fmt.Sprintf(`{"grid":%q}`, workerGrid)), 201, editors, nil},
		{"POST", fmt.Sprintf("/api/v1/registry/patrols/%d/points", ids.patrol), fixed(`{"location":{"lon":121.4265,"lat":37.4825}}`), 0, editors, nil}, // 204, or 409 once the walk has ended it
		// The pages.
		{"GET", "/registry", nil, 200, readers, nil},
		{"GET", "/registry/residents/new", nil, 200, readers, nil},
		{"POST", "/registry/residents", nil, 303, editors, func(n int) url.Values {
			return url.Values{"grid": {workerGrid}, "name": {fmt.Sprintf("表单%d", n)}, "id_number": {testID("19600101", 600+n)}}
		}},
		{"GET", pres, nil, 200, readers, nil},
		{"GET", pres + "/edit", nil, 200, editors, nil},
		{"POST", pres + "/edit", nil, 303, editors, form("grid", workerGrid, "name", "改名表单")},
		{"POST", pres + "/reveal", nil, 200, editors, form("reason", "入户核实")},
		{"POST", pres + "/rooms", nil, 303, editors, form("room_id", fmt.Sprint(ids.room), "role", "owner")},
		{"POST", fmt.Sprintf("%s/rooms/%d/end", pres, ids.link), nil, 0, editors, form("to", "2026-02-01")},
		{"POST", pres + "/visits", nil, 303, editors, form("mode", "home", "finding", "一切正常")},
		{"GET", "/registry/buildings", nil, 200, readers, nil},
		{"POST", "/registry/buildings", nil, 303, editors, func(n int) url.Values {
			return url.Values{"grid": {workerGrid}, "road": {"表单路"}, "door_no": {fmt.Sprintf("%d号", n)}, "name": {"1号楼"}}
		}},
		{"GET", pbld, nil, 200, readers, nil},
		{"POST", pbld + "/edit", nil, 303, editors, keepForm},
		{"POST", pbld + "/rooms", nil, 303, editors, func(n int) url.Values { return url.Values{"unit": {"8"}, "number": {fmt.Sprintf("8%02d", n)}} }},
		{"GET", "/registry/places", nil, 200, readers, nil},
		{"POST", "/registry/places", nil, 303, editors, form("grid", workerGrid, "kind", "company", "name", "表单企业")},
		{"GET", pplc, nil, 200, readers, nil},
		{"POST", pplc + "/edit", nil, 303, editors, form("grid", workerGrid, "kind", "shop", "name", "便民超市")},
		{"POST", pplc + "/reveal", nil, 200, editors, form("reason", "联系商户")},
		{"GET", "/registry/components", nil, 200, readers, nil},
		{"POST", "/registry/components", nil, 303, editors, form("grid", workerGrid, "major", "03", "minor", "01")},
		{"POST", fmt.Sprintf("/registry/components/%d/state", ids.component), nil, 303, editors, form("state", "intact")},
		{"GET", "/registry/visits", nil, 200, editors, nil},
		{"GET", fmt.Sprintf("/registry/visits/%d/photo", ids.visit), nil, 200, readers, nil},
		{"POST", fmt.Sprintf("/registry/visits/%d/case", ids.visit), nil, 0, editors, form("case_category", "E0103")},
		{"GET", "/registry/patrols", nil, 200, readers, nil},
		{"POST", "/registry/patrols", nil, 303, editors, form("grid", workerGrid)},
		{"POST", patrol + "/points", nil, 0, editors, form("lon", "121.4266", "lat", "37.4826")},
		// Import and export of buildings, households and places.
		{"GET", "/registry/import/places/template.csv", nil, 200, readers, nil},
		{"GET", "/registry/import/buildings/template.xlsx", nil, 200, readers, nil},
		{"POST", "/api/v1/registry/import/households", nil, 400, editors, nil},
		{"GET", "/registry/export/buildings.xlsx", nil, 200, readers, nil},
		{"POST", "/registry/export/places.csv", nil, 200, editors, form("reveal", "1", "reason", "联系商户")},
		{"GET", "/api/v1/registry/export/households.csv?grid=" + workerGrid, nil, 200, readers, nil},
		{"GET", "/registry/settings", nil, 200, readers, nil},
		{"POST", "/registry/settings/levels/high", nil, 303, admins, form("every_days", "7")},
		{"POST", "/registry/settings/groups", nil, 303, admins, form("code", "hoarding", "name_zh", "囤积", "name_en", "Hoarding", "active", "1")},
		// Last: ending the walk's patrol, once.
		{"POST", fmt.Sprintf("/api/v1/registry/patrols/%d/end", ids.patrol), nil, 0, editors, nil},
		{"POST", patrol + "/end", nil, 0, editors, form()},
	}
}

// walkFixtures makes what the walk needs besides the demo: a visit with a
// photo, an open patrol, and the id of a resident's room link.
func walkFixtures(t *testing.T, admin *client) walkIDs {
	t.Helper()
	ids := walkIDs{registryIDs: demoRegistryIDs(t, admin)}
	json.Unmarshal([]byte(admin.get(fmt.Sprintf("/api/v1/registry/buildings/%d", ids.registryIDs.building)).Body), &ids.buildingJSON)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("finding", "门口堆放纸箱")
	fw, _ := mw.CreateFormFile("photo", "p.png")
	fw.Write([]byte("\x89PNG\r\n\x1a\n"))
	mw.Close()
	path := fmt.Sprintf("/registry/residents/%d", ids.resident)
	if r := admin.do(admin.request(http.MethodPost, path+"/visits", &body, http.Header{"Content-Type": {mw.FormDataContentType()}}), false); r.Status != http.StatusSeeOther {
		t.Fatalf("visit for the walk: %d %s", r.Status, snippet(r.Body))
	}
	ids.visit = firstID(t, admin.get("/api/v1"+path+"/visits"))
	var pt struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal([]byte(admin.jsonCall("POST", "/api/v1/registry/patrols", `{"grid":"`+workerGrid+`"}`).Body), &pt)
	var res struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	json.Unmarshal([]byte(admin.get("/api/v1"+path).Body), &res)
	if pt.ID == 0 || len(res.Rooms) == 0 {
		t.Fatalf("walk fixtures: patrol %d, %d links", pt.ID, len(res.Rooms))
	}
	ids.patrol, ids.link = pt.ID, res.Rooms[0].ID
	return ids
}

// wildcardRE finds a route's {name} segments (as regexp.QuoteMeta left
// them), to turn them into a pattern for paths.
var wildcardRE = regexp.MustCompile(`\\\{[^}]+\\\}`)

// uncovered lists the register's routes that no probe reaches, so that a
// new endpoint cannot slip past the walk.
func uncovered(routes []string, probes []probe) []string {
	var out []string
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		re := regexp.MustCompile("^" + wildcardRE.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
		// QuoteMeta escaped the braces; match them escaped.
		re = regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
		hit := false
		for _, p := range probes {
			u, _ := url.Parse(p.path)
			hit = hit || (p.method == method && re.MatchString(u.Path))
		}
		if !hit {
			out = append(out, rt)
		}
	}
	return out
}

// Every register endpoint, for every demo role: allowed roles get their
// answer, the others a 403 that says why, and nobody sees a clear ID
// number except through a reveal. The walk fails when a register route has
// no probe.
func TestE2ERegistryEndpointsByRole(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		ids := walkFixtures(t, admin)
		probes := append(registryProbes(ids), importProbes()...)
		var routes []string
		for _, rt := range s.App.Server.Routes() {
			if strings.Contains(rt.Pattern, " /registry") || strings.Contains(rt.Pattern, " /api/v1/registry") {
				routes = append(routes, rt.Pattern)
			}
		}
		if missing := uncovered(routes, probes); len(routes) < 50 || len(missing) > 0 {
			t.Fatalf("%d register routes; without a probe: %v", len(routes), missing)
		}
		clearID := regexp.MustCompile(`"id_number":"` + clearIDText + `"`)
		for n, role := range auth.Roles {
			c := admin
			if role != auth.Admin {
				c = s.login(t, role)
			}
			for _, p := range probes {
				r := p.send(c, n)
				allowed := slices.Contains(p.allowed, role)
				switch {
				case !allowed && r.Status != http.StatusForbidden:
					t.Errorf("%s %s %s: %d, want 403: %s", role, p.method, p.path, r.Status, snippet(r.Body))
				case allowed && p.ok != 0 && r.Status != p.ok:
					t.Errorf("%s %s %s: %d, want %d: %s", role, p.method, p.path, r.Status, p.ok, snippet(r.Body))
				case allowed && p.ok == 0 && (r.Status == http.StatusForbidden || r.Status >= 500):
					t.Errorf("%s %s %s: %d: %s", role, p.method, p.path, r.Status, snippet(r.Body))
				}
				if !allowed && strings.HasPrefix(p.path, "/api/") && !strings.Contains(r.Body, `"code":"forbidden"`) {
					t.Errorf("%s %s %s: the refusal is not the forbidden envelope: %s", role, p.method, p.path, snippet(r.Body))
				}
				if !strings.HasSuffix(p.path, "/reveal") && (clearID.MatchString(r.Body) || revealedRE.MatchString(r.Body)) {
					t.Errorf("%s %s %s: a clear number in the answer", role, p.method, p.path)
				}
			}
		}
		// Outside one's grids, the refusal says so.
		r := s.login(t, auth.GridWorker).get(fmt.Sprintf("/api/v1/registry/residents/%d", ids.otherResident))
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "不在您负责的网格") {
			t.Fatalf("out of scope: %d %s", r.Status, r.Body)
		}
		if r := s.client(t).get("/api/v1/registry/residents"); r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", r.Status)
		}
	})
}

// A grid worker sees masked numbers on screen and in the API, reveals one
// with a reason (audited), searches by the exact phone number, and records
// a visit whose finding becomes a case.
func TestE2ERegistryMaskRevealAndVisit(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		w := s.login(t, auth.GridWorker)
		due := w.get("/registry/visits")
		if due.Status != http.StatusOK || !strings.Contains(due.Text(), "应走访") && !strings.Contains(due.Text(), "已逾期") {
			t.Fatalf("due list: %d %s", due.Status, snippet(due.Body))
		}
		id := firstID(t, w.get("/api/v1/registry/residents?limit=1&grid="+workerGrid))
		path := fmt.Sprintf("/registry/residents/%d", id)
		api := w.get("/api/v1" + strings.TrimPrefix(path, ""))
		api = w.get(fmt.Sprintf("/api/v1/registry/residents/%d", id))
		if !maskedIDRE.MatchString(api.Body) || regexp.MustCompile(clearIDText).MatchString(api.Body) {
			t.Fatalf("API not masked: %s", api.Body)
		}
		page := w.get(path)
		if !maskedIDRE.MatchString(page.Body) || strings.Contains(page.Body, "revealed-id") {
			t.Fatalf("page not masked: %s", snippet(page.Body))
		}
		if r := w.post(path+"/reveal", url.Values{"reason": {""}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "请填写查看原因") {
			t.Fatalf("reveal without a reason: %d", r.Status)
		}
		r := w.post(path+"/reveal", url.Values{"reason": {"入户核实"}})
		m := regexp.MustCompile(`id="revealed-id">(` + clearIDText + `)<`).FindStringSubmatch(r.Body)
		ph := regexp.MustCompile(`id="revealed-phone">([0-9]*)<`).FindStringSubmatch(r.Body)
		if r.Status != http.StatusOK || m == nil || ph == nil {
			t.Fatalf("reveal: %d %s", r.Status, snippet(r.Body))
		}
		var n int
		if err := s.App.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log
			WHERE action = 'registry.resident.reveal' AND actor = 'gridworker' AND detail = '入户核实' AND target_id = $1`, fmt.Sprint(id)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("audit rows of the reveal: %d %v", n, err)
		}
		// The export is masked too, and audited.
		csv := w.get("/api/v1/registry/export/residents.csv?grid=" + workerGrid)
		if csv.Status != http.StatusOK || !strings.HasPrefix(csv.Body, "\ufeff网格,") || strings.Contains(csv.Body, m[1]) || !maskedIDRE.MatchString(csv.Body) {
			t.Fatalf("export: %d %s", csv.Status, snippet(csv.Body))
		}
		// Exact search by the numbers, through the blind index.
		if got := firstID(t, w.get("/api/v1/registry/residents?id_number="+m[1])); got != id {
			t.Fatalf("search by ID number found %d", got)
		}
		if ph[1] != "" {
			if got := firstID(t, w.get("/api/v1/registry/residents?phone="+ph[1])); got != id {
				t.Fatalf("search by phone found %d", got)
			}
		}
		// Another grid's view: the same search finds nothing for the worker.
		if r := w.get("/api/v1/registry/residents?grid=" + otherGrid); r.Status != http.StatusBadRequest {
			t.Fatalf("searching another grid: %d %s", r.Status, r.Body)
		}

		// A visit from the phone page, with a photo, filed as a case.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("mode", "home")
		mw.WriteField("finding", "楼道堆放杂物，堵塞通道。")
		mw.WriteField("case_category", "E0103")
		fw, _ := mw.CreateFormFile("photo", "p.png")
		fw.Write([]byte("\x89PNG\r\n\x1a\n"))
		mw.Close()
		h := http.Header{"Content-Type": {mw.FormDataContentType()}}
		if r := w.do(w.request(http.MethodPost, path+"/visits", &body, h), true); r.Status != http.StatusOK ||
			!regexp.MustCompile(`href="/cases/[^"]+"`).MatchString(r.Body) || !strings.Contains(r.Text(), "楼道堆放杂物") {
			t.Fatalf("visit with a case: %d %s", r.Status, r.Body[strings.Index(r.Body, "<main"):])
		}
	})
}

// Bad input gets field errors in the user's language, on the API and on
// the page, and changes nothing.
func TestE2ERegistryValidation(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		c := s.login(t, auth.CommunityStaff)
		good := testID("19800101", 11)
		bad := good[:17] + map[bool]string{true: "0", false: "1"}[good[17] != '0']
		body := fmt.Sprintf(`{"grid":%q,"name":"王五","id_number":%q,"phone":"12345"}`, workerGrid, bad)
		r := c.jsonCall("POST", "/api/v1/registry/residents", body)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"field":"id_number"`) || !strings.Contains(r.Body, "身份证号校验位错误，按前 17 位应为 "+good[17:]) ||
			!strings.Contains(r.Body, `"field":"phone"`) {
			t.Fatalf("zh: %d %s", r.Status, r.Body)
		}
		r = c.jsonCall("POST", "/api/v1/registry/residents", body, "Accept-Language", "en")
		if !strings.Contains(r.Body, "The ID number's check character is wrong") {
			t.Fatalf("en: %s", r.Body)
		}
		r = c.jsonCall("POST", "/api/v1/registry/components", fmt.Sprintf(`{"grid":%q,"code":"3706140102000001"}`, workerGrid))
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "前 6 位须是所在区县代码 370613") {
			t.Fatalf("component county: %d %s", r.Status, r.Body)
		}
		page := c.post("/registry/residents", url.Values{"grid": {workerGrid}, "name": {"王五"}, "id_number": {bad}})
		if page.Status != http.StatusBadRequest || !strings.Contains(page.Text(), "证件号码: 身份证号校验位错误") || strings.Contains(page.Body, bad) {
			t.Fatalf("form: %d %s", page.Status, snippet(page.Body))
		}
		if r := c.get("/api/v1/registry/residents?name=王五"); !strings.Contains(r.Body, `"items":[]`) {
			t.Fatalf("a refused resident was stored: %s", r.Body)
		}
		// Every register page reads in English with no raw keys.
		re := rawKeyRE(t)
		ids := demoRegistryIDs(t, s.login(t, auth.Admin))
		for _, p := range []string{"/registry", "/registry/buildings", "/registry/places", "/registry/components", "/registry/visits",
			"/registry/residents/new", "/registry/patrols", "/registry/settings", fmt.Sprintf("/registry/residents/%d", ids.resident),
			fmt.Sprintf("/registry/residents/%d/edit", ids.resident), fmt.Sprintf("/registry/buildings/%d", ids.building),
			fmt.Sprintf("/registry/places/%d", ids.place)} {
			r := c.get(p + "?lang=en")
			if r.Status != http.StatusOK {
				t.Errorf("%s: %d", p, r.Status)
			}
			if keys := rawKeys(re, r.Body); len(keys) > 0 {
				t.Errorf("%s shows raw keys: %v", p, keys)
			}
		}
	})
}

// Staff keep the register from the pages: a building is changed, a
// resident linked to a room and moved out, a shop's contact revealed (and
// audited), and a patrol walked with a check-in.
func TestE2ERegistryPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		c := s.login(t, auth.CommunityStaff)
		ids := demoRegistryIDs(t, s.login(t, auth.Admin))
		bpath := fmt.Sprintf("/registry/buildings/%d", ids.building)
		r := c.submit(bpath+"/edit", url.Values{"grid": {workerGrid}, "road": {"岱山路"}, "door_no": {"88号"}, "name": {"8号楼"}, "floors": {"7"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "岱山路88号 8号楼") {
			t.Fatalf("building edit: %d %s", r.Status, snippet(r.Body))
		}
		if r := c.post(bpath+"/edit", url.Values{"grid": {workerGrid}, "road": {""}, "door_no": {"88号"}, "name": {"8号楼"}}); r.Status != http.StatusBadRequest ||
			!strings.Contains(r.Text(), "街路巷: 请填写街路巷名称") {
			t.Fatalf("building edit without a road: %d", r.Status)
		}
		rpath := fmt.Sprintf("/registry/residents/%d", ids.resident)
		r = c.submit(rpath+"/rooms", url.Values{"room_id": {fmt.Sprint(ids.room)}, "role": {"tenant"}, "from": {"2025-03-01"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "承租人 · 2025-03-01") {
			t.Fatalf("link: %d %s", r.Status, snippet(r.Body))
		}
		link := regexp.MustCompile(`action="(`+regexp.QuoteMeta(rpath)+`/rooms/[0-9]+/end)"`).FindAllStringSubmatch(r.Body, -1)
		if len(link) == 0 {
			t.Fatalf("no move-out form: %s", snippet(r.Body))
		}
		if r := c.submit(link[len(link)-1][1], url.Values{"to": {"2026-01-31"}}); r.Status != http.StatusOK || !strings.Contains(r.Text(), "– 2026-01-31") {
			t.Fatalf("move out: %d", r.Status)
		}
		ppath := fmt.Sprintf("/registry/places/%d", ids.place)
		if r := c.get(ppath); r.Status != http.StatusOK || !regexp.MustCompile(`1[0-9]{2}\*{4}[0-9]{4}`).MatchString(r.Body) {
			t.Fatalf("place page not masked: %d", r.Status)
		}
		if r := c.post(ppath+"/reveal", url.Values{"reason": {"通知停水"}}); r.Status != http.StatusOK || !regexp.MustCompile(`id="revealed-phone">1[0-9]{10}<`).MatchString(r.Body) {
			t.Fatalf("place reveal: %d", r.Status)
		}
		var n int
		if err := s.App.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log
			WHERE action = 'registry.place.reveal' AND actor = 'community' AND detail = '通知停水'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("audit of the place reveal: %d %v", n, err)
		}

		w := s.login(t, auth.GridWorker)
		r = w.submit("/registry/patrols", url.Values{"grid": {workerGrid}, "note": {"夜间巡查"}})
		m := regexp.MustCompile(`action="(/registry/patrols/[0-9]+)/points"`).FindStringSubmatch(r.Body)
		if r.Status != http.StatusOK || m == nil {
			t.Fatalf("start patrol: %d %s", r.Status, snippet(r.Body))
		}
		if r := w.post(m[1]+"/points", url.Values{"lon": {""}, "lat": {""}}); r.Status != http.StatusBadRequest {
			t.Fatalf("check-in without a place: %d", r.Status)
		}
		if r := w.submit(m[1]+"/points", url.Values{"lon": {"121.4265"}, "lat": {"37.4825"}, "note": {"北门"}}); !strings.Contains(r.Text(), "121.4265, 37.4825 · 北门") {
			t.Fatalf("check-in: %d %s", r.Status, snippet(r.Body))
		}
		if r := w.submit(m[1]+"/end", nil); r.Status != http.StatusOK || strings.Contains(r.Body, m[1]+"/points") {
			t.Fatalf("end patrol: %d", r.Status)
		}
	})
}
