package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/geo"
)

type durationFlag struct{ d time.Duration }

func (f *durationFlag) String() string { return f.d.String() }
func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 720h, got %q", s)
	}
	f.d = d
	return nil
}

func bench(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "intake" {
		return benchIntake(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "import" {
		return benchImport(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "backup" {
		return benchBackup(ctx, args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "crash" {
		return benchCrash(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "locate" {
		return benchLocate(ctx, args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "write" {
		return usageErr("用法 / usage:\n  linli bench write [--clients 32] [--duration 5s] [--db postgres://…]\n" +
			"  linli bench intake [--clients 256] [--duration 10s] [--rate 1000] [--db postgres://…] [--cpuprofile F]\n" +
			"  linli bench import --rows N [--format csv|xlsx] [--db postgres://…] [--export] [--keep-indexes] [--cpuprofile F]\n" +
			"  linli bench backup [--cases 1000000] [--dir D]\n" +
			"  linli bench crash [--kills 20] [--clients 4] [--db postgres://…] [--seed N]\n" +
			"  linli bench locate --polygons F.geojson | --hex N  [--points 1000000] [--seed 1]")
	}
	fs := flag.NewFlagSet("linli bench write", flag.ContinueOnError)
	clients := fs.Int("clients", 32, "concurrent clients")
	duration := fs.Duration("duration", 5*time.Second, "how long each variant runs")
	dsn := fs.String("db", "", "PostgreSQL to measure instead of SQLite (the bench table is dropped and recreated)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *clients < 1 || *duration <= 0 {
		return usageErr("--clients must be at least 1 and --duration positive")
	}
	if strings.HasPrefix(*dsn, "postgres") {
		r, err := db.RunWriteBench(ctx, db.WriteBench{DSN: *dsn, Clients: *clients, Duration: *duration})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "postgres: %d writes in %.1f s = %.0f/s\n", r.Writes, r.Seconds, r.PerSec)
		return printJSON(stdout, map[string]any{"benchmark": "write", "db": "postgres", "clients": *clients, "writes_per_sec": round(r.PerSec)})
	}
	dir, err := os.MkdirTemp("", "linli-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	variants := []struct {
		name, sync string
		batch      int
	}{
		{"full_group", "FULL", 0},      // Linli's setting: durable, group commit
		{"full_single", "FULL", 1},     // durable, one fsync per commit
		{"normal_single", "NORMAL", 1}, // the bare handler's setting: no fsync at commit
		{"normal_group", "NORMAL", 0},
	}
	out := map[string]any{"benchmark": "write", "db": "sqlite", "clients": *clients, "seconds_each": duration.Seconds()}
	perSec := map[string]float64{}
	fmt.Fprintf(stdout, "%-14s %10s %12s\n", "variant", "writes", "writes/s")
	for _, v := range variants {
		r, err := db.RunWriteBench(ctx, db.WriteBench{DSN: "sqlite:" + filepath.Join(dir, v.name+".db"),
			Sync: v.sync, MaxBatch: v.batch, Clients: *clients, Duration: *duration})
		if err != nil {
			return err
		}
		perSec[v.name] = r.PerSec
		out[v.name+"_per_sec"] = round(r.PerSec)
		fmt.Fprintf(stdout, "%-14s %10d %12.0f\n", v.name, r.Writes, r.PerSec)
	}
	out["ratio_to_single_fsync"] = round2(perSec["full_group"] / perSec["full_single"])
	out["ratio_to_normal"] = round2(perSec["full_group"] / perSec["normal_single"])
	return printJSON(stdout, out)
}

func round(f float64) float64  { return float64(int64(f + 0.5)) }
func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// printJSON ends a benchmark's output with one line of JSON for scripts.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// benchLocate measures point → grid lookups on one goroutine, over the
// polygons of a GeoJSON file or a generated city of hexagonal grids.
func benchLocate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("linli bench locate", flag.ContinueOnError)
	polygons := fs.String("polygons", "", "GeoJSON file of polygons")
	hex := fs.Int("hex", 0, "generate a city of N hexagonal grids instead")
	points := fs.Int("points", 1_000_000, "random points in the bounding box")
	seed := fs.Int64("seed", 1, "random seed (same seed, same points)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*polygons == "") == (*hex == 0) || *points < 1 || *hex < 0 {
		return usageErr("give either --polygons FILE or --hex N, and --points ≥ 1")
	}
	var shapes []geo.Shape
	workload := fmt.Sprintf("hex%d", *hex)
	if *polygons != "" {
		f, err := os.Open(*polygons)
		if err != nil {
			return usageErr("--polygons: %v", err)
		}
		defer f.Close()
		features, err := geo.ReadFeatures(f, 1<<30)
		if err != nil {
			return usageErr("--polygons %s: %v", *polygons, err)
		}
		for i, ft := range features {
			shapes = append(shapes, geo.Shape{Key: int64(i), Geometry: ft.Geometry})
		}
		workload = filepath.Base(*polygons)
	} else {
		shapes = geo.HexCity(*hex, *seed)
	}
	r, err := geo.RunLocateBench(shapes, *points, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d shapes, build %.0f ms, heap %.1f MB; %d points, %d inside, %.0f points/s on one goroutine\n",
		workload, r.Shapes, r.BuildMS, r.HeapMB, r.Points, r.Found, r.PointsPerSec)
	return printJSON(stdout, map[string]any{"workload": workload, "shapes": r.Shapes, "points": r.Points,
		"points_per_sec": round(r.PointsPerSec), "build_ms": round2(r.BuildMS), "heap_mb": round2(r.HeapMB)})
}
