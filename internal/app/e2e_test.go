package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/web"
)

// The end-to-end tests start the whole program on a random port, seeded
// with the demo street, and drive it over HTTP as a browser or an API
// client would: on SQLite, and on PostgreSQL when LINLI_TEST_POSTGRES
// names a server.

// scenario is one request and what a user or client must see: the status,
// phrases of the (entity-decoded) body, and side effects checked by after.
type scenario struct {
	name   string
	as     auth.Role // "" for an anonymous visitor
	token  []string  // when set: send a bearer token of as's with these scopes, no cookie
	method string
	path   string
	header []string // "Name", "value", …
	form   url.Values
	json   string

	status   int
	contains []string
	excludes []string
	apiCode  string // the JSON error envelope's code
	apiField string // a field the envelope must name
	after    func(t *testing.T, r response)
}

func (sc scenario) run(t *testing.T, s *testServer) response {
	t.Helper()
	c := s.client(t)
	h := headers(sc.header)
	if sc.as != "" {
		c = s.login(t, sc.as)
		if sc.token != nil {
			tok := c.newToken("e2e", "1", sc.token...)
			c = s.client(t)
			h.Set("Authorization", "Bearer "+tok)
		}
	}
	var body io.Reader
	switch {
	case sc.form != nil:
		body = strings.NewReader(sc.form.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	case sc.json != "":
		body = strings.NewReader(sc.json)
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
	}
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	r := c.do(c.request(method, sc.path, body, h), false)
	if r.Status != sc.status {
		t.Errorf("%s %s: status %d, want %d; body: %s", method, sc.path, r.Status, sc.status, snippet(r.Body))
	}
	for _, want := range sc.contains {
		if !strings.Contains(r.Text(), want) {
			t.Errorf("%s %s: body lacks %q; body: %s", method, sc.path, want, snippet(r.Body))
		}
	}
	for _, bad := range sc.excludes {
		if strings.Contains(r.Text(), bad) {
			t.Errorf("%s %s: body holds %q; body: %s", method, sc.path, bad, snippet(r.Body))
		}
	}
	if sc.apiCode != "" {
		e := decodeError(t, r)
		if e.Error.Code != sc.apiCode || e.Error.Message == "" {
			t.Errorf("%s %s: error %+v, want code %q with a message", method, sc.path, e.Error, sc.apiCode)
		}
		if sc.apiField != "" && !slices.ContainsFunc(e.Error.Fields, func(f web.FieldMessage) bool {
			return f.Field == sc.apiField && f.Message != ""
		}) {
			t.Errorf("%s %s: error fields %+v do not name %q", method, sc.path, e.Error.Fields, sc.apiField)
		}
	}
	if sc.after != nil {
		sc.after(t, r)
	}
	return r
}

func runScenarios(t *testing.T, s *testServer, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, s) })
	}
}

// decodeError reads the API's JSON error envelope.
func decodeError(t *testing.T, r response) web.ErrorBody {
	t.Helper()
	var e web.ErrorBody
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error answer has Content-Type %q, want JSON; body: %s", ct, snippet(r.Body))
	}
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Errorf("error answer is not the JSON envelope: %v; body: %s", err, snippet(r.Body))
	}
	return e
}

func decodeJSON(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("answer is not JSON: %v; body: %s", err, snippet(r.Body))
	}
}

// count runs a COUNT(*) query on the server's database.
func (s *testServer) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.App.DB.Q(context.Background()).QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (s *testServer) userExists(t *testing.T, name string) bool {
	t.Helper()
	return s.count(t, "SELECT COUNT(*) FROM users WHERE name = $1", name) > 0
}

// mustStatus stops the test when r has another status than want.
func mustStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.Status, want, snippet(r.Body))
	}
}

// has and lacks check phrases of a page.
func has(t *testing.T, what string, r response, phrases ...string) {
	t.Helper()
	for _, p := range phrases {
		if !strings.Contains(r.Text(), p) {
			t.Errorf("%s: page lacks %q; body: %s", what, p, snippet(r.Body))
		}
	}
}

func lacks(t *testing.T, what string, r response, phrases ...string) {
	t.Helper()
	for _, p := range phrases {
		if strings.Contains(r.Text(), p) {
			t.Errorf("%s: page holds %q", what, p)
		}
	}
}

const (
	zhHTML    = `<html lang="zh-CN"`
	enHTML    = `<html lang="en"`
	largeHTML = `class="large">`
)

