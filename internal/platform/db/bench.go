package db

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WriteBench describes a run of small write transactions from concurrent
// clients, the workload of `linli bench write`.
type WriteBench struct {
	DSN      string
	Sync     string // SQLite synchronous: FULL or NORMAL
	MaxBatch int    // 1: one commit (one fsync) per transaction
	Clients  int
	Duration time.Duration
}

// WriteResult is what a run achieved.
type WriteResult struct {
	Writes  int64
	Seconds float64
	PerSec  float64
}

// RunWriteBench runs b on a fresh table and counts acknowledged writes.
func RunWriteBench(ctx context.Context, b WriteBench) (WriteResult, error) {
	d, err := Open(ctx, Options{DSN: b.DSN, Sync: b.Sync, MaxBatch: b.MaxBatch})
	if err != nil {
		return WriteResult{}, err
	}
	defer d.Close()
	if err := d.Write(ctx, func(ctx context.Context) error {
		q := d.Q(ctx)
		if _, err := q.ExecContext(ctx, "DROP TABLE IF EXISTS bench_writes"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `CREATE TABLE bench_writes (client INTEGER NOT NULL, n INTEGER NOT NULL,
			at `+macros[d.Kind].Replace("{{time}}")+` NOT NULL, body TEXT NOT NULL, PRIMARY KEY (client, n))`)
		return err
	}); err != nil {
		return WriteResult{}, err
	}
	var writes atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(b.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < b.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				err := d.Write(ctx, func(ctx context.Context) error {
					_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO bench_writes (client, n, at, body) VALUES ($1, $2, $3, $4)",
						c, n, time.Now().UTC(), "路灯不亮，请尽快维修 / street light out")
					return err
				})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				writes.Add(1)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if firstErr != nil {
		return WriteResult{}, firstErr
	}
	var stored int64
	if err := d.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM bench_writes").Scan(&stored); err != nil {
		return WriteResult{}, err
	}
	// Every acknowledged write must be there, and nothing else.
	if stored != writes.Load() {
		return WriteResult{}, errMismatch{acked: writes.Load(), stored: stored}
	}
	return WriteResult{Writes: stored, Seconds: secs, PerSec: float64(stored) / secs}, nil
}

type errMismatch struct{ acked, stored int64 }

func (e errMismatch) Error() string {
	return fmt.Sprintf("bench: %d writes acknowledged but %d rows stored", e.acked, e.stored)
}
