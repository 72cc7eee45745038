package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/app"
	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/idcard"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/registry"
)

// This file holds `linli bench import` and the progress bar it shares with
// `linli import`.

// progressBar draws one line on a terminal (or a log): the phase, rows
// read and written, rows per second and, when the size is known, the time
// left. It redraws at most every 200 ms.
type progressBar struct {
	w     io.Writer
	bytes func() (int64, int64)
	start time.Time
	phase string
	since time.Time // the phase's start
	last  time.Time
	mu    sync.Mutex
	drawn bool
}

func newProgressBar(w io.Writer, bytes func() (int64, int64)) *progressBar {
	now := time.Now()
	return &progressBar{w: w, bytes: bytes, start: now, since: now}
}

func (b *progressBar) update(p registry.ImportProgress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if p.Phase != b.phase {
		b.phase, b.since = p.Phase, now
	} else if now.Sub(b.last) < 200*time.Millisecond {
		return
	}
	b.last = now
	el := now.Sub(b.since).Seconds()
	var line string
	switch p.Phase {
	case "read":
		rate := float64(p.Read) / max(el, 0.001)
		line = fmt.Sprintf("读取 / reading: %d 行 / rows, %.0f 行/秒 / rows/s", p.Read, rate)
		if read, size := b.bytes(); size > 0 && read > 0 {
			frac := min(float64(read)/float64(size), 1)
			line += fmt.Sprintf(", %s%3.0f%%, 约剩 / ETA %s", bar(frac), frac*100, eta(el, frac))
		}
		if p.Bad > 0 {
			line += fmt.Sprintf(", %d 处错误 / problems", p.Bad)
		}
	case "write":
		frac := float64(p.Written) / float64(max(p.Total, 1))
		line = fmt.Sprintf("写入 / writing: %d / %d 行 / rows, %.0f 行/秒 / rows/s, %s%3.0f%%, 约剩 / ETA %s",
			p.Written, p.Total, float64(p.Written)/max(el, 0.001), bar(frac), frac*100, eta(el, frac))
	case "index":
		line = fmt.Sprintf("建索引 / indexing: %d 行 / rows written in %.1f s", p.Written, now.Sub(b.start).Seconds())
	default:
		line = fmt.Sprintf("完成 / done: %d 行 / rows in %.1f s", p.Total, now.Sub(b.start).Seconds())
	}
	fmt.Fprintf(b.w, "\r\033[K%s", line)
	b.drawn = true
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

func bar(frac float64) string {
	const width = 20
	n := int(frac*width + 0.5)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] "
}

func eta(elapsed, frac float64) string {
	if frac <= 0 {
		return "?"
	}
	return (time.Duration(elapsed*(1/frac-1)) * time.Second).Round(time.Second).String()
}

// --- linli bench import ---

