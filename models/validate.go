package models

import (
	"fmt"
	"math"
	"net/mail"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Messages shown for failing fields. They follow Django REST framework's
// wording where the REST contract's users will have seen it.
const (
	MsgRequired = "This field is required."
	MsgBlank    = "This field may not be blank."
	MsgNull     = "This field may not be null."
	MsgControl  = "Control characters are not allowed."
	MsgBadRef   = "Invalid pk - object does not exist."
)

var (
	e164 = regexp.MustCompile(PhonePattern)
	// emailShape rejects what net/mail accepts but no mailbox has: display
	// names, quoted locals, IP literals, dotless domains, non-ASCII.
	emailShape = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
)

// Today is the date dates of birth are checked against: today in UTC.
func Today() Date { return DateOf(time.Now().UTC()) }

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

// NormalizeEmail trims an address, folds its compatibility characters
// (NFKC: a full-width "ａ" is "a") and lower-cases it: addresses are unique
// regardless of case, and two spellings of one address must not make two
// accounts.
func NormalizeEmail(s string) string {
	return strings.ToLower(norm.NFKC.String(strings.TrimSpace(s)))
}

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

// ChoiceMessage is the one message for a value that is not one of choices.
func ChoiceMessage(value string, choices []string) string {
	return fmt.Sprintf("%q is not a valid choice; use one of %s.", value, strings.Join(choices, ", "))
}

// HasControl reports whether s holds a character that has no place in
// stored text: C0 and C1 controls (tab and line feed are allowed where
// multiline is set), DEL, and the bidirectional overrides and isolates
// (U+202A-U+202E, U+2066-U+2069) that make text display other than it reads.
func HasControl(s string, multiline bool) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n':
			if !multiline {
				return true
			}
		case r < 0x20, r >= 0x7f && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return true
		}
	}
	return false
}

// Unreadable, in an input, holds the fields a transport could not decode
// (a number sent for a date, text for a number): Validate reports them with
// every other failing field, so a client hears of all its mistakes at once.
// The decoders fill it; it is never read from the client.

// validate checks in (a pointer to a struct bound to e) field by field
// against e, normalizing in place, and returns every failing field in one
// Invalid error. With full (create, full replacement) required fields must
// be present. Fields listed in skip are not part of this input.
func validate(e *Entity, in any, full bool, today Date, skip ...string) error {
	v := reflect.ValueOf(in).Elem()
	b := bind(e, v.Type(), skip...)
	var fe FieldErrors
	unreadable, _ := v.FieldByIndex(b.probs).Interface().(FieldErrors)
	for name, msgs := range unreadable {
		for _, m := range msgs {
			fe.Add(name, m)
		}
	}
	for i, f := range b.fields {
		if _, bad := unreadable[f.Name]; bad {
			continue
		}
		checkField(&fe, f, v.FieldByIndex(b.index[i]), full, today)
	}
	return fe.Err()
}

// checkField checks one field (a pointer: nil when absent) of kind f.Kind.
func checkField(fe *FieldErrors, f Field, p reflect.Value, full bool, today Date) {
	v := p
	if p.Kind() == reflect.Pointer {
		if p.IsNil() {
			if f.Required && full {
				fe.Add(f.Name, MsgRequired)
			}
			return
		}
		v = p.Elem()
	}
	switch f.Kind {
	case KindText, KindMultiline, KindEmail, KindPhone, KindCode:
		s := strings.TrimSpace(v.String())
		switch f.Kind {
		case KindMultiline:
			s = strings.ReplaceAll(s, "\r\n", "\n")
		case KindEmail:
			s = NormalizeEmail(s)
		case KindPhone:
			s = NormalizePhone(s)
		case KindCode:
			s = strings.ToUpper(s)
		}
		v.SetString(s)
		switch {
		case s == "":
			if f.Required {
				fe.Add(f.Name, MsgBlank)
			}
		case f.MaxLen > 0 && utf8.RuneCountInString(s) > f.MaxLen:
			fe.Add(f.Name, fmt.Sprintf("Ensure this field has no more than %d characters.", f.MaxLen))
		case strings.ContainsRune(s, 0):
			fe.Add(f.Name, "Null characters are not allowed.")
		case HasControl(s, f.Kind == KindMultiline):
			fe.Add(f.Name, MsgControl)
		case f.Kind == KindEmail && !ValidEmail(s):
			fe.Add(f.Name, "Enter a valid email address.")
		case f.Kind == KindPhone && !ValidPhone(s):
			fe.Add(f.Name, "Enter a valid phone number in international format, e.g. +919876543210.")
		}
	case KindBirthDate:
		d := v.Interface().(Date)
		switch {
		case d.IsZero():
			if f.Required {
				fe.Add(f.Name, MsgRequired)
			}
		case d.After(today.Time):
			fe.Add(f.Name, "must not be in the future")
		case d.Age(today) > MaxAge:
			fe.Add(f.Name, fmt.Sprintf("Age must be between 0 and %d years.", MaxAge))
		}
	case KindEnum:
		s := v.String()
		switch {
		case s == "" && (f.Required || f.NotNull && !full):
			fe.Add(f.Name, MsgBlank)
		case s == "":
			// clears it, or (NotNull, on create) takes the default
		case !contains(f.Enum, s):
			fe.Add(f.Name, ChoiceMessage(s, f.Enum))
		}
	case KindInt:
		if n := float64(v.Int()); n < f.Min || n > f.Max {
			fe.Add(f.Name, fmt.Sprintf("Ensure this value is between %g and %g.", f.Min, f.Max))
		}
	case KindMoney:
		x := v.Float()
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0) || x < f.Min:
			fe.Add(f.Name, fmt.Sprintf("Ensure this value is greater than or equal to %g.", f.Min))
		case x > f.Max:
			fe.Add(f.Name, fmt.Sprintf("Ensure this value is less than or equal to %.2f.", f.Max))
		case math.Abs(x*100-math.Round(x*100)) > 1e-6:
			fe.Add(f.Name, "Ensure that there are no more than 2 decimal places.")
		}
	case KindRef:
		if v.Int() <= 0 {
			fe.Add(f.Name, MsgBadRef)
		}
	case KindBool:
	}
}

// MaxSearchLen bounds a search term: a longer one cannot match any name,
// email or phone, and would only cost the database work (SQLite refuses very
// long LIKE patterns outright).
const MaxSearchLen = 200

// CheckSearch rejects a search term over MaxSearchLen characters or with
// control characters, on field (the parameter's name).
func CheckSearch(field, s string) error {
	switch {
	case utf8.RuneCountInString(s) > MaxSearchLen:
		return InvalidField(field, fmt.Sprintf("Ensure this value has at most %d characters.", MaxSearchLen))
	case strings.ContainsRune(s, 0):
		return InvalidField(field, "Null characters are not allowed.")
	case HasControl(s, false):
		return InvalidField(field, MsgControl)
	}
	return nil
}
