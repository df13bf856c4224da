package models

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Page sizes: the contract's default and maximum.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PageRequest asks for one page of a list ordered newest first (by id,
// descending). GraphQL fills First/After or Last/Before (keyset: page 5,000
// costs what page 1 costs); REST fills First and Offset.
type PageRequest struct {
	First  *int
	After  string
	Last   *int
	Before string
	Offset int
	// OrderBy, when set, orders the list by a column instead: one of the
	// names the entity's store allows (say "name" or "created_at" for
	// patients; an unknown one is Invalid on "order_by"), ties broken by id
	// in the same direction. Desc reverses it; without OrderBy, Desc is
	// ignored. Cursors (After/Before) are keyset on id and so only valid
	// with the default order: with OrderBy, page with First and Offset
	// (After, Before or Last with OrderBy are Invalid on "order_by").
	// GraphQL and REST leave OrderBy empty.
	OrderBy string
	Desc    bool
	// WithTotal asks for the size of the whole filtered set as well.
	WithTotal bool
}

// Page is one page of a list.
type Page[T any] struct {
	Items       []T
	Total       int // the filtered set's size; -1 unless asked for
	HasNext     bool
	HasPrevious bool
}

// Cursor returns the opaque cursor of the record with this id.
func Cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c" + strconv.FormatInt(id, 10)))
}

// ParseCursor returns the id in a cursor made by Cursor.
func ParseCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'c' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return id, err == nil && id > 0
}

// Keyset is a checked PageRequest, ready for a query.
type Keyset struct {
	Limit    int
	Backward bool  // Last/Before: walk ascending, then reverse
	AfterID  int64 // ids below this (forward) or above it (backward); 0: none
	Offset   int
}

// Check validates r and resolves defaults.
func (r PageRequest) Check() (Keyset, error) {
	var fe FieldErrors
	k := Keyset{Limit: DefaultPageSize, Offset: r.Offset}
	if r.First != nil && r.Last != nil {
		fe.Add("last", "Use either first or last, not both.")
	}
	// Pages go one way: forward with first/after, backward with last/before.
	if r.Before != "" && (r.First != nil || r.After != "") {
		fe.Add("before", "Use before with last, not with first or after.")
	}
	if r.After != "" && r.Last != nil {
		fe.Add("after", "Use after with first, not with last.")
	}
	for name, n := range map[string]*int{"first": r.First, "last": r.Last} {
		if n != nil && (*n < 0 || *n > MaxPageSize) {
			fe.Add(name, "must be between 0 and "+strconv.Itoa(MaxPageSize))
		}
	}
	if r.Offset < 0 {
		fe.Add("page", "must be positive")
	}
	if r.OrderBy != "" && (r.After != "" || r.Before != "" || r.Last != nil) {
		fe.Add("order_by", "Cursors page by id: with order_by, use first and an offset (page), not after, before or last.")
	}
	cursor := func(name, c string) int64 {
		if c == "" {
			return 0
		}
		id, ok := ParseCursor(strings.TrimSpace(c))
		if !ok {
			fe.Add(name, "is not a valid cursor")
		}
		return id
	}
	after, before := cursor("after", r.After), cursor("before", r.Before)
	if err := fe.Err(); err != nil {
		return k, err
	}
	switch {
	case r.Last != nil || (before != 0 && r.First == nil):
		k.Backward = true
		k.AfterID = before
		if r.Last != nil {
			k.Limit = *r.Last
		}
	default:
		k.AfterID = after
		if r.First != nil {
			k.Limit = *r.First
		}
	}
	return k, nil
}

// ParseID reads a record id as the APIs spell it: a positive decimal
// integer, no sign, no spaces. Anything else names no record.
func ParseID(s string) (int64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
