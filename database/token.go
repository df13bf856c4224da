package database

import (
	"context"

	"healthcare/models"
)

// TokenStore records refresh tokens for rotation and reuse detection. A
// refresh token's family is its session (models.Session).
type TokenStore struct{ s *Store }

// Issue records a newly issued refresh token.
func (ts *TokenStore) Issue(ctx context.Context, t *models.RefreshToken) error {
	t.CreatedAt = now()
	_, err := ts.s.db.NewInsert().Model(t).Exec(ctx)
	return translate(err)
}

// UseResult says what happened to a presented refresh token.
type UseResult int

// Outcomes of Use.
const (
	TokenOK      UseResult = iota // it was live; it is now used
	TokenReused                   // it had been used before: its session is now revoked
	TokenInvalid                  // unknown, expired or revoked
)

// Use spends the refresh token jti of user userID exactly once. Marking it
// used is one conditional UPDATE, so two concurrent uses cannot both win.
// A second use of a spent token revokes its whole session.
func (ts *TokenStore) Use(ctx context.Context, jti string, userID int64) (UseResult, *models.RefreshToken, error) {
	t := now()
	tok := new(models.RefreshToken)
	err := ts.s.db.NewUpdate().Model(tok).
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
	err = ts.s.db.NewSelect().Model(old).Where("jti = ?", jti).Where("user_id = ?", userID).Scan(ctx)
	if err != nil {
		if err := notFound(err, "token"); models.ErrorCode(err) != models.CodeNotFound {
			return TokenInvalid, nil, err
		}
		return TokenInvalid, nil, nil
	}
	if old.UsedAt != nil && old.RevokedAt == nil {
		if err := ts.s.Sessions.Revoke(ctx, old.FamilyID); err != nil {
			return TokenInvalid, nil, err
		}
		return TokenReused, old, nil
	}
	return TokenInvalid, old, nil
}

// Family returns the family (session) of a token of user userID, or NotFound.
func (ts *TokenStore) Family(ctx context.Context, jti string, userID int64) (string, error) {
	var family string
	err := ts.s.db.NewSelect().Model((*models.RefreshToken)(nil)).Column("family_id").
		Where("jti = ?", jti).Where("user_id = ?", userID).Scan(ctx, &family)
	return family, notFound(err, "token")
}
