package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/config"
)

// `linli bench crash` proves the promise "an acknowledged case survives a
// crash". It runs the real server (this binary, `linli serve --demo`) as a
// child process on a fresh database, while a few clients report cases over
// HTTP and write down every case number the server acknowledged with a 201
// together with what they sent (the ledger). At random moments the child is
// killed with SIGKILL (no shutdown, no flush) and started again on the same
// database, --kills times. At the end the database is opened directly and
// checked:
//
//   - every acknowledged case is there, with the category, description,
//     point and (decrypted) phone number that were sent;
//   - nothing is half-written: each case has its report event and its audit
//     row, the daily counters add up to the cases, and the audit chains
//     verify.
//
// Reports that were sent but not answered (the kill came first) may or may
// not be stored, whole; they are counted, not judged.
func benchCrash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linli bench crash", flag.ContinueOnError)
	var o crashOptions
	fs.StringVar(&o.dsn, "db", "", "PostgreSQL to run on instead of a fresh SQLite file (a fresh schema, dropped afterwards)")
	fs.IntVar(&o.kills, "kills", 20, "how many times the server is killed with SIGKILL and restarted")
	fs.IntVar(&o.clients, "clients", 4, "concurrent reporting clients")
	fs.DurationVar(&o.minRun, "min-run", 200*time.Millisecond, "shortest time the server runs under load before a kill")
	fs.DurationVar(&o.maxRun, "max-run", 1200*time.Millisecond, "longest time the server runs under load before a kill")
	fs.Uint64Var(&o.seed, "seed", uint64(time.Now().UnixNano()), "random seed of the kill moments and the reports")
	if err := parse(fs, args); err != nil {
		return err
	}
	if o.kills < 1 || o.clients < 1 || o.minRun <= 0 || o.maxRun < o.minRun {
		return usageErr("--kills and --clients must be at least 1, and 0 < --min-run ≤ --max-run")
	}
	if o.dsn != "" && !strings.HasPrefix(o.dsn, "postgres") {
		return usageErr("--db: only postgres://… (SQLite is the default, on a fresh file)")
	}
	dir, err := os.MkdirTemp("", "linli-bench-crash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = "sqlite:"+filepath.Join(dir, "linli.db"), filepath.Join(dir, "linli.key")
	if o.dsn != "" {
		dsn, drop, err := freshSchema(ctx, o.dsn)
		if err != nil {
			return err
		}
		defer drop()
		cfg.DB = dsn
	}
	r, _, err := runCrash(ctx, o, cfg, dir, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d kills; %d cases acknowledged, %d lost, %d damaged; %d sent without an answer, of which %d stored whole\n",
		r.Kills, r.Acked, r.Lost, r.Damaged, r.Unanswered, r.StoredUnanswered)
	if err := printJSON(stdout, r); err != nil {
		return err
	}
	if r.Acked == 0 {
		return fmt.Errorf("bench crash: no report was acknowledged, so nothing was proven; is the server answering 201?")
	}
	if r.Lost > 0 || r.Damaged > 0 {
		return fmt.Errorf("bench crash: %d acknowledged cases lost and %d damaged", r.Lost, r.Damaged)
	}
	return nil
}

type crashOptions struct {
	dsn            string
	kills, clients int
	minRun, maxRun time.Duration
	seed           uint64
}

// crashResult is the run's figures, printed as JSON for docs/reliability.md.
type crashResult struct {
	Benchmark        string  `json:"benchmark"`
	DB               string  `json:"db"`
	Kills            int     `json:"kills"`
	Acked            int     `json:"acked"`
	Lost             int     `json:"lost"`
	Damaged          int     `json:"damaged"`
	Unanswered       int64   `json:"unanswered"`
	StoredUnanswered int     `json:"stored_unanswered"`
	Stored           int     `json:"stored"`
	AuditRows        int64   `json:"audit_rows_verified"`
	Seconds          float64 `json:"seconds"`
	MeanRestartMS    float64 `json:"mean_restart_ms"`
}

