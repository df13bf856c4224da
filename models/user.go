package models

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// User is an account. Email is stored lower-cased and is unique.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID           int64      `bun:"id,pk,autoincrement" json:"id"`
	Name         string     `bun:"name,notnull" json:"name"`
	Email        string     `bun:"email,notnull" json:"email"`
	PasswordHash string     `bun:"password_hash,notnull" json:"-"`
	IsActive     bool       `bun:"is_active,notnull" json:"-"`
	IsSuperuser  bool       `bun:"is_superuser,notnull" json:"-"`
	DateJoined   time.Time  `bun:"date_joined,notnull" json:"date_joined"`
	LastLogin    *time.Time `bun:"last_login" json:"-"`
	// PasswordChangedAt is when the password was last set (a change
	// revokes every session of the account).
	PasswordChangedAt *time.Time `bun:"password_changed_at" json:"-"`
	UpdatedAt         time.Time  `bun:"updated_at,notnull" json:"-"`
}

// Viewer is who is asking: every store method that touches user data takes
// one and scopes by it. The zero Viewer is anonymous.
type Viewer struct {
	UserID    int64
	Superuser bool
}

// Anonymous reports whether no one is signed in.
func (v Viewer) Anonymous() bool { return v.UserID == 0 }

// What only superusers may do (Viewer.RequireSuperuser).
const (
	ManageAccounts = "manage accounts"
	ReadAuditTrail = "read the audit trail"
)

// RequireSuperuser is the rule of what only superusers may do (what is
// ManageAccounts or ReadAuditTrail): Unauthenticated for no one, Forbidden
// ("Only superusers can <what>.") for anyone else.
func (v Viewer) RequireSuperuser(what string) error {
	if v.Anonymous() {
		return Unauthenticated("")
	}
	if !v.Superuser {
		return Forbidden("Only superusers can " + what + ".")
	}
	return nil
}

// RegisterInput is what a new account gives.
type RegisterInput struct {
	Name            string `json:"name"`
	Email           string `json:"email"`
	Password        string `json:"password"`
	PasswordConfirm string `json:"password_confirm"`
	// Unreadable holds the fields a transport could not decode.
	Unreadable FieldErrors `json:"-"`
}

// Validate checks the name and email against UserEntity, normalizing in
// place, and the password rules; it reports every failing field at once.
func (in *RegisterInput) Validate() error {
	var fe FieldErrors
	if err := validate(UserEntity, in, true, Date{}); err != nil {
		fe = err.(*Error).Fields
	}
	if _, bad := in.Unreadable["password"]; !bad {
		for _, msg := range NewPasswordProblems(in.Password, in.Name, in.Email) {
			fe.Add("password", msg)
		}
	}
	if _, bad := in.Unreadable["password_confirm"]; !bad {
		if strings.TrimSpace(in.PasswordConfirm) == "" {
			fe.Add("password_confirm", MsgBlank)
		} else if in.Password != in.PasswordConfirm {
			fe.Add("password_confirm", "Passwords do not match.")
		}
	}
	return fe.Err()
}

// NewPasswordProblems returns what is wrong with pw as the new password of
// the account name/email: blank (whitespace only counts as blank), or one of
// the rules of PasswordProblems.
func NewPasswordProblems(pw, name, email string) []string {
	if strings.TrimSpace(pw) == "" {
		return []string{MsgBlank}
	}
	return PasswordProblems(pw, map[string]string{"name": name, "email address": email})
}

// LoginInput is what signing in takes.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Unreadable holds the fields a transport could not decode.
	Unreadable FieldErrors `json:"-"`
}

// Validate checks that both fields are given.
func (in *LoginInput) Validate() error {
	fe := in.Unreadable.clone()
	in.Email = NormalizeEmail(in.Email)
	if in.Email == "" && !fe.has("email") {
		fe.Add("email", MsgBlank)
	}
	if in.Password == "" && !fe.has("password") {
		fe.Add("password", MsgBlank)
	}
	return fe.Err()
}

// Password rules: those of Django's default AUTH_PASSWORD_VALIDATORS.
const (
	PasswordMinLength = 8
	// PasswordMaxLength bounds the work a hash does for one request.
	PasswordMaxLength = 256
	maxSimilarity     = 0.7
)

//go:embed common-passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 20000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
	return m
})

// nonWord splits on what Python's \W matches: anything but a Unicode letter,
// digit or underscore (Go's \W is ASCII-only).
var nonWord = regexp.MustCompile(`[^\p{L}\p{N}_]+`)

