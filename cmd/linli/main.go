// Command linli is the whole of Linli in one binary: the server and the
// administration commands. This file only parses the command line and wires
// things together; the program lives in internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/web"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the operation failed (database unreachable, …)
	exitUsage  = 2 // bad flags or bad input: nothing was changed
	exitBroken = 3 // linli audit verify found the log altered
)

const usage = `linli — 邻里 社区网格化管理服务平台 / community grid governance and services

用法 / usage: linli COMMAND [flags]

  serve      启动服务 / run the server (--demo fills an empty database with demo data)
  migrate    升级数据库结构 / bring the database schema up to date
  user       账号管理 / accounts: create, list, set-password, grant, revoke
  area       区划网格 / areas and grids: create, assign (grid workers)
  import     导入 / import: areas (GeoJSON boundaries), hotline (12345 tickets, CSV or xlsx)
  token      API 令牌 / API tokens: create
  audit      审计日志 / audit log: verify
  doctor     体检 / check a deployment: database, schema, key, jobs, disk, clock
  backup     备份 / back up a running SQLite deployment: --to FILE
  restore    恢复 / restore a stopped SQLite deployment: --from FILE
  bench      性能测试 / benchmarks: write, locate, intake
  open311    Open311 接口 / Open311 GeoReport v2: key create|list|revoke, pull, bench
  civic      居务公开 / open affairs: verify (the disclosures' hash chain)
  replay     历史回放 / replay a city's 311 history in simulated time (Boston by default)
  version    版本 / print the version

每个命令的参数见 / flags of a command: linli COMMAND -h
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand.
type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

var commands = map[string]command{
	"serve":   serve,
	"migrate": migrate,
	"user":    user,
	"token":   token,
	"audit":   auditCmd,
	"doctor":  doctor,
	"backup":  backupCmd,
	"restore": restoreCmd,
	"area":    areaCmd,
	"import":  importCmd,
	"bench":   bench,
	"replay":  replay,
	"open311": open311Cmd,
	"civic":   civicCmd,
	"version": version,
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "未知命令 / unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd(ctx, args[1:], stdin, stdout, stderr)
	return report(stderr, err)
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errAuditBroken carries the exit code of a failed audit verification.
var errAuditBroken = errors.New("audit log is not intact")

// report prints err in Chinese and in English and returns the exit code.
func report(w io.Writer, err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errAuditBroken):
		return exitBroken
	case errors.As(err, &ue):
		fmt.Fprintf(w, "错误 / error: %s\n", ue.msg)
		return exitUsage
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		fmt.Fprintf(w, "错误 / error: %v\n", err)
		return exitFailed
	}
	cat, cerr := app.Catalog()
	if cerr != nil {
		fmt.Fprintf(w, "错误 / error: %v\n", err)
		return exitFailed
	}
	for _, lang := range i18n.Langs {
		msg, fields := web.Message(cat, lang, e)
		if e.Code == errs.Internal {
			msg += " (" + e.Error() + ")"
		}
		fmt.Fprintf(w, "%s: %s\n", map[i18n.Lang]string{i18n.ZH: "错误", i18n.EN: "error"}[lang], msg)
		for _, f := range fields {
			fmt.Fprintf(w, "  %s: %s\n", f.Field, f.Message)
		}
	}
	if e.Code == errs.Invalid || e.Code == errs.Conflict || e.Code == errs.NotFound {
		return exitUsage
	}
	return exitFailed
}
