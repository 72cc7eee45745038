package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
)

// `linli bench intake` measures case intake over HTTP, POST /api/v1/cases,
// the way a resident's phone or a hotline system reports: JSON in, a
// durable case with its grid, event, counters, audit row and log line out.
//
// The server is the real program (app.New, the demo street's grids and
// categories, app.Serve on 127.0.0.1:0). The load comes from a separate
// process, this binary re-run as `linli bench intake load`, so that the
// generator's allocations and goroutines do not share the server's heap,
// garbage collector and scheduler; both compete for the same two cores, as
// the issue asks. Three phases:
//
//  1. closed loop: --clients connections send as fast as answers come → cases/s;
//  2. open loop: --rate requests per second on a fixed schedule → p50/p99,
//     measured from each request's intended send time, so that a stalled
//     server is charged for the requests it delayed (no coordinated omission);
//  3. the bare handler: net/http decoding the same JSON and doing one INSERT
//     into a fresh SQLite with synchronous=NORMAL, driven like phase 1 → the
//     reference the issue compares Linli with.
//
// At the end the bench checks that every acknowledged 201 is a stored case,
// event and audit row (and nothing else was stored), and that the audit
// chains verify.
//
// `linli open311 bench` runs the same harness in Open311 mode: the load
// posts form-encoded requests to POST /open311/v2/requests.json with a
// key, and there is no bare handler (phase 3).
func benchIntake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "load" {
		return intakeLoad(ctx, args[1:], stdout)
	}
	r, o, err := intakeBench(ctx, "linli bench intake", args, intakeOptions{}, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Linli ÷ bare handler: %.2f (goal ≥ 0.35); %.0f cases/s (goal ≥ 5000); p99 at %d/s %.1f ms (goal < 20)\n",
		r.linli.PerSec/r.bare.PerSec, r.linli.PerSec, o.rate, r.open.P99)
	return printJSON(stdout, withWriter(map[string]any{"benchmark": "intake", "db": r.kind, "clients": o.clients,
		"seconds_each": o.duration.Seconds(), "cases_per_sec": round(r.linli.PerSec), "rate": o.rate,
		"p50_ms": round2(r.open.P50), "p99_ms": round2(r.open.P99), "max_ms": round2(r.open.Max),
		"achieved_rate": round(r.open.PerSec), "bare_per_sec": round(r.bare.PerSec),
		"ratio": round2(r.linli.PerSec / r.bare.PerSec), "acked": r.acked, "stored": r.stored,
		"others_cores": round2(othersCores(r.linli, r.open, r.bare))}, r))
}

// intakeBench reads the flags `linli bench intake` and `linli open311
// bench` share and runs the harness in a temporary directory.
func intakeBench(ctx context.Context, name string, args []string, o intakeOptions, stdout io.Writer) (intakeResult, intakeOptions, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.dsn, "db", "", "PostgreSQL to run Linli on instead of a fresh SQLite file (a fresh schema, dropped afterwards)")
	// As many connections as a node admits at once: a closed loop measures
	// the server's capacity only with enough requests in flight to keep it
	// busy. SQLite's single writer commits the reports waiting for it as one
	// group, durable after one sync, so each report spends most of its round
	// trip waiting for the disk rather than using a core; 32 and then 128
	// connections left the cores partly idle (docs/benchmarks.md §6).
	fs.IntVar(&o.clients, "clients", config.Default().MaxInFlight,
		"concurrent connections in the closed-loop phases (default: the requests a node admits at once)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each phase runs")
	fs.IntVar(&o.rate, "rate", 1000, "requests per second of the latency phase")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write the server's CPU profile of the closed-loop phase to this file")
	if err := parse(fs, args); err != nil {
		return intakeResult{}, o, err
	}
	if o.clients < 1 || o.duration <= 0 || o.rate < 1 {
		return intakeResult{}, o, usageErr("--clients and --rate must be at least 1 and --duration positive")
	}
	if o.dsn != "" && !strings.HasPrefix(o.dsn, "postgres") {
		return intakeResult{}, o, usageErr("--db: only postgres://… (SQLite is the default, on a fresh file)")
	}
	dir, err := os.MkdirTemp("", "linli-bench-")
	if err != nil {
		return intakeResult{}, o, err
	}
	defer os.RemoveAll(dir)
	o.dir = dir
	r, err := runIntake(ctx, o, stdout)
	return r, o, err
}

