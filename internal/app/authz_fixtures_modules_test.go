package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/linli/linli/internal/registry"
)

// The matrix's module objects, in community A and B (see
// authz_fixtures_test.go).

// markB is the mark of community B's fixture of kind: its name or title,
// unique, for the list checks (checkLists) to look for.
func markB(kind string) string { return "矩阵B-" + kind }

// named is a fixture's name: as given in community A, its mark in B.
func named(community, name, kind string) string {
	if community == communityB {
		return markB(kind)
	}
	return name
}

// registryObjects are one grid's register objects for the matrix. With a
// mark ("矩阵B-"), the objects carry it and their kind in their names (a
// component its code, which is unique already), under "mark.<kind>": what
// the list checks look for.
func (m fxMaker) registryObjects(grid, mark string) map[string]string {
	t := m.t
	o := map[string]string{
		"resident":  m.first("/api/v1/registry/residents?limit=1&grid=" + grid),
		"building":  m.first("/api/v1/registry/buildings?limit=1&grid=" + grid),
		"place":     m.first("/api/v1/registry/places?limit=1&grid=" + grid),
		"component": m.first("/api/v1/registry/components?limit=1&grid=" + grid),
	}
	var b struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	json.Unmarshal([]byte(m.admin.get("/api/v1/registry/buildings/"+o["building"]).Body), &b)
	var r struct {
		Rooms []struct {
			ID int64 `json:"id"`
		} `json:"rooms"`
	}
	json.Unmarshal([]byte(m.admin.get("/api/v1/registry/residents/"+o["resident"]).Body), &r)
	if len(b.Rooms) == 0 || len(r.Rooms) == 0 {
		t.Fatalf("fixture rooms in %s: building %v, resident %v", grid, b, r)
	}
	o["room"], o["link"] = fmt.Sprint(b.Rooms[0].ID), fmt.Sprint(r.Rooms[0].ID)
	// A visit with a photo, and an open patrol.
	path := "/registry/residents/" + o["resident"]
	v := m.admin.multipartCall(path+"/visits", map[string]string{"finding": "门口堆放纸箱" + mark}, map[string][]byte{"photo": []byte("\x89PNG\r\n\x1a\n")})
	if v.Status != http.StatusSeeOther {
		t.Fatalf("fixture visit in %s: %d %s", grid, v.Status, snippet(v.Body))
	}
	o["visit"] = m.first("/api/v1" + path + "/visits")
	o["patrol"] = m.post("patrol", "/api/v1/registry/patrols", `{"grid":"`+grid+`","note":"`+mark+`patrol"}`)
	if mark == "" {
		return o
	}
	api := "/api/v1/registry/"
	o["mark.resident"], o["mark.building"], o["mark.place"] = mark+"resident", mark+"building", mark+"place"
	o["mark.visit"], o["mark.patrol"] = "门口堆放纸箱"+mark, mark+"patrol"
	rename(m, api+"residents/"+o["resident"], func(in *registry.ResidentInput) {
		in.Name, in.IDNumber, in.Phone = o["mark.resident"], "", "" // the numbers read masked: empty keeps them
	})
	rename(m, api+"buildings/"+o["building"], func(in *registry.BuildingInput) { in.Name = o["mark.building"] })
	rename(m, api+"places/"+o["place"], func(in *registry.PlaceInput) { in.Name, in.ContactPhone = o["mark.place"], "" })
	var c struct{ Code string }
	json.Unmarshal([]byte(m.admin.get(api+"components/"+o["component"]).Body), &c)
	o["mark.component"] = c.Code
	return o
}

// rename gives the object at path a new name: what the API reads of it,
// changed by set, is sent back.
func rename[T any](m fxMaker, path string, set func(*T)) {
	m.t.Helper()
	var in T
	if r := m.admin.get(path); json.Unmarshal([]byte(r.Body), &in) != nil {
		m.t.Fatalf("fixture %s: %d %s", path, r.Status, snippet(r.Body))
	}
	set(&in)
	body, _ := json.Marshal(in)
	if r := m.admin.jsonCall(http.MethodPut, path, string(body)); r.Status != http.StatusOK {
		m.t.Fatalf("fixture rename %s: %d %s", path, r.Status, snippet(r.Body))
	}
}

