package djangoimport_test

import (
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"healthcare/database/dbtest"
)

//go:embed testdata/django_sqlite.sql
var djangoSQLite string

//go:embed testdata/django_postgres.sql
var djangoPostgres string

// djangoHash returns a password hash made by Django's own make_password,
// from the auth package's test vectors.
func djangoHash(t testing.TB, hasher, password string) string {
	t.Helper()
	b, err := os.ReadFile("../auth/testdata/django_hashes.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct{ Hasher, Password, Encoded string } `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vectors {
		if v.Hasher == hasher && v.Password == password {
			return v.Encoded
		}
	}
	t.Fatalf("no %s vector for %q", hasher, password)
	return ""
}

// djangoDB is a hand-built database of the Django reference: its tables as
// its migrations create them, filled with rows as Django writes them.
type djangoDB struct {
	db  *sql.DB
	pg  bool
	url string // what import-django is given
}

// newDjangoDB creates an empty Django database of kind k: a SQLite file, or
// on PostgreSQL a fresh database (ours is migrated there too; the table
// names do not meet).
func newDjangoDB(t testing.TB, k dbtest.Kind) *djangoDB {
	t.Helper()
	d := &djangoDB{}
	var schema string
	switch k {
	case dbtest.SQLite:
		path := filepath.Join(t.TempDir(), "db.sqlite3")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		d.db, d.url, schema = db, "sqlite://"+path, djangoSQLite
	case dbtest.Postgres:
		u := dbtest.URL(t)
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		d.db, d.url, d.pg, schema = db, u, true, djangoPostgres
	}
	t.Cleanup(func() { d.db.Close() })
	for _, stmt := range strings.Split(schema, ";\n") {
		if strings.TrimSpace(stmt) == "" || strings.HasPrefix(strings.TrimSpace(stmt), "--") && !strings.Contains(stmt, "CREATE") {
			continue
		}
		if _, err := d.db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return d
}

// ts is a datetime as Django's backend writes it: naive UTC text on
// SQLite, a UTC timestamptz on PostgreSQL.
func (d *djangoDB) ts(s string) string {
	if d.pg {
		return s + "+00"
	}
	return s
}

// insert adds one row; vals are in the order of cols.
func (d *djangoDB) insert(t testing.TB, table, cols string, vals ...any) {
	t.Helper()
	ph := make([]string, len(vals))
	for i := range vals {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, cols, strings.Join(ph, ", "))
	if _, err := d.db.Exec(q, vals...); err != nil {
		t.Fatalf("%s %v: %v", q, vals, err)
	}
}

const (
	userCols    = "id, password, last_login, is_superuser, email, name, is_active, is_staff, date_joined"
	patientCols = "id, first_name, last_name, email, phone, date_of_birth, gender, blood_group, address, city, state, postal_code, country, medical_history, allergies, current_medications, emergency_contact_name, emergency_contact_phone, emergency_contact_relation, is_active, created_at, updated_at, created_by_id"
	doctorCols  = "id, first_name, last_name, email, phone, date_of_birth, gender, specialization, qualification, license_number, experience_years, clinic_name, clinic_address, city, state, postal_code, country, consultation_fee, available_days, available_time, bio, languages_spoken, is_available, created_at, updated_at, created_by_id"
	mappingCols = "id, reason, notes, status, assigned_date, updated_at, assigned_by_id, doctor_id, patient_id"
)

// The fixture's passwords (Django's own hashes of them, from the vectors).
const (
	ashaPassword = "SecurePass123!"
	rootPassword = "pässwörd with ünïcode ✓"
)

// fill writes the fixture: every value mapping and every refusal the
// importer knows, each on its own row. Comments say what each row tests.
func (d *djangoDB) fill(t testing.TB) {
	t.Helper()
	u := func(id int, hash, lastLogin string, super bool, email, name string, active, staff bool, joined string) {
		var ll any
		if lastLogin != "" {
			ll = d.ts(lastLogin)
		}
		d.insert(t, "authentication_user", userCols, id, hash, ll, super, email, name, active, staff, d.ts(joined))
	}
	u(1, djangoHash(t, "pbkdf2_sha256", ashaPassword), "2026-02-01 10:00:00.5", false, "asha@clinic.example", "Asha Rao", true, false, "2026-01-05 09:00:00.123456")
	// Mixed case and a trailing space: stored lower-cased and trimmed; a
	// staff account without superuser becomes a regular one (a note).
	u(2, djangoHash(t, "bcrypt_sha256", ashaPassword), "", false, "Meera@Clinic.Example ", "  Meera Shah ", true, true, "2026-01-06 09:00:00")
	// The same address as user 2 once lower-cased: refused (email).
	u(3, djangoHash(t, "pbkdf2_sha1", ashaPassword), "", false, "meera@clinic.example", "Meera Again", true, false, "2026-01-07 09:00:00")
	// Not an address: refused (email).
	u(4, djangoHash(t, "pbkdf2_sha256", ashaPassword), "", false, "not-an-email", "Nobody", true, false, "2026-01-08 09:00:00")
	u(5, djangoHash(t, "argon2", rootPassword), "", true, "root@clinic.example", "Clinic Root", true, true, "2026-01-02 08:00:00")
	// An unusable password stays unusable; an inactive account stays inactive.
	u(6, djangoHash(t, "unusable", ""), "", false, "inactive@clinic.example", "Gone Away", false, false, "2026-01-09 09:00:00")
	// A hasher we do not verify (md5): kept behind "!", a note.
	u(7, "md5$salt$0123456789abcdef0123456789abcdef", "", false, "legacy@clinic.example", "Legacy User", true, false, "2026-01-10 09:00:00")

	doc := func(id int, first, last, email, phone string, dob any, gender, spec, qual, license string, exp int, city, fee string, available bool, owner any) {
		d.insert(t, "doctors_doctor", doctorCols, id, first, last, email, phone, dob, gender, spec, qual, license, exp,
			"", "", city, "", "", "", fee, "", "", "", "", available, d.ts("2026-01-20 12:00:00.25"), d.ts("2026-01-21 12:00:00"), owner)
	}
	doc(1, "Rajesh", "Kumar", "Dr.Rajesh@Hospital.com", "+919876543220", "1975-03-10", "M", "CARDIOLOGY", "MBBS, MD Cardiology", "mh12345", 15, "Mumbai", "1500.00", true, 1)
	// A specialization of the reference we do not have: OTHER, a note.
	doc(2, "Kavya", "Nair", "kavya@hospital.com", "+919876543221", nil, "", "ENT", "MBBS, MS ENT", "KA-778", 8, "", "750.50", false, 1)
	// A value neither has, and an owner that is not imported: a note each.
	doc(3, "Vikram", "Sethi", "vikram@hospital.com", "+919876543222", nil, "M", "HOMEOPATHY", "BHMS", "DL-55", 3, "Delhi", "0", true, 3)
	// Refused: the phone.
	doc(4, "Bad", "Phone", "bad.phone@hospital.com", "12345", nil, "F", "NEUROLOGY", "MBBS", "XX-1", 2, "", "100", true, 1)
	// Refused: the same license number as doctor 1 once in capitals.
	doc(5, "Dup", "License", "dup@hospital.com", "+919876543223", nil, "F", "ONCOLOGY", "MBBS", "MH12345", 2, "", "100", true, 1)
	// Refused: more years of practice than we accept.
	doc(6, "Old", "Hand", "old@hospital.com", "+919876543224", nil, "M", "RADIOLOGY", "MBBS", "OH-1", 90, "", "100", true, 1)

	pat := func(id int, first, last, email, phone, dob, gender, blood string, medical [3]string, active bool, owner int) {
		d.insert(t, "patients_patient", patientCols, id, first, last, email, phone, dob, gender, blood,
			"12 MG Road", "Mumbai", "MH", "400001", "India", medical[0], medical[1], medical[2],
			"Ravi Rao", "+919812345678", "Brother", active, d.ts("2026-02-10 08:30:00.654321"), d.ts("2026-02-11 08:30:00"), owner)
	}
	pat(1, "Asha", "Rao", "Patient.One@Example.com", "+919876543210", "1990-05-15", "F", "A+",
		[3]string{"Hypertension since 2019", "Penicillin", "Amlodipine 5 mg"}, true, 1)
	pat(2, "Ravi", "Rao", "ravi@example.com", "+919876543211", "1985-01-01", "M", "", [3]string{}, false, 1)
	// A lower-case blood group: our spelling is Django's in capitals.
	pat(3, "Sita", "Shah", "sita@example.com", "+919876543212", "2000-12-31", "F", "ab-", [3]string{"", "Dust", ""}, true, 2)
	// Refused: born after the run's "today" (2026-06-01).
	pat(4, "Future", "Child", "future@example.com", "+919876543213", "2027-01-01", "O", "O+", [3]string{}, true, 1)
	// Refused: its owner (user 3) is refused.
	pat(5, "Orphan", "Row", "orphan@example.com", "+919876543214", "1970-01-01", "M", "B+", [3]string{}, true, 3)
	// Refused: a number without its country code, which Django accepts.
	pat(6, "Local", "Number", "local@example.com", "9876543215", "1970-01-01", "M", "B-", [3]string{}, true, 1)
	pat(7, "Root", "Patient", "rootp@example.com", "+919876543216", "1960-07-07", "O", "O-", [3]string{"Diabetes", "", ""}, true, 5)

	m := func(id int, reason, notes, status string, assignedBy any, doctor, patient int) {
		d.insert(t, "mappings_patientdoctormapping", mappingCols, id, reason, notes, status,
			d.ts("2026-03-01 10:00:00.1"), d.ts("2026-03-02 10:00:00"), assignedBy, doctor, patient)
	}
	m(1, "Hypertension follow-up", "Monthly", "ACTIVE", 1, 1, 1)
	// No assigned_by: the patient's owner stands in.
	m(2, "", "", "INACTIVE", nil, 2, 1)
	// assigned_by not imported (user 3): the patient's owner (2) stands in.
	m(3, "Allergy review", "", "COMPLETED", 3, 3, 3)
	// Refused: its patient is refused.
	m(4, "Checkup", "", "ACTIVE", 1, 1, 4)
	// Refused: its doctor is refused.
	m(5, "Scan", "", "ACTIVE", 1, 4, 2)
	// A lower-case status.
	m(6, "Sugar control", "", "active", 5, 1, 7)
}
