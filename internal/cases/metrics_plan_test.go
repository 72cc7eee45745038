package cases

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The overdue gauge's count reads only the partial index of overdue open
// cases, never the whole table: a scrape must cost the same with ten
// million closed cases as with none.
func TestOverdueCountUsesItsIndex(t *testing.T) {
	plan := dbtest.SQLitePlan(t, countOverdue)
	if !strings.Contains(plan, "USING COVERING INDEX cases_overdue_open") && !strings.Contains(plan, "USING INDEX cases_overdue_open") {
		t.Fatalf("the count does not read the partial index: %s", plan)
	}
}

// The duplicate search at intake seeks the cells around the point in the
// partial index of open cases, one seek per row of cells: never a scan of
// the category's cases across the city.
func TestDuplicateSearchSeeksItsCells(t *testing.T) {
	query, args := nearbyQuery(7, orb.Point{121.4305, 37.4805}, 100, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	plan := dbtest.SQLitePlan(t, query, args...)
	if got := strings.Count(plan, "USING INDEX cases_near (category_id=? AND near_cell>? AND near_cell<?)"); got != 3 {
		t.Fatalf("the duplicate search does not seek its 3 rows of cells in cases_near: %s", plan)
	}
}

// A point's cell lies in the range of its own row, and its neighbours'
// cells in the ranges around it.
func TestCellRangesCoverTheNeighbours(t *testing.T) {
	lat, lon := 37.4805, 121.4305
	ranges := cellRanges(lat, lon, 0.0009, 0.0018)
	in := func(c int64) bool {
		for _, r := range ranges {
			if c >= r[0] && c <= r[1] {
				return true
			}
		}
		return false
	}
	for _, d := range [][2]float64{{0, 0}, {0.0009, 0}, {-0.0009, 0}, {0, 0.0018}, {0, -0.0018}, {0.0008, -0.0017}} {
		if !in(nearCell(lat+d[0], lon+d[1])) {
			t.Errorf("the point %+v away is not in the ranges searched", d)
		}
	}
	if in(nearCell(lat+0.003, lon)) || in(nearCell(lat, lon+0.004)) {
		t.Error("the ranges reach cells far outside the box")
	}
}

// A hotline import finds the tickets stored before through an index, not
// by reading every case: cases_external, partial since 00023, or the
// unique index of tickets.
func TestKnownTicketsUseAnIndex(t *testing.T) {
	plan := dbtest.SQLitePlan(t, knownTicketsSQL([]string{"$2", "$3"}), "12345", "GD-1", "GD-2")
	if strings.Contains(plan, "SCAN cases") || !strings.Contains(plan, "USING") {
		t.Fatalf("the known tickets are not looked up in an index: %s", plan)
	}
}

// A report's insert and its duplicate search build no temporary table:
// SQLite makes one for every evaluation of "x NOT IN (...)", which the
// partial index on open cases once had in its condition, so every insert
// and every update of a case paid for one.
func TestReportBuildsNoTemporaryTable(t *testing.T) {
	nearby, args := nearbyQuery(7, orb.Point{121.4305, 37.4805}, 100, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	d := dbtest.Open(t, dbtest.Engines(t)[db.SQLite])
	for name, stmt := range map[string]struct {
		query string
		args  []any
	}{"insert": {insertCaseSQL, make([]any, 19)}, "duplicate search": {nearby, args},
		"update": {"UPDATE cases SET state = 'closed' WHERE id = 1", nil}} {
		rows, err := d.Q(t.Context()).QueryContext(t.Context(), "EXPLAIN "+stmt.query, stmt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for rows.Next() {
			var addr, p1, p2, p3, p5 int
			var opcode string
			var p4, comment any
			if err := rows.Scan(&addr, &opcode, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, opcode)
		}
		rows.Close()
		if len(ops) == 0 || slices.Contains(ops, "OpenEphemeral") {
			t.Errorf("the %s builds a temporary table: %v", name, ops)
		}
	}
}
