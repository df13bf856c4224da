// Package models holds the domain types of the healthcare backend: the Bun
// models, their enums, the inputs, patches and filters that change or select
// them, their validation, and the one error type every layer returns.
//
// It imports nothing of ours; every other package imports it.
package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Code classifies an Error. Each transport translates a Code exactly once:
// GraphQL to extensions.code, REST to an HTTP status.
type Code string

// The error codes. Internal is the zero-knowledge default for anything that is
// not an *Error: its cause is logged, never shown.
const (
	CodeInvalid         Code = "BAD_USER_INPUT"
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeConflict        Code = "CONFLICT"
	CodeUnavailable     Code = "SERVICE_UNAVAILABLE"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeInternal        Code = "INTERNAL_SERVER_ERROR"
)

// Error is the application error. Message and Fields are safe to show a
// client; Err is the cause, for the log only.
type Error struct {
	Code    Code
	Message string
	// Fields maps a snake_case field name (the REST and database spelling) to
	// every message about it. GraphQL converts the keys to camelCase.
	Fields map[string][]string
	// RetryAfter says when to try again (RateLimited, Unavailable).
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "; %s: %s", k, strings.Join(e.Fields[k], ", "))
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// NotFound reports that a record does not exist or is not the viewer's: the
// two are indistinguishable on purpose.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found."}
}

// Forbidden reports that the viewer may see a record but not change it.
func Forbidden(msg string) *Error {
	return &Error{Code: CodeForbidden, Message: msg}
}

// Conflict reports a change the current state of other records forbids
// (a doctor other accounts' patients are assigned to cannot be deleted).
func Conflict(msg string) *Error {
	return &Error{Code: CodeConflict, Message: msg}
}

// Unauthenticated reports a missing, malformed, expired or revoked credential.
func Unauthenticated(msg string) *Error {
	if msg == "" {
		msg = "Authentication credentials were not provided."
	}
	return &Error{Code: CodeUnauthenticated, Message: msg}
}

// Invalid reports failing fields. fields must not be empty.
func Invalid(fields map[string][]string) *Error {
	return &Error{Code: CodeInvalid, Message: "Validation failed.", Fields: fields}
}

// InvalidField reports one failing field.
func InvalidField(field, msg string) *Error {
	return Invalid(map[string][]string{field: {msg}})
}

// Unavailable reports that a dependency (the database) cannot be reached.
func Unavailable(err error) *Error {
	return &Error{Code: CodeUnavailable, Message: "The service is temporarily unavailable; try again shortly.", Err: err}
}

// RateLimited reports too many attempts; retry after d.
func RateLimited(d time.Duration) *Error {
	if d < time.Second {
		d = time.Second
	}
	return &Error{Code: CodeRateLimited, RetryAfter: d,
		Message: fmt.Sprintf("Too many attempts. Try again in %d seconds.", int(d.Seconds()))}
}

// ErrorCode returns the Code of err, CodeInternal for any other error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// FieldErrors collects validation messages per field; its zero value is ready.
type FieldErrors map[string][]string

// Add records msg against field.
func (f *FieldErrors) Add(field, msg string) {
	if *f == nil {
		*f = FieldErrors{}
	}
	(*f)[field] = append((*f)[field], msg)
}

// has reports whether field has a message.
func (f FieldErrors) has(field string) bool { _, ok := f[field]; return ok }

// clone returns a copy of f (nil for none).
func (f FieldErrors) clone() FieldErrors {
	if len(f) == 0 {
		return nil
	}
	out := make(FieldErrors, len(f))
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Err returns nil when nothing failed, else an Invalid *Error with every field.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}
