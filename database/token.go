package database

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// TokenStore records refresh tokens for rotation and revocation.
type TokenStore struct{ db *bun.DB }

// Issue records a newly issued refresh token.
func (s *TokenStore) Issue(ctx context.Context, t *models.RefreshToken) error {
	t.CreatedAt = now()
	_, err := s.db.NewInsert().Model(t).Exec(ctx)
	return translate(err)
}

// UseResult says what happened to a presented refresh token.
type UseResult int

// Outcomes of Use.
const (
	TokenOK      UseResult = iota // it was live; it is now used
	TokenReused                   // it had been used before: its family is now revoked
	TokenInvalid                  // unknown, expired or revoked
)

// Use spends the refresh token jti of user userID exactly once. Marking it
// used is one conditional UPDATE, so two concurrent uses cannot both win.
// A second use of a spent token revokes its whole family.
func (s *TokenStore) Use(ctx context.Context, jti string, userID int64) (UseResult, *models.RefreshToken, error) {
	t := now()
	tok := new(models.RefreshToken)
	err := s.db.NewUpdate().Model(tok).
		Set("used_at = ?", t).
		Where("jti = ?", jti).Where("user_id = ?", userID).
		Where("used_at IS NULL").Where("revoked_at IS NULL").Where("expires_at > ?", t).
		Returning("*").Scan(ctx)
	if err == nil {
		return TokenOK, tok, nil
	}
	if err := notFound(err, "token"); models.ErrorCode(err) != models.CodeNotFound {
		return TokenInvalid, nil, err
	}
	old := new(models.RefreshToken)
	err = s.db.NewSelect().Model(old).Where("jti = ?", jti).Where("user_id = ?", userID).Scan(ctx)
	if err != nil {
		if err := notFound(err, "token"); models.ErrorCode(err) != models.CodeNotFound {
			return TokenInvalid, nil, err
		}
		return TokenInvalid, nil, nil
	}
	if old.UsedAt != nil && old.RevokedAt == nil {
		if err := s.RevokeFamily(ctx, old.FamilyID); err != nil {
			return TokenInvalid, nil, err
		}
		return TokenReused, old, nil
	}
	return TokenInvalid, old, nil
}

// RevokeFamily revokes every token of a family (logout, reuse detected).
func (s *TokenStore) RevokeFamily(ctx context.Context, family string) error {
	_, err := s.db.NewUpdate().Model((*models.RefreshToken)(nil)).
		Set("revoked_at = ?", now()).Where("family_id = ?", family).Where("revoked_at IS NULL").Exec(ctx)
	return translate(err)
}

// RevokeUser revokes every refresh token of an account.
func (s *TokenStore) RevokeUser(ctx context.Context, userID int64) error {
	_, err := s.db.NewUpdate().Model((*models.RefreshToken)(nil)).
		Set("revoked_at = ?", now()).Where("user_id = ?", userID).Where("revoked_at IS NULL").Exec(ctx)
	return translate(err)
}

// Family returns the family of a token of user userID, or NotFound.
func (s *TokenStore) Family(ctx context.Context, jti string, userID int64) (string, error) {
	var family string
	err := s.db.NewSelect().Model((*models.RefreshToken)(nil)).Column("family_id").
		Where("jti = ?", jti).Where("user_id = ?", userID).Scan(ctx, &family)
	return family, notFound(err, "token")
}

// Purge deletes tokens that expired before cutoff: they can no longer be
// used, so reuse detection does not need them.
func (s *TokenStore) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*models.RefreshToken)(nil)).Where("expires_at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}
