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

// window returns the current window of the given length and when it ends.
func window(length time.Duration) (int64, time.Time) {
	win := time.Now().UnixNano() / int64(length)
	return win, time.Unix(0, (win+1)*int64(length)).UTC()
}

// hashKey is how a key is stored: keys name accounts and addresses.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Hit counts one attempt for key in the current window of the given length
// and returns the attempts counted in it so far (this one included) and when
// the window ends. One upsert: concurrent hits from any number of nodes are
// all counted.
func (s *RateLimitStore) Hit(ctx context.Context, key string, length time.Duration) (int64, time.Time, error) {
	win, reset := window(length)
	var count int64
	err := s.db.NewRaw(`INSERT INTO rate_limits (key, window_id, count, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN rate_limits.window_id = excluded.window_id THEN rate_limits.count + 1 ELSE 1 END,
			window_id = excluded.window_id, expires_at = excluded.expires_at
		RETURNING count`, hashKey(key), win, reset).Scan(ctx, &count)
	if err != nil {
		return 0, reset, translate(err)
	}
	return count, reset, nil
}

// Peek returns the attempts counted for key in the current window, without
// counting one.
func (s *RateLimitStore) Peek(ctx context.Context, key string, length time.Duration) (int64, time.Time, error) {
	win, reset := window(length)
	var counts []int64
	err := s.db.NewSelect().TableExpr("rate_limits").Column("count").
		Where("key = ?", hashKey(key)).Where("window_id = ?", win).Scan(ctx, &counts)
	if err != nil {
		return 0, reset, translate(err)
	}
	if len(counts) == 0 {
		return 0, reset, nil
	}
	return counts[0], reset, nil
}

// Undo takes back one attempt counted for key in the current window (an
// attempt that turned out to be allowed: a successful sign-in).
func (s *RateLimitStore) Undo(ctx context.Context, key string, length time.Duration) error {
	win, _ := window(length)
	_, err := s.db.NewUpdate().TableExpr("rate_limits").Set("count = count - 1").
		Where("key = ?", hashKey(key)).Where("window_id = ?", win).Where("count > 0").Exec(ctx)
	return translate(err)
}

// Purge deletes counters whose window has ended.
func (s *RateLimitStore) Purge(ctx context.Context) error {
	_, err := s.db.NewDelete().TableExpr("rate_limits").Where("expires_at < ?", time.Now().UTC()).Exec(ctx)
	return translate(err)
}
