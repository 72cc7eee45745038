package app

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/auth"
)

// The authorization matrix (issue #11 §5): every route of the route table,
// for every demo role and for an anonymous visitor, on an object inside the
// demo community A (岱山社区, where the local roles work) and on one inside
// community B (黄海社区, outside them), with the answer auth/roles.go says
// it should get. The matrix lives in the authz_*_test.go files, one per
// module; a route without an entry, or an entry without a route, fails the
// test, so that no new endpoint slips past it.
//
// What a rule says, and how the expected answer follows from it:
//
//	public()          anyone, logged in or not: never 401 or 403
//	user()            any logged-in user: 401 (a login redirect for a page) without a session
//	need(p)           the permission p somewhere: roles without it get 403
//	need(p).on(k)     p over the area of the object k fills the path with: a role whose
//	                  grant does not reach that area is refused, although it holds p elsewhere
//	only(roles…)      a rule that is not a permission (a linked resident, say): said in .because
//	seen()            whoever has a grant over, or inside, the object's area (the service desk)
//	.and(q) / .or(q)  q is needed as well / serves instead
//	.orResident()     the demo resident (a registered resident of community A) passes in A too
//	.orAnyResident()  the demo resident passes anywhere (they act on their own record)
//	.hides(p)         the module hides existence: whoever may not p the object gets 404, not 403
//	.hidesAll()       every refusal is 404 (an account that is not a linked resident, say)
//	.hidesUnseen()    404 for a holder of the permission whose grant neither covers nor lies
//	                  inside the object's area
//	.refused(codes…)  the statuses a refusal may have where a module mixes them (403 without the
//	                  permission, 404 out of scope, 400 "not found or not yours" on a form field):
//	                  each use says why; a refused role must never get anything else
//	.destructive()    probed after every other route (cancel, close, revoke, end, log out)
//	.knownBug(text)   an authorization bug found by the walk: the test fails until it is fixed
//	.lists(kinds…)    a list (a GET with no object in the path): a role whose grants stop short
//	                  of community B must not find the B fixture of each kind in the answer,
//	                  and a role that sees B must (so that the check can fail)
//	.listQuery(q)     the query the list probe sends instead of q (one that brings B's rows up)
//	.unscoped(why)    a list that shows B's fixtures to everyone it admits (public, a catalogue)
//
// Every GET with no object in the path is also asked for as every admitted
// visitor: one whose answer holds a B fixture's mark (see checkLists) must
// say .lists or .unscoped, so that no new list of scoped rows goes unchecked.
//
// An allowed role passes when the answer is neither 401, 403 nor 5xx (400,
// 404, 409 for a minimal body are fine: authorization passed), and not 404
// where 404 is how the route refuses.
//
// The expected roles are never listed by hand for permissions: each demo
// role's grant is turned into an auth.Principal over the demo area it holds
// and asked with the auth package's own Can and CanAnywhere.
//
// Scope: the demo has one street. The street staff, the department
// handler, the supervisor and the administrator hold grants over the whole
// street or more, so every object of the demo is in their scope and they
// have no out-of-scope probe; a second street would add nothing the local
// roles do not already show (the same Can on a longer path).

// rule is a route's entry in the matrix.
type rule struct {
	kind  ruleKind
	perm  auth.Perm
	roles []auth.Role // only(): the roles admitted
	obj   string      // the fixture filling the path's wildcards (and query); "" for none
	query string      // "?…" after the path, with {wildcards} filled like the path's
	hide  auth.Perm   // refusals are 404 for those who may not hide the object
	// unseen: refusals are 404 for those with no grant over, or inside, the
	// object's area (the service desk's facilities)
	unseen   bool
	hideAll  bool      // every refusal is 404
	resident bool      // a registered resident of the object's community passes too
	body     string    // JSON for /api and /open311, a form (k=v&…) for pages; "" sends {} or nothing
	last     bool      // destructive: probed after every other route
	why      string    // why the rule is what it is, where the code is not plain
	bug      string    // a known authorization bug: the test fails until it is fixed
	also     auth.Perm // a second permission the route needs over the same object
	alt      auth.Perm // a permission that serves instead of perm
	seen     bool      // passes for a role that sees the object's area (a grant over or inside it)
	// refusedAs lists the statuses a refusal may have, where the module
	// answers some refusals otherwise than 403 (said in why); nil: as want says
	refusedAs []int
	anyRes    bool // the demo resident passes on objects of any community (acts on their own record)
	fresh     bool // sent from a new visitor each time (logging in replaces the visitor's session)
	// listed names the fixture kinds whose B object a list hides from the
	// roles that do not see B; listQ is the query its probe sends ("": q)
	listed []string
	listQ  string
	open   string // why a list shows B's fixtures to everyone it admits
}

