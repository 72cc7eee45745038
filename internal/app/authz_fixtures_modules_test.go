package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The matrix's module objects, in community A and B (see
// authz_fixtures_test.go).

// registryObjects are one grid's register objects for the matrix.
func (m fxMaker) registryObjects(grid string) map[string]string {
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
	v := m.admin.multipartCall(path+"/visits", map[string]string{"finding": "门口堆放纸箱"}, map[string][]byte{"photo": []byte("\x89PNG\r\n\x1a\n")})
	if v.Status != http.StatusSeeOther {
		t.Fatalf("fixture visit in %s: %d %s", grid, v.Status, snippet(v.Body))
	}
	o["visit"] = m.first("/api/v1" + path + "/visits")
	o["patrol"] = m.post("patrol", "/api/v1/registry/patrols", `{"grid":"`+grid+`"}`)
	return o
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
	oa, ob := m.registryObjects(workerGrid), m.registryObjects(otherGrid)
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
		add(kind, workerGrid, kv("id", oa[kind]), otherGrid, kv("id", ob[kind]))
	}
	add("room", workerGrid, nil, otherGrid, nil)
	add("resident", workerGrid, kv("id", oa["resident"], "link", oa["link"]), otherGrid, kv("id", ob["resident"], "link", ob["link"]))
}

func servicesFixtures(m fxMaker, add addFunc, a, b map[string]string) {
	hours := `"hours":[["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"]]`
	obj := func(community string, vals map[string]string) map[string]string {
		o := map[string]string{}
		o["facility"] = m.post("facility", "/api/v1/services/facilities", fmt.Sprintf(`{"community":%q,"name":"矩阵活动室","kind":"activity_room",
			"capacity":30,"slot_minutes":60,%s}`, community, hours))
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
		o["provider"] = m.post("provider", "/api/v1/services/providers", fmt.Sprintf(`{"area":%q,"name":"矩阵家政","kind":"business",
			"services":["meal_delivery"],"capacity":3,"location":{"lon":121.43,"lat":37.48},"radius_m":5000}`, community))
		vals["provider"] = o["provider"]
		o["need"] = m.post("need", "/api/v1/services/needs", fmt.Sprintf(`{"resident_id":%s,"service":"meal_delivery","location":{"lon":121.43,"lat":37.48}}`, vals["resident"]))
		r = m.admin.jsonCall("POST", "/api/v1/services/needs/"+o["need"]+"/matches", fmt.Sprintf(`{"provider":%s}`, o["provider"]))
		o["match"] = m.id("match", r)
		return o
	}
	oa, ob := obj(communityA, a), obj(communityB, b)
	for _, kind := range []string{"facility", "item", "provider"} {
		add(kind, communityA, kv("id", oa[kind]), communityB, kv("id", ob[kind]))
	}
	for _, kind := range []string{"need", "match"} { // a need lies in its resident's grid
		add(kind, workerGrid, kv("id", oa[kind]), otherGrid, kv("id", ob[kind]))
	}
	add("booking", communityA, kv("id", oa["booking"], "action", "attend"), communityB, kv("id", ob["booking"], "action", "attend"))
	add("application", communityA, kv("id", oa["application"], "number", oa["number"], "file", oa["file"], "action", "request_materials"),
		communityB, kv("id", ob["application"], "number", ob["number"], "file", ob["file"], "action", "request_materials"))
}

