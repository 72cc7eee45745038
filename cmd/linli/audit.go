package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

func auditCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageErr("用法 / usage: linli audit verify [--db DSN]")
	}
	ctx, a, err := open(ctx, "audit verify", args[1:], nil)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	rep, err := a.Audit.Verify(ctx)
	if err != nil {
		return err
	}
	if rep.Break != nil {
		fmt.Fprintf(stdout, "审计日志已被改动 / the audit log is NOT intact: %d rows checked; first break at %s\n", rep.Rows, rep.Break)
		return errAuditBroken
	}
	fmt.Fprintf(stdout, "审计日志完整 / the audit log is intact: %d rows checked in %d ms\n", rep.Rows, time.Since(start).Milliseconds())
	return nil
}