func TestE2EEachRoleLogsInToItsHomePage(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		tests := []struct {
			role        auth.Role
			roleName    string // the title of the role's card, in Chinese
			scope       string // what the card names as the role's area
			communities int    // the communities the role may see
			adminLink   bool
		}{
			{auth.Admin, "系统管理员", "全部区域", 14, true},
			{auth.Supervisor, "监督考核人员", "莱山区 <small>(370613)</small>", 14, false},
			{auth.StreetStaff, "街道工作人员", "黄海路街道 <small>(370613001)</small>", 14, false},
			{auth.DepartmentHandler, "职能部门处置人员", "黄海路街道 <small>(370613001)</small>", 14, false},
			{auth.CommunityStaff, "社区工作者", "岱山社区居委会 <small>(370613001001)</small>", 1, false},
			{auth.GridWorker, "网格员", "岱山社区第一网格 <small>(370613001001001)</small>", 0, false},
			{auth.Resident, "居民", "岱山社区居委会 <small>(370613001001)</small>", 1, false},
			{auth.Overseer, "居务监督委员会成员", "岱山社区居委会 <small>(370613001001)</small>", 1, false},
		}
		if len(tests) != len(auth.Roles) {
			t.Fatalf("the table covers %d roles; there are %d", len(tests), len(auth.Roles))
		}
		for _, tt := range tests {
			t.Run(string(tt.role), func(t *testing.T) {
				acc := s.Accounts[tt.role]
				c := s.client(t)
				r := c.post("/login", url.Values{"name": {acc.Name}, "password": {acc.Password}})
				if r.Status != http.StatusSeeOther || r.Location() != "/" {
					t.Fatalf("login: status %d to %q, want 303 to /; body: %s", r.Status, r.Location(), snippet(r.Body))
				}
				r = c.get("/")
				mustStatus(t, "home", r, http.StatusOK)
				has(t, "home", r, zhHTML, "<h1>工作台</h1>", "<h2>"+tt.roleName+"</h2>", "负责区域：", tt.scope,
					fmt.Sprintf("<dt>社区</dt><dd>%d</dd>", tt.communities))
				if got := strings.Contains(r.Body, `href="/admin/users"`); got != tt.adminLink {
					t.Errorf("home links to /admin/users: %v, want %v", got, tt.adminLink)
				}
				if strings.Contains(r.Body, "<h2>Workbench") || strings.Contains(r.Body, "Grid worker") {
					t.Errorf("home of %s shows English by default", acc.Name)
				}
			})
		}
		t.Run("anonymous is sent to the login page", func(t *testing.T) {
			r := s.client(t).get("/")
			if r.Status != http.StatusSeeOther || r.Location() != "/login?next=%2F" {
				t.Errorf("GET / anonymously: status %d to %q, want 303 to /login?next=%%2F", r.Status, r.Location())
			}
		})
		t.Run("login returns to the page asked for", func(t *testing.T) {
			acc := s.Accounts[auth.GridWorker]
			r := s.client(t).post("/login", url.Values{"name": {acc.Name}, "password": {acc.Password}, "next": {"/areas"}})
			if r.Status != http.StatusSeeOther || r.Location() != "/areas" {
				t.Errorf("login with next=/areas: status %d to %q", r.Status, r.Location())
			}
			r = s.client(t).post("/login", url.Values{"name": {acc.Name}, "password": {acc.Password}, "next": {"//evil.example/"}})
			if r.Location() != "/" {
				t.Errorf("login with next=//evil.example/ redirects to %q, want /", r.Location())
			}
		})
		t.Run("logout ends the session", func(t *testing.T) {
			c := s.login(t, auth.GridWorker)
			r := c.post("/logout", nil)
			if r.Status != http.StatusSeeOther || r.Location() != "/login" {
				t.Errorf("logout: status %d to %q", r.Status, r.Location())
			}
			if r := c.get("/"); r.Status != http.StatusSeeOther {
				t.Errorf("GET / after logout: status %d, want 303 to the login page", r.Status)
			}
		})
	})
}

func TestE2ELanguage(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		t.Run("query chooses and a cookie remembers", func(t *testing.T) {
			c := s.login(t, auth.GridWorker)
			r := c.get("/?lang=en")
			mustStatus(t, "/?lang=en", r, http.StatusOK)
			has(t, "/?lang=en", r, enHTML, "<h1>Workbench</h1>", "<h2>Grid worker</h2>")
			lacks(t, "/?lang=en", r, "工作台")
			if ck := r.Cookie(web.LangCookie); ck == nil || ck.Value != "en" {
				t.Errorf("/?lang=en sets language cookie %v, want en", ck)
			}
			r = c.get("/")
			has(t, "next request", r, enHTML, "<h1>Workbench</h1>")
			r = c.get("/?lang=zh-CN")
			has(t, "/?lang=zh-CN", r, zhHTML, "<h1>工作台</h1>")
			has(t, "request after /?lang=zh-CN", c.get("/"), zhHTML)
		})
		t.Run("anonymous visitors are remembered too", func(t *testing.T) {
			c := s.client(t)
			has(t, "/login?lang=en", c.get("/login?lang=en"), enHTML, "<h1>Log in</h1>")
			has(t, "/login", c.get("/login"), enHTML, "<h1>Log in</h1>")
		})
		t.Run("prefs are stored on the account", func(t *testing.T) {
			c := s.login(t, auth.Resident)
			r := c.post("/prefs", url.Values{"lang": {"en"}, "back": {"/settings"}})
			if r.Status != http.StatusSeeOther || r.Location() != "/settings" {
				t.Fatalf("POST /prefs: status %d to %q, want 303 to /settings", r.Status, r.Location())
			}
			has(t, "settings after choosing English", c.get("/settings"), enHTML, "<h1>Settings</h1>")
			// Another device: no cookies, the account decides.
			fresh := s.login(t, auth.Resident)
			has(t, "home on a fresh login", fresh.get("/"), enHTML, "<h1>Workbench</h1>", "<h2>Resident</h2>")
			// And back to Chinese.
			fresh.post("/prefs", url.Values{"lang": {"zh-CN"}, "back": {"/"}})
			has(t, "home after choosing Chinese", s.login(t, auth.Resident).get("/"), zhHTML, "<h1>工作台</h1>")
		})
		t.Run("Accept-Language is honoured without a cookie", func(t *testing.T) {
			c := s.client(t)
			has(t, "en-US", c.get("/login", "Accept-Language", "en-US,en;q=0.9"), enHTML, "<h1>Log in</h1>")
			has(t, "zh", c.get("/login", "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"), zhHTML, "<h1>登录</h1>")
			has(t, "fr falls back to Chinese", c.get("/login", "Accept-Language", "fr-FR"), zhHTML)
		})
		runScenarios(t, s, []scenario{
			{name: "unsupported lang on a page", path: "/?lang=fr", status: http.StatusBadRequest,
				contains: []string{zhHTML, "不支持的语言“fr”", "zh-CN", "en"},
				after: func(t *testing.T, r response) {
					if r.Cookie(web.LangCookie) != nil {
						t.Errorf("a refused language set a cookie")
					}
				}},
			{name: "unsupported lang on an English page", path: "/login?lang=fr", header: []string{"Accept-Language", "en"},
				status: http.StatusBadRequest, contains: []string{enHTML, `Language "fr" is not supported`}},
			{name: "unsupported lang in the API", path: "/api/v1/me?lang=fr", status: http.StatusBadRequest,
				apiCode: "invalid", apiField: "lang", contains: []string{"fr"}},
			{name: "unsupported lang in prefs", method: http.MethodPost, path: "/prefs", form: url.Values{"lang": {"fr"}},
				status: http.StatusBadRequest, contains: []string{"不支持的语言“fr”"},
				after: func(t *testing.T, r response) {
					if r.Cookie(web.LangCookie) != nil {
						t.Errorf("a refused language set a cookie")
					}
				}},
		})
	})
}

