package app

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/volunteer"
)

// The volunteer module end to end, over HTTP on the demo street: a
// resident registers as a volunteer, community staff verify them and run
// an activity, the resident checks in by the activity's code, the hours
// are confirmed, and a proof of service is verified by anyone; each role
// reaches only what the permission matrix gives it.

// volunteerCommunity is the demo community of the community staff and the
// resident account (岱山社区); its first grid is workerGrid.
const volunteerCommunity = "370613001001"

// decodeInto reads a JSON answer, failing the test on a wrong status.
func decodeInto(t *testing.T, r response, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, snippet(r.Body))
	}
	if v != nil {
		if err := json.Unmarshal([]byte(r.Body), v); err != nil {
			t.Fatalf("decoding %s: %v", snippet(r.Body), err)
		}
	}
}

// linkedResident is the register entry the demo links the demo resident
// account to, with the ID number in clear, as staff at the desk reveal it
// (with a reason) to check a volunteer's papers.
func linkedResident(t *testing.T, s *testServer, staff *client) (name, idNumber string) {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := s.App.DB.Q(ctx).QueryRowContext(ctx, `SELECT r.id, r.name FROM registry_resident_users u
		JOIN registry_residents r ON r.id = u.resident_id JOIN users a ON a.id = u.user_id WHERE a.name = $1`,
		s.Accounts[auth.Resident].Name).Scan(&id, &name)
	if err != nil {
		t.Fatalf("the demo resident account is not linked: %v", err)
	}
	var clear struct {
		IDNumber string `json:"id_number"`
	}
	decodeInto(t, staff.jsonCall("POST", fmt.Sprintf("/api/v1/registry/residents/%d/reveal", id), `{"reason":"核对志愿者证件"}`),
		http.StatusOK, &clear)
	return name, clear.IDNumber
}

