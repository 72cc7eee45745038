package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/registry"
)

const importUsage = `用法 / usage:
  linli import areas --file F.geojson --level grid --parent CODE [--code-prop P] [--name-prop P] [--dry-run]
  linli import hotline --file F.csv|F.xlsx [--map M.json] [--check]
  linli import residents --file F.xlsx|F.csv [--check]
  linli import buildings|households|places --file F.xlsx|F.csv [--check]`

func importCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("%s", importUsage)
	}
	switch args[0] {
	case "areas":
		return importAreas(ctx, args[1:], stdout)
	case "hotline":
		return importHotline(ctx, args[1:], stdout)
	case "residents", "buildings", "households", "places":
		return importRegister(ctx, registry.ImportKind(args[0]), args[1:], stdout, stderr)
	}
	return usageErr("未知的导入 / nothing to import called %q\n%s", args[0], importUsage)
}

// importRegister imports residents, buildings with their rooms, households
// or places: every row or, when any row is wrong, none (the error lists
// every bad row and column).
func importRegister(ctx context.Context, kind registry.ImportKind, args []string, stdout, stderr io.Writer) error {
	var file string
	var check bool
	ctx, a, err := open(ctx, "import "+string(kind), args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "xlsx or CSV (UTF-8 or GBK) with the template's Chinese headers")
		fs.BoolVar(&check, "check", false, "check the file and say what would be imported, change nothing")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if file == "" {
		return usageErr("--file is required\n%s", importUsage)
	}
	rep, err := runImport(ctx, a, kind, file, registry.ImportOptions{CheckOnly: check}, stderr)
	if err != nil {
		return err
	}
	verb := "已导入 / imported"
	if rep.Checked {
		verb = "检查通过，未导入 / checked, nothing imported (--check)"
	}
	if kind == registry.KindResidents {
		fmt.Fprintf(stdout, "%s: %d 人 / residents, %d 人新登记 / new, %d 人已登记并更新 / updated\n", verb, rep.Rows, rep.Created, rep.Updated)
		return nil
	}
	fmt.Fprintf(stdout, "%s: %d 行 / rows, %d 新增 / new, %d 更新 / updated, %d 未变 / unchanged\n", verb, rep.Rows, rep.Created, rep.Updated, rep.Unchanged)
	return nil
}

// runImport opens the file and imports it with a progress bar on w.
func runImport(ctx context.Context, a *app.App, kind registry.ImportKind, file string, opt registry.ImportOptions, w io.Writer) (registry.ImportReport, error) {
	rows, bytesRead, err := registry.OpenImportFile(file)
	if err != nil {
		return registry.ImportReport{}, err
	}
	defer rows.Close()
	bar := newProgressBar(w, bytesRead)
	defer bar.finish()
	opt.Progress = bar.update
	return a.Registry.Import(ctx, kind, rows, opt)
}

// importHotline imports a 12345 export: every ticket or, when any row is
// wrong, none (the error lists every bad row).
func importHotline(ctx context.Context, args []string, stdout io.Writer) error {
	var file, mapFile string
	var check bool
	ctx, a, err := open(ctx, "import hotline", args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "the hotline's export, CSV (UTF-8 or GBK) or xlsx")
		fs.StringVar(&mapFile, "map", "", "column mapping (JSON, see docs/hotline.md); default: the usual 12345 headers")
		fs.BoolVar(&check, "check", false, "check the file and say what would be imported, change nothing")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if file == "" {
		return usageErr("--file is required\n%s", importUsage)
	}
	opt := cases.HotlineOptions{Mapping: cases.DefaultHotlineMapping(), CheckOnly: check}
	if mapFile != "" {
		f, err := os.Open(mapFile)
		if err != nil {
			return usageErr("--map: %v", err)
		}
		defer f.Close()
		if opt.Mapping, err = cases.ParseHotlineMapping(f); err != nil {
			return err
		}
	}
	rows, err := sheet.Open(file, sheet.Options{})
	if err != nil {
		return usageErr("--file: %v", err)
	}
	defer rows.Close()
	rep, err := a.Cases.ImportHotline(ctx, rows, opt)
	if err != nil {
		return err
	}
	for _, n := range rep.Numbers {
		fmt.Fprintln(stdout, n)
	}
	verb := "已导入 / imported"
	if rep.Checked {
		verb = "检查通过，未导入 / checked, nothing imported (--check)"
	}
	fmt.Fprintf(stdout, "%s: %d 条工单 / tickets, %d 件新案件 / new cases, %d 条已导入过 / known, %d 件待人工分派 / need routing\n",
		verb, rep.Rows, rep.Imported, rep.Known, rep.Routing)
	return nil
}
