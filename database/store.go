package database

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// Store gathers the stores over one database.
type Store struct {
	DB       *bun.DB
	Users    *UserStore
	Tokens   *TokenStore
	Patients *PatientStore
	Doctors  *DoctorStore
	Mappings *MappingStore
	Audit    *AuditStore
}

// New returns the stores over db.
func New(db *bun.DB) *Store {
	s := &Store{DB: db}
	s.Audit = &AuditStore{db: db}
	s.Users = &UserStore{db: db}
	s.Tokens = &TokenStore{db: db}
	s.Patients = &PatientStore{db: db, audit: s.Audit}
	s.Doctors = &DoctorStore{db: db, audit: s.Audit}
	s.Mappings = &MappingStore{db: db, audit: s.Audit}
	return s
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return translate(s.DB.PingContext(ctx)) }

// now is the time stamped on writes: UTC, in the microseconds both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// today is the date validation compares dates of birth with.
func today() models.Date { return models.DateOf(time.Now().UTC()) }

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

// list runs q, built by scope on a query of T, as one page of pr, newest
// (highest id) first. idCol is the qualified id column. A list without
// columns to order by: pr.OrderBy must be empty.
func list[T any](ctx context.Context, db bun.IDB, pr models.PageRequest, idCol string,
	scope func(*bun.SelectQuery) *bun.SelectQuery) (*models.Page[T], error) {
	return listOrdered[T](ctx, db, pr, idCol, nil, scope)
}

// listOrdered is list with the columns of cols to order by. With
// pr.OrderBy empty it pages by keyset on idCol, newest first; with
// pr.OrderBy set it orders by that column (then idCol, in the same
// direction; pr.Desc reverses both) and pages by offset. An OrderBy not in
// cols is Invalid on "order_by".
func listOrdered[T any](ctx context.Context, db bun.IDB, pr models.PageRequest, idCol string, cols sortColumns,
	scope func(*bun.SelectQuery) *bun.SelectQuery) (*models.Page[T], error) {
	ks, err := pr.Check()
	if err != nil {
		return nil, err
	}
	var order sortColumn
	if pr.OrderBy != "" {
		var ok bool
		if order, ok = cols[pr.OrderBy]; !ok {
			return nil, models.InvalidField("order_by", orderByMessage(cols))
		}
	}
	var items []T
	page := &models.Page[T]{Total: -1}
	if pr.WithTotal {
		n, err := scope(db.NewSelect().Model(&items)).Count(ctx)
		if err != nil {
			return nil, translate(err)
		}
		page.Total = int(n)
	}
	q := scope(db.NewSelect().Model(&items)).Limit(int64(ks.Limit + 1))
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
		q = q.OrderExpr(idCol + dir).Offset(int64(ks.Offset))
	case ks.Backward:
		if ks.AfterID > 0 {
			q = q.Where(idCol+" > ?", ks.AfterID)
		}
		q = q.OrderExpr(idCol + " ASC")
	default:
		if ks.AfterID > 0 {
			q = q.Where(idCol+" < ?", ks.AfterID)
		}
		q = q.OrderExpr(idCol + " DESC").Offset(int64(ks.Offset))
	}
	if err := q.Scan(ctx); err != nil {
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

// orderByMessage names the columns of cols, for an unknown order_by.
func orderByMessage(cols sortColumns) string {
	if len(cols) == 0 {
		return "This list can only be ordered by id."
	}
	names := slices.Sorted(maps.Keys(cols))
	return "Must be one of: " + strings.Join(names, ", ") + "."
}
