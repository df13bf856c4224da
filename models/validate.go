package models

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Messages shown for failing fields. They follow Django REST framework's
// wording where the REST contract's users will have seen it.
const (
	MsgRequired = "This field is required."
	MsgBlank    = "This field may not be blank."
)

var (
	// e164 is an international number: a plus, a country code that does not
	// start with 0, and 8 to 15 digits in all.
	e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	// emailShape rejects what net/mail accepts but no mailbox has: display
	// names, quoted locals, IP literals, dotless domains.
	emailShape = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
)

// ValidEmail reports whether s is a plain mailbox address (user@example.com).
func ValidEmail(s string) bool {
	if len(s) > 254 || !emailShape.MatchString(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// ValidPhone reports whether s is an E.164 number such as +919876543210.
func ValidPhone(s string) bool { return e164.MatchString(s) }

// NormalizeEmail trims and lower-cases an address: addresses are unique
// regardless of case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizePhone removes the spaces, dashes, dots and brackets people type
// inside phone numbers, so "+91 98765-43210" is stored as +919876543210.
func NormalizePhone(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\t':
			return -1
		}
		return r
	}, s)
}

// checker validates the fields of one input; fe collects the failures.
type checker struct {
	fe   FieldErrors
	full bool // create or full update: required fields must be present
}

// text trims *p in place and checks presence and length. It returns whether
// the field is present and non-empty.
func (c *checker) text(field string, p *string, required bool, max int) bool {
	if p == nil {
		if required && c.full {
			c.fe.Add(field, MsgRequired)
		}
		return false
	}
	*p = strings.TrimSpace(*p)
	if *p == "" {
		if required {
			c.fe.Add(field, MsgBlank)
		}
		return false
	}
	if max > 0 && utf8.RuneCountInString(*p) > max {
		c.fe.Add(field, fmt.Sprintf("Ensure this field has no more than %d characters.", max))
		return false
	}
	if strings.ContainsRune(*p, 0) {
		c.fe.Add(field, "Null characters are not allowed.")
		return false
	}
	return true
}

func (c *checker) email(field string, p *string, required bool) {
	if p != nil {
		*p = NormalizeEmail(*p)
	}
	if c.text(field, p, required, 254) && !ValidEmail(*p) {
		c.fe.Add(field, "Enter a valid email address.")
	}
}

func (c *checker) phone(field string, p *string, required bool) {
	if p != nil {
		*p = NormalizePhone(*p)
	}
	if c.text(field, p, required, 16) && !ValidPhone(*p) {
		c.fe.Add(field, "Enter a valid phone number in international format, e.g. +919876543210.")
	}
}

func (c *checker) present(field string, isNil bool) bool {
	if isNil {
		if c.full {
			c.fe.Add(field, MsgRequired)
		}
		return false
	}
	return true
}

func enumCheck[T ~string](c *checker, field string, p *T, required bool, valid func(T) bool, choices []T) {
	if p == nil {
		if required && c.full {
			c.fe.Add(field, MsgRequired)
		}
		return
	}
	if *p == "" && !required {
		return
	}
	if !valid(*p) {
		names := make([]string, len(choices))
		for i, v := range choices {
			names[i] = string(v)
		}
		c.fe.Add(field, fmt.Sprintf("%q is not a valid choice; use one of %s.", string(*p), strings.Join(names, ", ")))
	}
}

// birthDate checks a date of birth: not in the future, age at most 150.
func (c *checker) birthDate(field string, d *Date, required bool, today Date) {
	if d == nil {
		if required && c.full {
			c.fe.Add(field, MsgRequired)
		}
		return
	}
	if d.IsZero() {
		if required {
			c.fe.Add(field, MsgRequired)
		}
		return
	}
	switch {
	case d.After(today.Time):
		c.fe.Add(field, "must not be in the future")
	case d.Age(today) > 150:
		c.fe.Add(field, "Age must be between 0 and 150 years.")
	}
}

// MaxSearchLen bounds a search term: a longer one cannot match any name,
// email or phone, and would only cost the database work (SQLite refuses very
// long LIKE patterns outright).
const MaxSearchLen = 200

// CheckSearch rejects a search term over MaxSearchLen characters.
func CheckSearch(s string) error {
	if utf8.RuneCountInString(s) > MaxSearchLen {
		return InvalidField("search", fmt.Sprintf("Ensure this value has at most %d characters.", MaxSearchLen))
	}
	return nil
}
