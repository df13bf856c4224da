package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// session0005 is the frozen first schema of sessions. Never edit it: add a
// migration.
type session0005 struct {
	bun.BaseModel `bun:"table:sessions"`
	ID            string     `bun:"id,pk,type:varchar(64)"`
	UserID        int64      `bun:"user_id,notnull"`
	Kind          string     `bun:"kind,notnull,type:varchar(16)"`
	CSRF          string     `bun:"csrf,notnull,type:varchar(64)"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	ExpiresAt     time.Time  `bun:"expires_at,notnull"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	IP            string     `bun:"ip,notnull,type:varchar(64)"`
	UserAgent     string     `bun:"user_agent,notnull,type:varchar(512)"`
}

// Sessions: one row per sign-in, to the APIs (a refresh-token family; the
// access tokens name it) or to the admin console (its cookie). Revoking a
// session ends it on every node at its next request. The refresh-token
// families live before this migration become sessions, so nobody is signed
// out by the upgrade once their access token is refreshed (access tokens
// from before it carry no session and are refused).
//
// Audit events name every record they cover in records (one event per
// request and kind of access, instead of one per record); account actions
// need longer names than varchar(16).
//
// A mapping's created_by becomes its patient's owner even where a
// superuser made it, so each account's mapping list is served by the owner
// index.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewCreateTable().Model((*session0005)(nil)).
				ForeignKey(`("user_id") REFERENCES "users" ("id") ON DELETE CASCADE`).Exec(ctx); err != nil {
				return err
			}
			stmts := []string{
				`CREATE INDEX sessions_user_idx ON sessions (user_id)`,
				`CREATE INDEX sessions_expires_idx ON sessions (expires_at)`,
				`INSERT INTO sessions (id, user_id, kind, csrf, created_at, expires_at, revoked_at, ip, user_agent)
				 SELECT family_id, min(user_id), 'api', '', min(created_at), max(expires_at),
				        CASE WHEN count(revoked_at) = count(*) THEN max(revoked_at) END, '', ''
				 FROM refresh_tokens GROUP BY family_id`,
				`ALTER TABLE audit_events ADD COLUMN records TEXT NOT NULL DEFAULT ''`,
				`UPDATE mappings SET created_by = (SELECT p.created_by FROM patients AS p WHERE p.id = mappings.patient_id)
				 WHERE created_by <> (SELECT p.created_by FROM patients AS p WHERE p.id = mappings.patient_id)`,
			}
			if isPG(tx) {
				stmts = append(stmts,
					// Widening a varchar is a catalog change: no rewrite.
					`ALTER TABLE audit_events ALTER COLUMN action TYPE varchar(32)`,
					`ALTER TABLE audit_events ALTER COLUMN record_type TYPE varchar(32)`,
					`CREATE INDEX audit_events_records_idx ON audit_events USING gin ((records::jsonb)) WHERE records <> ''`,
				)
			}
			return exec(ctx, tx, stmts...)
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db, `DROP TABLE IF EXISTS sessions`, `ALTER TABLE audit_events DROP COLUMN records`)
	})
}
