package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen copies of the audit trail's first schema. Never edit them: add a migration.
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
}

// auditChain0003 is one link of the hash chain: the event event_id at
// position seq. The chain takes events in id order, so the primary key on
// event_id also orders the links; the previous link's hash is that of the
// previous row, not stored again.
type auditChain0003 struct {
	bun.BaseModel `bun:"table:audit_chain"`
	EventID       int64  `bun:"event_id,pk"`
	Seq           int64  `bun:"seq,notnull"`
	Hash          string `bun:"hash,notnull,type:varchar(64)"`
}

// The audit trail: two insert-only tables. Requests append events; the
// sealer appends one narrow audit_chain row per event (its position and
// hash), so no event row is ever written twice and the application's role
// needs neither UPDATE nor DELETE on either table.
//
// Every index is paid for on each append, so there are only those the
// filters need: user and record (the record one also serves record type
// alone), action without reads (most events are reads, and a filter on
// reads matches most rows anyway: the id order serves it), and time: BRIN on
// PostgreSQL (ids and times grow together, so a block range summary is
// enough and costs next to nothing to keep), a B-tree on SQLite. The sealer
// walks audit_events by primary key and finds the chain's head by
// audit_chain's, its only index.
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewCreateTable().Model((*auditEvent0003)(nil)).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewCreateTable().Model((*auditChain0003)(nil)).Exec(ctx); err != nil {
				return err
			}
			occurred := `CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at)`
			if isPG(tx) {
				occurred = `CREATE INDEX audit_events_occurred_idx ON audit_events USING brin (occurred_at)`
			}
			return exec(ctx, tx,
				`CREATE INDEX audit_events_user_idx ON audit_events (user_id, id)`,
				`CREATE INDEX audit_events_record_idx ON audit_events (record_type, record_id, id)`,
				`CREATE INDEX audit_events_action_idx ON audit_events (action, id) WHERE action <> 'read'`,
				occurred,
			)
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db, `DROP TABLE IF EXISTS audit_chain`, `DROP TABLE IF EXISTS audit_events`)
	})
}
