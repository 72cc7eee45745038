package volunteer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/web"
	"github.com/linli/linli/internal/registry"
	webassets "github.com/linli/linli/web"
)

// tokens lets the page tests sign in by bearer token: the token names one
// of the fixture's principals.
type tokens map[string]context.Context

func (tokens) Authenticate(context.Context, string) (*auth.Principal, error) {
	return nil, errs.E(errs.Unauthenticated, "err.auth.required")
}

func (t tokens) AuthenticateToken(_ context.Context, token string) (*auth.Principal, error) {
	if ctx, ok := t[token]; ok {
		return auth.From(ctx), nil
	}
	return nil, errs.E(errs.Unauthenticated, "err.auth.bad_token")
}

func (tokens) SetPreferences(context.Context, string, bool) error { return nil }

// pages serves the module's routes as the program does, to the fixture's
// staff ("staff", "other", "street") and the principals in more.
type pages struct {
	t  *testing.T
	ts *httptest.Server
}

func (f *fixture) pages(t *testing.T, more tokens) *pages {
	t.Helper()
	cat, err := i18n.Load(i18n.Platform, area.Locales, registry.Locales, Locales)
	if err != nil {
		t.Fatal(err)
	}
	render, err := web.NewRenderer(cat, webassets.Static(), web.TemplateSet{FS: webassets.Templates, Dir: "templates"},
		web.TemplateSet{FS: Templates, Dir: "templates"})
	if err != nil {
		t.Fatal(err)
	}
	who := tokens{"staff": f.staff, "other": f.other, "street": f.street}
	for k, v := range more {
		who[k] = v
	}
	srv := web.NewServer(cat, render, who, slog.New(slog.DiscardHandler), nil)
	Routes(srv, f.svc)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &pages{t: t, ts: ts}
}

type reply struct {
	status   int
	location string
	body     string
}

// do sends a request as who in lang; a form is posted when form is not nil.
func (s *pages) do(who, lang, path string, form url.Values) reply {
	s.t.Helper()
	method, body := http.MethodGet, io.Reader(nil)
	if form != nil {
		method, body = http.MethodPost, strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, s.ts.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+who)
	req.Header.Set("Accept-Language", lang)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := *s.ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b)}
}

func (s *pages) get(who, path string) reply { return s.do(who, "zh-CN", path, nil) }

func (s *pages) post(who, path string, form url.Values) reply { return s.do(who, "zh-CN", path, form) }

// want fails unless r has the status and every fragment.
func (r reply) want(t *testing.T, what string, status int, fragments ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %.600s", what, r.status, status, r.body)
	}
	for _, f := range fragments {
		if !strings.Contains(r.body, f) {
			t.Fatalf("%s: no %q in %.2000s", what, f, r.body)
		}
	}
}

// rawKey finds a message key left untranslated on a page.
var rawKey = regexp.MustCompile(`\b(?:volunteer|err|notify)\.[a-z_]+\.[a-z_.]+\b`)

func (r reply) translated(t *testing.T, what string) {
	t.Helper()
	if keys := rawKey.FindAllString(r.body, -1); len(keys) > 0 {
		t.Errorf("%s shows message keys: %v", what, keys)
	}
}

func (f *fixture) audited(t *testing.T, action string) int {
	t.Helper()
	var n int
	if err := f.db.Q(context.Background()).QueryRowContext(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = $1", action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decoding %.300s: %v", r.body, err)
	}
	return v
}
