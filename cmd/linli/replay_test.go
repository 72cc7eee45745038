package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bostonCSV is a tiny export in Boston's layout: two closed cases with a
// target (one late), one still open, one closed without a target.
const bostonCSV = "CASE_ENQUIRY_ID,OPEN_DT,TARGET_DT,CLOSED_DT,OnTime_Status,TYPE,Department,CASE_TITLE,Location,CLOSURE_REASON,LATITUDE,LONGITUDE\n" +
	"101,01/05/2015 12:40:41 PM,01/07/2015 12:00:00 PM,01/06/2015 01:46:56 PM,ONTIME,Graffiti Removal,PWDx,Graffiti,1 Main St,Removed,42.35,-71.08\n" +
	"102,01/05/2015 02:00:00 PM,01/06/2015 01:00:00 PM,01/07/2015 09:00:00 AM,OVERDUE,Pothole,PWDx,,,,42.3594,-71.0587\n" +
	"103,01/06/2015 09:00:00 AM,01/20/2015 09:00:00 AM,,OVERDUE,Sign Repair,BTDT,,,,,\n" +
	"104,01/06/2015 10:00:00 AM,,01/08/2015 10:00:00 AM,ONTIME,Sign Repair,BTDT,,,,,\n"

func writeFile(t *testing.T, name, content string, gz bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	data := []byte(content)
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lastJSON decodes the output's last line, the figures for scripts.
func lastJSON(t *testing.T, r result) map[string]float64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var out map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil {
		t.Fatalf("the last line is not JSON: %q (%v)", lines[len(lines)-1], err)
	}
	return out
}

func TestReplayCommand(t *testing.T) {
	// A gzipped file is recognised by its first bytes, whatever its name.
	file := writeFile(t, "boston.csv", bostonCSV, true)
	dbFlag := "--db=sqlite:" + filepath.Join(t.TempDir(), "linli.db")
	r := linli(t, "", "replay", "--file", file, dbFlag)
	expect(t, r, exitOK, "按期结案率 / on-time rate", "2 of 2 = 100.00%")
	got := lastJSON(t, r)
	for k, want := range map[string]float64{"cases": 4, "closed": 3, "open": 1, "with_target": 2, "compared": 2,
		"ontime_agreement": 1, "skipped": 0} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (%v)", k, got[k], want, got)
		}
	}
	if got["seconds"] <= 0 || got["cases_per_sec"] <= 0 {
		t.Errorf("no timing: %v", got)
	}
	// A second run finds every case replayed already.
	r = linli(t, "", "replay", "--file", file, dbFlag)
	expect(t, r, exitOK)
	if got := lastJSON(t, r); got["cases"] != 0 || got["known"] != 4 {
		t.Errorf("the second run: %v", got)
	}
}

// Another city's export replays through a mapping file.
func TestReplayWithMapping(t *testing.T) {
	const nyc = "../../../shared/data/nyc/nyc311_2024-04-15_1000rows.csv.gz"
	if _, err := os.Stat(nyc); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is not here", nyc)
	}
	mapping := writeFile(t, "nyc.json", `{"name": "NYC 311", "time_zone": "America/New_York",
		"time_layouts": ["2006-01-02T15:04:05.000"], "external_id": "unique_key", "opened_at": "created_date",
		"due_at": "due_date", "closed_at": "closed_date", "category": "complaint_type", "unit": "agency",
		"description": "descriptor", "address": "incident_address", "note": "resolution_description",
		"lat": "latitude", "lon": "longitude"}`, false)
	dbFlag := "--db=sqlite:" + filepath.Join(t.TempDir(), "linli.db")
	r := linli(t, "", "replay", "--file", nyc, "--map", mapping, "--district", "990200", dbFlag)
	expect(t, r, exitOK, "NYC 311", "990200")
	if got := lastJSON(t, r); got["cases"] != 1000 || got["closed"] != 292 || got["skipped"] != 0 {
		t.Errorf("NYC: %v", got)
	}
}

// Mistakes on the command line or in the input are refused with exit code
// 2 and a message naming the mistake, before any database is created.
func TestReplayRefusals(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "never.db")
	dbFlag := "--db=sqlite:" + dbPath
	good := writeFile(t, "boston.csv", bostonCSV, false)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", nil, "--file is required"},
		{"missing file", []string{"--file", filepath.Join(dir, "nope.csv")}, "no such file"},
		{"bad district", []string{"--file", good, "--district", "99"}, "--district six digits"},
		{"missing map", []string{"--file", good, "--map", filepath.Join(dir, "nope.json")}, "--map"},
		{"broken map", []string{"--file", good, "--map", writeFile(t, "m.json", `{"opened_at": 1}`, false)}, "not valid JSON"},
		{"incomplete map", []string{"--file", good, "--map", writeFile(t, "m.json", `{"opened_at": "A"}`, false)}, `"category" 必填 / is required`},
	} {
		t.Run(c.name, func(t *testing.T) {
			expect(t, linli(t, "", append([]string{"replay", dbFlag}, c.args...)...), exitUsage, c.want)
		})
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused replay created the database: %v", err)
	}
	dbFlag = "--db=sqlite:" + filepath.Join(dir, "linli.db")
	noColumns := writeFile(t, "other.csv", "id,when,what\n1,2,3\n", false)
	expect(t, linli(t, "", "replay", dbFlag, "--file", noColumns), exitUsage, "OPEN_DT (opened_at)", "TYPE (category)")
	allBad := writeFile(t, "bad.csv", strings.ReplaceAll(bostonCSV, "/2015", "/15"), false)
	r := linli(t, "", "replay", dbFlag, "--file", allBad)
	expect(t, r, exitUsage, "no row could be replayed", "第 2 行 / line 2", "row skipped")
}
