package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
)

// The matrix's objects: one in community A (岱山社区, grid A1 where the demo
// grid worker works) and its twin in community B (黄海社区), made by the
// administrator through the API on top of the demo data.
const (
	communityA, communityB = "370613001001", "370613001002"
	streetCode             = "370613001"
)

// fxMaker makes fixtures as the administrator. A fixture that cannot be
// made fails the test with the answer.
type fxMaker struct {
	t     *testing.T
	s     *testServer
	admin *client
}

// id reads the "id" (or "number") of a JSON answer with a 2xx status.
func (m fxMaker) id(what string, r response) string {
	m.t.Helper()
	var v struct {
		ID     json.Number `json:"id"`
		Number string      `json:"number"`
	}
	if r.Status >= 300 || json.Unmarshal([]byte(r.Body), &v) != nil || v.ID == "" && v.Number == "" {
		m.t.Fatalf("fixture %s: %d %s", what, r.Status, snippet(r.Body))
	}
	if v.ID != "" {
		return v.ID.String()
	}
	return v.Number
}

func (m fxMaker) post(what, path, body string) string {
	m.t.Helper()
	return m.id(what, m.admin.jsonCall(http.MethodPost, path, body))
}

// first returns the id of the first item of a list.
func (m fxMaker) first(path string) string {
	m.t.Helper()
	return fmt.Sprint(firstID(m.t, m.admin.get(path)))
}

// located is a point inside a demo grid, checked against the grid index.
func (m fxMaker) located(grid string, lon, lat float64) (float64, float64) {
	m.t.Helper()
	var ans struct {
		Location struct {
			Grid struct {
				Code string `json:"code"`
			} `json:"grid"`
		} `json:"location"`
	}
	r := m.admin.get(fmt.Sprintf("/api/v1/locate?lat=%f&lon=%f", lat, lon))
	json.Unmarshal([]byte(r.Body), &ans)
	if !strings.Contains(r.Body, grid) {
		m.t.Fatalf("the point %f,%f is not in grid %s: %s", lon, lat, grid, r.Body)
	}
	return lon, lat
}

// gridPoint is the centre of the first grid of the demo community with
// index i (demo.go lays the grids out as strips, west to east).
func (m fxMaker) gridPoint(i int, grid string) (float64, float64) {
	n := 3 + (i*7)%4
	west := demoWest + float64(i%demoColumns)*blockLon
	south := demoNorth - float64(i/demoColumns+1)*blockLat
	return m.located(grid, west+blockLon/float64(n)/2, south+blockLat/2)
}

// authzFixtures makes every object the matrix names.
func authzFixtures(t *testing.T, s *testServer, admin *client) map[string]fixture {
	t.Helper()
	m := fxMaker{t: t, s: s, admin: admin}
	now := time.Now().UTC()
	later := now.Add(72 * time.Hour)
	day := nextTuesday10().AddDate(0, 0, 7)
	// Values every object of a scope offers its routes' bodies.
	base := func(community, grid string) map[string]string {
		return map[string]string{"code": community, "community": community, "grid": grid,
			"now": now.Format(time.RFC3339), "later": later.Format(time.RFC3339),
			"laterEnd":   later.Add(2 * time.Hour).Format(time.RFC3339),
			"laterLocal": later.In(time.Local).Format("2006-01-02T15:04"), "laterEndLocal": later.Add(2 * time.Hour).In(time.Local).Format("2006-01-02T15:04"),
			"slot": nextTuesday10().UTC().Format(time.RFC3339), "day": day.Format(time.DateOnly), "category": "finances",
			"today": time.Now().Format(time.DateOnly), "week": time.Now().AddDate(0, 0, 7).Format(time.DateOnly)}
	}
	a, b := base(communityA, workerGrid), base(communityB, otherGrid)
	fx := map[string]fixture{}
	// add registers a fixture: the in and out values, on top of the base
	// values the module fixtures keep adding to (merged at the end), the
	// object lying in the area with the given code.
	add := func(kind, inArea string, in map[string]string, outArea string, out map[string]string) {
		f := fixture{in: &place{area: inArea, vals: in}}
		if out != nil {
			f.out = &place{area: outArea, vals: out}
		}
		fx[kind] = f
	}
	// fixed is a fixture that does not belong to an area.
	fixed := func(kind string, vals map[string]string) { add(kind, "", vals, "", nil) }

	platformFixtures(m, add, fixed, a, b)
	casesFixtures(m, add, fixed)
	registryFixtures(m, add, fixed, a, b)
	servicesFixtures(m, add, a, b)
	civicFixtures(m, add, a, b)
	volunteerFixtures(m, add, fixed, a, b)
	assessFixtures(m, add, a, b)
	for _, f := range fx {
		f.in.vals = merge(a, f.in.vals)
		if f.out != nil {
			f.out.vals = merge(b, f.out.vals)
		}
	}
	return fx
}

func merge(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, over)
	return out
}

type addFunc func(kind, inArea string, in map[string]string, outArea string, out map[string]string)

func kv(pairs ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out[pairs[i]] = pairs[i+1]
	}
	return out
}

var tokenIDRE = regexp.MustCompile(`/settings/tokens/([0-9]+)/revoke`)

