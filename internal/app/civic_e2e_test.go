package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

const civicCommunity = "370613001001" // 岱山社区, the demo's first community

// civicID reads the "id" of a JSON answer with the wanted status.
func civicID(t *testing.T, what string, r response, status int) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	if r.Status != status || json.Unmarshal([]byte(r.Body), &v) != nil || v.ID == 0 {
		t.Fatalf("%s: %d %s", what, r.Status, snippet(r.Body))
	}
	return v.ID
}

// Open affairs over HTTP: staff publish and correct a notice; anyone reads
// the board, its chain head and the check page without logging in; a
// resident votes once on their phone, comments (escaped) and asks; the
// overseer's opinion shows beside the notice.
func TestE2ECivic(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *testServer) {
		staff := s.login(t, auth.CommunityStaff)
		anon := s.client(t)
		mustStatus(t, "anonymous publish", anon.jsonCall("POST", "/api/v1/civic/notices", `{}`), http.StatusUnauthorized)

		notice := civicID(t, "publish", staff.jsonCall("POST", "/api/v1/civic/notices", `{"community":"`+civicCommunity+
			`","category":"finances","title":"2026年2月财务收支","body":"收入 12000 元\n支出 8000 元","period_from":"2026-03-01","period_to":"2099-03-31",
			"attachments":[{"name":"凭证.pdf","data":"JVBERi0xLjQKJSVFT0YK"}]}`), http.StatusCreated)
		bad := staff.jsonCall("POST", "/api/v1/civic/notices", `{"community":"`+civicCommunity+`","category":"finances","title":"","body":"x"}`)
		mustStatus(t, "empty title", bad, http.StatusBadRequest)
		has(t, "empty title", bad, "此项必填")
		corrected := civicID(t, "correct", staff.jsonCall("POST", fmt.Sprintf("/api/v1/civic/notices/%d/corrections", notice),
			`{"title":"2026年2月财务收支","body":"收入 12000 元\n支出 7500 元","period_from":"2026-03-01","period_to":"2099-03-31","reason":"支出金额笔误"}`),
			http.StatusCreated)

		board := anon.get("/civic/community/" + civicCommunity)
		mustStatus(t, "public board", board, http.StatusOK)
		has(t, "public board", board, "2026年2月财务收支", "第 2 版", "公开链头")
		var head struct {
			Heads []struct {
				Hash string `json:"hash"`
			} `json:"heads"`
		}
		check := anon.get("/api/v1/civic/communities/" + civicCommunity + "/check")
		if json.Unmarshal([]byte(check.Body), &head) != nil || len(head.Heads) != 1 || !strings.Contains(board.Body, head.Heads[0].Hash) {
			t.Errorf("the board does not show the chain head: %s", snippet(check.Body))
		}
		has(t, "check page", anon.get("/civic/community/"+civicCommunity+"/check"), "公开内容完整")
		page := anon.get(fmt.Sprintf("/civic/notices/%d", corrected))
		has(t, "corrected notice", page, "支出金额笔误", "支出 7500 元", "- 支出 8000 元")
		if r := anon.get(fmt.Sprintf("/civic/notices/%d/attachments/0", notice)); r.Status != 200 || !strings.HasPrefix(r.Body, "%PDF") ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("attachment: %d %v", r.Status, r.Header)
		}
		mustStatus(t, "english board", anon.get("/civic/community/"+civicCommunity+"?lang=en"), http.StatusOK)
		mustStatus(t, "unknown community", anon.get("/civic/community/999999999999"), http.StatusNotFound)

		resident := s.login(t, auth.Resident) // linked by the demo to an adult heading a household
		now := time.Now().UTC()
		vote := civicID(t, "create vote", staff.jsonCall("POST", "/api/v1/civic/votes", fmt.Sprintf(`{"community":"%s","title":"是否加装电梯",
			"options":["同意","不同意"],"rule":"household","secret":true,"opens_at":%q,"closes_at":%q}`, civicCommunity,
			now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))), http.StatusCreated)
		r := resident.post(fmt.Sprintf("/civic/votes/%d/ballot", vote), url.Values{"option": {"0"}})
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "voted=1") {
			t.Fatalf("ballot: %d %s", r.Status, snippet(r.Body))
		}
		mustStatus(t, "second ballot", resident.post(fmt.Sprintf("/civic/votes/%d/ballot", vote), url.Values{"option": {"1"}}), http.StatusConflict)
		mustStatus(t, "staff online ballot", staff.jsonCall("POST", fmt.Sprintf("/api/v1/civic/votes/%d/ballots", vote), `{"option":0}`), http.StatusNotFound)
		voters := staff.get(fmt.Sprintf("/api/v1/civic/votes/%d/voters", vote))
		if voters.Status != 200 || strings.Count(voters.Body, `"resident_id"`) != 1 || strings.Contains(voters.Body, "choice") {
			t.Errorf("voter list: %d %s", voters.Status, snippet(voters.Body))
		}
		mustStatus(t, "voter list for residents", resident.get(fmt.Sprintf("/api/v1/civic/votes/%d/voters", vote)), http.StatusForbidden)

		topic := civicID(t, "staff topic", staff.jsonCall("POST", "/api/v1/civic/topics",
			`{"community":"`+civicCommunity+`","title":"小区停车","body":"夜间停车难"}`), http.StatusCreated)
		r = resident.post(fmt.Sprintf("/civic/topics/%d/comments", topic), url.Values{"body": {`<script>alert("x")</script>同意`}})
		mustStatus(t, "comment", r, http.StatusSeeOther)
		tp := anon.get(fmt.Sprintf("/civic/topics/%d", topic))
		if strings.Contains(tp.Body, `<script>alert`) || !strings.Contains(tp.Body, "&lt;script&gt;") {
			t.Errorf("the comment is not escaped: %s", snippet(tp.Body))
		}
		mustStatus(t, "empty proposal", resident.post("/civic/topics", url.Values{"community": {civicCommunity}, "title": {""}, "body": {""}}),
			http.StatusBadRequest)
		mustStatus(t, "question", resident.post("/civic/questions", url.Values{"target_type": {"notice"},
			"target_id": {fmt.Sprint(corrected)}, "body": {"支出为何减少？"}}), http.StatusSeeOther)
		overseer := s.login(t, auth.Overseer)
		mustStatus(t, "opinion", overseer.jsonCall("POST", "/api/v1/civic/opinions",
			fmt.Sprintf(`{"target_type":"notice","target_id":%d,"stance":"object","reasons":"未附支出明细"}`, corrected)), http.StatusCreated)
		has(t, "notice with question and opinion", s.client(t).get(fmt.Sprintf("/civic/notices/%d", corrected)), "支出为何减少？", "未附支出明细", "有异议")
		hub := staff.get("/civic")
		mustStatus(t, "staff hub", hub, http.StatusOK)
		has(t, "staff hub", hub, "支出为何减少？")
	})
}

