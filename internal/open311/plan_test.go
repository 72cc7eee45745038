package open311

import (
	"strings"
	"testing"

	"github.com/linli/linli/internal/platform/db/dbtest"
)

// The two lookups of open311_requests by a client's or a remote server's
// id read their partial indexes (00023), which hold only the requests that
// have such an id: a query that did not repeat the index's condition would
// read the whole table for every pulled or resent request.
func TestLookupsUseTheirPartialIndexes(t *testing.T) {
	for index, query := range map[string]string{
		"open311_requests_remote": countPulledSQL,
		"open311_requests_client": resentSQL,
	} {
		if plan := dbtest.SQLitePlan(t, query, "x", "y"); !strings.Contains(plan, "INDEX "+index) {
			t.Errorf("%s does not read %s: %s", query, index, plan)
		}
	}
}
