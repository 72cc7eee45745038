package db

import (
	"context"
	"database/sql"
)

type snapKey struct{}

// Snapshot runs fn in a read-only transaction that sees one consistent
// state of the database, for reads that must agree with each other (an
// audit verification, a report). d.Q(ctx) inside fn uses it.
func (d *DB) Snapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.Kind == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.read.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(context.WithValue(ctx, snapKey{}, tx))
}