func TestE2ELargeText(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		t.Run("logged in", func(t *testing.T) {
			c := s.login(t, auth.CommunityStaff)
			r := c.get("/")
			lacks(t, "home before", r, largeHTML)
			has(t, "home before", r, `id="large-on"`)
			r = c.post("/prefs", url.Values{"large": {"1"}, "back": {"/"}})
			if r.Status != http.StatusSeeOther || r.Location() != "/" {
				t.Fatalf("POST /prefs large=1: status %d to %q", r.Status, r.Location())
			}
			for _, path := range []string{"/", "/settings", "/areas"} {
				r := c.get(path)
				has(t, path, r, zhHTML+` `+largeHTML, `id="large-off"`)
			}
			has(t, "home on a fresh login", s.login(t, auth.CommunityStaff).get("/"), largeHTML)
			c.post("/prefs", url.Values{"large": {"0"}, "back": {"/"}})
			lacks(t, "home after large=0", c.get("/"), largeHTML)
			lacks(t, "home on a fresh login after large=0", s.login(t, auth.CommunityStaff).get("/"), largeHTML)
		})
		t.Run("anonymous, then logging in", func(t *testing.T) {
			c := s.client(t)
			r := c.submit("/prefs", url.Values{"large": {"1"}, "back": {"/login"}})
			has(t, "login page after large=1", r, `<h1>登录</h1>`, largeHTML)
			has(t, "login page again", c.get("/login"), largeHTML)
			acc := s.Accounts[auth.Supervisor]
			r = c.submit("/login", url.Values{"name": {acc.Name}, "password": {acc.Password}})
			has(t, "home after logging in", r, "<h1>工作台</h1>", largeHTML)
		})
	})
}

