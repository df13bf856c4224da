package database

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// Auditor records who read and who changed which records. The stores call
// it once per operation; the audit package implements it.
type Auditor interface {
	// Record appends e. With tx (a change, or anything written in a
	// transaction) the event is written in tx and commits or rolls back
	// with it. With tx nil (a read) it is durable, or part of the request's
	// audit batch, when Record returns: the caller must not answer with the
	// records if it fails.
	Record(ctx context.Context, tx bun.IDB, e models.AuditEntry) error
}

// Options are what a Store needs besides its database.
type Options struct {
	// Auditor records reads and changes; nil records nothing (tools and
	// tests that do not look at the trail).
	Auditor Auditor
	// Cipher seals the patients' sensitive fields at rest; nil stores them
	// as they are.
	Cipher *FieldCipher
	// Notifier tells the other server nodes about changes (sessions, the
	// records subscriptions watch); nil tells no one.
	Notifier *Notifier
	// Replica answers the reads that may be a moment stale (see Replica);
	// nil: every read goes to the primary.
	Replica *Replica
}

// Store gathers the stores over one database handle: the database itself,
// or a transaction begun by InTx. Each store method is one operation: the
// viewer's right to it, validation and the write (with its audit event) are
// checked and made inside it, in one transaction when it writes more than
// one statement.
type Store struct {
	root *bun.DB
	db   bun.IDB
	opts Options
	// tx is the transaction state when db is a transaction: functions to
	// run once it commits.
	tx *txState

	Users    *UserStore
	Sessions *SessionStore
	Tokens   *TokenStore
	Patients *PatientStore
	Doctors  *DoctorStore
	Mappings *MappingStore
}

type txState struct {
	mu      sync.Mutex
	changes []Change
}

// New returns the stores over db.
func New(db *bun.DB, opts Options) *Store {
	return newStore(db, db, opts, nil)
}

func newStore(root *bun.DB, db bun.IDB, opts Options, tx *txState) *Store {
	s := &Store{root: root, db: db, opts: opts, tx: tx}
	s.Users = &UserStore{s}
	s.Sessions = &SessionStore{s}
	s.Tokens = &TokenStore{s}
	s.Patients = &PatientStore{s}
	s.Doctors = &DoctorStore{s}
	s.Mappings = &MappingStore{s}
	return s
}

// DB returns the database the stores use.
func (s *Store) DB() *bun.DB { return s.root }

// Notifier returns the notifier of the stores (possibly nil).
func (s *Store) Notifier() *Notifier { return s.opts.Notifier }

// InTx runs fn with stores bound to one transaction: every write fn makes
// commits together or not at all. Called inside a transaction, fn joins it.
// The Changes fn publishes reach every node when it commits.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	st := &txState{}
	err := s.root.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := fn(newStore(s.root, tx, s.opts, st)); err != nil {
			return err
		}
		return s.opts.Notifier.send(ctx, tx, st.changes)
	})
	if err != nil {
		return translate(err)
	}
	s.opts.Notifier.deliverLocal(st.changes)
	return nil
}

// publish tells every node about c when the current transaction commits;
// outside one (a single-statement write that has committed already), at
// once: this node's listeners hear of it whether or not the NOTIFY to the
// others gets through.
func (s *Store) publish(c Change) {
	if s.opts.Notifier == nil {
		return
	}
	if s.tx == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.opts.Notifier.send(ctx, s.root, []Change{c})
		s.opts.Notifier.deliverLocal([]Change{c})
		return
	}
	s.tx.mu.Lock()
	s.tx.changes = append(s.tx.changes, c)
	s.tx.mu.Unlock()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return translate(s.root.PingContext(ctx)) }

// read records that v read refs (nothing when refs is empty). It is the
// one place the stores audit a read.
func (s *Store) read(ctx context.Context, v models.Viewer, refs ...models.AuditRef) error {
	if s.opts.Auditor == nil || len(refs) == 0 {
		return nil
	}
	return s.opts.Auditor.Record(ctx, nil, models.AuditEntry{UserID: v.UserID, Action: models.AuditRead, Refs: refs})
}

