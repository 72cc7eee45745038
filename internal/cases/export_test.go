package cases

import (
	"context"
	"fmt"
	"sort"
	"strings"
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
