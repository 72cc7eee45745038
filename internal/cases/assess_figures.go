package cases

import (
	"context"
	"strconv"
)

// CommunityKPIs returns the figures of each of the areas (by id) over the
// days from to to (YYYY-MM-DD, inclusive; "" for an open end), keyed by
// area id: what the assessment scorecard reads for each community of a
// street. It adds up each area's own rollup rows (see kpis.go), so it
// costs a few hundred rows per area and year whatever the number of
// cases. Areas without cases are absent. It checks no permission: the
// caller (the scorecard) has checked the caller's right to the street.
func (s *Service) CommunityKPIs(ctx context.Context, areaIDs []int64, from, to string) (map[int64]KPIs, error) {
	if err := s.store.flushStats(ctx); err != nil {
		return nil, err
	}
	sums, err := s.sumTotals(ctx, statSelection{q: KPIQuery{From: from, To: to}}, areaIDs, "area")
	if err != nil {
		return nil, err
	}
	out := make(map[int64]KPIs, len(sums))
	for _, g := range sums {
		id, err := strconv.ParseInt(g.key, 10, 64)
		if err != nil {
			return nil, err
		}
		out[id] = s.kpis(g.c)
	}
	return out, nil
}
