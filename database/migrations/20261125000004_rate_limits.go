package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

type rateLimit0004 struct {
	bun.BaseModel `bun:"table:rate_limits"`
	Key           string    `bun:"key,pk,type:varchar(64)"`
	Window        int64     `bun:"window_id,notnull"`
	Count         int64     `bun:"count,notnull"`
	ExpiresAt     time.Time `bun:"expires_at,notnull"`
}

// Throttling counters live in the database so that every server node
// counts the same attempts (Redis replaces this table when configured).
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		if _, err := db.NewCreateTable().Model((*rateLimit0004)(nil)).Exec(ctx); err != nil {
			return err
		}
		return exec(ctx, db, `CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_at)`)
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db, `DROP TABLE IF EXISTS rate_limits`)
	})
}
