package djangoimport

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Sealer encrypts a medical field for storage, under the current field key.
// Today's *models.FieldCipher satisfies it.
type Sealer interface {
	Seal(plaintext string) (string, error)
}

// Auditor appends one "import" event per imported row of a batch. It is
// called inside the batch's transaction (db is that transaction), so the
// events commit or roll back with the rows. recordType is "user",
// "patient", "doctor" or "mapping"; ids are the rows' ids, which the import
// keeps from Django.
type Auditor interface {
	RecordImport(ctx context.Context, db bun.IDB, recordType string, ids []int64) error
}

// AuditTable is the Auditor over today's audit_events table: one row per
// imported record, action "import", no acting user (the command line), the
// run named in request_id. The sealer of a running server chains the events
// afterwards like any others.
//
// It is a stand-in: once the audit trail is its own package, the command
// passes that package's writer instead (it needs only RecordImport).
type AuditTable struct {
	// Run names this import in request_id ("import-django <start time>").
	Run string
}

// auditChunk bounds the rows of one INSERT of events.
const auditChunk = 2000

// RecordImport implements Auditor.
func (a AuditTable) RecordImport(ctx context.Context, db bun.IDB, recordType string, ids []int64) error {
	const ua = "healthcare import-django"
	d := db.Dialect()
	if d.Name() == dialect.PG {
		// One short statement that PostgreSQL expands itself, not thousands
		// of VALUES tuples to parse.
		_, err := db.ExecContext(ctx, `INSERT INTO audit_events (occurred_at, user_id, action, fields, ip, user_agent, request_id, record_type, record_id)
SELECT ?, NULL, 'import', '', '', ?, ?, ?, unnest(?::bigint[])`, time.Now().UTC(), ua, a.Run, recordType, pgdialect.Array(ids))
		return err
	}
	head := []byte("(")
	head = d.AppendTime(head, time.Now().UTC())
	head = append(head, ", NULL, 'import', '', '', "...)
	head = d.AppendString(head, ua)
	head = append(head, ", "...)
	head = d.AppendString(head, a.Run)
	head = append(head, ", "...)
	head = d.AppendString(head, recordType)
	head = append(head, ", "...)
	for len(ids) > 0 {
		n := min(len(ids), auditChunk)
		q := make([]byte, 0, 128+n*(len(head)+16))
		q = append(q, "INSERT INTO audit_events (occurred_at, user_id, action, fields, ip, user_agent, request_id, record_type, record_id) VALUES "...)
		for i, id := range ids[:n] {
			if i > 0 {
				q = append(q, ", "...)
			}
			q = append(q, head...)
			q = strconv.AppendInt(q, id, 10)
			q = append(q, ')')
		}
		if _, err := db.ExecContext(ctx, string(q)); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// recordDoctor is the record type of an imported doctor's event. Doctors
// are a shared directory, not health records, so nothing else audits them
// and the trail's filters do not offer the type; the import still leaves
// one event per row it wrote.
const recordDoctor = "doctor"
