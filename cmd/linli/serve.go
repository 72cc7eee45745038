package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/db"
)

// parse parses flags; the flag package has already printed the problem.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// open parses the common flags and opens the database and services,
// acting as the system (someone with shell access to the server).
func open(ctx context.Context, name string, args []string, extra func(fs *flag.FlagSet)) (context.Context, *app.App, error) {
	cfg := config.Default()
	fs := flag.NewFlagSet("linli "+name, flag.ContinueOnError)
	cfg.Register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, args); err != nil {
		return ctx, nil, err
	}
	if err := cfg.Check(); err != nil {
		return ctx, nil, usageErr("%v", err)
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg, os.Stderr))
	if err != nil {
		return ctx, nil, err
	}
	ctx = auth.WithPrincipal(ctx, auth.System())
	ctx = audit.WithActor(ctx, audit.Actor{Name: "system:" + currentUser()})
	return ctx, a, nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

func serve(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("linli serve", flag.ContinueOnError)
	cfg.RegisterServe(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return usageErr("%v", err)
	}
	start := time.Now()
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Demo {
		accounts, err := a.SeedDemo(ctx)
		if err != nil {
			return err
		}
		printDemo(stdout, accounts)
		// Seeding hashed eight passwords at 19 MiB each and wrote a few
		// MB of pages through the writer's cache; hand that memory back now
		// rather than whenever the collector next runs (or never, for
		// SQLite's cache), so that an idle demo server is small from the
		// start.
		if err := a.DB.ReleaseMemory(ctx); err != nil {
			return err
		}
		debug.FreeOSMemory()
	}
	l, err := a.Listen()
	if err != nil {
		return usageErr("--addr %s: %v", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "邻里已启动 / Linli is running: %s://%s  (%s, %d ms)\n",
		scheme, l.Addr(), a.DB.Kind, time.Since(start).Milliseconds())
	return a.Serve(ctx, l)
}

func printDemo(w io.Writer, accounts []app.DemoAccount) {
	if accounts == nil {
		fmt.Fprintln(w, "演示数据已存在，账号密码只在首次启动时显示 / demo data is already here; passwords were shown at the first start only.")
		return
	}
	fmt.Fprintln(w, "演示账号（密码只显示这一次）/ demo accounts (passwords are shown only this once):")
	for _, acc := range accounts {
		area := acc.Area
		if area == "" {
			area = "*"
		}
		fmt.Fprintf(w, "  %-12s %-16s %-20s %s\n", acc.Name, acc.Password, acc.Role, area)
	}
}

func migrate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	_, a, err := open(ctx, "migrate", args, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "数据库结构已是最新 / schema is up to date: version %d (%s)\n", v, a.DB.Kind)
	return nil
}

func version(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
	}
	fmt.Fprintf(stdout, "linli %s, schema %d\n", v, db.LatestVersion())
	return nil
}

// readPassword takes the first line of stdin: passwords never go on the
// command line, where ps and shell history would keep them.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageErr("没有从标准输入读到密码 / no password on standard input (echo PASSWORD | linli … --password-stdin)")
	}
	return line, nil
}
