package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"healthcare/auth"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef") // exactly 32 bytes

// MustSigner returns a Signer over testSecret with the default lifetimes.
func MustSigner(tb testing.TB) *auth.Signer {
	tb.Helper()
	s, err := auth.NewSigner(testSecret, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustSign signs claims with method and key, as an attacker or another
// service would.
func MustSign(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	tb.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// accessClaims are the claims of a valid access token, taking the issuer
// and audience from a token the Signer itself issued.
func accessClaims(tb testing.TB, s *auth.Signer) *auth.Claims {
	tb.Helper()
	_, issued, err := s.Issue(7, auth.TypeAccess, "ses-7")
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	return &auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issued.Issuer,
			Subject:   "7",
			Audience:  issued.Audience,
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        "a1b2c3",
		},
		Type:    auth.TypeAccess,
		Session: "ses-7",
	}
}

func TestNewSigner(t *testing.T) {
	t.Run("short_secret_refused", func(t *testing.T) {
		if s, err := auth.NewSigner(testSecret[:31], 0, 0); err == nil || s != nil {
			t.Fatalf("NewSigner(31 bytes) = %v, %v; want nil, error", s, err)
		}
	})
	t.Run("nil_secret_refused", func(t *testing.T) {
		if _, err := auth.NewSigner(nil, 0, 0); err == nil {
			t.Fatal("NewSigner(nil) = nil error")
		}
	})
	t.Run("default_lifetimes", func(t *testing.T) {
		s := MustSigner(t)
		if s.AccessTTL != time.Hour || s.RefreshTTL != 7*24*time.Hour {
			t.Fatalf("TTLs = %v, %v; want 1h, 168h", s.AccessTTL, s.RefreshTTL)
		}
	})
	t.Run("custom_lifetimes_kept", func(t *testing.T) {
		s, err := auth.NewSigner(testSecret, 5*time.Minute, 48*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if s.AccessTTL != 5*time.Minute || s.RefreshTTL != 48*time.Hour {
			t.Fatalf("TTLs = %v, %v", s.AccessTTL, s.RefreshTTL)
		}
	})
}

func TestSignerIssueVerify(t *testing.T) {
	s := MustSigner(t)

	t.Run("access_ok", func(t *testing.T) {
		before := time.Now().Truncate(time.Second)
		raw, issued, err := s.Issue(42, auth.TypeAccess, "ses-1")
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Verify(raw, auth.TypeAccess)
		if err != nil {
			t.Fatalf("Verify = %v", err)
		}
		if id, err := c.UserID(); err != nil || id != 42 {
			t.Errorf("UserID = %d, %v; want 42", id, err)
		}
		if c.Type != auth.TypeAccess || c.ID == "" || c.ID != issued.ID || c.Issuer == "" || len(c.Audience) != 1 {
			t.Errorf("claims = %+v", c)
		}
		if exp := c.ExpiresAt.Time; exp.Before(before.Add(time.Hour)) || exp.After(time.Now().Add(time.Hour)) {
			t.Errorf("exp = %v, want about an hour from now", exp)
		}
	})
	t.Run("refresh_ok", func(t *testing.T) {
		raw, _, err := s.Issue(42, auth.TypeRefresh, "fam-1")
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Verify(raw, auth.TypeRefresh)
		if err != nil {
			t.Fatalf("Verify = %v", err)
		}
		if c.Family != "fam-1" || c.Type != auth.TypeRefresh {
			t.Errorf("family = %q, type = %q", c.Family, c.Type)
		}
		if ttl := time.Until(c.ExpiresAt.Time); ttl < 7*24*time.Hour-time.Minute {
			t.Errorf("refresh expires in %v, want 7 days", ttl)
		}
	})
	t.Run("claim_names", func(t *testing.T) {
		raw, _, err := s.Issue(1, auth.TypeRefresh, "fam-1")
		if err != nil {
			t.Fatal(err)
		}
		payload := decodePayload(t, raw)
		if payload["typ"] != "refresh" || payload["fam"] != "fam-1" || payload["sub"] != "1" || payload["jti"] == nil {
			t.Fatalf("payload = %v", payload)
		}
		raw, _, _ = s.Issue(1, auth.TypeAccess, "ses-1")
		if p := decodePayload(t, raw); p["fam"] != nil || p["sid"] != "ses-1" {
			t.Errorf("access token payload = %v, want sid and no fam", p)
		}
	})
	t.Run("jti_unique", func(t *testing.T) {
		_, a, _ := s.Issue(1, auth.TypeAccess, "ses-1")
		_, b, _ := s.Issue(1, auth.TypeAccess, "ses-1")
		if a.ID == b.ID || len(a.ID) != 32 {
			t.Fatalf("jtis = %q, %q; want two different 32-hex ids", a.ID, b.ID)
		}
	})
	t.Run("refresh_rejected_as_access", func(t *testing.T) {
		raw, _, _ := s.Issue(42, auth.TypeRefresh, "fam-1")
		if _, err := s.Verify(raw, auth.TypeAccess); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify(refresh, access) = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("access_rejected_as_refresh", func(t *testing.T) {
		raw, _, _ := s.Issue(42, auth.TypeAccess, "ses-1")
		if _, err := s.Verify(raw, auth.TypeRefresh); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify(access, refresh) = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("other_signer_secret_rejected", func(t *testing.T) {
		other, err := auth.NewSigner([]byte("ffffffffffffffffffffffffffffffff"), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		raw, _, _ := other.Issue(42, auth.TypeAccess, "ses-1")
		if _, err := s.Verify(raw, auth.TypeAccess); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify(other secret) = %v, want ErrInvalidToken", err)
		}
	})
}

func TestSignerVerifyCrafted(t *testing.T) {
	s := MustSigner(t)
	now := time.Now()
	tests := []struct {
		name string
		make func(t *testing.T, c *auth.Claims) string // c is a valid access token's claims
		want error
	}{
		{
			// The control: the crafting itself yields a token Verify accepts,
			// so each rejection below is down to its one defect.
			name: "crafted_valid_ok",
			make: func(t *testing.T, c *auth.Claims) string { return MustSign(t, jwt.SigningMethodHS256, testSecret, c) },
		},
		{
			name: "expired",
			make: func(t *testing.T, c *auth.Claims) string {
				c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrExpiredToken,
		},
		{
			name: "expired_within_leeway_ok",
			make: func(t *testing.T, c *auth.Claims) string {
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-2 * time.Second))
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
		},
		{
			name: "expired_with_wrong_signature",
			make: func(t *testing.T, c *auth.Claims) string {
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
				return MustSign(t, jwt.SigningMethodHS256, []byte("ffffffffffffffffffffffffffffffff"), c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "alg_none",
			make: func(t *testing.T, c *auth.Claims) string {
				return MustSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "alg_none_with_hs256_signature_stripped",
			make: func(t *testing.T, c *auth.Claims) string {
				raw := MustSign(t, jwt.SigningMethodHS256, testSecret, c)
				parts := strings.Split(raw, ".")
				header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
				return header + "." + parts[1] + "."
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "hs512_same_secret",
			make: func(t *testing.T, c *auth.Claims) string { return MustSign(t, jwt.SigningMethodHS512, testSecret, c) },
			want: auth.ErrInvalidToken,
		},
		{
			name: "hs384_same_secret",
			make: func(t *testing.T, c *auth.Claims) string { return MustSign(t, jwt.SigningMethodHS384, testSecret, c) },
			want: auth.ErrInvalidToken,
		},
		{
			name: "wrong_secret",
			make: func(t *testing.T, c *auth.Claims) string {
				return MustSign(t, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdeF"), c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "wrong_issuer",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Issuer = "someone-else"
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "missing_issuer",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Issuer = ""
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "wrong_audience",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Audience = jwt.ClaimStrings{"another-api"}
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "missing_audience",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Audience = nil
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "missing_exp",
			make: func(t *testing.T, c *auth.Claims) string {
				c.ExpiresAt = nil
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "issued_in_future",
			make: func(t *testing.T, c *auth.Claims) string {
				c.IssuedAt = jwt.NewNumericDate(now.Add(10 * time.Minute))
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			// Security review finding 7: a token without iat was accepted.
			name: "missing_iat",
			make: func(t *testing.T, c *auth.Claims) string {
				c.IssuedAt = nil
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			// An access token must name its session, or signing out could
			// not end it.
			name: "missing_sid",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Session = ""
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "missing_jti",
			make: func(t *testing.T, c *auth.Claims) string {
				c.ID = ""
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "missing_typ",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Type = ""
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "subject_not_a_user_id",
			make: func(t *testing.T, c *auth.Claims) string {
				c.Subject = "admin"
				return MustSign(t, jwt.SigningMethodHS256, testSecret, c)
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "tampered_payload",
			make: func(t *testing.T, c *auth.Claims) string {
				raw := MustSign(t, jwt.SigningMethodHS256, testSecret, c)
				parts := strings.Split(raw, ".")
				c.Subject = "1"
				forged := strings.Split(MustSign(t, jwt.SigningMethodHS256, []byte("ffffffffffffffffffffffffffffffff"), c), ".")
				return parts[0] + "." + forged[1] + "." + parts[2]
			},
			want: auth.ErrInvalidToken,
		},
		{
			name: "tampered_signature",
			make: func(t *testing.T, c *auth.Claims) string {
				raw := MustSign(t, jwt.SigningMethodHS256, testSecret, c)
				i := strings.LastIndexByte(raw, '.') + 10 // well inside the signature, away from its padding bits
				b := []byte(raw)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				return string(b)
			},
			want: auth.ErrInvalidToken,
		},
		{name: "empty", make: func(*testing.T, *auth.Claims) string { return "" }, want: auth.ErrInvalidToken},
		{name: "garbage", make: func(*testing.T, *auth.Claims) string { return "not.a.jwt" }, want: auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.make(t, accessClaims(t, s))
			c, err := s.Verify(raw, auth.TypeAccess)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want ok", err)
				}
				if id, _ := c.UserID(); id != 7 {
					t.Fatalf("UserID = %d, want 7", id)
				}
				return
			}
			if !errors.Is(err, tt.want) || c != nil {
				t.Fatalf("Verify = %v, %v; want nil, %v", c, err, tt.want)
			}
		})
	}
}

func decodePayload(tb testing.TB, raw string) map[string]any {
	tb.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		tb.Fatalf("token %q has %d parts", raw, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestSignerRemembersOnlyWhatItVerified: a verified access token is
// remembered, yet a token that differs from it by one character (another
// signature, other claims) is still checked and refused, a refresh token is
// never taken from the memory of access tokens, and an access token that
// has expired since it was remembered is refused as expired.
func TestSignerRemembersOnlyWhatItVerified(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSigner(testSecret, 1500*time.Millisecond, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Issue(7, auth.TypeAccess, "sess")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := s.Verify(tok, auth.TypeAccess)
		if err != nil || c.Session != "sess" {
			t.Fatalf("verify: %v %+v", err, c)
		}
	}
	// A character inside the signature (the last one may only carry
	// padding bits, which decode alike).
	i := len(tok) - 10
	other := byte('A')
	if tok[i] == 'A' {
		other = 'B'
	}
	if _, err := s.Verify(tok[:i]+string(other)+tok[i+1:], auth.TypeAccess); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a changed signature: %v", err)
	}
	if _, err := s.Verify(tok, auth.TypeRefresh); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("an access token as a refresh token: %v", err)
	}
	// Past its expiry and the 5 s leeway the remembered token is refused.
	time.Sleep(1500*time.Millisecond + 5*time.Second + 100*time.Millisecond)
	if _, err := s.Verify(tok, auth.TypeAccess); !errors.Is(err, auth.ErrExpiredToken) {
		t.Errorf("after expiry: %v", err)
	}
}
