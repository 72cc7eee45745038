package app

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"log/slog"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/open311"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
)

// o311 drives the Open311 endpoint of a test server with a key.
type o311 struct {
	t   *testing.T
	s   *testServer
	c   *client
	key string
}

func newO311(t *testing.T, s *testServer, rate float64, batch bool) *o311 {
	t.Helper()
	key, _, err := s.App.Open311.CreateKey(auth.WithPrincipal(t.Context(), auth.System()), "test client", rate, batch)
	if err != nil {
		t.Fatal(err)
	}
	return &o311{t: t, s: s, c: s.client(t), key: key}
}

func (o *o311) get(path string) response {
	o.t.Helper()
	return o.c.get("/open311/v2/" + path)
}

// post sends form urlencoded to /open311/v2/path with the key in the body.
func (o *o311) post(path string, form url.Values) response {
	o.t.Helper()
	form = cloneValues(form)
	if _, ok := form["api_key"]; !ok {
		form.Set("api_key", o.key)
	}
	return o.c.post("/open311/v2/"+path, form)
}

func (o *o311) cases() int {
	o.t.Helper()
	var n int
	if err := o.s.App.DB.Q(o.t.Context()).QueryRowContext(o.t.Context(), "SELECT COUNT(*) FROM cases").Scan(&n); err != nil {
		o.t.Fatal(err)
	}
	return n
}

// errorsOf reads the spec's error list in either format.
func errorsOf(t *testing.T, r response) []string {
	t.Helper()
	var list []struct {
		Code        int    `xml:"code" json:"code"`
		Description string `xml:"description" json:"description"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(r.Body), &list); err != nil {
			t.Fatalf("error body is not a JSON list: %v\n%s", err, r.Body)
		}
	} else {
		var x struct {
			XMLName xml.Name `xml:"errors"`
			Errors  []struct {
				Code        int    `xml:"code"`
				Description string `xml:"description"`
			} `xml:"error"`
		}
		if !strings.HasPrefix(r.Body, `<?xml version="1.0" encoding="utf-8"?>`) {
			t.Fatalf("XML error without the declaration: %s", r.Body)
		}
		if err := xml.Unmarshal([]byte(r.Body), &x); err != nil {
			t.Fatalf("error body is not an XML errors list: %v\n%s", err, r.Body)
		}
		for _, e := range x.Errors {
			list = append(list, struct {
				Code        int    `xml:"code" json:"code"`
				Description string `xml:"description" json:"description"`
			}(e))
		}
	}
	var out []string
	for _, e := range list {
		if e.Code != r.Status {
			t.Errorf("error code %d in a %d answer", e.Code, r.Status)
		}
		out = append(out, e.Description)
	}
	if len(out) == 0 {
		t.Fatalf("no errors listed in: %s", r.Body)
	}
	return out
}

var w3cRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`)

// The read endpoints in both formats: discovery, the services (public
// leaf categories), a definition with its attributes, the errors.
func TestE2EOpen311Services(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		o := newO311(t, s, 0, false)
		setAttributes(t, s)
		for _, f := range []string{"xml", "json"} {
			r := o.c.get("/open311/discovery." + f)
			if r.Status != 200 || !strings.Contains(r.Body, "http://wiki.open311.org/GeoReport_v2") ||
				!strings.Contains(r.Body, s.URL+"/open311/v2") {
				t.Fatalf("discovery.%s: %d %s", f, r.Status, r.Body)
			}
		}
		var d struct {
			Endpoints []struct{ Formats []string } `json:"endpoints"`
		}
		json.Unmarshal([]byte(o.c.get("/open311/discovery.json").Body), &d)
		if len(d.Endpoints) != 1 || len(d.Endpoints[0].Formats) != 2 {
			t.Fatalf("discovery.json endpoints: %+v", d)
		}

		r := o.get("services.json")
		var svcs []map[string]any
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &svcs) != nil || len(svcs) < 10 {
			t.Fatalf("services.json: %d %s", r.Status, snippet(r.Body))
		}
		found := false
		for _, sv := range svcs {
			for _, k := range []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} {
				if _, ok := sv[k]; !ok {
					t.Errorf("service %v lacks %s", sv["service_code"], k)
				}
			}
			if sv["service_code"] == "E0101" {
				found = sv["metadata"] == true && sv["type"] == "realtime" && sv["service_name"] == "Exposed rubbish" &&
					sv["group"] == "City appearance"
			} else if sv["metadata"] != false {
				t.Errorf("service %v has metadata without attributes", sv["service_code"])
			}
			if sv["service_code"] == "E01" {
				t.Errorf("a class (not a leaf) is listed as a service")
			}
		}
		if !found {
			t.Errorf("E0101 not listed with metadata=true: %s", snippet(r.Body))
		}
		r = o.c.get("/open311/v2/services.xml", "Accept-Language", "zh-CN")
		if r.Status != 200 || r.Header.Get("Content-Type") != "text/xml; charset=utf-8" ||
			!strings.Contains(r.Body, "<service><service_code>E0101</service_code><service_name>暴露垃圾</service_name>") ||
			!strings.Contains(r.Body, "<metadata>true</metadata><type>realtime</type>") {
			t.Fatalf("services.xml: %d %s", r.Status, snippet(r.Body))
		}

		r = o.get("services/E0101.json")
		var def struct {
			Code  string `json:"service_code"`
			Attrs []struct {
				Variable bool
				Code     string
				Datatype string
				Required bool
				Order    int
				Values   []struct{ Key, Name string }
			} `json:"attributes"`
		}
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &def) != nil || def.Code != "E0101" || len(def.Attrs) != 5 ||
			def.Attrs[0].Code != "DEPTH" || !def.Attrs[0].Required || len(def.Attrs[0].Values) != 2 || def.Attrs[4].Variable ||
			def.Attrs[4].Order != 5 || !strings.Contains(r.Body, `"values":[]`) {
			t.Fatalf("services/E0101.json: %d %s", r.Status, r.Body)
		}
		r = o.get("services/E0101.xml")
		if r.Status != 200 || !strings.Contains(r.Body, "<service_definition><service_code>E0101</service_code><attributes><attribute>"+
			"<variable>true</variable><code>DEPTH</code><datatype>singlevaluelist</datatype><required>true</required>") ||
			!strings.Contains(r.Body, "<values><value><key>lt5</key><name>Less than 5 cm</name></value>") {
			t.Fatalf("services/E0101.xml: %d %s", r.Status, r.Body)
		}
		r = o.get("services/E0102.xml")
		if r.Status != 200 || !strings.Contains(r.Body, "<attributes></attributes>") {
			t.Fatalf("a definition without attributes keeps its container: %s", r.Body)
		}
		if r := o.get("services/E0102.json"); !strings.Contains(r.Body, `"attributes":[]`) {
			t.Fatalf("services/E0102.json: %s", r.Body)
		}
		street := s.Accounts[auth.StreetStaff].Area
		if r := o.get("services.xml?jurisdiction_id=" + street); r.Status != 200 {
			t.Fatalf("a street as jurisdiction: %d %s", r.Status, r.Body)
		}
		if r := o.get("services.json?jurisdiction_id=linli&api_key=whatever"); r.Status != 200 {
			t.Fatalf("the deployment's jurisdiction, a key on a GET: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			path   string
			status int
			want   string
		}{
			{"services/NOPE.xml", 404, `service_code "NOPE"`},
			{"services/NOPE.json", 404, `service_code "NOPE"`},
			{"services/E01.json", 404, `service_code "E01"`},
			{"services.xml?jurisdiction_id=elsewhere.gov", 404, `jurisdiction_id "elsewhere.gov"`},
			{"services.json?jurisdiction_id=elsewhere.gov", 404, `jurisdiction_id "elsewhere.gov"`},
			{"services/E0101.json?jurisdiction_id=x", 404, `jurisdiction_id "x"`},
			{"services.html", 404, `"html" is not served`},
			{"services", 404, "add .xml or .json"},
			{"nothing.xml", 404, `no resource "nothing"`},
			{"nothing.json", 404, `no resource "nothing"`},
		} {
			r := o.get(tc.path)
			if errs := errorsOf(t, r); r.Status != tc.status || !strings.Contains(strings.Join(errs, "|"), tc.want) {
				t.Errorf("GET %s: %d %v, want %d with %q", tc.path, r.Status, errs, tc.status, tc.want)
			}
		}
		// Descriptions in the client's language; the other 404s and 400s.
		r = o.c.get("/open311/v2/services/NOPE.json", "Accept-Language", "zh-CN")
		if errs := errorsOf(t, r); r.Status != 404 || !strings.Contains(errs[0], "不是本系统的服务") {
			t.Errorf("a Chinese description: %d %v", r.Status, errs)
		}
		for _, tc := range []struct {
			r      response
			status int
			want   string
		}{
			{o.c.get("/open311/other.json"), 404, `no resource "other"`},
			{o.post("services.xml", url.Values{}), 404, `no resource "services" to post to`},
			{o.postRaw("requests.json", "application/x-www-form-urlencoded", "service_code=%zz"), 400, "not valid URL encoding"},
			{o.postRaw("requests.xml", "multipart/form-data", "x"), 400, "boundary"},
		} {
			if errs := errorsOf(t, tc.r); tc.r.Status != tc.status || !strings.Contains(strings.Join(errs, "|"), tc.want) {
				t.Errorf("%d %v, want %d with %q", tc.r.Status, errs, tc.status, tc.want)
			}
		}
		// The deployment's own jurisdiction_id, set by an administrator.
		if err := s.App.Open311.SetJurisdiction(auth.WithPrincipal(t.Context(), auth.System()), "yantai.example.gov"); err != nil {
			t.Fatal(err)
		}
		if r := o.get("services.xml?jurisdiction_id=yantai.example.gov"); r.Status != 200 {
			t.Errorf("the set jurisdiction: %d %s", r.Status, r.Body)
		}
		if r := o.get("services.xml?jurisdiction_id=linli"); r.Status != 404 {
			t.Errorf("the default jurisdiction after setting another: %d", r.Status)
		}
	})
}

