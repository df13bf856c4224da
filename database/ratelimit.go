package database

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/uptrace/bun"
)

// RateLimitStore counts attempts per key in fixed windows, shared by every
// node that uses the database.
type RateLimitStore struct{ db *bun.DB }

// NewRateLimitStore returns the counters kept in db.
func NewRateLimitStore(db *bun.DB) *RateLimitStore { return &RateLimitStore{db: db} }

// Hit counts one attempt for key in the current window of the given length
// and returns the attempts counted in it so far (this one included) and when
// the window ends. One upsert: concurrent hits from any number of nodes are
// all counted. Keys are stored hashed (they name accounts and addresses).
func (s *RateLimitStore) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	t := time.Now().UTC()
	win := t.UnixNano() / int64(window)
	reset := time.Unix(0, (win+1)*int64(window)).UTC()
	sum := sha256.Sum256([]byte(key))
	var count int64
	err := s.db.NewRaw(`INSERT INTO rate_limits (key, window_id, count, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN rate_limits.window_id = excluded.window_id THEN rate_limits.count + 1 ELSE 1 END,
			window_id = excluded.window_id, expires_at = excluded.expires_at
		RETURNING count`, hex.EncodeToString(sum[:]), win, reset).Scan(ctx, &count)
	if err != nil {
		return 0, reset, translate(err)
	}
	return count, reset, nil
}

// Purge deletes counters whose window has ended.
func (s *RateLimitStore) Purge(ctx context.Context) error {
	_, err := s.db.NewDelete().TableExpr("rate_limits").Where("expires_at < ?", time.Now().UTC()).Exec(ctx)
	return translate(err)
}