func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		noSession := func(t *testing.T, r response) {
			t.Helper()
			if ck := r.Cookie(web.SessionCookie); ck != nil && ck.Value != "" {
				t.Errorf("a refused request got a session cookie")
			}
		}
		newUser := func(name string) string {
			return fmt.Sprintf(`{"name":%q,"password":"a-long-password","role":"resident","area":"370613001001"}`, name)
		}
		userAbsent := func(name string) func(t *testing.T, r response) {
			return func(t *testing.T, r response) {
				if s.userExists(t, name) {
					t.Errorf("user %q was created by a refused request", name)
				}
			}
		}
		adminForm := func(name string) url.Values {
			return url.Values{"name": {name}, "password": {"a-long-password"}, "role": {"resident"}, "area": {"370613001001"}}
		}
		big := strings.Repeat("x", 2<<20)
		runScenarios(t, s, []scenario{
			{name: "wrong password", method: http.MethodPost, path: "/login",
				form:   url.Values{"name": {"gridworker"}, "password": {"not-the-password"}},
				status: http.StatusUnauthorized, contains: []string{"用户名或密码错误", `value="gridworker"`},
				excludes: []string{"not-the-password"},
				after: func(t *testing.T, r response) {
					noSession(t, r)
					if n := s.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'user.login'
						AND outcome = 'denied' AND target_id = 'gridworker'`); n != 1 {
						t.Errorf("audit_log holds %d denied logins of gridworker, want 1", n)
					}
				}},
			{name: "forged session cookie", path: "/settings", header: []string{"Cookie", web.SessionCookie + "=forged.secret"},
				status: http.StatusSeeOther,
				after: func(t *testing.T, r response) {
					if r.Location() != "/login?next=%2Fsettings" {
						t.Errorf("redirected to %q, want the login page", r.Location())
					}
					if ck := r.Cookie(web.SessionCookie); ck == nil || ck.MaxAge >= 0 {
						t.Errorf("the forged cookie was not cleared: %v", ck)
					}
				}},
			{name: "forged bearer token", path: "/api/v1/me", header: []string{"Authorization", "Bearer lnl_forged.secret"},
				status: http.StatusUnauthorized, apiCode: "unauthenticated", contains: []string{"API 令牌无效"}},
			{name: "not a bearer token", path: "/api/v1/me", header: []string{"Authorization", "Basic YWRtaW46YWRtaW4="},
				status: http.StatusUnauthorized, apiCode: "unauthenticated"},
			{name: "API without credentials", path: "/api/v1/me", status: http.StatusUnauthorized, apiCode: "unauthenticated",
				contains: []string{"请先登录"}},
			{name: "cross-site form post", as: auth.Admin, method: http.MethodPost, path: "/admin/users",
				header: []string{"Sec-Fetch-Site", "cross-site"}, form: adminForm("csrf-victim"),
				status: http.StatusForbidden, contains: []string{"请求来自其他网站"}, after: userAbsent("csrf-victim")},
			{name: "foreign origin form post", as: auth.Admin, method: http.MethodPost, path: "/admin/users",
				header: []string{"Origin", "http://evil.example"}, form: adminForm("csrf-victim2"),
				status: http.StatusForbidden, contains: []string{"请求来自其他网站"}, after: userAbsent("csrf-victim2")},
			{name: "same-origin form post", as: auth.Admin, method: http.MethodPost, path: "/admin/users",
				header: []string{"Sec-Fetch-Site", "same-origin"}, form: adminForm("same-origin"),
				status: http.StatusOK, contains: []string{"账号已创建"},
				after: func(t *testing.T, r response) {
					if !s.userExists(t, "same-origin") {
						t.Errorf("a same-origin form post did not create its user")
					}
				}},
			{name: "oversize form", method: http.MethodPost, path: "/login", form: url.Values{"name": {big}},
				status: http.StatusRequestEntityTooLarge, contains: []string{"提交的内容太大，上限为 1024 KB"}, after: noSession},
			{name: "oversize JSON", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: `{"name":"big","display_name":"` + big + `"}`,
				status: http.StatusRequestEntityTooLarge, apiCode: "too_large", after: userAbsent("big")},
			{name: "malformed JSON", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: `{"name" "broken"}`,
				status: http.StatusBadRequest, apiCode: "invalid", contains: []string{"JSON 格式错误"}, after: userAbsent("broken")},
			{name: "truncated JSON", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: `{"name": "cut`,
				status: http.StatusBadRequest, apiCode: "invalid", contains: []string{"JSON 格式错误"}},
			{name: "unknown JSON field", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: strings.Replace(newUser("colourful"), "{", `{"colour":"red",`, 1),
				status: http.StatusBadRequest, apiCode: "invalid", apiField: "colour", contains: []string{"不认识这个字段"},
				after: userAbsent("colourful")},
			{name: "wrong JSON type", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: `{"name": 5}`,
				status: http.StatusBadRequest, apiCode: "invalid", apiField: "name"},
			{name: "not JSON", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: newUser("plain"), header: []string{"Content-Type", "text/plain"},
				status: http.StatusBadRequest, apiCode: "invalid", contains: []string{"application/json"}, after: userAbsent("plain")},
			{name: "invalid user in JSON", as: auth.Admin, token: []string{"write", "admin"}, method: http.MethodPost,
				path: "/api/v1/users", json: `{"name":"Bad Name!","password":"short","role":"mayor"}`,
				status: http.StatusBadRequest, apiCode: "invalid", apiField: "password",
				contains: []string{"用户名须为", "密码至少 10 位", "没有“mayor”这个角色"}},
		})

		t.Run("throttled after five failures", func(t *testing.T) {
			ctx := auth.WithPrincipal(context.Background(), auth.System())
			const password = "the-right-password"
			if _, err := s.App.Auth.CreateUser(ctx, auth.NewUser{Name: "guessed", Password: password,
				Role: auth.Resident, AreaCode: "370613001001"}); err != nil {
				t.Fatal(err)
			}
			c := s.client(t)
			for i := range 5 {
				r := c.post("/login", url.Values{"name": {"guessed"}, "password": {fmt.Sprintf("guess-%d", i)}})
				if r.Status != http.StatusUnauthorized {
					t.Fatalf("failure %d: status %d, want 401", i+1, r.Status)
				}
			}
			// Even the right password waits now.
			r := c.post("/login", url.Values{"name": {"guessed"}, "password": {password}})
			if r.Status != http.StatusTooManyRequests {
				t.Fatalf("6th attempt: status %d, want 429; body: %s", r.Status, snippet(r.Body))
			}
			if r.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
			has(t, "6th attempt", r, "登录失败次数过多")
			noSession(t, r)
			// Other accounts are not locked out by it.
			s.login(t, auth.GridWorker)
		})
		t.Run("a real session id with a forged secret", func(t *testing.T) {
			r := s.client(t).post("/login", url.Values{"name": {"street"}, "password": {s.Accounts[auth.StreetStaff].Password}})
			ck := r.Cookie(web.SessionCookie)
			if ck == nil {
				t.Fatal("no session cookie")
			}
			selector, _, _ := strings.Cut(ck.Value, ".")
			c := s.client(t)
			r = c.get("/", "Cookie", web.SessionCookie+"="+selector+".forgedsecret")
			if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
				t.Errorf("forged secret: status %d to %q, want the login page", r.Status, r.Location())
			}
			r = c.get("/", "Cookie", web.SessionCookie+"="+ck.Value)
			mustStatus(t, "the genuine cookie still works", r, http.StatusOK)
		})
	})
}