func TestVolunteerEndToEnd(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		resident := s.login(t, auth.Resident)
		anonymous := s.client(t)
		name, idNumber := linkedResident(t, s, staff)

		// The resident registers; a wrong ID number is refused in both languages.
		r := resident.jsonCall("POST", "/api/v1/volunteer/me", `{"id_number":"370613199001011234","phone":"13900009977"}`)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "证件号码") {
			t.Fatalf("bad ID number: %d %s", r.Status, snippet(r.Body))
		}
		r = resident.jsonCall("POST", "/api/v1/volunteer/me", `{"id_number":"370613199001011234","phone":"13900009977"}`, "Accept-Language", "en")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "ID number") {
			t.Fatalf("bad ID number in English: %d %s", r.Status, snippet(r.Body))
		}
		var v struct {
			ID       int64  `json:"id"`
			Number   string `json:"number"`
			Status   string `json:"status"`
			IDNumber string `json:"id_number"`
			Minutes  int    `json:"minutes"`
		}
		decodeInto(t, resident.jsonCall("POST", "/api/v1/volunteer/me",
			fmt.Sprintf(`{"id_number":%q,"phone":"13900009977","skills":["陪伴，理发"],"availability":"周末"}`, idNumber)), http.StatusCreated, &v)
		if v.Status != "pending" || strings.Contains(r.Body, idNumber) || !maskedIDRE.MatchString(v.IDNumber) {
			t.Fatalf("registered: %+v", v)
		}

		// Only community staff (and admins) verify.
		for _, role := range []auth.Role{auth.Resident, auth.GridWorker, auth.StreetStaff, auth.Supervisor} {
			c := resident
			if role != auth.Resident {
				c = s.login(t, role)
			}
			if r := c.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/volunteers/%d/verify", v.ID), `{"status":"verified"}`); r.Status != http.StatusForbidden {
				t.Fatalf("%s verifies: %d %s", role, r.Status, snippet(r.Body))
			}
		}
		decodeInto(t, staff.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/volunteers/%d/verify", v.ID), `{"status":"verified"}`), http.StatusOK, &v)
		// The grid worker of the resident's grid sees them, masked; the other community's staff do not.
		if r := s.login(t, auth.GridWorker).get("/api/v1/volunteer/volunteers"); !strings.Contains(r.Body, v.Number) || strings.Contains(r.Body, idNumber) {
			t.Fatalf("grid worker's list: %s", snippet(r.Body))
		}

		// The community's party organisation issues proofs (the demo may
		// have seeded it already: one per community).
		r = staff.jsonCall("POST", "/api/v1/volunteer/orgs",
			fmt.Sprintf(`{"community":%q,"name":"岱山社区党委","kind":"party","status":"registered","leader":"王芳"}`, volunteerCommunity))
		if r.Status != http.StatusCreated && r.Status != http.StatusConflict {
			t.Fatalf("party organisation: %d %s", r.Status, snippet(r.Body))
		}

		// An activity running now; bad input is refused field by field.
		now := time.Now()
		activity := func(slots int) string {
			return fmt.Sprintf(`{"community":%q,"title":"助老理发","kind":"elder_care","place":"岱山社区党群服务中心","lon":121.4265,"lat":37.4825,
				"starts_at":%q,"ends_at":%q,"slots":%d}`, volunteerCommunity, now.Add(-10*time.Minute).Format(time.RFC3339),
				now.Add(2*time.Hour).Format(time.RFC3339), slots)
		}
		r = staff.jsonCall("POST", "/api/v1/volunteer/activities", activity(0))
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"field":"slots"`) || !strings.Contains(r.Body, "名额") {
			t.Fatalf("no places: %d %s", r.Status, snippet(r.Body))
		}
		for _, role := range []auth.Role{auth.GridWorker, auth.DepartmentHandler, auth.Overseer} {
			if r := s.login(t, role).jsonCall("POST", "/api/v1/volunteer/activities", activity(5)); r.Status != http.StatusForbidden {
				t.Fatalf("%s publishes: %d", role, r.Status)
			}
		}
		var x struct {
			ID int64 `json:"id"`
		}
		decodeInto(t, staff.jsonCall("POST", "/api/v1/volunteer/activities", activity(5)), http.StatusCreated, &x)

		// Sign up, confirm, check in by the code on the phone.
		var g struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		decodeInto(t, resident.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/activities/%d/signups", x.ID), ""), http.StatusCreated, &g)
		decodeInto(t, staff.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/signups/%d/confirm", g.ID), ""), http.StatusOK, &g)
		var tok struct {
			Code string `json:"code"`
		}
		decodeInto(t, staff.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/activities/%d/token", x.ID), ""), http.StatusOK, &tok)
		if r := resident.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/activities/%d/token", x.ID), ""); r.Status != http.StatusForbidden {
			t.Fatalf("a resident makes a code: %d", r.Status)
		}
		forged := tok.Code[:strings.LastIndex(tok.Code, ".")+1] + strings.Repeat("a", 32)
		r = resident.jsonCall("POST", "/api/v1/volunteer/checkin", fmt.Sprintf(`{"code":%q,"lon":121.4265,"lat":37.4825}`, forged))
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "签到码无效") {
			t.Fatalf("forged code: %d %s", r.Status, snippet(r.Body))
		}
		r = resident.jsonCall("POST", "/api/v1/volunteer/checkin", fmt.Sprintf(`{"code":%q,"lon":121.4265,"lat":37.50}`, tok.Code))
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "超过允许的 500 米") {
			t.Fatalf("far away: %d %s", r.Status, snippet(r.Body))
		}
		page := resident.get("/volunteer/checkin?code=" + url.QueryEscape(tok.Code))
		if page.Status != http.StatusOK || !strings.Contains(page.Body, `src="/volunteer/checkin.js"`) {
			t.Fatalf("check-in page: %d %s", page.Status, snippet(page.Body))
		}
		r = resident.post("/volunteer/checkin", url.Values{"code": {tok.Code}, "lon": {"121.4266"}, "lat": {"37.4826"}, "dir": {"in"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="checked"`) {
			t.Fatalf("check-in: %d %s", r.Status, snippet(r.Body))
		}

		// The organiser confirms the hours; a volunteer cannot.
		if r := resident.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/signups/%d/credit", g.ID), `{"minutes":90}`); r.Status != http.StatusForbidden {
			t.Fatalf("self-credit: %d", r.Status)
		}
		r = staff.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/signups/%d/credit", g.ID), `{"minutes":600}`)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "1 到 120 分钟") {
			t.Fatalf("absurd minutes: %d %s", r.Status, snippet(r.Body))
		}
		decodeInto(t, staff.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/signups/%d/credit", g.ID), `{"minutes":90}`), http.StatusOK, &g)
		decodeInto(t, resident.get("/api/v1/volunteer/me"), http.StatusOK, &v)
		if g.Status != "credited" || v.Minutes != 90 {
			t.Fatalf("after credit: signup %+v, volunteer %+v", g, v)
		}

		// A proof, printed by the volunteer, verified by anyone.
		r = resident.post("/volunteer/proofs", url.Values{})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/volunteer/proofs/VP") {
			t.Fatalf("proof: %d %s %s", r.Status, r.Location(), snippet(r.Body))
		}
		number := strings.TrimPrefix(r.Location(), "/volunteer/proofs/")
		printed := resident.get(r.Location())
		if printed.Status != http.StatusOK || !strings.Contains(printed.Text(), name) || !maskedIDRE.MatchString(printed.Body) ||
			regexp.MustCompile(clearIDText).MatchString(printed.Body) || !strings.Contains(printed.Text(), "王芳") {
			t.Fatalf("printed proof: %d %s", printed.Status, snippet(printed.Body))
		}
		if r := s.login(t, auth.GridWorker).get(r.Location()); r.Status != http.StatusOK {
			t.Fatalf("grid worker of the grid reads the proof: %d", r.Status)
		}
		if r := anonymous.get("/volunteer/proofs/" + number); r.Status == http.StatusOK {
			t.Fatalf("printable proof without login: %d", r.Status)
		}
		verified := anonymous.get("/volunteer/verify?number=" + number)
		if verified.Status != http.StatusOK || !strings.Contains(verified.Body, `id="verified"`) || !strings.Contains(verified.Text(), crypto.MaskName(name)) ||
			strings.Contains(verified.Text(), name) || !strings.Contains(verified.Body, "1.5") {
			t.Fatalf("public verification: %d %s", verified.Status, snippet(verified.Body))
		}
		if r := anonymous.get("/volunteer/verify?number=VP20200101AAAAAA"); !strings.Contains(r.Body, `id="not-found"`) {
			t.Fatalf("unknown proof: %s", snippet(r.Body))
		}
		if r := anonymous.get("/api/v1/volunteer/proofs/" + number); r.Status != http.StatusOK || strings.Contains(r.Body, name) {
			t.Fatalf("proof API: %d %s", r.Status, snippet(r.Body))
		}

		// The public calendar needs no login.
		if r := anonymous.get("/volunteer/calendar/" + volunteerCommunity); r.Status != http.StatusOK || !strings.Contains(r.Text(), "助老理发") {
			t.Fatalf("calendar: %d %s", r.Status, snippet(r.Body))
		}
		volunteerPagesTranslated(t, s, staff, resident, x.ID)
		volunteerRoles(t, s, v.ID)
	})
}

