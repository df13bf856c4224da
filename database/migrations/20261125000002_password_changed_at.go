package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// Access tokens issued before a password change are refused: the account
// records when its password last changed.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		typ := "TIMESTAMP"
		if isPG(db) {
			typ = "TIMESTAMPTZ"
		}
		return exec(ctx, db, `ALTER TABLE users ADD COLUMN password_changed_at `+typ)
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db, `ALTER TABLE users DROP COLUMN password_changed_at`)
	})
}
