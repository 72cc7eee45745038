package cases

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// CompareStats renders the kept counters and a recomputation from the log
// in one canonical text each, for tests to compare.
func CompareStats(ctx context.Context, s *Service) (kept, rebuilt string, err error) {
	a, err := s.storedStats(ctx)
	if err != nil {
		return "", "", err
	}
	b, err := s.Recompute(ctx)
	if err != nil {
		return "", "", err
	}
	return render(a), render(b), nil
}

func render(m map[statKey]counters) string {
	var lines []string
	for k, c := range m {
		lines = append(lines, fmt.Sprintf("%s/%d/%d/%d=%v", k.day, k.areaID, k.unitID, k.categoryID, c.values()))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// PendingStats counts the transactions whose counters are not yet added
// into case_stats and case_stats_rollup.
func PendingStats(ctx context.Context, s *Service) (int, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM case_stats_pending").Scan(&n)
	return n, err
}

// FlushStats adds the pending counters in, as the job and every reading do.
func FlushStats(ctx context.Context, s *Service) error { return s.store.flushStats(ctx) }

// NearMapLoaded reports whether the duplicate search answers from memory.
func (s *Service) NearMapLoaded() bool {
	_, ok := s.store.near.search(0, orb.Point{}, 1, time.Time{})
	return ok
}
