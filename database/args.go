package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Args carries the values of one statement to PostgreSQL as parameters
// ($1, $2, ...) instead of quoted literals in its text, for the reads every
// request makes. Bun writes values into the SQL text, so without Args each
// patient id gives a new text that PostgreSQL parses and plans anew; with
// them the text is the same for every value, and each connection prepares
// it once (pgx's statement cache) and PostgreSQL reuses the plan. Planning
// costs more than running these statements.
//
// Use: a := s.args(); build the query with a.Of(v) for each value (and
// ownerRange, in with a); run it with ctx from a.Ctx(ctx). Bun renders the
// query as usual (query hooks see it), the values gathering in a as it
// does; the driver (argsConn) takes them from the context. One Args is for
// one statement. A nil *Args (SQLite, which plans cheaply, or a statement
// whose text varies anyway) leaves every value a literal.
type Args struct {
	vals  []any
	taken bool
}

// args returns a new Args for one statement, or nil on SQLite.
func (s *Store) args() *Args { return newArgs(s.root) }

func newArgs(db bun.IDB) *Args {
	if !IsPostgres(db) {
		return nil
	}
	return &Args{}
}

// Of returns v as a parameter of the statement: its placeholder in the
// text, its value in a. On a nil a it is v itself.
func (a *Args) Of(v any) any {
	if a == nil {
		return v
	}
	return &arg{a: a, v: v}
}

// Ctx returns ctx carrying a to the driver; with a nil a, ctx.
func (a *Args) Ctx(ctx context.Context) context.Context {
	if a == nil {
		return ctx
	}
	return context.WithValue(ctx, argsKey{}, a)
}

// In is "col IN (ids)": one array parameter on PostgreSQL, so the text does
// not grow with the number of ids.
func (a *Args) In(qb bun.QueryBuilder, col string, ids []int64) bun.QueryBuilder {
	if a == nil {
		return qb.Where(col+" IN (?)", bun.In(ids))
	}
	return qb.Where(col+" = ANY(?)", a.Of(ids))
}

// arg is one value of an Args; it renders as its placeholder, numbered in
// the order Bun writes the text, which is the order the values are given.
type arg struct {
	a *Args
	v any
	n int
}

func (x *arg) AppendQuery(_ schema.QueryGen, b []byte) ([]byte, error) {
	if x.n == 0 {
		x.a.vals = append(x.a.vals, x.v)
		x.n = len(x.a.vals)
	}
	return strconv.AppendInt(append(b, '$'), int64(x.n), 10), nil
}

type argsKey struct{}

// openPG opens the pool of a PostgreSQL URL through argsConn.
func openPG(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(argsConnector{stdlib.GetConnector(*cfg)}), nil
}

type argsConnector struct{ driver.Connector }

func (c argsConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &argsConn{conn.(*stdlib.Conn)}, nil
}

// argsConn is pgx's database/sql connection that runs a statement whose
// context carries Args as a prepared statement with those values (pgx's
// per-connection statement cache); every other statement goes by the
// simple protocol, its values already in its text (pgDSN).
type argsConn struct{ *pgxConn }

// pgxConn names pgx's connection so that embedding it does not make a
// field called Conn, which would hide its Conn method (Notifier uses it).
type pgxConn = stdlib.Conn

func (c *argsConn) QueryContext(ctx context.Context, query string, nv []driver.NamedValue) (driver.Rows, error) {
	if a, ok := ctx.Value(argsKey{}).(*Args); ok && !a.taken && len(nv) == 0 {
		// One statement per Args: a later statement under the same
		// context goes as it would without.
		a.taken = true
		nv = make([]driver.NamedValue, 0, 1+len(a.vals))
		nv = append(nv, driver.NamedValue{Ordinal: 1, Value: pgx.QueryExecModeCacheStatement})
		for i, v := range a.vals {
			nv = append(nv, driver.NamedValue{Ordinal: i + 2, Value: v})
		}
	}
	return c.pgxConn.QueryContext(ctx, query, nv)
}

// PgxConn returns the pgx connection under a driver connection of a pool
// Open made (from sql.Conn.Raw), for what database/sql cannot say: LISTEN,
// COPY.
func PgxConn(driverConn any) (*pgx.Conn, bool) {
	c, ok := driverConn.(interface{ Conn() *pgx.Conn })
	if !ok {
		return nil, false
	}
	return c.Conn(), true
}