// othersCores is how many cores everything but the server and the
// generator kept busy on average over the phases.
func othersCores(phases ...loadResult) float64 {
	var cpu, seconds float64
	for _, r := range phases {
		cpu += r.OthersCPU
		seconds += r.Seconds
	}
	return cpu / seconds
}

type intakeOptions struct {
	dsn        string
	clients    int
	duration   time.Duration
	rate       int
	cpuprofile string
	dir        string
	open311    bool // post Open311 requests instead of the JSON API's reports; no bare handler
}

type intakeResult struct {
	kind              string
	linli, open, bare loadResult
	acked, stored     int64
}

func runIntake(ctx context.Context, o intakeOptions, stdout io.Writer) (intakeResult, error) {
	var res intakeResult
	srv, err := startLinli(ctx, o)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	res.kind = string(srv.app.DB.Kind)
	endpoint := "POST /api/v1/cases"
	if o.open311 {
		endpoint = "POST " + open311Path
	}
	fmt.Fprintf(stdout, "Linli on %s at %s; %s from a separate process\n", res.kind, srv.url, endpoint)
	before, err := srv.counts(ctx)
	if err != nil {
		return res, err
	}
	m := &meter{stdout: stdout, writer: srv.app.Metrics}
	warm, err := m.phase(ctx, "warm-up (1 s)", srv.url,
		loadSpec{Clients: o.clients, Duration: time.Second, Seed: 1, Open311Key: srv.key})
	if err != nil {
		return res, err
	}
	stopProfile, err := startProfile(o.cpuprofile)
	if err != nil {
		return res, err
	}
	res.linli, err = m.phase(ctx, fmt.Sprintf("closed loop, %d clients", o.clients), srv.url,
		loadSpec{Clients: o.clients, Duration: o.duration, Seed: 2, Open311Key: srv.key})
	stopProfile()
	if err != nil {
		return res, err
	}
	res.open, err = m.phase(ctx, fmt.Sprintf("open loop, %d/s", o.rate), srv.url,
		loadSpec{Rate: o.rate, Clients: max(64, o.clients), Duration: o.duration, Seed: 3, Open311Key: srv.key})
	if err != nil {
		return res, err
	}
	res.acked = warm.OK + res.linli.OK + res.open.OK
	if res.stored, err = srv.check(ctx, before, res.acked, stdout); err != nil {
		return res, err
	}
	if o.open311 { // the bare handler is the JSON API's reference, not Open311's
		return res, nil
	}
	srv.stop() // before the bare handler, which must have the machine to itself as Linli had
	res.bare, err = runBare(ctx, o, m)
	return res, err
}

// meter runs load phases and says what each one cost the machine, and
// what the server's SQLite writer did (read from its metrics, when set).
type meter struct {
	stdout io.Writer
	writer prometheus.Gatherer
}

