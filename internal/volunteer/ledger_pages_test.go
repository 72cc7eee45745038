package volunteer

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// Staff mend a volunteer's hours and points on the volunteer's page: a
// correction is a new entry with a reason; bad numbers, a missing reason
// and a balance that would fall below zero are refused in the reader's
// language and change nothing; read-only staff and staff of another
// community cannot.
func TestCorrectionsOnTheVolunteerPage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		vctx, v := f.volunteer(t, "张三")
		s := f.pages(t, tokens{"resident": vctx})
		page := fmt.Sprintf("/volunteer/volunteers/%d", v.ID)

		s.get("staff", page).want(t, "staff's view", http.StatusOK, "张三", v.Number, `id="hours-form"`, `id="points-form"`)
		r := s.get("street", page)
		r.want(t, "street staff's view", http.StatusOK, "张三")
		if strings.Contains(r.body, `id="hours-form"`) {
			t.Fatal("read-only street staff are offered the correction form")
		}
		for _, who := range []string{"other", "resident"} {
			s.get(who, page).want(t, who+" opens the page", http.StatusForbidden)
		}
		for _, who := range []string{"street", "other", "resident"} {
			s.post(who, page+"/hours", url.Values{"amount": {"60"}, "reason": {"补录"}}).want(t, who+" corrects", http.StatusForbidden)
		}

		for _, c := range []struct {
			what, amount, reason, lang string
			fragments                  []string
		}{
			{"no number, no reason", "abc", "", "zh-CN", []string{"更正的时长应为非零的分钟数", "请填写原因"}},
			{"zero", "0", "补录", "en", []string{"non-zero number of minutes of at most 1440"}},
			{"more than a day", "1441", "补录", "zh-CN", []string{"不超过 1440 分钟"}},
			{"below zero", "-30", "多记", "zh-CN", []string{"更正后服务时长将小于零"}},
		} {
			r := s.do("staff", c.lang, page+"/hours", url.Values{"amount": {c.amount}, "reason": {c.reason}})
			r.want(t, c.what, http.StatusBadRequest, append(c.fragments, `id="form-error"`, `value="`+c.reason+`"`)...)
		}
		if got, _ := f.svc.HoursOf(f.staff, v.ID); len(got) != 0 {
			t.Fatalf("refused corrections left entries: %+v", got)
		}

		r = s.post("staff", page+"/hours", url.Values{"amount": {"90"}, "reason": {"线下服务补录"}})
		if r.status != http.StatusSeeOther || r.location != page+"?done=hours" {
			t.Fatalf("correction: %d %q %.300s", r.status, r.location, r.body)
		}
		s.get("staff", r.location).want(t, "after the correction", http.StatusOK, "服务时长更正已记入", "线下服务补录", `id="balance-hours">1.5<`)
		s.post("staff", page+"/points", url.Values{"amount": {"20"}, "reason": {"活动奖励"}}).want(t, "points", http.StatusSeeOther)
		s.post("staff", page+"/points", url.Values{"amount": {"-50"}, "reason": {"兑换扣减"}}).want(t, "points below zero", http.StatusBadRequest, "积分不足")
		s.post("staff", page+"/points", url.Values{"amount": {"1001"}, "reason": {"x"}}).want(t, "too many points", http.StatusBadRequest, "绝对值不超过 1000")
		s.get("staff", page).want(t, "ledgers", http.StatusOK, `id="balance-points">20<`, "活动奖励")
		if v, _ = f.svc.Volunteer(f.staff, v.ID); v.Minutes != 90 || v.Points != 20 {
			t.Fatalf("balances %d min, %d points; want 90, 20", v.Minutes, v.Points)
		}
		f.balances(t)
		for _, lang := range []string{"zh-CN", "en"} {
			s.do("staff", lang, page, nil).translated(t, "volunteer page ("+lang+")")
		}
		// The desk links the volunteer to their page.
		s.get("staff", "/volunteer").want(t, "desk", http.StatusOK, `href="`+page+`"`)
	})
}

