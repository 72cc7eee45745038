package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
)

const areaUsage = `用法 / usage:
  linli area create --level district|street|community|grid --code CODE --name NAME [--parent CODE]
                    [--kind comprehensive|dedicated] [--purpose school|hospital|park|company|market|government|other]
  linli area assign --grid CODE --user NAME [--duty member|leader]
  linli import areas …  (see linli import)`

func areaCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("%s", areaUsage)
	}
	switch args[0] {
	case "create":
		return areaCreate(ctx, args[1:], stdout)
	case "assign":
		return areaAssign(ctx, args[1:], stdout)
	}
	return usageErr("unknown subcommand %q\n%s", args[0], areaUsage)
}

func areaCreate(ctx context.Context, args []string, stdout io.Writer) error {
	var na area.NewArea
	var level, kind string
	ctx, a, err := open(ctx, "area create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&level, "level", "", "district, street, community or grid")
		fs.StringVar(&na.Code, "code", "", "statistical code (grid: community code + 3 digits)")
		fs.StringVar(&na.Name, "name", "", "name")
		fs.StringVar(&na.Parent, "parent", "", "parent's code")
		fs.StringVar(&kind, "kind", "", "grids: comprehensive (综合网格) or dedicated (专属网格)")
		fs.StringVar(&na.Purpose, "purpose", "", "dedicated grids: what they serve")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	na.Level, na.Kind = area.Level(level), area.Kind(kind)
	created, err := a.Areas.Create(ctx, na)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建 / created: %s %s (%s)\n", created.Code, created.Name, created.Level)
	return nil
}

func areaAssign(ctx context.Context, args []string, stdout io.Writer) error {
	var grid, user, duty string
	ctx, a, err := open(ctx, "area assign", args, func(fs *flag.FlagSet) {
		fs.StringVar(&grid, "grid", "", "grid code")
		fs.StringVar(&user, "user", "", "the grid worker's login name")
		fs.StringVar(&duty, "duty", "member", "member (网格员) or leader (网格长)")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Areas.AssignWorker(ctx, grid, user, area.Duty(duty)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已指定 / assigned: %s → %s (%s)\n", user, grid, duty)
	return nil
}

func importAreas(ctx context.Context, args []string, stdout io.Writer) error {
	var file, level, kind string
	var req area.ImportRequest
	var world bool
	ctx, a, err := open(ctx, "import areas", args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "GeoJSON file (Polygon / MultiPolygon features, WGS84)")
		fs.StringVar(&level, "level", "grid", "level of the imported areas")
		fs.StringVar(&req.Parent, "parent", "", "code of the area they belong to")
		fs.StringVar(&req.CodeProp, "code-prop", "", "property holding each code (default: number them west→east, north→south)")
		fs.StringVar(&req.NameProp, "name-prop", "name", "property holding each name")
		fs.StringVar(&kind, "kind", "", "grids: comprehensive or dedicated")
		fs.Float64Var(&req.OverlapTolerance, "overlap-tolerance", 0, "m² two areas may share before they overlap (default 1)")
		fs.BoolVar(&req.DryRun, "dry-run", false, "check and report, change nothing")
		fs.BoolVar(&world, "anywhere", false, "accept boundaries outside China (test data from other cities)")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if file == "" {
		return usageErr("--file is required\n%s", areaUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return usageErr("--file: %v", err)
	}
	defer f.Close()
	if world {
		a.Areas.Region = orb.Bound{}
	}
	req.File, req.Level, req.Kind, req.Source = f, area.Level(level), area.Kind(kind), filepath.Base(file)
	rep, err := a.Areas.Import(ctx, req)
	if err != nil {
		return err
	}
	for _, it := range rep.Items {
		action := "新建 / new"
		if !it.New {
			action = "新版本 / new version"
		}
		fmt.Fprintf(stdout, "#%-4d %s  %-20s %s\n", it.Feature, it.Code, it.Name, action)
	}
	verb := "已导入 / imported"
	if rep.DryRun {
		verb = "检查通过，未导入 / checked, nothing imported (--dry-run)"
	}
	fmt.Fprintf(stdout, "%s: %d\n", verb, len(rep.Items))
	return nil
}
