package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/db"
)

// `linli bench backup --cases N` times `linli backup` and `linli restore`
// on a SQLite deployment holding N cases. The cases are copies of one case
// reported through the service (same columns, sealed phone, event), each
// with its own id and tracking hash, inserted in bulk: the point is the
// size of the file, not how it was filled.
func benchBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("linli bench backup", flag.ContinueOnError)
	n := fs.Int("cases", 1_000_000, "cases in the database")
	keep := fs.String("dir", "", "work in this directory and keep it (default: a temporary one, removed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return usageErr("--cases must be at least 1")
	}
	dir := *keep
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "linli-bench-backup-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = "sqlite:"+filepath.Join(dir, "linli.db"), filepath.Join(dir, "linli.key")
	fill := time.Now()
	if err := fillCases(ctx, cfg, *n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "filled %d cases in %.1f s\n", *n, time.Since(fill).Seconds())

	d, err := db.Open(ctx, db.Options{DSN: cfg.DB, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	backup := filepath.Join(dir, "backup.db")
	start := time.Now()
	size, err := d.Backup(ctx, backup)
	d.Close()
	if err != nil {
		return err
	}
	backupSecs := time.Since(start).Seconds()
	target := "sqlite:" + filepath.Join(dir, "restored", "linli.db")
	start = time.Now()
	if err := restoreCmd(ctx, []string{"--db", target, "--key-file", cfg.KeyFile, "--from", backup}, nil, io.Discard, io.Discard); err != nil {
		return err
	}
	restoreSecs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "backup of %d cases (%.0f MB): %.1f s; restore: %.1f s\n", *n, float64(size)/1e6, backupSecs, restoreSecs)
	return printJSON(stdout, map[string]any{"benchmark": "backup", "cases": *n, "megabytes": round(float64(size) / 1e6),
		"backup_seconds": round2(backupSecs), "restore_seconds": round2(restoreSecs)})
}

// fillCases creates the deployment with the demo street, reports one case
// through the service, and copies it (with its report event) to n cases.
func fillCases(ctx context.Context, cfg config.Config, n int) error {
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.SeedDemo(ctx); err != nil {
		return err
	}
	sys := auth.WithPrincipal(ctx, auth.System())
	p := orb.Point{demoWest + blockLon/2, demoNorth - blockLat/2}
	rc, err := a.Cases.Report(sys, cases.NewCase{Channel: cases.ChannelResident, Category: "E0101", Point: &p,
		Description: descriptions[0], Name: "居民", Phone: "13912345678"})
	if err != nil {
		return err
	}
	id, _ := cases.ParseNumber(rc.Number)
	caseCols, err := columns(ctx, a.DB, "cases", "id", "tracking_hash")
	if err != nil {
		return err
	}
	eventCols, err := columns(ctx, a.DB, "case_events", "id", "case_id")
	if err != nil {
		return err
	}
	return a.DB.Write(ctx, func(ctx context.Context) error {
		series := fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) ", n-1)
		q := series + fmt.Sprintf("INSERT INTO cases (id, tracking_hash, %[1]s) SELECT %[2]d + i, 'bench' || i, %[1]s FROM n, cases WHERE cases.id = %[2]d",
			strings.Join(caseCols, ", "), id)
		if _, err := a.DB.Q(ctx).ExecContext(ctx, q); err != nil {
			return err
		}
		q = series + fmt.Sprintf("INSERT INTO case_events (case_id, %[1]s) SELECT %[2]d + i, %[1]s FROM n, case_events WHERE case_events.case_id = %[2]d",
			strings.Join(eventCols, ", "), id)
		_, err := a.DB.Q(ctx).ExecContext(ctx, q)
		return err
	})
}

// columns lists a table's columns but the ones named.
func columns(ctx context.Context, d *db.DB, table string, except ...string) ([]string, error) {
	rows, err := d.Q(ctx).QueryContext(ctx, "SELECT name FROM pragma_table_info('"+table+"')")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		skip := false
		for _, e := range except {
			skip = skip || e == name
		}
		if !skip {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}