// benchImport generates a valid file of N residents (fictitious ID numbers
// from idcard.Generate, rooms of buildings made for the bench in the demo
// street's grids), imports it into a fresh database with the same code as
// `linli import residents`, and ends with one JSON line. --export also
// times an export of the whole register to xlsx.
func benchImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linli bench import", flag.ContinueOnError)
	rowsN := fs.Int("rows", 100_000, "residents in the generated file")
	format := fs.String("format", "csv", "csv or xlsx")
	dsn := fs.String("db", "", "PostgreSQL to import into instead of a fresh SQLite file (a fresh schema, dropped afterwards)")
	export := fs.Bool("export", false, "also export the whole register to xlsx and time it")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file")
	keepIndexes := fs.Bool("keep-indexes", false, "keep the residents' indexes during the load instead of building them again afterwards")
	dirFlag := fs.String("dir", "", "directory for the database and the file (default: a new temporary one, removed afterwards)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *rowsN < 1 || (*format != "csv" && *format != "xlsx") {
		return usageErr("--rows must be at least 1 and --format csv or xlsx")
	}
	if *dsn != "" && !strings.HasPrefix(*dsn, "postgres") {
		return usageErr("--db: only postgres://… (SQLite is the default, on a fresh file)")
	}
	dir := *dirFlag
	if dir == "" {
		d, err := os.MkdirTemp("", "linli-bench-import-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = "sqlite:"+filepath.Join(dir, "linli.db"), filepath.Join(dir, "linli.key")
	dbName := "sqlite"
	if *dsn != "" {
		pg, drop, err := freshSchema(ctx, *dsn)
		if err != nil {
			return err
		}
		defer drop()
		cfg.DB, dbName = pg, "postgres"
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer a.Close()
	sys := auth.WithPrincipal(ctx, auth.System())
	if _, err := a.SeedDemo(sys); err != nil {
		return err
	}
	setup := time.Now()
	rooms, err := benchRooms(sys, a, *rowsN)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "residents."+*format)
	if err := writeBenchFile(path, *format, *rowsN, rooms); err != nil {
		return err
	}
	st, _ := os.Stat(path)
	fmt.Fprintf(stderr, "%d 户室 / rooms made, %s of %d rows written (%.1f MB) in %.1f s\n", len(rooms), *format, *rowsN,
		float64(st.Size())/1e6, time.Since(setup).Seconds())
	rooms = nil
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
	}
	start := time.Now()
	rep, err := runImport(sys, a, registry.KindResidents, path, registry.ImportOptions{KeepIndexes: *keepIndexes}, stderr)
	secs := time.Since(start).Seconds()
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	peak := peakRSSMB()
	out := map[string]any{"benchmark": "import", "rows": rep.Rows, "created": rep.Created, "seconds": round2(secs),
		"rows_per_sec": round(float64(rep.Rows) / secs), "peak_rss_mb": round2(peak), "format": *format, "db": dbName, "keep_indexes": *keepIndexes,
		"load1": load1()}
	if *export {
		f, err := os.Create(filepath.Join(dir, "export.xlsx"))
		if err != nil {
			return err
		}
		defer f.Close()
		bw := bufio.NewWriterSize(f, 1<<20)
		resetPeakRSS()
		t0 := time.Now()
		n, err := a.Registry.ExportResidentsXLSX(sys, registry.ResidentQuery{}, bw, registry.ExportOptions{})
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			return err
		}
		es := time.Since(t0).Seconds()
		st, _ := f.Stat()
		out["export_rows"], out["export_seconds"], out["export_peak_rss_mb"] = n, round2(es), round2(peakRSSMB())
		out["export_mb"] = round2(float64(st.Size()) / 1e6)
		fmt.Fprintf(stderr, "导出 / export: %d rows to xlsx in %.1f s (%.1f MB)\n", n, es, float64(st.Size())/1e6)
	}
	return printJSON(stdout, out)
}

// benchRoom is a room of the bench's buildings, as the file names it.
type benchRoom struct{ address, unit, number string }

// benchRooms makes buildings of 2 units × 18 floors × 4 rooms in the demo
// grids, one room per three residents, and returns the rooms.
func benchRooms(ctx context.Context, a *app.App, residents int) ([]benchRoom, error) {
	grids, err := a.Areas.List(ctx, area.ListQuery{Level: area.Grid, Limit: 500})
	if err != nil {
		return nil, err
	}
	var usable []area.Area
	for _, g := range grids {
		if g.Kind != area.Dedicated {
			usable = append(usable, g)
		}
	}
	const perBuilding = 2 * 18 * 4
	buildings := (residents/3 + perBuilding - 1) / perBuilding
	roads := []string{"岱山路", "滨海路", "观海路", "迎春大街", "港城东大街", "清泉路", "山海路", "盛泉路"}
	var rooms []benchRoom
	err = a.DB.Write(ctx, func(ctx context.Context) error {
		now := time.Now().UTC()
		q := a.DB.Q(ctx)
		for b := 0; b < buildings; b++ {
			g := usable[b%len(usable)]
			road, door, name := roads[b%len(roads)], fmt.Sprintf("%d号", 100+b), fmt.Sprintf("%d号楼", 1+b%20)
			address := road + door + " 邻里小区 " + name
			var bid int64
			if err := q.QueryRowContext(ctx, `INSERT INTO registry_buildings (area_id, estate, road, door_no, name, address, floors, units,
				created_at, updated_at) VALUES ($1, '邻里小区', $2, $3, $4, $5, 18, 2, $6, $6) RETURNING id`,
				g.ID, road, door, name, address, now).Scan(&bid); err != nil {
				return err
			}
			var vals []string
			var args []any
			for unit := 1; unit <= 2; unit++ {
				for floor := 1; floor <= 18; floor++ {
					for door := 1; door <= 4; door++ {
						number := fmt.Sprintf("%d%02d", floor, door)
						n := len(args)
						vals = append(vals, fmt.Sprintf("($%d, $%d, $%d, $%d, 'own', $%d)", n+1, n+2, n+3, n+4, n+5))
						args = append(args, bid, strconv.Itoa(unit), number, floor, now)
						rooms = append(rooms, benchRoom{address, strconv.Itoa(unit), number})
					}
				}
			}
			if _, err := q.ExecContext(ctx, "INSERT INTO registry_rooms (building_id, unit, number, floor, usage, created_at) VALUES "+
				strings.Join(vals, ", "), args...); err != nil {
				return err
			}
		}
		return nil
	})
	return rooms, err
}