// runCrash runs the kills and the check; it returns the ledger too, so
// that a test can show the check failing on a doctored one.
func runCrash(ctx context.Context, o crashOptions, cfg config.Config, dir string, stdout io.Writer) (crashResult, *ledger, error) {
	start := time.Now()
	addr, err := freeAddr()
	if err != nil {
		return crashResult{}, nil, err
	}
	srv := &crashServer{cfg: cfg, addr: addr, logPath: filepath.Join(dir, "serve.log")}
	if err := srv.start(ctx); err != nil {
		return crashResult{}, nil, err
	}
	defer srv.kill()
	g, err := newGenerator("http://"+addr, loadSpec{})
	if err != nil {
		return crashResult{}, nil, err
	}
	if err := g.fetchCategories(ctx); err != nil {
		return crashResult{}, nil, err
	}
	led := &ledger{sent: map[string][]byte{}}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crashClient(loadCtx, g, led, mrand.New(mrand.NewPCG(o.seed, uint64(i))))
		}()
	}
	rng := mrand.New(mrand.NewPCG(o.seed, math.MaxUint64))
	var restarts time.Duration
	for k := 0; k < o.kills && ctx.Err() == nil; k++ {
		run := o.minRun + time.Duration(rng.Int64N(int64(o.maxRun-o.minRun)+1))
		sleep(ctx, run)
		srv.kill()
		t := time.Now()
		if err := srv.start(ctx); err != nil {
			stopLoad()
			wg.Wait()
			return crashResult{}, nil, err
		}
		restarts += time.Since(t)
		fmt.Fprintf(stdout, "kill %d/%d after %v under load; back in %v; %d acknowledged so far\n",
			k+1, o.kills, run.Round(time.Millisecond), time.Since(t).Round(time.Millisecond), led.acked())
	}
	sleep(ctx, o.minRun) // some load on the last start too
	stopLoad()
	wg.Wait()
	srv.kill()
	r, err := checkCrash(ctx, cfg, led)
	if err != nil {
		return r, led, fmt.Errorf("%w (server log: %s)", err, srv.logPath)
	}
	r.Kills, r.Seconds = o.kills, time.Since(start).Seconds()
	r.MeanRestartMS = float64(restarts.Milliseconds()) / float64(o.kills)
	return r, led, ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// freeAddr picks a port for the server that its restarts keep using.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// crashServer is the server child process.
type crashServer struct {
	cfg     config.Config
	addr    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
}

// start runs `linli serve --demo` and waits until it answers /readyz.
func (s *crashServer) start(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	s.cmd = exec.Command(exe, "serve", "--demo", "--db", s.cfg.DB, "--key-file", s.cfg.KeyFile,
		"--addr", s.addr, "--log-level", "warn", "--public-write-rate", "0") // the clients share one address
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return err
	}
	cmd, exited := s.cmd, make(chan struct{})
	s.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("the server exited at start; see %s", s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("the server was not ready within 60 s; see %s", s.logPath)
}

// kill ends the server the hard way: SIGKILL, as a power cut or the OOM
// killer would.
func (s *crashServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// ledger is what the clients were told: case number → the report sent.
type ledger struct {
	mu         sync.Mutex
	sent       map[string][]byte
	unanswered int64
}

func (l *ledger) add(number string, body []byte) {
	l.mu.Lock()
	l.sent[number] = bytes.Clone(body)
	l.mu.Unlock()
}

func (l *ledger) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sent)
}

// crashClient reports cases until ctx ends. A report without an answer (a
// refused connection, a reset, a 5xx while the server restarts) is counted
// and the client moves on, as a phone would show "try again".
func crashClient(ctx context.Context, g *generator, led *ledger, rng *mrand.Rand) {
	c := &loadConn{addr: g.addr}
	defer c.close()
	for ctx.Err() == nil {
		body := g.report(rng)
		status, answer, err := c.post(body)
		if err == nil && status == http.StatusCreated {
			var rc struct{ Receipt cases.Receipt }
			if json.Unmarshal(answer, &rc) == nil && rc.Receipt.Number != "" {
				led.add(rc.Receipt.Number, body)
				continue
			}
		}
		led.mu.Lock()
		led.unanswered++
		led.mu.Unlock()
		sleep(ctx, 10*time.Millisecond)
	}
}

