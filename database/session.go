package database

import (
	"context"
	"time"

	"healthcare/models"
)

// SessionStore keeps sign-ins (models.Session). The auth service creates
// and revokes them and checks them on every request (through its cache,
// which the Changes published here keep fresh on every node).
type SessionStore struct{ s *Store }

// Create records a new session.
func (ss *SessionStore) Create(ctx context.Context, ses *models.Session) error {
	ses.CreatedAt = now()
	_, err := ss.s.db.NewInsert().Model(ses).Exec(ctx)
	return translate(err)
}

// SessionState is a session with its account, as read to authenticate.
type SessionState struct {
	Session *models.Session
	User    *models.User
}

// State returns session id with its account, or NotFound.
func (ss *SessionStore) State(ctx context.Context, id string) (*SessionState, error) {
	var row struct {
		models.Session `bun:",extend"`
		User           *models.User `bun:"rel:belongs-to,join:user_id=id"`
	}
	err := ss.s.db.NewSelect().Model(&row).Relation("User").Where("ses.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "Session")
	}
	ses := row.Session
	return &SessionState{Session: &ses, User: row.User}, nil
}

// Revoke ends session id (and its refresh tokens). Revoking a revoked or
// unknown session does nothing.
func (ss *SessionStore) Revoke(ctx context.Context, id string) error {
	t := now()
	var owner []int64
	err := ss.s.db.NewUpdate().Model((*models.Session)(nil)).Set("revoked_at = ?", t).
		Where("id = ?", id).Where("revoked_at IS NULL").Returning("user_id").Scan(ctx, &owner)
	if err != nil {
		return translate(err)
	}
	if _, err := ss.s.db.NewUpdate().Model((*models.RefreshToken)(nil)).Set("revoked_at = ?", t).
		Where("family_id = ?", id).Where("revoked_at IS NULL").Exec(ctx); err != nil {
		return translate(err)
	}
	if len(owner) > 0 {
		ss.s.publish(Change{Kind: ChangeSession, Op: OpDelete, Key: id, Owner: owner[0]})
	}
	return nil
}

// RevokeUser ends every session of the account userID (and their refresh
// tokens) and returns how many were live.
func (ss *SessionStore) RevokeUser(ctx context.Context, userID int64) (int, error) {
	t := now()
	res, err := ss.s.db.NewUpdate().Model((*models.Session)(nil)).Set("revoked_at = ?", t).
		Where("user_id = ?", userID).Where("revoked_at IS NULL").Where("expires_at > ?", t).Exec(ctx)
	if err != nil {
		return 0, translate(err)
	}
	if _, err := ss.s.db.NewUpdate().Model((*models.RefreshToken)(nil)).Set("revoked_at = ?", t).
		Where("user_id = ?", userID).Where("revoked_at IS NULL").Exec(ctx); err != nil {
		return 0, translate(err)
	}
	n, _ := res.RowsAffected()
	ss.s.publish(Change{Kind: ChangeUser, Op: OpUpdate, ID: userID, Owner: userID})
	return int(n), nil
}

// Purge deletes sessions (and refresh tokens) that ended before cutoff:
// they can authenticate nothing, and reuse detection no longer needs them.
func (ss *SessionStore) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	if _, err := ss.s.db.NewDelete().Model((*models.RefreshToken)(nil)).Where("expires_at < ?", cutoff).Exec(ctx); err != nil {
		return 0, translate(err)
	}
	res, err := ss.s.db.NewDelete().Model((*models.Session)(nil)).Where("expires_at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}