// changed records a change by v of refs, in the current transaction. It is
// the one place the stores audit a write.
func (s *Store) changed(ctx context.Context, v models.Viewer, action models.AuditAction, fields []string, refs ...models.AuditRef) error {
	if s.opts.Auditor == nil || len(refs) == 0 {
		return nil
	}
	return s.opts.Auditor.Record(ctx, s.db, models.AuditEntry{UserID: v.UserID, Action: action, Fields: fields, Refs: refs})
}

// Record appends an event that no store method writes (sign-ins, account
// administration): in the current transaction inside InTx, else durably
// before it returns.
func (s *Store) Record(ctx context.Context, e models.AuditEntry) error {
	if s.opts.Auditor == nil {
		return nil
	}
	var tx bun.IDB
	if s.tx != nil {
		tx = s.db
	}
	return s.opts.Auditor.Record(ctx, tx, e)
}

// ownerRange is the one way the stores say "column holds the viewer's id"
// where an owner index must serve the query: as a range rather than an
// equality. PostgreSQL treats a column fixed by equality as a constant and
// then sees the primary key as yielding "created_by, id" order too; with
// statistics that overrate an account's share of the table (stale ones,
// with autovacuum behind) it walks the primary key backwards through every
// newer row of other accounts. A range keeps the owner index the only
// ordered path (see listSpec.lead). On SQLite it is the same index range.
// The id is a parameter of a (Args).
func ownerRange(qb bun.QueryBuilder, col bun.Ident, id int64, a *Args) bun.QueryBuilder {
	owner := a.Of(id)
	return qb.Where("? >= ? AND ? <= ?", col, owner, col, owner)
}

// ownerIs says "column holds the viewer's id" where the rows are reached by
// their own ids (a lookup, not a list): as an equality, which PostgreSQL's
// generic plan for a prepared statement estimates as an account's share of
// the table, so that it reaches the rows through their ids' index. The
// range of ownerRange, which it estimates as a handful of rows whatever the
// account holds, would send it down the owner index instead, through every
// row the account has.
func ownerIs(qb bun.QueryBuilder, col bun.Ident, id int64, a *Args) bun.QueryBuilder {
	return qb.Where("? = ?", col, a.Of(id))
}

// ownerFilter says "column holds the viewer's id" as a filter no index can
// serve (col + 0), for a search (listSpec.search): whatever the statistics
// say of the account's share, the rows are reached through the term's
// trigram index.
func ownerFilter(qb bun.QueryBuilder, col bun.Ident, id int64, a *Args) bun.QueryBuilder {
	return qb.Where("? + 0 = ?", col, a.Of(id))
}

// ownerForm is ownerRange (lists), ownerIs (lookups) or ownerFilter
// (searches).
type ownerForm func(qb bun.QueryBuilder, col bun.Ident, id int64, a *Args) bun.QueryBuilder

// owned is the one ownership rule of user data: a row is the viewer's when
// its owner column (patients.created_by; a mapping's is its patient's
// owner) holds the viewer's id, and a superuser sees every row. It is
// written in form, its value a parameter of a.
func owned(v models.Viewer, ownerCol string, a *Args, form ownerForm) func(bun.QueryBuilder) bun.QueryBuilder {
	return func(qb bun.QueryBuilder) bun.QueryBuilder {
		if v.Superuser {
			return qb
		}
		return form(qb, bun.Ident(ownerCol), v.UserID, a)
	}
}

// ownedList pages owned rows: through the (owner, id) index for an account
// (listSpec.lead), by the primary key for a superuser.
func ownedList(v models.Viewer, idCol, ownerCol string, sorts sortColumns) listSpec {
	spec := listSpec{idCol: idCol, sorts: sorts}
	if !v.Superuser {
		spec.lead = ownerCol
	}
	return spec
}

// now is the time stamped on writes: UTC, in the microseconds both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func requireViewer(v models.Viewer) error {
	if v.Anonymous() {
		return models.Unauthenticated("")
	}
	return nil
}

