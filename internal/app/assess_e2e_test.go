package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/workcal"
)

// Assessment over HTTP: a department applies to admit a task and the
// street admits it; a task handed down without a number is refused by the
// community with one click (audited); a resident answers a survey once;
// the street opens a period, sets its weights and reads the scorecard as
// a page and as Excel. Each role that may not do a step is refused, and
// bad input is answered in the caller's language.
func TestE2EAssess(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		street := civicCommunity[:9]
		dept := s.login(t, auth.DepartmentHandler)
		streetStaff := s.login(t, auth.StreetStaff)
		community := s.login(t, auth.CommunityStaff)
		resident := s.login(t, auth.Resident)
		supervisor := s.login(t, auth.Supervisor)

		// Task admission.
		apply := `{"street":"` + street + `","list":"assist","department":"区民政局","title":"养老服务补贴核对","content":"每季度核对",
			"legal_basis":"《老年人权益保障法》","hours":6,"cadence":"quarterly","funding":"每社区每年 1 万元","staff":"民政所派员"}`
		mustStatus(t, "community applies", community.jsonCall("POST", "/api/v1/assess/tasks", apply), http.StatusForbidden)
		bad := dept.jsonCall("POST", "/api/v1/assess/tasks", `{"street":"`+street+`","list":"assist"}`)
		mustStatus(t, "empty application", bad, http.StatusBadRequest)
		has(t, "empty application", bad, "必填")
		badEn := dept.jsonCall("POST", "/api/v1/assess/tasks", `{"street":"`+street+`","list":"assist"}`, "Accept-Language", "en")
		has(t, "empty application in English", badEn, "Required.")
		task := civicID(t, "apply", dept.jsonCall("POST", "/api/v1/assess/tasks", apply), http.StatusCreated)
		decision := fmt.Sprintf(`{"admit":true,"expires_on":%q}`, time.Now().AddDate(1, 0, 0).Format(time.DateOnly))
		mustStatus(t, "department decides", dept.jsonCall("POST", fmt.Sprintf("/api/v1/assess/tasks/%d/decision", task), decision), http.StatusForbidden)
		r := streetStaff.jsonCall("POST", fmt.Sprintf("/api/v1/assess/tasks/%d/decision", task), decision)
		mustStatus(t, "admit", r, http.StatusOK)
		has(t, "admit", r, `"number":"ZR-`)

		// Departments are a list kept by the street: a hand-down picks one by
		// id; a name is accepted only as the list spells it.
		wenming := assessDepartment(t, dept.get("/api/v1/assess/departments?street="+street+"&active=true"), "区文明办")
		misspelt := dept.jsonCall("POST", "/api/v1/assess/handdowns", `{"community":"`+civicCommunity+
			`","department":"文明办","kind":"plaque","title":"文明实践站挂牌","hours":2}`)
		mustStatus(t, "misspelt department", misspelt, http.StatusBadRequest)
		has(t, "misspelt department", misspelt, `"field":"department"`, "部门名录")
		handDown := civicID(t, "hand down", dept.jsonCall("POST", "/api/v1/assess/handdowns", fmt.Sprintf(`{"community":%q,
			"department_id":%d,"kind":"plaque","title":"文明实践站挂牌","hours":2}`, civicCommunity, wenming)), http.StatusCreated)
		refuse := fmt.Sprintf("/assess/handdowns/%d/refuse", handDown)
		mustStatus(t, "resident refuses", resident.post(refuse, url.Values{}), http.StatusForbidden)
		has(t, "community's inbox", community.page("/assess/tasks"), "文明实践站挂牌", "未经准入")
		mustStatus(t, "one-click refusal", community.post(refuse, url.Values{}), http.StatusSeeOther)
		has(t, "refused", community.page("/assess/tasks"), "已拒绝")
		var audited int
		s.App.DB.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT COUNT(*) FROM audit_log WHERE action = 'assess.handdown.refuse' AND target_id = $1", fmt.Sprint(handDown)).Scan(&audited)
		if audited != 1 {
			t.Errorf("%d audit rows for the refusal", audited)
		}

		// The street keeps the list; a community cannot add to it. A
		// deactivated department can no longer hand down.
		add := `{"street":"` + street + `","code":"DAG","name":"区档案馆"}`
		mustStatus(t, "community adds a department", community.jsonCall("POST", "/api/v1/assess/departments", add), http.StatusForbidden)
		archive := civicID(t, "add a department", streetStaff.jsonCall("POST", "/api/v1/assess/departments", add), http.StatusCreated)
		mustStatus(t, "rename on the page", streetStaff.post(fmt.Sprintf("/assess/departments/%d", archive), url.Values{"name": {"区档案局"}}),
			http.StatusSeeOther)
		has(t, "departments page", streetStaff.page("/assess/departments?street="+street), "区档案局", "区民政局", "停用")
		has(t, "departments page in English", streetStaff.page("/assess/departments?lang=en"), "Deactivate", "区档案局")
		mustStatus(t, "deactivate", streetStaff.jsonCall("POST", fmt.Sprintf("/api/v1/assess/departments/%d", archive), `{"active":false}`),
			http.StatusOK)
		r = dept.jsonCall("POST", "/api/v1/assess/handdowns", fmt.Sprintf(`{"community":%q,"department_id":%d,"kind":"ledger","title":"档案台账"}`,
			civicCommunity, archive))
		mustStatus(t, "inactive department", r, http.StatusBadRequest)
		has(t, "inactive department", r, `"field":"department_id"`, "已停用")
		// The department's page forms offer the active departments only.
		mustStatus(t, "English forms", dept.page("/assess/tasks?lang=en"), http.StatusOK)
		tasksPage := dept.page("/assess/tasks")
		has(t, "hand-down form", tasksPage, `name="department_id"`, fmt.Sprintf(`value="%d"`, wenming))
		if strings.Contains(tasksPage.Body, "区档案局") {
			t.Errorf("the form offers a deactivated department")
		}
		mustStatus(t, "hand down on the page", dept.post("/assess/handdowns", url.Values{"community": {civicCommunity},
			"department_id": {fmt.Sprint(wenming)}, "kind": {"report"}, "title": {"志愿服务统计表"}, "hours": {"1"}}), http.StatusSeeOther)
		burden := supervisor.get("/api/v1/assess/burden?street=" + street + "&from=" + time.Now().AddDate(0, 0, -1).Format(time.DateOnly) +
			"&to=" + time.Now().AddDate(0, 0, 1).Format(time.DateOnly))
		has(t, "burden by department", burden, fmt.Sprintf(`"department_id":%d,"department":"区文明办"`, wenming))

		// Certificates.
		r = resident.get("/api/v1/assess/certificates/check?community=" + civicCommunity + "&name=" + url.QueryEscape("无犯罪记录证明"))
		mustStatus(t, "certificate check", r, http.StatusOK)
		has(t, "certificate check", r, `"allowed":false`, "公安派出所")

		// A survey, answered once by the resident on their phone.
		today := time.Now().In(workcal.CST)
		survey := civicID(t, "survey", streetStaff.jsonCall("POST", "/api/v1/assess/surveys", fmt.Sprintf(`{"area":%q,"title":"居民满意度测评",
			"per":"resident","anonymous":true,"opens":%q,"closes":%q,"questions":[{"kind":"rating","prompt":"总体满意度"}]}`,
			civicCommunity, today.Format(time.DateOnly), today.AddDate(0, 0, 7).Format(time.DateOnly))), http.StatusCreated)
		form := resident.page(fmt.Sprintf("/assess/surveys/%d", survey))
		has(t, "survey form", form, "总体满意度")
		qid := strings.SplitN(strings.SplitN(form.Body, `name="q`, 2)[1], `"`, 2)[0]
		mustStatus(t, "answer", resident.post(fmt.Sprintf("/assess/surveys/%d/answer", survey), url.Values{"q" + qid: {"4"}}), http.StatusSeeOther)
		again := resident.jsonCall("POST", fmt.Sprintf("/api/v1/assess/surveys/%d/answers", survey), `{"answers":[{"question":`+qid+`,"rating":5}]}`)
		mustStatus(t, "second answer", again, http.StatusConflict)
		has(t, "second answer", again, "只能填写一次")
		has(t, "results", community.page(fmt.Sprintf("/assess/surveys/%d", survey)), "居民满意度测评", "4.00")
		has(t, "a community's surveys", community.page("/assess/surveys?area="+civicCommunity), "居民满意度测评")

		// A period, its weights and the scorecard.
		mustStatus(t, "community opens a period", community.jsonCall("POST", "/api/v1/assess/periods",
			`{"street":"`+street+`","code":"x","from":"2026-01-01","to":"2026-01-31"}`), http.StatusForbidden)
		from, to := today.AddDate(0, 0, -30).Format(time.DateOnly), today.Format(time.DateOnly)
		period := civicID(t, "period", streetStaff.jsonCall("POST", "/api/v1/assess/periods",
			fmt.Sprintf(`{"street":%q,"code":"本月","from":%q,"to":%q}`, street, from, to)), http.StatusCreated)
		weights := fmt.Sprintf("/api/v1/assess/periods/%d/weights", period)
		mustStatus(t, "weights not adding up", supervisor.jsonCall("PUT", weights, `{"survey":50}`), http.StatusBadRequest)
		r = supervisor.jsonCall("PUT", weights, `{"survey":60,"case_satisfaction":40}`)
		mustStatus(t, "weights", r, http.StatusOK)
		has(t, "weights", r, `"weights_version":2`)
		mustStatus(t, "department reads the scorecard", dept.get(fmt.Sprintf("/api/v1/assess/periods/%d/scorecard", period)), http.StatusForbidden)
		page := supervisor.page(fmt.Sprintf("/assess/periods/%d", period))
		mustStatus(t, "scorecard page", page, http.StatusOK)
		has(t, "scorecard page", page, "居民满意度测评", "4.00", "导出 Excel")
		x := supervisor.get(fmt.Sprintf("/assess/periods/%d/scorecard.xlsx", period))
		if x.Status != http.StatusOK || !strings.HasPrefix(x.Body, "PK") || !strings.Contains(x.Header.Get("Content-Type"), "spreadsheetml") {
			t.Errorf("export: %d %s", x.Status, x.Header.Get("Content-Type"))
		}
		mustStatus(t, "english scorecard", supervisor.page(fmt.Sprintf("/assess/periods/%d?lang=en", period)), http.StatusOK)
		mustStatus(t, "index", supervisor.page("/assess"), http.StatusOK)
	})
}

// assessDepartment finds a department's id by name in a department list.
func assessDepartment(t *testing.T, r response, name string) int64 {
	t.Helper()
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &list) != nil {
		t.Fatalf("departments: %d %s", r.Status, snippet(r.Body))
	}
	for _, d := range list.Items {
		if d.Name == name {
			return d.ID
		}
	}
	t.Fatalf("no department %s in %s", name, snippet(r.Body))
	return 0
}
