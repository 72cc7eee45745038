package app

import "github.com/linli/linli/internal/platform/auth"

// platformRules: the program's own routes (app.go), accounts, areas and
// grids, and Open311. An area outside the caller's grants is answered 404,
// "not found or not yours" (area.go Get).
var platformRules = map[string]rule{
	"GET /static/":     public(),
	"GET /healthz":     public(),
	"GET /readyz":      public(),
	"GET /metrics":     need(auth.MetricsRead),
	"GET /{$}":         user(),
	"GET /inbox":       user().lists("case"),
	"POST /inbox/read": user(),
	"GET /":            public().because("the catch-all: a 404 page"),

	// Accounts (platform/account, platform/auth).
	"GET /login":                             public(),
	"POST /login":                            public().with("name=authz-member&password=Authz-Matrix-2024").freshVisitor().because("a successful login, from a new visitor each time: it would replace the visitor's session"),
	"POST /logout":                           public().destructive(),
	"POST /prefs":                            public(),
	"GET /settings":                          user(),
	"POST /settings/password":                user().because("an empty form: 400, the password stays"),
	"POST /settings/tokens":                  user(),
	"POST /settings/tokens/{id}/revoke":      user().on("token").destructive().because("one's own tokens only: another's is 404 (RevokeToken filters by user in SQL)"),
	"GET /admin/users":                       need(auth.UserManage),
	"POST /admin/users":                      need(auth.UserManage).with("name=authz-made&password=Authz-Matrix-2024&role=resident&area=370613001001"),
	"POST /admin/users/{name}/grants":        need(auth.UserManage).on("victim").with("role=overseer&area=370613001001"),
	"POST /admin/users/{name}/grants/revoke": need(auth.UserManage).on("victim").with("role=overseer&area=370613001001").destructive(),
	"POST /admin/users/{name}/password":      need(auth.UserManage).on("victim").with("password=Authz-Matrix-2025"),
	"GET /api/v1/me":                         user(),
	"GET /api/v1/users":                      need(auth.UserManage),
	"POST /api/v1/users":                     need(auth.UserManage).with(`{"name":"authz-api","password":"Authz-Matrix-2024","role":"resident","area":"370613001001"}`),

	// Areas and grids (area).
	"GET /api/v1/locate":                         user().q("?lat=37.482&lon=121.427"),
	"GET /api/v1/areas":                          user(),
	"GET /api/v1/areas/{code}":                   need(auth.AreaRead).on("community").hides(auth.AreaRead),
	"GET /api/v1/areas/{code}/geojson":           need(auth.AreaRead).on("community").hides(auth.AreaRead),
	"GET /api/v1/areas/{code}/members":           need(auth.AreaRead).on("grid").hides(auth.AreaRead),
	"POST /api/v1/areas/{code}/members":          need(auth.GridAssign).on("gridMember").with(`{"name":"{name}","duty":"member"}`),
	"DELETE /api/v1/areas/{code}/members/{name}": need(auth.GridAssign).on("gridMember").destructive(),
	"GET /areas":                                 user(),
	"GET /areas/{code}":                          need(auth.AreaRead).on("community").hides(auth.AreaRead),
	"POST /areas/{code}/members":                 need(auth.GridAssign).on("gridMember").with("name={name}&duty=member"),
	"POST /areas/{code}/members/{name}/remove":   need(auth.GridAssign).on("gridMember").destructive(),
	"GET /map":                      user(),
	"GET /admin/areas":              need(auth.AreaManage),
	"POST /admin/areas":             need(auth.AreaManage),
	"POST /admin/areas/import":      need(auth.AreaManage),
	"POST /admin/areas/import/{id}": need(auth.AreaManage).on("staged").refused(404).destructive().because("the staged file is looked up among the caller's own before any permission check: 404 for everyone (the administrator too: nothing staged)"),

	// Open311 GeoReport v2: public, a client key on writes.
	"GET /open311/{file}":                  public().on("o311discovery"),
	"GET /open311/v2/{file}":               public().on("o311services"),
	"GET /open311/v2/services/{file}":      public().on("o311service"),
	"GET /open311/v2/requests/{file}":      public().on("o311request"),
	"GET /open311/v2/tokens/{file}":        public().on("o311token"),
	"POST /open311/v2/{file}":              public().on("o311post").with("form:api_key={key}&service_code=E0101&lat=37.482&long=121.427&description=authz"),
	"GET /admin/open311":                   need(auth.UserManage),
	"POST /admin/open311/keys":             need(auth.UserManage).with("name=authz&rate=1"),
	"POST /admin/open311/keys/{id}/revoke": need(auth.UserManage).on("o311key").destructive(),
}
