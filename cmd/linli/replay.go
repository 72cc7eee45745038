package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // exports name their cities' zones; Go finds them even on hosts without tz data

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
)

const replayUsage = `用法 / usage:
  linli replay --file F.csv[.gz] [--map mapping.json] [--district 990100] [--limit N] [--db …]
  (without --map: Boston's 311 export; docs/replay.md describes the mapping)`

var districtRE = regexp.MustCompile(`^[0-9]{6}$`)

// replay imports a city's 311 history in simulated time and prints the
// figures it leaves, ending with one line of JSON.
func replay(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("linli replay", flag.ContinueOnError)
	cfg.Register(fs)
	file := fs.String("file", "", "the export: CSV, gzipped or not")
	mapFile := fs.String("map", "", "JSON file naming the export's columns (default: Boston's 311 layout)")
	opt := cases.ReplayOptions{}
	fs.StringVar(&opt.District, "district", cases.DefaultReplayDistrict, "6-digit code of the replay's area tree (one per city)")
	fs.IntVar(&opt.Limit, "limit", 0, "replay only the first N rows (0: all)")
	fs.IntVar(&opt.Batch, "batch", cases.DefaultReplayBatch, "cases per transaction")
	fs.IntVar(&opt.Workers, "workers", 1, "transactions at once (more help on PostgreSQL only)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the replay to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return usageErr("--file is required\n%s", replayUsage)
	}
	if opt.Limit < 0 || opt.Batch < 1 || opt.Workers < 1 || !districtRE.MatchString(opt.District) {
		return usageErr("--limit ≥ 0, --batch ≥ 1, --workers ≥ 1, --district six digits\n%s", replayUsage)
	}
	var err error
	if opt.Mapping, err = readMapping(*mapFile); err != nil {
		return err
	}
	// The file and the mapping are checked before the database is opened
	// (and perhaps created): a mistyped path changes nothing.
	in, err := openExport(*file)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := cfg.Check(); err != nil {
		return usageErr("%v", err)
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = auth.WithPrincipal(ctx, auth.System())
	ctx = audit.WithActor(ctx, audit.Actor{Name: "system:" + currentUser()})
	opt.Areas = a.Areas
	opt.Progress = func(r cases.ReplayReport) {
		fmt.Fprintf(stderr, "回放中 / replaying: %d rows read, %d cases, %.0f s, %.0f cases/s\n",
			r.Rows, r.Cases, r.Elapsed.Seconds(), float64(r.Cases)/r.Elapsed.Seconds())
	}
	stopProfile, err := startProfile(*cpuprofile)
	if err != nil {
		return err
	}
	rep, err := a.Cases.Replay(ctx, in, opt)
	stopProfile()
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "跳过 / skipped: %s\n", p)
	}
	if rep.Skipped > len(rep.Problems) {
		fmt.Fprintf(stderr, "跳过 / skipped: … %d rows in all\n", rep.Skipped)
	}
	var ie *cases.InputError
	if errors.As(err, &ie) {
		return usageErr("%s: %s", *file, ie.Msg)
	}
	if err != nil {
		// The message says on which line; report then prints the error in
		// both languages.
		fmt.Fprintf(stderr, "回放中止 / the replay stopped: %v (%d cases replayed before; run it again to resume)\n", err, rep.Cases)
		return err
	}
	if rep.Cases == 0 && rep.Skipped > 0 {
		return usageErr("%s: 没有一行可以回放 / no row could be replayed", *file)
	}
	k, err := a.Cases.KPIs(ctx, cases.KPIQuery{AreaCode: opt.District})
	if err != nil {
		return err
	}
	printReplay(stdout, filepath.Base(*file), opt, rep, k)
	secs := rep.Elapsed.Seconds()
	return printJSON(stdout, map[string]any{"cases": rep.Cases, "closed": rep.Closed, "open": rep.Open,
		"with_target": rep.Targeted, "compared": rep.Compared, "ontime_agreement": round4(rep.Agreement()),
		"no_city_verdict": rep.NoVerdict, "skipped": rep.Skipped, "known": rep.Known,
		"seconds": round2(secs), "cases_per_sec": round(float64(rep.Cases) / max(secs, 1e-9))})
}

func round4(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }

func readMapping(path string) (cases.Mapping, error) {
	if path == "" {
		return cases.BostonMapping(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return cases.Mapping{}, usageErr("--map: %v", err)
	}
	defer f.Close()
	m, err := cases.ParseMapping(f)
	if err != nil {
		return cases.Mapping{}, usageErr("--map %s: %v", path, err)
	}
	return m, nil
}

// openExport opens a CSV file, gunzipping it when it starts like gzip
// (whatever its name says).
func openExport(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("--file: %v", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(2)
	if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		return readCloser{br, f}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, usageErr("--file %s: %v", path, err)
	}
	return readCloser{zr, f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// printReplay prints what the replay did and the KPI table of its cases.
func printReplay(w io.Writer, file string, opt cases.ReplayOptions, r cases.ReplayReport, k cases.KPIs) {
	fmt.Fprintf(w, "回放 / replayed %s (%s) → area %s in %.1f s\n", file, opt.Mapping.Name, opt.District, r.Elapsed.Seconds())
	fmt.Fprintf(w, "  rows %d: cases %d, skipped %d, replayed before %d\n", r.Rows, r.Cases, r.Skipped, r.Known)
	fmt.Fprintf(w, "  closed %d (closed before opened, closed at opening: %d), still open %d, without a location %d\n",
		r.Closed, r.ClosedEarly, r.Open, r.NoPoint)
	fmt.Fprintf(w, "  closed with a target %d: the city's verdict on %d, none on %d\n", r.Targeted, r.Compared, r.NoVerdict)
	fmt.Fprintf(w, "  按期结案判定一致 / on-time verdict agrees with the city: %d of %d = %.2f%%\n",
		r.Agree, r.Compared, 100*r.Agreement())
	for _, d := range r.Disagreements {
		fmt.Fprintf(w, "    line %d (%s): opened %s, due %s, closed %s: city on time %v, Linli %v\n", d.Line, d.ExternalID,
			d.Opened.Format(time.RFC3339), d.Due.Format(time.RFC3339), d.Closed.Format(time.RFC3339), d.CityOnTime, d.OurOnTime)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "指标 / figure\t值 / value\t")
	rows := []struct {
		name string
		v    any
	}{
		{"上报 / reported", k.Reported}, {"立案 / accepted", k.Accepted}, {"派遣 / dispatched", k.Dispatched},
		{"结案 / closed", k.Closed}, {"按期结案 / closed on time", k.OnTime}, {"超期结案 / closed late", k.Late},
		{"缓办结案 / closed deferred", k.Deferred},
		{"结案率 / close rate", pct(k.CloseRate)}, {"按期结案率 / on-time rate", pct(k.OnTimeRate)},
		{"返工率 / rework rate", pct(k.ReworkRate)}, {"延期率 / extension rate", pct(k.ExtensionRate)},
		{"回访 / callbacks", k.Callbacks}, {"满意率 / satisfaction rate", pct(k.SatisfactionRate)},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%v\t\n", r.name, r.v)
	}
	tw.Flush()
	if r.Targeted > 0 {
		fmt.Fprintf(w, "  按期结案率（有期限的结案）/ on-time rate of the closed cases with a target: %s (%d of %d)\n",
			pct(float64(r.OnTime)/float64(r.Targeted)), r.OnTime, r.Targeted)
	}
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
