package djangoimport

import (
	"context"

	"github.com/uptrace/bun"
)

// Sealer encrypts a medical field for storage, under the current field key.
// *database.FieldCipher satisfies it.
type Sealer interface {
	Seal(plaintext string) (string, error)
}

// Auditor records the rows of a batch as imported ("import" events naming
// every row). It is called inside the batch's transaction (db is that
// transaction), so the events commit or roll back with the rows. recordType
// is "user", "patient", "doctor" or "mapping"; ids are the rows' ids, which
// the import keeps from Django.
type Auditor interface {
	RecordImport(ctx context.Context, db bun.IDB, recordType string, ids []int64) error
}

// recordDoctor is the record type of an imported doctor's event. Doctors
// are a shared directory, not health records, so nothing else audits them
// and the trail's filters do not offer the type; the import still leaves
// one event per row it wrote.
const recordDoctor = "doctor"
