package cases

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
)

// Replay (历史回放) feeds a city's historic 311 export through the closed
// loop in simulated time. Every row becomes a case reported at its opening
// time, accepted, dispatched with the city's own target as its deadline and
// received at once, then given feedback and verified at its closing time.
// The on-time verdict is therefore Linli's own (closed_at <= due_at), and
// comparing it with the city's verdict checks the loop against reality.

// Mapping says which column of an export holds each field a replayed case
// needs. Keys are Linli's fields, values are column names of the CSV
// header, matched exactly or else ignoring case. docs/replay.md documents
// every key; BostonMapping is a complete example.
type Mapping struct {
	Name        string   `json:"name"`         // the export, in messages and the area tree's name
	TimeZone    string   `json:"time_zone"`    // IANA zone of times without an offset; default UTC
	TimeLayouts []string `json:"time_layouts"` // Go layouts, tried in order
	ExternalID  string   `json:"external_id"`  // the city's case id: a second replay skips known ids
	OpenedAt    string   `json:"opened_at"`    // required: when the case was opened
	DueAt       string   `json:"due_at"`       // the city's target; empty cells: no deadline
	ClosedAt    string   `json:"closed_at"`    // empty cells: the case is still open
	Category    string   `json:"category"`     // required: the case type, one replay category each
	Unit        string   `json:"unit"`         // the department, one handling unit each
	Description string   `json:"description"`  // default: the category
	Address     string   `json:"address"`
	Note        string   `json:"note"` // the closing remark
	Lat         string   `json:"lat"`
	Lon         string   `json:"lon"`
	// UnknownLocation is the [lat, lon] a city writes when it does not know
	// where a case is (Boston: City Hall); it is replayed without a point.
	UnknownLocation []float64 `json:"unknown_location"`
	// OnTime holds the city's verdict; OnTimeValues reads it (value → on
	// time). Other values, empty ones included, are no verdict.
	OnTime       string          `json:"on_time"`
	OnTimeValues map[string]bool `json:"on_time_values"`
}

// BostonMapping reads Boston's 311 export (Analyze Boston, 2015 layout).
func BostonMapping() Mapping {
	return Mapping{
		Name: "Boston 311", TimeZone: "America/New_York", TimeLayouts: []string{"01/02/2006 03:04:05 PM"},
		ExternalID: "CASE_ENQUIRY_ID", OpenedAt: "OPEN_DT", DueAt: "TARGET_DT", ClosedAt: "CLOSED_DT",
		Category: "TYPE", Unit: "Department", Description: "CASE_TITLE", Address: "Location", Note: "CLOSURE_REASON",
		Lat: "LATITUDE", Lon: "LONGITUDE", UnknownLocation: []float64{42.3594, -71.0587},
		OnTime: "OnTime_Status", OnTimeValues: map[string]bool{"ONTIME": true, "OVERDUE": false},
	}
}

// InputError is a fault in the file or the mapping given to Replay. Replay
// is a command-line tool, so the message is written in Chinese and English
// like the command line's own, not looked up in the web catalog.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// ParseMapping reads a mapping file. Unknown keys are refused so that a
// misspelt key does not silently drop a column.
func ParseMapping(r io.Reader) (Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Mapping{}, inputErr("映射文件无法读取 / the mapping is not valid JSON for a mapping: %v", err)
	}
	if _, err := m.location(); err != nil {
		return Mapping{}, err
	}
	return m, nil
}

// field is one mapped field: its key, the column it reads, and whether the
// replay cannot do without it.
type field struct {
	key, column string
	required    bool
}

func (m Mapping) fields() []field {
	return []field{{"external_id", m.ExternalID, false}, {"opened_at", m.OpenedAt, true}, {"due_at", m.DueAt, false},
		{"closed_at", m.ClosedAt, false}, {"category", m.Category, true}, {"unit", m.Unit, false},
		{"description", m.Description, false}, {"address", m.Address, false}, {"note", m.Note, false},
		{"lat", m.Lat, false}, {"lon", m.Lon, false}, {"on_time", m.OnTime, false}}
}