func platformFixtures(m fxMaker, add addFunc, fixed func(string, map[string]string), a, b map[string]string) {
	t := m.t
	add("community", communityA, nil, communityB, nil)
	add("grid", workerGrid, kv("code", workerGrid), otherGrid, kv("code", otherGrid))
	add("street", streetCode, kv("code", streetCode), "", nil)
	fixed("year", kv("year", fmt.Sprint(time.Now().Year())))
	fixed("staged", kv("id", "0123456789abcdef"))

	// The administrator's own API token: another user's revoke is a 404.
	r := m.admin.post("/settings/tokens", url.Values{"name": {"authz"}, "scope": {"read"}, "days": {"30"}})
	tok := tokenIDRE.FindStringSubmatch(r.Body)
	if tok == nil {
		t.Fatalf("fixture token: %d %s", r.Status, snippet(r.Body))
	}
	fixed("token", kv("id", tok[1]))

	// Accounts the administrator's routes act on, and grid members to
	// assign and remove, so that the demo accounts stay as they are.
	pw := "Authz-Matrix-2024"
	for _, name := range []string{"authz-victim", "authz-member"} {
		r := m.admin.jsonCall("POST", "/api/v1/users", fmt.Sprintf(`{"name":%q,"password":%q,"role":"resident","area":%q}`, name, pw, communityA))
		if r.Status != http.StatusCreated {
			t.Fatalf("fixture user %s: %d %s", name, r.Status, snippet(r.Body))
		}
	}
	victim, err := m.s.App.Auth.Lookup(t.Context(), "authz-victim")
	if err != nil {
		t.Fatal(err)
	}
	a["victimID"], b["victimID"] = fmt.Sprint(victim.ID), fmt.Sprint(victim.ID)
	fixed("victim", kv("name", "authz-victim"))
	for _, g := range []string{workerGrid, otherGrid} {
		if r := m.admin.jsonCall("POST", "/api/v1/areas/"+g+"/members", `{"name":"authz-member","duty":"member"}`); r.Status != http.StatusOK {
			t.Fatalf("fixture grid member %s: %d %s", g, r.Status, snippet(r.Body))
		}
	}
	add("gridMember", workerGrid, kv("code", workerGrid, "name", "authz-member"), otherGrid, kv("code", otherGrid, "name", "authz-member"))

	// Open311: a key for the writes, another to revoke, a request and its token.
	ctx := auth.WithPrincipal(t.Context(), auth.System())
	key, _, err := m.s.App.Open311.CreateKey(ctx, "authz", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	_, revoked, err := m.s.App.Open311.CreateKey(ctx, "authz-revoke", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	fixed("o311key", kv("id", fmt.Sprint(revoked.ID)))
	fixed("o311post", kv("file", "requests.json", "key", key))
	fixed("o311discovery", kv("file", "discovery.json"))
	fixed("o311services", kv("file", "services.json"))
	fixed("o311service", kv("file", "E0101.json"))
	r = m.admin.post("/open311/v2/requests.json", url.Values{"api_key": {key}, "service_code": {"E0101"},
		"lat": {"37.482"}, "long": {"121.427"}, "description": {"authz fixture"}})
	var posted []struct {
		ID    string `json:"service_request_id"`
		Token string `json:"token"`
	}
	if json.Unmarshal([]byte(r.Body), &posted) != nil || len(posted) == 0 {
		t.Fatalf("fixture open311 request: %d %s", r.Status, snippet(r.Body))
	}
	fixed("o311request", kv("file", posted[0].ID+".json"))
	token := posted[0].Token
	if token == "" {
		token = "none"
	}
	fixed("o311token", kv("file", token+".json"))
}

func casesFixtures(m fxMaker, add addFunc, fixed func(string, map[string]string)) {
	// A dispute with a photo, reported by a resident (the service's own
	// path: the API takes no files).
	report := func(grid string, i int) (cases.Receipt, string) {
		lon, lat := m.gridPoint(i, grid)
		rc, err := m.s.App.Cases.Report(m.t.Context(), cases.NewCase{Category: "S0101", Description: "矩阵：邻里纠纷",
			Point: &orb.Point{lon, lat}, Name: "居民", Phone: "13800000000",
			Files: []cases.File{{Name: "p.png", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}}})
		if err != nil {
			m.t.Fatalf("fixture case in %s: %v", grid, err)
		}
		var file int64 // the photo just filed: the newest
		if err := m.s.App.DB.Q(m.t.Context()).QueryRowContext(m.t.Context(), "SELECT MAX(id) FROM case_files").Scan(&file); err != nil {
			m.t.Fatalf("fixture case file: %v", err)
		}
		return rc, fmt.Sprint(file)
	}
	ra, fa := report(workerGrid, 0)
	rb, fb := report(otherGrid, 1)
	add("case", workerGrid, kv("number", ra.Number), otherGrid, kv("number", rb.Number, "mark", rb.Number))
	fixed("caseTrack", kv("token", ra.Token))
	add("caseFile", workerGrid, kv("number", ra.Number, "id", fa), otherGrid, kv("number", rb.Number, "id", fb))
}
