package database

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// patientCounted reports whether a count of patients matching f can come
// from patient_counts: when f filters by counted columns only (active,
// gender, blood group), nothing else.
func patientCounted(f models.PatientFilter) bool {
	return f == models.PatientFilter{IsActive: f.IsActive, Gender: f.Gender, BloodGroup: f.BloodGroup}
}

// patientCount returns how many patients the viewer may see that match f
// (patientCounted): the sum of the counts and the deltas not yet folded into
// them for the viewer's buckets, two index range reads of a few rows each,
// however many patients there are.
func patientCount(ctx context.Context, db bun.IDB, v models.Viewer, f models.PatientFilter) (int, error) {
	a := newArgs(db)
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.ApplyQueryBuilder(owned(v, "created_by", a, ownerIs))
		if f.IsActive != nil {
			q = q.Where("is_active = ?", a.Of(*f.IsActive))
		}
		if f.Gender != nil {
			q = q.Where("gender = ?", a.Of(string(*f.Gender)))
		}
		if f.BloodGroup != nil {
			q = q.Where("blood_group = ?", a.Of(string(*f.BloodGroup)))
		}
		return q
	}
	counts := where(db.NewSelect().Table("patient_counts").Column("n"))
	deltas := where(db.NewSelect().Table("patient_count_deltas").Column("n"))
	var n int64
	err := db.NewSelect().TableExpr("(? UNION ALL ?) AS c", counts, deltas).ColumnExpr("coalesce(sum(n), 0)").Scan(a.Ctx(ctx), &n)
	return int(n), translate(err)
}

// CompactCounts folds the deltas the triggers wrote into patient_counts and
// returns how many it folded. Any node may run it at any time: each delta is
// folded once, atomically with its removal, and a count read meanwhile sees
// it on one side or the other.
func (s *Store) CompactCounts(ctx context.Context) (int64, error) {
	if IsPostgres(s.root) {
		res, err := s.root.ExecContext(ctx, `WITH d AS (DELETE FROM patient_count_deltas RETURNING *)
			INSERT INTO patient_counts
			SELECT created_by, is_active, gender, blood_group, sum(n) FROM d GROUP BY 1, 2, 3, 4
			ON CONFLICT (created_by, is_active, gender, blood_group) DO UPDATE SET n = patient_counts.n + excluded.n`)
		if err != nil {
			return 0, fmt.Errorf("compact counts: %w", translate(err))
		}
		n, _ := res.RowsAffected()
		return n, nil
	}
	var n int64
	err := s.root.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var last int64
		if err := tx.NewSelect().Table("patient_count_deltas").ColumnExpr("coalesce(max(rowid), 0)").Scan(ctx, &last); err != nil {
			return err
		}
		if last == 0 {
			return nil
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO patient_counts
			SELECT created_by, is_active, gender, blood_group, sum(n) FROM patient_count_deltas WHERE rowid <= ? GROUP BY 1, 2, 3, 4
			ON CONFLICT (created_by, is_active, gender, blood_group) DO UPDATE SET n = patient_counts.n + excluded.n`, last)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM patient_count_deltas WHERE rowid <= ?`, last)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("compact counts: %w", translate(err))
	}
	return n, nil
}