func (m *meter) phase(ctx context.Context, name, target string, l loadSpec) (loadResult, error) {
	cpu0 := processCPU()
	busy0, total0 := machineCPU()
	w0, err := snapshotWriter(m.writer)
	if err != nil {
		return loadResult{}, err
	}
	r, err := runLoad(ctx, target, l)
	r.ServerCPU = (processCPU() - cpu0).Seconds()
	busy1, total1 := machineCPU()
	r.MachineBusy = float64(busy1-busy0) / float64(max(1, total1-total0))
	r.OthersCPU = r.MachineBusy*float64(runtime.NumCPU())*r.Seconds - r.ServerCPU - r.LoadCPU
	if err == nil && r.Failed > 0 {
		err = fmt.Errorf("%s: %d requests failed, the first: %s", name, r.Failed, r.FirstError)
	}
	if err != nil {
		return r, err
	}
	fmt.Fprintf(m.stdout, "%-26s %7d %6.0f/s  p50 %6.2f  p99 %6.2f  max %7.2f ms  CPU/request: server %3.0f µs, load %3.0f µs; others %.1f cores\n",
		name, r.OK, r.PerSec, r.P50, r.P99, r.Max, 1e6*r.ServerCPU/float64(r.OK), 1e6*r.LoadCPU/float64(r.OK), r.OthersCPU/r.Seconds)
	w1, err := snapshotWriter(m.writer)
	if err != nil {
		return r, err
	}
	r.Writer = w1.since(w0)
	r.Writer.print(m.stdout)
	return r, nil
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU reads the busy and total time of all cores from /proc/stat
// (zeros where there is none).
func machineCPU() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)[1:]
	for i, f := range fields[:min(8, len(fields))] { // user … steal; guest time is counted in user
		n, _ := strconv.ParseInt(f, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// --- the server under test ---

type linliServer struct {
	app    *app.App
	url    string
	log    *os.File
	cancel context.CancelFunc
	served chan error
	drop   func() // drops the PostgreSQL schema
	once   sync.Once
	key    string // Open311 mode: the api_key the load posts with
}

// startLinli starts the whole program as `linli serve --demo` would, on a
// fresh database, logging at info level (one line per request) to a file;
// in Open311 mode with a key for the load.
func startLinli(ctx context.Context, o intakeOptions) (*linliServer, error) {
	cfg := config.Default()
	cfg.DB, cfg.SQLiteSync, cfg.Addr = "sqlite:"+filepath.Join(o.dir, "linli.db"), "FULL", "127.0.0.1:0"
	cfg.KeyFile = filepath.Join(o.dir, "linli.key")
	cfg.UserWriteRate, cfg.PublicWriteRate = 0, 0 // the load comes from one address, on purpose
	s := &linliServer{drop: func() {}}
	if o.dsn != "" {
		dsn, drop, err := freshSchema(ctx, o.dsn)
		if err != nil {
			return nil, err
		}
		cfg.DB, s.drop = dsn, drop
	}
	logFile, err := os.Create(filepath.Join(o.dir, "linli.log"))
	if err != nil {
		s.drop()
		return nil, err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, logFile))
	if err != nil {
		logFile.Close()
		s.drop()
		return nil, err
	}
	s.app, s.log = a, logFile
	if _, err := a.SeedDemo(ctx); err != nil {
		s.stop()
		return nil, err
	}
	if o.open311 {
		// Without a rate, so that the bench measures the server, not the key's limit.
		if s.key, _, err = a.Open311.CreateKey(auth.WithPrincipal(ctx, auth.System()), "bench", 0, false); err != nil {
			s.stop()
			return nil, err
		}
	}
	l, err := a.Listen()
	if err != nil {
		s.stop()
		return nil, err
	}
	s.url = "http://" + l.Addr().String()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.served = cancel, make(chan error, 1)
	go func() { s.served <- a.Serve(sctx, l) }()
	return s, nil
}

func (s *linliServer) stop() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.served
		}
		s.app.Close()
		s.log.Close()
		s.drop()
	})
}

// freshSchema creates an empty schema and returns a DSN whose search_path
// points at it, as internal/platform/db/dbtest does for the tests.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("--db: create schema: %w", err)
	}
	drop := func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// intakeCounts are the rows one report adds to; one through Open311 adds
// the channel's row too.
type intakeCounts struct{ cases, events, audit, open311 int64 }

