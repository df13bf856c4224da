package database

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// UserStore keeps accounts. Signing in and registering read and create them
// (through auth); only superusers list and manage them.
type UserStore struct{ s *Store }

// Create inserts u (its Email already normalized), stamping its times. A
// taken email is an Invalid error on "email".
func (us *UserStore) Create(ctx context.Context, u *models.User) error {
	t := now()
	u.DateJoined, u.UpdatedAt = t, t
	_, err := us.s.db.NewInsert().Model(u).Returning("id").Exec(ctx)
	return translate(err)
}

// ByEmail returns the account with this email, or NotFound.
func (us *UserStore) ByEmail(ctx context.Context, email string) (*models.User, error) {
	u := new(models.User)
	err := us.s.db.NewSelect().Model(u).Where("email = ?", models.NormalizeEmail(email)).Limit(1).Scan(ctx)
	return u, notFound(err, "User")
}

// ByID returns the account with this id, or NotFound.
func (us *UserStore) ByID(ctx context.Context, id int64) (*models.User, error) {
	u := new(models.User)
	err := us.s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, notFound(err, "User")
}

// Manage returns the account id for a superuser to manage: Forbidden for
// anyone else, NotFound if there is none.
func (us *UserStore) Manage(ctx context.Context, v models.Viewer, id int64) (*models.User, error) {
	if err := v.RequireSuperuser(models.ManageAccounts); err != nil {
		return nil, err
	}
	return us.ByID(ctx, id)
}

// TouchLogin records a successful sign-in.
func (us *UserStore) TouchLogin(ctx context.Context, id int64) error {
	_, err := us.s.db.NewUpdate().Model((*models.User)(nil)).Set("last_login = ?", now()).Where("id = ?", id).Exec(ctx)
	return translate(err)
}

// SetPasswordHash sets a new password's hash for an account and records
// when it changed (a rehash of the same password is UpgradeHash).
func (us *UserStore) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	t := now()
	res, err := us.s.db.NewUpdate().Model((*models.User)(nil)).Set("password_hash = ?", hash).Set("updated_at = ?", t).
		Set("password_changed_at = ?", t).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return models.NotFound("User")
	}
	us.s.publish(Change{Kind: ChangeUser, Op: OpUpdate, ID: id, Owner: id})
	return nil
}

// UpgradeHash replaces the password hash old of account id with new, the
// same password hashed with today's parameters (an imported Django hash at
// its first sign-in): a compare-and-set, so a password changed meanwhile is
// left alone. It is not a password change: sessions stay.
func (us *UserStore) UpgradeHash(ctx context.Context, id int64, old, new string) error {
	_, err := us.s.db.NewUpdate().Model((*models.User)(nil)).Set("password_hash = ?", new).Set("updated_at = ?", now()).
		Where("id = ?", id).Where("password_hash = ?", old).Exec(ctx)
	return translate(err)
}

// SetFlags sets whether the account id is active and a superuser: for
// superusers only.
func (us *UserStore) SetFlags(ctx context.Context, v models.Viewer, id int64, active, superuser bool) error {
	if err := v.RequireSuperuser(models.ManageAccounts); err != nil {
		return err
	}
	res, err := us.s.db.NewUpdate().Model((*models.User)(nil)).
		Set("is_active = ?", active).Set("is_superuser = ?", superuser).Set("updated_at = ?", now()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return models.NotFound("User")
	}
	us.s.publish(Change{Kind: ChangeUser, Op: OpUpdate, ID: id, Owner: id})
	return nil
}

// ByIDs returns the accounts with these ids, by id: for superusers only
// (the audit trail names accounts by id).
func (us *UserStore) ByIDs(ctx context.Context, v models.Viewer, ids []int64) (map[int64]*models.User, error) {
	if err := v.RequireSuperuser(models.ManageAccounts); err != nil {
		return nil, err
	}
	var list []*models.User
	if len(ids) > 0 {
		if err := us.s.db.NewSelect().Model(&list).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, translate(err)
		}
	}
	out := make(map[int64]*models.User, len(list))
	for _, u := range list {
		out[u.ID] = u
	}
	return out, nil
}

// UserQuery selects and orders accounts for the admin console's user list.
type UserQuery struct {
	// Search matches a case-insensitive substring of the name or email.
	Search      string
	IsActive    *bool
	IsSuperuser *bool
	// Sort is one of the keys UserSorts accepts, with a leading "-" for
	// descending order; empty means "-id" (newest first). Ties are broken
	// by id.
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
// Total: for superusers only. An unknown sort key or a bad limit is an
// Invalid error.
func (us *UserStore) Find(ctx context.Context, v models.Viewer, q UserQuery) (*models.Page[*models.User], error) {
	if err := v.RequireSuperuser(models.ManageAccounts); err != nil {
		return nil, err
	}
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
	if err := models.CheckSearch("q", q.Search); err != nil {
		return nil, err
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
	total, err := filter(us.s.db.NewSelect().Model(&users)).Count(ctx)
	if err != nil {
		return nil, translate(err)
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	sq := filter(us.s.db.NewSelect().Model(&users))
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

// Count returns the number of accounts: for superusers only.
func (us *UserStore) Count(ctx context.Context, v models.Viewer) (int, error) {
	if err := v.RequireSuperuser(models.ManageAccounts); err != nil {
		return 0, err
	}
	n, err := us.s.db.NewSelect().Model((*models.User)(nil)).Count(ctx)
	return int(n), translate(err)
}
