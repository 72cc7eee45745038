package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/linli/linli/internal/platform/auth"
)

func token(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageErr("用法 / usage: linli token create --user NAME [--name N] [--scope read,write] [--expires 720h]")
	}
	var userName, name, scopes string
	var expires durationFlag
	ctx, a, err := open(ctx, "token create", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&userName, "user", "", "the account the token acts as")
		fs.StringVar(&name, "name", "cli", "a name to recognise the token by")
		fs.StringVar(&scopes, "scope", "read", "scopes: read, write, admin, metrics (comma separated)")
		fs.Var(&expires, "expires", "validity, e.g. 720h; 0 for never")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if userName == "" {
		return usageErr("--user is required")
	}
	sc, err := auth.ParseScopes(scopes)
	if err != nil {
		return err
	}
	tok, err := a.Auth.CreateToken(ctx, auth.NewToken{User: userName, Name: name, Scopes: sc, Expires: expires.d})
	if err != nil {
		return err
	}
	// The token alone on stdout, so that scripts can capture it.
	fmt.Fprintln(stdout, tok)
	fmt.Fprintln(stderr, "令牌只显示这一次 / the token is shown only this once")
	return nil
}