func (s *linliServer) counts(ctx context.Context) (intakeCounts, error) {
	var c intakeCounts
	err := s.app.DB.Q(ctx).QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM cases),
		(SELECT COUNT(*) FROM case_events WHERE action = 'report'),
		(SELECT COUNT(*) FROM audit_log WHERE action = 'case.report'),
		(SELECT COUNT(*) FROM open311_requests)`).Scan(&c.cases, &c.events, &c.audit, &c.open311)
	return c, err
}

// check fails unless exactly the acknowledged reports were stored, each
// with its report event, audit row and, in Open311 mode, its
// open311_requests row (none otherwise), and the audit chains verify.
func (s *linliServer) check(ctx context.Context, before intakeCounts, acked int64, stdout io.Writer) (stored int64, err error) {
	after, err := s.counts(ctx)
	if err != nil {
		return 0, err
	}
	d := intakeCounts{after.cases - before.cases, after.events - before.events, after.audit - before.audit,
		after.open311 - before.open311}
	want := intakeCounts{acked, acked, acked, 0}
	if s.key != "" {
		want.open311 = acked
	}
	if d != want {
		return 0, fmt.Errorf("bench: %d reports acknowledged, but %d cases, %d report events, %d audit rows and %d Open311 requests stored",
			acked, d.cases, d.events, d.audit, d.open311)
	}
	rep, err := s.app.Audit.Verify(ctx)
	if err != nil {
		return 0, err
	}
	if rep.Break != nil {
		return 0, fmt.Errorf("bench: audit log broken after the run: %s", rep.Break)
	}
	channel := ""
	if s.key != "" {
		channel = fmt.Sprintf(" = %d Open311 requests", d.open311)
	}
	fmt.Fprintf(stdout, "checked: %d acknowledged = %d cases = %d report events = %d audit rows%s; %d audit rows verified\n",
		acked, d.cases, d.events, d.audit, channel, rep.Rows)
	return d.cases, nil
}

// --- the bare handler ---

// runBare serves POST /api/v1/cases with the least a real handler does:
// decode the JSON, one INSERT into SQLite (WAL, synchronous=NORMAL, one
// connection), answer 201 with the id. It is the reference point.
func runBare(ctx context.Context, o intakeOptions, m *meter) (loadResult, error) {
	d, err := sql.Open("sqlite", "file:"+filepath.Join(o.dir, "bare.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return loadResult{}, err
	}
	defer d.Close()
	d.SetMaxOpenConns(1)
	if _, err := d.ExecContext(ctx, `CREATE TABLE reports (id INTEGER PRIMARY KEY, category TEXT NOT NULL,
		description TEXT NOT NULL, lon REAL, lat REAL, phone TEXT NOT NULL, created_at TEXT NOT NULL)`); err != nil {
		return loadResult{}, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadResult{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Category, Description, Phone string
			Lat, Lon                     float64
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := d.ExecContext(r.Context(), "INSERT INTO reports (category, description, lon, lat, phone, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			in.Category, in.Description, in.Lon, in.Lat, in.Phone, time.Now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		id, _ := res.LastInsertId()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, id)
	})}
	go srv.Serve(l)
	defer srv.Close()
	r, err := m.phase(ctx, "bare handler", "http://"+l.Addr().String(), loadSpec{Clients: o.clients, Duration: o.duration, Seed: 4})
	if err != nil {
		return r, err
	}
	var stored int64
	if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM reports").Scan(&stored); err != nil {
		return r, err
	}
	if stored != r.OK {
		return r, fmt.Errorf("bare handler: %d acknowledged, %d stored", r.OK, stored)
	}
	return r, nil
}

// --- the load generator ---

// loadSpec is one phase: closed loop (Rate 0) or open loop at Rate/s.
type loadSpec struct {
	Clients    int
	Rate       int
	Duration   time.Duration
	Seed       uint64
	Open311Key string // post Open311 requests with this api_key instead of the JSON API's reports
}

// loadResult is what the generator saw; latencies in milliseconds.
type loadResult struct {
	OK, Failed    int64
	Seconds       float64
	PerSec        float64
	P50, P99, Max float64
	FirstError    string
	// CPU seconds the phase cost the server (this process) and the
	// generator, and the share of all the machine's cores that were busy
	// (PostgreSQL and anything else running included).
	ServerCPU, LoadCPU, MachineBusy float64
	OthersCPU                       float64 // CPU seconds of everything else on the machine
	// Writer is what SQLite's writer did meanwhile (nil on PostgreSQL and
	// for the bare handler); the server fills it in, not the generator.
	Writer *writerPhase `json:"-"`
}

// runLoad runs one phase in a child process and reads its result.
func runLoad(ctx context.Context, target string, l loadSpec) (loadResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return loadResult{}, err
	}
	args := []string{"bench", "intake", "load", "--url", target,
		"--clients", strconv.Itoa(l.Clients), "--rate", strconv.Itoa(l.Rate),
		"--duration", l.Duration.String(), "--seed", strconv.FormatUint(l.Seed, 10)}
	if l.Open311Key != "" {
		args = append(args, "--open311-key", l.Open311Key)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return loadResult{}, fmt.Errorf("load generator: %w", err)
	}
	var r loadResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return r, fmt.Errorf("load generator said %q: %w", out.String(), err)
	}
	r.LoadCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return r, nil
}

// intakeLoad is the generator process: it runs one phase against --url and
// prints its loadResult as JSON.
func intakeLoad(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("linli bench intake load", flag.ContinueOnError)
	target := fs.String("url", "", "server to load")
	var l loadSpec
	fs.IntVar(&l.Clients, "clients", 32, "connections")
	fs.IntVar(&l.Rate, "rate", 0, "requests per second (0: closed loop)")
	fs.DurationVar(&l.Duration, "duration", 10*time.Second, "how long")
	fs.Uint64Var(&l.Seed, "seed", 1, "random seed")
	fs.StringVar(&l.Open311Key, "open311-key", "", "post Open311 requests with this api_key instead of JSON reports")
	if err := parse(fs, args); err != nil {
		return err
	}
	g, err := newGenerator(*target, l)
	if err != nil {
		return err
	}
	fetch := g.fetchCategories
	if g.key != "" {
		fetch = g.fetchServices
	}
	if err := fetch(ctx); err != nil {
		return err
	}
	var r loadResult
	if l.Rate > 0 {
		r = g.open(ctx)
	} else {
		r = g.closed(ctx)
	}
	return json.NewEncoder(stdout).Encode(r)
}

type generator struct {
	url        string
	addr       string // host:port of url
	spec       loadSpec
	key        string   // Open311 mode: the api_key, URL-encoded; "" posts to the JSON API
	categories []string // the codes to report in; URL-encoded in Open311 mode
	ok, failed atomic.Int64
	firstErr   atomic.Value // string
	mu         sync.Mutex
	latencies  []time.Duration
}

func newGenerator(target string, l loadSpec) (*generator, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, usageErr("--url %q: want http://HOST:PORT", target)
	}
	return &generator{url: target, addr: u.Host, spec: l, key: url.QueryEscape(l.Open311Key)}, nil
}

// fetchCategories asks the server for the public leaf categories, as a
// reporting app does.
func (g *generator) fetchCategories(ctx context.Context) error {
	var body struct {
		Items []struct{ Code, Parent string }
	}
	ok, err := g.getJSON(ctx, "/api/v1/categories", &body)
	if err != nil {
		return err
	}
	if !ok { // the bare handler knows no categories
		g.categories = []string{"E0101"}
		return nil
	}
	for _, c := range body.Items {
		if c.Parent != "" {
			g.categories = append(g.categories, c.Code)
		}
	}
	if len(g.categories) == 0 {
		return errors.New("the server offers no categories")
	}
	return nil
}

// fetchServices asks for the services, as an Open311 client does: the
// codes it may post as service_code (the public, active leaf categories).
func (g *generator) fetchServices(ctx context.Context) error {
	var services []struct {
		Code string `json:"service_code"`
	}
	ok, err := g.getJSON(ctx, "/open311/v2/services.json", &services)
	if err != nil {
		return err
	}
	if !ok || len(services) == 0 {
		return errors.New("the server offers no Open311 services")
	}
	for _, s := range services {
		g.categories = append(g.categories, url.QueryEscape(s.Code))
	}
	return nil
}

// getJSON decodes the answer to GET path into v; false when the answer is
// not 200.
func (g *generator) getJSON(ctx context.Context, path string, v any) (bool, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.url+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, nil
	}
	return true, json.NewDecoder(resp.Body).Decode(v)
}

// closed runs Clients loops, each sending the next report when the last
// one was answered.
func (g *generator) closed(ctx context.Context) loadResult {
	start := time.Now()
	deadline := start.Add(g.spec.Duration)
	var wg sync.WaitGroup
	for c := 0; c < g.spec.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(g.spec.Seed, uint64(c)))
			conn := &loadConn{addr: g.addr}
			defer conn.close()
			var lat []time.Duration
			for ctx.Err() == nil {
				t := time.Now()
				if !t.Before(deadline) {
					break
				}
				g.send(conn, rng)
				lat = append(lat, time.Since(t))
			}
			g.addLatencies(lat)
		}()
	}
	wg.Wait()
	return g.result(time.Since(start))
}

// open sends Rate reports per second on a fixed schedule, whatever the
// server's speed, through a pool of Clients senders. A report's latency
// runs from when it was due, so time spent waiting for a free sender
// counts too.
func (g *generator) open(ctx context.Context) loadResult {
	n := int(g.spec.Duration.Seconds() * float64(g.spec.Rate))
	interval := time.Second / time.Duration(g.spec.Rate)
	due := make(chan time.Time, n)
	var wg sync.WaitGroup
	for c := 0; c < g.spec.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(g.spec.Seed, uint64(c)))
			conn := &loadConn{addr: g.addr}
			defer conn.close()
			var lat []time.Duration
			for t := range due {
				g.send(conn, rng)
				lat = append(lat, time.Since(t))
			}
			g.addLatencies(lat)
		}()
	}
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		t := start.Add(time.Duration(i) * interval)
		if d := time.Until(t); d > 0 {
			time.Sleep(d)
		}
		due <- t
	}
	close(due)
	wg.Wait()
	return g.result(time.Since(start))
}

func (g *generator) addLatencies(lat []time.Duration) {
	g.mu.Lock()
	g.latencies = append(g.latencies, lat...)
	g.mu.Unlock()
}

func (g *generator) result(elapsed time.Duration) loadResult {
	r := loadResult{OK: g.ok.Load(), Failed: g.failed.Load(), Seconds: elapsed.Seconds()}
	r.PerSec = float64(r.OK) / r.Seconds
	if s, ok := g.firstErr.Load().(string); ok {
		r.FirstError = s
	}
	slices.Sort(g.latencies)
	pct := func(p float64) float64 {
		if len(g.latencies) == 0 {
			return 0
		}
		i := int(math.Ceil(p*float64(len(g.latencies)))) - 1
		return float64(g.latencies[max(0, i)].Microseconds()) / 1000
	}
	r.P50, r.P99, r.Max = pct(0.50), pct(0.99), pct(1)
	return r
}

// send posts one report on c and counts it as acknowledged only when the
// answer says it was stored: 201 from the JSON API; from Open311 200 with
// the new request's id (what docs/open311.md promises a client).
func (g *generator) send(c *loadConn, rng *mrand.Rand) {
	var status int
	var answer []byte
	var err error
	var stored bool
	if g.key == "" {
		status, answer, err = c.post(g.report(rng))
		stored = status == http.StatusCreated
	} else {
		status, answer, err = c.postTo(open311Path, "application/x-www-form-urlencoded", g.open311Request(rng))
		stored = status == http.StatusOK && bytes.Contains(answer, []byte(`"service_request_id":"`))
	}
	switch {
	case err != nil:
		g.fail(err.Error())
	case !stored:
		g.fail(fmt.Sprintf("%d: %s", status, answer))
	default:
		g.ok.Add(1)
	}
}