func TestE2EAPITokens(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		lacks(t, "settings before", admin.get("/settings"), `id="new-token"`)
		tok := admin.newToken("ci-read", "30", "read")
		if !strings.HasPrefix(tok, "lnl_") {
			t.Errorf("token %q does not start with lnl_", tok)
		}
		r := admin.get("/settings")
		has(t, "settings after", r, "ci-read", "读取", "有效")
		lacks(t, "settings after", r, `id="new-token"`, tok)

		api := s.client(t)
		bearer := func(tok string, kv ...string) []string {
			return append([]string{"Authorization", "Bearer " + tok}, kv...)
		}

		r = api.get("/api/v1/me", bearer(tok, "X-Request-Id", "e2e-me-1")...)
		mustStatus(t, "/api/v1/me", r, http.StatusOK)
		if got := r.Header.Get("X-Request-Id"); got != "e2e-me-1" {
			t.Errorf("X-Request-Id %q, want e2e-me-1 echoed", got)
		}
		var me struct {
			Name   string `json:"name"`
			Grants []struct {
				Role string `json:"role"`
			} `json:"grants"`
		}
		decodeJSON(t, r, &me)
		if me.Name != "admin" || len(me.Grants) != 1 || me.Grants[0].Role != "admin" {
			t.Errorf("/api/v1/me = %+v, want admin with the admin grant", me)
		}
		if r.Cookie(web.SessionCookie) != nil {
			t.Errorf("a token request got a session cookie")
		}

		r = api.get("/api/v1/me", bearer(tok, "X-Request-Id", "not a valid id!")...)
		if got := r.Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(got) {
			t.Errorf("a malformed X-Request-Id came back as %q, want a fresh id", got)
		}

		h := headers(bearer(tok, "X-Request-Id", "e2e-create-1", "Content-Type", "application/json"))
		r = api.do(api.request(http.MethodPost, "/api/v1/users", strings.NewReader(
			`{"name":"by-read-token","password":"a-long-password","role":"resident","area":"370613001001"}`), h), false)
		if r.Status != http.StatusForbidden {
			t.Errorf("POST /api/v1/users with a read token: status %d, want 403", r.Status)
		}
		if e := decodeError(t, r); e.Error.Code != "forbidden" || e.Error.RequestID != "e2e-create-1" {
			t.Errorf("error envelope %+v, want forbidden with request id e2e-create-1", e.Error)
		}
		if s.userExists(t, "by-read-token") {
			t.Errorf("a read token created a user")
		}
		if r := api.get("/api/v1/users", bearer(tok)...); r.Status != http.StatusForbidden {
			t.Errorf("GET /api/v1/users with a read token: status %d, want 403 (needs the admin scope)", r.Status)
		}
		if r := api.get("/api/v1/areas", bearer(tok)...); r.Status != http.StatusOK {
			t.Errorf("GET /api/v1/areas with a read token: status %d, want 200", r.Status)
		}

		// Revoking ends the token.
		m := regexp.MustCompile(`action="(/settings/tokens/\d+/revoke)"`).FindStringSubmatch(admin.get("/settings").Body)
		if m == nil {
			t.Fatal("settings page has no revoke button")
		}
		if r := admin.post(m[1], nil); r.Status != http.StatusSeeOther {
			t.Fatalf("revoke: status %d", r.Status)
		}
		has(t, "settings after revoking", admin.get("/settings"), "已撤销")
		r = api.get("/api/v1/me", bearer(tok)...)
		if r.Status != http.StatusUnauthorized || decodeError(t, r).Error.Code != "unauthenticated" {
			t.Errorf("revoked token: status %d, want 401 unauthenticated", r.Status)
		}

		// A token with the write and admin scopes may create accounts.
		wtok := admin.newToken("provisioning", "0", "write", "admin")
		h = headers(bearer(wtok, "Content-Type", "application/json"))
		r = api.do(api.request(http.MethodPost, "/api/v1/users", strings.NewReader(
			`{"name":"by-api","display_name":"接口用户","password":"a-long-password","role":"resident","area":"370613001002"}`), h), false)
		mustStatus(t, "POST /api/v1/users with write+admin", r, http.StatusCreated)
		r = api.get("/api/v1/users", bearer(wtok)...)
		has(t, "GET /api/v1/users", r, `"name":"by-api"`, `"area":"370613001002"`)

		// A bad token form is refused with its field named.
		r = admin.post("/settings/tokens", url.Values{"name": {"x"}, "scope": {"root"}, "days": {"30"}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("token with scope root: status %d, want 400", r.Status)
		}
		has(t, "token with scope root", r, "没有“root”这个令牌权限范围")
		lacks(t, "token with scope root", r, `id="new-token"`)
	})
}