// volunteerPagesTranslated checks that the pages render in both languages
// with no message key left untranslated.
func volunteerPagesTranslated(t *testing.T, s *testServer, staff, resident *client, activityID int64) {
	t.Helper()
	re := rawKeyRE(t)
	for _, lang := range []string{"zh-CN", "en"} {
		for _, c := range []struct {
			who  *client
			path string
		}{
			{staff, "/volunteer"}, {resident, "/volunteer"}, {staff, fmt.Sprintf("/volunteer/activities/%d", activityID)},
			{resident, fmt.Sprintf("/volunteer/activities/%d", activityID)}, {staff, "/volunteer/report"},
			{s.client(t), "/volunteer/calendar/" + volunteerCommunity}, {s.client(t), "/volunteer/verify"},
		} {
			r := c.who.get(c.path + "?lang=" + lang)
			if r.Status != http.StatusOK {
				t.Fatalf("%s (%s): %d %s", c.path, lang, r.Status, snippet(r.Body))
			}
			if keys := rawKeys(re, r.Body); len(keys) > 0 {
				t.Errorf("%s (%s) shows message keys: %v", c.path, lang, keys)
			}
		}
	}
	if r := staff.get("/api/v1/volunteer/report.xlsx"); r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "PK") {
		t.Fatalf("xlsx export: %d", r.Status)
	}
}