// withHours registers a verified volunteer with minutes of service (a
// correction) and runs the star job.
func (f *fixture) withHours(t *testing.T, name string, minutes int) Volunteer {
	t.Helper()
	_, v := f.volunteer(t, name)
	if err := f.svc.CorrectHours(f.staff, v.ID, CorrectionInput{Amount: minutes, Reason: "补录"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AwardStars(f.admin); err != nil {
		t.Fatal(err)
	}
	return v
}

// A star on notice is withdrawn on the volunteer's page with a reason, and
// the withdrawal is audited; without a reason, or for a level not on
// notice, nothing changes.
func TestWithdrawStarOnThePage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.svc.Config.StarHours = []int{1, 2}
		v := f.withHours(t, "李四", 70)
		s := f.pages(t, nil)
		page := fmt.Sprintf("/volunteer/volunteers/%d", v.ID)
		s.get("staff", page).want(t, "star on notice", http.StatusOK, "公示中", `id="star-form"`, `<option value="1">1 星</option>`)

		s.post("staff", page+"/stars/withdraw", url.Values{"level": {"1"}, "reason": {" "}}).want(t, "no reason", http.StatusBadRequest, "请填写原因")
		s.post("staff", page+"/stars/withdraw", url.Values{"level": {"2"}, "reason": {"异议成立"}}).want(t, "level not on notice", http.StatusBadRequest, "不在公示期内")
		s.post("street", page+"/stars/withdraw", url.Values{"level": {"1"}, "reason": {"异议成立"}}).want(t, "street staff", http.StatusForbidden)
		if n := f.audited(t, "volunteer.star.withdraw"); n != 0 {
			t.Fatalf("%d withdrawals audited before any", n)
		}
		r := s.post("staff", page+"/stars/withdraw", url.Values{"level": {"1"}, "reason": {"异议成立：时长不实"}})
		if r.status != http.StatusSeeOther || r.location != page+"?done=star" {
			t.Fatalf("withdrawal: %d %q %.300s", r.status, r.location, r.body)
		}
		r = s.get("staff", r.location)
		r.want(t, "withdrawn", http.StatusOK, "星级已撤回", "已撤回: 异议成立：时长不实")
		if strings.Contains(r.body, `id="star-form"`) {
			t.Fatal("the form is offered with no star on notice")
		}
		if n := f.audited(t, "volunteer.star.withdraw"); n != 1 {
			t.Fatalf("%d withdrawals audited, want 1", n)
		}
	})
}

// Insurance of a high-risk activity is recorded on its page: insurer,
// policy number and a period of cover that includes the activity's day;
// until then nobody checks in.
func TestInsuranceOnTheActivityPage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, func(in *ActivityInput) { in.Risk, in.Title = "high", "防汛排查" })
		vctx, _ := f.volunteer(t, "赵刚")
		g := f.signUp(t, vctx, x, true)
		s := f.pages(t, nil)
		page := fmt.Sprintf("/volunteer/activities/%d", x.ID)
		s.get("staff", page).want(t, "uninsured", http.StatusOK, `id="insurance-none"`, `id="insurance-form"`)

		form := func(insurer, policy, from, to string) url.Values {
			return url.Values{"insurer": {insurer}, "insurance": {policy}, "covered_from": {from}, "covered_to": {to}}
		}
		s.post("staff", page+"/insurance", form("", "", "2026/05/04", "")).want(t, "empty", http.StatusBadRequest,
			"请填写承保的保险公司", "请填写保险单号", "年-月-日", `open>`)
		s.do("staff", "en", page+"/insurance", form("PICC", "P-1", "2026-05-05", "2026-05-01")).want(t, "reversed", http.StatusBadRequest,
			"cannot end before it begins")
		s.post("staff", page+"/insurance", form("人保财险", "P-1", "2026-05-05", "2026-06-01")).want(t, "short", http.StatusBadRequest,
			"保险期间须覆盖活动日期 2026-05-04 至 2026-05-04")
		s.post("street", page+"/insurance", form("人保财险", "P-1", "2026-05-01", "2026-05-31")).want(t, "street staff", http.StatusForbidden)
		f.at("10:05")
		if _, err := f.svc.Stamp(f.staff, g.ID, StampInput{In: true}); fieldsOf(err) != "insurance:err.volunteer.uninsured" {
			t.Fatalf("refused insurance let the activity start: %v", err)
		}

		r := s.post("staff", page+"/insurance", form("人保财险", "PICC-2026-0001", "2026-05-01", "2026-05-31"))
		if r.status != http.StatusSeeOther || r.location != page+"?done=insurance" {
			t.Fatalf("insurance: %d %q %.300s", r.status, r.location, r.body)
		}
		s.get("staff", r.location).want(t, "insured", http.StatusOK, "保险信息已登记", `id="insurance-recorded"`, "人保财险", "PICC-2026-0001",
			"保险期间 2026-05-01 至 2026-05-31")
		if _, err := f.svc.Stamp(f.staff, g.ID, StampInput{In: true}); err != nil {
			t.Fatalf("insured start: %v", err)
		}
		if n := f.audited(t, "volunteer.activity.insurance"); n != 1 {
			t.Fatalf("%d insurance records audited, want 1", n)
		}
		// The organiser's page links a participant to their record.
		s.get("staff", page).want(t, "sign-ups", http.StatusOK, fmt.Sprintf(`href="/volunteer/volunteers/%d"`, g.VolunteerID))
		for _, lang := range []string{"zh-CN", "en"} {
			s.do("staff", lang, page, nil).translated(t, "activity page ("+lang+")")
		}
	})
}
