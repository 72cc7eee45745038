package app

import "github.com/linli/linli/internal/platform/auth"

// assessRules: the task admission registry and hand-downs, the certificate
// whitelist, resident surveys and scorecards. Tasks and scorecard periods
// belong to the street: the demo has no street outside the street-wide
// roles, so they have no out-of-scope probe. Hand-downs and surveys belong
// to a community.
var assessRules = map[string]rule{
	"GET /api/v1/assess/tasks":                  need(auth.AssessRead).or(auth.TaskApply).because("departments see the tasks they apply for"),
	"POST /api/v1/assess/tasks":                 need(auth.TaskApply).on("street").with(`{"street":"{code}","list":"assist","department":"区民政局","title":"矩阵核对","content":"每季度核对","legal_basis":"《老年人权益保障法》","hours":6,"cadence":"quarterly","funding":"每社区每年 1 万元","staff":"民政所派员"}`),
	"POST /api/v1/assess/tasks/list":            need(auth.TaskReview).on("street").with(`{"street":"{code}","list":"assist","department":"区民政局","title":"矩阵清单","content":"每季度核对","legal_basis":"《老年人权益保障法》","hours":6,"cadence":"quarterly","funding":"每社区每年 1 万元","staff":"民政所派员"}`),
	"POST /api/v1/assess/tasks/{id}/decision":   need(auth.TaskReview).on("task").with(`{"admit":true,"reason":"符合"}`),
	"POST /api/v1/assess/tasks/{id}/revoke":     need(auth.TaskReview).on("task").with(`{"reason":"撤销"}`).destructive(),
	"GET /api/v1/assess/handdowns":              need(auth.AssessRead).or(auth.TaskApply).lists("handdown"),
	"POST /api/v1/assess/handdowns":             need(auth.TaskApply).on("community").with(`{"community":"{code}","department":"区文明办","kind":"plaque","title":"矩阵挂牌","hours":2}`),
	"POST /api/v1/assess/handdowns/{id}/refuse": need(auth.TaskRefuse).on("handdown").with(`{"reason":"未准入"}`),
	"GET /api/v1/assess/burden":                 need(auth.AssessRead).on("street").q("?street={code}&from=2026-01-01&to=2026-12-31").refused(400, 403).because("a street the caller may not read is refused on the field: 400"),
	"GET /api/v1/assess/certificates":           need(auth.AssessRead),
	"POST /api/v1/assess/certificates":          need(auth.AssessManage).with(`{"street":"370613001","code":"authz_cert","allowed":true,"name_zh":"矩阵证明","name_en":"Authz proof"}`),
	"GET /api/v1/assess/certificates/check":     user().q("?name=居住证明"),
	"GET /api/v1/assess/surveys":                need(auth.AssessRead).lists("survey"),
	"POST /api/v1/assess/surveys":               need(auth.AssessSurvey).on("community").with(`{"area":"{code}","title":"矩阵测评","per":"resident","anonymous":true,"opens":"{today}","closes":"{week}","questions":[{"kind":"rating","prompt":"总体满意度"}]}`),
	"GET /api/v1/assess/surveys/open":           only(auth.Resident).because("the surveys a linked resident may answer; other accounts 403 (not linked)").lists("survey"),
	"GET /api/v1/assess/surveys/{id}":           user().on("survey"),
	"POST /api/v1/assess/surveys/{id}/answers":  only(auth.Resident).on("survey").with(`{"answers":[]}`).refused(403, 404).because("a linked resident of the survey's area: others 403 (not linked), out of the area 404"),
	"POST /api/v1/assess/surveys/{id}/paper":    need(auth.AssessSurvey).on("survey").with(`{"answers":[]}`),
	"GET /api/v1/assess/surveys/{id}/results":   need(auth.AssessRead).on("survey").refused(403, 404).because("403 without assess.read, 404 outside one's areas"),
	"GET /api/v1/assess/periods":                need(auth.AssessRead),
	"POST /api/v1/assess/periods":               need(auth.AssessManage).on("street").with(`{"street":"{code}","code":"2020-Q1","from":"2020-01-01","to":"2020-03-31"}`),
	"PUT /api/v1/assess/periods/{id}/weights":   need(auth.AssessManage).on("period").with(`{"survey":60,"case_satisfaction":40}`),
	"GET /api/v1/assess/periods/{id}/scorecard": need(auth.AssessRead).on("period").because("the street's period: community staff see it with their own rows only (scorecard.go Scorecard filters rows)"),
	"GET /api/v1/assess/trend":                  need(auth.AssessRead),
	"GET /assess":                               user(),
	"GET /assess/periods/{id}":                  need(auth.AssessRead).on("period"),
	"GET /assess/periods/{id}/scorecard.xlsx":   need(auth.AssessRead).on("period"),
	"GET /assess/surveys":                       need(auth.AssessRead).orResident().because("staff see the survey list, a linked resident the open surveys; others 403 (not linked)").lists("survey"),
	"GET /assess/surveys/{id}":                  user().on("survey"),
	"POST /assess/surveys/{id}/answer":          only(auth.Resident).on("survey").refused(403, 404),
	"GET /assess/tasks":                         need(auth.AssessRead).or(auth.TaskApply).lists("handdown"),
	"POST /assess/handdowns/{id}/refuse":        need(auth.TaskRefuse).on("handdown").with("reason=未准入"),
	"GET /assess/static/assess.js":              public(),
	"GET /api/v1/assess/departments":            need(auth.AssessRead).or(auth.TaskApply).q("?street=370613001").because("the task registry's readers: departments fill their forms from it, communities see their street's"),
	"POST /api/v1/assess/departments":           need(auth.TaskReview).on("street").with(`{"street":"{code}","code":"D9","name":"矩阵科"}`),
	"POST /api/v1/assess/departments/{id}":      need(auth.TaskReview).on("department").with(`{"name":"矩阵部门"}`),
	"GET /assess/departments":                   need(auth.AssessRead).or(auth.TaskApply),
	"POST /assess/departments":                  need(auth.TaskReview).on("street").with("street={code}&code=D8&name=矩阵页科"),
	"POST /assess/departments/{id}":             need(auth.TaskReview).on("department").with("name=矩阵部门"),
	"POST /assess/tasks":                        need(auth.TaskApply).because("the street is the chosen department's: an empty form is refused on the field (400)"),
	"POST /assess/handdowns":                    need(auth.TaskApply).on("community").with("community={code}&kind=report&title=矩阵表&hours=1").because("no department chosen: refused on the field (400) once authorized"),
	"POST /api/v1/assess/periods/{id}/close":    need(auth.AssessManage).on("period").destructive(),
	"POST /api/v1/assess/periods/{id}/reopen":   need(auth.AssessManage).on("period").destructive(),
	"POST /assess/periods/{id}/close":           need(auth.AssessManage).on("period").destructive(),
	"POST /assess/periods/{id}/reopen":          need(auth.AssessManage).on("period").destructive(),
}