// The public board in Chromium, normal and large text: it renders without
// policy violations and grows in large-text mode.
func TestBrowserCivicBoard(t *testing.T) {
	path := browserPath(t)
	t.Parallel()
	s := startServer(t, dbtest.Engines(t)[db.SQLite])
	staff := s.login(t, auth.CommunityStaff)
	civicID(t, "publish", staff.jsonCall("POST", "/api/v1/civic/notices", `{"community":"`+civicCommunity+
		`","category":"subsidies","title":"3月低保名单","body":"以下家庭享受最低生活保障。","recipients":[{"name":"张桂兰","id_number":"370613195001011234","people":2,"amount":"1230.00"}]}`),
		http.StatusCreated)
	ctx := newBrowser(t, path)
	// Start the browser before listening to its console: two first uses
	// of a chromedp context race to allocate the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	var console consoleLog
	go console.collect(ctx)
	fontSize := func() string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).fontSize`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/civic/community/"+civicCommunity), chromedp.WaitVisible(chromedp.CSS("#chain-head"))); err != nil {
		t.Fatal(err)
	}
	normal := fontSize()
	// A click by script: a mouse click at the button's coordinates can miss
	// while a loaded machine is still laying the page out.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.getElementById("large-on").click()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#large-off"))); err != nil {
		t.Fatal(err)
	}
	if large := fontSize(); large == normal {
		t.Errorf("large text did not grow the page: %s", large)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#current")))
	if err != nil || !strings.Contains(text, "3月低保名单") {
		t.Errorf("current notices: %q %v", text, err)
	}
	console.mu.Lock()
	defer console.mu.Unlock()
	for _, m := range console.msgs {
		if isCSP(m) {
			t.Errorf("policy violation: %s", m.Text)
		}
	}
}
