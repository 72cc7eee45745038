package cases

import (
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The overdue gauge's count reads only the partial index of overdue open
// cases, never the whole table: a scrape must cost the same with ten
// million closed cases as with none.
func TestOverdueCountUsesItsIndex(t *testing.T) {
	d := dbtest.Open(t, dbtest.Engines(t)[db.SQLite])
	rows, err := d.Q(t.Context()).QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+countOverdue)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "; ")
	}
	if !strings.Contains(plan.String(), "USING COVERING INDEX cases_overdue_open") && !strings.Contains(plan.String(), "USING INDEX cases_overdue_open") {
		t.Fatalf("the count does not read the partial index: %s", plan.String())
	}
}
