package djangoimport_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/djangoimport"
	"healthcare/models"
)

// fixtureToday is the date the fixture's dates of birth are checked against.
var fixtureToday = models.NewDate(2026, time.June, 1)

// testCipher seals medical fields in these tests; the stores open them with
// it too.
func testCipher(t *testing.T) *database.FieldCipher {
	t.Helper()
	c, err := database.NewFieldCipher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// importRun runs one import of src into db and returns its report and
// every problem it reported, as "table id refused|note field,field|reason".
func importRun(t *testing.T, src string, db *bun.DB, c *database.FieldCipher, opts djangoimport.Options) (*djangoimport.Report, []string, error) {
	t.Helper()
	ctx := context.Background()
	s, err := djangoimport.OpenSource(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var problems []string
	opts.OnProblem = func(p djangoimport.Problem) { problems = append(problems, brief(p)) }
	if opts.Today.IsZero() {
		opts.Today = fixtureToday
	}
	im := &djangoimport.Importer{Source: s, Target: db, Sealer: c, Audit: audit.Imports{Trail: audit.New(db, nil), Run: "test"}, Options: opts}
	rep, err := im.Run(ctx)
	sort.Strings(problems)
	return rep, problems, err
}

// brief names a problem by table, id, kind and failing fields (or, for a
// note, the start of its reason).
func brief(p djangoimport.Problem) string {
	kind := "note"
	if p.Refused {
		kind = "refused"
	}
	var what []string
	for f := range p.Fields {
		what = append(what, f)
	}
	sort.Strings(what)
	if p.Reason != "" {
		r, _, _ := strings.Cut(p.Reason, ":")
		what = append(what, r)
	}
	return strings.Join([]string{p.Table, itoa(p.ID), kind, strings.Join(what, ",")}, " ")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// wantProblems is every refusal and note the fixture must produce.
var wantProblems = []string{
	"authentication_user 2 note is_staff",
	"authentication_user 3 refused email",
	"authentication_user 4 refused email",
	"authentication_user 7 note password",
	"doctors_doctor 2 note specialization",
	"doctors_doctor 3 note created_by",
	"doctors_doctor 3 note specialization",
	"doctors_doctor 4 refused phone",
	"doctors_doctor 5 refused license_number",
	"doctors_doctor 6 refused experience_years",
	"mappings_patientdoctormapping 4 refused patient",
	"mappings_patientdoctormapping 5 refused doctor",
	"patients_patient 4 refused date_of_birth",
	"patients_patient 5 refused created_by",
	"patients_patient 6 refused phone",
}

// wantCounts is, per Django table, the rows written and refused.
var wantCounts = map[string][2]int64{
	"authentication_user":           {5, 2},
	"doctors_doctor":                {3, 3},
	"patients_patient":              {4, 3},
	"mappings_patientdoctormapping": {4, 2},
}

func checkCounts(t *testing.T, rep *djangoimport.Report, present bool) {
	t.Helper()
	if len(rep.Tables) != 4 {
		t.Fatalf("report has %d tables", len(rep.Tables))
	}
	for _, tr := range rep.Tables {
		want := wantCounts[tr.Table]
		gotWritten := tr.Written
		if present {
			gotWritten = tr.Present
			if tr.Written != 0 {
				t.Errorf("%s: written again: %+v", tr.Table, tr)
			}
		}
		if gotWritten != want[0] || tr.Refused != want[1] || tr.Read != tr.Total || tr.Total != want[0]+want[1] {
			t.Errorf("%s: %+v, want written/present %d refused %d", tr.Table, tr, want[0], want[1])
		}
	}
}

func count(t *testing.T, db *bun.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func sources(t *testing.T) []dbtest.Kind { return dbtest.Kinds(t) }

// TestImport imports the hand-built Django database (on each database as
// source, into each as target): a dry run, a run stopped by a refused
// row, a run that skips them, and a second run that imports nothing.
func TestImport(t *testing.T) {
	c := testCipher(t)
	for _, sk := range sources(t) {
		t.Run("from_"+string(sk), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *bun.DB) {
				src := newDjangoDB(t, sk)
				src.fill(t)
				ctx := context.Background()

				t.Run("dry_run_writes_nothing", func(t *testing.T) {
					var progress strings.Builder
					rep, problems, err := importRun(t, src.url, db, c, djangoimport.Options{DryRun: true, Progress: &progress})
					if err != nil {
						t.Fatal(err)
					}
					// Not a terminal: one line per table.
					if lines := strings.Split(strings.TrimSpace(progress.String()), "\n"); len(lines) != 4 ||
						!strings.HasPrefix(lines[2], "patients_patient") || !strings.Contains(lines[2], "7/7 rows (100%)") ||
						!strings.Contains(lines[2], "rows/s in ") || strings.Contains(progress.String(), "\r") {
						t.Errorf("progress:\n%s", progress.String())
					}
					if !equal(problems, wantProblems) {
						t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(wantProblems, "\n"))
					}
					checkCounts(t, rep, false)
					for _, tbl := range []string{"users", "patients", "doctors", "mappings", "audit_events"} {
						if n := count(t, db, "SELECT count(*) FROM "+tbl); n != 0 {
							t.Errorf("dry run wrote %d rows into %s", n, tbl)
						}
					}
				})

				t.Run("refused_row_stops_before_its_batch", func(t *testing.T) {
					_, problems, err := importRun(t, src.url, db, c, djangoimport.Options{BatchSize: 3})
					if !errors.Is(err, djangoimport.ErrRefused) || !strings.Contains(err.Error(), "authentication_user") {
						t.Fatalf("err = %v, want ErrRefused naming authentication_user", err)
					}
					if !equal(problems, []string{"authentication_user 2 note is_staff", "authentication_user 3 refused email"}) {
						t.Fatalf("problems: %v", problems)
					}
					if n := count(t, db, "SELECT count(*) FROM users"); n != 0 {
						t.Errorf("the stopped batch wrote %d users", n)
					}
				})

				t.Run("skip_invalid_imports_the_rest", func(t *testing.T) {
					rep, problems, err := importRun(t, src.url, db, c, djangoimport.Options{SkipInvalid: true, BatchSize: 2})
					if err != nil {
						t.Fatal(err)
					}
					if !equal(problems, wantProblems) {
						t.Fatalf("problems:\n%s", strings.Join(problems, "\n"))
					}
					checkCounts(t, rep, false)
					checkImported(t, db, c)
				})

				t.Run("second_run_imports_nothing", func(t *testing.T) {
					events := count(t, db, "SELECT count(*) FROM audit_events")
					rep, _, err := importRun(t, src.url, db, c, djangoimport.Options{SkipInvalid: true, BatchSize: 4})
					if err != nil {
						t.Fatal(err)
					}
					checkCounts(t, rep, true)
					if n := count(t, db, "SELECT count(*) FROM audit_events"); n != events {
						t.Errorf("audit events %d -> %d", events, n)
					}
				})

				t.Run("sequences_are_past_the_imported_ids", func(t *testing.T) {
					st := database.New(db, database.Options{})
					u := &models.User{Name: "New", Email: "new@clinic.example", PasswordHash: "!", IsActive: true}
					if err := st.Users.Create(ctx, u); err != nil {
						t.Fatal(err)
					}
					if u.ID <= 7 {
						t.Errorf("new user id %d, want > 7", u.ID)
					}
					for _, tbl := range []string{"patients", "doctors", "mappings"} {
						var id int64
						var q string
						switch tbl {
						case "patients":
							q = `INSERT INTO patients (first_name, last_name, phone, date_of_birth, gender, is_active, created_by, created_at, updated_at) VALUES ('N', 'N', '+919999999999', '2000-01-01', 'M', true, 1, ?, ?) RETURNING id`
						case "doctors":
							q = `INSERT INTO doctors (first_name, last_name, email, phone, specialization, qualification, license_number, experience_years, consultation_fee, is_available, created_at, updated_at) VALUES ('N', 'N', 'n@x.example', '+919999999999', 'OTHER', 'Q', 'NEW-1', 1, 0, true, ?, ?) RETURNING id`
						case "mappings":
							q = `INSERT INTO mappings (patient_id, doctor_id, status, created_by, created_at, updated_at) VALUES (2, 2, 'ACTIVE', 1, ?, ?) RETURNING id`
						}
						now := time.Now().UTC()
						if err := db.QueryRowContext(ctx, q, now, now).Scan(&id); err != nil {
							t.Fatalf("%s: %v", tbl, err)
						}
						// Past every id of the source table, imported or refused.
						if top := map[string]int64{"patients": 7, "doctors": 6, "mappings": 6}[tbl]; id <= top {
							t.Errorf("new %s id %d, want > %d", tbl, id, top)
						}
					}
				})
			})
		})
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// checkImported reads back what the fixture's import wrote, through the
// stores where they show it (so the medical fields open with our key) and
// as raw rows where they do not.
func checkImported(t *testing.T, db *bun.DB, c *database.FieldCipher) {
	t.Helper()
	ctx := context.Background()
	st := database.New(db, database.Options{Cipher: c})

	t.Run("users", func(t *testing.T) {
		var ids []int64
		if err := db.NewSelect().Table("users").Column("id").Order("id").Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		if !equalIDs(ids, 1, 2, 5, 6, 7) {
			t.Fatalf("user ids %v", ids)
		}
		u, err := st.Users.ByID(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "asha@clinic.example" || u.Name != "Asha Rao" || !u.IsActive || u.IsSuperuser ||
			!u.DateJoined.Equal(time.Date(2026, 1, 5, 9, 0, 0, 123456000, time.UTC)) ||
			u.LastLogin == nil || !u.LastLogin.Equal(time.Date(2026, 2, 1, 10, 0, 0, 500000000, time.UTC)) {
			t.Errorf("user 1: %+v", u)
		}
		if ok, err := auth.CheckPassword(u.PasswordHash, ashaPassword); !ok || err != nil {
			t.Errorf("user 1 Django password: %v %v (hash %q)", ok, err, u.PasswordHash)
		}
		if !auth.NeedsRehash(u.PasswordHash) {
			t.Error("a Django hash does not need rehashing")
		}
		u2, _ := st.Users.ByEmail(ctx, "meera@clinic.example")
		if u2.ID != 2 || u2.Name != "Meera Shah" || u2.IsSuperuser || u2.LastLogin != nil {
			t.Errorf("user 2: %+v", u2)
		}
		if ok, err := auth.CheckPassword(u2.PasswordHash, ashaPassword); !ok || err != nil {
			t.Errorf("user 2 bcrypt_sha256 password: %v %v", ok, err)
		}
		root, _ := st.Users.ByID(ctx, 5)
		if !root.IsSuperuser {
			t.Error("user 5 is not a superuser")
		}
		if ok, err := auth.CheckPassword(root.PasswordHash, rootPassword); !ok || err != nil {
			t.Errorf("user 5 argon2 password: %v %v", ok, err)
		}
		gone, _ := st.Users.ByID(ctx, 6)
		if gone.IsActive || !auth.IsUnusable(gone.PasswordHash) {
			t.Errorf("user 6: active %v, hash %q", gone.IsActive, gone.PasswordHash)
		}
		legacy, _ := st.Users.ByID(ctx, 7)
		if legacy.PasswordHash != "!md5$salt$0123456789abcdef0123456789abcdef" {
			t.Errorf("user 7 hash %q", legacy.PasswordHash)
		}
		if ok, err := auth.CheckPassword(legacy.PasswordHash, "anything"); ok || err != nil {
			t.Errorf("user 7 unusable: %v %v", ok, err)
		}
	})

	t.Run("doctors", func(t *testing.T) {
		v := models.Viewer{UserID: 1}
		d1, err := st.Doctors.Get(ctx, v, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d1.Email != "dr.rajesh@hospital.com" || d1.LicenseNumber != "MH12345" || d1.Specialization != "CARDIOLOGY" ||
			d1.ConsultationFee != 1500 || d1.ExperienceYears != 15 || d1.Gender == nil || *d1.Gender != "M" ||
			d1.DateOfBirth == nil || d1.DateOfBirth.String() != "1975-03-10" || d1.City == nil || *d1.City != "Mumbai" ||
			d1.ClinicName != nil || !d1.IsAvailable || d1.CreatedBy == nil || *d1.CreatedBy != 1 ||
			!d1.CreatedAt.Equal(time.Date(2026, 1, 20, 12, 0, 0, 250000000, time.UTC)) ||
			!d1.UpdatedAt.Equal(time.Date(2026, 1, 21, 12, 0, 0, 0, time.UTC)) {
			t.Errorf("doctor 1: %+v", d1)
		}
		d2, _ := st.Doctors.Get(ctx, v, 2)
		if d2.Specialization != "OTHER" || d2.ConsultationFee != 750.5 || d2.Gender != nil || d2.DateOfBirth != nil || d2.IsAvailable {
			t.Errorf("doctor 2: %+v", d2)
		}
		d3, _ := st.Doctors.Get(ctx, v, 3)
		if d3.Specialization != "OTHER" || d3.CreatedBy != nil {
			t.Errorf("doctor 3: %+v", d3)
		}
	})

	t.Run("patients", func(t *testing.T) {
		p1, err := st.Patients.Get(ctx, models.Viewer{UserID: 1}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p1.Email == nil || *p1.Email != "patient.one@example.com" || p1.BloodGroup == nil || *p1.BloodGroup != "A+" ||
			p1.Gender != "F" || p1.DateOfBirth.String() != "1990-05-15" || p1.MedicalHistory == nil ||
			*p1.MedicalHistory != "Hypertension since 2019" || p1.Allergies == nil || *p1.Allergies != "Penicillin" ||
			p1.CurrentMedications == nil || *p1.CurrentMedications != "Amlodipine 5 mg" || !p1.IsActive ||
			p1.EmergencyContactPhone == nil || *p1.EmergencyContactPhone != "+919812345678" ||
			!p1.CreatedAt.Equal(time.Date(2026, 2, 10, 8, 30, 0, 654321000, time.UTC)) {
			t.Errorf("patient 1: %+v", p1)
		}
		// The medical fields are sealed at rest.
		var raw []string
		if err := db.NewSelect().Table("patients").ColumnExpr("medical_history").Where("id = 1").Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) != 1 || !strings.HasPrefix(raw[0], "enc:v1:") {
			t.Errorf("medical_history at rest: %q", raw)
		}
		p2, _ := st.Patients.Get(ctx, models.Viewer{UserID: 1}, 2)
		if p2.BloodGroup != nil || p2.MedicalHistory != nil || p2.IsActive {
			t.Errorf("patient 2: %+v", p2)
		}
		if _, err := st.Patients.Get(ctx, models.Viewer{UserID: 1}, 3); models.ErrorCode(err) != models.CodeNotFound {
			t.Errorf("user 1 sees user 2's patient: %v", err)
		}
		p3, err := st.Patients.Get(ctx, models.Viewer{UserID: 2}, 3)
		if err != nil || p3.BloodGroup == nil || *p3.BloodGroup != "AB-" || p3.MedicalHistory != nil || p3.Allergies == nil {
			t.Errorf("patient 3: %+v %v", p3, err)
		}
	})

	t.Run("mappings", func(t *testing.T) {
		type row struct {
			ID, PatientID, DoctorID, CreatedBy int64
			Status                             string
			Reason                             *string
		}
		var rows []row
		if err := db.NewSelect().Table("mappings").Column("id", "patient_id", "doctor_id", "created_by", "status", "reason").Order("id").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(rows))
		for i, r := range rows {
			reason := "-"
			if r.Reason != nil {
				reason = *r.Reason
			}
			got[i] = strings.Join([]string{itoa(r.ID), itoa(r.PatientID), itoa(r.DoctorID), itoa(r.CreatedBy), r.Status, reason}, " ")
		}
		want := []string{
			"1 1 1 1 ACTIVE Hypertension follow-up",
			"2 1 2 1 INACTIVE -",
			"3 3 3 2 COMPLETED Allergy review",
			"6 7 1 5 ACTIVE Sugar control",
		}
		if !equal(got, want) {
			t.Errorf("mappings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("audit", func(t *testing.T) {
		// Import events name every row they cover, by record type.
		imp := models.AuditImport
		page, err := audit.New(db, nil).List(ctx, models.Viewer{UserID: 1 << 40, Superuser: true},
			models.AuditFilter{Action: &imp}, models.PageRequest{First: new(100)})
		if err != nil {
			t.Fatal(err)
		}
		named := map[string]int{}
		patient7 := 0
		for _, e := range page.Items {
			if e.UserID != nil {
				t.Errorf("import event %d has an acting user", e.ID)
			}
			for _, r := range e.RecordRefs() {
				named[r.Type]++
				if r.Type == models.AuditPatient && r.ID == 7 {
					patient7++
				}
			}
		}
		got := []string{}
		for _, typ := range []string{"doctor", "mapping", "patient", "user"} {
			got = append(got, typ+" "+itoa(int64(named[typ])))
		}
		if !equal(got, []string{"doctor 3", "mapping 4", "patient 4", "user 5"}) {
			t.Errorf("records named by import events: %v", got)
		}
		if patient7 != 1 {
			t.Errorf("patient 7 named by %d import events, want 1", patient7)
		}
	})
}

func equalIDs(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestOpenSource(t *testing.T) {
	ctx := context.Background()
	src := newDjangoDB(t, dbtest.SQLite)
	path := strings.TrimPrefix(src.url, "sqlite://")
	for _, ok := range []string{"sqlite://" + path, "sqlite:///" + path, "sqlite:" + path} {
		s, err := djangoimport.OpenSource(ctx, ok)
		if err != nil {
			t.Errorf("OpenSource(%q): %v", ok, err)
			continue
		}
		if s.String() != path {
			t.Errorf("OpenSource(%q) opened %q", ok, s.String())
		}
		s.Close()
	}
	for _, bad := range []string{"", "mysql://x@y/z", "sqlite://", "sqlite:///nonexistent/db.sqlite3", "/tmp/db.sqlite3"} {
		if s, err := djangoimport.OpenSource(ctx, bad); err == nil {
			s.Close()
			t.Errorf("OpenSource(%q) = nil error", bad)
		}
	}
	// A database that is not the reference's is refused before anything is read.
	other := filepath.Join(t.TempDir(), "other.sqlite3")
	odb, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := odb.Exec(`CREATE TABLE authentication_user (id integer primary key)`); err != nil {
		t.Fatal(err)
	}
	odb.Close()
	s, err := djangoimport.OpenSource(ctx, "sqlite://"+other)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	im := &djangoimport.Importer{Source: s, Target: dbtest.Open(t, dbtest.SQLite), Sealer: testCipher(t), Audit: audit.Imports{}}
	if _, err := im.Run(ctx); err == nil || !strings.Contains(err.Error(), "not a database of the Django reference") {
		t.Errorf("Run on another database: %v", err)
	}
}