// PasswordProblems returns every rule pw breaks: too short, entirely numeric,
// too common, or too similar to one of attrs (label -> value), as Django's
// validators define them.
func PasswordProblems(pw string, attrs map[string]string) []string {
	var out []string
	n := utf8.RuneCountInString(pw)
	if n < PasswordMinLength {
		out = append(out, fmt.Sprintf("This password is too short. It must contain at least %d characters.", PasswordMinLength))
	}
	if n > PasswordMaxLength {
		out = append(out, fmt.Sprintf("This password is too long. It must contain at most %d characters.", PasswordMaxLength))
	}
	if strings.TrimFunc(pw, unicode.IsDigit) == "" {
		out = append(out, "This password is entirely numeric.")
	}
	if _, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(pw))]; ok {
		out = append(out, "This password is too common.")
	}
	for _, label := range []string{"name", "email address"} {
		if tooSimilar(pw, attrs[label]) {
			out = append(out, fmt.Sprintf("The password is too similar to the %s.", label))
		}
	}
	return out
}

// tooSimilar is Django's UserAttributeSimilarityValidator: the password is
// compared with the whole value and each of its word parts by difflib's
// quick_ratio, skipping parts far shorter than the password.
func tooSimilar(pw, value string) bool {
	if value == "" {
		return false
	}
	pw = strings.ToLower(pw)
	value = strings.ToLower(value)
	parts := append(nonWord.Split(value, -1), value)
	pwLen := utf8.RuneCountInString(pw)
	for _, part := range parts {
		partLen := utf8.RuneCountInString(part)
		if partLen == 0 {
			continue
		}
		if pwLen >= 10*partLen && float64(partLen) < maxSimilarity/2*float64(pwLen) {
			continue
		}
		if quickRatio(pw, part) >= maxSimilarity {
			return true
		}
	}
	return false
}

// quickRatio is difflib.SequenceMatcher.quick_ratio: twice the size of the
// multiset intersection of the two strings' characters over their total length.
func quickRatio(a, b string) float64 {
	counts := map[rune]int{}
	for _, r := range b {
		counts[r]++
	}
	matches := 0
	for _, r := range a {
		if counts[r] > 0 {
			counts[r]--
			matches++
		}
	}
	total := utf8.RuneCountInString(a) + utf8.RuneCountInString(b)
	if total == 0 {
		return 1
	}
	return 2 * float64(matches) / float64(total)
}

// ChangePasswordInput changes the signed-in user's password.
type ChangePasswordInput struct {
	CurrentPassword    string `json:"current_password"`
	NewPassword        string `json:"new_password"`
	NewPasswordConfirm string `json:"new_password_confirm"`
	// Unreadable holds the fields a transport could not decode.
	Unreadable FieldErrors `json:"-"`
}

// Validate checks presence, confirmation and the password rules against the
// account's name and email.
func (in *ChangePasswordInput) Validate(name, email string) error {
	fe := in.Unreadable.clone()
	if in.CurrentPassword == "" && !fe.has("current_password") {
		fe.Add("current_password", MsgBlank)
	}
	if !fe.has("new_password") {
		for _, msg := range NewPasswordProblems(in.NewPassword, name, email) {
			fe.Add("new_password", msg)
		}
		if in.NewPassword != "" && in.NewPassword == in.CurrentPassword {
			fe.Add("new_password", "The new password must differ from the current one.")
		}
	}
	if in.NewPasswordConfirm != in.NewPassword && !fe.has("new_password_confirm") {
		fe.Add("new_password_confirm", "Passwords do not match.")
	}
	return fe.Err()
}

// SetPasswordInput is a new password chosen for an account by a superuser
// (the admin console's reset).
type SetPasswordInput struct {
	Password        string `json:"password"`
	PasswordConfirm string `json:"password_confirm"`
}

// Validate checks the password rules against the account's name and email,
// and the confirmation.
func (in *SetPasswordInput) Validate(name, email string) error {
	var fe FieldErrors
	for _, msg := range NewPasswordProblems(in.Password, name, email) {
		fe.Add("password", msg)
	}
	if strings.TrimSpace(in.PasswordConfirm) == "" {
		fe.Add("password_confirm", MsgBlank)
	} else if in.Password != in.PasswordConfirm {
		fe.Add("password_confirm", "Passwords do not match.")
	}
	return fe.Err()
}
