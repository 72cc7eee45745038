package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/auth"
)

// The service desk's end-to-end test drives the demo street over HTTP:
// staff set up a facility and a catalog item, a resident books and
// applies from a phone (multipart upload), a second booking of the same
// slot is refused in both languages, the applicant follows the
// application by number without logging in, and the street sees the gap
// report with its chart and Excel export.

const (
	svcStreet    = "370613001"
	svcCommunity = "370613001001"
)

// nextTuesday10 is 10:00 CST on the Tuesday after next: a slot in the
// future whatever day the test runs.
func nextTuesday10() time.Time {
	cst := time.FixedZone("CST", 8*3600)
	d := time.Now().In(cst).AddDate(0, 0, 7)
	for d.Weekday() != time.Tuesday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, cst)
}

// multipartCall posts a form with files ("file.<material>" parts).
func (c *client) multipartCall(path string, fields map[string]string, files map[string][]byte) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for k, v := range files {
		fw, _ := mw.CreateFormFile(k, "scan")
		fw.Write(v)
	}
	mw.Close()
	h := http.Header{}
	h.Set("Content-Type", mw.FormDataContentType())
	return c.do(c.request(http.MethodPost, path, &body, h), false)
}

func TestServicesEndToEnd(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		resident := s.login(t, auth.Resident)
		worker := s.login(t, auth.GridWorker)

		// Staff: a facility opening every day 09:00–12:00, and a catalog item.
		r := staff.jsonCall("POST", "/api/v1/services/facilities", `{"community":"`+svcCommunity+`","name":"多功能活动室","kind":"activity_room",
			"capacity":30,"slot_minutes":60,"hours":[["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"],["09:00-12:00"]],"rules":"请保持安静"}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create facility: %d %s", r.Status, snippet(r.Body))
		}
		var fac struct{ ID int64 }
		json.Unmarshal([]byte(r.Body), &fac)
		if r := resident.jsonCall("POST", "/api/v1/services/facilities", `{"community":"`+svcCommunity+`","name":"x","kind":"activity_room","capacity":1}`); r.Status != http.StatusForbidden {
			t.Fatalf("resident creating a facility: %d", r.Status)
		}
		r = staff.jsonCall("POST", "/api/v1/services/items", `{"community":"`+svcCommunity+`","code":"residence_proof","name":"居住证明","unit":"社区服务站",
			"limit_days":3,"materials":[{"code":"id_card","name":"身份证","required":true},{"code":"lease","name":"租房合同","required":true}]}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create item: %d %s", r.Status, snippet(r.Body))
		}
		var item struct{ ID int64 }
		json.Unmarshal([]byte(r.Body), &item)

		// Booking: the resident gets the slot; the grid worker is told it is taken.
		slot := nextTuesday10().Format(time.RFC3339)
		book := fmt.Sprintf(`{"facility":%d,"start":%q}`, fac.ID, slot)
		if r := resident.jsonCall("POST", "/api/v1/services/bookings", book); r.Status != http.StatusCreated {
			t.Fatalf("book: %d %s", r.Status, snippet(r.Body))
		}
		r = worker.jsonCall("POST", "/api/v1/services/bookings", book, "Accept-Language", "zh-CN")
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "已被预约满") {
			t.Fatalf("double booking: %d %s", r.Status, snippet(r.Body))
		}
		r = worker.jsonCall("POST", "/api/v1/services/bookings", book, "Accept-Language", "en")
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "already fully booked") {
			t.Fatalf("double booking (en): %d %s", r.Status, snippet(r.Body))
		}
		past := fmt.Sprintf(`{"facility":%d,"start":%q}`, fac.ID, nextTuesday10().AddDate(0, 0, -21).Format(time.RFC3339))
		if r := resident.jsonCall("POST", "/api/v1/services/bookings", past); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "已经过去") {
			t.Fatalf("booking in the past: %d %s", r.Status, snippet(r.Body))
		}
		page := resident.get(fmt.Sprintf("/services/facilities/%d?from=%s", fac.ID, nextTuesday10().Format("2006-01-02")))
		if page.Status != http.StatusOK || !strings.Contains(page.Text(), "请保持安静") || !strings.Contains(page.Text(), "已确认") {
			t.Fatalf("facility page: %d %s", page.Status, snippet(page.Body))
		}

		// Applying from a phone: a wrong file type is named; then a good one.
		pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
		fields := map[string]string{"item": fmt.Sprint(item.ID), "name": "张桂兰", "phone": "13812345678"}
		r = resident.multipartCall("/api/v1/services/applications", fields, map[string][]byte{"file.id_card": []byte("MZ\x90\x00 not a scan")})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "文件类型不支持") || !strings.Contains(r.Text(), "缺少必交材料：租房合同") {
			t.Fatalf("bad upload: %d %s", r.Status, snippet(r.Body))
		}
		r = resident.multipartCall("/api/v1/services/applications", fields, map[string][]byte{"file.id_card": pdf, "file.lease": pdf})
		if r.Status != http.StatusCreated {
			t.Fatalf("apply: %d %s", r.Status, snippet(r.Body))
		}
		var app struct {
			ID         int64
			Number     string
			ResidentID int64 `json:"resident_id"`
		}
		json.Unmarshal([]byte(r.Body), &app)
		// The demo resident's account is linked: they apply as their register
		// entry, and the phone they typed is never echoed in clear.
		if app.ResidentID == 0 || strings.Contains(r.Body, "13812345678") {
			t.Fatalf("a linked resident's application: %s", snippet(r.Body))
		}
		r = staff.jsonCall("POST", fmt.Sprintf("/api/v1/services/applications/%d/request_materials", app.ID), `{"materials":["lease"],"note":"合同须有房东签字"}`)
		if r.Status != http.StatusOK {
			t.Fatalf("ask for materials: %d %s", r.Status, snippet(r.Body))
		}
		anon := s.client(t)
		track := anon.get("/services/track?number=" + app.Number)
		if track.Status != http.StatusOK || !strings.Contains(track.Text(), "租房合同") || !strings.Contains(track.Text(), "合同须有房东签字") || strings.Contains(track.Text(), "张桂兰") {
			t.Fatalf("tracking page: %d %s", track.Status, snippet(track.Body))
		}
		if r := anon.get("/api/v1/services/applications"); r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous list: %d", r.Status)
		}

		// The same from the phone's HTML form: a refused form comes back
		// with the message; staff work the queue with the desk's forms.
		form := resident.multipartCall(fmt.Sprintf("/services/items/%d/apply", item.ID), fields, map[string][]byte{"file.id_card": pdf})
		if form.Status != http.StatusBadRequest || !strings.Contains(form.Text(), "缺少必交材料：租房合同") || !strings.Contains(form.Body, `id="apply-form"`) {
			t.Fatalf("apply form refused: %d %s", form.Status, snippet(form.Body))
		}
		form = resident.multipartCall(fmt.Sprintf("/services/items/%d/apply", item.ID), fields, map[string][]byte{"file.id_card": pdf, "file.lease": pdf})
		if form.Status != http.StatusSeeOther || !strings.HasPrefix(form.Location(), "/services/track?number=FW") {
			t.Fatalf("apply form: %d %s", form.Status, form.Location())
		}
		desk := staff.get("/services/desk")
		if desk.Status != http.StatusOK || !strings.Contains(desk.Text(), app.Number) {
			t.Fatalf("desk: %d %s", desk.Status, snippet(desk.Body))
		}
		step := staff.post(fmt.Sprintf("/services/applications/%d/step", app.ID), url.Values{"action": {"refuse"}})
		if step.Status != http.StatusBadRequest || !strings.Contains(step.Text(), "请填写理由") {
			t.Fatalf("refuse without reason: %d %s", step.Status, snippet(step.Body))
		}
		step = staff.post(fmt.Sprintf("/services/applications/%d/step", app.ID), url.Values{"action": {"refuse"}, "note": {"房屋不在本社区"}})
		if step.Status != http.StatusSeeOther {
			t.Fatalf("refuse: %d %s", step.Status, snippet(step.Body))
		}
		if tr := anon.get("/services/track?number=" + app.Number); !strings.Contains(tr.Text(), "房屋不在本社区") || !strings.Contains(tr.Text(), "不予办理") {
			t.Fatalf("refusal not shown to the applicant: %s", snippet(tr.Body))
		}

		// Providers: one without a service area is refused.
		r = staff.jsonCall("POST", "/api/v1/services/providers", `{"area":"`+svcCommunity+`","name":"家政","kind":"business","services":["home_care"],"capacity":3}`)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "服务范围") {
			t.Fatalf("provider without area: %d %s", r.Status, snippet(r.Body))
		}

		// The street's gap report, its chart and its Excel export.
		street := s.login(t, auth.StreetStaff)
		g := street.get("/services/gaps?street=" + svcStreet)
		if g.Status != http.StatusOK || !strings.Contains(g.Body, `id="chart-gaps"`) || !strings.Contains(g.Body, "/services/static/gaps.js") {
			t.Fatalf("gaps page: %d %s", g.Status, snippet(g.Body))
		}
		if js := anon.get("/services/static/gaps.js"); js.Status != http.StatusOK || !strings.Contains(js.Body, "echarts") {
			t.Fatalf("gaps.js: %d", js.Status)
		}
		x := street.get("/services/gaps.xlsx?street=" + svcStreet)
		if x.Status != http.StatusOK || !strings.HasPrefix(x.Body, "PK") {
			t.Fatalf("export: %d %s", x.Status, x.Header.Get("Content-Type"))
		}
		// Every role's desk page, the facility, tracking and gap pages, in
		// both languages, with no message key left untranslated.
		keyRE := rawKeyRE(t)
		pages := []string{"/services", fmt.Sprintf("/services/facilities/%d", fac.ID), "/services/track?number=" + app.Number,
			fmt.Sprintf("/services/items/%d/apply", item.ID), "/services/calendar?community=" + svcCommunity}
		for _, role := range auth.Roles {
			c := s.login(t, role)
			paths := pages
			if role == auth.StreetStaff || role == auth.Supervisor || role == auth.Admin {
				paths = append(paths, "/services/gaps?street="+svcStreet)
			}
			if role == auth.CommunityStaff || role == auth.StreetStaff || role == auth.Supervisor || role == auth.Admin {
				paths = append(paths, "/services/desk", fmt.Sprintf("/services/applications/%d", app.ID))
			}
			for _, path := range paths {
				for _, lang := range []string{"zh-CN", "en"} {
					sep := "?"
					if strings.Contains(path, "?") {
						sep = "&"
					}
					r := c.get(path + sep + "lang=" + lang)
					if r.Status != http.StatusOK {
						t.Errorf("%s as %s in %s: %d %s", path, role, lang, r.Status, snippet(r.Body))
					} else if keys := rawKeys(keyRE, r.Body); len(keys) > 0 {
						t.Errorf("%s as %s in %s shows message keys: %q", path, role, lang, keys)
					}
				}
			}
		}
		if r := resident.get("/services"); r.Status != http.StatusOK || !strings.Contains(r.Text(), "居住证明") || !strings.Contains(r.Text(), app.Number) {
			t.Fatalf("services page: %d %s", r.Status, snippet(r.Body))
		}
	})
}