// loadConn is one keep-alive connection speaking just enough HTTP/1.1 for
// the load: like wrk, it writes the request itself and reads the answer with
// http.ReadResponse. net/http's client would cost the shared cores about
// twice as much per request (two goroutines per connection and the
// hand-offs between them), CPU taken from the server under test.
type loadConn struct {
	addr   string
	conn   net.Conn
	r      *bufio.Reader
	req    []byte
	answer bytes.Buffer
}

// post sends a JSON report to POST /api/v1/cases.
func (c *loadConn) post(body []byte) (status int, answer []byte, err error) {
	return c.postTo("/api/v1/cases", "application/json", body)
}

func (c *loadConn) postTo(path, contentType string, body []byte) (status int, answer []byte, err error) {
	if c.conn == nil {
		if c.conn, err = net.DialTimeout("tcp", c.addr, 5*time.Second); err != nil {
			c.conn = nil
			return 0, nil, err
		}
		c.r = bufio.NewReaderSize(c.conn, 8<<10)
	}
	c.req = append(c.req[:0], "POST "...)
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.addr...)
	c.req = append(c.req, "\r\nContent-Type: "...)
	c.req = append(c.req, contentType...)
	c.req = append(c.req, "\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.close()
		return 0, nil, err
	}
	c.answer.Reset()
	_, err = c.answer.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, c.answer.Bytes(), err
}

