package db

import (
	"context"
	"log/slog"
	"time"
)

// Change counters tell every node that shared in-memory state changed (the
// grid index, the working calendar): a write bumps the counter in its
// transaction, and each node polls it and rebuilds when it moved. Polling
// works the same on SQLite and PostgreSQL and needs no open connection.

// Counter returns the version of a change counter (0 when never bumped).
func (d *DB) Counter(ctx context.Context, name string) (int64, error) {
	var v int64
	err := d.Q(ctx).QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM change_counters WHERE name = $1", name).Scan(&v)
	return v, err
}

// BumpCounter moves a change counter on, in the write transaction of ctx.
func (d *DB) BumpCounter(ctx context.Context, name string) error {
	return d.Write(ctx, func(ctx context.Context) error {
		_, err := d.Q(ctx).ExecContext(ctx, `INSERT INTO change_counters (name, version) VALUES ($1, 1)
			ON CONFLICT (name) DO UPDATE SET version = change_counters.version + 1`, name)
		return err
	})
}

// WatchCounter polls a change counter until ctx ends and calls reload
// whenever it differs from seen(), the version the node's state reflects.
func (d *DB) WatchCounter(ctx context.Context, name string, every time.Duration, log *slog.Logger,
	seen func() int64, reload func(ctx context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := d.Counter(ctx, name)
		if err != nil {
			log.Warn("checking a change counter", "counter", name, "err", err)
			continue
		}
		if v != seen() {
			if err := reload(ctx); err != nil {
				log.Error("rebuilding after a change", "counter", name, "err", err)
			}
		}
	}
}
