package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen copy of the audit trail's first schema. Never edit it: add a migration.
//
// There are no foreign keys on purpose: the trail must outlive the users
// and records it names (a cascade would delete events and break the chain).
type auditEvent0003 struct {
	bun.BaseModel `bun:"table:audit_events"`
	ID            int64     `bun:"id,pk,autoincrement"`
	OccurredAt    time.Time `bun:"occurred_at,notnull"`
	UserID        *int64    `bun:"user_id"`
	Action        string    `bun:"action,notnull,type:varchar(16)"`
	RecordType    string    `bun:"record_type,notnull,type:varchar(16)"`
	RecordID      *int64    `bun:"record_id"`
	Fields        string    `bun:"fields,notnull,type:text"`
	IP            string    `bun:"ip,notnull,type:varchar(64)"`
	UserAgent     string    `bun:"user_agent,notnull,type:varchar(512)"`
	RequestID     string    `bun:"request_id,notnull,type:varchar(128)"`
	Seq           *int64    `bun:"seq"`
	PrevHash      *string   `bun:"prev_hash,type:varchar(64)"`
	Hash          *string   `bun:"hash,type:varchar(64)"`
}

// The audit trail: requests only append rows (chain columns NULL); the
// sealer chains them in order. Partial indexes keep appends cheap and find
// the unsealed rows without scanning the sealed ones; both databases
// support them. The seq index is partial so an append does not touch it.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewCreateTable().Model((*auditEvent0003)(nil)).Exec(ctx); err != nil {
				return err
			}
			return exec(ctx, tx,
				`CREATE INDEX audit_events_user_idx ON audit_events (user_id, id)`,
				`CREATE INDEX audit_events_record_idx ON audit_events (record_type, record_id, id)`,
				`CREATE INDEX audit_events_action_idx ON audit_events (action, id)`,
				`CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at)`,
				`CREATE UNIQUE INDEX audit_events_seq_key ON audit_events (seq) WHERE seq IS NOT NULL`,
				`CREATE INDEX audit_events_unsealed_idx ON audit_events (id) WHERE hash IS NULL`,
			)
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db, `DROP TABLE IF EXISTS audit_events`)
	})
}