func (c *loadConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (g *generator) fail(msg string) {
	g.failed.Add(1)
	g.firstErr.CompareAndSwap(nil, msg)
}

// The demo street (internal/app/demo.go): 14 community blocks of
// 0.008° × 0.006° in rows of five from (121.425, 37.485) southwards, each
// cut into grids.
const (
	demoWest, demoNorth = 121.425, 37.485
	blockLon, blockLat  = 0.008, 0.006
	demoBlocks          = 14
)

var descriptions = []string{
	"小区北门外垃圾堆放两天了，有异味，请尽快清运。",
	"路口的路灯晚上不亮，行人过马路很危险。",
	"消防通道被私家车堵住，救护车进不来。",
	"楼上漏水到我家，和物业协商不成，请社区帮忙调解。",
	"垃圾桶满溢，周边污水横流。",
	"人行道上的井盖松动，踩上去会翻。",
	"夜市烧烤油烟很大，影响居民休息。",
	"公园健身器材损坏，老人锻炼时容易受伤。",
}

// formDescriptions are the descriptions URL-encoded once, for the
// Open311 form bodies.
var formDescriptions = func() []string {
	out := make([]string, len(descriptions))
	for i, d := range descriptions {
		out[i] = url.QueryEscape(d)
	}
	return out
}()

// open311Path is where Open311 clients post their requests.
const open311Path = "/open311/v2/requests.json"

// report is a realistic body: a point inside one of the demo grids (so the
// grid lookup finds one), a leaf category, a description, a name and a
// mobile number (sealed by the server).
func (g *generator) report(rng *mrand.Rand) []byte {
	lat, lon := demoPoint(rng)
	b := make([]byte, 0, 320)
	b = append(b, `{"category":"`...)
	b = append(b, g.categories[rng.IntN(len(g.categories))]...)
	b = append(b, `","description":`...)
	b = strconv.AppendQuote(b, descriptions[rng.IntN(len(descriptions))])
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, lat, 'f', 6, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, lon, 'f', 6, 64)
	b = append(b, `,"name":"居民","phone":"`...)
	b = appendMobile(b, rng)
	b = append(b, `"}`...)
	return b
}