// setAttributes gives E0101 one attribute of each datatype.
func setAttributes(t *testing.T, s *testServer) {
	t.Helper()
	attrs, err := cases.ParseAttributes(`DEPTH | singlevaluelist | required | How deep? | lt5=Less than 5 cm; gt5=5 cm or more
HAZARDS | multivaluelist | optional | Anything else nearby? | water=Standing water; cycle=In a cycle lane
WIDTH | number | optional | How wide, in cm?
SEEN | datetime | optional | When did you see it first? | | e.g. 2026-11-27T09:00:00+08:00
NOTE | text | info | Emergencies: call 110 instead.`)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.App.Cases.SaveAttributes(auth.WithPrincipal(t.Context(), auth.System()), "E0101", attrs); err != nil {
		t.Fatal(err)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func goodRequest() url.Values {
	return url.Values{"service_code": {"E0101"}, "lat": {"37.4830"}, "long": {"121.4262"}, "description": {"Rubbish by the gate"},
		"attribute[DEPTH]": {"gt5"}, "attribute[HAZARDS][]": {"water", "cycle"}, "email": {"ann@example.org"},
		"first_name": {"Ann"}, "last_name": {"Lee"}, "phone": {"13800138000"}, "media_url": {"https://img.example.org/1.jpg"},
		"address_string": {"岱山路 12 号"}, "device_id": {"dev-7"}, "account_id": {"acc-99"}, "zipcode": {"264003"}}
}

var requestIDRE = regexp.MustCompile(`<service_request_id>(\d+)</service_request_id>`)

// POST requests in both formats, and every bad input answered in the
// spec's format with nothing stored.
func TestE2EOpen311Post(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		o := newO311(t, s, 0, false)
		setAttributes(t, s)
		sys := auth.WithPrincipal(t.Context(), auth.System())

		r := o.post("requests.xml", goodRequest())
		m := requestIDRE.FindStringSubmatch(r.Body)
		if r.Status != 200 || m == nil || !strings.Contains(r.Body, "<account_id>acc-99</account_id>") {
			t.Fatalf("POST requests.xml: %d %s", r.Status, r.Body)
		}
		c, err := s.App.Cases.Get(sys, m[1])
		if err != nil || c.Channel != cases.ChannelOpen311 || c.CategoryCode != "E0101" || c.GridCode == "" ||
			c.Description != "Rubbish by the gate" || c.Address != "岱山路 12 号" || c.Reporter.Phone == "" {
			t.Fatalf("the case: %+v %v", c, err)
		}
		ans, _ := s.App.Cases.Answers(t.Context(), []int64{c.ID})
		if got := fmt.Sprint(ans[c.ID]); got != "map[DEPTH:[gt5] HAZARDS:[water cycle]]" {
			t.Errorf("answers stored: %s", got)
		}

		// JSON, with jurisdiction_id in the query (node-open311), the key
		// and the rest in the body, attribute[x] repeated without [].
		form := goodRequest()
		form.Del("attribute[HAZARDS][]")
		form["attribute[HAZARDS]"] = []string{"cycle", "water"}
		form.Set("phone", "+44 20 7946 0000")
		r = o.post("requests.json?jurisdiction_id=linli", form)
		var out []map[string]any
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &out) != nil || len(out) != 1 {
			t.Fatalf("POST requests.json: %d %s", r.Status, r.Body)
		}
		id, _ := out[0]["service_request_id"].(string)
		if id == "" || out[0]["token"] != nil || !strings.Contains(fmt.Sprint(out[0]["service_notice"]), "phone number was not kept") {
			t.Fatalf("POST requests.json answer: %s", r.Body)
		}

		long := strings.Repeat("长", 4001)
		big := bytes.Repeat([]byte{0xff, 0xd8, 0xff}, 4<<20) // a "photo" over 10 MB
		before := o.cases()
		for _, tc := range []struct {
			name   string
			change func(v url.Values)
			status int
			want   string
		}{
			{"no key", func(v url.Values) { v.Set("api_key", "") }, 403, "api_key is required"},
			{"bad key", func(v url.Values) { v.Set("api_key", "o311_forged") }, 403, "not valid"},
			{"no service", func(v url.Values) { v.Del("service_code") }, 400, "service_code is required"},
			{"unknown service", func(v url.Values) { v.Set("service_code", "ZZ99") }, 404, `service_code "ZZ99"`},
			{"a class", func(v url.Values) { v.Set("service_code", "E01") }, 404, `service_code "E01"`},
			{"no location", func(v url.Values) { v.Del("lat"); v.Del("long"); v.Del("address_string") }, 400, "a location is required"},
			{"lat alone", func(v url.Values) { v.Del("long") }, 400, "lat and long go together"},
			{"bad lat", func(v url.Values) { v.Set("lat", "north") }, 400, `lat "north"`},
			{"lat out of range", func(v url.Values) { v.Set("lat", "91") }, 400, `lat "91"`},
			{"bad long", func(v url.Values) { v.Set("long", "200") }, 400, `long "200"`},
			{"missing required attribute", func(v url.Values) { v.Del("attribute[DEPTH]") }, 400, "attribute[DEPTH] is required for service E0101"},
			{"value not in list", func(v url.Values) { v.Set("attribute[DEPTH]", "deep") }, 400, `"deep" is not one of the options (lt5, gt5)`},
			{"two values for a single list", func(v url.Values) { v["attribute[DEPTH]"] = []string{"lt5", "gt5"} }, 400, "takes one value"},
			{"multi value not in list", func(v url.Values) { v["attribute[HAZARDS][]"] = []string{"water", "fire"} }, 400, `"fire" is not one of`},
			{"not a number", func(v url.Values) { v.Set("attribute[WIDTH]", "wide") }, 400, `"wide" is not a number`},
			{"not a datetime", func(v url.Values) { v.Set("attribute[SEEN]", "yesterday") }, 400, `"yesterday" is not an ISO 8601`},
			{"description too long", func(v url.Values) { v.Set("description", long) }, 400, "description has at most 4000 characters"},
			{"bad email", func(v url.Values) { v.Set("email", "not-an-address") }, 400, "email"},
			{"bad media_url", func(v url.Values) { v.Set("media_url", "javascript:alert(1)") }, 400, "media_url"},
			{"unknown jurisdiction", func(v url.Values) { v.Set("jurisdiction_id", "elsewhere.gov") }, 404, "jurisdiction_id"},
		} {
			for _, f := range []string{"xml", "json"} {
				v := goodRequest()
				tc.change(v)
				r := o.post("requests."+f, v)
				if errs := errorsOf(t, r); r.Status != tc.status || !strings.Contains(strings.Join(errs, "|"), tc.want) {
					t.Errorf("%s (%s): %d %v, want %d with %q", tc.name, f, r.Status, errs, tc.status, tc.want)
				}
			}
		}
		// Several faults at once are listed together.
		v := goodRequest()
		v.Del("attribute[DEPTH]")
		v.Set("attribute[WIDTH]", "x")
		if errs := errorsOf(t, o.post("requests.xml", v)); len(errs) != 2 {
			t.Errorf("two bad attributes: %v", errs)
		}
		// Oversized media in a multipart post.
		r = o.multipart("requests.xml", goodRequest(), map[string][]byte{"media": big})
		if errs := errorsOf(t, r); r.Status != 400 || !strings.Contains(strings.Join(errs, "|"), "over 10 MB") {
			t.Errorf("oversized photo: %d %v", r.Status, errs)
		}
		// A revoked key.
		if _, err := s.App.Open311.RevokeKey(sys, "test client"); err != nil {
			t.Fatal(err)
		}
		if r := o.post("requests.xml", goodRequest()); r.Status != 403 || !strings.Contains(r.Body, "revoked") {
			t.Errorf("revoked key: %d %s", r.Status, r.Body)
		}
		if after := o.cases(); after != before {
			t.Errorf("bad requests stored %d cases", after-before)
		}
	})
}

