package models

import (
	"time"

	"github.com/uptrace/bun"
)

// RefreshToken records one issued refresh token. Each works once: using it
// marks it used and issues the next of the same family; presenting a used
// one again means it was stolen, and the whole family is revoked.
type RefreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens,alias:rt"`

	JTI       string     `bun:"jti,pk"`
	FamilyID  string     `bun:"family_id,notnull"`
	UserID    int64      `bun:"user_id,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
}
