package app

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// browserPath finds Chromium: the test runs wherever it is installed, and
// LINLI_TEST_BROWSER=1 makes a missing browser a failure (CI sets it, so
// the test cannot quietly stop running).
func browserPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("LINLI_TEST_BROWSER") == "1" {
			t.Fatalf("LINLI_TEST_BROWSER=1 but no browser: %v", err)
		}
		t.Skipf("no chromium on PATH (%v); set LINLI_TEST_BROWSER=1 to require it", err)
	}
	return path
}

// consoleLog collects what the page writes to the console: calls of the
// console API, uncaught exceptions and browser log entries (where Chromium
// reports Content-Security-Policy violations).
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func (l *consoleLog) collect(ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		l.mu.Lock()
		l.msgs = append(l.msgs, m)
		l.mu.Unlock()
	}
}

// waitFor returns the messages up to and including the first one that
// match accepts, or all of them and false when ctx ends first.
func (l *consoleLog) waitFor(ctx context.Context, match func(chromedp.ConsoleMessage) bool) ([]chromedp.ConsoleMessage, bool) {
	for {
		l.mu.Lock()
		for i, m := range l.msgs {
			if match(m) {
				out := l.msgs[:i+1]
				l.mu.Unlock()
				return out, true
			}
		}
		all := l.msgs
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return all, false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func isCSP(m chromedp.ConsoleMessage) bool {
	return strings.Contains(m.Text, "Content Security Policy")
}

// isInjectedRefusal is the report of the inline script a test injects on
// purpose, and only that: an earlier policy violation must not pass for it.
func isInjectedRefusal(m chromedp.ConsoleMessage) bool {
	return isCSP(m) && strings.Contains(m.Text, "script-src")
}

// newBrowser starts a headless Chromium for one test, as this machine's
// closed network needs it (no background connections), asking for Chinese
// as a browser in China does; the whole browser ends within a minute, so a
// hung page fails the test instead of the package's deadline.
func newBrowser(t *testing.T, path string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancel() })
	return ctx
}

// TestBrowserGridWorker walks through Linli as a grid worker in Chromium:
// log in, switch to English and to large text, and find both choices kept
// after a reload, with the strict Content-Security-Policy never in the way.
func TestBrowserGridWorker(t *testing.T) {
	path := browserPath(t)
	t.Parallel()
	s := startServer(t, dbtest.Engines(t)[db.SQLite])
	acc := s.Accounts[auth.GridWorker]

	ctx := newBrowser(t, path)

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	fontSize := func() float64 {
		t.Helper()
		px := eval("font size", `getComputedStyle(document.documentElement).fontSize`)
		f, err := strconv.ParseFloat(strings.TrimSuffix(px, "px"), 64)
		if err != nil {
			t.Fatalf("font size %q: %v", px, err)
		}
		return f
	}

	step("start the browser") // so that the console is heard from the first page on
	var console consoleLog
	go console.collect(ctx)

	// Anonymous: the home page sends us to log in.
	step("open /", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if loc := eval("location", `location.pathname + location.search`); loc != "/login?next=%2F" {
		t.Errorf("opening / landed on %q, want the login page", loc)
	}
	if h1 := text("h1"); h1 != "登录" {
		t.Errorf("login page h1 %q, want 登录", h1)
	}

	step("log in",
		chromedp.SendKeys(chromedp.CSS("#name"), acc.Name),
		chromedp.SendKeys(chromedp.CSS("#password"), acc.Password),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".greeting")))
	if h1 := text("h1"); h1 != "工作台" {
		t.Errorf("home h1 %q, want 工作台", h1)
	}
	if card := text(".role-grid_worker h2"); card != "网格员" {
		t.Errorf("role card %q, want 网格员", card)
	}
	normal := fontSize()

	step("switch to English",
		chromedp.Click(chromedp.CSS(`button[name=lang][value=en]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name=lang][value="zh-CN"]`)))
	if h1 := text("h1"); h1 != "Workbench" {
		t.Errorf("h1 after choosing English %q, want Workbench", h1)
	}
	if lang := eval("lang", `document.documentElement.lang`); lang != "en" {
		t.Errorf("html lang %q, want en", lang)
	}

	step("switch to large text",
		chromedp.Click(chromedp.CSS("#large-on")),
		chromedp.WaitVisible(chromedp.CSS("#large-off")))
	if class := eval("class", `document.documentElement.className`); class != "large" {
		t.Errorf("html class %q, want large", class)
	}
	large := fontSize()
	if large <= normal {
		t.Errorf("root font size %.1fpx in large text, want more than the normal %.1fpx", large, normal)
	}

	step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".greeting")))
	if h1 := text("h1"); h1 != "Workbench" {
		t.Errorf("h1 after reload %q, want Workbench", h1)
	}
	if class := eval("class", `document.documentElement.className`); class != "large" {
		t.Errorf("html class after reload %q, want large", class)
	}
	if f := fontSize(); f != large {
		t.Errorf("root font size after reload %.1fpx, want %.1fpx", f, large)
	}

	// The map of the worker's grid: Leaflet draws it under the same strict
	// policy (its scripts are files under /static/ too, checked below).
	step("open the map", chromedp.Navigate(s.URL+"/map"), chromedp.WaitVisible(chromedp.CSS("#map[data-features]")))
	if n := eval("features", `document.getElementById("map").dataset.features`); n != "1" {
		t.Errorf("the map drew %s features, want the worker's one grid", n)
	}
	if n := eval("paths", `String(document.querySelectorAll("#map path.leaflet-interactive").length)`); n != "1" {
		t.Errorf("%s grid outlines on the map, want 1", n)
	}

	// Every script comes from /static/: nothing inline for the policy to
	// block.
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.scripts, s => s.src)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Errorf("the page has no scripts; the check below would pass vacuously")
	}
	for _, src := range scripts {
		if !strings.HasPrefix(src, s.URL+"/static/") {
			t.Errorf("script %q is not a file under /static/", src)
		}
	}

	// An inline script added now must be refused and reported: it shows
	// that the policy is in force and that the console is heard, and, as
	// the console keeps its order, that every earlier message has arrived.
	step("inject an inline script", chromedp.Evaluate[chromedp.Void](
		`document.body.appendChild(Object.assign(document.createElement("script"), {textContent: "window.injected = 1"}))`))
	if v := eval("injected", `String(window.injected)`); v != "undefined" {
		t.Fatalf("an injected inline script ran (window.injected = %s); the Content-Security-Policy is not in force", v)
	}
	msgs, ok := console.waitFor(ctx, isInjectedRefusal)
	if !ok {
		t.Fatalf("the refused inline script was not reported on the console; heard: %v", msgs)
	}
	for _, m := range msgs[:len(msgs)-1] {
		if isCSP(m) || m.IsException() || m.Type == chromedp.ConsoleError {
			t.Errorf("console while using Linli: %s (%s)", m, m.URL)
		}
	}
}