// volunteerRoles probes the API role by role.
func volunteerRoles(t *testing.T, s *testServer, volunteerID int64) {
	t.Helper()
	readers := []auth.Role{auth.GridWorker, auth.CommunityStaff, auth.StreetStaff, auth.Supervisor, auth.Admin}
	managers := []auth.Role{auth.CommunityStaff, auth.Admin}
	probes := []struct {
		method, path, body string
		allowed            []auth.Role
	}{
		{"GET", "/api/v1/volunteer/volunteers", "", readers},
		{"GET", "/api/v1/volunteer/orgs", "", readers},
		{"GET", "/api/v1/volunteer/gaps", "", readers},
		{"GET", "/api/v1/volunteer/report", "", readers},
		{"GET", fmt.Sprintf("/api/v1/volunteer/volunteers/%d/hours", volunteerID), "", append(readers, auth.Resident)}, // the resident is this volunteer
		{"POST", fmt.Sprintf("/api/v1/volunteer/volunteers/%d/hours", volunteerID), `{"amount":30,"reason":"补录"}`, managers},
		{"POST", "/api/v1/volunteer/rewards", fmt.Sprintf(`{"community":%q,"name":"香皂","cost":15,"stock":3}`, volunteerCommunity), managers},
		{"POST", "/api/v1/volunteer/teams", fmt.Sprintf(`{"community":%q,"name":"队伍%%s","brand":"邻里守望"}`, volunteerCommunity), managers},
	}
	for _, role := range []auth.Role{auth.Resident, auth.GridWorker, auth.CommunityStaff, auth.StreetStaff, auth.DepartmentHandler,
		auth.Supervisor, auth.Overseer, auth.Admin} {
		c := s.login(t, role)
		for _, p := range probes {
			body := strings.ReplaceAll(p.body, "%s", string(role))
			r := c.jsonCall(p.method, p.path, body)
			ok := false
			for _, a := range p.allowed {
				ok = ok || a == role
			}
			if ok && (r.Status == http.StatusForbidden || r.Status >= 500) {
				t.Errorf("%s %s %s: %d, want allowed: %s", role, p.method, p.path, r.Status, snippet(r.Body))
			}
			if !ok && r.Status != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", role, p.method, p.path, r.Status)
			}
		}
	}
	if r := s.client(t).get("/api/v1/volunteer/volunteers"); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous list: %d, want 401", r.Status)
	}
}

