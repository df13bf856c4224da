package models

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// DateLayout is how a Date is written everywhere: in JSON, GraphQL and SQL.
const DateLayout = "2006-01-02"

// Date is a calendar date without a time of day or zone (a date of birth).
type Date struct{ time.Time }

// NewDate returns the date y-m-d.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// MinYear is the earliest year a Date may have. Year 1 would be the zero
// Date, which means "no date"; nothing this service records is older.
const MinYear = 1000

// ErrDateRange is ParseDate's error for a well-formed date before MinYear.
var ErrDateRange = fmt.Errorf("date must be on or after %d-01-01", MinYear)

// ParseDate parses YYYY-MM-DD, from year MinYear on.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q, use YYYY-MM-DD", s)
	}
	if t.Year() < MinYear {
		return Date{}, ErrDateRange
	}
	return Date{t}, nil
}

// DateOf returns the calendar date of t in t's own zone.
func DateOf(t time.Time) Date { return NewDate(t.Date()) }

// String returns YYYY-MM-DD.
func (d Date) String() string { return d.Format(DateLayout) }

// Age returns the whole years from d to today.
func (d Date) Age(today Date) int {
	age := today.Year() - d.Year()
	if today.Month() < d.Month() || (today.Month() == d.Month() && today.Day() < d.Day()) {
		age--
	}
	return age
}

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("date must be a string")
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalGQL writes "YYYY-MM-DD".
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) }

// UnmarshalGQL reads "YYYY-MM-DD".
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return &Error{Code: CodeInvalid, Message: "Enter a date in YYYY-MM-DD form."}
	}
	p, err := ParseDate(s)
	if err != nil {
		return &Error{Code: CodeInvalid, Message: DateMessage(err)}
	}
	*d = p
	return nil
}

// DateMessage is the client's message for an error of ParseDate.
func DateMessage(err error) string {
	if errors.Is(err, ErrDateRange) {
		return fmt.Sprintf("Enter a date on or after %d-01-01.", MinYear)
	}
	return "Enter a date in YYYY-MM-DD form."
}

// Value stores the date as YYYY-MM-DD text, which both PostgreSQL's date type
// and SQLite accept.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a date from either database.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		*d = NewDate(v.Date())
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("cannot scan %T into Date", src)
}

func (d *Date) scanText(s string) error {
	if len(s) < len(DateLayout) {
		return fmt.Errorf("cannot scan %q into Date", s)
	}
	p, err := ParseDate(s[:len(DateLayout)])
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Money is an amount with two decimals, stored as numeric(10,2). It scans
// whatever either database returns for it: SQLite hands back a whole amount
// as an integer.
type Money float64

// Value stores the amount.
func (m Money) Value() (driver.Value, error) { return float64(m), nil }

// Scan reads an amount.
func (m *Money) Scan(src any) error {
	switch v := src.(type) {
	case float64:
		*m = Money(v)
	case int64:
		*m = Money(v)
	case []byte:
		return m.scanText(string(v))
	case string:
		return m.scanText(v)
	case nil:
		*m = 0
	default:
		return fmt.Errorf("cannot scan %T into Money", src)
	}
	return nil
}

func (m *Money) scanText(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("cannot scan %q into Money", s)
	}
	*m = Money(f)
	return nil
}
