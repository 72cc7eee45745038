package cases_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/jobs"
	"github.com/linli/linli/internal/platform/notify"
)

// A dispatch reaches the unit's inbox, and every move reaches the
// configured webhook, signed, once the background job runs.
func TestNotifications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var mu sync.Mutex
		var got []map[string]any
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.Header.Get("X-Linli-Signature") != notify.Signature([]byte("a shared secret, long"), body) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			var m map[string]any
			json.Unmarshal(body, &m)
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}))
		defer hook.Close()
		f := setup(t, d)
		n := notify.New(d, hook.URL, "a shared secret, long")
		f.svc.Notify = n
		number := f.report(t, "井盖丢失").Number
		f.act(t, "staff", number, cases.Request{Action: cases.ActAccept})
		f.act(t, "staff", number, cases.Request{Action: cases.ActDispatch, Unit: "cgk"})

		handler, _ := f.accts.Lookup(system, "handler")
		staff, _ := f.accts.Lookup(system, "staff")
		inbox, err := n.Inbox(context.Background(), handler.ID, 10)
		if err != nil || len(inbox) != 1 || inbox[0].Key != "notify.case.dispatch" || inbox[0].Link != "/cases/"+number {
			t.Fatalf("the handler's inbox: %+v %v", inbox, err)
		}
		if staffBox, _ := n.Inbox(context.Background(), staff.ID, 10); len(staffBox) != 1 || staffBox[0].Key != "notify.case.report" {
			t.Fatalf("staff should hear of the new report only: %+v", staffBox)
		}
		if other, _ := f.accts.Lookup(system, "other"); true {
			if box, _ := n.Inbox(context.Background(), other.ID, 10); len(box) != 0 {
				t.Fatalf("another community's staff heard of it: %+v", box)
			}
		}
		r := jobs.NewRunner(d, "test", func() time.Time { return f.now }, slog.Default())
		n.Jobs(r)
		f.svc.Jobs(r)
		if _, err := r.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 3 { // report, accept, dispatch
			t.Fatalf("webhook got %d messages: %v", len(got), got)
		}
		actions := map[any]bool{}
		for _, m := range got {
			data := m["data"].(map[string]any)
			if data["number"] != number {
				t.Fatalf("webhook payload about another case: %v", m)
			}
			actions[data["action"]] = true
		}
		if !actions["report"] || !actions["accept"] || !actions["dispatch"] {
			t.Fatalf("webhook actions: %v", actions)
		}
	})
}

// Who hears of a report is remembered for a second (the staff of an area
// are read once, not for every report): a member of staff added to the
// community hears of the reports made after that second.
func TestNewStaffHearOfReports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		n := notify.New(d, "", "")
		f.svc.Notify = n
		f.report(t, "井盖松动")
		u, err := f.accts.CreateUser(system, auth.NewUser{Name: "newcomer", Role: auth.CommunityStaff, AreaCode: "370613001001",
			Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		number := f.report(t, "井盖又松了").Number
		box, err := n.Inbox(context.Background(), u.ID, 10)
		if err != nil || len(box) != 1 || box[0].Link != "/cases/"+number {
			t.Fatalf("the new member of staff's inbox a second later: %+v %v", box, err)
		}
		staff, _ := f.accts.Lookup(system, "staff")
		if box, _ := n.Inbox(context.Background(), staff.ID, 10); len(box) != 2 {
			t.Fatalf("the member of staff there before heard of %d reports, want 2", len(box))
		}
	})
}
