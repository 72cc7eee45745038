package app

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/auth"
)

// upload posts a GeoJSON file to the admin import form, as a browser does.
func (c *client) upload(path string, fields map[string]string, filename, content string) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write([]byte(content))
	mw.Close()
	h := http.Header{"Content-Type": {mw.FormDataContentType()}}
	return c.do(c.request(http.MethodPost, path, &body, h), false)
}

var confirmRE = regexp.MustCompile(`action="(/admin/areas/import/[0-9a-f]+)"`)

// An administrator imports grids from a file: preview, confirm, then the
// new grid answers lookups and shows on its community's page.
func TestE2EImportGridsWithPreview(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		// 黄海社区 (370613001002) is the block west 121.433, south 37.479 in the demo.
		file := `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{"name":"新网格"},"geometry":{"type":"Polygon","coordinates":[[[121.4331,37.4791],[121.4339,37.4791],[121.4339,37.4799],[121.4331,37.4799],[121.4331,37.4791]]]}}]}`
		// The demo grids already cover the community: the new one overlaps.
		r := admin.upload("/admin/areas/import", map[string]string{"level": "grid", "parent": "370613001002"}, "new.geojson", file)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "重叠") || !strings.Contains(r.Text(), "#1 «新网格»") {
			t.Fatalf("overlapping import: status %d: %s", r.Status, snippet(r.Body))
		}
		// A new community block east of the demo street, with no grids yet.
		mustCreate := admin.submit("/admin/areas", url.Values{"level": {"community"}, "code": {"370613001099"},
			"name": {"试点社区"}, "parent": {"370613001"}})
		if mustCreate.Status != http.StatusOK || !strings.Contains(mustCreate.Text(), "370613001099") {
			t.Fatalf("creating a community: %d %s", mustCreate.Status, snippet(mustCreate.Body))
		}
		file = strings.ReplaceAll(file, "121.433", "121.533")
		r = admin.upload("/admin/areas/import", map[string]string{"level": "grid", "parent": "370613001099"}, "new.geojson", file)
		m := confirmRE.FindStringSubmatch(r.Body)
		if r.Status != http.StatusOK || m == nil || !strings.Contains(r.Text(), "370613001099001") {
			t.Fatalf("preview: %d %s", r.Status, snippet(r.Body))
		}
		// Nothing is imported before the confirmation.
		if got := admin.get("/api/v1/locate?lat=37.4795&lon=121.5335"); !strings.Contains(got.Body, `"found":false`) {
			t.Fatalf("the preview imported already: %s", got.Body)
		}
		if r = admin.post(m[1], nil); r.Status != http.StatusOK || !strings.Contains(r.Text(), "已导入 1 个要素") {
			t.Fatalf("confirm: %d %s", r.Status, snippet(r.Body))
		}
		var ans struct {
			Found bool
			Grid  struct{ Code, Name string }
		}
		got := admin.get("/api/v1/locate?lat=37.4795&lon=121.5335")
		if err := json.Unmarshal([]byte(got.Body), &ans); err != nil || !ans.Found || ans.Grid.Code != "370613001099001" {
			t.Fatalf("locate after the import: %s", got.Body)
		}
		if again := admin.post(m[1], nil); again.Status != http.StatusNotFound {
			t.Fatalf("confirming twice: %d", again.Status)
		}
		// Staff cannot import.
		if r := s.login(t, auth.CommunityStaff).upload("/admin/areas/import", map[string]string{"parent": "370613001001"}, "x.geojson", file); r.Status != http.StatusForbidden {
			t.Fatalf("community staff importing: %d", r.Status)
		}
	})
}

// Lookups take the coordinates of Chinese map SDKs and refuse nonsense.
func TestE2ELocate(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		c := s.login(t, auth.Resident)
		type answer struct {
			Found     bool
			Grid      struct{ Code string }
			Community struct{ Code string }
			Message   string
		}
		get := func(q string) (answer, response) {
			r := c.get("/api/v1/locate?" + q)
			var a answer
			json.Unmarshal([]byte(r.Body), &a)
			return a, r
		}
		// A WGS84 point in the first demo grid (岱山社区第一网格).
		if a, r := get("lat=37.4825&lon=121.4265"); !a.Found || a.Grid.Code != "370613001001001" || a.Community.Code != "370613001001" {
			t.Fatalf("wgs84: %s", r.Body)
		}
		// The same place as 高德 (GCJ-02) and 百度 (BD-09) would give it.
		for q, why := range map[string]string{
			"lat=37.48138&lon=121.43159&coord=gcj02": "GCJ-02 is about 500 m off WGS84 here",
			"lat=37.48752&lon=121.43808&coord=bd09":  "BD-09 adds Baidu's offset on top",
		} {
			if a, r := get(q); !a.Found || a.Grid.Code != "370613001001001" {
				t.Errorf("%s (%s): %s", q, why, r.Body)
			}
		}
		if a, r := get("lat=39.9&lon=116.4"); a.Found || !strings.Contains(a.Message, "不在任何网格内") {
			t.Fatalf("Beijing: %s", r.Body)
		}
		for _, bad := range []string{"lat=91&lon=121", "lat=37&lon=abc", "lat=37.48&lon=121.43&coord=mercator", "lon=121"} {
			if _, r := get(bad); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"code":"invalid"`) {
				t.Errorf("%s: %d %s", bad, r.Status, r.Body)
			}
		}
		if r := s.client(t).get("/api/v1/locate?lat=37.4825&lon=121.4265"); r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous lookup: %d", r.Status)
		}
	})
}

// Community staff assign a grid worker from the grid's page; the worker
// then sees the grid.
func TestE2EAssignGridWorker(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		grid := "/areas/370613001001002"
		r := staff.submit(grid+"/members", url.Values{"name": {s.Accounts[auth.Resident].Name}, "duty": {"member"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text(), "居民 张桂兰") {
			t.Fatalf("assign: %d %s", r.Status, snippet(r.Body))
		}
		if r := staff.post(grid+"/members", url.Values{"name": {"nobody"}, "duty": {"member"}}); r.Status != http.StatusNotFound ||
			!strings.Contains(r.Text(), "nobody") {
			t.Fatalf("unknown user: %d %s", r.Status, snippet(r.Body))
		}
		worker := s.login(t, auth.Resident)
		if r := worker.get(grid); r.Status != http.StatusOK {
			t.Fatalf("the new worker cannot open the grid: %d", r.Status)
		}
		if r := s.login(t, auth.GridWorker).post(grid+"/members", url.Values{"name": {"resident"}, "duty": {"leader"}}); r.Status != http.StatusForbidden {
			t.Fatalf("a grid worker assigning: %d", r.Status)
		}
		if r := staff.get("/api/v1/areas/370613001001/geojson"); r.Status != http.StatusOK || strings.Count(r.Body, `"level":"grid"`) != 3 {
			t.Fatalf("export of the community: %d, %d grids", r.Status, strings.Count(r.Body, `"level":"grid"`))
		}
	})
}