func TestE2EAreaScopes(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		areaCodes := func(t *testing.T, r response) []string {
			t.Helper()
			var page struct {
				Items []struct {
					Code string `json:"code"`
				} `json:"items"`
			}
			decodeJSON(t, r, &page)
			var out []string
			for _, a := range page.Items {
				out = append(out, a.Code)
			}
			return out
		}
		wantCodes := func(want ...string) func(t *testing.T, r response) {
			return func(t *testing.T, r response) {
				if got := areaCodes(t, r); !slices.Equal(got, want) {
					t.Errorf("area codes %v, want %v", got, want)
				}
			}
		}
		wantCount := func(n int) func(t *testing.T, r response) {
			return func(t *testing.T, r response) {
				if got := areaCodes(t, r); len(got) != n {
					t.Errorf("%d areas, want %d: %v", len(got), n, got)
				}
			}
		}
		runScenarios(t, s, []scenario{
			{name: "community staff: a neighbouring community", as: auth.CommunityStaff, path: "/api/v1/areas/370613001002",
				status: http.StatusNotFound, apiCode: "not_found", contains: []string{"370613001002", "不在您的负责范围内"},
				excludes: []string{"黄海社区"}},
			{name: "community staff: the street above", as: auth.CommunityStaff, path: "/api/v1/areas/370613001",
				status: http.StatusNotFound, apiCode: "not_found"},
			{name: "community staff: own community", as: auth.CommunityStaff, path: "/api/v1/areas/370613001001",
				status: http.StatusOK, contains: []string{`"code":"370613001001"`, "岱山社区居委会", `"level":"community"`}},
			{name: "community staff: list", as: auth.CommunityStaff, path: "/api/v1/areas",
				status: http.StatusOK, after: wantCodes("370613001001", "370613001001001", "370613001001002", "370613001001003")},
			{name: "community staff: page", as: auth.CommunityStaff, path: "/areas",
				status: http.StatusOK, contains: []string{"岱山社区居委会"}, excludes: []string{"黄海社区居委会", "黄海路街道"}},
			{name: "community staff: page of a neighbour", as: auth.CommunityStaff, path: "/areas/370613001002",
				status: http.StatusNotFound, contains: []string{"找不到区域 370613001002"}},
			{name: "unknown area", as: auth.Admin, path: "/api/v1/areas/999999",
				status: http.StatusNotFound, apiCode: "not_found", contains: []string{"999999"}},
			// 1 district, 1 street, 14 communities and their 63 demo grids.
			{name: "admin: list", as: auth.Admin, path: "/api/v1/areas", status: http.StatusOK, after: wantCount(79)},
			{name: "admin: neighbouring community", as: auth.Admin, path: "/api/v1/areas/370613001002",
				status: http.StatusOK, contains: []string{"黄海社区居委会"}},
			{name: "street staff: communities", as: auth.StreetStaff, path: "/api/v1/areas?level=community",
				status: http.StatusOK, after: wantCount(14)},
			{name: "street staff: bad level", as: auth.StreetStaff, path: "/api/v1/areas?level=planet",
				status: http.StatusBadRequest, apiCode: "invalid", apiField: "level"},
			{name: "grid worker: admin page", as: auth.GridWorker, path: "/admin/users",
				status: http.StatusForbidden, contains: []string{zhHTML, "您没有权限进行此操作"}, excludes: []string{"u-name"}},
			{name: "grid worker: admin post", as: auth.GridWorker, method: http.MethodPost, path: "/admin/users",
				form:   url.Values{"name": {"sneaky"}, "password": {"a-long-password"}, "role": {"admin"}},
				status: http.StatusForbidden, contains: []string{"您没有权限"},
				after: func(t *testing.T, r response) {
					if s.userExists(t, "sneaky") {
						t.Errorf("a grid worker created an administrator")
					}
				}},
			{name: "supervisor: users API", as: auth.Supervisor, path: "/api/v1/users",
				status: http.StatusForbidden, apiCode: "forbidden"},
			{name: "anonymous: areas API", path: "/api/v1/areas", status: http.StatusUnauthorized, apiCode: "unauthenticated"},
		})
	})
}

