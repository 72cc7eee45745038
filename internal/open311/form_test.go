package open311

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// The shapes real clients send: attribute[x] with and without [], query
// and body merged (the body first), empty values absent, FixMyStreet's
// CRLF description and photo parts.
func TestParseForm(t *testing.T) {
	f, err := parseForm("jurisdiction_id=example.gov&attribute%5BHAZ%5D=q&status=",
		"application/x-www-form-urlencoded",
		strings.NewReader("attribute%5BDEPTH%5D=d&attribute%5BHAZ%5D%5B%5D=water&attribute%5BHAZ%5D%5B%5D=cycle&"+
			"description=Big+hole%0D%0A%0D%0AVery+big&jurisdiction_id=body.gov&attribute%5B%5D=x&attribute%5Ba%5D%5Bb%5D=y"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.get("jurisdiction_id"); got != "body.gov" {
		t.Errorf("body before query: %q", got)
	}
	if got := fmt.Sprint(f.attrs); got != "map[DEPTH:[d] HAZ:[q water cycle]]" {
		t.Errorf("attributes: %s", got)
	}
	if f.get("status") != "" || f.get("description") != "Big hole\r\n\r\nVery big" {
		t.Errorf("values: %q %q", f.get("status"), f.get("description"))
	}
	f, _ = parseForm("service_request_id=1,%202,,3&service_request_id=4", "", nil)
	if got := fmt.Sprint(f.list("service_request_id")); got != "[1 2 3 4]" {
		t.Errorf("comma lists: %s", got)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("service_code", "POT")
	mw.WriteField("attribute[uprn]", "1001")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="photo1"; filename="C:\\photos\\12.1.full.jpeg"`)
	h.Set("Content-Type", "image/jpeg")
	pw, _ := mw.CreatePart(h)
	pw.Write([]byte("\xff\xd8\xff\xe0jpeg"))
	fw, _ := mw.CreateFormFile("media", "x.bin")
	fw.Write([]byte("\x89PNG\r\n\x1a\n0000"))
	mw.Close()
	f, err = parseForm("", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.files) != 2 || f.files[0].Name != "12.1.full.jpeg" || f.files[0].ContentType != "image/jpeg" ||
		f.files[1].ContentType != "image/png" || f.get("service_code") != "POT" || f.attrs["uprn"][0] != "1001" {
		t.Errorf("multipart: %+v %v", f.files, f.values)
	}

	for _, tc := range []struct{ query, ct, body, want string }{
		{"a=%zz", "", "", "query"},
		{"", "application/x-www-form-urlencoded", "a=%zz", "body"},
		{"", "multipart/form-data", "x", "boundary"},
		{"", "multipart/form-data; boundary=b", "--b\r\nno-header-end", "multipart"},
		{"", "text/plain; charset", "", "content_type"},
		{strings.Repeat("a=1&", maxFormValues+1), "", "", "params"},
	} {
		_, err := parseForm(tc.query, tc.ct, strings.NewReader(tc.body))
		var fe formError
		if !errors.As(err, &fe) || fe.key != tc.want {
			t.Errorf("parseForm(%q, %q, %q) = %v, want a formError with %q", tc.query, tc.ct, tc.body, err, tc.want)
		}
	}
	// A body over the route's limit is the reader's error, for a 413.
	r, _ := http.NewRequest("POST", "/", strings.NewReader(strings.Repeat("a=1&", 100)))
	r.Body = http.MaxBytesReader(nil, r.Body, 10)
	_, err = parseForm("", "application/x-www-form-urlencoded", r.Body)
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

// FuzzParseForm: no input makes the parser panic, and what it returns
// holds together.
func FuzzParseForm(f *testing.F) {
	f.Add("jurisdiction_id=x", "application/x-www-form-urlencoded", []byte("attribute%5Bx%5D%5B%5D=1&attribute%5Bx%5D=2"))
	f.Add("", "multipart/form-data; boundary=XX", []byte("--XX\r\nContent-Disposition: form-data; name=\"photo1\"; filename=\"a.jpg\"\r\n\r\nabc\r\n--XX--\r\n"))
	f.Add("a=%", "text/plain", []byte("x"))
	f.Fuzz(func(t *testing.T, query, ct string, body []byte) {
		form, err := parseForm(query, ct, bytes.NewReader(body))
		if err != nil {
			var fe formError
			if !errors.As(err, &fe) {
				t.Fatalf("an error that is not the client's: %v", err)
			}
			return
		}
		for code, vals := range form.attrs {
			if code == "" || strings.ContainsAny(code, "[]") || len(vals) == 0 {
				t.Fatalf("attribute %q %q", code, vals)
			}
		}
		if len(form.files) > maxFiles {
			t.Fatalf("%d files", len(form.files))
		}
		for _, v := range form.list("service_request_id") {
			if v == "" || strings.Contains(v, ",") || strings.TrimSpace(v) != v {
				t.Fatalf("list item %q", v)
			}
		}
	})
}

func TestBucket(t *testing.T) {
	var b bucket
	now := time.Unix(1000, 0)
	n := 0
	for range 10 {
		if b.take(2, now) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("burst of a 2/s key: %d", n)
	}
	if !b.take(2, now.Add(500*time.Millisecond)) || b.take(2, now.Add(500*time.Millisecond)) {
		t.Error("half a second later: one more, not two")
	}
	var free bucket
	for range 1000 {
		if !free.take(0, now) {
			t.Fatal("rate 0 is no limit")
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, ok := range []string{"2026-11-01T00:00:00Z", "2026-11-01T08:00:00+08:00", "2026-11-01T00:00:00.017Z"} {
		if _, err := parseTime("start_date", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"2026-11-01", "2026-11-01T00:00:00", "yesterday", ""} {
		if _, err := parseTime("start_date", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestChinesePhone(t *testing.T) {
	for in, want := range map[string]string{"138 0013 8000": "13800138000", "+86 138-0013-8000": "13800138000",
		"(0535) 6688123": "05356688123", "+44 20 7946 0000": "", "call me": ""} {
		got, ok := chinesePhone(in)
		if got != want || ok != (want != "") {
			t.Errorf("chinesePhone(%q) = %q %v", in, got, ok)
		}
	}
}

// The JSON shapes the spec derives from XML: lists stay arrays, empty
// leaves are null, numbers are numbers, ids are strings.
func TestShapes(t *testing.T) {
	rec := httptestRecorder()
	la, lo := 37.5, 121.4
	write(rec, formatJSON, 200, nil, []request{{ID: "202611270000001", Status: "open", Lat: num(&la), Long: num(&lo)}})
	body := rec.body.String()
	for _, want := range []string{`"service_request_id":"202611270000001"`, `"lat":37.5`, `"long":121.4`, `"media_url":null`,
		`"description":null`} {
		if !strings.Contains(body, want) {
			t.Errorf("JSON request lacks %s: %s", want, body)
		}
	}
	rec = httptestRecorder()
	write(rec, formatXML, 200, requestsXML{Requests: []any{request{ID: "1", Status: "open"}}}, nil)
	if !strings.Contains(rec.body.String(), "<lat></lat><long></long><media_url></media_url></request></service_requests>") ||
		rec.header.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Errorf("XML request: %s", rec.body.String())
	}
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func httptestRecorder() *recorder               { return &recorder{header: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// A body over the route's limit is 413 in the spec's format; a form error 400.
func TestProblemOf(t *testing.T) {
	s := &Server{}
	p := s.problemOf(&call{}, &http.MaxBytesError{Limit: 91 << 20})
	if p.status != http.StatusRequestEntityTooLarge || p.faults[0].key != "open311.err.too_large" || p.faults[0].args[0] != int64(91) {
		t.Errorf("over the limit: %+v", p)
	}
	if p := s.problemOf(&call{}, formError{"boundary", nil}); p.status != 400 || p.faults[0].key != "open311.err.boundary" {
		t.Errorf("a form error: %+v", p)
	}
}
