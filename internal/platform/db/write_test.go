package db_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

// Writes that keep a running total in db.Shared and store it before the
// commit: failures among them (run again or undone, depending on the
// engine and the group) leave the stored total equal to the rows, and
// every successful write's AfterCommit runs exactly once.
func TestSharedStateFollowsEachWritesFate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dbtest.Exec(t, d, "CREATE TABLE notes (n INTEGER PRIMARY KEY)")
		dbtest.Exec(t, d, "CREATE TABLE sums (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)")
		dbtest.Exec(t, d, "INSERT INTO sums (id, total) VALUES (1, 0)")
		type sum struct{ total int }
		var committed atomic.Int64
		var wg sync.WaitGroup
		for i := 1; i <= 150; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := d.Write(context.Background(), func(ctx context.Context) error {
					if _, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO notes (n) VALUES ($1)", i); err != nil {
						return err
					}
					v, _ := db.Shared(ctx, "sum", func() any {
						s := &sum{}
						db.BeforeCommit(ctx, func(ctx context.Context) error {
							_, err := d.Q(ctx).ExecContext(ctx, "UPDATE sums SET total = total + $1 WHERE id = 1", s.total)
							return err
						})
						return s
					})
					s := v.(*sum)
					s.total += i
					db.OnUndo(ctx, func() { s.total -= i })
					db.AfterCommit(ctx, func() { committed.Add(1) })
					if i%7 == 0 {
						return errors.New("refused after its work")
					}
					return nil
				})
				if (err != nil) != (i%7 == 0) {
					t.Errorf("write %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		rows, total := count(t, d, "SELECT COUNT(*) FROM notes"), count(t, d, "SELECT total FROM sums")
		if want := count(t, d, "SELECT COALESCE(SUM(n), 0) FROM notes"); total != want || rows != 150-150/7 {
			t.Fatalf("%d rows summing to %d, stored total %d", rows, want, total)
		}
		if committed.Load() != int64(rows) {
			t.Fatalf("AfterCommit ran %d times for %d committed writes", committed.Load(), rows)
		}
	})
}
