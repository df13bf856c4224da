package djangoimport

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for a PostgreSQL source
	_ "modernc.org/sqlite"             // the "sqlite" driver, for a SQLite source

	"healthcare/models"
)

// The reference deployment's tables, as its migrations create them (the app
// label and model name, lower-cased; foreign keys end in _id).
const (
	TableUsers    = "authentication_user"
	TablePatients = "patients_patient"
	TableDoctors  = "doctors_doctor"
	TableMappings = "mappings_patientdoctormapping"
)

// Source is an open Django database, read-only as far as the importer goes.
type Source struct {
	db   *sql.DB
	pg   bool
	name string // for messages: the path, or the URL without its password
}

// OpenSource opens a Django database named by raw:
//
//	postgres://user:pass@host:5432/dbname?sslmode=disable   (or postgresql://)
//	sqlite:///absolute/path/db.sqlite3                      (sqlite:////absolute/path works too)
//	sqlite:relative/path/db.sqlite3
//
// A SQLite file is opened read-only; it must exist.
func OpenSource(ctx context.Context, raw string) (*Source, error) {
	s := &Source{}
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("source: not a valid URL")
		}
		s.pg, s.name = true, u.Redacted()
		db, err := sql.Open("pgx", raw)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.name, err)
		}
		s.db = db
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(raw, "sqlite:")
		if strings.HasPrefix(path, "//") {
			// sqlite:///abs (and sqlite:////abs): the authority is empty and
			// the path is absolute.
			path = "/" + strings.TrimLeft(path, "/")
		}
		if path == "" || path == "/" {
			return nil, fmt.Errorf("source %q names no file", raw)
		}
		path = filepath.Clean(path)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
		s.name = path
		q := url.Values{}
		q.Set("mode", "ro")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "query_only(1)")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.name, err)
		}
		db.SetMaxOpenConns(2)
		s.db = db
	default:
		return nil, fmt.Errorf("source %q: give a postgres:// URL or sqlite:///path/to/db.sqlite3", raw)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.db.PingContext(pingCtx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("source %s: %w", s.name, err)
	}
	return s, nil
}

// Close closes the source.
func (s *Source) Close() error { return s.db.Close() }

// String names the source without its password.
func (s *Source) String() string { return s.name }

// table is what the importer reads of one Django table: its columns in
// order (expressions allowed), and the FROM clause.
type table struct {
	name    string
	columns []string
	from    string
}

var (
	usersTable = table{name: TableUsers, from: TableUsers + " t", columns: []string{
		"t.id", "t.password", "t.last_login", "t.is_superuser", "t.email", "t.name", "t.is_active", "t.is_staff", "t.date_joined",
	}}
	doctorsTable = table{name: TableDoctors, from: TableDoctors + " t", columns: []string{
		"t.id", "t.first_name", "t.last_name", "t.email", "t.phone", "t.date_of_birth", "t.gender", "t.specialization",
		"t.qualification", "t.license_number", "t.experience_years", "t.clinic_name", "t.clinic_address", "t.city",
		"t.state", "t.postal_code", "t.country", "CAST(t.consultation_fee AS TEXT)", "t.available_days",
		"t.available_time", "t.bio", "t.languages_spoken", "t.is_available", "t.created_at", "t.updated_at",
		"t.created_by_id",
	}}
	patientsTable = table{name: TablePatients, from: TablePatients + " t", columns: []string{
		"t.id", "t.first_name", "t.last_name", "t.email", "t.phone", "t.date_of_birth", "t.gender", "t.blood_group",
		"t.address", "t.city", "t.state", "t.postal_code", "t.country", "t.medical_history", "t.allergies",
		"t.current_medications", "t.emergency_contact_name", "t.emergency_contact_phone",
		"t.emergency_contact_relation", "t.is_active", "t.created_at", "t.updated_at", "t.created_by_id",
	}}
	// A mapping is read with its patient's owner: the owner stands in for
	// assigned_by when that account is gone or was not imported.
	mappingsTable = table{name: TableMappings, from: TableMappings + " t JOIN " + TablePatients + " p ON p.id = t.patient_id", columns: []string{
		"t.id", "t.reason", "t.notes", "t.status", "t.assigned_date", "t.updated_at", "t.assigned_by_id",
		"t.doctor_id", "t.patient_id", "p.created_by_id",
	}}
)

