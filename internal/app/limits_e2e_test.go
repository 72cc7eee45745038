package app

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/idcard"
	"github.com/linli/linli/internal/platform/web"
)

const reportJSON = `{"category":"E0101","description":"路灯不亮","lat":37.482,"lon":121.427}`

// With the default rates, an address without a login may burst 25 writes
// and an account 50; the next write is refused with 429, Retry-After and a
// message that says when to come back, while reads and other clients go
// on.
func TestE2EWriteRates(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "linli.db"), func(c *config.Config) {
		d := config.Default()
		c.UserWriteRate, c.PublicWriteRate = d.UserWriteRate, d.PublicWriteRate
	})
	anon := s.client(t)
	report := func() response {
		return anon.do(anon.request(http.MethodPost, "/api/v1/cases", strings.NewReader(reportJSON),
			http.Header{"Content-Type": {"application/json"}}), false)
	}
	r := burst(t, "an address without a login", config.Default().PublicWriteRate, report, http.StatusCreated)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "操作太频繁") {
		t.Fatalf("over the rate: Retry-After %q, %s", r.Header.Get("Retry-After"), snippet(r.Body))
	}
	if r := anon.get("/api/v1/categories"); r.Status != http.StatusOK {
		t.Fatalf("a read while over the write rate: %d", r.Status)
	}

	// Logged in, the same address is another client, spending its
	// account's budget; the login itself is the address's, so it waits for
	// the Retry-After.
	time.Sleep(time.Second)
	staff := s.login(t, auth.CommunityStaff)
	burst(t, "an account", config.Default().UserWriteRate, func() response { return staff.post("/inbox/read", url.Values{}) }, http.StatusSeeOther)
	other := s.login(t, auth.GridWorker)
	if r := other.post("/inbox/read", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("another account while the first is over its rate: %d", r.Status)
	}
}

// burst writes until the client is refused with 429. All of the first
// BurstSeconds × rate writes must pass, and the refusal must come before
// the client has had more than the burst plus what the elapsed time
// refilled: the bound depends on the time taken, not on a timing guess.
func burst(t *testing.T, who string, rate float64, write func() response, ok int) response {
	t.Helper()
	start := time.Now()
	for n := 1; ; n++ {
		r := write()
		switch {
		case r.Status == ok:
		case r.Status == http.StatusTooManyRequests && n > web.BurstSeconds*int(rate):
			return r
		default:
			t.Fatalf("%s, write %d: %d %s", who, n, r.Status, snippet(r.Body))
		}
		if allowed := web.BurstSeconds*rate + time.Since(start).Seconds()*rate + 1; float64(n) > allowed {
			t.Fatalf("%s: %d writes passed, more than the %.0f its rate allows", who, n, allowed)
		}
	}
}

// A node at its limit of concurrent requests answers 503 with Retry-After
// after the short wait, still says it is alive, and serves again as soon
// as a place frees. One request is held in flight by sending its body
// slowly: the handler waits for it, as it would for a slow phone.
func TestE2EOverloadSheds(t *testing.T) {
	t.Parallel()
	s := startServer(t, "sqlite:"+filepath.Join(t.TempDir(), "linli.db"), func(c *config.Config) {
		c.MaxInFlight = 1
	})
	addr := strings.TrimPrefix(s.URL, "http://")
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /api/v1/cases HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(reportJSON), reportJSON[:10])
	c := s.client(t)
	deadline := time.Now().Add(10 * time.Second)
	var r response
	for { // until the slow request has its place
		if r = c.get("/api/v1/categories"); r.Status == http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" || !strings.Contains(r.Body, "系统繁忙") {
		t.Fatalf("a request while the node is full: %d, Retry-After %q, %s", r.Status, r.Header.Get("Retry-After"), snippet(r.Body))
	}
	if r := c.get("/healthz"); r.Status != http.StatusOK {
		t.Fatalf("/healthz while the node is full: %d", r.Status)
	}
	fmt.Fprint(slow, reportJSON[10:])
	answer, _ := io.ReadAll(io.LimitReader(slow, 12))
	if !strings.HasPrefix(string(answer), "HTTP/1.1 201") {
		t.Fatalf("the slow report, once sent whole: %q", answer)
	}
	for r = c.get("/api/v1/categories"); r.Status != http.StatusOK; r = c.get("/api/v1/categories") {
		if time.Now().After(deadline) {
			t.Fatalf("after the place freed: %d", r.Status)
		}
	}
}

// The scan that every test server's log goes through finds an ID or a
// mobile number in a message or in any attribute, and not in request ids,
// masked numbers or case numbers.
func TestLogScanFindsPersonalData(t *testing.T) {
	var found []string
	log := slog.New(&piiScan{next: slog.DiscardHandler, report: func(m string) { found = append(found, m) }})
	log.Info("masked", "phone", "138****5678", "id", "370613********1234", "case", "202611270000006",
		"request_id", "13812345678abcd")
	log.Debug("a case", "number", "202611270000123")
	if len(found) != 0 {
		t.Fatalf("false alarms: %v", found)
	}
	log.With("phone", "13812345678").Info("phone in an attribute")
	id := "37061319500101123" + string(idcard.CheckChar("37061319500101123"))
	log.Warn("id in the message " + id + " here")
	log.Error("phone in text", "err", "no user with phone 13900009977")
	if len(found) != 3 {
		t.Fatalf("found %d of 3: %v", len(found), found)
	}
}
