package auth_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"healthcare/auth"
)

// djangoVector is one hash made by Django's own make_password
// (testdata/django_hashes.py wrote them; no Python is needed here).
type djangoVector struct {
	Hasher   string `json:"hasher"`
	Password string `json:"password"`
	Wrong    string `json:"wrong"`
	Also     string `json:"also"`
	Encoded  string `json:"encoded"`
}

func djangoVectors(t *testing.T) []djangoVector {
	t.Helper()
	b, err := os.ReadFile("testdata/django_hashes.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Django  string         `json:"django"`
		Vectors []djangoVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 10 {
		t.Fatalf("only %d vectors in testdata/django_hashes.json", len(f.Vectors))
	}
	return f.Vectors
}

// TestCheckPasswordDjango checks every hash Django made: its password
// verifies, a wrong one does not, and it needs rehashing to ours.
func TestCheckPasswordDjango(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range djangoVectors(t) {
		seen[v.Hasher] = true
		t.Run(strings.ReplaceAll(v.Hasher, " ", "_"), func(t *testing.T) {
			if v.Hasher == "unusable" {
				for _, pw := range []string{v.Password, v.Wrong, v.Encoded, v.Encoded[1:]} {
					if ok, err := auth.CheckPassword(v.Encoded, pw); ok || err != nil {
						t.Fatalf("CheckPassword(unusable, %q) = %v, %v; want false, nil", pw, ok, err)
					}
				}
				if auth.NeedsRehash(v.Encoded) {
					t.Error("NeedsRehash(unusable) = true: an unusable password must stay unusable")
				}
				if k := auth.HashKind(v.Encoded); k != "unusable" {
					t.Errorf("HashKind = %q", k)
				}
				return
			}
			start := time.Now()
			if ok, err := auth.CheckPassword(v.Encoded, v.Password); !ok || err != nil {
				t.Fatalf("CheckPassword(%s, right) = %v, %v; want true, nil", v.Encoded, ok, err)
			}
			t.Logf("%s: %v per check", v.Hasher, time.Since(start).Round(time.Millisecond))
			if ok, err := auth.CheckPassword(v.Encoded, v.Wrong); ok || err != nil {
				t.Fatalf("CheckPassword(%s, wrong) = %v, %v; want false, nil", v.Encoded, ok, err)
			}
			if v.Also != "" {
				if ok, err := auth.CheckPassword(v.Encoded, v.Also); !ok || err != nil {
					t.Fatalf("CheckPassword(%s, %q) = %v, %v; Django accepts it", v.Encoded, v.Also, ok, err)
				}
			}
			if !auth.NeedsRehash(v.Encoded) {
				t.Error("NeedsRehash(django hash) = false")
			}
			want, _, _ := strings.Cut(v.Encoded, "$")
			if k := auth.HashKind(v.Encoded); k != want {
				t.Errorf("HashKind = %q, want %q", k, want)
			}
		})
	}
	for _, h := range []string{"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "argon2 (argon2i, before Django 3.2)", "bcrypt_sha256", "bcrypt", "unusable"} {
		if !seen[h] {
			t.Errorf("no test vector for %s", h)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	ours, err := auth.HashPassword("Zx9!vQ27#mLp")
	if err != nil {
		t.Fatal(err)
	}
	if auth.NeedsRehash(ours) {
		t.Errorf("NeedsRehash(%q) = true for our current parameters", ours)
	}
	if k := auth.HashKind(ours); k != "argon2id" {
		t.Errorf("HashKind(ours) = %q", k)
	}
	for _, h := range []string{
		strings.Replace(ours, "m=19456", "m=8192", 1),
		strings.Replace(ours, "t=2", "t=1", 1),
		"", "garbage", "md5$salt$0123456789abcdef0123456789abcdef",
	} {
		if !auth.NeedsRehash(h) {
			t.Errorf("NeedsRehash(%q) = false", h)
		}
	}
}

// TestCheckPasswordDjangoBounds: hashes that are malformed or ask for more
// work than allowed are errors, answered at once, never a long computation.
func TestCheckPasswordDjangoBounds(t *testing.T) {
	const b64key = "+G+FsJSUVLe1CN+jJ8Zf6gmpFZ2rhQllkHjgkdqbnPY="
	const argonTail = "$c2FsdHNhbHRzYWx0$oRRp87hISwGb/eqRoUSO+A"
	tests := []struct{ name, hash string }{
		{"pbkdf2_too_many_iterations", "pbkdf2_sha256$3000001$salt$" + b64key},
		{"pbkdf2_huge_iterations", "pbkdf2_sha256$999999999999$salt$" + b64key},
		{"pbkdf2_zero_iterations", "pbkdf2_sha256$0$salt$" + b64key},
		{"pbkdf2_negative_iterations", "pbkdf2_sha256$-5$salt$" + b64key},
		{"pbkdf2_empty_salt", "pbkdf2_sha256$1000$$" + b64key},
		{"pbkdf2_bad_base64", "pbkdf2_sha256$1000$salt$***"},
		{"pbkdf2_wrong_key_length", "pbkdf2_sha1$1000$salt$" + b64key},
		{"pbkdf2_missing_part", "pbkdf2_sha256$1000$salt"},
		{"argon2_huge_memory", "argon2$argon2id$v=19$m=4194304,t=2,p=8" + argonTail},
		{"argon2_many_passes", "argon2$argon2id$v=19$m=1024,t=1000,p=1" + argonTail},
		{"argon2_many_lanes", "argon2$argon2id$v=19$m=1024,t=1,p=255" + argonTail},
		{"argon2_argon2d", "argon2$argon2d$v=19$m=1024,t=1,p=1" + argonTail},
		{"argon2_no_version", "argon2$argon2i$m=512,t=2,p=2" + argonTail},
		{"argon2_unknown_param", "argon2$argon2id$v=19$m=1024,t=1,x=1" + argonTail},
		{"ours_huge_memory", "$argon2id$v=19$m=4194304,t=2,p=1" + argonTail},
		{"bcrypt_cost_31", "bcrypt$$2b$31$MUmbTzJzRZks21jolN1lh.9nzxgwI1eXXhhKrCxTGrUcWuJD3rxf2"},
		{"bcrypt_sha256_cost_20", "bcrypt_sha256$$2b$20$hPWJAQSkdwN1Ei.8wpDDm.J8gWloweXM2dJJHGicgtaugE6tGJTiG"},
		{"bcrypt_truncated", "bcrypt$$2b$12$MUmbTzJzRZks21jolN1lh"},
		{"bcrypt_without_django_prefix", "$2b$12$MUmbTzJzRZks21jolN1lh.9nzxgwI1eXXhhKrCxTGrUcWuJD3rxf2"},
		{"md5", "md5$salt$0123456789abcdef0123456789abcdef"},
		{"unsalted_sha1", "sha1$$0123456789abcdef0123456789abcdef01234567"},
		{"scrypt", "scrypt$16384$salt$8$1$" + b64key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			ok, err := auth.CheckPassword(tt.hash, "SecurePass123!")
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false, error", tt.hash, ok, err)
			}
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Errorf("refusing %q took %v", tt.hash, d)
			}
			if k := auth.HashKind(tt.hash); k != "" {
				t.Errorf("HashKind(%q) = %q, want \"\"", tt.hash, k)
			}
		})
	}
}
