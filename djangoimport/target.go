package djangoimport

import (
	"context"
	"database/sql"
	"fmt"
	"healthcare/database"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// target is our database, written with plain SQL (not through the stores:
// the rows keep their Django ids and times, and they come in batches).
type target struct {
	db *bun.DB
	pg bool
}

func newTarget(db *bun.DB) *target { return &target{db: db, pg: db.Dialect().Name() == dialect.PG} }

// present returns key (a column or expression, read as text) of the rows of
// table whose ids lie in [lo, hi]: the rows of a batch that are already
// there, from an earlier run or from someone else.
func (t *target) present(ctx context.Context, table, key string, lo, hi int64) (map[int64]string, error) {
	rows, err := t.db.QueryContext(ctx, "SELECT id, "+key+" FROM "+table+" WHERE id BETWEEN ? AND ?", lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var v sql.NullString
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		out[id] = v.String
	}
	return out, rows.Err()
}

// taken returns, for the values of column col of table among vals, the id
// of the row that holds each.
func (t *target) taken(ctx context.Context, table, col string, vals []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(vals) == 0 {
		return out, nil
	}
	rows, err := t.db.QueryContext(ctx, "SELECT id, "+col+" FROM "+table+" WHERE "+col+" IN (?)", bun.In(vals))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		out[v] = id
	}
	return out, rows.Err()
}

// existing returns which of ids are rows of table.
func (t *target) existing(ctx context.Context, table string, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := t.db.QueryContext(ctx, "SELECT id FROM "+table+" WHERE id IN (?)", bun.In(ids))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// valuer is a row that lists its column values for COPY.
type valuer interface{ values() []any }

// write inserts one batch of rows into table and runs after (the audit
// events) in the same transaction: on PostgreSQL with COPY over the
// transaction's own connection, on SQLite with one multi-row INSERT.
func write[T any, PT interface {
	*T
	valuer
}](ctx context.Context, t *target, table string, cols []string, rows []PT, after func(tx bun.Tx) error) error {
	if len(rows) == 0 {
		return nil
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if t.pg {
		// A batch's commit need not wait for its WAL flush: a crash can
		// only lose the last batches whole, and running the import again
		// writes them (it skips what is there). The setting ends with the
		// transaction.
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		// The transaction is open on this very connection, so the COPY
		// runs inside it.
		err = conn.Raw(func(dc any) error {
			c, ok := database.PgxConn(dc)
			if !ok {
				return fmt.Errorf("COPY needs the pgx driver, not %T", dc)
			}
			_, err := c.CopyFrom(ctx, pgx.Identifier{table}, cols,
				pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return rows[i].values(), nil }))
			return err
		})
	} else {
		_, err = tx.NewInsert().Model(&rows).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", table, err)
	}
	if err := after(tx); err != nil {
		return fmt.Errorf("audit %s: %w", table, err)
	}
	return tx.Commit()
}

// advanceSequence makes sure the next id table hands out is above id, so
// that records created after the import never take an imported id.
func (t *target) advanceSequence(ctx context.Context, table string, id int64) error {
	if id <= 0 {
		return nil
	}
	if t.pg {
		var seq sql.NullString
		if err := t.db.QueryRowContext(ctx, "SELECT pg_get_serial_sequence(?, 'id')", table).Scan(&seq); err != nil {
			return fmt.Errorf("sequence of %s: %w", table, err)
		}
		if !seq.Valid {
			return fmt.Errorf("%s.id has no sequence", table)
		}
		// pg_sequence_last_value is NULL until the sequence is first used.
		_, err := t.db.ExecContext(ctx, "SELECT setval(?::regclass, ?) WHERE ? > COALESCE(pg_sequence_last_value(?::regclass), 0)",
			seq.String, id, id, seq.String)
		return err
	}
	// AUTOINCREMENT tables keep their high-water mark in sqlite_sequence.
	name := table
	if _, err := t.db.ExecContext(ctx, "UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?", id, name, id); err != nil {
		return fmt.Errorf("sequence of %s: %w", table, err)
	}
	_, err := t.db.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
		name, id, name)
	return err
}
