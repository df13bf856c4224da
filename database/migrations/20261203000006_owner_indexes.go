package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// Every account's lists are served by its owner indexes, whatever the
// planner's statistics say (the stores write the owner as a range and order
// by it: database.ownerRange). Indexes on a filter column alone, across
// every account, gave the planner a way around them for a filtered count
// (the gender index, then a sort): they go. Superusers, who see every
// account, page by the primary key. Mappings filtered by status get an
// owner index of their own.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db,
			`DROP INDEX IF EXISTS patients_gender_idx`,
			`DROP INDEX IF EXISTS patients_city_idx`,
			`DROP INDEX IF EXISTS mappings_status_idx`,
			`CREATE INDEX mappings_owner_status_idx ON mappings (created_by, status, id)`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db,
			`DROP INDEX IF EXISTS mappings_owner_status_idx`,
			`CREATE INDEX patients_gender_idx ON patients (gender)`,
			`CREATE INDEX patients_city_idx ON patients (lower(city))`,
			`CREATE INDEX mappings_status_idx ON mappings (status)`,
		)
	})
}
