package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// sensitiveColumns are the patient columns sealed at rest (models.Sensitive).
var sensitiveColumns = []string{"medical_history", "allergies", "current_medications"}

// RotateFieldKeys re-seals every sensitive patient value that is not sealed
// with the current field key (sealed with an old key, or stored before a key
// was configured), in batches, each batch in one transaction. Afterwards the
// old keys can be removed from the configuration. It returns the number of
// patients rewritten. It is a maintenance command: it does not append read
// events to the audit trail, which would record every patient.
func RotateFieldKeys(ctx context.Context, db *bun.DB, batch int) (int, error) {
	c := models.FieldCipherInUse()
	if c == nil {
		return 0, errors.New("FIELD_ENCRYPTION_KEY is not set: nothing to rotate to")
	}
	if batch <= 0 {
		batch = 500
	}
	type row struct {
		ID     int64             `bun:"id"`
		Values [3]sql.NullString `bun:"-"`
	}
	rewritten := 0
	var after int64
	for {
		rows, err := db.QueryContext(ctx, `SELECT id, medical_history, allergies, current_medications FROM patients WHERE id > ? ORDER BY id LIMIT ?`, after, batch)
		if err != nil {
			return rewritten, translate(err)
		}
		var stale []row
		n := 0
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.ID, &r.Values[0], &r.Values[1], &r.Values[2]); err != nil {
				rows.Close()
				return rewritten, err
			}
			n++
			after = r.ID
			for _, v := range r.Values {
				if v.Valid && models.SealedWith(v.String) != c.CurrentKeyID() {
					stale = append(stale, r)
					break
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return rewritten, translate(err)
		}
		if len(stale) > 0 {
			err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				for _, r := range stale {
					q := tx.NewUpdate().Table("patients").Where("id = ?", r.ID)
					for i, v := range r.Values {
						if !v.Valid {
							continue
						}
						plain, err := c.Open(v.String)
						if err != nil {
							return fmt.Errorf("patient %d %s: %w", r.ID, sensitiveColumns[i], err)
						}
						q = q.Set("? = ?", bun.Ident(sensitiveColumns[i]), models.Sensitive(plain))
					}
					if _, err := q.Exec(ctx); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return rewritten, translate(err)
			}
			rewritten += len(stale)
		}
		if n < batch {
			return rewritten, nil
		}
	}
}
