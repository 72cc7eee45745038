package app

import "github.com/linli/linli/internal/platform/auth"

// casesRules: resident demands and events (cases), their dashboard, the
// hotline import, categories and the holiday calendar. A case a caller may
// not read is answered 404, as if it did not exist (cases/act.go denied).
var casesRules = map[string]rule{
	"GET /api/v1/categories":    public(),
	"POST /api/v1/cases":        public().with(`{"category":"E0101","description":"路灯不亮","lat":37.482,"lon":121.427}`),
	"GET /api/v1/track/{token}": public().on("caseTrack"),
	"GET /report":               public(),
	"POST /report":              public(),
	"GET /t/{token}":            public().on("caseTrack"),
	"POST /t/{token}/rate":      public().on("caseTrack"),

	"GET /api/v1/cases":                   need(auth.CaseRead).lists("case"),
	"GET /api/v1/cases/{number}":          need(auth.CaseRead).on("case").hides(auth.CaseRead),
	"GET /api/v1/cases/{number}/events":   need(auth.CaseRead).on("case").hides(auth.CaseRead),
	"POST /api/v1/cases/{number}/actions": need(auth.CaseAccept).on("case").hides(auth.CaseRead).with(`{"action":"accept"}`),
	"GET /cases":                          need(auth.CaseRead).lists("case"),
	"GET /cases/{number}":                 need(auth.CaseRead).on("case").hides(auth.CaseRead),
	"POST /cases/{number}/act":            need(auth.CaseRead).on("case").hides(auth.CaseRead).with("action=note&note=authz").because("a note needs only case.read (cases/act.go staffPerm)"),
	"POST /cases/{number}/reveal":         need(auth.CaseCallback).on("case").hides(auth.CaseRead).with("reason=authz"),
	"GET /cases/{number}/files/{id}":      need(auth.CaseRead).on("caseFile").hides(auth.CaseRead),
	"POST /cases/{number}/parties":        need(auth.CaseDispatch).on("case").hides(auth.CaseRead).with("role=applicant&name=张三").because("mediation: the unit's members, or who may dispatch (cases/mediation.go disputeFor); the case is with no unit"),
	"POST /cases/{number}/mediate":        need(auth.CaseDispatch).on("case").hides(auth.CaseRead).with("summary=authz&outcome=continue"),

	"GET /api/v1/kpis":      need(auth.CaseRead),
	"GET /api/v1/kpis.xlsx": need(auth.CaseRead),
	"GET /dashboard":        need(auth.CaseRead),
	"GET /dashboard.xlsx":   need(auth.CaseRead),

	"GET /cases/import":              need(auth.CaseAccept),
	"POST /cases/import":             need(auth.CaseAccept),
	"POST /api/v1/cases/import":      need(auth.CaseAccept),
	"GET /cases/import/template.csv": user().because("a blank template, no data"),
	"GET /cases/import/mapping.json": user().because("the default column mapping, no data"),

	"GET /admin/categories":             need(auth.AreaManage),
	"POST /admin/categories":            need(auth.AreaManage),
	"POST /admin/categories/import":     need(auth.AreaManage),
	"GET /admin/categories.csv":         need(auth.AreaManage),
	"POST /admin/categories/attributes": need(auth.AreaManage),
	"GET /admin/calendar":               need(auth.AreaManage),
	"POST /admin/calendar":              need(auth.AreaManage),
	"GET /api/v1/calendar/{year}":       user().on("year"),
}
