package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
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
