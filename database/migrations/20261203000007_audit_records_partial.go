package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// An event about one record is found by its record_type and record_id
// (audit_events_record_idx); only an event naming several needs the GIN
// index over its records. Keeping single-record events out of the GIN index
// spares every one-record read an inverted-index insert (PostgreSQL only;
// SQLite scans the JSON).
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		if !isPG(db) {
			return nil
		}
		return exec(ctx, db,
			`DROP INDEX IF EXISTS audit_events_records_idx`,
			`CREATE INDEX audit_events_records_idx ON audit_events USING gin ((records::jsonb)) WHERE records <> '' AND record_id IS NULL`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		if !isPG(db) {
			return nil
		}
		return exec(ctx, db,
			`DROP INDEX IF EXISTS audit_events_records_idx`,
			`CREATE INDEX audit_events_records_idx ON audit_events USING gin ((records::jsonb)) WHERE records <> ''`,
		)
	})
}
