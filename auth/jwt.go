package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, in the "typ" claim: a refresh token is never accepted as an
// access token, nor the reverse.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// MinSecretLen is the shortest signing key accepted: HS256 wants at least
// 256 bits.
const MinSecretLen = 32

// Default token lifetimes, as the REST contract documents them.
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 7 * 24 * time.Hour
)

// Claims are the claims of our tokens.
type Claims struct {
	jwt.RegisteredClaims
	Type string `json:"typ"`
	// Family is the session of a refresh token: every refresh token of one
	// sign-in shares it (refresh tokens only).
	Family string `json:"fam,omitempty"`
	// Session is the session of an access token (access tokens only): the
	// token stops working when its session is revoked.
	Session string `json:"sid,omitempty"`
}

// SessionID returns the session the token belongs to.
func (c *Claims) SessionID() string {
	if c.Type == TypeRefresh {
		return c.Family
	}
	return c.Session
}

// UserID returns the subject as a user id.
func (c *Claims) UserID() (int64, error) { return strconv.ParseInt(c.Subject, 10, 64) }

// Signer issues and verifies HS256 tokens.
type Signer struct {
	secret     []byte
	issuer     string
	audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	parser     *jwt.Parser
	verified   verifiedTokens
}

// verifiedTokens remembers the access tokens whose signature and claims
// checked out, until they expire, so that a client's next requests with the
// same token skip the HMAC and the JSON decoding (a tenth of a small
// request's CPU). Only what depends on the token alone is remembered: its
// session and account are checked on every request all the same. At most
// maxVerified tokens are kept; past that the memory starts over.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[string]*Claims
}

const maxVerified = 10_000

func (v *verifiedTokens) get(raw string) *Claims {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[raw]
}

func (v *verifiedTokens) put(raw string, c *Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerified {
		v.m = make(map[string]*Claims)
	}
	v.m[raw] = c
}

func (v *verifiedTokens) drop(raw string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, raw)
}

// NewSigner returns a Signer; secret must be at least MinSecretLen bytes.
func NewSigner(secret []byte, accessTTL, refreshTTL time.Duration) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("SECRET_KEY must be at least %d bytes", MinSecretLen)
	}
	if accessTTL <= 0 {
		accessTTL = DefaultAccessTTL
	}
	if refreshTTL <= 0 {
		refreshTTL = DefaultRefreshTTL
	}
	s := &Signer{secret: secret, issuer: "healthcare", audience: "healthcare-api", AccessTTL: accessTTL, RefreshTTL: refreshTTL}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(s.issuer),
		jwt.WithAudience(s.audience),
		jwt.WithLeeway(tokenLeeway),
	)
	return s, nil
}

// tokenLeeway is the clock skew allowed between nodes for exp, iat and nbf.
const tokenLeeway = 5 * time.Second

// NewJTI returns a random id (of a token, or of a session).
func NewJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Issue signs a token of type typ for user id in session, returning it and
// its claims.
func (s *Signer) Issue(userID int64, typ, session string) (string, *Claims, error) {
	ttl := s.AccessTTL
	if typ == TypeRefresh {
		ttl = s.RefreshTTL
	}
	t := time.Now()
	c := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{s.audience},
			ExpiresAt: jwt.NewNumericDate(t.Add(ttl)),
			IssuedAt:  jwt.NewNumericDate(t),
			ID:        NewJTI(),
		},
		Type: typ,
	}
	if typ == TypeRefresh {
		c.Family = session
	} else {
		c.Session = session
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	return tok, c, err
}

// ErrInvalidToken is returned for any token that fails verification.
var ErrInvalidToken = errors.New("invalid token")

// ErrExpiredToken is returned for a well-formed token past its expiry.
var ErrExpiredToken = errors.New("token expired")

// Verify checks signature, algorithm, issuer, audience, expiry, issue time
// and type, and that the token names its session.
func (s *Signer) Verify(raw, typ string) (*Claims, error) {
	if typ == TypeAccess {
		if c := s.verified.get(raw); c != nil {
			if time.Now().After(c.ExpiresAt.Add(tokenLeeway)) {
				s.verified.drop(raw)
				return nil, ErrExpiredToken
			}
			return c, nil
		}
	}
	c := new(Claims)
	_, err := s.parser.ParseWithClaims(raw, c, func(*jwt.Token) (any, error) { return s.secret, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrExpiredToken
		}
		return nil, ErrInvalidToken
	}
	// jwt only checks iat when it is there; ours always carry it.
	if c.Type != typ || c.ID == "" || c.IssuedAt == nil || c.SessionID() == "" {
		return nil, ErrInvalidToken
	}
	if _, err := c.UserID(); err != nil {
		return nil, ErrInvalidToken
	}
	if typ == TypeAccess {
		s.verified.put(raw, c)
	}
	return c, nil
}