// second is the id of a grid's second resident.
func (m fxMaker) second(grid string) string {
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	r := m.admin.get("/api/v1/registry/residents?limit=2&grid=" + grid)
	if json.Unmarshal([]byte(r.Body), &page) != nil || len(page.Items) < 2 {
		m.t.Fatalf("fixture second resident of %s: %d %s", grid, r.Status, snippet(r.Body))
	}
	return fmt.Sprint(page.Items[1].ID)
}

func registryFixtures(m fxMaker, add addFunc, fixed func(string, map[string]string), a, b map[string]string) {
	oa, ob := m.registryObjects(workerGrid, ""), m.registryObjects(otherGrid, markB(""))
	lonA, latA := m.gridPoint(0, workerGrid)
	lonB, latB := m.gridPoint(1, otherGrid)
	a["lon"], a["lat"], b["lon"], b["lat"] = fmt.Sprint(lonA), fmt.Sprint(latA), fmt.Sprint(lonB), fmt.Sprint(latB)
	a["newID"], b["newID"] = testID("19800101", 700), testID("19800101", 701)
	a["resident"], b["resident"] = oa["resident"], ob["resident"]
	a["resident2"], b["resident2"] = m.second(workerGrid), m.second(otherGrid)
	a["room"], b["room"] = oa["room"], ob["room"]
	add("regGrid", workerGrid, nil, otherGrid, nil)
	fixed("gridA", kv("grid", workerGrid))
	fixed("careLevel", kv("code", "general"))
	fixed("group", kv("code", "hoarding"))
	fixed("importJob", kv("job", "0123456789abcdef"))
	fixed("importKind", kv("kind", "residents"))
	add("exportFile", workerGrid, kv("file", "residents.xlsx"), "", nil)
	for _, kind := range []string{"building", "place", "component", "visit", "patrol"} {
		add(kind, workerGrid, kv("id", oa[kind]), otherGrid, kv("id", ob[kind], "mark", ob["mark."+kind]))
	}
	add("room", workerGrid, nil, otherGrid, nil)
	add("resident", workerGrid, kv("id", oa["resident"], "link", oa["link"]), otherGrid,
		kv("id", ob["resident"], "link", ob["link"], "mark", ob["mark.resident"]))
}

