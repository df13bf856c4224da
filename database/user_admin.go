package database

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// UserQuery selects and orders accounts for the admin console's user list.
type UserQuery struct {
	// Search matches a case-insensitive substring of the name or email.
	Search      string
	IsActive    *bool
	IsSuperuser *bool
	// Sort is one of UserSorts, with a leading "-" for descending order;
	// empty means "-id" (newest first). Ties are broken by id.
	Sort string
	// Limit (1 to models.MaxPageSize; default models.DefaultPageSize) and
	// Offset page through the result.
	Limit  int
	Offset int
}

// userSorts maps the sort keys of UserQuery to their columns.
var userSorts = map[string]string{
	"id":          "u.id",
	"name":        "lower(u.name)",
	"email":       "u.email",
	"date_joined": "u.date_joined",
	"last_login":  "u.last_login",
}

// UserSorts reports whether key (without its "-") is a sort key of
// UserQuery.
func UserSorts(key string) bool { _, ok := userSorts[strings.TrimPrefix(key, "-")]; return ok }

// Find returns one page of accounts matching q, with the filtered count in
// Total. Only the admin console calls it, for superusers: no API lists
// users. An unknown sort key or a bad limit is an Invalid error.
func (s *UserStore) Find(ctx context.Context, q UserQuery) (*models.Page[*models.User], error) {
	var fe models.FieldErrors
	key, desc := q.Sort, false
	if key == "" {
		key = "-id"
	}
	if strings.HasPrefix(key, "-") {
		key, desc = key[1:], true
	}
	col, ok := userSorts[key]
	if !ok {
		fe.Add("sort", "Unknown sort key.")
	}
	limit := q.Limit
	if limit == 0 {
		limit = models.DefaultPageSize
	}
	if limit < 1 || limit > models.MaxPageSize {
		fe.Add("page_size", "Must be between 1 and 100.")
	}
	if q.Offset < 0 {
		fe.Add("page", "Must be positive.")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var users []*models.User
	filter := func(sq *bun.SelectQuery) *bun.SelectQuery {
		if q.Search != "" {
			pat := likePattern(q.Search)
			sq = sq.Where(`(lower(u.name) LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`, pat, pat)
		}
		if q.IsActive != nil {
			sq = sq.Where("u.is_active = ?", *q.IsActive)
		}
		if q.IsSuperuser != nil {
			sq = sq.Where("u.is_superuser = ?", *q.IsSuperuser)
		}
		return sq
	}
	total, err := filter(s.db.NewSelect().Model(&users)).Count(ctx)
	if err != nil {
		return nil, translate(err)
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	sq := filter(s.db.NewSelect().Model(&users))
	if key == "last_login" {
		// Never signed in sorts last either way (the two databases put
		// NULLs at opposite ends).
		sq = sq.OrderExpr("(u.last_login IS NULL) ASC")
	}
	if key != "id" {
		sq = sq.OrderExpr(col + dir)
	}
	sq = sq.OrderExpr("u.id" + dir).Limit(int64(limit + 1)).Offset(int64(q.Offset))
	if err := sq.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	page := &models.Page[*models.User]{Total: int(total), HasPrevious: q.Offset > 0}
	if len(users) > limit {
		users, page.HasNext = users[:limit], true
	}
	if users == nil {
		users = []*models.User{}
	}
	page.Items = users
	return page, nil
}

// Count returns the number of accounts.
func (s *UserStore) Count(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*models.User)(nil)).Count(ctx)
	return int(n), translate(err)
}