// location checks the mapping itself and returns its time zone.
func (m Mapping) location() (*time.Location, error) {
	var bad []string
	for _, f := range m.fields() {
		if f.required && f.column == "" {
			bad = append(bad, fmt.Sprintf("%q 必填 / is required", f.key))
		}
	}
	if len(m.TimeLayouts) == 0 {
		bad = append(bad, `"time_layouts" 至少一个 / needs at least one Go layout, e.g. "01/02/2006 03:04:05 PM"`)
	}
	if (m.Lat == "") != (m.Lon == "") {
		bad = append(bad, `"lat" 和 "lon" 须同时给出 / "lat" and "lon" go together`)
	}
	if m.UnknownLocation != nil && len(m.UnknownLocation) != 2 {
		bad = append(bad, `"unknown_location" 应为 [lat, lon] / must be [lat, lon]`)
	}
	if m.OnTime != "" && len(m.OnTimeValues) == 0 {
		bad = append(bad, `"on_time" 需要 "on_time_values" / needs "on_time_values", e.g. {"ONTIME": true, "OVERDUE": false}`)
	}
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		bad = append(bad, fmt.Sprintf(`"time_zone" %q 未知 / is not a known IANA zone`, m.TimeZone))
	}
	if len(bad) > 0 {
		return nil, inputErr("映射有误 / the mapping is wrong: %s", strings.Join(bad, "; "))
	}
	return loc, nil
}

// ReplayOptions configure Replay.
type ReplayOptions struct {
	Mapping Mapping
	// District is the code of the area tree the cases are filed under:
	// the district, its street District+"001" and its community
	// District+"001001". Default 990100; give each city its own.
	District string
	// Areas creates the tree when it is missing; nil means it must exist.
	Areas AreaCreator
	Limit int // data rows to read; 0 for all
	// Batch is how many cases share a transaction (default 2000: the
	// rows of counters, roll-ups and index pages a batch changes are written
	// and synced once per commit, and 2000 cases' pages fit the writer's
	// cache; 500 took 5 % more CPU on Boston's year), Workers
	// how many transactions run at once (default 1). One is best on SQLite,
	// whose single writer runs them one after the other anyway: two batches
	// committed together each run in a savepoint, and SQLite's statement
	// journal then grows with the batch and slows every statement. On
	// PostgreSQL more workers run in parallel, but batches that add to the
	// same day's counters in another order can deadlock and are retried.
	Batch, Workers int
	// Progress, when set, is called every ProgressEvery (default 2 s) from
	// another goroutine with the figures so far.
	Progress      func(ReplayReport)
	ProgressEvery time.Duration
}

// AreaCreator makes areas: the area module's Create.
type AreaCreator interface {
	Create(ctx context.Context, na area.NewArea) (area.Area, error)
}

// DefaultReplayBatch is how many replayed cases share a transaction.
const DefaultReplayBatch = 2000

// DefaultReplayDistrict is the district code of a replay's area tree. 99 is
// no province's code, so it never clashes with a real division.
const DefaultReplayDistrict = "990100"

// ReplayReport is what a replay did.
type ReplayReport struct {
	Rows     int `json:"rows"`     // data rows read
	Cases    int `json:"cases"`    // cases created
	Known    int `json:"known"`    // rows whose external id was replayed before: skipped
	Skipped  int `json:"skipped"`  // rows refused (see Problems)
	Closed   int `json:"closed"`   // cases closed
	Open     int `json:"open"`     // cases left open, as in the data
	NoPoint  int `json:"no_point"` // cases without a usable location
	Targeted int `json:"with_target"`
	// Compared closed cases with a target have a verdict from the city too;
	// Agree of them got the same verdict from Linli.
	Compared, Agree int
	// NoVerdict closed cases with a target carry no verdict from the city.
	NoVerdict int `json:"no_city_verdict"`
	// OnTime of the Targeted cases Linli found closed on time.
	OnTime int `json:"on_time"`
	// ClosedEarly cases closed before they opened: closed at opening instead.
	ClosedEarly   int            `json:"closed_before_opened"`
	Problems      []RowProblem   `json:"-"` // the first few refused rows
	Disagreements []Disagreement `json:"-"` // the first few differing verdicts
	Elapsed       time.Duration  `json:"-"`
}