func servicesFixtures(m fxMaker, add addFunc, a, b map[string]string) {
	hours := `"hours":[["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"]]`
	obj := func(community string, vals map[string]string) map[string]string {
		o := map[string]string{}
		o["facility"] = m.post("facility", "/api/v1/services/facilities", fmt.Sprintf(`{"community":%q,"name":%q,"kind":"activity_room",
			"capacity":30,"slot_minutes":60,%s}`, community, named(community, "矩阵活动室", "facility"), hours))
		var items struct {
			Items []struct {
				ID   int64  `json:"id"`
				Code string `json:"code"`
			} `json:"items"`
		}
		json.Unmarshal([]byte(m.admin.get("/api/v1/services/items?community="+community).Body), &items)
		for _, it := range items.Items {
			if it.Code == "employment" {
				o["item"] = fmt.Sprint(it.ID)
			}
		}
		if o["item"] == "" {
			m.t.Fatalf("fixture item in %s: %+v", community, items)
		}
		if community == communityB {
			r := m.admin.post("/services/catalog/"+o["item"]+"/edit", url.Values{"community": {community}, "code": {"employment"},
				"name": {markB("item")}, "unit": {"社区劳动保障站"}, "limit_days": {"5"},
				"online": {"1"}, "active": {"1"}, "material_code": {"id_card"}, "material_name": {"身份证"}, "material_required": {"0"}})
			if r.Status != http.StatusSeeOther {
				m.t.Fatalf("fixture item name in %s: %d %s", community, r.Status, snippet(r.Body))
			}
		}
		vals["item"] = o["item"]
		slot := nextTuesday10().Add(time.Hour).UTC().Format(time.RFC3339)
		r := m.admin.jsonCall("POST", "/api/v1/services/bookings", fmt.Sprintf(`{"facility":%s,"start":%q}`, o["facility"], slot))
		var bk struct {
			Bookings []struct {
				ID int64 `json:"id"`
			} `json:"bookings"`
		}
		if json.Unmarshal([]byte(r.Body), &bk) != nil || len(bk.Bookings) == 0 {
			m.t.Fatalf("fixture booking in %s: %d %s", community, r.Status, snippet(r.Body))
		}
		o["booking"] = fmt.Sprint(bk.Bookings[0].ID)
		pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
		r = m.admin.multipartCall("/api/v1/services/applications", map[string]string{"item": o["item"], "resident_id": vals["resident"]},
			map[string][]byte{"file.id_card": pdf})
		var app struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
			Files  []struct {
				ID int64 `json:"id"`
			} `json:"files"`
		}
		if json.Unmarshal([]byte(r.Body), &app) != nil || app.ID == 0 {
			m.t.Fatalf("fixture application in %s: %d %s", community, r.Status, snippet(r.Body))
		}
		o["application"], o["number"], o["file"] = fmt.Sprint(app.ID), app.Number, "0"
		if len(app.Files) > 0 {
			o["file"] = fmt.Sprint(app.Files[0].ID)
		}
		o["provider"] = m.post("provider", "/api/v1/services/providers", fmt.Sprintf(`{"area":%q,"name":%q,"kind":"business",
			"services":["meal_delivery"],"capacity":3,"location":{"lon":121.43,"lat":37.48},"radius_m":5000}`, community, named(community, "矩阵家政", "provider")))
		vals["provider"] = o["provider"]
		o["need"] = m.post("need", "/api/v1/services/needs", fmt.Sprintf(`{"resident_id":%s,"service":"meal_delivery","location":{"lon":121.43,"lat":37.48},"note":%q}`,
			vals["resident"], named(community, "", "need")))
		r = m.admin.jsonCall("POST", "/api/v1/services/needs/"+o["need"]+"/matches", fmt.Sprintf(`{"provider":%s}`, o["provider"]))
		o["match"] = m.id("match", r)
		return o
	}
	oa, ob := obj(communityA, a), obj(communityB, b)
	for _, kind := range []string{"facility", "item", "provider"} {
		add(kind, communityA, kv("id", oa[kind]), communityB, kv("id", ob[kind], "mark", markB(kind)))
	}
	// a need lies in its resident's grid
	add("need", workerGrid, kv("id", oa["need"]), otherGrid, kv("id", ob["need"], "mark", markB("need")))
	add("match", workerGrid, kv("id", oa["match"]), otherGrid, kv("id", ob["match"]))
	add("booking", communityA, kv("id", oa["booking"], "action", "attend"), communityB, kv("id", ob["booking"], "action", "attend"))
	add("application", communityA, kv("id", oa["application"], "number", oa["number"], "file", oa["file"], "action", "request_materials"),
		communityB, kv("id", ob["application"], "number", ob["number"], "file", ob["file"], "action", "request_materials", "mark", ob["number"]))
}

