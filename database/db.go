// Package database opens the database (embedded SQLite by default, PostgreSQL
// when configured), applies the embedded migrations, and holds the stores:
// the only code that builds queries. Every store method that touches user
// data takes the viewer and scopes by it.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"healthcare/database/migrations"
	"healthcare/models"
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL; empty means the embedded SQLite file.
	URL string
	// SQLitePath is the embedded database file (default healthcare.db).
	SQLitePath string
	// MaxConns bounds the connection pool (default 4 per CPU, at least 8).
	MaxConns int
}

// Open connects, checks the connection and returns the database. It does not
// migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*bun.DB, error) {
	maxConns := cfg.MaxConns
	if maxConns <= 0 {
		maxConns = max(8, 4*runtime.GOMAXPROCS(0))
	}
	var db *bun.DB
	if cfg.URL != "" {
		var err error
		if db, err = openPGPool(cfg.URL, maxConns); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
	} else {
		path := cfg.SQLitePath
		if path == "" {
			path = "healthcare.db"
		}
		// The file holds health records: only its owner may read it. SQLite
		// gives its -wal and -shm files the database file's permissions.
		if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
		sqldb, err := sql.Open("sqlite", SQLiteDSN(path))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		sqldb.SetMaxOpenConns(maxConns)
		sqldb.SetMaxIdleConns(maxConns)
		db = bun.NewDB(sqldb, sqlitedialect.New())
	}
	registerModels(db)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// openPGPool opens a pool of at most maxConns connections to a PostgreSQL
// URL (the primary's, or a standby's: OpenReplica).
func openPGPool(url string, maxConns int) (*bun.DB, error) {
	sqldb, err := openPG(pgDSN(url))
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	sqldb.SetConnMaxLifetime(time.Hour)
	db := bun.NewDB(sqldb, pgdialect.New())
	registerModels(db)
	return db, nil
}

// registerModels tells Bun of the models it must know before a query names
// them (a relation's join table).
func registerModels(db *bun.DB) { db.RegisterModel((*models.Mapping)(nil)) }

// pgDSN sets what the URL does not say: connecting may take at most 5 s, so
// an unreachable database fails requests fast with 503 instead of holding
// them until their own deadline; and queries use the simple protocol, one
// round trip each. Bun writes arguments into the SQL text itself (quoted),
// so pgx's default of preparing and caching each distinct statement would
// prepare nearly every query anew: three round trips and a cache churn.
func pgDSN(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "5")
	}
	if q.Get("default_query_exec_mode") == "" {
		q.Set("default_query_exec_mode", "simple_protocol")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// SQLiteDSN is the connection string for the embedded file: foreign keys on
// (SQLite leaves them off per connection), a busy timeout instead of
// immediate SQLITE_BUSY, WAL so readers never wait for the writer, and
// IMMEDIATE transactions so a writer takes its lock up front instead of
// failing when it upgrades.
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	// The path is a URI path: a "#" or "?" in it would end it early (and
	// open another file), so those and "%" are escaped.
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + esc + "?" + q.Encode()
}

// Migrate applies the embedded migrations that have not been applied yet.
func Migrate(ctx context.Context, db *bun.DB) ([]string, error) {
	return migrations.Apply(ctx, db)
}

// IsPostgres reports whether db speaks to PostgreSQL.
func IsPostgres(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

// RedactURL hides the password of a database URL, for logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable database URL)"
	}
	return u.Redacted()
}

// likePattern turns user text into a LIKE pattern matching it anywhere,
// lower-cased, with LIKE's own wildcards escaped.
func likePattern(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