// Agreement is the share of compared cases where Linli's on-time verdict
// is the city's.
func (r ReplayReport) Agreement() float64 {
	if r.Compared == 0 {
		return 0
	}
	return float64(r.Agree) / float64(r.Compared)
}

// RowProblem is a refused row.
type RowProblem struct {
	Line int // line of the file, the header being line 1
	Msg  string
}

func (p RowProblem) String() string {
	return fmt.Sprintf("第 %d 行 / line %d: %s", p.Line, p.Line, p.Msg)
}

// Disagreement is a closed case whose verdicts differ.
type Disagreement struct {
	Line                  int
	ExternalID            string
	Opened, Due, Closed   time.Time
	CityOnTime, OurOnTime bool
}

// keep caps the lists of problems and disagreements a report carries.
const keep = 20

// Replay reads a CSV export from r and replays every row. Only a global
// administrator (or the command line's system principal) may replay. An
// *InputError means the file or the mapping is wrong and nothing was
// replayed; rows that cannot be read are skipped and listed in the report.
// A failing write stops the replay: the cases committed so far stay, and a
// second run skips them by their external id.
func (s *Service) Replay(ctx context.Context, r io.Reader, opt ReplayOptions) (ReplayReport, error) {
	start := time.Now()
	if err := auth.From(ctx).Require(auth.AreaManage, ""); err != nil {
		return ReplayReport{}, err
	}
	loc, err := opt.Mapping.location()
	if err != nil {
		return ReplayReport{}, err
	}
	rd, err := newRowReader(r, opt.Mapping, loc)
	if err != nil {
		return ReplayReport{}, err
	}
	opt = replayDefaults(opt)
	ctx = AsSystem(ctx)
	// A replay is history: its moves reach no inbox and no webhook.
	quiet := *s
	quiet.Notify = nil
	refs, err := quiet.loadReplayRefs(ctx, opt)
	if err != nil {
		return ReplayReport{}, err
	}
	run := &replayRun{svc: &quiet, opt: opt, refs: refs, rd: rd, start: start}
	err = run.run(ctx)
	return run.snapshot(), err
}

func replayDefaults(opt ReplayOptions) ReplayOptions {
	if opt.District == "" {
		opt.District = DefaultReplayDistrict
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultReplayBatch
	}
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 2 * time.Second
	}
	return opt
}

// replayRun is one replay in progress: a reader turning rows into cases to
// file, and workers filing them a batch per transaction.
type replayRun struct {
	svc  *Service
	opt  ReplayOptions
	refs *replayRefs
	rd   *rowReader

	start time.Time
	mu    sync.Mutex
	rep   ReplayReport
}

func (run *replayRun) snapshot() ReplayReport {
	run.mu.Lock()
	defer run.mu.Unlock()
	rep := run.rep
	rep.Problems = append([]RowProblem(nil), rep.Problems...)
	rep.Disagreements = append([]Disagreement(nil), rep.Disagreements...)
	rep.Elapsed = time.Since(run.start)
	return rep
}

