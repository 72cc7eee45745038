package app

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/idcard"
	"github.com/linli/linli/internal/platform/web"
)

// testServer is the whole program, seeded with the demo street, answering
// HTTP on a random port: what the end-to-end and browser tests drive.
type testServer struct {
	App      *App
	URL      string
	Accounts map[auth.Role]DemoAccount
}

// startServer starts Linli on dsn and stops it when t ends; configure
// changes the test configuration.
func startServer(t *testing.T, dsn string, configure ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.DB = dsn
	cfg.Addr = "127.0.0.1:0"
	cfg.KeyFile = filepath.Join(t.TempDir(), "linli.key") // never in the source tree (PostgreSQL runs)
	// Every test client writes from 127.0.0.1, as fast as it can: the
	// per-client rates are tested on their own (TestE2EWriteRates).
	cfg.UserWriteRate, cfg.PublicWriteRate = 0, 0
	for _, c := range configure {
		c(&cfg)
	}
	return serveApp(t, cfg, true)
}

// serveApp runs the app on cfg until t ends; seed fills the empty database
// with the demo street and its accounts (a second node of a deployment
// does not: it shares the first one's database).
func serveApp(t *testing.T, cfg config.Config, seed bool) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, testLogger(t))
	if err != nil {
		cancel()
		t.Fatalf("app.New(%s): %v", cfg.DB, err)
	}
	var accounts []DemoAccount
	if seed {
		accounts, err = a.SeedDemo(ctx)
		if err != nil || len(accounts) == 0 {
			cancel()
			a.Close()
			t.Fatalf("SeedDemo: %d accounts, %v", len(accounts), err)
		}
	}
	l, err := a.Listen()
	if err != nil {
		cancel()
		a.Close()
		t.Fatalf("Listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		a.Close()
	})
	s := &testServer{App: a, URL: "http://" + l.Addr().String(), Accounts: map[auth.Role]DemoAccount{}}
	for _, acc := range accounts {
		s.Accounts[acc.Role] = acc
	}
	return s
}

// eachEngine runs fn against a fresh server on SQLite, and on PostgreSQL
// too when LINLI_TEST_POSTGRES names one.
func eachEngine(t *testing.T, fn func(t *testing.T, s *testServer)) {
	t.Helper()
	engines := dbtest.Engines(t)
	for _, kind := range []db.Kind{db.SQLite, db.Postgres} {
		dsn, ok := engines[kind]
		if !ok {
			continue
		}
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, startServer(t, dsn))
		})
	}
}

// testLogger sends warnings and errors to the test log, and nothing once
// the test has ended (the server may still log while it shuts down).
// Every record, at every level, is also scanned for personal data: a test
// fails when the server logs an ID or a mobile number in clear, so the
// whole end-to-end suite checks that logs stay free of them.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(&piiScan{next: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}), report: w.fail})
}

// piiScan is a slog handler that reports personal data in any record to
// the test, then hands the record on.
type piiScan struct {
	next   slog.Handler
	report func(msg string)
	attrs  []slog.Attr
}

var (
	idInLog    = regexp.MustCompile(`(?:^|[^0-9])([0-9]{17}[0-9Xx])(?:[^0-9]|$)`)
	phoneInLog = regexp.MustCompile(`(?:^|[^0-9])(1[3-9][0-9]{9})(?:[^0-9]|$)`)
)

func (h *piiScan) Enabled(context.Context, slog.Level) bool { return true }

