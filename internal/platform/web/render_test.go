package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/linli/linli/internal/platform/i18n"
)

func testCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load(fstest.MapFS{
		"locales/zh-CN.json": {Data: []byte(`{"greet": "你好", "title": "首页"}`)},
		"locales/en.json":    {Data: []byte(`{"greet": "Hello", "title": "Home"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testLayout = `{{define "layout"}}<title>{{.T .Title}}</title><link href="{{asset "app.css"}}">{{template "content" .}}{{end}}`

func testRenderer(t *testing.T, pages fstest.MapFS) (*Renderer, error) {
	t.Helper()
	pages["templates/layout.html"] = &fstest.MapFile{Data: []byte(testLayout)}
	static := fstest.MapFS{"app.css": {Data: []byte("body{margin:0}")}}
	return NewRenderer(testCatalog(t), static, TemplateSet{FS: pages, Dir: "templates"})
}

func TestPagesRenderOnFirstUseFromManyRequestsAtOnce(t *testing.T) {
	r, err := testRenderer(t, fstest.MapFS{
		"templates/home.html":  {Data: []byte(`{{define "content"}}<p>{{.T "greet"}} {{.Data}}</p>{{end}}`)},
		"templates/other.html": {Data: []byte(`{{define "content"}}<b>other</b>{{end}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	bodies := make([]string, 16)
	for i := range bodies {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			name := "home"
			if i%2 == 1 {
				name = "other"
			}
			if err := r.Page(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, name, PageData{Title: "title", Data: "<x>"}); err != nil {
				t.Error(err)
			}
			bodies[i] = rec.Body.String()
		})
	}
	wg.Wait()
	for i, b := range bodies {
		want := "<p>你好 &lt;x&gt;</p>"
		if i%2 == 1 {
			want = "<b>other</b>"
		}
		if !strings.Contains(b, want) || !strings.Contains(b, "<title>首页</title>") {
			t.Errorf("page %d = %q, want the layout around %q", i, b, want)
		}
	}
	if err := r.Page(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), http.StatusOK, "nope", PageData{}); err == nil {
		t.Error("an unknown page rendered")
	}
}

func TestBrokenPagesFailAtStart(t *testing.T) {
	for name, page := range map[string]string{
		"syntax":          `{{define "content"}}{{if .Data}}{{end}`,
		"unknown func":    `{{define "content"}}{{nosuchfunc .Data}}{{end}}`,
		"missing message": `{{define "content"}}{{.T "not.in.catalog"}}{{end}}`,
	} {
		if _, err := testRenderer(t, fstest.MapFS{"templates/p.html": {Data: []byte(page)}}); err == nil {
			t.Errorf("%s: the renderer started with a broken page", name)
		}
	}
}

func TestStaticFilesServedUnderTheirHash(t *testing.T) {
	r, err := testRenderer(t, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	hashed := r.Asset("app.css")
	if !strings.HasPrefix(hashed, "/static/app.") || hashed == "/static/app.css" {
		t.Fatalf("Asset(app.css) = %q, want a content-hashed name", hashed)
	}
	for path, cache := range map[string]string{
		hashed:             "public, max-age=31536000, immutable",
		"/static/app.css":  "public, max-age=3600",
		"/static/nope.css": "",
	} {
		rec := httptest.NewRecorder()
		r.ServeStatic(rec, httptest.NewRequest("GET", path, nil))
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if cache == "" {
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusOK || string(body) != "body{margin:0}" ||
			res.Header.Get("Cache-Control") != cache || res.Header.Get("Content-Length") != "14" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
			t.Errorf("%s: %d %q %v", path, res.StatusCode, body, res.Header)
		}
	}
}