// check makes sure every table and column the importer reads is there.
func (s *Source) check(ctx context.Context) error {
	for _, t := range []table{usersTable, doctorsTable, patientsTable, mappingsTable} {
		rows, err := s.db.QueryContext(ctx, "SELECT "+strings.Join(t.columns, ", ")+" FROM "+t.from+" WHERE 1 = 0")
		if err != nil {
			return fmt.Errorf("source %s is not a database of the Django reference (table %s: %v); run its migrations first", s.name, t.name, err)
		}
		rows.Close()
	}
	return nil
}

// count returns how many rows t has.
func (s *Source) count(ctx context.Context, t table) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&n)
	return n, err
}

// maxID returns the largest id of t (0 for none).
func (s *Source) maxID(ctx context.Context, t table) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT max(id) FROM "+t.name).Scan(&n)
	return n.Int64, err
}

// batch reads up to limit rows of t with ids above after, in id order: a
// keyset walk, so every batch costs the same and memory stays bounded.
func (s *Source) batch(ctx context.Context, t table, after int64, limit int) ([][]any, error) {
	q := "SELECT " + strings.Join(t.columns, ", ") + " FROM " + t.from + " WHERE t.id > $1 ORDER BY t.id LIMIT $2"
	rows, err := s.db.QueryContext(ctx, q, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(t.columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", t.name, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	return out, nil
}

// The readers below turn what either driver returns for a column into Go
// values: SQLite hands back text, integers and (for datetime columns)
// time.Time; PostgreSQL typed values.

// text returns v as a string ("" for NULL).
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// integer returns v as an int64; ok is false for NULL.
func integer(v any) (n int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case int32:
		return int64(x), true, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false, fmt.Errorf("not a whole number: %v", x)
		}
		return int64(x), true, nil
	case string, []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(text(x)), 10, 64)
		return n, err == nil, err
	}
	return 0, false, fmt.Errorf("unexpected %T", v)
}

// boolean reads a bool column (SQLite stores 0 and 1).
func boolean(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case string, []byte:
		switch strings.ToLower(strings.TrimSpace(text(x))) {
		case "1", "t", "true":
			return true, nil
		case "0", "f", "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("not a boolean: %v", v)
}

// sqliteTimes are the ways Django's SQLite backend writes a datetime (UTC,
// no zone, with USE_TZ) and what other tools may have left there.
var sqliteTimes = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04",
	"2006-01-02",
}

// timestamp reads a datetime column; ok is false for NULL. A time without
// a zone is UTC (Django stores UTC with USE_TZ).
func timestamp(v any) (t time.Time, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x.UTC(), true, nil
	case string, []byte:
		s := strings.TrimSpace(text(x))
		for _, layout := range sqliteTimes {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t.UTC(), true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("not a date and time: %q", s)
	}
	return time.Time{}, false, fmt.Errorf("not a date and time: %T", v)
}

// date reads a date column; ok is false for NULL (or an empty string).
func date(v any) (d models.Date, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return models.Date{}, false, nil
	case time.Time:
		return models.NewDate(x.Date()), true, nil
	case string, []byte:
		s := strings.TrimSpace(text(x))
		if s == "" {
			return models.Date{}, false, nil
		}
		if len(s) > len(models.DateLayout) {
			s = s[:len(models.DateLayout)]
		}
		d, err := models.ParseDate(s)
		return d, err == nil, err
	}
	return models.Date{}, false, fmt.Errorf("not a date: %T", v)
}