// sortColumn is what a list can be ordered by under one public name
// (models.PageRequest.OrderBy): SQL expressions compared in turn. When
// nullable, NULLs sort last in either direction (PostgreSQL and SQLite put
// them at opposite ends otherwise).
type sortColumn struct {
	exprs    []string
	nullable bool
}

// sortColumns maps the public names a store's List accepts in
// PageRequest.OrderBy to their sortColumn.
type sortColumns map[string]sortColumn

// sortBy is a sortColumn of non-NULL expressions.
func sortBy(exprs ...string) sortColumn { return sortColumn{exprs: exprs} }

// sortByNullable is a sortColumn whose expressions can be NULL.
func sortByNullable(exprs ...string) sortColumn { return sortColumn{exprs: exprs, nullable: true} }

// listSpec says how to page through one kind of record.
type listSpec struct {
	// idCol is the qualified id column the keyset pages on.
	idCol string
	// lead, when set, is the owner column that the index serving this
	// list has before the id (patients.created_by for an account's list),
	// which the list's scope fixes to one value with a range
	// (ownerRange). Ordering by it too (a constant, so the order is the
	// same) makes that index the only one that yields the rows in order,
	// so the planner reads it instead of walking the primary key past
	// other accounts' newer rows, whatever its statistics say; and the
	// count reads it too.
	lead string
	// sorts are the columns PageRequest.OrderBy may name.
	sorts sortColumns
	// columns, when set, picks the page query's columns (not the count's).
	columns func(*bun.SelectQuery) *bun.SelectQuery
	// count, when set, counts the whole filtered set some cheaper way than
	// counting its rows (patientCount).
	count func(context.Context, bun.IDB) (int, error)
	// literal writes the values into the text rather than as parameters
	// (no Args): for a search, whose best plan depends on the pattern (the
	// trigram index for a rare term), which a prepared statement's generic
	// plan, made without it, does not know.
	literal bool
	// search pages a search: newest first by "id + 0", an order no index
	// yields, so that neither the owner index nor the primary key offers a
	// walk through the account's (or everyone's) rows that stale statistics
	// could make look cheap; the term's trigram index reads the matches and
	// a sort orders them. The scope writes the owner with ownerFilter.
	search bool
}

// args returns the Args of one of the list's statements (nil: literal).
func (spec listSpec) args(db bun.IDB) *Args {
	if spec.literal {
		return nil
	}
	return newArgs(db)
}