// TestVolunteerStaffForms drives the staff pages as a browser would: the
// check-in QR code, an organisation and a team made through the forms,
// an activity cancelled; a resident is refused every staff form.
func TestVolunteerStaffForms(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		resident := s.login(t, auth.Resident)
		now := time.Now()
		var x struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		decodeInto(t, staff.jsonCall("POST", "/api/v1/volunteer/activities", fmt.Sprintf(`{"community":%q,"title":"社区义诊","kind":"health",
			"place":"岱山社区卫生室","lon":121.4265,"lat":37.4825,"starts_at":%q,"ends_at":%q,"slots":3}`, volunteerCommunity,
			now.Add(-10*time.Minute).Format(time.RFC3339), now.Add(2*time.Hour).Format(time.RFC3339))), http.StatusCreated, &x)
		activityPath := fmt.Sprintf("/volunteer/activities/%d", x.ID)

		// The QR code: on the page, with the link below it; a PNG of the link.
		linkRE := regexp.MustCompile(`id="checkin-url">([^<]+)</code>`)
		linkOn := func() string {
			page := staff.get(activityPath)
			m := linkRE.FindStringSubmatch(page.Body)
			if page.Status != http.StatusOK || m == nil || !strings.Contains(page.Body, `src="`+activityPath+`/qr.png"`) {
				t.Fatalf("activity page without the QR code: %d %s", page.Status, snippet(page.Body))
			}
			return html.UnescapeString(m[1])
		}
		before := linkOn()
		qr := staff.get(activityPath + "/qr.png")
		after := linkOn()
		if qr.Status != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" || qr.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("qr.png: %d %v", qr.Status, qr.Header)
		}
		img, err := png.Decode(strings.NewReader(qr.Body))
		if err != nil {
			t.Fatalf("qr.png does not decode: %v", err)
		}
		if b := img.Bounds(); b.Dx() != volunteer.QRSize || b.Dy() != volunteer.QRSize {
			t.Fatalf("qr.png is %v", b)
		}
		if !strings.HasPrefix(before, s.URL+"/volunteer/checkin?code=") {
			t.Fatalf("check-in link %q is not an absolute link to the check-in page", before)
		}
		matched := false
		for _, link := range []string{before, after} {
			want, err := volunteer.QR(link)
			if err != nil {
				t.Fatal(err)
			}
			matched = matched || string(want) == qr.Body
		}
		if !matched {
			t.Fatalf("qr.png does not encode the check-in link %q", before)
		}
		if r := resident.get(activityPath + "/qr.png"); r.Status != http.StatusForbidden {
			t.Fatalf("a resident gets the QR code: %d", r.Status)
		}
		if r := s.login(t, auth.GridWorker).get(activityPath + "/qr.png"); r.Status != http.StatusForbidden {
			t.Fatalf("a grid worker gets the QR code: %d", r.Status)
		}

		// An organisation through the forms: bad input is shown field by
		// field in both languages, then it is made, edited, given a member
		// and a review.
		r := staff.post("/volunteer/orgs", url.Values{"community": {volunteerCommunity}, "name": {""}, "kind": {"charity"}})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `id="form-error"`) || !strings.Contains(r.Text(), "组织名称") {
			t.Fatalf("org without a name: %d %s", r.Status, snippet(r.Body))
		}
		r = staff.post("/volunteer/orgs", url.Values{"community": {volunteerCommunity}, "name": {""}, "kind": {"charity"}}, "Accept-Language", "en")
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text(), "organisation") {
			t.Fatalf("org without a name in English: %d %s", r.Status, snippet(r.Body))
		}
		r = staff.post("/volunteer/orgs", url.Values{"community": {volunteerCommunity}, "name": {"岱山爱心驿站"}, "kind": {"charity"},
			"status": {"incubating"}, "leader": {"李明"}, "contact": {"13900001234"}, "founded": {"2024-03-01"}})
		orgRE := regexp.MustCompile(`^/volunteer/orgs/(\d+)\?done=saved$`)
		m := orgRE.FindStringSubmatch(r.Location())
		if r.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("new org: %d %q %s", r.Status, r.Location(), snippet(r.Body))
		}
		orgPath := "/volunteer/orgs/" + m[1]
		page := staff.page(r.Location())
		has(t, orgPath, page, "岱山爱心驿站", "慈善救助", "培育中", `id="notice"`)
		lacks(t, orgPath, page, "13900001234")
		page = staff.submit(orgPath, url.Values{"name": {"岱山爱心驿站"}, "kind": {"charity"}, "status": {"filed"}, "leader": {"李明"}})
		has(t, orgPath, page, "已备案")
		page = staff.submit(orgPath+"/members", url.Values{"name": {"赵敏"}, "role": {"member"}, "commitment": {"每月助老一次"}})
		has(t, orgPath, page, "赵敏", "每月助老一次")
		page = staff.submit(orgPath+"/reviews", url.Values{"year": {fmt.Sprint(now.Year())}, "result": {"qualified"}})
		has(t, orgPath, page, "合格")
		if r := staff.post(orgPath+"/reviews", url.Values{"year": {fmt.Sprint(now.Year())}, "result": {"excellent"}}); r.Status != http.StatusBadRequest {
			t.Fatalf("second review of the year: %d", r.Status)
		}
		if r := staff.page("/volunteer/orgs?community=" + volunteerCommunity); !strings.Contains(r.Text(), "岱山爱心驿站") {
			t.Fatalf("org list of the community: %d %s", r.Status, snippet(r.Body))
		}

		// A team with its service brand.
		r = staff.post("/volunteer/teams", url.Values{"community": {volunteerCommunity}, "name": {"银发助老队"}, "brand": {"邻里守望"}, "org_id": {m[1]}})
		if r.Status != http.StatusSeeOther || r.Location() != "/volunteer/teams?done=team" {
			t.Fatalf("new team: %d %q %s", r.Status, r.Location(), snippet(r.Body))
		}
		has(t, "/volunteer/teams", staff.page(r.Location()), "银发助老队", "邻里守望")
		r = staff.post("/volunteer/teams", url.Values{"community": {volunteerCommunity}, "name": {"银发助老队"}})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `id="form-error"`) {
			t.Fatalf("team name taken: %d %s", r.Status, snippet(r.Body))
		}

		// A resident is refused every staff form.
		for _, p := range []struct {
			method, path string
		}{
			{"GET", "/volunteer/orgs"}, {"GET", orgPath}, {"GET", "/volunteer/teams"}, {"GET", "/volunteer/rules"},
			{"GET", "/volunteer/shelf"}, {"GET", "/volunteer/timebank"}, {"POST", "/volunteer/orgs"}, {"POST", orgPath},
			{"POST", orgPath + "/members"}, {"POST", "/volunteer/teams"}, {"POST", "/volunteer/rules"},
			{"POST", "/volunteer/shelf/collect"}, {"POST", "/volunteer/timebank"}, {"POST", activityPath + "/cancel"},
		} {
			var r response
			if p.method == "GET" {
				r = resident.get(p.path)
			} else {
				r = resident.post(p.path, url.Values{"community": {volunteerCommunity}, "name": {"居民组织"}, "kind": {"charity"}, "reason": {"不想办了"}})
			}
			if r.Status != http.StatusForbidden {
				t.Errorf("resident %s %s: %d, want 403", p.method, p.path, r.Status)
			}
		}

		// The staff pages, in both languages, with no message key left.
		re := rawKeyRE(t)
		for _, lang := range []string{"en", "zh-CN"} { // the last one stays
			for _, path := range []string{"/volunteer", "/volunteer/orgs", orgPath, "/volunteer/teams", "/volunteer/rules", "/volunteer/shelf",
				"/volunteer/timebank", activityPath} {
				r := staff.get(path + "?lang=" + lang)
				if r.Status != http.StatusOK {
					t.Fatalf("%s (%s): %d %s", path, lang, r.Status, snippet(r.Body))
				}
				if keys := rawKeys(re, r.Body); len(keys) > 0 {
					t.Errorf("%s (%s) shows message keys: %v", path, lang, keys)
				}
			}
		}

		// Cancelling the activity: a reason is needed; then sign-up closes.
		if r := staff.post(activityPath+"/cancel", url.Values{"reason": {""}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `id="form-error"`) {
			t.Fatalf("cancel without a reason: %d %s", r.Status, snippet(r.Body))
		}
		page = staff.submit(activityPath+"/cancel", url.Values{"reason": {"天气原因"}})
		has(t, activityPath, page, `id="activity-cancelled"`, "活动已取消")
		decodeInto(t, staff.get("/api/v1/volunteer/activities/"+fmt.Sprint(x.ID)), http.StatusOK, &x)
		if x.Status != "cancelled" {
			t.Fatalf("activity status after cancelling: %q", x.Status)
		}
		if r := staff.post(activityPath+"/cancel", url.Values{"reason": {"再取消一次"}}); r.Status != http.StatusBadRequest {
			t.Fatalf("cancelling twice: %d", r.Status)
		}
		if r := resident.jsonCall("POST", fmt.Sprintf("/api/v1/volunteer/activities/%d/signups", x.ID), ""); r.Status < 400 {
			t.Fatalf("sign-up to a cancelled activity: %d", r.Status)
		}
	})
}
