package database

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix starts every ciphertext: "enc:v1:<key id>:<base64 nonce|ct>".
const sealedPrefix = "enc:v1:"

// FieldCipher seals text with AES-256-GCM under its first key and opens what
// any of its keys sealed. The patient store seals the medical fields
// (models.PatientEntity's Sensitive fields) with it as it writes them and
// opens them as it reads them; text stored before a key was configured has
// no prefix and is returned as it is.
type FieldCipher struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewFieldCipher returns a cipher over 32-byte keys; the first seals, all
// open (old keys stay until rotate-keys has re-sealed every value).
func NewFieldCipher(keys ...[]byte) (*FieldCipher, error) {
	if len(keys) == 0 {
		return nil, errors.New("no field encryption key")
	}
	c := &FieldCipher{aeads: map[string]cipher.AEAD{}}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("field encryption key %d is %d bytes; AES-256 needs 32", i+1, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(k)
		if i == 0 {
			c.current = id
		}
		c.aeads[id] = aead
	}
	return c, nil
}

// KeyID names a key without revealing it: the first 8 hex digits of its SHA-256.
func KeyID(k []byte) string {
	sum := sha256.Sum256(k)
	return hex.EncodeToString(sum[:4])
}

// ParseFieldKey reads a key given as base64 (standard or URL alphabet) or hex.
func ParseFieldKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("a field encryption key must be 32 random bytes, base64- or hex-encoded (openssl rand -base64 32)")
}

// CurrentKeyID is the id of the key that seals.
func (c *FieldCipher) CurrentKeyID() string { return c.current }

// Seal encrypts plaintext under the current key.
func (c *FieldCipher) Seal(plaintext string) (string, error) {
	aead := c.aeads[c.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return sealedPrefix + c.current + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open decrypts a value made by Seal; text without the prefix was stored
// before encryption was configured and is returned as it is.
func (c *FieldCipher) Open(stored string) (string, error) {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return stored, nil
	}
	id, b64, ok := strings.Cut(stored[len(sealedPrefix):], ":")
	if !ok {
		return "", errors.New("malformed sealed field")
	}
	if c == nil {
		return "", fmt.Errorf("field sealed with key %s but no FIELD_ENCRYPTION_KEY is configured", id)
	}
	aead, ok := c.aeads[id]
	if !ok {
		return "", fmt.Errorf("field sealed with key %s, which is not configured (FIELD_ENCRYPTION_KEY / FIELD_ENCRYPTION_OLD_KEYS)", id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("malformed sealed field")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("sealed field does not authenticate under key %s", id)
	}
	return string(pt), nil
}

// SealedWith returns the key id a stored value was sealed with ("" for plain text).
func SealedWith(stored string) string {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return ""
	}
	id, _, _ := strings.Cut(stored[len(sealedPrefix):], ":")
	return id
}
