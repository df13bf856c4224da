package database

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"healthcare/models"
)

// uniqueFields maps a unique constraint (PostgreSQL's name, or SQLite's
// "table.column" list) to the field and message a client sees.
var uniqueFields = map[string][2]string{
	"users_email_key":                         {"email", "A user with this email already exists."},
	"users.email":                             {"email", "A user with this email already exists."},
	"doctors_email_key":                       {"email", "A doctor with this email already exists."},
	"doctors.email":                           {"email", "A doctor with this email already exists."},
	"doctors_license_number_key":              {"license_number", "A doctor with this license number already exists."},
	"doctors.license_number":                  {"license_number", "A doctor with this license number already exists."},
	"mappings_patient_doctor_key":             {"doctor", "This doctor is already assigned to this patient."},
	"mappings.patient_id, mappings.doctor_id": {"doctor", "This doctor is already assigned to this patient."},
}

// Translate turns a driver error into a *models.Error where it means
// something to a client; see translate. For packages that query the
// database themselves (audit).
func Translate(err error) error { return translate(err) }

// translate turns a driver error into a *models.Error where it means
// something to the client (a unique violation names its field), and marks a
// lost connection as unavailable. Anything else is returned as it is.
// Classification is by SQLSTATE or SQLite's extended code, never by text;
// only the constraint's name is read from SQLite's message, since SQLite
// carries it nowhere else.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var me *models.Error
	if errors.As(err, &me) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgerrcode.UniqueViolation:
			if f, ok := uniqueFields[pgErr.ConstraintName]; ok {
				return &models.Error{Code: models.CodeInvalid, Message: "Validation failed.", Fields: map[string][]string{f[0]: {f[1]}}, Err: err}
			}
		case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow,
			pgerrcode.ConnectionException, pgerrcode.ConnectionDoesNotExist, pgerrcode.ConnectionFailure,
			pgerrcode.SQLClientUnableToEstablishSQLConnection, pgerrcode.SQLServerRejectedEstablishmentOfSQLConnection:
			return models.Unavailable(err)
		}
		return err
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			msg := sqErr.Error()
			if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
				cols := msg[i+len("constraint failed: "):]
				if j := strings.Index(cols, " ("); j >= 0 {
					cols = cols[:j]
				}
				if f, ok := uniqueFields[cols]; ok {
					return &models.Error{Code: models.CodeInvalid, Message: "Validation failed.", Fields: map[string][]string{f[0]: {f[1]}}, Err: err}
				}
			}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return models.Unavailable(err)
		}
		return err
	}
	if isConnError(err) {
		return models.Unavailable(err)
	}
	return err
}

// isConnError reports errors that mean the database could not be reached.
func isConnError(err error) bool {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	// A connection cut mid-query ends in EOF: the statement's outcome is
	// unknown, and the client should retry once the database is back.
	return errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, driver.ErrBadConn) ||
		pgconn.SafeToRetry(err)
}

// notFound turns sql.ErrNoRows into NotFound(what).
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return models.NotFound(what)
	}
	return translate(err)
}
