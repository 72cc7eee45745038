package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/linli/linli/internal/platform/auth"
)

const userUsage = `用法 / usage:
  linli user create --name NAME --role ROLE [--area CODE] [--display-name N] --password-stdin
  linli user list
  linli user set-password --name NAME --password-stdin
  linli user grant  --name NAME --role ROLE [--area CODE]
  linli user revoke --name NAME --role ROLE [--area CODE]
角色 / roles: resident grid_worker community_staff street_staff department_handler supervisor admin`

func user(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("%s", userUsage)
	}
	var name, role, area, display string
	var pwStdin bool
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "login name")
		fs.StringVar(&role, "role", "", "role")
		fs.StringVar(&area, "area", "", "area code of the grant (empty: everywhere, administrators only)")
		fs.StringVar(&display, "display-name", "", "the person's name")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	}
	sub := args[0]
	ctx, a, err := open(ctx, "user "+sub, args[1:], flags)
	if err != nil {
		return err
	}
	defer a.Close()
	needName := func() error {
		if name == "" {
			return usageErr("--name is required\n%s", userUsage)
		}
		return nil
	}
	password := func() (string, error) {
		if !pwStdin {
			return "", usageErr("--password-stdin is required: pass the password on standard input")
		}
		return readPassword(stdin)
	}
	switch sub {
	case "create":
		if err := needName(); err != nil {
			return err
		}
		pw, err := password()
		if err != nil {
			return err
		}
		u, err := a.Auth.CreateUser(ctx, auth.NewUser{Name: name, DisplayName: display, Password: pw, Role: auth.Role(role), AreaCode: area})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已创建 / created: %s (%s @ %s)\n", u.Name, role, everywhere(area))
	case "list":
		users, err := a.Auth.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tGRANTS\tCREATED")
		for _, u := range users {
			var gs []string
			for _, g := range u.Grants {
				gs = append(gs, string(g.Role)+"@"+everywhere(g.AreaCode))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.DisplayName, strings.Join(gs, ","), u.CreatedAt.Local().Format(time.DateTime))
		}
		return tw.Flush()
	case "set-password":
		if err := needName(); err != nil {
			return err
		}
		pw, err := password()
		if err != nil {
			return err
		}
		if err := a.Auth.SetPassword(ctx, name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "密码已修改，该用户的会话已全部退出 / password changed; every session of %s has ended\n", name)
	case "grant", "revoke":
		if err := needName(); err != nil {
			return err
		}
		if sub == "grant" {
			err = a.Auth.Grant(ctx, name, auth.Role(role), area)
		} else {
			err = a.Auth.Revoke(ctx, name, auth.Role(role), area)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s %s @ %s\n", sub, name, role, everywhere(area))
	default:
		return usageErr("unknown subcommand %q\n%s", sub, userUsage)
	}
	return nil
}

func everywhere(code string) string {
	if code == "" {
		return "*"
	}
	return code
}
