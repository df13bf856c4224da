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

// Session kinds.
const (
	SessionAPI     = "api"     // a sign-in to the APIs: its refresh tokens' family
	SessionConsole = "console" // a sign-in to the admin console: its cookie
)

// Session is one sign-in of an account: to the APIs (its id is the family
// of its refresh tokens, and every access token names it in its sid claim)
// or to the admin console (its id is the SHA-256 of the cookie's secret).
// Signing out, a password change, deactivation and refresh-token reuse
// revoke sessions; a revoked or expired session authenticates nothing.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:ses"`

	ID        string     `bun:"id,pk"`
	UserID    int64      `bun:"user_id,notnull"`
	Kind      string     `bun:"kind,notnull"`
	CSRF      string     `bun:"csrf,notnull"` // the console's form token ("" for the APIs)
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	RevokedAt *time.Time `bun:"revoked_at"`
	IP        string     `bun:"ip,notnull"`
	UserAgent string     `bun:"user_agent,notnull"`
}

// Live reports whether s authenticates at t.
func (s *Session) Live(t time.Time) bool { return s.RevokedAt == nil && t.Before(s.ExpiresAt) }
