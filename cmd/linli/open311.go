package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/open311"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
)

const open311Usage = `用法 / usage:
  linli open311 key create --name N [--rate PER_SECOND] [--batch]   issue a key (printed once; rate 0 = no limit)
  linli open311 key list
  linli open311 key revoke ID|NAME
  linli open311 jurisdiction [--set ID]                           print or set this deployment's jurisdiction_id
  linli open311 pull --endpoint URL [--jurisdiction J] [--api-key K] [--format json|xml]
                     [--since 2026-01-01T00:00:00Z] [--until …] [--map REMOTE=LINLI,…] [--default CODE]
  linli open311 bench [--clients 32] [--duration 10s] [--rate 1000]`

// open311Cmd is `linli open311`: the keys of Open311 clients, pulling
// requests from another GeoReport v2 server, and the POST benchmark.
func open311Cmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 2 && args[0] == "key" && args[1] == "create":
		return open311KeyCreate(ctx, args[2:], stdout, stderr)
	case len(args) >= 2 && args[0] == "key" && args[1] == "list":
		return open311KeyList(ctx, args[2:], stdout)
	case len(args) >= 2 && args[0] == "key" && args[1] == "revoke":
		return open311KeyRevoke(ctx, args[2:], stdout)
	case len(args) >= 1 && args[0] == "jurisdiction":
		return open311Jurisdiction(ctx, args[1:], stdout)
	case len(args) >= 1 && args[0] == "pull":
		return open311Pull(ctx, args[1:], stdout)
	case len(args) >= 1 && args[0] == "bench":
		return open311Bench(ctx, args[1:], stdout)
	}
	return usageErr("%s", open311Usage)
}

func open311KeyCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name string
	var rate float64
	var batch bool
	ctx, a, err := open(ctx, "open311 key create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "the client's name, e.g. FixMyStreet")
		fs.Float64Var(&rate, "rate", 0, "requests per second the key may post (0: no limit)")
		fs.BoolVar(&batch, "batch", false, "answer posts with a token instead of the request id")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if name == "" {
		return usageErr("--name is required")
	}
	key, k, err := a.Open311.CreateKey(ctx, name, rate, batch)
	if err != nil {
		return err
	}
	// The key alone on stdout, so that scripts can capture it.
	fmt.Fprintln(stdout, key)
	fmt.Fprintf(stderr, "密钥 %d 只显示这一次 / key %d (%s) is shown only this once\n", k.ID, k.ID, k.Name)
	return nil
}

func open311KeyList(ctx context.Context, args []string, stdout io.Writer) error {
	ctx, a, err := open(ctx, "open311 key list", args, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	keys, err := a.Open311.Keys(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ID\tNAME\tRATE/S\tBATCH\tCREATED\tLAST USED\tREVOKED")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		fmt.Fprintf(stdout, "%d\t%s\t%s\t%v\t%s\t%s\t%s\n", k.ID, k.Name, strconv.FormatFloat(k.Rate, 'f', -1, 64), k.Batch,
			k.CreatedAt.UTC().Format(time.RFC3339), stamp(k.LastUsedAt), stamp(k.RevokedAt))
	}
	return nil
}

func open311KeyRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr("用法 / usage: linli open311 key revoke ID|NAME [--db …]")
	}
	which := args[0]
	ctx, a, err := open(ctx, "open311 key revoke", args[1:], nil)
	if err != nil {
		return err
	}
	defer a.Close()
	k, err := a.Open311.RevokeKey(ctx, which)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已吊销 / revoked key %d (%s)\n", k.ID, k.Name)
	return nil
}