func TestE2EOperations(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		metricsTok := admin.newToken("prometheus", "0", "metrics")
		readTok := admin.newToken("reader", "0", "read")
		bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
		runScenarios(t, s, []scenario{
			{name: "healthz", path: "/healthz", status: http.StatusOK, contains: []string{`"status":"ok"`}},
			{name: "readyz", path: "/readyz", status: http.StatusOK, contains: []string{`"status":"ready"`, `"schema":`},
				after: func(t *testing.T, r response) {
					var v struct {
						Status string `json:"status"`
						Schema int64  `json:"schema"`
					}
					decodeJSON(t, r, &v)
					if v.Schema <= 0 {
						t.Errorf("readyz schema %d, want the migrated version", v.Schema)
					}
				}},
			{name: "metrics, anonymous", path: "/metrics", status: http.StatusSeeOther,
				excludes: []string{"linli_http_request_duration_seconds"},
				after: func(t *testing.T, r response) {
					if !strings.HasPrefix(r.Location(), "/login") {
						t.Errorf("anonymous /metrics sent to %q, want the login page", r.Location())
					}
				}},
			{name: "metrics, forged token", path: "/metrics", header: bearer("lnl_forged.token"), status: http.StatusUnauthorized,
				excludes: []string{"linli_http_request_duration_seconds"}},
			{name: "metrics, read token", path: "/metrics", header: bearer(readTok), status: http.StatusForbidden,
				excludes: []string{"linli_http_request_duration_seconds"}},
			{name: "metrics, grid worker", as: auth.GridWorker, path: "/metrics", status: http.StatusForbidden,
				excludes: []string{"linli_http_request_duration_seconds"}},
			{name: "metrics, metrics token", path: "/metrics", header: bearer(metricsTok), status: http.StatusOK,
				contains: []string{"linli_http_request_duration_seconds_bucket", `route="GET /healthz"`, "linli_jobs_due ", "linli_jobs_pending ", "linli_jobs_failed_24h "},
				after: func(t *testing.T, r response) {
					if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
						t.Errorf("metrics Content-Type %q, want Prometheus text", ct)
					}
					// SQLite's single writer tells how long writes queue and
					// take until durable; PostgreSQL has no such writer.
					writer := strings.Contains(r.Body, "linli_db_write_seconds_bucket")
					if sqlite := s.App.DB.Kind == db.SQLite; writer != sqlite {
						t.Errorf("writer metrics shown: %v, on SQLite: %v", writer, sqlite)
					}
				}},
			{name: "unknown page", path: "/no-such-page", status: http.StatusNotFound, contains: []string{"找不到这个页面"}},
			{name: "unknown API path", path: "/api/v1/no-such-thing", status: http.StatusNotFound, apiCode: "not_found"},
		})
	})
}

// secureHeaders checks the headers every answer carries: a strict
// Content-Security-Policy without unsafe script, no framing, no sniffing.
func secureHeaders(t *testing.T, path string, r response) {
	t.Helper()
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy allows unsafe script: %q", path, csp)
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s: %s %q, want %q", path, name, got, want)
		}
	}
}

func TestE2ESecurityHeaders(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		c := s.client(t)
		for _, path := range []string{"/login", "/healthz", "/no-such-page"} {
			secureHeaders(t, path, c.get(path))
		}

		acc := s.Accounts[auth.GridWorker]
		r := c.post("/login", url.Values{"name": {acc.Name}, "password": {acc.Password}})
		ck := r.Cookie(web.SessionCookie)
		if ck == nil {
			t.Fatal("login set no session cookie")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Lax, /", ck.HttpOnly, ck.SameSite, ck.Path)
		}

		// The strict policy holds only if the pages need no inline script
		// or style: every script and stylesheet is a file under /static/.
		home := c.get("/")
		mustStatus(t, "home", home, http.StatusOK)
		scripts := regexp.MustCompile(`(?s)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(home.Body, -1)
		if len(scripts) == 0 {
			t.Errorf("home page has no script tag; the check below would pass vacuously")
		}
		for _, m := range scripts {
			src := regexp.MustCompile(`src="([^"]*)"`).FindStringSubmatch(m[1])
			if src == nil || !strings.HasPrefix(src[1], "/static/") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("script %q is not a file under /static/", m[0])
				continue
			}
			js := c.get(src[1])
			if js.Status != http.StatusOK || !strings.Contains(js.Header.Get("Content-Type"), "javascript") {
				t.Errorf("%s: status %d, Content-Type %q", src[1], js.Status, js.Header.Get("Content-Type"))
			}
		}
		for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "javascript:"} {
			if strings.Contains(home.Body, bad) {
				t.Errorf("home page holds %q, which the Content-Security-Policy blocks", bad)
			}
		}
	})
}

