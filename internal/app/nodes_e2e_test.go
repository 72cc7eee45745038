package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// Two nodes on one PostgreSQL, no sticky sessions: a login on one is a
// login on both, a logout on either ends it on both, and the same case
// moved at the same instant through both nodes moves once. (Grid changes
// reaching the other node and jobs firing once are tested in
// internal/area and internal/platform/jobs, with two services on one
// database.)
func TestE2ETwoNodes(t *testing.T) {
	pg := os.Getenv("LINLI_TEST_POSTGRES")
	if pg == "" {
		t.Skip("needs LINLI_TEST_POSTGRES")
	}
	t.Parallel()
	a := startServer(t, dbtest.FreshPostgres(t, pg))
	cfg := a.App.Cfg
	cfg.Addr = "127.0.0.1:0"
	b := serveApp(t, cfg, false) // the same database and key: the deployment's second node

	staff := a.login(t, auth.CommunityStaff)
	onB := &client{t: t, s: b, http: staff.http} // the same browser, sent to the other node
	if r := onB.get("/"); r.Status != http.StatusOK || !strings.Contains(r.Text(), "社区工作者") {
		t.Fatalf("a login on node A, on node B: %d %s", r.Status, snippet(r.Body))
	}

	rep := a.client(t).jsonCall("POST", "/api/v1/cases", `{"category":"E0101","description":"井盖松动","lat":37.4830,"lon":121.4262}`)
	var receipt struct{ Receipt struct{ Number string } }
	if rep.Status != http.StatusCreated || json.Unmarshal([]byte(rep.Body), &receipt) != nil {
		t.Fatalf("report: %d %s", rep.Status, snippet(rep.Body))
	}
	n := receipt.Receipt.Number
	var c struct{ Version int }
	if r := onB.get("/api/v1/cases/" + n); r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &c) != nil || c.Version == 0 {
		t.Fatalf("the case on node B: %d %s", r.Status, snippet(r.Body))
	}

	// Both nodes at once, each told the same version: one accepts, the
	// other answers that the case has just moved.
	body := fmt.Sprintf(`{"action":"accept","version":%d}`, c.Version)
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i, node := range []*testServer{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, node.URL+"/api/v1/cases/"+n+"/actions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			res, err := staff.http.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	if !(statuses[0] == 200 && statuses[1] == 409) && !(statuses[0] == 409 && statuses[1] == 200) {
		t.Fatalf("the same move on two nodes at once: %v, want one 200 and one 409", statuses)
	}
	id, _ := cases.ParseNumber(n)
	if n := a.count(t, "SELECT COUNT(*) FROM case_events WHERE action = 'accept' AND case_id = $1", id); n != 1 {
		t.Fatalf("%d accept events, want 1", n)
	}

	if r := onB.post("/logout", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("logout on node B: %d", r.Status)
	}
	ended := &client{t: t, s: a, http: &http.Client{Jar: staff.http.Jar, CheckRedirect: staff.http.CheckRedirect}}
	if r := ended.get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
		t.Fatalf("after a logout on node B, node A: %d %s", r.Status, r.Location())
	}
}
