package app_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/web"
)

// BenchmarkHomePage measures the logged-in home page (GET /) of a server
// holding the demo data, through real HTTP on a loopback port, and reports
// the latency percentiles the foundation issue sets a target for (p99 under
// 20 ms). See docs/benchmarks.md:
//
//	go test ./internal/app/ -run '^$' -bench HomePage -benchtime 5000x
//
// It asserts nothing about time: the figures are reported, not checked.
func BenchmarkHomePage(b *testing.B) {
	base, cookie := startDemo(b)
	// Enough idle connections that every goroutine keeps its own: the
	// figure is the page's cost, not TCP handshakes.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	for _, workers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", workers), func(b *testing.B) {
			lat := measure(b, workers, func() error { return getHome(client, base, cookie) })
			slices.Sort(lat)
			b.ReportMetric(ms(percentile(lat, 0.50)), "p50_ms")
			b.ReportMetric(ms(percentile(lat, 0.99)), "p99_ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max_ms")
		})
	}
}

// startDemo runs the whole program on a fresh SQLite file with the demo
// data and returns its URL and the session cookie of the demo admin.
func startDemo(b *testing.B) (base string, cookie *http.Cookie) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	cfg := config.Default()
	cfg.DB = "sqlite:" + b.TempDir() + "/l.db"
	cfg.Addr = "127.0.0.1:0"
	// The request log is formatted as in production, then dropped.
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() }) // runs after the server has stopped (cleanups run last first)
	accounts, err := a.SeedDemo(ctx)
	if err != nil {
		b.Fatal(err)
	}
	l, err := a.Listen()
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		a.Serve(ctx, l)
	}()
	b.Cleanup(func() {
		cancel()
		<-served
	})
	base = "http://" + l.Addr().String()
	for _, acc := range accounts {
		if acc.Name == "admin" {
			return base, login(b, base, acc.Name, acc.Password)
		}
	}
	b.Fatal("the demo data has no admin account")
	return "", nil
}

// login posts the login form and returns the session cookie it sets.
func login(b *testing.B, base, name, password string) *http.Cookie {
	b.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie && c.Value != "" {
			return c
		}
	}
	b.Fatalf("POST /login as %s: status %d and no session cookie", name, resp.StatusCode)
	return nil
}

// getHome fetches the home page and checks that it is the admin's.
func getHome(client *http.Client, base string, cookie *http.Cookie) error {
	req, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		return err
	}
	req.AddCookie(cookie)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "/admin/users") {
		return fmt.Errorf("GET /: status %d, want 200 with the admin's links; body starts %.200q", resp.StatusCode, body)
	}
	return nil
}

// measure runs do b.N times in total from workers goroutines and returns
// each call's duration.
func measure(b *testing.B, workers int, do func() error) []time.Duration {
	b.Helper()
	var next atomic.Int64
	per := make([][]time.Duration, workers)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				if err := do(); err != nil {
					errc <- err
					return
				}
				per[w] = append(per[w], time.Since(start))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return slices.Concat(per...)
}

// percentile returns the q-quantile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