// sentReport is what a client sent, as generator.report writes it.
type sentReport struct {
	Category, Description, Phone string
	Lat, Lon                     float64
}

// storedCase is what the database holds of a case.
type storedCase struct {
	category, description, phoneEnc string
	lat, lon                        float64
}

// checkCrash opens the database the server left and compares it with the
// ledger.
func checkCrash(ctx context.Context, cfg config.Config, led *ledger) (crashResult, error) {
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return crashResult{}, err
	}
	defer a.Close()
	r := crashResult{Benchmark: "crash", DB: string(a.DB.Kind), Acked: len(led.sent), Unanswered: led.unanswered}
	stored, err := storedCases(ctx, a)
	if err != nil {
		return r, err
	}
	r.Stored = len(stored)
	for number, body := range led.sent {
		id, _ := cases.ParseNumber(number)
		c, ok := stored[id]
		if !ok {
			r.Lost++
			continue
		}
		if !sameReport(a, body, c) {
			r.Damaged++
		}
	}
	r.StoredUnanswered = r.Stored - (r.Acked - r.Lost)
	if err := checkWhole(ctx, a, r.Stored); err != nil {
		return r, err
	}
	rep, err := a.Audit.Verify(ctx)
	if err != nil {
		return r, err
	}
	if rep.Break != nil {
		return r, fmt.Errorf("bench crash: the audit log is broken after the crashes: %s", rep.Break)
	}
	r.AuditRows = rep.Rows
	return r, nil
}

func storedCases(ctx context.Context, a *app.App) (map[int64]storedCase, error) {
	rows, err := a.DB.Q(ctx).QueryContext(ctx, `SELECT c.id, COALESCE(k.code, ''), c.description, c.reporter_phone_enc,
		COALESCE(c.lat, 0), COALESCE(c.lon, 0) FROM cases c LEFT JOIN case_categories k ON k.id = c.category_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]storedCase{}
	for rows.Next() {
		var id int64
		var c storedCase
		if err := rows.Scan(&id, &c.category, &c.description, &c.phoneEnc, &c.lat, &c.lon); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

func sameReport(a *app.App, body []byte, c storedCase) bool {
	var s sentReport
	if json.Unmarshal(body, &s) != nil {
		return false
	}
	phone, err := a.Crypto.Open("case.reporter_phone", c.phoneEnc)
	return err == nil && phone == s.Phone && c.category == s.Category && c.description == s.Description &&
		math.Abs(c.lat-s.Lat) < 1e-6 && math.Abs(c.lon-s.Lon) < 1e-6
}

// checkWhole fails when any case is half-written: without its report
// event or audit row, or missing from the daily counters.
func checkWhole(ctx context.Context, a *app.App, stored int) error {
	// The counters of the last moves before a kill may still be pending;
	// VerifyStats adds them in, then compares every counter with the log.
	if err := a.Cases.VerifyStats(ctx); err != nil {
		return fmt.Errorf("bench crash: %w", err)
	}
	var events, audits, counted int
	err := a.DB.Q(ctx).QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM case_events WHERE action = 'report'),
		(SELECT COUNT(*) FROM audit_log WHERE action = 'case.report'),
		(SELECT COALESCE(SUM(reported), 0) FROM case_stats)`).Scan(&events, &audits, &counted)
	if err != nil {
		return err
	}
	if events != stored || audits != stored || counted != stored {
		return fmt.Errorf("bench crash: %d cases stored but %d report events, %d audit rows and %d counted: something was half-written",
			stored, events, audits, counted)
	}
	return nil
}
