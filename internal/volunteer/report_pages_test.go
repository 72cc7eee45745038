package volunteer

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The organiser's page renews its check-in code through an endpoint only
// the organiser may call; the QR picture it points to shows that same
// code, and a forged code in the picture's address is not drawn.
func TestCheckinCodeRenews(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.activity(t, nil)
		vctx, _ := f.volunteer(t, "张三")
		s := f.pages(t, tokens{"resident": vctx})
		page := fmt.Sprintf("/volunteer/activities/%d", x.ID)
		s.get("staff", page).want(t, "organiser's page", http.StatusOK, `<script src="/volunteer/checkin.js" defer>`,
			`data-refresh="`+page+`/code"`, `data-refresh-in="780"`, "过期前本页会自动更新", "刷新页面即可更新")

		for _, who := range []string{"resident", "street", "other"} {
			s.get(who, page+"/code").want(t, who+" asks for a code", http.StatusForbidden)
		}
		r := s.get("staff", page+"/code")
		r.want(t, "fresh code", http.StatusOK)
		c := decode[CheckinCode](t, r)
		if id, err := f.svc.readToken(c.Code); err != nil || id != x.ID {
			t.Fatalf("the fresh code %q does not check in to the activity: %v", c.Code, err)
		}
		if c.RefreshIn != int((f.svc.Config.TokenTTL-refreshMargin)/time.Second) || !strings.Contains(c.Hint, "有效至 2026-05-04 09:15") {
			t.Fatalf("code: %+v", c)
		}
		if !strings.HasSuffix(c.Link, "/volunteer/checkin?code="+url.QueryEscape(c.Code)) {
			t.Fatalf("link %q", c.Link)
		}
		want, err := QR(c.Link)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.get("staff", c.QR); got.status != http.StatusOK || got.body != string(want) {
			t.Fatalf("the picture at %s is not the code's link (%d)", c.QR, got.status)
		}
		forged := fmt.Sprintf("%d.%d.%s", x.ID, f.now.Add(time.Hour).Unix(), strings.Repeat("0", 64))
		fake, _ := QR(strings.Replace(c.Link, url.QueryEscape(c.Code), url.QueryEscape(forged), 1))
		if got := s.get("staff", fmt.Sprintf("%s/qr.png?code=%s", page, url.QueryEscape(forged))); got.body == string(fake) {
			t.Fatal("a forged code is drawn as a QR code")
		}
		s.get("resident", c.QR).want(t, "a resident's picture", http.StatusForbidden)
		s.get("staff", "/volunteer/checkin.js").want(t, "script", http.StatusOK, "refresh_in", "visibilitychange")
	})
}

// The report draws its charts from tables on the page (no second source of
// figures): hours by month and by community, volunteers by star level,
// activities by kind; the tables hold the same numbers as the report API.
func TestReportChartsShowTheReportsFigures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.svc.Config.StarHours = []int{1, 2}
		f.svc.Config.NoticeDays = 0
		f.withHours(t, "张三", 150)
		f.withHours(t, "李四", 30)
		f.activity(t, nil)
		f.activity(t, func(in *ActivityInput) { in.Title = "理发二" })
		f.activity(t, func(in *ActivityInput) {
			in.Title, in.Kind, in.Audience = "反诈宣讲", "policy_briefing", ForResidents
		})
		gone := f.activity(t, func(in *ActivityInput) { in.Title = "取消的" })
		if err := f.svc.CancelActivity(f.staff, gone.ID, "天气"); err != nil {
			t.Fatal(err)
		}
		s := f.pages(t, nil)
		r := s.get("street", "/volunteer/report")
		r.want(t, "report", http.StatusOK, `<script src="/volunteer/report.js" defer>`, "/static/vendor/echarts/echarts.min",
			`id="chart-months"`, `id="chart-communities"`, `id="chart-stars"`, `id="chart-kinds"`)
		row := func(table, label string) string {
			t.Helper()
			start := strings.Index(r.body, `id="`+table+`"`)
			if start < 0 {
				t.Fatalf("no table %s", table)
			}
			m := regexp.MustCompile(`<tr data-label="` + regexp.QuoteMeta(label) + `" data-value="([^"]*)">`).FindStringSubmatch(r.body[start:])
			if m == nil {
				t.Fatalf("no row %q in %s", label, table)
			}
			return m[1]
		}
		month := f.now.In(chinaTime).Format("2006-01")
		for _, c := range []struct{ table, label, want string }{
			{"report-months", month, "3.0"},
			{"report-communities", "岱山社区", "3.0"},
			{"report-communities", "黄海社区", "0.0"},
			{"report-stars", "未评星", "1"},
			{"report-stars", "1 星", "0"},
			{"report-stars", "2 星", "1"},
			{"report-kinds", "助老服务", "2"},
			{"report-kinds", "政策宣讲", "1"},
		} {
			if got := row(c.table, c.label); got != c.want {
				t.Errorf("%s %s: %s, want %s", c.table, c.label, got, c.want)
			}
		}
		figs, err := f.svc.Report(f.street)
		if err != nil || len(figs) != 2 || figs[0].Stars[2] != 1 || figs[0].Activities["elder_care"] != 2 || figs[1].TotalHours() != 0 {
			t.Fatalf("report: %+v %v", figs, err)
		}
		s.do("street", "en", "/volunteer/report", nil).want(t, "report in English", http.StatusOK, "Volunteers by star level", "No star")
		s.do("street", "en", "/volunteer/report", nil).translated(t, "report (en)")
		s.get("street", "/volunteer/report.js").want(t, "script", http.StatusOK, "data-table", "echarts.init")
	})
}
