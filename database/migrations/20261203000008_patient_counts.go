package migrations

import (
	"context"

	"github.com/uptrace/bun"
)

// An account's patients are counted from a small table, not by reading
// every row: patient_counts holds, per owner and per value of the columns
// lists are commonly filtered by (active, gender, blood group), how many
// patients there are; patient_count_deltas gathers the changes since, one
// +1 or -1 row per changed patient, written by triggers, so every writer
// (the stores, imports, a cascade from a deleted account) is counted and
// concurrent writers never wait on one counter row. database.CompactCounts
// folds the deltas into the counts every few seconds. A count is the sum
// of both (see database.patientCount).
func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			stmts := []string{
				`CREATE TABLE patient_counts (
					created_by BIGINT NOT NULL,
					is_active BOOLEAN NOT NULL,
					gender VARCHAR(1) NOT NULL,
					blood_group VARCHAR(3) NOT NULL,
					n BIGINT NOT NULL,
					PRIMARY KEY (created_by, is_active, gender, blood_group)
				)`,
				`CREATE TABLE patient_count_deltas (
					created_by BIGINT NOT NULL,
					is_active BOOLEAN NOT NULL,
					gender VARCHAR(1) NOT NULL,
					blood_group VARCHAR(3) NOT NULL,
					n BIGINT NOT NULL
				)`,
				`CREATE INDEX patient_count_deltas_owner_idx ON patient_count_deltas (created_by)`,
			}
			if isPG(tx) {
				// Statement triggers with transition tables: a COPY or a
				// multi-row INSERT writes one delta per counted bucket, and
				// an update that changes no counted column writes nothing.
				stmts = append(stmts,
					`CREATE FUNCTION patient_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN
						INSERT INTO patient_count_deltas
						SELECT created_by, is_active, gender, coalesce(blood_group, ''), count(*) FROM new_rows GROUP BY 1, 2, 3, 4;
						RETURN NULL;
					END $$`,
					`CREATE FUNCTION patient_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN
						INSERT INTO patient_count_deltas
						SELECT created_by, is_active, gender, coalesce(blood_group, ''), -count(*) FROM old_rows GROUP BY 1, 2, 3, 4;
						RETURN NULL;
					END $$`,
					`CREATE FUNCTION patient_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN
						INSERT INTO patient_count_deltas
						SELECT created_by, is_active, gender, bg, sum(n) FROM (
							SELECT created_by, is_active, gender, coalesce(blood_group, '') AS bg, -1 AS n FROM old_rows
							UNION ALL
							SELECT created_by, is_active, gender, coalesce(blood_group, ''), 1 FROM new_rows
						) AS d GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0;
						RETURN NULL;
					END $$`,
					`CREATE TRIGGER patient_counts_insert AFTER INSERT ON patients REFERENCING NEW TABLE AS new_rows
					 FOR EACH STATEMENT EXECUTE FUNCTION patient_counts_insert()`,
					`CREATE TRIGGER patient_counts_delete AFTER DELETE ON patients REFERENCING OLD TABLE AS old_rows
					 FOR EACH STATEMENT EXECUTE FUNCTION patient_counts_delete()`,
					`CREATE TRIGGER patient_counts_update AFTER UPDATE ON patients REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
					 FOR EACH STATEMENT EXECUTE FUNCTION patient_counts_update()`,
				)
			} else {
				stmts = append(stmts,
					`CREATE TRIGGER patient_counts_insert AFTER INSERT ON patients BEGIN
						INSERT INTO patient_count_deltas VALUES (NEW.created_by, NEW.is_active, NEW.gender, coalesce(NEW.blood_group, ''), 1);
					END`,
					`CREATE TRIGGER patient_counts_delete AFTER DELETE ON patients BEGIN
						INSERT INTO patient_count_deltas VALUES (OLD.created_by, OLD.is_active, OLD.gender, coalesce(OLD.blood_group, ''), -1);
					END`,
					`CREATE TRIGGER patient_counts_update AFTER UPDATE OF created_by, is_active, gender, blood_group ON patients
					 WHEN OLD.created_by IS NOT NEW.created_by OR OLD.is_active IS NOT NEW.is_active
					   OR OLD.gender IS NOT NEW.gender OR OLD.blood_group IS NOT NEW.blood_group
					 BEGIN
						INSERT INTO patient_count_deltas VALUES (OLD.created_by, OLD.is_active, OLD.gender, coalesce(OLD.blood_group, ''), -1);
						INSERT INTO patient_count_deltas VALUES (NEW.created_by, NEW.is_active, NEW.gender, coalesce(NEW.blood_group, ''), 1);
					END`,
				)
			}
			stmts = append(stmts, `INSERT INTO patient_counts
				SELECT created_by, is_active, gender, coalesce(blood_group, ''), count(*) FROM patients GROUP BY 1, 2, 3, 4`)
			return exec(ctx, tx, stmts...)
		})
	}, func(ctx context.Context, db *bun.DB) error {
		stmts := []string{
			`DROP TRIGGER IF EXISTS patient_counts_insert` + onPatients(db),
			`DROP TRIGGER IF EXISTS patient_counts_delete` + onPatients(db),
			`DROP TRIGGER IF EXISTS patient_counts_update` + onPatients(db),
			`DROP TABLE IF EXISTS patient_count_deltas`,
			`DROP TABLE IF EXISTS patient_counts`,
		}
		if isPG(db) {
			stmts = append(stmts, `DROP FUNCTION IF EXISTS patient_counts_insert()`,
				`DROP FUNCTION IF EXISTS patient_counts_delete()`, `DROP FUNCTION IF EXISTS patient_counts_update()`)
		}
		return exec(ctx, db, stmts...)
	})
}

// onPatients is the ON clause PostgreSQL's DROP TRIGGER needs (SQLite's
// takes none).
func onPatients(db bun.IDB) string {
	if isPG(db) {
		return " ON patients"
	}
	return ""
}
