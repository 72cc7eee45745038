package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/db/dbtest"
)

func fill(t *testing.T, d *db.DB, log *audit.Log, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "wang", IP: "10.0.0.1", RequestID: fmt.Sprint("req-", i)})
			if err := log.Record(ctx, audit.Entry{Action: "user.login", TargetType: "user", TargetID: "7"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// tamper edits the log behind its back, as someone with the file would.
func tamper(t *testing.T, d *db.DB, q string, args ...any) {
	t.Helper()
	dbtest.Exec(t, d, q, args...)
}

func TestVerifyFindsTheFirstEditedRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := audit.New(d, nil)
		fill(t, d, log, 60)
		rep, err := log.Verify(context.Background())
		if err != nil || rep.Break != nil || rep.Rows != 60 {
			t.Fatalf("fresh log: %+v, %v", rep, err)
		}
		tamper(t, d, "UPDATE audit_log SET outcome = 'denied' WHERE id = 40")
		tamper(t, d, "UPDATE audit_log SET actor = 'li' WHERE id = 17")
		rep, _ = log.Verify(context.Background())
		if rep.Break == nil || rep.Break.ID != 17 || rep.Break.Reason != "hash" {
			t.Fatalf("after editing rows 17 and 40: %+v", rep.Break)
		}
	})
}

func TestVerifyFindsRemovedRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := audit.New(d, nil)
		fill(t, d, log, 30)
		var chain, seq int64
		d.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT chain, MAX(seq) FROM audit_log GROUP BY chain ORDER BY MAX(seq) DESC LIMIT 1").Scan(&chain, &seq)
		// Cut the last row off a chain: only the head notices.
		tamper(t, d, "DELETE FROM audit_log WHERE chain = $1 AND seq = $2", chain, seq)
		rep, _ := log.Verify(context.Background())
		if rep.Break == nil || rep.Break.Reason != "truncated" || rep.Break.Chain != int(chain) {
			t.Fatalf("after cutting chain %d: %+v", chain, rep.Break)
		}
		// Remove a row from the middle: the next row's seq shows the gap.
		var next int64
		d.Q(context.Background()).QueryRowContext(context.Background(),
			"SELECT id FROM audit_log WHERE chain = $1 AND seq = 2", chain).Scan(&next)
		tamper(t, d, "DELETE FROM audit_log WHERE chain = $1 AND seq = 1", chain)
		rep, _ = log.Verify(context.Background())
		if rep.Break == nil || rep.Break.Reason != "gap" || rep.Break.ID != next {
			t.Fatalf("after removing seq 1 of chain %d: %+v, want gap at row %d", chain, rep.Break, next)
		}
	})
}

// An audit row written in a transaction that fails disappears with it.
func TestAuditRowSharesTheTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := audit.New(d, nil)
		err := d.Write(context.Background(), func(ctx context.Context) error {
			if err := log.Record(ctx, audit.Entry{Action: "user.create"}); err != nil {
				return err
			}
			return fmt.Errorf("the change itself failed")
		})
		if err == nil {
			t.Fatal("want the failure")
		}
		rep, err := log.Verify(context.Background())
		if err != nil || rep.Rows != 0 || rep.Break != nil {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}

// Writes that share a commit (SQLite's group commit) and fail on their own
// take their audit rows with them, and the chains stay linked around the
// gaps they would have left.
func TestFailedWritesLeaveTheChainsIntact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := audit.New(d, nil)
		var wg sync.WaitGroup
		for i := 0; i < 120; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := audit.WithActor(context.Background(), audit.Actor{Name: "wang", RequestID: fmt.Sprint("req-", i%16)})
				err := d.Write(ctx, func(ctx context.Context) error {
					for j := 0; j < 1+i%3; j++ {
						if err := log.Record(ctx, audit.Entry{Action: "case.report", TargetID: fmt.Sprint(i)}); err != nil {
							return err
						}
					}
					if i%4 == 1 {
						return fmt.Errorf("write %d fails after its audit rows", i)
					}
					return nil
				})
				if (err != nil) != (i%4 == 1) {
					t.Errorf("write %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		want := int64(0)
		for i := 0; i < 120; i++ {
			if i%4 != 1 {
				want += int64(1 + i%3)
			}
		}
		rep, err := log.Verify(context.Background())
		if err != nil || rep.Break != nil || rep.Rows != want {
			t.Fatalf("%+v (break %v), %v; want %d intact rows", rep, rep.Break, err, want)
		}
	})
}