type ruleKind int

const (
	rulePublic ruleKind = iota
	ruleUser
	rulePerm
	ruleOnly
)

func public() rule              { return rule{kind: rulePublic} }
func user() rule                { return rule{kind: ruleUser} }
func need(p auth.Perm) rule     { return rule{kind: rulePerm, perm: p} }
func only(rs ...auth.Role) rule { return rule{kind: ruleOnly, roles: rs} }

func (r rule) on(obj string) rule         { r.obj = obj; return r }
func (r rule) q(query string) rule        { r.query = query; return r }
func (r rule) hides(p auth.Perm) rule     { r.hide = p; return r }
func (r rule) hidesUnseen() rule          { r.unseen = true; return r }
func (r rule) orResident() rule           { r.resident = true; return r }
func (r rule) with(body string) rule      { r.body = body; return r }
func (r rule) destructive() rule          { r.last = true; return r }
func (r rule) because(why string) rule    { r.why = why; return r }
func (r rule) knownBug(what string) rule  { r.bug = what; return r }
func (r rule) hidesAll() rule             { r.hideAll = true; return r }
func (r rule) and(p auth.Perm) rule       { r.also = p; return r }
func (r rule) or(p auth.Perm) rule        { r.alt = p; return r }
func (r rule) orAnyResident() rule        { r.anyRes = true; return r }
func (r rule) freshVisitor() rule         { r.fresh = true; return r }
func (r rule) refused(codes ...int) rule  { r.refusedAs = codes; return r }
func (r rule) lists(kinds ...string) rule { r.listed = kinds; return r }
func (r rule) listQuery(q string) rule    { r.listQ = q; return r }
func (r rule) unscoped(why string) rule   { r.open = why; return r }

// seen is a route for whoever has a grant over, or inside, the object's
// area (the service desk's facilities and catalog: a grid worker sees
// the community's); others get 404.
func seen() rule { return rule{kind: rulePerm, perm: auth.AreaRead, seen: true} }

// matrix is every module's part of the matrix, keyed by route pattern.
func matrix() map[string]rule {
	m := map[string]rule{}
	for _, part := range []map[string]rule{platformRules, casesRules, registryRules, servicesRules,
		civicRules, volunteerRules, assessRules} {
		for k, v := range part {
			if _, dup := m[k]; dup {
				panic("two matrix entries for " + k)
			}
			m[k] = v
		}
	}
	return m
}

// outcome is what a probe must get.
type outcome int

const (
	passes    outcome = iota // authorization passed: anything but 401, 403 and 5xx
	loginNeed                // 401, or a redirect to the login page for a page GET
	forbidden                // 403, the forbidden envelope for the API
	notFound                 // 404: the module hides the object
)

func (o outcome) String() string {
	return [...]string{"passes", "401", "403", "404"}[o]
}

// want is the answer the rule gives to p (nil: anonymous) on an object in
// the area with path ("" when the route acts on no area).
func (r rule) want(p *auth.Principal, path string) outcome {
	if r.kind == rulePublic {
		return passes
	}
	if p == nil {
		return loginNeed
	}
	ok := true
	switch r.kind {
	case ruleOnly:
		ok = slices.ContainsFunc(r.roles, p.HasRole) && (path == "" || p.Can(auth.AreaRead, path))
	case rulePerm:
		ok = p.CanAnywhere(r.perm) && (r.also == "" || p.CanAnywhere(r.also)) || r.alt != "" && p.CanAnywhere(r.alt) ||
			path == "" && r.resident && p.HasRole(auth.Resident)
		switch {
		case path != "" && r.seen:
			ok = sees(p, path)
		case path != "":
			ok = p.Can(r.perm, path) && (r.also == "" || p.Can(r.also, path)) ||
				r.resident && p.HasRole(auth.Resident) && p.Can(auth.AreaRead, path)
		}
	}
	ok = ok || r.anyRes && p.HasRole(auth.Resident)
	switch {
	case ok:
		return passes
	case r.hideAll:
		return notFound
	case r.hide != "" && !(path == "" && p.CanAnywhere(r.hide) || path != "" && p.Can(r.hide, path)):
		return notFound
	case (r.unseen || r.seen) && path != "" && !sees(p, path) && (r.seen || p.CanAnywhere(r.perm)):
		return notFound
	}
	return forbidden
}

