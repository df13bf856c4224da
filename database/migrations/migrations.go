// Package migrations is the one migration history of both databases. Tables
// are created from frozen struct copies kept beside each migration, so Bun
// writes each dialect's DDL and a later change to models cannot rewrite the
// past; steps only PostgreSQL can take (trigram indexes) are guarded.
package migrations

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// Migrations is the history, in order of name.
var Migrations = migrate.NewMigrations()

// Apply runs the migrations not applied yet and returns their names. On
// PostgreSQL it holds an advisory lock meanwhile, so nodes that start
// together migrate one at a time.
func Apply(ctx context.Context, db *bun.DB) ([]string, error) {
	if db.Dialect().Name() == dialect.PG {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		h := fnv.New64a()
		_, _ = h.Write([]byte("healthcare migrations"))
		key := int64(h.Sum64() >> 1)
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key); err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", key) //nolint:errcheck
	}
	m := migrate.NewMigrator(db, Migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migrations: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var names []string
	if group != nil {
		for _, mig := range group.Migrations {
			names = append(names, mig.Name)
		}
	}
	return names, nil
}

func exec(ctx context.Context, db bun.IDB, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func isPG(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }
