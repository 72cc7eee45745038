package sheet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks write and read a register of a million rows × 10
// columns, the largest import Linli expects, and report rows per second
// and the peak heap in use. Run them once:
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/platform/sheet/
const benchRows = 1_000_000

var benchHeader = []string{"序号", "姓名", "身份证号", "电话", "地址", "类别", "登记时间", "状态", "面积", "备注"}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"}
	streets  = []string{"幸福路", "和平街", "长江路", "解放大街", "青年路", "建设路"}
	kinds    = []string{"户籍人口", "流动人口", "境外人员", "留守老人", "残疾人"}
	states   = []string{"在住", "外出", "迁出"}
)

// benchRow fills cells with the i-th fictitious resident.
func benchRow(r *rand.Rand, i int, cells []any) {
	cells[0] = i + 1
	cells[1] = surnames[r.IntN(len(surnames))] + given[r.IntN(len(given))] + given[r.IntN(len(given))]
	cells[2] = fmt.Sprintf("3706021%010d", r.Int64N(1e10)) + "X"
	cells[3] = "13" + strconv.Itoa(100000000+r.IntN(900000000))
	cells[4] = fmt.Sprintf("%s%d号%d单元%d室", streets[r.IntN(len(streets))], r.IntN(300)+1, r.IntN(6)+1, r.IntN(2000)+101)
	cells[5] = kinds[r.IntN(len(kinds))]
	cells[6] = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(5*365*24)) * time.Hour)
	cells[7] = states[r.IntN(len(states))]
	cells[8] = float64(r.IntN(20000)) / 100
	cells[9] = "网格员走访登记"
}

// peakHeap samples HeapInuse until stop is called, which returns the
// highest value seen in MB.
func peakHeap() (stop func() float64) {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peak.Load() {
			peak.Store(m.HeapInuse)
		}
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		sample()
		return float64(peak.Load()) / (1 << 20)
	}
}

func writeBench(b *testing.B, path string, open func(io.Writer) (Writer, error)) {
	writeBenchN(b, path, benchRows, open)
}

func writeBenchN(b *testing.B, path string, rows int, open func(io.Writer) (Writer, error)) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := open(bw)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	cells := make([]any, len(benchHeader))
	for i := range rows {
		benchRow(r, i, cells)
		if err := w.Write(cells); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
}

func readBench(b *testing.B, path string) {
	r, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(row.Cells) != len(benchHeader) {
			b.Fatalf("row %d has %d cells", row.Line, len(row.Cells))
		}
		n++
	}
	if n != benchRows {
		b.Fatalf("read %d rows, wrote %d", n, benchRows)
	}
}

// measure runs one phase and reports its speed and peak heap.
func measure(b *testing.B, name string, phase func()) {
	stop := peakHeap()
	start := time.Now()
	phase()
	elapsed := time.Since(start)
	peak := stop()
	b.ReportMetric(benchRows/elapsed.Seconds(), name+"-rows/s")
	b.ReportMetric(peak, name+"-peak-heap-MB")
}

func benchFormat(b *testing.B, ext string, open func(io.Writer) (Writer, error)) {
	path := filepath.Join(b.TempDir(), "register."+ext)
	for b.Loop() {
		measure(b, "write", func() { writeBench(b, path, open) })
		measure(b, "read", func() { readBench(b, path) })
	}
	if ext == "xlsx" {
		reportXLSXSize(b, path)
	} else if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}

func BenchmarkXLSX(b *testing.B) {
	benchFormat(b, "xlsx", func(w io.Writer) (Writer, error) { return NewXLSXWriter(w, "居民", benchHeader) })
}

func BenchmarkCSV(b *testing.B) {
	benchFormat(b, "csv", func(w io.Writer) (Writer, error) { return NewCSVWriter(w, benchHeader) })
}