// writeBenchFile writes n residents with the template's header: valid,
// unique, fictitious ID numbers, names, phones, rooms, some special groups.
func writeBenchFile(path, format string, n int, rooms []benchRoom) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	header := registry.ImportTemplateHeader()
	var w sheet.Writer
	if format == "xlsx" {
		w, err = sheet.NewXLSXWriter(bw, "居民", header)
	} else {
		w, err = sheet.NewCSVWriter(bw, header)
	}
	if err != nil {
		return err
	}
	rnd := mrand.New(mrand.NewPCG(2026, 11))
	// Not 370613: the demo register takes its numbers there.
	regions := []string{"370602", "370611", "370612", "370634", "370687", "370681", "370682", "370683", "370685", "370686"}
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭")
	given := []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰玉华建国志红梅凤海燕春林丹鹏辉波宁浩宇轩子涵欣怡梓萱浩然俊嘉琪雨桐")
	groups := []string{"独居老人", "空巢老人", "残疾人", "低保", "退役军人", "留守儿童"}
	used := make(map[uint64]struct{}, n)
	base := time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC).Sub(base).Hours() / 24)
	cells := make([]any, len(header))
	for i := 0; i < n; i++ {
		var id idcard.ID
		for {
			sex := idcard.Female
			if rnd.IntN(2) == 0 {
				sex = idcard.Male
			}
			id, err = idcard.Generate(rnd, regions[rnd.IntN(len(regions))], base.AddDate(0, 0, rnd.IntN(days)), sex)
			if err != nil {
				return err
			}
			k, _ := strconv.ParseUint(id.String()[:17], 10, 64)
			if _, dup := used[k]; !dup {
				used[k] = struct{}{}
				break
			}
		}
		name := string(surnames[rnd.IntN(len(surnames))]) + string(given[rnd.IntN(len(given))])
		if rnd.IntN(3) > 0 {
			name += string(given[rnd.IntN(len(given))])
		}
		phone := ""
		if rnd.IntN(10) < 8 {
			phone = fmt.Sprintf("1%d%d%08d", []int{3, 5, 8}[rnd.IntN(3)], rnd.IntN(10), rnd.IntN(100000000))
		}
		pop, role, group := "户籍", "居住", ""
		if rnd.IntN(10) == 0 {
			pop = "流动"
		}
		if i%3 == 0 {
			role = "产权人"
		}
		if rnd.IntN(100) < 8 {
			group = groups[rnd.IntN(len(groups))]
		}
		rm := rooms[(i/3)%len(rooms)]
		for k := range cells {
			cells[k] = ""
		}
		// 序号 姓名 证件号码 性别 出生日期 联系电话 人口类型 网格代码 楼栋地址 单元 户室号 房屋编号 人房关系 入住日期 与户主关系 特殊人群 关爱等级 备注
		cells[0], cells[1], cells[2], cells[5], cells[6] = strconv.Itoa(i+1), name, id.String(), phone, pop
		cells[8], cells[9], cells[10], cells[12], cells[15] = rm.address, rm.unit, rm.number, role, group
		if err := w.Write(cells); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// resetPeakRSS resets the kernel's peak resident size of this process
// (VmHWM), so that the next reading covers what follows only.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB reads VmHWM, in MB; 0 where /proc is not there.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// load1 is the 1-minute load average, to judge the figures by.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}