func (h *piiScan) Handle(ctx context.Context, r slog.Record) error {
	texts := []string{r.Message}
	collect := func(a slog.Attr) bool {
		if a.Key != "request_id" { // random hex: its digits are noise
			texts = append(texts, a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		collect(a)
	}
	r.Attrs(collect)
	for _, text := range texts {
		for _, m := range idInLog.FindAllStringSubmatch(text, -1) {
			if _, err := idcard.Parse(m[1]); err == nil {
				h.report("an ID number in the log: " + r.Message)
			}
		}
		if phoneInLog.MatchString(text) {
			h.report("a mobile number in the log: " + r.Message)
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *piiScan) WithAttrs(as []slog.Attr) slog.Handler {
	return &piiScan{next: h.next.WithAttrs(as), report: h.report, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *piiScan) WithGroup(name string) slog.Handler {
	return &piiScan{next: h.next.WithGroup(name), report: h.report, attrs: h.attrs}
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

// fail fails the test, unless it has ended.
func (w *testWriter) fail(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Error(msg)
	}
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(b)))
	}
	return len(b), nil
}

// client is one visitor: a cookie jar, and no redirect following, so that
// tests see every 303 the server sends (get and post follow them on
// request).
type client struct {
	t    *testing.T
	s    *testServer
	http *http.Client
}

func (s *testServer) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, s: s, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is an answer, read in full.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// Text is the body with HTML entities decoded, for looking for phrases.
func (r response) Text() string { return html.UnescapeString(r.Body) }

// Location is the redirect target's path and query.
func (r response) Location() string { return r.Header.Get("Location") }

// Cookie returns the Set-Cookie of name in the answer, or nil.
func (r response) Cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// do sends req and, when follow is set, follows redirects (as a browser
// would after a form post).
func (c *client) do(req *http.Request, follow bool) response {
	c.t.Helper()
	for range 5 {
		res, err := c.http.Do(req)
		if err != nil {
			c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			c.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
		}
		r := response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
		if !follow || r.Status < 300 || r.Status >= 400 {
			return r
		}
		next, err := req.URL.Parse(r.Location())
		if err != nil {
			c.t.Fatalf("bad Location %q: %v", r.Location(), err)
		}
		req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
	}
	c.t.Fatalf("%s %s: too many redirects", req.Method, req.URL.Path)
	return response{}
}

func (c *client) request(method, path string, body io.Reader, header http.Header) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

// get fetches path without following redirects.
func (c *client) get(path string, header ...string) response {
	c.t.Helper()
	return c.do(c.request(http.MethodGet, path, nil, headers(header)), false)
}

// page fetches path following redirects.
func (c *client) page(path string, header ...string) response {
	c.t.Helper()
	return c.do(c.request(http.MethodGet, path, nil, headers(header)), true)
}

// post submits a form without following the redirect that answers it.
func (c *client) post(path string, form url.Values, header ...string) response {
	c.t.Helper()
	h := headers(header)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(c.request(http.MethodPost, path, strings.NewReader(form.Encode()), h), false)
}

// submit posts a form and follows the redirect, as a browser does.
func (c *client) submit(path string, form url.Values, header ...string) response {
	c.t.Helper()
	h := headers(header)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(c.request(http.MethodPost, path, strings.NewReader(form.Encode()), h), true)
}

// headers turns "Name", "value" pairs into a header.
func headers(kv []string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// login logs a new visitor in as the demo account of role.
func (s *testServer) login(t *testing.T, role auth.Role) *client {
	t.Helper()
	acc, ok := s.Accounts[role]
	if !ok {
		t.Fatalf("no demo account for role %s", role)
	}
	c := s.client(t)
	r := c.post("/login", url.Values{"name": {acc.Name}, "password": {acc.Password}})
	if r.Status != http.StatusSeeOther || r.Cookie(web.SessionCookie) == nil {
		t.Fatalf("login as %s: status %d, want 303 with a session cookie; body: %s", acc.Name, r.Status, snippet(r.Body))
	}
	return c
}

// newToken creates an API token through the settings page, as its owner
// would, and returns it.
func (c *client) newToken(name string, days string, scopes ...string) string {
	c.t.Helper()
	r := c.post("/settings/tokens", url.Values{"name": {name}, "scope": scopes, "days": {days}})
	m := newTokenRE.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		c.t.Fatalf("creating token %q: status %d, no #new-token; body: %s", name, r.Status, snippet(r.Body))
	}
	return html.UnescapeString(m[1])
}

var newTokenRE = regexp.MustCompile(`<code id="new-token"[^>]*>([^<]+)</code>`)

// snippet shortens a body for a failure message.
func snippet(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

// pageText returns what a reader of an HTML page sees: the text nodes and
// the attributes read out or shown (title, placeholder, aria-label,
// data-confirm, alt), without scripts and styles. A small scanner is
// enough for Linli's own templates.
func pageText(body string) []string {
	body = scriptOrStyleRE.ReplaceAllString(body, "")
	var out []string
	for _, m := range textNodeRE.FindAllStringSubmatch(body, -1) {
		if s := strings.TrimSpace(html.UnescapeString(m[1])); s != "" {
			out = append(out, s)
		}
	}
	for _, m := range shownAttrRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

var (
	scriptOrStyleRE = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	textNodeRE      = regexp.MustCompile(`>([^<]+)<`)
	shownAttrRE     = regexp.MustCompile(`\b(?:title|placeholder|aria-label|data-confirm|alt)="([^"]*)"`)
)

// rawKeyRE matches what looks like an untranslated message key: one of the
// catalog's key prefixes, a dot, and more ("home.title",
// "home.role_intro.x"), also for keys the catalog lacks (Catalog.T returns
// an unknown key as itself).
func rawKeyRE(t *testing.T) *regexp.Regexp {
	t.Helper()
	cat, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, k := range cat.Keys() {
		p, _, _ := strings.Cut(k, ".")
		if !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	return regexp.MustCompile(`\b(?:` + strings.Join(prefixes, "|") + `)\.[a-z0-9_]+`)
}

// rawKeys lists the visible strings of body that hold a message key.
func rawKeys(re *regexp.Regexp, body string) []string {
	var out []string
	for _, s := range pageText(body) {
		if re.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}
