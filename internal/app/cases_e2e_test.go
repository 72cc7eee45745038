package app

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/auth"
)

// pngBytes is a small real photo.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postMultipart sends a form with files, as the report page does.
func (c *client) postMultipart(path string, fields url.Values, files map[string][]byte) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, _ := mw.CreateFormFile("photos", name)
		fw.Write(data)
	}
	mw.Close()
	return c.do(c.request(http.MethodPost, path, &body, http.Header{"Content-Type": {mw.FormDataContentType()}}), false)
}

var (
	trackRE  = regexp.MustCompile(`href="(/t/[A-Za-z0-9_-]+)"`)
	numberRE = regexp.MustCompile(`id="case-number">(\d+)<`)
)

// A resident reports from the phone page with a photo and follows the
// case by the private link while staff, the unit and a grid worker move it
// through the loop; then the resident rates it.
func TestE2EResidentReportThroughTheLoop(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		resident := s.client(t) // no account
		if r := resident.get("/report"); r.Status != http.StatusOK || !strings.Contains(r.Text(), "暴露垃圾") {
			t.Fatalf("report page: %d", r.Status)
		}
		r := resident.postMultipart("/report", url.Values{"category": {"E0101"}, "description": {"楼下垃圾<script>alert(1)</script>堆了两天"},
			"lat": {"37.4830"}, "lon": {"121.4262"}, "coord": {"wgs84"}, "phone": {"13912345678"}},
			map[string][]byte{"rubbish.png": pngBytes(t)})
		track, number := trackRE.FindStringSubmatch(r.Body), numberRE.FindStringSubmatch(r.Body)
		if r.Status != http.StatusOK || track == nil || number == nil || !strings.Contains(r.Text(), "岱山社区第一网格") {
			t.Fatalf("report: %d %s", r.Status, snippet(r.Body))
		}
		n := number[1]
		staff := s.login(t, auth.CommunityStaff)
		page := staff.get("/cases/" + n)
		if page.Status != http.StatusOK || strings.Contains(page.Body, "<script>alert(1)") || !strings.Contains(page.Body, "&lt;script&gt;") {
			t.Fatalf("the case page must show the description as text: %d", page.Status)
		}
		if !strings.Contains(page.Body, "139****5678") || strings.Contains(page.Body, "13912345678") {
			t.Fatal("the reporter's phone is not masked on the case page")
		}
		if !strings.Contains(page.Body, "rubbish.png") {
			t.Fatal("the photo is not on the timeline")
		}
		move := func(c *client, action string, extra url.Values) {
			t.Helper()
			f := url.Values{"action": {action}}
			for k, v := range extra {
				f[k] = v
			}
			if r := c.post("/cases/"+n+"/act", f); r.Status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", action, r.Status, snippet(r.Body))
			}
		}
		move(staff, "accept", nil)
		move(staff, "dispatch", url.Values{"unit": {"hhl-cgk"}})
		handler := s.login(t, auth.DepartmentHandler)
		move(handler, "receive", nil)
		move(handler, "feedback", url.Values{"note": {"已清运"}})
		// A stale form (the version it was drawn with) is refused clearly.
		if r := staff.post("/cases/"+n+"/act", url.Values{"action": {"verify_pass"}, "version": {"1"}}); r.Status != http.StatusConflict ||
			!strings.Contains(r.Text(), "刚被别人办理过") {
			t.Fatalf("a stale form: %d %s", r.Status, snippet(r.Body))
		}
		move(s.login(t, auth.GridWorker), "verify_pass", nil)
		move(staff, "callback", url.Values{"contacted": {"1"}, "solved": {"1"}, "satisfaction": {"satisfied"}})

		tr := resident.get(track[1])
		if tr.Status != http.StatusOK || !strings.Contains(tr.Text(), "已结案") || !strings.Contains(tr.Body, `id="rate-form"`) {
			t.Fatalf("tracking page: %d %s", tr.Status, snippet(tr.Body))
		}
		if r := resident.post(track[1]+"/rate", url.Values{"satisfaction": {"satisfied"}, "comment": {"很快"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("rating: %d %s", r.Status, snippet(r.Body))
		}
		if r := resident.post(track[1]+"/rate", url.Values{"satisfaction": {"satisfied"}}); r.Status != http.StatusConflict {
			t.Fatalf("rating twice: %d", r.Status)
		}
		if r := resident.get("/t/not-a-real-link"); r.Status != http.StatusNotFound {
			t.Fatalf("a forged link: %d", r.Status)
		}
		// The dashboard counts it.
		if r := staff.get("/dashboard"); r.Status != http.StatusOK || !strings.Contains(r.Body, "<td>100.0%</td>") {
			t.Fatalf("dashboard: %d", r.Status)
		}
	})
}

// The intake API takes a JSON report without an account; bad reports are
// refused field by field and leave nothing behind.
func TestE2EIntakeAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		c := s.client(t)
		post := func(body string) response {
			return c.do(c.request(http.MethodPost, "/api/v1/cases", strings.NewReader(body),
				http.Header{"Content-Type": {"application/json"}}), false)
		}
		r := post(`{"category":"C0201","description":"路灯不亮","lat":37.4815,"lon":121.428}`)
		var ok struct {
			Receipt struct {
				Number string
				Token  string
				Grid   struct{ Code string }
			}
		}
		if err := json.Unmarshal([]byte(r.Body), &ok); r.Status != http.StatusCreated || err != nil || ok.Receipt.Grid.Code == "" || ok.Receipt.Token == "" {
			t.Fatalf("intake: %d %s", r.Status, r.Body)
		}
		// Outside every grid: accepted, flagged for routing.
		if r := post(`{"category":"C0201","description":"路灯不亮","lat":39.9,"lon":116.4}`); r.Status != http.StatusCreated ||
			!strings.Contains(r.Body, `"needs_routing":true`) {
			t.Fatalf("outside every grid: %d %s", r.Status, r.Body)
		}
		for _, bad := range []struct{ body, field string }{
			{`{"category":"nope","description":"x"}`, "category"},
			{`{"category":"C0201","description":""}`, "description"},
			{`{"category":"C0201","description":"x","lat":37.48}`, "location"},
			{`{"category":"C0201","description":"x","phone":"123"}`, "phone"},
			{`{"category":"C0201","description":"` + strings.Repeat("长", 4001) + `"}`, "description"},
			{`{"category":"C0201","description":"x","channel":"hotline"}`, ""},
		} {
			r := post(bad.body)
			if r.Status < 400 || (bad.field != "" && !strings.Contains(r.Body, `"field":"`+bad.field+`"`)) {
				t.Errorf("%.60s: %d %s", bad.body, r.Status, r.Body)
			}
		}
		staff := s.login(t, auth.Admin)
		list := staff.get("/api/v1/cases?state=reported&limit=100")
		var page struct{ Items []struct{ Number string } }
		json.Unmarshal([]byte(list.Body), &page)
		if len(page.Items) != 3 { // the demo's one reported case and the two above
			t.Fatalf("reported cases after the refused ones: %d (%s)", len(page.Items), snippet(list.Body))
		}
		// Someone who may not read cases learns nothing, not even that it exists.
		if r := s.login(t, auth.Resident).get("/api/v1/cases/" + ok.Receipt.Number); r.Status != http.StatusNotFound ||
			!strings.Contains(r.Body, "不在您的负责范围内") {
			t.Fatalf("a resident reading the staff API: %d %s", r.Status, r.Body)
		}
	})
}