func open311Pull(ctx context.Context, args []string, stdout io.Writer) error {
	var opt open311.PullOptions
	var since, until, mapping string
	ctx, a, err := open(ctx, "open311 pull", args, func(fs *flag.FlagSet) {
		fs.StringVar(&opt.Endpoint, "endpoint", "", "the GeoReport v2 root, e.g. https://311.example.gov/open311/v2/")
		fs.StringVar(&opt.Jurisdiction, "jurisdiction", "", "jurisdiction_id to send")
		fs.StringVar(&opt.APIKey, "api-key", "", "api_key to send (most servers need none to read)")
		fs.StringVar(&opt.Format, "format", "json", "json or xml")
		fs.StringVar(&since, "since", "", "earliest requested_datetime, W3C (default: 90 days before --until)")
		fs.StringVar(&until, "until", "", "latest requested_datetime, W3C (default: now)")
		fs.StringVar(&mapping, "map", "", "service codes to Linli categories: REMOTE=LINLI,REMOTE=LINLI")
		fs.StringVar(&opt.Default, "default", "", "Linli category for service codes that are no Linli category (default: such requests fail)")
		fs.IntVar(&opt.PageSize, "page-size", 500, "requests per page")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if opt.Endpoint == "" {
		return usageErr("--endpoint is required")
	}
	for name, p := range map[string]*time.Time{"since": &opt.From, "until": &opt.To} {
		v := map[string]string{"since": since, "until": until}[name]
		if v == "" {
			continue
		}
		if *p, err = time.Parse(time.RFC3339, v); err != nil {
			return usageErr("--%s %q: want a W3C datetime such as 2026-01-01T00:00:00Z", name, v)
		}
	}
	if mapping != "" {
		opt.Map = map[string]string{}
		for _, pair := range strings.Split(mapping, ",") {
			from, to, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || from == "" || to == "" {
				return usageErr("--map %q: want REMOTE=LINLI pairs separated by commas", pair)
			}
			opt.Map[from] = to
		}
	}
	rep, err := a.Open311.Pull(ctx, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "拉取 / pulled %s: seen %d, imported %d (closed upstream %d), pulled before %d, failed %d\n",
		opt.Endpoint, rep.Seen, rep.Imported, rep.Closed, rep.Known, rep.Failed)
	for _, f := range rep.Failures {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	return nil
}

// open311Bench measures POST requests.json: Linli on a fresh SQLite file
// with the demo street, a key without a rate, and load from this process
// (the same two cores): a closed loop of --clients connections for
// requests/s, then an open loop at --rate for p50/p99 measured from each
// request's intended send time.
func open311Bench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("linli open311 bench", flag.ContinueOnError)
	clients := fs.Int("clients", 32, "concurrent connections of the closed loop")
	duration := fs.Duration("duration", 10*time.Second, "how long each phase runs")
	rate := fs.Int("rate", 1000, "requests per second of the latency phase")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *clients < 1 || *rate < 1 || *duration <= 0 {
		return usageErr("--clients and --rate must be at least 1 and --duration positive")
	}
	dir, err := os.MkdirTemp("", "linli-bench-open311-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.DB = "sqlite:" + filepath.Join(dir, "linli.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.KeyFile = filepath.Join(dir, "linli.key")
	cfg.LogLevel = "error"
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.SeedDemo(ctx); err != nil {
		return err
	}
	key, _, err := a.Open311.CreateKey(auth.WithPrincipal(ctx, auth.System()), "bench", 0, false)
	if err != nil {
		return err
	}
	cats, err := a.Cases.Categories(ctx)
	if err != nil {
		return err
	}
	var codes []string
	for _, c := range cats {
		if c.Leaf() && c.Public && c.Active {
			codes = append(codes, c.Code)
		}
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.Serve(sctx, l) }()
	defer func() { stop(); <-served }()
	target := "http://" + l.Addr().String() + "/open311/v2/requests.json"
	fmt.Fprintf(stdout, "Linli on SQLite at %s; load from this process\n", target)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}
	closed := o311BenchLoad(ctx, hc, target, key, codes, *clients, 0, *duration)
	fmt.Fprintf(stdout, "closed loop, %d clients: %d ok, %d failed in %.1f s = %.0f requests/s (goal ≥ 4000)\n",
		*clients, closed.ok, closed.failed, closed.seconds, float64(closed.ok)/closed.seconds)
	openLoop := o311BenchLoad(ctx, hc, target, key, codes, max(64, *clients), *rate, *duration)
	fmt.Fprintf(stdout, "open loop at %d/s: %d ok, %d failed; p50 %.1f ms, p99 %.1f ms (goal < 20), max %.1f ms\n",
		*rate, openLoop.ok, openLoop.failed, openLoop.pct(50), openLoop.pct(99), openLoop.pct(100))
	if closed.failed+openLoop.failed > 0 {
		return fmt.Errorf("%d requests failed, e.g. %s", closed.failed+openLoop.failed, closed.firstErr+openLoop.firstErr)
	}
	return nil
}

type o311Load struct {
	ok, failed int64
	seconds    float64
	latencies  []float64 // ms
	firstErr   string
}

func (r o311Load) pct(p float64) float64 {
	if len(r.latencies) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(r.latencies)))) - 1
	return r.latencies[max(0, min(i, len(r.latencies)-1))]
}