func TestE2EAdminCreatesUsers(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, s *testServer) {
		admin := s.login(t, auth.Admin)
		r := admin.get("/admin/users")
		mustStatus(t, "/admin/users", r, http.StatusOK)
		for _, acc := range s.Accounts {
			has(t, "/admin/users", r, `id="user-`+acc.Name+`"`)
		}

		r = admin.post("/admin/users", url.Values{"name": {"gw3"}, "display_name": {"网格员 刘洋"},
			"password": {"a-long-password"}, "role": {"grid_worker"}, "area": {"370613001003"}})
		mustStatus(t, "creating gw3", r, http.StatusOK)
		has(t, "creating gw3", r, "账号已创建", `id="user-gw3"`, "网格员 刘洋", "网格员 · 海滨社区居委会 (370613001003)")
		lacks(t, "creating gw3", r, "a-long-password", `role="alert"`)
		has(t, "the list afterwards", admin.get("/admin/users"), `id="user-gw3"`)

		// The new account works, within its community only.
		gw := s.client(t)
		if r := gw.post("/login", url.Values{"name": {"gw3"}, "password": {"a-long-password"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("gw3 logs in: status %d", r.Status)
		}
		has(t, "gw3's home", gw.get("/"), "<h2>网格员</h2>", "海滨社区居委会 <small>(370613001003)</small>", "<dt>社区</dt><dd>1</dd>")

		tests := []struct {
			name   string
			form   url.Values
			status int
			want   []string
		}{
			{"unknown area", url.Values{"name": {"gw4"}, "role": {"grid_worker"}, "area": {"370613009999"}},
				http.StatusBadRequest, []string{"没有代码为 370613009999 的区域", `value="370613009999"`}},
			{"area missing", url.Values{"name": {"gw4"}, "role": {"grid_worker"}},
				http.StatusBadRequest, []string{"角色“grid_worker”必须指定负责的区域"}},
			{"admin with an area", url.Values{"name": {"gw4"}, "role": {"admin"}, "area": {"370613001003"}},
				http.StatusBadRequest, []string{"系统管理员的授权覆盖全部区域"}},
			{"bad name", url.Values{"name": {"G W"}, "role": {"grid_worker"}, "area": {"370613001003"}},
				http.StatusBadRequest, []string{"用户名须为 2–32 位小写字母"}},
			{"name taken", url.Values{"name": {"gw3"}, "role": {"grid_worker"}, "area": {"370613001003"}},
				http.StatusConflict, []string{"用户名“gw3”已被使用"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				users := s.count(t, "SELECT COUNT(*) FROM users")
				tt.form.Set("password", "another-long-password")
				tt.form.Set("display_name", "新同事")
				r := admin.post("/admin/users", tt.form)
				if r.Status != tt.status {
					t.Errorf("status %d, want %d", r.Status, tt.status)
				}
				has(t, tt.name, r, append([]string{`role="alert"`, `id="create-user"`, `value="新同事"`}, tt.want...)...)
				lacks(t, tt.name, r, "another-long-password", "账号已创建")
				if n := s.count(t, "SELECT COUNT(*) FROM users"); n != users {
					t.Errorf("users %d → %d after a refused form", users, n)
				}
			})
		}
	})
}

func TestE2EPagesRenderInBothLanguages(t *testing.T) {
	t.Parallel()
	keyRE := rawKeyRE(t)
	titles := map[string][2]string{ // path → h1 in Chinese, English
		"/":             {"工作台", "Workbench"},
		"/settings":     {"个人设置", "Settings"},
		"/areas":        {"区划与网格", "Areas and grids"},
		"/admin/users":  {"账号与授权", "Accounts and grants"},
		"/login":        {"登录", "Log in"},
		"/no-such-page": {"出错了", "Something went wrong"},
	}
	check := func(t *testing.T, c *client, path string, status int) {
		t.Helper()
		for i, lang := range []string{"zh-CN", "en"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := c.get(path + sep + "lang=" + lang)
			secureHeaders(t, path, r)
			if r.Status != status {
				t.Errorf("%s in %s: status %d, want %d; body: %s", path, lang, r.Status, status, snippet(r.Body))
				continue
			}
			base, _, _ := strings.Cut(path, "?")
			if status >= 400 {
				base = "/no-such-page" // the error page
			}
			has(t, path+" in "+lang, r, `<html lang="`+lang+`"`)
			if title, ok := titles[base]; ok {
				has(t, path+" in "+lang, r, "<h1>"+title[i]+"</h1>")
			}
			if keys := rawKeys(keyRE, r.Body); len(keys) > 0 {
				t.Errorf("%s in %s shows message keys: %q", path, lang, keys)
			}
		}
	}
	eachEngine(t, func(t *testing.T, s *testServer) {
		for _, role := range auth.Roles {
			t.Run(string(role), func(t *testing.T) {
				c := s.login(t, role)
				own := "/areas/370613001001"
				if role == auth.GridWorker {
					own = "/areas/370613001001001" // a grid worker sees their grid only
				}
				for _, path := range []string{"/", "/settings", "/areas", own, "/map"} {
					check(t, c, path, http.StatusOK)
				}
				for _, l := range roleLinks[role] { // every page the home page offers the role
					check(t, c, l.Href, http.StatusOK)
				}
				if role == auth.Admin {
					check(t, c, "/admin/users", http.StatusOK)
					c.newToken("listed", "30", "read", "metrics")
					check(t, c, "/settings", http.StatusOK) // with a token in the list
				} else {
					check(t, c, "/admin/users", http.StatusForbidden)
				}
				check(t, c, "/no-such-page", http.StatusNotFound)
			})
		}
		t.Run("anonymous", func(t *testing.T) {
			c := s.client(t)
			check(t, c, "/login", http.StatusOK)
			check(t, c, "/no-such-page", http.StatusNotFound)
		})
	})
}

// TestRawKeyCheckCanFail keeps the page check above honest: it must see a
// key that leaked into text or a shown attribute, and nothing in Linli's
// ordinary content.
func TestRawKeyCheckCanFail(t *testing.T) {
	re := rawKeyRE(t)
	leaked := `<p>您好</p><h2>home.role_intro.mayor</h2><button data-confirm="settings.token_revoke_confirm">x</button>`
	if got := rawKeys(re, leaked); len(got) != 2 {
		t.Errorf("rawKeys found %q, want the two leaked keys", got)
	}
	clean := `<link href="/static/app.3f2a.css"><script src="/static/app.js"></script><p>岱山社区居委会 <small>(370613001001)</small></p>` +
		`<p>Linli · community grid governance and services</p><input name="lang" value="zh-CN">`
	if got := rawKeys(re, clean); len(got) != 0 {
		t.Errorf("rawKeys found %q in a clean page", got)
	}
}
