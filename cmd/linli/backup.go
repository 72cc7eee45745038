package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// backupCmd is `linli backup --to FILE`: a consistent copy of a SQLite
// deployment (attachments included, they are in the database) taken while
// the server runs.
func backupCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("linli backup", flag.ContinueOnError)
	cfg.Register(fs)
	to := fs.String("to", "", "file to write the backup to (replaced only once the new copy is complete)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageErr("--to FILE is required")
	}
	if !strings.HasPrefix(cfg.DB, "sqlite:") {
		return errs.E(errs.Invalid, "err.backup.postgres")
	}
	d, err := db.Open(ctx, db.Options{DSN: cfg.DB, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	n, err := d.Backup(ctx, *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "备份完成 / backed up: %s (%.1f MB, %.1f s)\n", *to, float64(n)/1e6, time.Since(start).Seconds())
	fmt.Fprintf(stdout, "备份不含主密钥，请另行妥善保管 %s；没有它无法读取身份证号和电话。\n"+
		"The backup does not hold the master key: keep %s safe elsewhere; without it ID and phone numbers cannot be read.\n",
		cfg.KeyPath(), cfg.KeyPath())
	return nil
}

// restoreCmd is `linli restore --from FILE`: it replaces a stopped SQLite
// deployment's database with a backup made with the same master key, then
// brings the schema up to date.
func restoreCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("linli restore", flag.ContinueOnError)
	cfg.Register(fs)
	from := fs.String("from", "", "backup file written by linli backup")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return usageErr("--from FILE is required")
	}
	path, ok := strings.CutPrefix(cfg.DB, "sqlite:")
	if !ok {
		return errs.E(errs.Invalid, "err.backup.sqlite_only")
	}
	box, err := restoreKey(cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	sameKey := func(c *sql.DB) error {
		var stored string
		err := c.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'key_check'").Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && stored != box.Check()) {
			return errs.E(errs.Invalid, "err.backup.key_mismatch", *from)
		}
		if err != nil {
			return errs.E(errs.Invalid, "err.backup.damaged", *from, err.Error())
		}
		return nil
	}
	if err := db.RestoreSQLite(ctx, *from, path, sameKey); err != nil {
		return err
	}
	d, err := db.Open(ctx, db.Options{DSN: cfg.DB, Migrate: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer d.Close()
	var cases int64
	if err := d.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM cases").Scan(&cases); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "恢复完成 / restored: %s → %s (%d cases, %.1f s)\n", *from, path, cases, time.Since(start).Seconds())
	return nil
}

// restoreKey reads the configured master key without creating one: a
// restore on a new machine must be given the old deployment's key.
func restoreKey(cfg config.Config) (*crypto.Box, error) {
	var key []byte
	var err error
	if cfg.Key != "" {
		if key, err = crypto.ParseKey(cfg.Key); err != nil {
			return nil, errs.E(errs.Invalid, "err.key.config", err.Error())
		}
	} else {
		if _, err := os.Stat(cfg.KeyPath()); err != nil {
			return nil, errs.E(errs.Invalid, "err.backup.no_key", cfg.KeyPath())
		}
		if key, _, err = crypto.LoadOrCreateKey(cfg.KeyPath()); err != nil {
			return nil, errs.E(errs.Unavailable, "err.key.file", cfg.KeyPath(), err.Error())
		}
	}
	return crypto.New(key)
}
