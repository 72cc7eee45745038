package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

const civicUsage = `用法 / usage: linli civic verify [--db DSN]`

// errCivicBroken is a broken disclosure chain; it carries the exit code of
// a failed audit verification (3), so scripts treat both alike.
var errCivicBroken = fmt.Errorf("the disclosure chain is not intact: %w", errAuditBroken)

// civicCmd checks every community's chain of public notices: each stored
// version against its hash and the one before it, and each chain's end
// against its head (the head posted on the notice board is the check
// against a rewrite of the whole chain).
func civicCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageErr("%s", civicUsage)
	}
	ctx, a, err := open(ctx, "civic verify", args[1:], nil)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	rep, err := a.Civic.VerifyChain(ctx)
	if err != nil {
		return err
	}
	for _, h := range rep.Heads {
		fmt.Fprintf(stdout, "%s\t%d\t%s\n", h.Community, h.Seq, h.Hash)
	}
	if rep.Break != nil {
		fmt.Fprintf(stdout, "居务公开内容已被改动 / the public notices are NOT intact: %d versions checked; first break at %s\n",
			rep.Versions, rep.Break)
		return errCivicBroken
	}
	fmt.Fprintf(stdout, "居务公开内容完整 / the public notices are intact: %d versions in %d communities checked in %d ms\n",
		rep.Versions, rep.Communities, time.Since(start).Milliseconds())
	return nil
}