// multipart posts form and files (part name → data) as FixMyStreet does
// for private reports.
func (o *o311) multipart(path string, form url.Values, files map[string][]byte) response {
	o.t.Helper()
	form = cloneValues(form)
	if _, ok := form["api_key"]; !ok {
		form.Set("api_key", o.key)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="%s.jpeg"`, name, name))
		h.Set("Content-Type", "image/jpeg")
		pw, _ := mw.CreatePart(h)
		pw.Write(data)
	}
	mw.Close()
	return o.c.do(o.c.request(http.MethodPost, "/open311/v2/"+path, &body,
		http.Header{"Content-Type": {mw.FormDataContentType()}}), false)
}

// A key with a rate is refused over it; a batch key gets tokens.
func TestE2EOpen311KeysAndTokens(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		slow := newO311(t, s, 1, false)
		form := goodRequest()
		form.Del("attribute[DEPTH]")
		form.Set("service_code", "E0102")
		if r := slow.post("requests.json", form); r.Status != 200 {
			t.Fatalf("first post: %d %s", r.Status, r.Body)
		}
		before := slow.cases()
		r := slow.post("requests.json", form)
		if errs := errorsOf(t, r); r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(errs[0], "1 requests a second") {
			t.Fatalf("over the rate: %d %v", r.Status, errs)
		}
		if slow.cases() != before {
			t.Error("a refused post stored a case")
		}

		batch := newO311(t, s, 0, true)
		r = batch.post("requests.xml", form)
		tm := regexp.MustCompile(`<token>([^<]+)</token>`).FindStringSubmatch(r.Body)
		if r.Status != 200 || tm == nil || strings.Contains(r.Body, "service_request_id") {
			t.Fatalf("batch post: %d %s", r.Status, r.Body)
		}
		if r := batch.get("services.json?api_key=" + batch.key); !strings.Contains(r.Body, `"type":"batch"`) {
			t.Errorf("a batch key sees batch services: %s", snippet(r.Body))
		}
		r = batch.get("tokens/" + tm[1] + ".xml")
		if r.Status != 200 || !requestIDRE.MatchString(r.Body) || !strings.Contains(r.Body, "<token>"+tm[1]+"</token>") {
			t.Fatalf("tokens/%s.xml: %d %s", tm[1], r.Status, r.Body)
		}
		var toks []map[string]string
		r = batch.get("tokens/" + tm[1] + ".json")
		if json.Unmarshal([]byte(r.Body), &toks) != nil || len(toks) != 1 || toks[0]["service_request_id"] == "" {
			t.Fatalf("tokens json: %s", r.Body)
		}
		for _, f := range []string{"xml", "json"} {
			if r := batch.get("tokens/nope." + f); r.Status != 404 || !strings.Contains(strings.Join(errorsOf(t, r), ""), `token "nope"`) {
				t.Errorf("unknown token (%s): %d %s", f, r.Status, r.Body)
			}
			// Bytes that are not UTF-8 (PostgreSQL refuses them as text).
			if r := batch.get("tokens/%E8%66." + f); r.Status != 404 || len(errorsOf(t, r)) != 1 {
				t.Errorf("a token that is not text (%s): %d %s", f, r.Status, r.Body)
			}
			for _, q := range []string{"requests." + f + "?service_code=%E8%66", "requests." + f + "?service_request_id=%E8%66",
				"services/%E8%66." + f, "requests/%E8%66." + f} {
				if r := batch.get(q); r.Status != 400 && r.Status != 404 || len(errorsOf(t, r)) != 1 {
					t.Errorf("GET %s: %d %s", q, r.Status, r.Body)
				}
			}
		}
		keys, err := s.App.Open311.Keys(auth.WithPrincipal(t.Context(), auth.System()))
		if err != nil || len(keys) != 2 || keys[0].LastUsedAt == nil {
			t.Errorf("keys: %+v %v", keys, err)
		}
		var audited int
		s.App.DB.Q(t.Context()).QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM audit_log WHERE action = 'case.report' AND actor = 'open311:test client'").Scan(&audited)
		if audited != 2 {
			t.Errorf("%d case.report audit rows name the key, want 2", audited)
		}
	})
}

// GET requests with the filters, one request, and extensions, in both
// formats.
func TestE2EOpen311Requests(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		o := newO311(t, s, 0, false)
		setAttributes(t, s)
		var ids []string
		for range 3 {
			r := o.post("requests.json", goodRequest())
			var out []map[string]string
			json.Unmarshal([]byte(r.Body), &out)
			if len(out) != 1 {
				t.Fatalf("post: %s", r.Body)
			}
			ids = append(ids, out[0]["service_request_id"])
		}
		sys := cases.AsSystem(auth.WithPrincipal(t.Context(), auth.System()))
		if _, err := s.App.Cases.Act(sys, ids[1], cases.Request{Action: cases.ActReject, Note: "Not in our area"}); err != nil {
			t.Fatal(err)
		}

		r := o.get("requests.json")
		var all []map[string]any
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &all) != nil || len(all) < 3 {
			t.Fatalf("requests.json: %d %s", r.Status, snippet(r.Body))
		}
		last := all[len(all)-1]
		if last["service_request_id"] != ids[2] || last["status"] != "open" || last["lat"] != 37.483 ||
			last["zipcode"] != "264003" || last["media_url"] != "https://img.example.org/1.jpg" || last["address_id"] != nil ||
			!w3cRE.MatchString(last["requested_datetime"].(string)) || last["attributes"] != nil {
			t.Errorf("a request: %v", last)
		}
		for _, k := range []string{"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
			"agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address",
			"address_id", "zipcode", "lat", "long", "media_url"} {
			if _, ok := last[k]; !ok {
				t.Errorf("a request lacks %s", k)
			}
		}
		list := func(q string) []map[string]any {
			t.Helper()
			r := o.get("requests.json?" + q)
			var out []map[string]any
			if r.Status != 200 || json.Unmarshal([]byte(r.Body), &out) != nil {
				t.Fatalf("requests.json?%s: %d %s", q, r.Status, r.Body)
			}
			return out
		}
		if got := list("service_request_id=" + ids[0] + ",%20" + ids[2] + "&status=closed"); len(got) != 2 {
			t.Errorf("an id list overrides the other filters: %d", len(got))
		}
		got := list("status=closed&service_code=E0101")
		if len(got) != 1 || got[0]["service_request_id"] != ids[1] || got[0]["status_notes"] != "Not in our area" {
			t.Errorf("closed E0101: %v", got)
		}
		// (The demo street holds one more open E0101 case, reported at seeding.)
		if got := list("status=open&service_code=E0101"); len(got) != 3 {
			t.Errorf("open E0101: %d", len(got))
		}
		if got := list("service_code=E0101&page_size=3&page=2"); len(got) != 1 || got[0]["service_request_id"] != ids[2] {
			t.Errorf("page 2 of 2: %v", got)
		}
		now := time.Now().UTC()
		if got := list("service_code=E0101&start_date=" + now.Add(-time.Hour).Format(time.RFC3339) + "&end_date=" +
			url.QueryEscape(now.Add(time.Hour).In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05.000-07:00"))); len(got) != 4 {
			t.Errorf("within the hour: %d", len(got))
		}
		if got := list("service_code=E0101&end_date=" + now.Add(-24*time.Hour).Format(time.RFC3339)); len(got) != 0 {
			t.Errorf("before yesterday: %d", len(got))
		}
		if got := list("service_code=E0101&updated_after=" + now.Add(-time.Minute).Format(time.RFC3339)); len(got) != 4 {
			t.Errorf("updated_after: %d", len(got))
		}
		if got := list("service_code=E0101&updated_before=" + now.Add(-time.Hour).Format(time.RFC3339)); len(got) != 0 {
			t.Errorf("updated_before: %d", len(got))
		}
		if got := list("service_code=E0101&status=open&lat=37.4831&long=121.4263"); len(got) != 3 { // with the demo case on the same spot
			t.Errorf("open E0101 near the posts (duplicate detection): %d", len(got))
		}
		if got := list("service_code=E0101&lat=37.49&long=121.45&radius=100"); len(got) != 0 {
			t.Errorf("nothing 2 km away: %d", len(got))
		}
		if got := list("status=&service_code=&start_date="); len(got) < 3 {
			t.Errorf("empty parameters are absent: %d", len(got))
		}

		got = list("service_request_id=" + ids[0] + "&extensions=true")
		if len(got) != 1 {
			t.Fatalf("extensions: %v", got)
		}
		ext, _ := got[0]["extended_attributes"].(map[string]any)
		notes, _ := got[0]["notes"].([]any)
		if fmt.Sprint(got[0]["attributes"]) != "map[DEPTH:gt5 HAZARDS:[water cycle]]" || ext["status"] != "open" ||
			ext["channel"] != "open311" || ext["external_status_code"] != "reported" || len(notes) != 1 {
			t.Errorf("extensions=true: %v", got[0])
		}
		r = o.get("requests/" + ids[1] + ".xml?extensions=true")
		if r.Status != 200 || !strings.Contains(r.Body, "<service_requests><request><service_request_id>"+ids[1]+
			"</service_request_id><status>closed</status><status_notes>Not in our area</status_notes>") ||
			!strings.Contains(r.Body, "<extended_attributes><status>no_further_action</status>") ||
			!strings.Contains(r.Body, "<attributes><attribute><code>DEPTH</code><value>gt5</value></attribute>") {
			t.Errorf("requests/%s.xml: %d %s", ids[1], r.Status, r.Body)
		}
		r = o.get("requests/" + ids[0] + ".json")
		var one []map[string]any
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &one) != nil || len(one) != 1 || one[0]["service_request_id"] != ids[0] {
			t.Errorf("requests/%s.json: %d %s", ids[0], r.Status, r.Body)
		}
		r = o.get("requests.xml?service_request_id=" + ids[0])
		if r.Status != 200 || strings.Count(r.Body, "<request>") != 1 || !strings.Contains(r.Body, "<address_id></address_id>") ||
			!strings.Contains(r.Body, "<lat>37.483</lat><long>121.4262</long>") {
			t.Errorf("requests.xml by id: %s", r.Body)
		}
		from := now.Add(-100 * 24 * time.Hour).Format(time.RFC3339)
		for _, tc := range []struct {
			path   string
			status int
			want   string
		}{
			{"requests/1.json", 404, `no request "1"`},
			{"requests/20261127999999.xml", 404, "no request"},
			{"requests.json?start_date=yesterday", 400, `start_date "yesterday"`},
			{"requests.xml?end_date=2026-11-01T00:00:00", 400, "with a zone"},
			{"requests.xml?start_date=" + from + "&end_date=" + now.Format(time.RFC3339), 400, "at most 90 days"},
			{"requests.json?start_date=" + now.Format(time.RFC3339) + "&end_date=" + from, 400, "end_date is before start_date"},
			{"requests.json?status=pending", 400, `status "pending"`},
			{"requests.json?lat=37.48", 400, "lat and long go together"},
			{"requests.xml?lat=x&long=121", 400, `lat "x"`},
			{"requests.xml?lat=37&long=121&radius=99999", 400, `radius "99999"`},
			{"requests.xml?page_size=5000", 400, "page_size"},
			{"requests.xml?page=0", 400, "page"},
			{"requests.json?updated_after=soon", 400, "updated_after"},
			{"requests.xml?jurisdiction_id=elsewhere.gov", 404, "jurisdiction_id"},
			{"requests/" + ids[0] + ".json?jurisdiction_id=elsewhere.gov", 404, "jurisdiction_id"},
		} {
			r := o.get(tc.path)
			if errs := errorsOf(t, r); r.Status != tc.status || !strings.Contains(strings.Join(errs, "|"), tc.want) {
				t.Errorf("GET %s: %d %v, want %d with %q", tc.path, r.Status, errs, tc.status, tc.want)
			}
		}
	})
}

// postRaw sends a body exactly as a client put it on the wire.
func (o *o311) postRaw(path, contentType, body string) response {
	o.t.Helper()
	return o.c.do(o.c.request(http.MethodPost, "/open311/v2/"+path, strings.NewReader(body),
		http.Header{"Content-Type": {contentType}}), false)
}

// fmsRequests parses a requests answer as FixMyStreet does (XML::Simple
// with ForceArray on request): request[0].service_request_id must be a
// plain scalar.
func fmsRequestID(t *testing.T, r response) string {
	t.Helper()
	var x struct {
		Requests []struct {
			ID    string `xml:"service_request_id"`
			Token string `xml:"token"`
		} `xml:"request"`
	}
	if r.Status/100 != 2 || xml.Unmarshal([]byte(r.Body), &x) != nil || len(x.Requests) != 1 {
		t.Fatalf("FixMyStreet would count this a failure: %d %s", r.Status, r.Body)
	}
	return x.Requests[0].ID
}

// Replays of what FixMyStreet's Open311.pm sends (reference §2.6): XML
// only, jurisdiction_id and api_key in the body, Content-Type without a
// charset, CRLF descriptions, repeated attribute[x] without [],
// attribute[uprn], deviceid, "-" as last name, #NOTPINPOINTED#, photo parts,
// token polling, and servicerequestupdates both ways.
func TestE2EOpen311FixMyStreet(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		o := newO311(t, s, 0, false)
		setAttributes(t, s)
		sys := auth.WithPrincipal(t.Context(), auth.System())

		body := "attribute%5BDEPTH%5D=gt5&lat=37.483&long=121.4262&service_code=E0101&jurisdiction_id=linli" +
			"&email=a%40example.org&first_name=Ann&last_name=-&api_key=" + url.QueryEscape(o.key) +
			"&description=Big+hole%0D%0A%0D%0AVery+big%0D%0A%0D%0Ahttp%3A%2F%2Ffms.example%2Freport%2F1%0D%0A" +
			"&attribute%5Buprn%5D=10001&attribute%5Bfixmystreet_id%5D=1&deviceid=fms-1" +
			"&attribute%5BHAZARDS%5D=water&attribute%5BHAZARDS%5D=cycle&media_url=http%3A%2F%2Ffms.example%2Fphoto%2F1.jpeg" +
			"&media_url=http%3A%2F%2Ffms.example%2Fphoto%2F2.jpeg"
		id := fmsRequestID(t, o.postRaw("requests.xml", "application/x-www-form-urlencoded", body))
		before := o.cases()
		if again := fmsRequestID(t, o.postRaw("requests.xml", "application/x-www-form-urlencoded", body)); again != id || o.cases() != before {
			t.Errorf("a resend of fixmystreet_id 1 made %s (first %s) and %d cases", again, id, o.cases()-before)
		}
		c, err := s.App.Cases.Get(sys, id)
		if err != nil || c.Description != "Big hole\n\nVery big\n\nhttp://fms.example/report/1" {
			t.Fatalf("the case: %q %v", c.Description, err)
		}
		ans, _ := s.App.Cases.Answers(t.Context(), []int64{c.ID})
		if got := fmt.Sprint(ans[c.ID]); got != "map[DEPTH:[gt5] HAZARDS:[water cycle] fixmystreet_id:[1] uprn:[10001]]" {
			t.Errorf("answers: %s", got)
		}
		contact, _ := s.App.Cases.RevealContact(sys, id, "test")
		if contact.Name != "Ann" || contact.Email != "a@example.org" {
			t.Errorf("contact: %+v", contact)
		}
		r := o.get("requests/" + id + ".xml?extensions=true")
		if !strings.Contains(r.Body, "<media_url>http://fms.example/photo/1.jpeg</media_url>") ||
			!strings.Contains(r.Body, "<media_urls><media_url>http://fms.example/photo/1.jpeg</media_url><media_url>http://fms.example/photo/2.jpeg</media_url></media_urls>") {
			t.Errorf("media urls: %s", r.Body)
		}

		// Bromley: no point, #NOTPINPOINTED#; the case waits for routing.
		v := url.Values{"service_code": {"E0102"}, "address_id": {"#NOTPINPOINTED#"}, "jurisdiction_id": {"linli"},
			"description": {"Dirty road\r\nnear the school"}, "first_name": {"Bob"}, "last_name": {"Jones"}}
		id2 := fmsRequestID(t, o.post("requests.xml", v))
		if c, _ := s.App.Cases.Get(sys, id2); !c.NeedsRouting || c.Description != "Dirty road\nnear the school" {
			t.Errorf("not pinpointed: %+v", c)
		}
		if r := o.get("requests/" + id2 + ".xml"); !strings.Contains(r.Body, "<address_id>#NOTPINPOINTED#</address_id><zipcode></zipcode><lat></lat><long></long>") {
			t.Errorf("not pinpointed read back: %s", r.Body)
		}

		// A private report's photos as multipart parts photo1, photo2.
		jpeg := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte("x"), 100)...)
		v = url.Values{"service_code": {"E0102"}, "lat": {"37.4815"}, "long": {"121.428"}, "jurisdiction_id": {"linli"},
			"description": {"With photos"}}
		id3 := fmsRequestID(t, o.multipart("requests.xml", v, map[string][]byte{"photo1": jpeg, "photo2": jpeg}))
		evs, err := s.App.Cases.Timeline(sys, id3)
		if err != nil || len(evs) != 1 || len(evs[0].Files) != 2 || evs[0].Files[0].ContentType != "image/jpeg" {
			t.Errorf("photos: %+v %v", evs, err)
		}

		// Token polling with a batch key.
		b := newO311(t, s, 0, true)
		r = b.post("requests.xml", url.Values{"service_code": {"E0102"}, "address_string": {"岱山路"}})
		var tok struct {
			Token string `xml:"request>token"`
		}
		xml.Unmarshal([]byte(r.Body), &tok)
		if tok.Token == "" {
			t.Fatalf("batch: %s", r.Body)
		}
		if fmsRequestID(t, b.get("tokens/"+tok.Token+".xml?jurisdiction_id=linli")) == "" {
			t.Error("the token's request id is empty")
		}

		// Staff move the case; FixMyStreet fetches the updates of the
		// last two hours with its key in the query.
		staff := cases.AsSystem(sys)
		if _, err := s.App.Cases.Act(staff, id, cases.Request{Action: cases.ActAccept}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Cases.Act(staff, id2, cases.Request{Action: cases.ActReject, Note: "Not a public road"}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		q := "servicerequestupdates.xml?jurisdiction_id=linli&api_key=" + url.QueryEscape(o.key) + "&start_date=" +
			now.Add(-2*time.Hour).Format(time.RFC3339) + "&end_date=" + now.Add(time.Minute).Format(time.RFC3339)
		r = o.get(q)
		var ups struct {
			Updates []struct {
				UpdateID, ServiceRequestID, Status, UpdatedDatetime, Description, MediaURL, ExternalStatusCode string
			} `xml:"request_update"`
		}
		if r.Status != 200 || xml.Unmarshal([]byte(strings.NewReplacer("<update_id>", "<UpdateID>", "</update_id>", "</UpdateID>",
			"service_request_id>", "ServiceRequestID>", "<status>", "<Status>", "</status>", "</Status>",
			"updated_datetime>", "UpdatedDatetime>", "description>", "Description>", "media_url>", "MediaURL>",
			"external_status_code>", "ExternalStatusCode>").Replace(r.Body)), &ups) != nil {
			t.Fatalf("updates: %d %s", r.Status, r.Body)
		}
		seen := map[string]string{}
		for _, u := range ups.Updates {
			if u.UpdateID == "" || !w3cRE.MatchString(u.UpdatedDatetime) || u.Description == "" {
				t.Errorf("update %+v", u)
			}
			seen[u.ServiceRequestID+" "+u.ExternalStatusCode] = u.Status + " " + u.Description
		}
		if seen[id+" accept"] != "investigating Accept" || seen[id2+" reject"] != "not_councils_responsibility Not a public road" ||
			seen[id+" report"] != "open Reported" || !strings.Contains(r.Body, "<media_url></media_url>") {
			t.Errorf("updates seen: %v\n%s", seen, r.Body)
		}
		r = o.get(strings.Replace(q, ".xml", ".json", 1))
		var upsJSON []map[string]any
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &upsJSON) != nil || len(upsJSON) != len(ups.Updates) ||
			upsJSON[0]["media_url"] != nil {
			t.Errorf("updates.json: %s", snippet(r.Body))
		}

		// FixMyStreet forwards a comment.
		upd := url.Values{"service_request_id": {id}, "update_id": {"55"}, "updated_datetime": {"2026-10-15T09:00:00Z"},
			"status": {"FIXED"}, "description": {"It has been filled\r\nThanks"}, "first_name": {"Bob"}, "last_name": {"Jones"},
			"email": {"bob@example.org"}, "jurisdiction_id": {"linli"}, "media_url": {"http://fms.example/p/9.jpeg"}}
		r = o.post("servicerequestupdates.xml", upd)
		var pu struct {
			ID string `xml:"request_update>update_id"`
		}
		if r.Status != 200 || xml.Unmarshal([]byte(r.Body), &pu) != nil || pu.ID == "" {
			t.Fatalf("POST servicerequestupdates.xml: %d %s", r.Status, r.Body)
		}
		if r := o.post("servicerequestupdates.xml", upd); !strings.Contains(r.Body, "<update_id>"+pu.ID+"</update_id>") {
			t.Errorf("a retry is answered as the first time: %s", r.Body)
		}
		evs, _ = s.App.Cases.Timeline(sys, id)
		notes := 0
		for _, e := range evs {
			if e.Action == cases.ActNote {
				notes++
				if e.Note != "FIXED: It has been filled\nThanks (Bob Jones)\nhttp://fms.example/p/9.jpeg" || e.Actor != "open311:test client" {
					t.Errorf("the note: %q by %q", e.Note, e.Actor)
				}
			}
		}
		if c, _ := s.App.Cases.Get(sys, id); notes != 1 || c.State != cases.Accepted {
			t.Errorf("%d notes, state %s: an update is a note, not a move", notes, c.State)
		}
		upd.Set("update_id", "56")
		if r := o.post("servicerequestupdates.json", upd); r.Status != 200 || !strings.HasPrefix(r.Body, `[{"update_id":"`) {
			t.Errorf("POST servicerequestupdates.json: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name   string
			change func(v url.Values)
			status int
			want   string
		}{
			{"no key", func(v url.Values) { v.Set("api_key", "") }, 403, "api_key is required"},
			{"bad key", func(v url.Values) { v.Set("api_key", "o311_x") }, 403, "not valid"},
			{"no update_id", func(v url.Values) { v.Del("update_id") }, 400, "update_id is required"},
			{"bad status", func(v url.Values) { v.Set("status", "DONE") }, 400, `status "DONE"`},
			{"bad time", func(v url.Values) { v.Set("updated_datetime", "2026-10-15") }, 400, "updated_datetime"},
			{"unknown request", func(v url.Values) { v.Set("service_request_id", "202611279999999") }, 404, "no request"},
			{"unknown jurisdiction", func(v url.Values) { v.Set("jurisdiction_id", "x.gov") }, 404, "jurisdiction_id"},
		} {
			v := cloneValues(upd)
			v.Set("update_id", "e-"+tc.name)
			tc.change(v)
			r := o.post("servicerequestupdates.xml", v)
			if errs := errorsOf(t, r); r.Status != tc.status || !strings.Contains(strings.Join(errs, "|"), tc.want) {
				t.Errorf("update %s: %d %v", tc.name, r.Status, errs)
			}
		}
		for _, path := range []string{"servicerequestupdates.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
			"servicerequestupdates.json?end_date=bad"} {
			if r := o.get(path); r.Status != 400 {
				t.Errorf("GET %s: %d", path, r.Status)
			}
		}
	})
}

// The real client: npm open311@0.0.12 (Code for America's node-open311),
// installed with the overrides recipe and two shims in test/open311-client,
// runs every method in JSON and XML mode against Linli on 127.0.0.1. It is
// skipped only when node or npm is missing and LINLI_TEST_NODE is unset
// (CI sets it, so there it never skips).
func TestOpen311NodeClient(t *testing.T) {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("LINLI_TEST_NODE") == "" {
			t.Skip("node or npm is not installed (set LINLI_TEST_NODE=1 to make this a failure)")
		}
		t.Fatalf("LINLI_TEST_NODE is set but node (%v) or npm (%v) is missing", errNode, errNpm)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "open311-client"))
	if err != nil {
		t.Fatal(err)
	}
	install := exec.CommandContext(t.Context(), "sh", "-c", `"$NPM" ci --offline --no-audit --no-fund || "$NPM" ci --no-audit --no-fund`)
	install.Dir, install.Env = dir, append(os.Environ(), "NPM="+npm)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	s := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "linli.db"))
	setAttributes(t, s)
	key := newO311(t, s, 0, false).key
	batch := newO311(t, s, 0, true).key
	run := exec.CommandContext(t.Context(), node, "test.js", s.URL, key, batch)
	run.Dir = dir
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	if err := run.Run(); err != nil {
		t.Fatalf("node test.js: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var ids map[string][]string
	if err := json.Unmarshal(stdout.Bytes(), &ids); err != nil || len(ids["json"]) != 3 || len(ids["xml"]) != 3 {
		t.Fatalf("node test.js printed %q (%v)", stdout.String(), err)
	}
	sys := auth.WithPrincipal(t.Context(), auth.System())
	for format, list := range ids {
		for _, id := range list {
			c, err := s.App.Cases.Get(sys, id)
			if err != nil || c.Channel != cases.ChannelOpen311 {
				t.Fatalf("%s request %s: %+v %v", format, id, c, err)
			}
			ans, _ := s.App.Cases.Answers(t.Context(), []int64{c.ID})
			if got := fmt.Sprint(ans[c.ID]["HAZARDS"]); got != "[water cycle]" {
				t.Errorf("%s request %s: HAZARDS %s, want the array stored as a multi-value", format, id, got)
			}
		}
	}
}

// BenchmarkOpen311Post posts requests.json over HTTP to Linli on SQLite,
// from parallel clients in this process:
//
//	go test ./internal/app -run '^$' -bench Open311Post -benchtime 5s
//
// linli open311 bench measures the same with a latency phase.
func BenchmarkOpen311Post(b *testing.B) {
	s := startServerB(b)
	key, _, err := s.App.Open311.CreateKey(auth.WithPrincipal(b.Context(), auth.System()), "bench", 0, false)
	if err != nil {
		b.Fatal(err)
	}
	target := s.URL + "/open311/v2/requests.json"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(16)
	b.ResetTimer()
	cats, _ := s.App.Cases.Categories(b.Context())
	var codes []string
	for _, c := range cats {
		if c.Leaf() {
			codes = append(codes, c.Code)
		}
	}
	var seed atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		rng := mrand.New(mrand.NewPCG(seed.Add(1), 7))
		for pb.Next() {
			// A point in one of the demo street's 14 blocks (demo.go), any leaf category.
			block := rng.IntN(14)
			form := url.Values{"api_key": {key}, "service_code": {codes[rng.IntN(len(codes))]},
				"lat":         {fmt.Sprintf("%.6f", demoNorth-float64(block/5)*blockLat-(0.02+0.96*rng.Float64())*blockLat)},
				"long":        {fmt.Sprintf("%.6f", demoWest+float64(block%5)*blockLon+(0.02+0.96*rng.Float64())*blockLon)},
				"description": {"路口的路灯晚上不亮"}, "phone": {"13800138000"}}
			var res *http.Response
			var err error
			if os.Getenv("LINLI_BENCH_API") != "" { // the same report through POST /api/v1/cases, to compare
				body, _ := json.Marshal(map[string]any{"category": form.Get("service_code"), "description": form.Get("description"),
					"lat": json.Number(form.Get("lat")), "lon": json.Number(form.Get("long")), "phone": form.Get("phone")})
				res, err = hc.Post(s.URL+"/api/v1/cases", "application/json", bytes.NewReader(body))
			} else {
				res, err = hc.PostForm(target, form)
			}
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 && res.StatusCode != 201 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// startServerB is startServer for a benchmark: Linli with the demo street
// on a fresh SQLite file, answering on 127.0.0.1.
func startServerB(b *testing.B) *testServer {
	b.Helper()
	cfg := config.Default()
	cfg.DB = "sqlite:" + filepath.Join(b.TempDir(), "linli.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.KeyFile = filepath.Join(b.TempDir(), "linli.key")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.SeedDemo(ctx); err != nil {
		b.Fatal(err)
	}
	l, err := a.Listen()
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, l) }()
	b.Cleanup(func() {
		cancel()
		<-served
		a.Close()
	})
	return &testServer{App: a, URL: "http://" + l.Addr().String()}
}

// linli open311 pull, against Linli itself: a second Linli imports the
// first one's requests in JSON, then again in XML, which finds them all
// pulled before; closed ones get a note; codes are mapped.
func TestE2EOpen311Pull(t *testing.T) {
	eachEngine(t, func(t *testing.T, old *testServer) {
		o := newO311(t, old, 0, false)
		var ids []string
		for _, code := range []string{"E0102", "E0102", "C0201"} {
			v := goodRequest()
			v.Del("attribute[DEPTH]")
			v.Set("service_code", code)
			var out []map[string]string
			json.Unmarshal([]byte(o.post("requests.json", v).Body), &out)
			ids = append(ids, out[0]["service_request_id"])
		}
		sys := cases.AsSystem(auth.WithPrincipal(t.Context(), auth.System()))
		if _, err := old.App.Cases.Act(sys, ids[1], cases.Request{Action: cases.ActReject, Note: "Duplicate of a call"}); err != nil {
			t.Fatal(err)
		}
		remote, err := old.App.Cases.PublicList(t.Context(), cases.PublicQuery{})
		if err != nil {
			t.Fatal(err)
		}

		closed := 0
		for _, c := range remote {
			if !c.State.Open() {
				closed++
			}
		}
		fresh := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "new.db"))
		opt := open311.PullOptions{Endpoint: old.URL + "/open311/v2", Jurisdiction: "linli", Map: map[string]string{"C0201": "C0202"},
			PageSize: 2}
		rep, err := fresh.App.Open311.Pull(sys, opt)
		if err != nil || rep.Seen != len(remote) || rep.Imported != len(remote) || rep.Closed != closed || rep.Failed != 0 {
			t.Fatalf("pull: %+v %v (the old server lists %d)", rep, err, len(remote))
		}
		opt.Format = "xml"
		if rep, err := fresh.App.Open311.Pull(sys, opt); err != nil || rep.Known != len(remote) || rep.Imported != 0 {
			t.Fatalf("pull again in XML: %+v %v", rep, err)
		}
		got, err := fresh.App.Cases.PublicList(t.Context(), cases.PublicQuery{Categories: []string{"E0102", "C0202"}})
		if err != nil {
			t.Fatal(err)
		}
		byDesc := map[string]int{}
		for _, c := range got {
			if c.Channel == cases.ChannelOpen311 {
				byDesc[c.CategoryCode]++
			}
		}
		if byDesc["E0102"] < 2 || byDesc["C0202"] < 1 {
			t.Errorf("imported by category: %v", byDesc)
		}
		r := newO311(t, fresh, 0, false).get("requests.json?service_code=C0202&extensions=true")
		if !strings.Contains(r.Body, `"zipcode":"264003"`) || !strings.Contains(r.Body, `"media_url":"https://img.example.org/1.jpg"`) {
			t.Errorf("the pulled request read back: %s", r.Body)
		}
		var notes int
		fresh.App.DB.Q(t.Context()).QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM case_events WHERE action = 'note' AND note LIKE 'Closed upstream%Duplicate of a call'").Scan(&notes)
		if notes != 1 {
			t.Errorf("%d closing notes", notes)
		}
		if _, err := fresh.App.Open311.Pull(sys, open311.PullOptions{Endpoint: old.URL + "/open311/v2", Jurisdiction: "elsewhere"}); err == nil ||
			!strings.Contains(err.Error(), "404") {
			t.Errorf("a refused pull: %v", err)
		}
	})
}

