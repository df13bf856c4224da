package database

import (
	"context"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// UserStore keeps accounts. It is used by auth and by the superuser
// commands; no API lists users.
type UserStore struct{ db *bun.DB }

// Create inserts u (its Email already normalized), stamping its times. A
// taken email is an Invalid error on "email".
func (s *UserStore) Create(ctx context.Context, u *models.User) error {
	t := now()
	u.DateJoined, u.UpdatedAt = t, t
	_, err := s.db.NewInsert().Model(u).Returning("id").Exec(ctx)
	return translate(err)
}

// ByEmail returns the account with this (normalized) email, or NotFound.
func (s *UserStore) ByEmail(ctx context.Context, email string) (*models.User, error) {
	u := new(models.User)
	err := s.db.NewSelect().Model(u).Where("email = ?", models.NormalizeEmail(email)).Limit(1).Scan(ctx)
	return u, notFound(err, "User")
}

// ByID returns the account with this id, or NotFound.
func (s *UserStore) ByID(ctx context.Context, id int64) (*models.User, error) {
	u := new(models.User)
	err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, notFound(err, "User")
}

// TouchLogin records a successful sign-in.
func (s *UserStore) TouchLogin(ctx context.Context, id int64) error {
	_, err := s.db.NewUpdate().Model((*models.User)(nil)).Set("last_login = ?", now()).Where("id = ?", id).Exec(ctx)
	return translate(err)
}

// SetPassword replaces the password hash of an account and records when, so
// that access tokens issued before then stop working.
func (s *UserStore) SetPassword(ctx context.Context, id int64, hash string) error {
	t := now()
	res, err := s.db.NewUpdate().Model((*models.User)(nil)).
		Set("password_hash = ?", hash).Set("password_changed_at = ?", t).Set("updated_at = ?", t).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return models.NotFound("User")
	}
	return nil
}

// SetFlags sets whether an account is active and whether it is a superuser.
func (s *UserStore) SetFlags(ctx context.Context, id int64, active, superuser bool) error {
	res, err := s.db.NewUpdate().Model((*models.User)(nil)).
		Set("is_active = ?", active).Set("is_superuser = ?", superuser).Set("updated_at = ?", now()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return models.NotFound("User")
	}
	return nil
}

// ByIDs returns the accounts with these ids, by id.
func (s *UserStore) ByIDs(ctx context.Context, ids []int64) (map[int64]*models.User, error) {
	var us []*models.User
	if len(ids) > 0 {
		if err := s.db.NewSelect().Model(&us).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, translate(err)
		}
	}
	out := make(map[int64]*models.User, len(us))
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}