func (run *replayRun) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []replayRow, run.opt.Workers)
	var wg sync.WaitGroup
	for w := range run.opt.Workers {
		// Each worker writes its own audit chain: on PostgreSQL one shared
		// chain head would serialise the workers' transactions.
		wctx := audit.WithActor(ctx, audit.Actor{Name: "system:replay",
			RequestID: fmt.Sprintf("replay-%d-%d", time.Now().Unix(), w)})
		wg.Go(func() {
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain: the replay is stopping
				}
				if err := run.file(wctx, b); err != nil {
					cancel(err)
				}
			}
		})
	}
	stop := run.reportProgress()
	err := run.read(ctx, batches)
	close(batches)
	wg.Wait()
	stop()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// reportProgress calls the Progress hook until the returned stop is called.
func (run *replayRun) reportProgress() (stop func()) {
	if run.opt.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(run.opt.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				run.opt.Progress(run.snapshot())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// read turns rows into batches, resolving each row's category and unit
// (creating them when new) before its batch goes to the workers.
func (run *replayRun) read(ctx context.Context, out chan<- []replayRow) error {
	batch := make([]replayRow, 0, run.opt.Batch)
	for rows := 0; run.opt.Limit == 0 || rows < run.opt.Limit; rows++ {
		row, err := run.rd.next()
		if err == io.EOF {
			break
		}
		run.count(func(r *ReplayReport) { r.Rows++ })
		var prob *RowProblem
		if errors.As(err, &prob) {
			run.count(func(r *ReplayReport) { r.Skipped++; r.Problems = appendCapped(r.Problems, *prob) })
			continue
		}
		if err != nil {
			return err
		}
		if run.refs.known(row.nc.ExternalID) {
			run.count(func(r *ReplayReport) { r.Known++ })
			continue
		}
		if err := run.refs.resolve(ctx, run.svc, &row); err != nil {
			return err
		}
		if batch = append(batch, row); len(batch) == run.opt.Batch {
			if !send(ctx, out, batch) {
				return nil
			}
			batch = make([]replayRow, 0, run.opt.Batch)
		}
	}
	if len(batch) > 0 {
		send(ctx, out, batch)
	}
	return nil
}

func send(ctx context.Context, out chan<- []replayRow, b []replayRow) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

func appendCapped[T any](xs []T, x T) []T {
	if len(xs) < keep {
		xs = append(xs, x)
	}
	return xs
}

func (run *replayRun) count(f func(r *ReplayReport)) {
	run.mu.Lock()
	f(&run.rep)
	run.mu.Unlock()
}

// file replays a batch in one transaction: the Report and Act calls join
// it, so a batch costs one commit instead of six per case. The figures are
// counted afresh on every attempt (PostgreSQL retries a transaction that
// lost a race) and added once it committed.
func (run *replayRun) file(ctx context.Context, batch []replayRow) error {
	var got ReplayReport
	err := run.svc.db.Write(ctx, func(ctx context.Context) error {
		got = ReplayReport{}
		ctx = withBatchRefs(ctx)
		for i := range batch {
			if err := run.svc.replayCase(ctx, &batch[i], run.refs.community, &got); err != nil {
				return fmt.Errorf("第 %d 行 / line %d: %w", batch[i].line, batch[i].line, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	run.count(func(r *ReplayReport) { r.add(got) })
	return nil
}

func (r *ReplayReport) add(o ReplayReport) {
	r.Cases += o.Cases
	r.Closed += o.Closed
	r.Open += o.Open
	r.NoPoint += o.NoPoint
	r.Targeted += o.Targeted
	r.Compared += o.Compared
	r.Agree += o.Agree
	r.OnTime += o.OnTime
	r.NoVerdict += o.NoVerdict
	r.ClosedEarly += o.ClosedEarly
	for _, d := range o.Disagreements {
		r.Disagreements = appendCapped(r.Disagreements, d)
	}
}

// replayCase takes one row through the loop. The report, acceptance and
// dispatch happen at the opening time, and the department receives the
// case at once (Boston records no receipt); the feedback and verification
// happen at the closing time. Every move is the loop's own; only the times
// are the data's.
func (s *Service) replayCase(ctx context.Context, row *replayRow, community string, got *ReplayReport) error {
	nc := row.nc
	nc.Channel, nc.AreaCode = ChannelReplay, community
	rc, err := s.Report(ctx, nc)
	if err != nil {
		return err
	}
	opened := row.nc.At
	moves := []Request{{Action: ActAccept, At: opened}, {Action: ActDispatch, Unit: row.unit, Due: row.due, At: opened},
		{Action: ActReceive, At: opened}}
	if row.closed != nil {
		moves = append(moves, Request{Action: ActFeedback, Note: row.note, At: *row.closed},
			Request{Action: ActVerifyPass, At: *row.closed})
	}
	// The case Report has just filed, as a read would return it (see
	// noteReported); ActAll reads it itself when there is none.
	load := func(ctx context.Context) (Case, error) { return s.store.byNumber(ctx, rc.Number) }
	if b := batchRefsOf(ctx); b != nil && b.reported != nil && b.reported.Number == rc.Number {
		fresh := *b.reported
		load = func(context.Context) (Case, error) { return fresh, nil }
		b.jobless = fresh.ID
		defer func() { b.jobless = 0 }()
	}
	c, err := s.actAllOn(ctx, load, moves)
	if err != nil {
		return fmt.Errorf("replaying %s: %w", rc.Number, err)
	}
	got.Cases++
	if nc.Point == nil {
		got.NoPoint++
	}
	if row.closed == nil {
		got.Open++
		return nil
	}
	got.Closed++
	if row.closedEarly {
		got.ClosedEarly++
	}
	if row.due == nil {
		return nil
	}
	got.Targeted++
	if c.OnTime != nil && *c.OnTime {
		got.OnTime++
	}
	if row.city == nil || c.OnTime == nil {
		got.NoVerdict++
		return nil
	}
	got.Compared++
	if *row.city == *c.OnTime {
		got.Agree++
		return nil
	}
	got.Disagreements = appendCapped(got.Disagreements, Disagreement{Line: row.line, ExternalID: nc.ExternalID,
		Opened: opened, Due: *row.due, Closed: *row.closed, CityOnTime: *row.city, OurOnTime: *c.OnTime})
	return nil
}

// replayRow is a row ready to replay. nc.Category holds the category's
// code once resolved; rawCategory and rawUnit are the export's values.
type replayRow struct {
	line        int
	nc          NewCase
	rawCategory string
	rawUnit     string
	unit        string
	due, closed *time.Time
	closedEarly bool
	note        string
	city        *bool // the city's verdict
}

// rowReader reads rows of an export through a mapping.
type rowReader struct {
	cr  *csv.Reader
	m   Mapping
	loc *time.Location
	col map[string]int // field key → column index
}

func newRowReader(r io.Reader, m Mapping, loc *time.Location) (*rowReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short row lacks its last cells; the cells say what is missing
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, inputErr("文件是空的 / the file is empty: no header row")
	}
	if err != nil {
		return nil, inputErr("表头无法读取 / cannot read the header row: %v", err)
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	col, err := bind(m, header)
	if err != nil {
		return nil, err
	}
	return &rowReader{cr: cr, m: m, loc: loc, col: col}, nil
}

// bind finds each mapped column in the header, naming every one missing.
func bind(m Mapping, header []string) (map[string]int, error) {
	col := map[string]int{}
	var missing []string
	for _, f := range m.fields() {
		if f.column == "" {
			continue
		}
		i := columnIndex(header, f.column)
		if i < 0 {
			missing = append(missing, fmt.Sprintf("%s (%s)", f.column, f.key))
			continue
		}
		col[f.key] = i
	}
	if len(missing) > 0 {
		return nil, inputErr("缺少列 / the file lacks the columns %s; its header has: %s",
			strings.Join(missing, ", "), strings.Join(header, ", "))
	}
	return col, nil
}

func columnIndex(header []string, name string) int {
	for i, h := range header {
		if strings.TrimSpace(h) == name {
			return i
		}
	}
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

// next returns the next row, a *RowProblem for a row it cannot replay, or
// io.EOF.
func (rd *rowReader) next() (replayRow, error) {
	rec, err := rd.cr.Read()
	if err == io.EOF {
		return replayRow{}, io.EOF
	}
	line, _ := rd.cr.FieldPos(0)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return replayRow{}, &RowProblem{Line: pe.StartLine, Msg: pe.Err.Error()}
		}
		return replayRow{}, err
	}
	get := func(key string) string {
		if i, ok := rd.col[key]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	return rd.parse(line, get)
}

func (rd *rowReader) parse(line int, get func(string) string) (replayRow, error) {
	row := replayRow{line: line, rawCategory: get("category"), rawUnit: get("unit")}
	bad := func(key, format string, args ...any) (replayRow, error) {
		return replayRow{}, &RowProblem{Line: line, Msg: fmt.Sprintf("%s (%s): ", key, rd.columnOf(key)) + fmt.Sprintf(format, args...)}
	}
	opened, ok, err := rd.time(get("opened_at"))
	if err != nil || !ok {
		if !ok && err == nil {
			return bad("opened_at", "空 / empty: a case needs its opening time; row skipped")
		}
		return bad("opened_at", "%v; row skipped", err)
	}
	due, hasDue, err := rd.time(get("due_at"))
	if err != nil {
		return bad("due_at", "%v; row skipped", err)
	}
	closed, hasClosed, err := rd.time(get("closed_at"))
	if err != nil {
		return bad("closed_at", "%v; row skipped", err)
	}
	if row.rawCategory == "" {
		row.rawCategory = "(无类型 / no type)"
	}
	if hasDue {
		row.due = &due
	}
	if hasClosed {
		if closed.Before(opened) {
			closed, row.closedEarly = opened, true
		}
		row.closed = &closed
	}
	if v, ok := rd.m.OnTimeValues[get("on_time")]; ok && rd.m.OnTime != "" {
		row.city = &v
	}
	row.note = clip(get("note"), MaxDescription)
	if row.note == "" {
		row.note = "结案 / closed"
	}
	row.nc = NewCase{At: opened, ExternalID: get("external_id"), Address: clip(get("address"), 200),
		Description: clip(get("description"), MaxDescription), Point: rd.point(get("lat"), get("lon"))}
	if row.nc.Description == "" {
		row.nc.Description = clip(row.rawCategory, MaxDescription)
	}
	return row, nil
}

func (rd *rowReader) columnOf(key string) string {
	for _, f := range rd.m.fields() {
		if f.key == key {
			return f.column
		}
	}
	return ""
}

// time parses a cell in the mapping's zone; ok is false for an empty cell.
func (rd *rowReader) time(cell string) (t time.Time, ok bool, err error) {
	if cell == "" {
		return time.Time{}, false, nil
	}
	for _, layout := range rd.m.TimeLayouts {
		if t, err := time.ParseInLocation(layout, cell, rd.loc); err == nil {
			return t.UTC(), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("无法识别的时间 / cannot read %q as %s", cell, strings.Join(rd.m.TimeLayouts, " or "))
}

// point is the case's location, or nil when the cells are empty, not
// numbers, out of range, (0, 0), or the city's "location unknown" point.
func (rd *rowReader) point(lat, lon string) *orb.Point {
	y, err1 := strconv.ParseFloat(lat, 64)
	x, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil || !(math.Abs(y) <= 90) || !(math.Abs(x) <= 180) || (x == 0 && y == 0) { // NaN is not within
		return nil
	}
	if u := rd.m.UnknownLocation; len(u) == 2 && math.Abs(y-u[0]) < 1e-6 && math.Abs(x-u[1]) < 1e-6 {
		return nil
	}
	return &orb.Point{x, y}
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Error makes a row problem an error, so that next can return it as one.
func (p *RowProblem) Error() string { return p.String() }