// The staff pages of the desk, driven as a street office's staff work in
// the browser: plain forms that post, redirect with a notice, or come back
// with the messages in the visitor's language.
func TestServicesStaffPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		resident := s.login(t, auth.Resident)
		day := nextTuesday10().Format("2006-01-02")

		// Facilities: a refused form names what is wrong, in both languages.
		bad := url.Values{"community": {svcCommunity}, "name": {""}, "kind": {"activity_room"}, "capacity": {"20"}, "hours.2": {"9-12"}}
		r := staff.post("/services/facilities", bad, "Accept-Language", "zh-CN")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "请填写设施名称") || !strings.Contains(r.Text(), "格式不对") ||
			!strings.Contains(r.Body, `id="facility-form"`) {
			t.Fatalf("facility form refused (zh): %d %s", r.Status, snippet(r.Body))
		}
		if r := staff.post("/services/facilities", bad, "Accept-Language", "en"); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "Enter the facility's name") {
			t.Fatalf("facility form refused (en): %d %s", r.Status, snippet(r.Body))
		}
		form := url.Values{"community": {svcCommunity}, "name": {"长者日间照料中心"}, "kind": {"day_care"}, "capacity": {"25"}, "shared": {"1"},
			"slot_minutes": {"60"}, "needs_approval": {"1"}, "rules": {"请提前十分钟到场"}, "lon": {"121.445"}, "lat": {"37.47"}}
		for wd := range 7 {
			form.Set(fmt.Sprintf("hours.%d", wd), "08:00-11:00, 14:00-17:00")
		}
		form.Set("hours.0", "08:00 - 11:00；14:00-17:00") // as typed on a phone
		r = staff.post("/services/facilities", form)
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=facility_saved") {
			t.Fatalf("create facility: %d %s %s", r.Status, r.Location(), snippet(r.Body))
		}
		list := staff.page(r.Location())
		if list.Status != http.StatusOK || !strings.Contains(list.Text(), "长者日间照料中心") || !strings.Contains(list.Text(), "设施已保存") {
			t.Fatalf("facility list: %d %s", list.Status, snippet(list.Body))
		}
		var facs struct {
			Items []struct {
				ID       int64
				Name     string
				Capacity int
			}
		}
		json.Unmarshal([]byte(staff.get("/api/v1/services/facilities?community="+svcCommunity+"&limit=200").Body), &facs)
		var facID int64
		for _, f := range facs.Items {
			if f.Name == "长者日间照料中心" {
				facID = f.ID
			}
		}
		if facID == 0 {
			t.Fatalf("facility not in the API list: %+v", facs.Items)
		}
		edit := fmt.Sprintf("/services/facilities/%d/edit", facID)
		form.Set("capacity", "30")
		form.Set("active", "1")
		if r := staff.post(edit, form); r.Status != http.StatusSeeOther {
			t.Fatalf("edit facility: %d %s", r.Status, snippet(r.Body))
		}
		if p := staff.get(edit); p.Status != http.StatusOK || !strings.Contains(p.Body, `value="30"`) || !strings.Contains(p.Body, "08:00-11:00, 14:00-17:00") {
			t.Fatalf("edit page: %d %s", p.Status, snippet(p.Body))
		}

		// Closing a day, refusing a day in the past, opening it again.
		block := fmt.Sprintf("/services/facilities/%d/block", facID)
		if r := staff.post(block, url.Values{"day": {"2020-01-01"}, "reason": {"消毒"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "已经过去") {
			t.Fatalf("block a past day: %d %s", r.Status, snippet(r.Body))
		}
		r = staff.submit(block, url.Values{"day": {day}, "reason": {"全面消毒"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "全面消毒") || !strings.Contains(r.Body, `action="/services/facilities/`+fmt.Sprint(facID)+`/unblock"`) {
			t.Fatalf("block a day: %d %s", r.Status, snippet(r.Body))
		}
		if cal := staff.get(fmt.Sprintf("/services/facilities/%d?from=%s", facID, day)); !strings.Contains(cal.Text(), "全面消毒") {
			t.Fatalf("blocked day not on the calendar: %s", snippet(cal.Body))
		}
		r = staff.submit(fmt.Sprintf("/services/facilities/%d/unblock", facID), url.Values{"day": {day}})
		if r.Status != http.StatusOK || strings.Contains(r.Text(), "全面消毒") || !strings.Contains(r.Text(), "已恢复当天开放") {
			t.Fatalf("unblock: %d %s", r.Status, snippet(r.Body))
		}

		// The catalog: a new item with its materials, listed, then changed.
		item := url.Values{"community": {svcCommunity}, "code": {"elder_card"}, "name": {"老年证办理"}, "eligibility": {"本社区 60 周岁以上居民"},
			"min_age": {"60"}, "unit": {"社区服务站"}, "limit_days": {"5"}, "online": {"1"},
			"material_code": {"id_card", "photo", ""}, "material_name": {"身份证", "一寸照片", ""}, "material_required": {"0"}}
		r = staff.submit("/services/catalog", item)
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "老年证办理") || !strings.Contains(r.Text(), "服务事项已保存") {
			t.Fatalf("create item: %d %s", r.Status, snippet(r.Body))
		}
		bogus := url.Values{"community": {svcCommunity}, "code": {"Bad Code"}, "name": {"x"}, "unit": {""}}
		if r := staff.post("/services/catalog", bogus, "Accept-Language", "en"); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "Enter the handling unit") {
			t.Fatalf("item form refused: %d %s", r.Status, snippet(r.Body))
		}
		var items struct {
			Items []struct {
				ID        int64
				Code      string
				Materials []struct {
					Code     string
					Required bool
				}
			}
		}
		json.Unmarshal([]byte(staff.get("/api/v1/services/items?all=1&community="+svcCommunity).Body), &items)
		var itemID int64
		for _, it := range items.Items {
			if it.Code == "elder_card" {
				itemID = it.ID
				if len(it.Materials) != 2 || !it.Materials[0].Required || it.Materials[1].Required {
					t.Fatalf("materials as saved: %+v", it.Materials)
				}
			}
		}
		if itemID == 0 {
			t.Fatalf("item not saved: %+v", items.Items)
		}
		item.Set("name", "老年优待证")
		item.Set("active", "1")
		if r := staff.submit(fmt.Sprintf("/services/catalog/%d/edit", itemID), item); r.Status != http.StatusOK || !strings.Contains(r.Body, `value="老年优待证"`) {
			t.Fatalf("edit item: %d %s", r.Status, snippet(r.Body))
		}

		// Providers: refused without a service area, in both languages.
		prov := url.Values{"area": {svcCommunity}, "name": {"幸福助餐站"}, "kind": {"social_org"}, "services": {"meal_delivery", "home_care"}, "capacity": {"5"}}
		r = staff.post("/services/providers", prov, "Accept-Language", "zh-CN")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "请设定服务范围") || !strings.Contains(r.Body, `id="provider-form"`) {
			t.Fatalf("provider without a service area (zh): %d %s", r.Status, snippet(r.Body))
		}
		r = staff.post("/services/providers", prov, "Accept-Language", "en")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "Set a service area") {
			t.Fatalf("provider without a service area (en): %d %s", r.Status, snippet(r.Body))
		}
		prov.Set("lon", "121.446")
		prov.Set("lat", "37.471")
		prov.Set("radius_m", "2000")
		r = staff.submit("/services/providers", prov)
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "幸福助餐站") || !strings.Contains(r.Text(), "服务方已保存") {
			t.Fatalf("create provider: %d %s", r.Status, snippet(r.Body))
		}
		var provs struct {
			Items []struct {
				ID   int64
				Name string
			}
		}
		json.Unmarshal([]byte(staff.get("/api/v1/services/providers").Body), &provs)
		var provID int64
		for _, p := range provs.Items {
			if p.Name == "幸福助餐站" {
				provID = p.ID
			}
		}
		if provID == 0 {
			t.Fatalf("provider not saved: %+v", provs.Items)
		}
		prov.Set("capacity", "8")
		prov.Set("active", "1")
		if r := staff.submit(fmt.Sprintf("/services/providers/%d/edit", provID), prov); r.Status != http.StatusOK || !strings.Contains(r.Text(), "0 / 8") {
			t.Fatalf("edit provider: %d %s", r.Status, snippet(r.Body))
		}

		// Needs: recorded for a resident by register number; the provider is
		// proposed, matched, and the outcome recorded.
		var residents struct {
			Items []struct {
				ID   int64
				Name string
			}
		}
		json.Unmarshal([]byte(staff.get("/api/v1/registry/residents?limit=1").Body), &residents)
		if len(residents.Items) == 0 {
			t.Fatal("no resident in the demo register")
		}
		res := residents.Items[0]
		if r := staff.post("/services/needs", url.Values{"resident_id": {"999999999"}, "service": {"meal_delivery"}, "lon": {"121.445"}, "lat": {"37.47"}},
			"Accept-Language", "en"); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "no resident with register number 999999999") {
			t.Fatalf("need for an unknown resident: %d %s", r.Status, snippet(r.Body))
		}
		r = staff.post("/services/needs", url.Values{"resident_id": {fmt.Sprint(res.ID)}, "service": {"meal_delivery"}, "lon": {"121.445"},
			"lat": {"37.47"}, "note": {"行动不便，需每日午餐"}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/services/needs/") {
			t.Fatalf("record need: %d %s", r.Status, snippet(r.Body))
		}
		needPath, _, _ := strings.Cut(r.Location(), "?")
		page := staff.page(r.Location())
		if page.Status != http.StatusOK || !strings.Contains(page.Text(), res.Name) || !strings.Contains(page.Text(), "幸福助餐站") || !strings.Contains(page.Text(), "需求已登记") {
			t.Fatalf("need page: %d %s", page.Status, snippet(page.Body))
		}
		r = staff.submit(needPath+"/match", url.Values{"provider": {fmt.Sprint(provID)}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "已记录匹配") || !strings.Contains(r.Text(), "已匹配") {
			t.Fatalf("match: %d %s", r.Status, snippet(r.Body))
		}
		if again := staff.post(needPath+"/match", url.Values{"provider": {fmt.Sprint(provID)}}); again.Status != http.StatusConflict {
			t.Fatalf("matching a matched need: %d %s", again.Status, snippet(again.Body))
		}
		m := regexp.MustCompile(`action="(/services/matches/\d+/close)"`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no outcome form: %s", snippet(r.Body))
		}
		if r := staff.post(m[1], url.Values{"done": {"1"}, "outcome": {""}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "结果") {
			t.Fatalf("outcome missing: %d %s", r.Status, snippet(r.Body))
		}
		r = staff.submit(m[1], url.Values{"done": {"1"}, "outcome": {"已安排每日送餐上门"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "已安排每日送餐上门") || !strings.Contains(r.Text(), "已满足") {
			t.Fatalf("close match: %d %s", r.Status, snippet(r.Body))
		}
		if l := staff.get("/services/needs"); l.Status != http.StatusOK || !strings.Contains(l.Text(), res.Name) {
			t.Fatalf("needs list: %d %s", l.Status, snippet(l.Body))
		}

		// The desk links the staff pages.
		desk := staff.get("/services/desk")
		for _, href := range []string{`href="/services/facilities"`, `href="/services/catalog"`, `href="/services/providers"`, `href="/services/needs"`} {
			if !strings.Contains(desk.Body, href) {
				t.Errorf("desk lacks %s", href)
			}
		}

		// A resident is refused every staff page and form.
		for _, path := range []string{"/services/facilities", edit, "/services/catalog", fmt.Sprintf("/services/catalog/%d/edit", itemID),
			"/services/providers", fmt.Sprintf("/services/providers/%d/edit", provID), "/services/needs", needPath} {
			if r := resident.get(path); r.Status != http.StatusForbidden {
				t.Errorf("resident GET %s: %d", path, r.Status)
			}
		}
		for _, post := range []struct {
			path string
			form url.Values
		}{{"/services/facilities", form}, {edit, form}, {block, url.Values{"day": {day}, "reason": {"x"}}}, {"/services/catalog", item},
			{"/services/providers", prov}, {"/services/needs", url.Values{"resident_id": {fmt.Sprint(res.ID)}, "service": {"meal_delivery"}, "lon": {"121.445"}, "lat": {"37.47"}}}} {
			if r := resident.post(post.path, post.form); r.Status != http.StatusForbidden {
				t.Errorf("resident POST %s: %d %s", post.path, r.Status, snippet(r.Body))
			}
		}

		// Every staff page in both languages, with no message key left untranslated.
		keyRE := rawKeyRE(t)
		for _, path := range []string{"/services/desk", "/services/facilities", edit, "/services/catalog", fmt.Sprintf("/services/catalog/%d/edit", itemID),
			"/services/providers", fmt.Sprintf("/services/providers/%d/edit", provID), "/services/needs", needPath} {
			for _, lang := range []string{"zh-CN", "en"} {
				r := staff.get(path + "?lang=" + lang)
				if r.Status != http.StatusOK {
					t.Errorf("%s in %s: %d %s", path, lang, r.Status, snippet(r.Body))
				} else if keys := rawKeys(keyRE, r.Body); len(keys) > 0 {
					t.Errorf("%s in %s shows message keys: %q", path, lang, keys)
				}
			}
		}
	})
}