// list runs the query built by scope on T as one page of pr, newest
// (highest id) first by keyset, or ordered by pr.OrderBy (then the id, in
// the same direction; pr.Desc reverses both) and paged by offset. An
// OrderBy not in spec.sorts is Invalid on "order_by". scope is called once
// for the count and once for the page, each with the Args of its statement
// (nil on SQLite), which it gives its values to.
func list[T any](ctx context.Context, db bun.IDB, pr models.PageRequest, spec listSpec,
	scope func(*bun.SelectQuery, *Args) *bun.SelectQuery) (*models.Page[T], error) {
	ks, err := pr.Check()
	if err != nil {
		return nil, err
	}
	var order sortColumn
	if pr.OrderBy != "" {
		var ok bool
		if order, ok = spec.sorts[pr.OrderBy]; !ok {
			return nil, models.InvalidField("order_by", orderByMessage(spec.sorts))
		}
	}
	var items []T
	page := &models.Page[T]{Total: -1}
	if pr.WithTotal {
		var n int
		var err error
		a := spec.args(db)
		if spec.count != nil {
			n, err = spec.count(ctx, db)
		} else if spec.lead != "" {
			// Counted through the owner index (see lead): the rows in its
			// order, which only that index yields without a sort.
			var none []T
			inner := scope(db.NewSelect().Model(&none).ColumnExpr("1"), a).OrderExpr(spec.lead).OrderExpr(spec.idCol)
			err = db.NewSelect().TableExpr("(?) AS counted", inner).ColumnExpr("count(*)").Scan(a.Ctx(ctx), &n)
		} else {
			var n64 int64
			n64, err = scope(db.NewSelect().Model(&items), a).Count(a.Ctx(ctx))
			n = int(n64)
		}
		if err != nil {
			return nil, translate(err)
		}
		page.Total = n
	}
	idOrder := func(dir string) []string {
		switch {
		case spec.search:
			return []string{spec.idCol + " + 0" + dir}
		case spec.lead != "":
			return []string{spec.lead + dir, spec.idCol + dir}
		}
		return []string{spec.idCol + dir}
	}
	a := spec.args(db)
	q := scope(db.NewSelect().Model(&items), a)
	if spec.columns != nil {
		q = spec.columns(q)
	}
	// LIMIT and OFFSET follow the last ORDER BY term, where they belong in
	// the text, as parameters: Bun's Limit and Offset would write them as
	// literals, a new statement for every page.
	const limit = " LIMIT ? OFFSET ?"
	switch {
	case pr.OrderBy != "":
		dir := " ASC"
		if pr.Desc {
			dir = " DESC"
		}
		for _, e := range order.exprs {
			if order.nullable {
				q = q.OrderExpr("(" + e + ") IS NULL ASC")
			}
			q = q.OrderExpr(e + dir)
		}
		q = q.OrderExpr(spec.idCol+dir+limit, a.Of(ks.Limit+1), a.Of(ks.Offset))
	case ks.Backward:
		if ks.AfterID > 0 {
			q = q.Where(spec.idCol+" > ?", a.Of(ks.AfterID))
		}
		order := idOrder(" ASC")
		for _, e := range order[:len(order)-1] {
			q = q.OrderExpr(e)
		}
		q = q.OrderExpr(order[len(order)-1]+limit, a.Of(ks.Limit+1), a.Of(0))
	default:
		if ks.AfterID > 0 {
			q = q.Where(spec.idCol+" < ?", a.Of(ks.AfterID))
		}
		order := idOrder(" DESC")
		for _, e := range order[:len(order)-1] {
			q = q.OrderExpr(e)
		}
		q = q.OrderExpr(order[len(order)-1]+limit, a.Of(ks.Limit+1), a.Of(ks.Offset))
	}
	if err := q.Scan(a.Ctx(ctx)); err != nil {
		return nil, translate(err)
	}
	more := len(items) > ks.Limit
	if more {
		items = items[:ks.Limit]
	}
	if ks.Backward {
		slices.Reverse(items)
		page.HasPrevious, page.HasNext = more, ks.AfterID > 0
	} else {
		page.HasNext, page.HasPrevious = more, ks.AfterID > 0 || ks.Offset > 0
	}
	if items == nil {
		items = []T{}
	}
	page.Items = items
	return page, nil
}

// Paged runs the query built by scope on T as one page of pr, newest first
// by keyset on idCol (or by offset with pr.Offset), for packages that keep
// tables of their own (audit). lead, when not empty, is a column scope
// fixes with OwnerRange, which the index serving the list has before
// idCol (see listSpec.lead); columns picks the page's columns.
func Paged[T any](ctx context.Context, db bun.IDB, pr models.PageRequest, idCol, lead string,
	columns func(*bun.SelectQuery) *bun.SelectQuery, scope func(*bun.SelectQuery, *Args) *bun.SelectQuery) (*models.Page[T], error) {
	return list[T](ctx, db, pr, listSpec{idCol: idCol, lead: lead, columns: columns}, scope)
}

// OwnerRange is ownerRange for packages that keep tables of their own.
func OwnerRange(qb bun.QueryBuilder, col bun.Ident, id int64, a *Args) bun.QueryBuilder {
	return ownerRange(qb, col, id, a)
}

// orderByMessage names the columns of cols, for an unknown order_by.
func orderByMessage(cols sortColumns) string {
	if len(cols) == 0 {
		return "This list can only be ordered by id."
	}
	names := slices.Sorted(maps.Keys(cols))
	return "Must be one of: " + strings.Join(names, ", ") + "."
}
