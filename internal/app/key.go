package app

import (
	"context"
	"database/sql"
	"errors"

	"github.com/linli/linli/internal/platform/config"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// openKey loads the master key for personal data and checks it against
// the database: a deployment started with another key (a lost or swapped
// key file) stops here with a clear message, instead of writing data that
// the old key cannot read and failing to read what it wrote before.
func openKey(ctx context.Context, cfg config.Config, d *db.DB) (*crypto.Box, error) {
	var key []byte
	var err error
	if cfg.Key != "" {
		key, err = crypto.ParseKey(cfg.Key)
		if err != nil {
			return nil, errs.E(errs.Invalid, "err.key.config", err.Error())
		}
	} else if key, _, err = crypto.LoadOrCreateKey(cfg.KeyPath()); err != nil {
		return nil, errs.E(errs.Unavailable, "err.key.file", cfg.KeyPath(), err.Error())
	}
	box, err := crypto.New(key)
	if err != nil {
		return nil, errs.Wrap(err, "err.internal")
	}
	var stored string
	err = d.Q(ctx).QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'key_check'").Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = d.Write(ctx, func(ctx context.Context) error {
			_, err := d.Q(ctx).ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING", box.Check())
			return err
		})
		if err != nil {
			return nil, err
		}
		return openKey(ctx, cfg, d) // read back: another node may have won the race
	case err != nil:
		return nil, err
	case stored != box.Check():
		return nil, errs.E(errs.Unavailable, "err.key.mismatch", cfg.KeyPath())
	}
	return box, nil
}
