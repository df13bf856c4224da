package auth_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"healthcare/auth"
)

// Each HashPassword costs about 25 ms, so the tests hash as little as they can.
func TestHashPassword(t *testing.T) {
	const pw = "Zx9!vQ27#mLp"
	hash, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("phc_format", func(t *testing.T) {
		const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
		if !strings.HasPrefix(hash, prefix) {
			t.Fatalf("hash = %q, want prefix %q", hash, prefix)
		}
		parts := strings.Split(strings.TrimPrefix(hash, prefix), "$")
		if len(parts) != 2 {
			t.Fatalf("hash = %q, want salt$key after the parameters", hash)
		}
		salt, err := base64.RawStdEncoding.DecodeString(parts[0])
		if err != nil || len(salt) != 16 {
			t.Errorf("salt = %q (%d bytes, %v), want 16 bytes unpadded base64", parts[0], len(salt), err)
		}
		key, err := base64.RawStdEncoding.DecodeString(parts[1])
		if err != nil || len(key) != 32 {
			t.Errorf("key = %q (%d bytes, %v), want 32 bytes unpadded base64", parts[1], len(key), err)
		}
	})
	t.Run("correct_password_ok", func(t *testing.T) {
		ok, err := auth.CheckPassword(hash, pw)
		if err != nil || !ok {
			t.Fatalf("CheckPassword(hash, right) = %v, %v; want true, nil", ok, err)
		}
	})
	t.Run("wrong_password_rejected", func(t *testing.T) {
		ok, err := auth.CheckPassword(hash, pw+"x")
		if err != nil || ok {
			t.Fatalf("CheckPassword(hash, wrong) = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("salted_hashes_differ", func(t *testing.T) {
		again, err := auth.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if again == hash {
			t.Fatalf("two hashes of one password are equal: %q", hash)
		}
	})
}

// TestCheckPasswordReadsParameters checks a hash made with other parameters
// than HashPassword's (as after raising them): they are read from the hash.
func TestCheckPasswordReadsParameters(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("old password"), salt, 1, 64, 1, 16)
	b64 := base64.RawStdEncoding
	hash := fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", b64.EncodeToString(salt), b64.EncodeToString(key))

	if ok, err := auth.CheckPassword(hash, "old password"); err != nil || !ok {
		t.Fatalf("CheckPassword(known hash, right) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := auth.CheckPassword(hash, "old passwore"); err != nil || ok {
		t.Fatalf("CheckPassword(known hash, wrong) = %v, %v; want false, nil", ok, err)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	const salt, key = "MDEyMzQ1Njc4OWFiY2RlZg", "c29tZSBrZXkgYnl0ZXM"
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain_text", "secret"},
		{"bcrypt", "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5lZCE5pR2m1Wq9zqkXbJxWvD8bOBq0y"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"wrong_version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing_version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"zero_memory", "$argon2id$v=19$m=0,t=1,p=1$" + salt + "$" + key},
		{"zero_time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero_threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads_overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"garbled_params", "$argon2id$v=19$memory=64$" + salt + "$" + key},
		{"bad_salt_base64", "$argon2id$v=19$m=64,t=1,p=1$!!!$" + key},
		{"bad_key_base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$***"},
		{"empty_key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"missing_key", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra_part", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := auth.CheckPassword(tt.hash, "secret")
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false, error", tt.hash, ok, err)
			}
		})
	}
}
