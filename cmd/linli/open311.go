package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/open311"
)

const open311Usage = `用法 / usage:
  linli open311 key create --name N [--rate PER_SECOND] [--batch]   issue a key (printed once; rate 0 = no limit)
  linli open311 key list
  linli open311 key revoke ID|NAME
  linli open311 jurisdiction [--set ID]                           print or set this deployment's jurisdiction_id
  linli open311 pull --endpoint URL [--jurisdiction J] [--api-key K] [--format json|xml]
                     [--since 2026-01-01T00:00:00Z] [--until …] [--map REMOTE=LINLI,…] [--default CODE]
  linli open311 bench [--clients 256] [--duration 10s] [--rate 1000] [--db postgres://…] [--cpuprofile F]`

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

// open311Bench measures POST requests.json with the harness of `linli
// bench intake` (bench_intake.go): Linli on a fresh database with the demo
// street and a key without a rate, the load from a separate process, a
// closed loop of --clients connections for requests/s, then an open loop
// at --rate for p50/p99 from each request's due time, and at the end the
// check that every acknowledged request was stored.
func open311Bench(ctx context.Context, args []string, stdout io.Writer) error {
	r, o, err := intakeBench(ctx, "linli open311 bench", args, intakeOptions{open311: true}, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%.0f requests/s (goal ≥ 4000); p99 at %d/s %.1f ms (goal < 20)\n", r.linli.PerSec, o.rate, r.open.P99)
	return printJSON(stdout, withWriter(map[string]any{"benchmark": "open311", "db": r.kind, "clients": o.clients,
		"seconds_each": o.duration.Seconds(), "requests_per_sec": round(r.linli.PerSec), "rate": o.rate,
		"p50_ms": round2(r.open.P50), "p99_ms": round2(r.open.P99), "max_ms": round2(r.open.Max),
		"achieved_rate": round(r.open.PerSec), "acked": r.acked, "stored": r.stored,
		"others_cores": round2(othersCores(r.linli, r.open))}, r))
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