func civicFixtures(m fxMaker, add addFunc, a, b map[string]string) {
	now := time.Now().UTC()
	obj := func(community string) map[string]string {
		o := map[string]string{}
		o["notice"] = m.post("notice", "/api/v1/civic/notices", fmt.Sprintf(`{"community":%q,"category":"finances","title":"矩阵财务","body":"收入 100 元"}`, community))
		o["vote"] = m.post("vote", "/api/v1/civic/votes", fmt.Sprintf(`{"community":%q,"title":"矩阵表决","options":["同意","不同意"],
			"rule":"household","opens_at":%q,"closes_at":%q}`, community, now.Add(-time.Minute).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))
		o["topic"] = m.post("topic", "/api/v1/civic/topics", fmt.Sprintf(`{"community":%q,"title":"矩阵停车","body":"夜间停车难"}`, community))
		o["meeting"] = m.post("meeting", "/api/v1/civic/meetings", fmt.Sprintf(`{"community":%q,"kind":"council","title":"矩阵议事会",
			"held_at":%q,"place":"活动室","agenda":"停车","topic_ids":[%s]}`, community, now.Format(time.RFC3339), o["topic"]))
		o["comment"] = m.post("comment", "/api/v1/civic/topics/"+o["topic"]+"/comments", `{"body":"同意"}`)
		return o
	}
	oa, ob := obj(communityA), obj(communityB)
	a["meeting"], b["meeting"] = oa["meeting"], ob["meeting"]
	for _, kind := range []string{"notice", "vote", "topic", "meeting", "comment"} {
		add(kind, communityA, kv("id", oa[kind], "idx", "0"), communityB, kv("id", ob[kind], "idx", "0"))
	}
	// Questions are asked by registered residents: the demo resident, of
	// community A (B has no linked resident to ask).
	q := m.id("question", m.s.login(m.t, "resident").jsonCall("POST", "/api/v1/civic/questions",
		fmt.Sprintf(`{"target_type":"notice","target_id":%s,"body":"收入来源？"}`, oa["notice"])))
	add("question", communityA, kv("id", q), "", nil)
}

func volunteerFixtures(m fxMaker, add addFunc, fixed func(string, map[string]string), a, b map[string]string) {
	later := time.Now().Add(72 * time.Hour)
	obj := func(community string, vals map[string]string) map[string]string {
		o := map[string]string{}
		o["org"] = m.post("org", "/api/v1/volunteer/orgs", fmt.Sprintf(`{"community":%q,"name":"矩阵志愿队","kind":"public_service","status":"registered","leader":"王芳"}`, community))
		o["volunteer"] = m.post("volunteer", "/api/v1/volunteer/volunteers", fmt.Sprintf(`{"community":%q,"name":"矩阵志愿者","id_number":%q,"phone":"13900001234"}`,
			community, testID("19900101", len(community)+int(community[len(community)-1]))))
		vals["volunteer"] = o["volunteer"]
		o["team"] = m.post("team", "/api/v1/volunteer/teams", fmt.Sprintf(`{"community":%q,"name":"矩阵队","brand":"邻里守望"}`, community))
		o["activity"] = m.post("activity", "/api/v1/volunteer/activities", fmt.Sprintf(`{"community":%q,"title":"矩阵助老","kind":"elder_care",
			"place":"活动室","lon":121.4265,"lat":37.4825,"starts_at":%q,"ends_at":%q,"slots":20}`, community,
			later.Format(time.RFC3339), later.Add(2*time.Hour).Format(time.RFC3339)))
		o["reward"] = m.post("reward", "/api/v1/volunteer/rewards", fmt.Sprintf(`{"community":%q,"name":"矩阵香皂","cost":15,"stock":3}`, community))
		return o
	}
	oa, ob := obj(communityA, a), obj(communityB, b)
	for _, kind := range []string{"org", "team", "activity", "reward"} {
		add(kind, communityA, kv("id", oa[kind]), communityB, kv("id", ob[kind]))
	}
	// Signing up is open to volunteers of any community: the activities
	// without their areas.
	add("activityAny", "", kv("id", oa["activity"]), "", kv("id", ob["activity"]))
	add("volunteer", communityA, kv("id", oa["volunteer"], "level", "1"), communityB, kv("id", ob["volunteer"], "level", "1"))
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
		o["handdown"] = m.post("handdown", "/api/v1/assess/handdowns", `{"community":"`+community+`","department":"区文明办","kind":"plaque","title":"矩阵挂牌","hours":2}`)
		o["survey"] = m.post("survey", "/api/v1/assess/surveys", fmt.Sprintf(`{"area":%q,"title":"矩阵测评","per":"resident","anonymous":true,
			"opens":%q,"closes":%q,"questions":[{"kind":"rating","prompt":"总体满意度"}]}`, community, today.Format(time.DateOnly), today.AddDate(0, 0, 7).Format(time.DateOnly)))
		return o
	}
	oa, ob := obj(communityA), obj(communityB)
	for _, kind := range []string{"handdown", "survey"} {
		add(kind, communityA, kv("id", oa[kind]), communityB, kv("id", ob[kind]))
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
