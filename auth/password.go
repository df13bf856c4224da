// Package auth hashes passwords, issues and verifies JWTs, rotates and
// revokes refresh tokens, and puts the viewer of each request in its context.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's first recommended configuration (19 MiB of
// memory, 2 passes, 1 lane), about 25 ms per hash on one core here. They are
// stored in each hash, so raising them later still verifies old hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// Bounds on the argon2 parameters a stored hash may ask for, so that one
// hostile or corrupt hash cannot take minutes or gigabytes to check. They are
// far above ours and Django's defaults (100 MiB, 2 passes, 8 lanes).
const (
	maxArgonMemoryKiB = 256 * 1024
	maxArgonTime      = 16
	maxArgonThreads   = 32
	maxArgonKeyLen    = 128
)

// HashPassword returns the argon2id hash of pw in PHC string form.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// CheckPassword reports whether pw matches hash, in time independent of
// where they differ. It reads our argon2id hashes and the encoded hashes of
// accounts imported from Django (see checkDjango); a Django unusable
// password ("!" and anything) never matches. An error means the hash itself
// is malformed, of an unknown kind or asks for more work than allowed.
func CheckPassword(hash, pw string) (bool, error) {
	if strings.HasPrefix(hash, "$argon2id$") {
		return checkArgon2(hash[len("$argon2id$"):], argon2.IDKey, pw)
	}
	return checkDjango(hash, pw)
}

// NeedsRehash reports whether hash should be replaced, after a successful
// sign-in, by HashPassword of the password just checked: true for Django's
// hashes and for argon2id hashes with other parameters than ours, false for
// ours and for an unusable password (which must stay unusable).
func NeedsRehash(hash string) bool {
	if IsUnusable(hash) {
		return false
	}
	p, err := parseArgon2(strings.TrimPrefix(hash, "$argon2id"))
	if err != nil || !strings.HasPrefix(hash, "$argon2id$") {
		return true
	}
	return p.memory != argonMemoryKiB || p.time != argonTime || p.threads != argonThreads ||
		len(p.key) != argonKeyLen || len(p.salt) < argonSaltLen
}

// argonParams is a parsed argon2 hash: "v=19$m=..,t=..,p=..$salt$key".
type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon2 reads the part of an argon2 hash after its variant name
// ("$v=19$m=19456,t=2,p=1$salt$key"), refusing parameters past the bounds.
func parseArgon2(s string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" {
		return p, errBadHash
	}
	if parts[1] != "v="+strconv.Itoa(argon2.Version) {
		return p, errBadHash
	}
	var mem, t, threads uint64
	for _, kv := range strings.Split(parts[2], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n == 0 {
			return p, errBadHash
		}
		switch k {
		case "m":
			mem = n
		case "t":
			t = n
		case "p":
			threads = n
		default:
			return p, errBadHash
		}
	}
	if mem == 0 || t == 0 || threads == 0 || mem > maxArgonMemoryKiB || t > maxArgonTime || threads > maxArgonThreads {
		return p, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[3])
	if err != nil {
		return p, errBadHash
	}
	key, err := b64.DecodeString(parts[4])
	if err != nil || len(key) == 0 || len(key) > maxArgonKeyLen {
		return p, errBadHash
	}
	return argonParams{memory: uint32(mem), time: uint32(t), threads: uint8(threads), salt: salt, key: key}, nil
}

// checkArgon2 checks pw against the part of an argon2 hash after its
// variant name, with kdf the variant (argon2.IDKey or argon2.Key).
func checkArgon2(s string, kdf func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte, pw string) (bool, error) {
	p, err := parseArgon2("$" + s)
	if err != nil {
		return false, err
	}
	got := kdf([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

// dummyHash is checked against when an email is unknown, so that an
// unknown email and a wrong password take the same time.
var dummyHash, _ = HashPassword("not a real password, only spends the time")
