package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/db"
)

// errDoctor is a deployment with something to fix; the checks have said
// what.
var errDoctor = errors.New("linli doctor found something to fix")

// finding is one check's verdict: ok, or what is wrong and how to fix it.
type finding struct {
	name string
	ok   bool
	said string
}

// doctor is `linli doctor`: it checks a deployment as an operator would
// before and after an upgrade, changing nothing, and says what to fix.
func doctor(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("linli doctor", flag.ContinueOnError)
	cfg.Register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	findings := diagnose(ctx, cfg)
	bad := 0
	for _, f := range findings {
		mark := "✓"
		if !f.ok {
			mark, bad = "✗", bad+1
		}
		fmt.Fprintf(stdout, "%s %s: %s\n", mark, f.name, f.said)
	}
	if bad > 0 {
		return errDoctor
	}
	return nil
}

// diagnose runs the checks in order; without a database the rest cannot
// run.
func diagnose(ctx context.Context, cfg config.Config) []finding {
	d, err := db.Open(ctx, db.Options{DSN: cfg.DB, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		err = d.Ping(ctx)
	}
	if err != nil {
		return []finding{{"database 数据库", false, fmt.Sprintf("cannot reach %s: %v — check --db, that the server runs and that this user may connect", cfg.DB, err)}}
	}
	defer d.Close()
	out := []finding{{"database 数据库", true, fmt.Sprintf("%s answers", d.Kind)}}
	schema, migrated := checkSchema(ctx, d)
	out = append(out, schema)
	if migrated { // the rest reads Linli's tables
		out = append(out, checkKey(ctx, cfg, d), checkJobs(ctx, d))
	}
	if d.Kind == db.SQLite {
		out = append(out, checkDisk(strings.TrimPrefix(cfg.DB, "sqlite:")))
	} else {
		out = append(out, checkClock(ctx, d))
	}
	return out
}

// checkSchema compares the database's schema version with this binary's;
// migrated says whether Linli's tables are there to check further.
func checkSchema(ctx context.Context, d *db.DB) (f finding, migrated bool) {
	const name = "schema 数据库结构"
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		v = 0 // no version table: an empty database
	}
	switch want := db.LatestVersion(); {
	case v == 0:
		return finding{name, false, "no Linli tables — run `linli migrate` (or start `linli serve`, which migrates)"}, false
	case v < want:
		return finding{name, false, fmt.Sprintf("version %d, this binary needs %d — run `linli migrate` (or start `linli serve`, which migrates)", v, want)}, true
	case v > want:
		return finding{name, false, fmt.Sprintf("version %d is newer than this binary's %d — run the newer linli on every node", v, want)}, true
	}
	return finding{name, true, fmt.Sprintf("version %d, current", v)}, true
}

// checkKey compares the configured master key with the one the database
// was written with, without creating a key file.
func checkKey(ctx context.Context, cfg config.Config, d *db.DB) finding {
	box, err := restoreKey(cfg)
	if err != nil {
		return finding{"key 主密钥", false, fmt.Sprintf("%v — give --key or --key-file (the same on every node)", err)}
	}
	var stored string
	err = d.Q(ctx).QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'key_check'").Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return finding{"key 主密钥", true, "present; the database holds no personal data yet"}
	case err != nil:
		return finding{"key 主密钥", false, err.Error()}
	case stored != box.Check():
		return finding{"key 主密钥", false, "the configured key is not the one this database was written with — find the deployment's original key file; never start with a new one"}
	}
	return finding{"key 主密钥", true, "matches the database"}
}

// checkJobs finds background work that no node is doing: due jobs long
// waiting, and jobs that failed for good.
func checkJobs(ctx context.Context, d *db.DB) finding {
	var late, failed int
	err := d.Q(ctx).QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND failed_at IS NULL AND run_at < $1),
		(SELECT COUNT(*) FROM jobs WHERE failed_at IS NOT NULL AND failed_at > $2)`,
		time.Now().Add(-10*time.Minute).UTC(), time.Now().Add(-24*time.Hour).UTC()).Scan(&late, &failed)
	switch {
	case err != nil:
		return finding{"jobs 后台任务", false, err.Error()}
	case late > 0:
		return finding{"jobs 后台任务", false, fmt.Sprintf("%d jobs due more than 10 minutes ago are waiting — is any `linli serve` running? Its log says why jobs fail", late)}
	case failed > 0:
		return finding{"jobs 后台任务", false, fmt.Sprintf("%d jobs failed for good in the last 24 hours — see last_error in the jobs table and the server log", failed)}
	}
	return finding{"jobs 后台任务", true, "none waiting or failed"}
}

// checkDisk wants room for the database to grow and for a backup beside
// it: 1 GiB and a tenth of the disk.
func checkDisk(path string) finding {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return finding{"disk 磁盘", false, err.Error()}
	}
	free, total := st.Bavail*uint64(st.Bsize), st.Blocks*uint64(st.Bsize)
	if free < 1<<30 || free < total/10 {
		return finding{"disk 磁盘", false, fmt.Sprintf("%.1f GiB free of %.1f GiB beside %s — free space or move the data: SQLite needs room to grow and checkpoint", gib(free), gib(total), path)}
	}
	return finding{"disk 磁盘", true, fmt.Sprintf("%.1f GiB free of %.1f GiB", gib(free), gib(total))}
}

func gib(b uint64) float64 { return float64(b) / (1 << 30) }

// checkClock compares this machine's clock with the database server's:
// deadlines, job leases and sessions assume the nodes agree on the time.
func checkClock(ctx context.Context, d *db.DB) finding {
	before := time.Now()
	var server time.Time
	if err := d.Q(ctx).QueryRowContext(ctx, "SELECT now()").Scan(&server); err != nil {
		return finding{"clock 时钟", false, err.Error()}
	}
	local := before.Add(time.Since(before) / 2)
	skew := server.Sub(local)
	if skew.Abs() > 2*time.Second {
		return finding{"clock 时钟", false, fmt.Sprintf("this node's clock is %v off the database's — run NTP (chrony) on every node", skew.Round(time.Millisecond))}
	}
	return finding{"clock 时钟", true, fmt.Sprintf("within %v of the database's", skew.Abs().Round(time.Millisecond))}
}
