package app

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// TestBrowserDashboard opens the three-rates dashboard as the demo
// supervisor in Chromium: ECharts draws the bar chart of the table's rows
// and the trend line from the API, a tooltip shows on hover, and the
// strict Content-Security-Policy is never in the way (no inline script, no
// eval, no inline style markup).
func TestBrowserDashboard(t *testing.T) {
	path := browserPath(t)
	t.Parallel()
	s := startServer(t, dbtest.Engines(t)[db.SQLite])
	acc := s.Accounts[auth.Supervisor]

	ctx := newBrowser(t, path, chromedp.WindowSize(1280, 900))

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}

	step("start the browser")
	var console consoleLog
	go console.collect(ctx)

	step("log in", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), acc.Name),
		chromedp.SendKeys(chromedp.CSS("#password"), acc.Password),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(".greeting")))

	step("open the dashboard", chromedp.Navigate(s.URL+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#chart-rates[data-points]")),
		chromedp.WaitVisible(chromedp.CSS("#chart-trend[data-points]")))
	rows := eval("table rows", `String(document.querySelectorAll("#kpis tbody tr").length)`)
	if n, _ := strconv.Atoi(rows); n == 0 {
		t.Fatalf("the dashboard's table has no rows; the demo seeds cases")
	}
	if got := eval("bars", `document.getElementById("chart-rates").dataset.points`); got != rows {
		t.Errorf("the bar chart drew %s rows, the table has %s", got, rows)
	}
	if got := eval("trend", `document.getElementById("chart-trend").dataset.points`); got == "failed" || got == "0" {
		t.Errorf("the trend chart drew %q periods", got)
	}
	for _, id := range []string{"chart-rates", "chart-trend"} {
		if v := eval("canvas", `(function(){var c=document.querySelector("#`+id+` canvas");return c?c.width+"x"+c.height:"none"})()`); v == "none" || strings.HasPrefix(v, "0x") {
			t.Errorf("#%s has no canvas drawn (%s)", id, v)
		}
	}
	// The chart of the rates names the three rates in its legend, as the
	// table's headers do.
	if legend := eval("legend", `JSON.stringify(echarts.getInstanceByDom(document.getElementById("chart-rates")).getOption().series.map(function(s){return s.name}))`); legend != `["响应率","解决率","满意率"]` {
		t.Errorf("bar chart series %s", legend)
	}
	// A tooltip, through the mouse and through the chart's API: ECharts'
	// HTML tooltips carry style attributes, which the policy refuses;
	// dashboard.js draws them on the canvas instead.
	step("hover over the bars", chromedp.Evaluate[chromedp.Void](`(function(){
		var el = document.getElementById("chart-rates"), r = el.getBoundingClientRect();
		var target = el.querySelector("canvas") || el;
		target.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height * 0.6}));
		echarts.getInstanceByDom(el).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 0});
	})()`))
	if shown := eval("tooltip", `new Promise(function (done) {
		var chart = echarts.getInstanceByDom(document.getElementById("chart-rates"));
		chart.on("showTip", function () { done("shown") });
		chart.dispatchAction({type: "showTip", seriesIndex: 1, dataIndex: 0});
		setTimeout(function () { done("not shown") }, 2000);
	})`); shown != "shown" {
		t.Errorf("the tooltip was %s", shown)
	}

	// Another grouping, by month: the line chart follows the same periods.
	step("group by month", chromedp.Navigate(s.URL+"/dashboard?group=month"),
		chromedp.WaitVisible(chromedp.CSS("#chart-trend[data-points]")))
	if got, want := eval("trend", `document.getElementById("chart-trend").dataset.points`),
		eval("rows", `String(document.querySelectorAll("#kpis tbody tr").length)`); got != want {
		t.Errorf("by month: the trend drew %s periods, the table has %s", got, want)
	}

	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.scripts, s => s.src)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range scripts {
		if !strings.HasPrefix(src, s.URL+"/static/") {
			t.Errorf("script %q is not a file under /static/", src)
		}
	}
	// As in TestBrowserGridWorker, a refused inline script proves that the
	// policy is on and that every earlier console message has arrived; here
	// it is told from other refusals (an inline style would be one) by
	// coming after the injection and naming script-src.
	console.mu.Lock()
	before := len(console.msgs)
	console.mu.Unlock()
	step("inject an inline script", chromedp.Evaluate[chromedp.Void](
		`document.body.appendChild(Object.assign(document.createElement("script"), {textContent: "window.injected = 1"}))`))
	msgs, ok := console.waitAfter(ctx, before, func(m chromedp.ConsoleMessage) bool {
		return isInjectedRefusal(m)
	})
	if !ok {
		t.Fatalf("the refused inline script was not reported on the console; heard: %v", msgs)
	}
	for _, m := range msgs[:len(msgs)-1] {
		if isCSP(m) || m.IsException() || m.Type == chromedp.ConsoleError {
			t.Errorf("console on the dashboard: %s (%s)", m, m.URL)
		}
	}
}

// waitAfter is waitFor for the first match among the messages from index
// from on.
func (l *consoleLog) waitAfter(ctx context.Context, from int, match func(chromedp.ConsoleMessage) bool) ([]chromedp.ConsoleMessage, bool) {
	for {
		l.mu.Lock()
		for i := from; i < len(l.msgs); i++ {
			if match(l.msgs[i]) {
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