var newKeyRE = regexp.MustCompile(`<code id="new-key"[^>]*>([^<]+)</code>`)

// Administrators issue and revoke keys on a page, and edit a category's
// attributes on the category page; others may not.
func TestE2EOpen311AdminPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		if r := admin.get("/admin/open311"); r.Status != 200 || !strings.Contains(r.Text(), "/open311/v2/") {
			t.Fatalf("key page: %d %s", r.Status, snippet(r.Body))
		}
		if r := admin.post("/admin/open311/keys", url.Values{"name": {""}, "rate": {"x"}}); r.Status != 400 {
			t.Errorf("a bad key form: %d", r.Status)
		}
		r := admin.post("/admin/open311/keys", url.Values{"name": {"FixMyStreet"}, "rate": {"5"}})
		m := newKeyRE.FindStringSubmatch(r.Body)
		if r.Status != 200 || m == nil {
			t.Fatalf("issuing a key: %d %s", r.Status, snippet(r.Body))
		}
		o := &o311{t: t, s: s, c: s.client(t), key: html.UnescapeString(m[1])}
		v := goodRequest()
		v.Del("attribute[DEPTH]")
		if r := o.post("requests.xml", v); r.Status != 200 {
			t.Fatalf("posting with the issued key: %d %s", r.Status, r.Body)
		}
		keys, _ := s.App.Open311.Keys(auth.WithPrincipal(t.Context(), auth.System()))
		if len(keys) != 1 || keys[0].Rate != 5 {
			t.Fatalf("keys: %+v", keys)
		}
		if r := admin.post(fmt.Sprintf("/admin/open311/keys/%d/revoke", keys[0].ID), nil); r.Status != http.StatusSeeOther {
			t.Fatalf("revoking: %d %s", r.Status, snippet(r.Body))
		}
		if r := o.post("requests.xml", v); r.Status != 403 {
			t.Errorf("a revoked key posts: %d", r.Status)
		}
		var audited int
		s.App.DB.Q(t.Context()).QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM audit_log WHERE action IN ('open311.key_create', 'open311.key_revoke') AND actor = 'admin'").Scan(&audited)
		if audited != 2 {
			t.Errorf("%d key audit rows by admin, want 2", audited)
		}
		staff := s.login(t, auth.CommunityStaff)
		if r := staff.get("/admin/open311"); r.Status != http.StatusForbidden {
			t.Errorf("community staff on the key page: %d", r.Status)
		}
		if r := staff.post("/admin/open311/keys", url.Values{"name": {"x"}}); r.Status != http.StatusForbidden {
			t.Errorf("community staff issuing a key: %d", r.Status)
		}

		text := "DEPTH | singlevaluelist | required | How deep? | lt5=Less than 5 cm; gt5=5 cm or more"
		r = admin.post("/admin/categories/attributes", url.Values{"code": {"E0101"}, "attributes": {text}})
		if r.Status != 200 || !strings.Contains(r.Text(), "补充问题已保存") || !strings.Contains(r.Text(), "gt5=5 cm or more") {
			t.Fatalf("saving attributes: %d %s", r.Status, snippet(r.Body))
		}
		if attrs, _ := s.App.Cases.Attributes(t.Context(), "E0101"); len(attrs) != 1 || !attrs[0].Required {
			t.Errorf("attributes saved: %+v", attrs)
		}
		r = admin.post("/admin/categories/attributes", url.Values{"code": {"E0101"}, "attributes": {"DEPTH | colour | required | Q"}})
		if r.Status != 400 || !strings.Contains(r.Text(), "colour") {
			t.Errorf("a bad attribute: %d %s", r.Status, snippet(r.Body))
		}
		if r := staff.post("/admin/categories/attributes", url.Values{"code": {"E0101"}, "attributes": {text}}); r.Status != http.StatusForbidden {
			t.Errorf("community staff saving attributes: %d", r.Status)
		}
		if re := rawKeyRE(t); len(rawKeys(re, admin.get("/admin/open311").Body)) > 0 || len(rawKeys(re, admin.get("/admin/categories").Body)) > 0 {
			t.Errorf("untranslated keys on the pages")
		}
	})
}
