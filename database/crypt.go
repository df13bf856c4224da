package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// sensitive returns pointers to the sealed-at-rest fields of p, in the
// order of sensitiveColumns.
func sensitive(p *models.Patient) [3]**string {
	return [3]**string{&p.MedicalHistory, &p.Allergies, &p.CurrentMedications}
}

// sensitiveColumns are the patient columns sealed at rest (the Sensitive
// fields of models.PatientEntity).
var sensitiveColumns = func() []string {
	var cols []string
	for _, f := range models.PatientEntity.Fields {
		if f.Sensitive {
			cols = append(cols, f.Name)
		}
	}
	// sensitive() names the same columns in the same order.
	if !slices.Equal(cols, []string{"medical_history", "allergies", "current_medications"}) {
		panic("database: sensitive() does not match models.PatientEntity")
	}
	return cols
}()

// sealed returns a copy of p whose sensitive fields are sealed, for
// writing; p itself keeps its plain text. Without a cipher it is p.
func (c *FieldCipher) sealed(p *models.Patient) (*models.Patient, error) {
	if c == nil {
		return p, nil
	}
	cp := *p
	for _, f := range sensitive(&cp) {
		if *f == nil {
			continue
		}
		s, err := c.Seal(**f)
		if err != nil {
			return nil, err
		}
		*f = &s
	}
	return &cp, nil
}

// open opens the sensitive fields of ps in place, as read from the
// database.
func (c *FieldCipher) open(ps ...*models.Patient) error {
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, f := range sensitive(p) {
			if *f == nil {
				continue
			}
			s, err := c.Open(**f)
			if err != nil {
				return fmt.Errorf("patient %d: %w", p.ID, err)
			}
			*f = &s
		}
	}
	return nil
}

// RotateFieldKeys re-seals every sensitive patient value that is not sealed
// with the current key of c (sealed with an old key, or stored before a key
// was configured), in batches, each batch in one transaction. Afterwards the
// old keys can be removed from the configuration. It returns the number of
// patients rewritten. It is a maintenance command: it does not append read
// events to the audit trail, which would record every patient.
func RotateFieldKeys(ctx context.Context, db *bun.DB, c *FieldCipher, batch int) (int, error) {
	if c == nil {
		return 0, errors.New("FIELD_ENCRYPTION_KEY is not set: nothing to rotate to")
	}
	if batch <= 0 {
		batch = 500
	}
	type row struct {
		ID     int64
		Values [3]sql.NullString
	}
	rewritten := 0
	var after int64
	for {
		rows, err := db.QueryContext(ctx, "SELECT id, "+strings.Join(sensitiveColumns, ", ")+" FROM patients WHERE id > ? ORDER BY id LIMIT ?", after, batch)
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
				if v.Valid && SealedWith(v.String) != c.CurrentKeyID() {
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
						sealed, err := c.Seal(plain)
						if err != nil {
							return err
						}
						q = q.Set("? = ?", bun.Ident(sensitiveColumns[i]), sealed)
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