// open311Request is the same report as an Open311 client posts it: a form
// with the key, a service code, lat and long, the description, a first
// name and a mobile number.
func (g *generator) open311Request(rng *mrand.Rand) []byte {
	lat, lon := demoPoint(rng)
	b := make([]byte, 0, 512)
	b = append(b, "api_key="...)
	b = append(b, g.key...)
	b = append(b, "&service_code="...)
	b = append(b, g.categories[rng.IntN(len(g.categories))]...)
	b = append(b, "&lat="...)
	b = strconv.AppendFloat(b, lat, 'f', 6, 64)
	b = append(b, "&long="...)
	b = strconv.AppendFloat(b, lon, 'f', 6, 64)
	b = append(b, "&description="...)
	b = append(b, formDescriptions[rng.IntN(len(formDescriptions))]...)
	b = append(b, "&first_name=%E5%B1%85%E6%B0%91&phone="...) // 居民
	return appendMobile(b, rng)
}

// demoPoint is a point inside one of the demo grids.
func demoPoint(rng *mrand.Rand) (lat, lon float64) {
	block := rng.IntN(demoBlocks)
	lon = demoWest + float64(block%5)*blockLon + (0.02+0.96*rng.Float64())*blockLon
	lat = demoNorth - float64(block/5)*blockLat - (0.02+0.96*rng.Float64())*blockLat
	return lat, lon
}

// appendMobile appends a Chinese mobile number: 1[3-9] and 9 digits.
func appendMobile(b []byte, rng *mrand.Rand) []byte {
	return strconv.AppendInt(b, 1e10+(3+rng.Int64N(7))*1e9+rng.Int64N(1e9), 10)
}
