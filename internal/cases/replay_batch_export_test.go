package cases

import (
	"context"
	"fmt"
	"reflect"
	"time"
)

// ReportedCopyDiff reports nc as a replay batch does and returns how the
// copy of the new case the batch keeps (noteReported) differs from the
// case read back in the same transaction ("" when they are the same).
func ReportedCopyDiff(ctx context.Context, s *Service, nc NewCase) (string, error) {
	var diff string
	err := s.db.Write(ctx, func(ctx context.Context) error {
		ctx = withBatchRefs(ctx)
		if _, err := s.batchArea(ctx, nc.AreaCode); err != nil {
			return err
		}
		rc, err := s.Report(ctx, nc)
		if err != nil {
			return err
		}
		b := batchRefsOf(ctx)
		if b.reported == nil {
			diff = "no copy kept"
			return nil
		}
		read, err := s.store.byNumber(ctx, rc.Number)
		if err != nil {
			return err
		}
		kept := *b.reported
		for _, p := range [][2]*time.Time{{&kept.CreatedAt, &read.CreatedAt}, {&kept.UpdatedAt, &read.UpdatedAt}} {
			if !p[0].Equal(*p[1]) {
				diff += fmt.Sprintf("time %v ≠ %v; ", *p[0], *p[1])
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
		if !reflect.DeepEqual(kept, read) {
			diff += fmt.Sprintf("kept %+v\nread %+v", kept, read)
		}
		return nil
	})
	return diff, err
}
