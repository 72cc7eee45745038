package cases_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York on hosts without tz data

	"github.com/linli/linli/internal/area"
	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/workcal"
)

const bostonFile = "../../../shared/data/boston/boston311_2015.csv.gz"

// replayRows is how much of Boston's year the test replays: enough for a
// few thousand moves across two weeks, few enough for every test run.
const replayRows = 2000

// replayer is the services a replay needs, on the real working calendar.
type replayer struct {
	svc   *cases.Service
	areas *area.Service
}

func newReplayer(t *testing.T, d *db.DB) replayer {
	t.Helper()
	log := audit.New(d, time.Now)
	box, _ := crypto.New(bytes.Repeat([]byte{7}, crypto.KeySize))
	accts := auth.NewService(d, log, time.Now)
	areas := area.NewService(d, log, accts, time.Now)
	svc := cases.NewService(d, log, box, areas, workcal.DefaultCalendar(), time.Now)
	if err := svc.EnsureCategories(context.Background()); err != nil {
		t.Fatal(err)
	}
	return replayer{svc, areas}
}

func (r replayer) replay(t *testing.T, in io.Reader, opt cases.ReplayOptions) (cases.ReplayReport, error) {
	t.Helper()
	if opt.Mapping.OpenedAt == "" {
		opt.Mapping = cases.BostonMapping()
	}
	opt.Areas = r.areas
	return r.svc.Replay(system, in, opt)
}