// o311BenchLoad posts requests: as fast as answers come with rate 0, else on a
// fixed schedule of rate per second.
func o311BenchLoad(ctx context.Context, hc *http.Client, target, key string, codes []string, clients, rate int, d time.Duration) o311Load {
	var res o311Load
	var mu sync.Mutex
	var ok, failed atomic.Int64
	start := time.Now()
	end := start.Add(d)
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), 7))
			var lat []float64
			for {
				due := time.Now()
				if rate > 0 {
					n := next.Add(1) - 1
					due = start.Add(time.Duration(float64(n) / float64(rate) * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				if due.After(end) || ctx.Err() != nil {
					break
				}
				form := o311Request(rng, key, codes)
				resp, err := hc.PostForm(target, form)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					mu.Lock()
					if res.firstErr == "" {
						if err != nil {
							res.firstErr = err.Error()
						} else {
							res.firstErr = resp.Status
						}
					}
					mu.Unlock()
					continue
				}
				ok.Add(1)
				lat = append(lat, float64(time.Since(due).Microseconds())/1000)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	res.ok, res.failed = ok.Load(), failed.Load()
	slices.Sort(res.latencies)
	return res
}

// The demo street (internal/app/demo.go): 14 community blocks of
// 0.008° × 0.006° in rows of five from (121.425, 37.485) southwards.
const (
	o311West, o311North = 121.425, 37.485
	o311BlockLon        = 0.008
	o311BlockLat        = 0.006
	o311Blocks          = 14
)

// o311Request is a realistic post: a point inside one of the demo grids,
// any public leaf category, a description, a name, a mobile number.
func o311Request(rng *mrand.Rand, key string, codes []string) url.Values {
	block := rng.IntN(o311Blocks)
	lon := o311West + float64(block%5)*o311BlockLon + (0.02+0.96*rng.Float64())*o311BlockLon
	lat := o311North - float64(block/5)*o311BlockLat - (0.02+0.96*rng.Float64())*o311BlockLat
	return url.Values{"api_key": {key}, "service_code": {codes[rng.IntN(len(codes))]},
		"lat": {strconv.FormatFloat(lat, 'f', 6, 64)}, "long": {strconv.FormatFloat(lon, 'f', 6, 64)},
		"description": {"路口的路灯晚上不亮，行人过马路很危险。"}, "first_name": {"居民"},
		"phone": {strconv.FormatInt((13+rng.Int64N(7))*1e9+rng.Int64N(1e9), 10)}}
}

func open311Jurisdiction(ctx context.Context, args []string, stdout io.Writer) error {
	var set string
	ctx, a, err := open(ctx, "open311 jurisdiction", args, func(fs *flag.FlagSet) {
		fs.StringVar(&set, "set", "", "the jurisdiction_id clients send, e.g. the city's domain")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if set != "" {
		if err := a.Open311.SetJurisdiction(ctx, set); err != nil {
			return err
		}
	}
	id, err := a.Open311.Jurisdiction(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, id)
	return nil
}