// sees reports whether one of p's grants covers the area with path or lies
// inside it.
func sees(p *auth.Principal, path string) bool {
	return slices.ContainsFunc(p.Grants, func(g auth.GrantInfo) bool {
		return g.AreaID == 0 || strings.HasPrefix(path, g.AreaPath) || strings.HasPrefix(g.AreaPath, path)
	})
}

// place is one object a probe acts on: the values of the route's wildcards
// and the code of the area the object belongs to ("" for none).
type place struct {
	area string
	vals map[string]string
}

// fixture is an object in community A and, when the route is scoped, its
// twin in community B.
type fixture struct{ in, out *place }

// probeTarget is one request of the walk.
type probeTarget struct {
	pattern string
	rule    rule
	scope   string // "A" or "B"
	path    string // filled, with its query
	body    string // filled
	area    string // area path of the object, "" for none
}

var wildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\.\.\.)?\}`)

// fill puts the place's values into s's {wildcards}: a route's path, its
// query or its body.
func fill(t *testing.T, pattern, s string, pl *place, escape func(string) string) string {
	return wildcard.ReplaceAllStringFunc(s, func(w string) string {
		name := wildcard.FindStringSubmatch(w)[1]
		v, ok := pl.vals[name]
		if !ok {
			t.Fatalf("%s: the fixture has no value for {%s}", pattern, name)
		}
		return escape(v)
	})
}

// targets turns the matrix into requests: one per route, two for a route
// whose object has a twin outside community A. Destructive routes come
// last, and logging out very last.
func targets(t *testing.T, m map[string]rule, fx map[string]fixture, areaPath func(code string) string) []probeTarget {
	var out []probeTarget
	for _, pattern := range slices.Sorted(maps.Keys(m)) {
		r := m[pattern]
		_, path, _ := strings.Cut(pattern, " ")
		if strings.HasSuffix(path, "/") {
			path += "x" // a prefix route ("GET /static/", the catch-all "GET /")
		}
		path = strings.TrimSuffix(path, "{$}")
		path += r.query
		places := []*place{{}}
		if r.obj != "" {
			f, ok := fx[r.obj]
			if !ok {
				t.Fatalf("%s: no fixture %q", pattern, r.obj)
			}
			places = []*place{f.in}
			if f.out != nil {
				places = append(places, f.out)
			}
		} else if wildcard.MatchString(path) {
			t.Fatalf("%s: wildcards but no fixture", pattern)
		}
		for i, pl := range places {
			pt := probeTarget{pattern: pattern, rule: r, scope: "AB"[i : i+1], path: fill(t, pattern, path, pl, url.PathEscape),
				body: fill(t, pattern, r.body, pl, func(s string) string { return s })}
			if pl.area != "" {
				pt.area = areaPath(pl.area)
			}
			out = append(out, pt)
		}
	}
	rank := func(pt probeTarget) int {
		switch {
		case pt.pattern == "POST /logout":
			return 2
		case pt.rule.last:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b probeTarget) int { return rank(a) - rank(b) })
	return out
}

// send makes the probe's request as c.
func (pt probeTarget) send(c *client) response {
	c.t.Helper()
	method, _, _ := strings.Cut(pt.pattern, " ")
	api := strings.HasPrefix(pt.path, "/api/") || strings.HasPrefix(pt.path, "/open311/")
	switch {
	case method == http.MethodGet:
		return c.get(pt.path)
	case api && strings.HasPrefix(pt.rule.body, "form:"):
		form, _ := url.ParseQuery(strings.TrimPrefix(pt.body, "form:"))
		return c.do(c.request(method, pt.path, strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}), false)
	case api:
		body := pt.body
		if body == "" {
			body = "{}"
		}
		return c.jsonCall(method, pt.path, body)
	}
	form, err := url.ParseQuery(pt.body)
	if err != nil {
		c.t.Fatalf("%s: bad form %q", pt.pattern, pt.rule.body)
	}
	return c.do(c.request(method, pt.path, strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}), false)
}

// check says what is wrong with r as the answer to pt, or "".
func (pt probeTarget) check(want outcome, r response) string {
	api := strings.HasPrefix(pt.path, "/api/")
	method, _, _ := strings.Cut(pt.pattern, " ")
	switch want {
	case passes:
		if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status >= 500 {
			return fmt.Sprintf("%d, want authorization to pass", r.Status)
		}
		if loc := r.Location(); method == http.MethodGet && r.Status == http.StatusSeeOther && strings.HasPrefix(loc, "/login") {
			return "sent to the login page, want authorization to pass"
		}
		hidden := pt.rule.hide != "" || pt.rule.hideAll || pt.rule.seen || slices.Contains(pt.rule.refusedAs, http.StatusNotFound)
		if hidden && !pt.rule.last && r.Status == http.StatusNotFound {
			return "404 on an object the role may use (the module hides refusals as 404: the probe cannot tell)"
		}
	case loginNeed:
		if !api && method == http.MethodGet {
			if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
				return fmt.Sprintf("%d %s, want a redirect to /login", r.Status, r.Location())
			}
			return ""
		}
		if r.Status != http.StatusUnauthorized {
			return fmt.Sprintf("%d, want 401", r.Status)
		}
	case forbidden, notFound:
		if pt.rule.refusedAs != nil {
			if !slices.Contains(pt.rule.refusedAs, r.Status) {
				return fmt.Sprintf("%d, want a refusal (%v)", r.Status, pt.rule.refusedAs)
			}
			return ""
		}
	}
	switch want {
	case forbidden:
		if r.Status != http.StatusForbidden {
			return fmt.Sprintf("%d, want 403", r.Status)
		}
		if api && !strings.Contains(r.Body, `"code":"forbidden"`) {
			return "403 without the forbidden envelope"
		}
	case notFound:
		if r.Status != http.StatusNotFound {
			return fmt.Sprintf("%d, want 404 (refused, existence hidden)", r.Status)
		}
	}
	return ""
}

// asRole is a demo role's principal as the auth package sees it: the
// role's one grant over the demo area it holds.
func asRole(role auth.Role, areaCode string, areaPath func(string) string) *auth.Principal {
	g := auth.GrantInfo{Role: role}
	if areaCode != "" {
		g.AreaID, g.AreaPath = 1, areaPath(areaCode)
	}
	return &auth.Principal{Grants: []auth.GrantInfo{g}}
}

// Every route × every demo role and an anonymous visitor × an object
// inside and outside the local roles' community.
func TestAuthzMatrix(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		start := time.Now()
		m := matrix()
		var routes []string
		for _, rt := range s.App.Server.Routes() {
			routes = append(routes, rt.Pattern)
		}
		var missing, stale []string
		for _, rt := range routes {
			if _, ok := m[rt]; !ok {
				missing = append(missing, rt)
			}
		}
		for k := range m {
			if !slices.Contains(routes, k) {
				stale = append(stale, k)
			}
		}
		slices.Sort(stale)
		if len(missing) > 0 {
			t.Errorf("%d routes without a matrix entry (add them to the module's authz_*_test.go):\n\t%s",
				len(missing), strings.Join(missing, "\n\t"))
		}
		if len(stale) > 0 {
			t.Errorf("%d matrix entries name no route:\n\t%s", len(stale), strings.Join(stale, "\n\t"))
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if m[k].bug != "" {
				t.Errorf("known authorization bug, %s: %s", k, m[k].bug)
			}
		}

		paths := areaPaths(t, s)
		admin := s.login(t, auth.Admin)
		fx := authzFixtures(t, s, admin)
		probes := targets(t, m, fx, paths)

		visitors := []visitor{{name: "anonymous", c: s.client(t)}}
		for _, role := range auth.Roles {
			visitors = append(visitors, visitor{name: string(role), p: asRole(role, s.Accounts[role].Area, paths), c: s.login(t, role)})
		}
		lists := checkLists(t, probes, fx, visitors, paths)
		requests, covered := 0, map[string]bool{}
		for _, pt := range probes {
			for _, v := range visitors {
				want := pt.rule.want(v.p, pt.area)
				c := v.c
				if pt.rule.fresh {
					c = s.client(t)
				}
				r := pt.send(c)
				requests++
				covered[pt.pattern] = true
				if msg := pt.check(want, r); msg != "" {
					t.Errorf("%s %s [%s, %s]: %s: %s", v.name, pt.pattern, pt.scope, pt.path, msg, brief(r))
				}
			}
		}
		t.Logf("authorization matrix: %d of %d routes covered, %d requests (%d visitors), %d lists checked for rows of B, %s",
			len(covered), len(routes), requests, len(visitors), lists, time.Since(start).Round(time.Millisecond))
	})
}

// visitor is one column of the matrix: a demo role's session, or an
// anonymous visitor's (p nil).
type visitor struct {
	name string
	p    *auth.Principal
	c    *client
}

// checkLists asks for every GET route with no object in its path as every
// visitor the rule admits, before the walk changes the fixtures, and looks
// in the answers for the marks of the fixtures' B objects (fixture vals
// "mark": a unique title, or a number). A visitor whose grants stop short
// of the object's area must not find it in a .lists route, and one that
// sees the area must find it in at least one answer (where the rule admits
// one: a resident's own list has only the demo resident); a route not declared
// .lists or .unscoped must not show a B fixture to anyone. It returns how
// many .lists routes it checked.
func checkLists(t *testing.T, probes []probeTarget, fx map[string]fixture, visitors []visitor, areaPath func(string) string) int {
	t.Helper()
	checked := 0
	for _, pt := range probes {
		method, path, _ := strings.Cut(pt.pattern, " ")
		r := pt.rule
		if method != http.MethodGet || pt.scope != "A" || wildcard.MatchString(path) {
			if len(r.listed) > 0 || r.open != "" {
				t.Errorf("%s: .lists and .unscoped are for GET routes with no object in the path", pt.pattern)
			}
			continue
		}
		if r.listQ != "" {
			path, _, _ = strings.Cut(pt.path, "?")
			path += r.listQ
		} else {
			path = pt.path
		}
		found := map[string]bool{} // kinds a visitor who sees B found
		undeclared := map[string][]string{}
		witness := false // an admitted visitor sees B
		for _, v := range visitors {
			if r.want(v.p, pt.area) != passes {
				continue
			}
			witness = witness || v.p != nil && v.p.Can(auth.AreaRead, areaPath(communityB))
			text := answerText(v.c.get(path))
			for kind, f := range fx {
				if f.out == nil || f.out.vals["mark"] == "" || !strings.Contains(text, f.out.vals["mark"]) {
					continue
				}
				sees := v.p != nil && v.p.Can(auth.AreaRead, areaPath(f.out.area))
				switch {
				case r.open != "":
				case len(r.listed) == 0 && sees:
					undeclared[kind] = append(undeclared[kind], v.name)
				case len(r.listed) == 0:
					undeclared[kind] = append(undeclared[kind], v.name+" (who does not see B)")
				case !sees:
					t.Errorf("%s %s [%s]: leaks community B's %s %q to a role that does not see %s",
						v.name, pt.pattern, path, kind, f.out.vals["mark"], f.out.area)
				default:
					found[kind] = true
				}
			}
		}
		for _, kind := range slices.Sorted(maps.Keys(undeclared)) {
			t.Errorf("%s [%s] shows community B's %s %q to %s: a list of scoped rows, declare .lists(%q) or .unscoped(why)",
				pt.pattern, path, kind, fx[kind].out.vals["mark"], strings.Join(undeclared[kind], ", "), kind)
		}
		for _, kind := range r.listed {
			if fx[kind].out == nil || fx[kind].out.vals["mark"] == "" {
				t.Fatalf("%s lists %q: the fixture has no B object with a mark", pt.pattern, kind)
			}
			if !found[kind] && witness {
				t.Errorf("%s [%s]: no role that sees community B finds its %s %q, so the check cannot fail (.listQuery?)",
					pt.pattern, path, kind, fx[kind].out.vals["mark"])
			}
		}
		if len(r.listed) > 0 {
			checked++
		}
	}
	return checked
}

// answerText is an answer's text to look for marks in: the body, or the
// XML inside a spreadsheet (a zip).
func answerText(r response) string {
	zr, err := zip.NewReader(strings.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		return r.Body
	}
	var b strings.Builder
	for _, f := range zr.File {
		if rc, err := f.Open(); err == nil {
			io.Copy(&b, rc)
			rc.Close()
		}
	}
	return b.String()
}

// areaPaths returns a lookup of the demo areas' paths by code.
func areaPaths(t *testing.T, s *testServer) func(string) string {
	t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	cache := map[string]string{}
	return func(code string) string {
		if p, ok := cache[code]; ok {
			return p
		}
		a, err := s.App.Areas.Get(ctx, code)
		if err != nil {
			t.Fatalf("area %s: %v", code, err)
		}
		cache[code] = a.Path
		return a.Path
	}
}

// brief is what a failure shows of an answer: a JSON body, or a page's
// main text, cut short.
func brief(r response) string {
	text := strings.TrimSpace(r.Body)
	if strings.HasPrefix(text, "<") {
		if i := strings.Index(text, `id="main"`); i >= 0 {
			text = text[i:]
		}
		text = strings.Join(pageText(text), " ")
	}
	if rs := []rune(text); len(rs) > 160 {
		text = string(rs[:160]) + "…"
	}
	return text
}