func civicFixtures(m fxMaker, add addFunc, a, b map[string]string) {
	now := time.Now().UTC()
	obj := func(community string) map[string]string {
		o := map[string]string{}
		o["notice"] = m.post("notice", "/api/v1/civic/notices", fmt.Sprintf(`{"community":%q,"category":"finances","title":%q,"body":"收入 100 元"}`,
			community, named(community, "矩阵财务", "notice")))
		o["vote"] = m.post("vote", "/api/v1/civic/votes", fmt.Sprintf(`{"community":%q,"title":%q,"options":["同意","不同意"],
			"rule":"household","opens_at":%q,"closes_at":%q}`, community, named(community, "矩阵表决", "vote"),
			now.Add(-time.Minute).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))
		o["topic"] = m.post("topic", "/api/v1/civic/topics", fmt.Sprintf(`{"community":%q,"title":%q,"body":"夜间停车难"}`, community, named(community, "矩阵停车", "topic")))
		o["meeting"] = m.post("meeting", "/api/v1/civic/meetings", fmt.Sprintf(`{"community":%q,"kind":"council","title":%q,
			"held_at":%q,"place":"活动室","agenda":"停车","topic_ids":[%s]}`, community, named(community, "矩阵议事会", "meeting"), now.Format(time.RFC3339), o["topic"]))
		o["comment"] = m.post("comment", "/api/v1/civic/topics/"+o["topic"]+"/comments", fmt.Sprintf(`{"body":%q}`, named(community, "同意", "comment")))
		return o
	}
	oa, ob := obj(communityA), obj(communityB)
	a["meeting"], b["meeting"] = oa["meeting"], ob["meeting"]
	for _, kind := range []string{"notice", "vote", "topic", "meeting", "comment"} {
		add(kind, communityA, kv("id", oa[kind], "idx", "0"), communityB, kv("id", ob[kind], "idx", "0", "mark", markB(kind)))
	}
	// Questions are asked by registered residents: the demo resident, of
	// community A, and in B an account linked to B's second resident.
	ask := func(c *client, notice, body string) string {
		return m.id("question", c.jsonCall("POST", "/api/v1/civic/questions", fmt.Sprintf(`{"target_type":"notice","target_id":%s,"body":%q}`, notice, body)))
	}
	qa := ask(m.s.login(m.t, "resident"), oa["notice"], "收入来源？")
	if r := m.admin.jsonCall("POST", "/api/v1/users", `{"name":"authz-b-resident","password":"Authz-Matrix-2024","role":"resident","area":"`+communityB+`"}`); r.Status != http.StatusCreated {
		m.t.Fatalf("fixture B resident account: %d %s", r.Status, snippet(r.Body))
	}
	u, err := m.s.App.Auth.Lookup(m.t.Context(), "authz-b-resident")
	if err != nil {
		m.t.Fatal(err)
	}
	if r := m.admin.jsonCall("POST", "/api/v1/registry/residents/"+b["resident2"]+"/account", fmt.Sprintf(`{"user_id":%d}`, u.ID)); r.Status != http.StatusOK {
		m.t.Fatalf("fixture B resident link: %d %s", r.Status, snippet(r.Body))
	}
	asker := m.s.client(m.t)
	if r := asker.post("/login", url.Values{"name": {"authz-b-resident"}, "password": {"Authz-Matrix-2024"}}); r.Status != http.StatusSeeOther {
		m.t.Fatalf("fixture B resident login: %d %s", r.Status, snippet(r.Body))
	}
	qb := ask(asker, ob["notice"], markB("question"))
	add("question", communityA, kv("id", qa), communityB, kv("id", qb, "mark", markB("question")))
}

func volunteerFixtures(m fxMaker, add addFunc, fixed func(string, map[string]string), a, b map[string]string) {
	later := time.Now().Add(72 * time.Hour)
	obj := func(community string, vals map[string]string) map[string]string {
		o := map[string]string{}
		o["org"] = m.post("org", "/api/v1/volunteer/orgs", fmt.Sprintf(`{"community":%q,"name":%q,"kind":"public_service","status":"registered","leader":"王芳"}`,
			community, named(community, "矩阵志愿队", "org")))
		o["volunteer"] = m.post("volunteer", "/api/v1/volunteer/volunteers", fmt.Sprintf(`{"community":%q,"name":%q,"id_number":%q,"phone":"13900001234"}`,
			community, named(community, "矩阵志愿者", "volunteer"), testID("19900101", len(community)+int(community[len(community)-1]))))
		vals["volunteer"] = o["volunteer"]
		o["team"] = m.post("team", "/api/v1/volunteer/teams", fmt.Sprintf(`{"community":%q,"name":%q,"brand":"邻里守望"}`, community, named(community, "矩阵队", "team")))
		o["activity"] = m.post("activity", "/api/v1/volunteer/activities", fmt.Sprintf(`{"community":%q,"title":%q,"kind":"elder_care",
			"place":"活动室","lon":121.4265,"lat":37.4825,"starts_at":%q,"ends_at":%q,"slots":20}`, community, named(community, "矩阵助老", "activity"),
			later.Format(time.RFC3339), later.Add(2*time.Hour).Format(time.RFC3339)))
		o["reward"] = m.post("reward", "/api/v1/volunteer/rewards", fmt.Sprintf(`{"community":%q,"name":%q,"cost":15,"stock":3}`, community, named(community, "矩阵香皂", "reward")))
		return o
	}
	oa, ob := obj(communityA, a), obj(communityB, b)
	for _, kind := range []string{"org", "team", "activity", "reward"} {
		add(kind, communityA, kv("id", oa[kind]), communityB, kv("id", ob[kind], "mark", markB(kind)))
	}
	// Signing up is open to volunteers of any community: the activities
	// without their areas.
	add("activityAny", "", kv("id", oa["activity"]), "", kv("id", ob["activity"]))
	add("volunteer", communityA, kv("id", oa["volunteer"], "level", "1"), communityB, kv("id", ob["volunteer"], "level", "1", "mark", markB("volunteer")))
	// The demo resident volunteers and signs up for A's activity: the
	// sign-up routes act on it (B has no linked resident to sign up).
	resident := m.s.login(m.t, "resident")
	_, idNumber := linkedResident(m.t, m.s, m.admin)
	r := resident.jsonCall("POST", "/api/v1/volunteer/me", fmt.Sprintf(`{"id_number":%q,"phone":"13900009977"}`, idNumber))
	me := m.id("self-registered volunteer", r)
	m.post("verify", "/api/v1/volunteer/volunteers/"+me+"/verify", `{"status":"verified"}`)
	signup := m.id("signup", resident.jsonCall("POST", "/api/v1/volunteer/activities/"+oa["activity"]+"/signups", ""))
	add("signup", communityA, kv("id", signup), "", nil)
	// An hour and a half of service, so that a proof can be issued.
	m.post("confirm", "/api/v1/volunteer/signups/"+signup+"/confirm", "")
	m.post("credit", "/api/v1/volunteer/signups/"+signup+"/credit", `{"minutes":90}`)
	proof := resident.post("/volunteer/proofs", nil)
	number := strings.TrimPrefix(proof.Location(), "/volunteer/proofs/")
	if number == "" || number == proof.Location() {
		m.t.Fatalf("fixture proof: %d %s", proof.Status, snippet(proof.Body))
	}
	fixed("proof", kv("number", number))
}

