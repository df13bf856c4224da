// Package dbtest opens real databases for tests: an embedded SQLite file in
// t.TempDir(), and a fresh PostgreSQL database per test when
// TEST_DATABASE_URL is set, cloned from a template that is migrated once per
// test binary. With CI=true and no TEST_DATABASE_URL, PostgreSQL tests fail
// instead of skipping.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"healthcare/database"
)

// Kinds names the databases a test runs on.
type Kind string

// The database kinds.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Kinds returns the databases tests run on here: SQLite always, PostgreSQL
// when TEST_DATABASE_URL is set (and required when CI=true).
func Kinds(tb testing.TB) []Kind {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		return []Kind{SQLite, Postgres}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI")
	}
	return []Kind{SQLite}
}

// Each runs fn as a subtest on every database of Kinds, each with a fresh,
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	for _, k := range Kinds(t) {
		t.Run(string(k), func(t *testing.T) { fn(t, Open(t, k)) })
	}
}

// Open returns a fresh, migrated database of kind k, closed (and on
// PostgreSQL dropped) when the test ends.
func Open(tb testing.TB, k Kind) *bun.DB {
	tb.Helper()
	ctx := context.Background()
	var cfg database.Config
	switch k {
	case SQLite:
		cfg.SQLitePath = filepath.Join(tb.TempDir(), "test.db")
	case Postgres:
		cfg.URL = freshPostgres(tb)
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open %s: %v", k, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if k == SQLite {
		if _, err := database.Migrate(ctx, db); err != nil {
			tb.Fatalf("migrate: %v", err)
		}
	}
	return db
}

// URL returns the URL of a fresh, migrated PostgreSQL database, dropped
// when the test ends. It fails the test when TEST_DATABASE_URL is unset.
func URL(tb testing.TB) string {
	tb.Helper()
	return freshPostgres(tb)
}

var (
	tplOnce sync.Once
	tplName string
	tplErr  error
	seq     atomic.Int64
)

func freshPostgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		tb.Fatal("TEST_DATABASE_URL is not set")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", database.RedactURL(base), err)
	}
	defer admin.Close()
	tplOnce.Do(func() { tplName, tplErr = template(ctx, admin, base) })
	if tplErr != nil {
		tb.Fatalf("test template: %v", tplErr)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("hc_test_%d_%d_%s", os.Getpid(), seq.Add(1), hex.EncodeToString(rnd[:]))
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q`, name, tplName)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name))
	})
	return withDB(base, name)
}

// template creates, once per test binary, a migrated database to clone. Its
// name carries a hash of the test binary, so a changed schema never meets a
// stale template; an advisory lock keeps parallel packages apart.
func template(ctx context.Context, admin *sql.DB, base string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", err
	}
	name := "hc_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(872341)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(872341)`) //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %q`, building)); err != nil {
		return "", err
	}
	db, err := database.Open(ctx, database.Config{URL: withDB(base, building)})
	if err != nil {
		return "", err
	}
	_, err = database.Migrate(ctx, db)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %q RENAME TO %q`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

// Counter is a Bun query hook that counts the statements run.
type Counter struct{ n atomic.Int64 }

// BeforeQuery implements bun.QueryHook.
func (c *Counter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery implements bun.QueryHook.
func (c *Counter) AfterQuery(_ context.Context, _ *bun.QueryEvent) { c.n.Add(1) }

// Count returns the statements counted since the last Reset.
func (c *Counter) Count() int64 { return c.n.Load() }

// Reset sets the count to zero.
func (c *Counter) Reset() { c.n.Store(0) }
