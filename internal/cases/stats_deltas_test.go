package cases

import (
	"strings"
	"testing"
)

// The pending rows' text gives back exactly the deltas written, and a
// damaged row is refused rather than counted wrong.
func TestPendingDeltasRoundTrip(t *testing.T) {
	in := map[statKey]counters{
		{day: "2026-11-27", areaID: 17, unitID: 0, categoryID: 5}:  {reported: 3, accepted: 1},
		{day: "2026-11-26", areaID: 18, unitID: 4, categoryID: 0}:  {closed: 1, closedLate: 1, satisfied: -1},
		{day: "2026-11-26", areaID: 19, unitID: 4, categoryID: 12}: {},
	}
	got := map[statKey]counters{}
	if err := decodeDeltas(encodeDeltas(in), got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[statKey{"2026-11-27", 17, 0, 5}] != (counters{reported: 3, accepted: 1}) ||
		got[statKey{"2026-11-26", 18, 4, 0}] != (counters{closed: 1, closedLate: 1, satisfied: -1}) {
		t.Fatalf("decoded %v", got)
	}
	for _, bad := range []string{"2026-11-27 17 0 5 1\n", strings.Replace(encodeDeltas(in), " 1", " x", 1)} {
		if err := decodeDeltas(bad, map[statKey]counters{}); err == nil {
			t.Errorf("a damaged row was accepted: %q", bad)
		}
	}
}
