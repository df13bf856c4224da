package auth

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Django's password hashes, as accounts imported from a Django deployment
// carry them in the password column: "<algorithm>$<the hasher's own text>".
// CheckPassword verifies them exactly as django.contrib.auth.hashers does,
// so the imported users sign in with their passwords; after a successful
// sign-in the caller replaces the hash with ours (NeedsRehash), as Django
// itself upgrades hashes when its preferred hasher changes.
//
//	pbkdf2_sha256$<iterations>$<salt>$<base64 key>      (Django's default)
//	pbkdf2_sha1$<iterations>$<salt>$<base64 key>
//	argon2$argon2id$v=19$m=..,t=..,p=..$<salt>$<key>    (argon2i before Django 3.2)
//	bcrypt_sha256$$2b$<cost>$<salt and hash>            (bcrypt of the hex SHA-256)
//	bcrypt$$2b$<cost>$<salt and hash>                   (bcrypt of the first 72 bytes)
//	!<anything>                                          (unusable: never matches)
//
// Every kind's cost is bounded (see the max constants), so that a hostile or
// corrupt hash cannot cost minutes; a hash past a bound is malformed.

// UnusablePrefix starts a Django unusable password (set_unusable_password):
// no password matches it.
const UnusablePrefix = "!"

// Bounds on the cost a Django hash may ask for. Django 3.2 uses 260,000
// PBKDF2 iterations and Django 5.2 1,000,000; bcrypt's default cost is 12.
const (
	maxPBKDF2Iterations = 3_000_000
	maxBcryptCost       = 16
)

// IsUnusable reports whether hash is a Django unusable password.
func IsUnusable(hash string) bool { return strings.HasPrefix(hash, UnusablePrefix) }

// HashKind names the kind of an encoded hash: "argon2id" for ours, the
// Django algorithm name (pbkdf2_sha256, argon2, bcrypt_sha256, ...) for a
// Django hash CheckPassword reads, "unusable", or "" for anything else
// (malformed, or a Django hasher that is not supported, such as md5).
// It only reads the hash's shape; it does not check a password.
func HashKind(hash string) string {
	switch {
	case IsUnusable(hash):
		return "unusable"
	case strings.HasPrefix(hash, "$argon2id$"):
		if _, err := parseArgon2(hash[len("$argon2id"):]); err != nil {
			return ""
		}
		return "argon2id"
	}
	algo, rest, _ := strings.Cut(hash, "$")
	var err error
	switch algo {
	case "pbkdf2_sha256":
		_, _, _, err = parsePBKDF2(rest, sha256.Size)
	case "pbkdf2_sha1":
		_, _, _, err = parsePBKDF2(rest, sha1.Size)
	case "argon2":
		_, err = argon2Variant(rest)
	case "bcrypt_sha256", "bcrypt":
		err = checkBcryptShape(rest)
	default:
		return ""
	}
	if err != nil {
		return ""
	}
	return algo
}

// checkDjango verifies pw against a Django encoded hash.
func checkDjango(encoded, pw string) (bool, error) {
	if IsUnusable(encoded) {
		return false, nil
	}
	algo, rest, ok := strings.Cut(encoded, "$")
	if !ok {
		return false, errBadHash
	}
	switch algo {
	case "pbkdf2_sha256":
		return checkPBKDF2(rest, sha256.New, pw)
	case "pbkdf2_sha1":
		return checkPBKDF2(rest, sha1.New, pw)
	case "argon2":
		return checkDjangoArgon2(rest, pw)
	case "bcrypt_sha256":
		// Django hashes the password with SHA-256 and gives bcrypt the hex
		// digest, so that passwords past bcrypt's 72 bytes still count.
		sum := sha256.Sum256([]byte(pw))
		return checkBcrypt(rest, hex.EncodeToString(sum[:]))
	case "bcrypt":
		return checkBcrypt(rest, pw)
	}
	return false, errBadHash
}

// parsePBKDF2 reads "<iterations>$<salt>$<base64 key>", whose key is the
// hash's digest size long.
func parsePBKDF2(s string, size int) (iterations int, salt string, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 3 {
		return 0, "", nil, errBadHash
	}
	iterations, err = strconv.Atoi(parts[0])
	if err != nil || iterations < 1 || iterations > maxPBKDF2Iterations || parts[1] == "" || strings.Contains(parts[1], "$") {
		return 0, "", nil, errBadHash
	}
	key, err = base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != size {
		return 0, "", nil, errBadHash
	}
	return iterations, parts[1], key, nil
}

// checkPBKDF2 is Django's PBKDF2PasswordHasher (and its SHA-1 sibling): the
// key is PBKDF2-HMAC of the password under the salt text, as long as the
// hash's digest.
func checkPBKDF2(s string, h func() hash.Hash, pw string) (bool, error) {
	iterations, salt, want, err := parsePBKDF2(s, h().Size())
	if err != nil {
		return false, err
	}
	got, err := pbkdf2.Key(h, pw, []byte(salt), iterations, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// argon2Variant returns the key function of a Django argon2 hash's text
// ("argon2id$v=19$..." or "argon2i$v=19$..."), after checking its shape.
func argon2Variant(s string) (func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte, error) {
	variant, rest, _ := strings.Cut(s, "$")
	var kdf func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	switch variant {
	case "argon2id":
		kdf = argon2.IDKey
	case "argon2i":
		kdf = argon2.Key
	default:
		// argon2d, and Django's earliest hashes without a version field
		// (argon2 1.0), which this library does not compute.
		return nil, errBadHash
	}
	if _, err := parseArgon2("$" + rest); err != nil {
		return nil, err
	}
	return kdf, nil
}

// checkDjangoArgon2 is Django's Argon2PasswordHasher: argon2-cffi's own
// encoding after "argon2".
func checkDjangoArgon2(s, pw string) (bool, error) {
	kdf, err := argon2Variant(s)
	if err != nil {
		return false, err
	}
	_, rest, _ := strings.Cut(s, "$")
	return checkArgon2(rest, kdf, pw)
}

// checkBcryptShape checks "$2b$<cost>$<53 characters>" (the text after
// Django's "bcrypt$" or "bcrypt_sha256$") and its cost bound.
func checkBcryptShape(s string) error {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' {
		return errBadHash
	}
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil || cost > maxBcryptCost {
		return errBadHash
	}
	return nil
}

// checkBcrypt compares pw with a bcrypt hash. bcrypt reads at most 72 bytes
// of a password, as Django's (py-)bcrypt does.
func checkBcrypt(s, pw string) (bool, error) {
	if err := checkBcryptShape(s); err != nil {
		return false, err
	}
	b := []byte(pw)
	if len(b) > 72 {
		b = b[:72]
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(s), b); err {
	case nil:
		return true, nil
	case bcrypt.ErrMismatchedHashAndPassword:
		return false, nil
	default:
		return false, errBadHash
	}
}