func assessFixtures(m fxMaker, add addFunc, a, b map[string]string) {
	today := time.Now()
	task := m.post("task", "/api/v1/assess/tasks", `{"street":"`+streetCode+`","list":"assist","department":"区民政局","title":"矩阵核对",
		"content":"每季度核对","legal_basis":"《老年人权益保障法》","hours":6,"cadence":"quarterly","funding":"每社区每年 1 万元","staff":"民政所派员"}`)
	a["task"], b["task"] = task, task
	add("task", streetCode, kv("id", task), "", nil)
	dep := m.post("department", "/api/v1/assess/departments", `{"street":"`+streetCode+`","code":"AZ","name":"矩阵部门"}`)
	a["department"], b["department"] = dep, dep
	add("department", streetCode, kv("id", dep), "", nil)
	obj := func(community string) map[string]string {
		o := map[string]string{}
		o["handdown"] = m.post("handdown", "/api/v1/assess/handdowns", fmt.Sprintf(`{"community":%q,"department":"区文明办","kind":"plaque","title":%q,"hours":2}`,
			community, named(community, "矩阵挂牌", "handdown")))
		o["survey"] = m.post("survey", "/api/v1/assess/surveys", fmt.Sprintf(`{"area":%q,"title":%q,"per":"resident","anonymous":true,
			"opens":%q,"closes":%q,"questions":[{"kind":"rating","prompt":"总体满意度"}]}`, community, named(community, "矩阵测评", "survey"),
			today.Format(time.DateOnly), today.AddDate(0, 0, 7).Format(time.DateOnly)))
		return o
	}
	oa, ob := obj(communityA), obj(communityB)
	for _, kind := range []string{"handdown", "survey"} {
		add(kind, communityA, kv("id", oa[kind]), communityB, kv("id", ob[kind], "mark", markB(kind)))
	}
	var periods struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	r := m.admin.get("/api/v1/assess/periods")
	if json.Unmarshal([]byte(r.Body), &periods) != nil || len(periods.Items) == 0 {
		m.t.Fatalf("fixture period: %d %s", r.Status, snippet(r.Body))
	}
	// The street's period: scorecard rows are filtered to the caller's
	// areas, so the route acts on no single area.
	add("period", "", kv("id", fmt.Sprint(periods.Items[0].ID)), "", nil)
}
