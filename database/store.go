package database

import (
	"context"
	"slices"
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
	s.Doctors = &DoctorStore{db: db}
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

// list runs q, built by scope on a query of T, as one page of pr, newest
// (highest id) first. idCol is the qualified id column.
func list[T any](ctx context.Context, db bun.IDB, pr models.PageRequest, idCol string,
	scope func(*bun.SelectQuery) *bun.SelectQuery) (*models.Page[T], error) {
	ks, err := pr.Check()
	if err != nil {
		return nil, err
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
	if ks.Backward {
		if ks.AfterID > 0 {
			q = q.Where(idCol+" > ?", ks.AfterID)
		}
		q = q.OrderExpr(idCol + " ASC")
	} else {
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