func openBoston(t *testing.T) io.Reader {
	t.Helper()
	f, err := os.Open(bostonFile)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is not here; the replay test needs the shared Boston data", bostonFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// bostonRow is what the test itself reads from the file, independently of
// the replay's mapping code.
type bostonRow struct {
	opened, due, closed time.Time
	status              string
}

func readBoston(t *testing.T, n int) map[string]bostonRow {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(openBoston(t))
	header, _ := cr.Read()
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	parse := func(s string) time.Time {
		v, _ := time.ParseInLocation("01/02/2006 03:04:05 PM", s, ny)
		return v
	}
	out := map[string]bostonRow{}
	for range n {
		rec, err := cr.Read()
		if err != nil {
			t.Fatal(err)
		}
		out[rec[col["CASE_ENQUIRY_ID"]]] = bostonRow{opened: parse(rec[col["OPEN_DT"]]), due: parse(rec[col["TARGET_DT"]]),
			closed: parse(rec[col["CLOSED_DT"]]), status: rec[col["OnTime_Status"]]}
	}
	return out
}

// The first rows of Boston's 2015 history go through the loop; Linli's
// on-time verdicts agree with the city's, the figures add up, the cases
// carry the data's times, and a second run adds nothing.
func TestReplayBoston(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		r := newReplayer(t, d)
		// Two workers on SQLite commit their batches together, each in a
		// savepoint; PostgreSQL runs one, as the command does.
		workers := 1
		if d.Kind == db.SQLite {
			workers = 2
		}
		rep, err := r.replay(t, openBoston(t), cases.ReplayOptions{Limit: replayRows, Batch: 100, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != replayRows || rep.Cases != replayRows || rep.Skipped != 0 || rep.Closed+rep.Open != rep.Cases {
			t.Fatalf("report: %+v", rep)
		}
		if rep.Compared < replayRows/3 || rep.Agreement() < 0.99 {
			t.Fatalf("on-time verdicts agree on %d of %d compared cases (%.4f), want ≥ 0.99; first differences: %+v",
				rep.Agree, rep.Compared, rep.Agreement(), rep.Disagreements)
		}
		k, err := r.svc.KPIs(system, cases.KPIQuery{AreaCode: cases.DefaultReplayDistrict})
		if err != nil {
			t.Fatal(err)
		}
		if k.Reported != int64(rep.Cases) || k.Accepted != k.Reported || k.Dispatched != k.Reported ||
			k.Closed != int64(rep.Closed) || k.OnTime != int64(rep.OnTime) {
			t.Fatalf("KPIs %+v do not match the report %+v", k, rep)
		}
		kept, rebuilt, err := cases.CompareStats(context.Background(), r.svc)
		if err != nil {
			t.Fatal(err)
		}
		if kept != rebuilt {
			t.Fatalf("the kept counters differ from a recomputation from the log:\nkept    %s\nrebuilt %s", kept, rebuilt)
		}
		checkReplayedCases(t, r.svc, readBoston(t, replayRows))

		again, err := r.replay(t, openBoston(t), cases.ReplayOptions{Limit: replayRows})
		if err != nil || again.Known != replayRows || again.Cases != 0 {
			t.Fatalf("a second replay of the same rows: %+v, %v", again, err)
		}
	})
}

// checkReplayedCases compares closed cases with the file: each was opened,
// due and closed when Boston says, and its verdict is closed <= due.
func checkReplayedCases(t *testing.T, svc *cases.Service, want map[string]bostonRow) {
	t.Helper()
	cs, err := svc.List(system, cases.ListQuery{States: []cases.State{cases.Closed}, Limit: 200})
	if err != nil || len(cs) == 0 {
		t.Fatalf("closed cases: %d, %v", len(cs), err)
	}
	for _, c := range cs {
		w, ok := want[c.ExternalID]
		if !ok {
			t.Fatalf("case %s has external id %q, not a row of the file", c.Number, c.ExternalID)
		}
		if !c.CreatedAt.Equal(w.opened) || c.ClosedAt == nil || (!c.ClosedAt.Equal(w.closed) && !c.ClosedAt.Equal(w.opened)) {
			t.Fatalf("case %s: opened %v closed %v, the file says %v and %v", c.ExternalID, c.CreatedAt, c.ClosedAt, w.opened, w.closed)
		}
		if w.due.IsZero() {
			if c.DueAt != nil || c.OnTime != nil {
				t.Fatalf("case %s has no target in the file but due %v, on time %v", c.ExternalID, c.DueAt, c.OnTime)
			}
			continue
		}
		if c.DueAt == nil || !c.DueAt.Equal(w.due) || c.OnTime == nil || *c.OnTime != !c.ClosedAt.After(w.due) {
			t.Fatalf("case %s: due %v on time %v; the file: due %v closed %v", c.ExternalID, c.DueAt, c.OnTime, w.due, w.closed)
		}
	}
	evs, err := svc.Timeline(system, cs[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, e := range evs {
		moves = append(moves, string(e.Action))
	}
	if got := strings.Join(moves, " "); got != "report accept dispatch receive feedback verify_pass" {
		t.Fatalf("a closed case's timeline: %s", got)
	}
}

// header is Boston's header cut to the mapped columns.
const header = "CASE_ENQUIRY_ID,OPEN_DT,TARGET_DT,CLOSED_DT,OnTime_Status,TYPE,Department,CASE_TITLE,Location,CLOSURE_REASON,LATITUDE,LONGITUDE\n"

// A file or a mapping the replay cannot use is refused before anything
// is written, with a message naming what is wrong.
func TestReplayRefusesBadInput(t *testing.T) {
	d := dbtest.Open(t, dbtest.Engines(t)[db.SQLite])
	r := newReplayer(t, d)
	_, err := r.replay(t, strings.NewReader("id,opened,kind\n1,2,3\n"), cases.ReplayOptions{})
	var ie *cases.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "OPEN_DT (opened_at)") || !strings.Contains(ie.Msg, "TYPE (category)") {
		t.Fatalf("a file without the columns: %v", err)
	}
	_, err = r.replay(t, strings.NewReader(""), cases.ReplayOptions{})
	if !errors.As(err, &ie) {
		t.Fatalf("an empty file: %v", err)
	}
	for _, bad := range []struct{ json, want string }{
		{`{"opened_at": "OPEN_DT", "category": "TYPE", "time_layouts": ["2006"], "colour": "x"}`, "colour"},
		{`{"category": "TYPE", "time_layouts": ["2006"]}`, `"opened_at"`},
		{`{"opened_at": "OPEN_DT", "category": "TYPE"}`, `"time_layouts"`},
		{`{"opened_at": "A", "category": "B", "time_layouts": ["2006"], "time_zone": "Mars/Olympus"}`, "Mars/Olympus"},
		{`{"opened_at": "A", "category": "B", "time_layouts": ["2006"], "lat": "Y"}`, `"lon"`},
		{`{"opened_at": "A", "category": "B", "time_layouts": ["2006"], "on_time": "S"}`, `"on_time_values"`},
		{`{"opened_at": "A", `, "JSON"},
	} {
		_, err := cases.ParseMapping(strings.NewReader(bad.json))
		if !errors.As(err, &ie) || !strings.Contains(ie.Msg, bad.want) {
			t.Errorf("mapping %s: %v, want an input error naming %s", bad.json, err, bad.want)
		}
	}
	rep, err := r.replay(t, strings.NewReader(header+"1,yesterday,,,,Graffiti,PWDx,,,,,\n"), cases.ReplayOptions{})
	if err != nil || rep.Skipped != 1 || rep.Cases != 0 {
		t.Fatalf("a file of bad rows: %+v, %v", rep, err)
	}
	cs, _ := r.svc.List(system, cases.ListQuery{})
	if len(cs) != 0 {
		t.Fatalf("refused input left %d cases", len(cs))
	}
	if _, err := r.areas.Get(system, cases.DefaultReplayDistrict); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("refused input created the replay's district: %v", err)
	}
	cats, _ := r.svc.Categories(system)
	for _, c := range cats {
		if strings.HasPrefix(c.Code, cases.ReplayCategory) {
			t.Fatalf("refused input created the category %s", c.Code)
		}
	}
	_, err = r.svc.Replay(context.Background(), strings.NewReader(header), cases.ReplayOptions{Mapping: cases.BostonMapping()})
	if errs.CodeOf(err) != errs.Unauthenticated {
		t.Fatalf("a replay without a principal: %v", err)
	}
}

// Rows with times that cannot be read are skipped, counted and reported
// with their line; the others are replayed.
func TestReplaySkipsBadRows(t *testing.T) {
	d := dbtest.Open(t, dbtest.Engines(t)[db.SQLite])
	r := newReplayer(t, d)
	file := header +
		"1,01/05/2015 12:40:41 PM,01/07/2015 12:00:00 PM,01/06/2015 01:46:56 PM,ONTIME,Graffiti,PWDx,Graffiti,1 Main St,Removed,42.35,-71.08\n" +
		"2,2015-01-05 12:40,,,ONTIME,Graffiti,PWDx,Graffiti,,,,\n" +
		"3,01/05/2015 01:00:00 PM,01/06/2015 01:00:00 PM,not a date,OVERDUE,Graffiti,PWDx,Graffiti,,,,\n" +
		"4,01/05/2015 02:00:00 PM,01/06/2015 01:00:00 PM,01/07/2015 09:00:00 AM,OVERDUE,Pothole,No Q,,,,42.3594,-71.0587\n" +
		"5,,,,,Graffiti,PWDx,,,,,\n" +
		"6,01/05/2015 02:00:00 PM,,01/05/2015 01:00:00 PM,ONTIME,Pothole,,,,,,\n"
	rep, err := r.replay(t, strings.NewReader(file), cases.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 6 || rep.Cases != 3 || rep.Skipped != 3 || len(rep.Problems) != 3 {
		t.Fatalf("report: %+v", rep)
	}
	for i, want := range []struct {
		line int
		text string
	}{{3, `"2015-01-05 12:40"`}, {4, "closed_at (CLOSED_DT)"}, {6, "opened_at (OPEN_DT)"}} {
		p := rep.Problems[i]
		if p.Line != want.line || !strings.Contains(p.Msg, want.text) || !strings.Contains(p.Msg, "skipped") {
			t.Errorf("problem %d: %s, want line %d naming %s", i, p, want.line, want.text)
		}
	}
	if rep.Compared != 2 || rep.Agree != 2 || rep.NoPoint != 2 || rep.ClosedEarly != 1 || rep.Closed != 3 || rep.Targeted != 2 {
		t.Fatalf("report: %+v", rep)
	}
}
