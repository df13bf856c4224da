package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"healthcare/models"
)

// Cookie names. The session cookie is scoped to the console's path.
const (
	sessionCookie = "hc_admin_session"
	loginCookie   = "hc_admin_login"
	csrfField     = "csrf_token"
)

// keys are the secrets the console signs with, each derived from
// Options.SessionKey with its own label, so no key is used for two purposes
// (nor shared with the JWT signer that gets the same SECRET_KEY).
type keys struct {
	session []byte // signs the session cookie
	csrf    []byte // derives each session's CSRF token
	login   []byte // signs the sign-in form's CSRF cookie
	pw      []byte // fingerprints the password hash in the session
}

func deriveKeys(secret []byte) keys {
	d := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("healthcare/admin/" + label))
		return m.Sum(nil)
	}
	return keys{session: d("session"), csrf: d("csrf"), login: d("login"), pw: d("password")}
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b64.EncodeToString(b)
}

// session is what the signed cookie carries: who, until when, a random
// nonce (the CSRF token is derived from it) and a fingerprint of the
// password hash at sign-in, so that resetting a password ends every
// session of that account.
type session struct {
	UserID  int64
	Expires time.Time
	Nonce   string
	PwFP    string
}

func (k keys) pwFingerprint(hash string) string { return b64.EncodeToString(mac(k.pw, hash)[:9]) }

// encode returns "uid.exp.nonce.pwfp.mac".
func (k keys) encode(s session) string {
	payload := strings.Join([]string{
		strconv.FormatInt(s.UserID, 10), strconv.FormatInt(s.Expires.Unix(), 10), s.Nonce, s.PwFP,
	}, ".")
	return payload + "." + b64.EncodeToString(mac(k.session, "v1", payload))
}

var errBadSession = errors.New("invalid session cookie")

// decode verifies the signature and expiry of a session cookie value.
func (k keys) decode(v string, now time.Time) (session, error) {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return session{}, errBadSession
	}
	payload, sig := v[:i], v[i+1:]
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(k.session, "v1", payload)) {
		return session{}, errBadSession
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 4 {
		return session{}, errBadSession
	}
	uid, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || uid <= 0 {
		return session{}, errBadSession
	}
	s := session{UserID: uid, Expires: time.Unix(exp, 0), Nonce: parts[2], PwFP: parts[3]}
	if !now.Before(s.Expires) {
		return session{}, errBadSession
	}
	return s, nil
}

// csrfToken is the token every form of the session carries.
func (k keys) csrfToken(s session) string { return b64.EncodeToString(mac(k.csrf, s.Nonce)) }

// loginToken is the sign-in form's token for the random value in its cookie
// (a signed double-submit: there is no session yet to derive one from).
func (k keys) loginToken(cookie string) string { return b64.EncodeToString(mac(k.login, cookie)) }

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secure reports whether the request came over TLS, directly or through a
// proxy that says so; cookies are then marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (h *handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: h.prefix + "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// startSession signs u in.
func (h *handler) startSession(w http.ResponseWriter, r *http.Request, u *models.User) {
	s := session{UserID: u.ID, Expires: time.Now().Add(h.ttl), Nonce: randomToken(18), PwFP: h.keys.pwFingerprint(u.PasswordHash)}
	h.setCookie(w, r, sessionCookie, h.keys.encode(s), h.ttl)
}
