package database_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// statement is a SELECT a query hook saw, with its parameters' values.
type statement struct {
	query string
	args  []any
}

// recorder keeps the statements a query hook sees.
type recorder struct {
	mu sync.Mutex
	on bool
	qs []statement
}

func (r *recorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (r *recorder) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on && strings.HasPrefix(e.Query, "SELECT") {
		r.qs = append(r.qs, statement{e.Query, database.ArgsOf(ctx)})
	}
}

// capture returns the SELECTs fn runs.
func (r *recorder) capture(fn func()) []statement {
	r.mu.Lock()
	r.on, r.qs = true, nil
	r.mu.Unlock()
	fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.qs
}

// explain returns the plans PostgreSQL picks for st: for a statement with
// parameters, prepared as the server prepares it, both the plan for its
// values (custom) and the one for any values (generic), which PostgreSQL
// switches to after a few executions when it costs no more.
func explain(t *testing.T, db *bun.DB, st statement) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lines := func(q string, args ...any) string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	if len(st.args) == 0 {
		return []string{lines("EXPLAIN " + st.query)}
	}
	if _, err := conn.ExecContext(ctx, "PREPARE plan_test AS "+st.query); err != nil {
		t.Fatalf("prepare %s: %v", st.query, err)
	}
	defer conn.ExecContext(ctx, "DEALLOCATE plan_test")
	defer conn.ExecContext(ctx, "RESET plan_cache_mode")
	var plans []string
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = "+mode); err != nil {
			t.Fatal(err)
		}
		args := slices.Clone(st.args)
		for i, v := range args {
			if ids, ok := v.([]int64); ok {
				args[i] = pgdialect.Array(ids)
			}
		}
		plans = append(plans, lines("EXPLAIN EXECUTE plan_test (?)", bun.In(args)))
	}
	return plans
}

// TestOwnerIndexPlans seeds two accounts, the second's rows all newer and
// ten times as many, and checks that the first account's pages and counts
// are planned on its owner index, not by walking the primary key past the
// other account's rows or scanning the table: with statistics that match
// the data, and with stale ones taken before the newer rows arrived (this
// PostgreSQL runs without autovacuum, and production ones lag too).
func TestOwnerIndexPlans(t *testing.T) {
	if len(dbtest.Kinds(t)) < 2 {
		t.Skip("plans are PostgreSQL's: set TEST_DATABASE_URL")
	}
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.Postgres)
	app := apptest.New(t, db, apptest.Options{})
	s := app.Store
	old, newer := mustUser(t, s, "old@example.com"), mustUser(t, s, "new@example.com")
	root := models.Viewer{UserID: newer.UserID + 1000, Superuser: true}
	seed := func(owner int64, n int) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `INSERT INTO patients (first_name, last_name, email, phone, date_of_birth, gender, city, is_active, created_by, created_at, updated_at)
			SELECT 'F' || g, 'L' || g, 'p' || g || '@example.com', '+9198' || lpad(g::text, 8, '0'), DATE '1970-01-01' + (g % 10000),
			       (ARRAY['M','F','O'])[1 + g % 3], (ARRAY['Mumbai','Pune'])[1 + g % 2], g % 10 <> 0, ?, now(), now()
			FROM generate_series(1, ?) AS g`, owner, n); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO doctors (first_name, last_name, email, phone, specialization, qualification, license_number, experience_years, consultation_fee, is_available, created_at, updated_at)
			VALUES ('D', 'D', ?, '+919800000000', 'OTHER', 'Q', ?, 1, 0, true, now(), now())`, "d"+itoa(owner)+"@example.com", "L"+itoa(owner)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO mappings (patient_id, doctor_id, status, created_by, created_at, updated_at)
			SELECT p.id, (SELECT max(id) FROM doctors), (ARRAY['ACTIVE','INACTIVE','COMPLETED'])[1 + p.id % 3], p.created_by, now(), now()
			FROM patients p WHERE p.created_by = ?`, owner); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO audit_events (occurred_at, user_id, action, record_type, record_id, records, fields, ip, user_agent, request_id)
			SELECT now(), ?, 'read', 'patient', g, '{"patient":[' || g || ']}', '', '', '', '' FROM generate_series(1, ?) AS g`, owner, n); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	db.AddQueryHook(rec)
	var oldIDs []int64 // the old account's newest patients, once seeded
	female, active := models.GenderFemale, models.StatusActive
	uid := old.UserID
	lists := []struct {
		name  string
		index string // the owner index family every statement must use
		// fresh: only with statistics that match the data. A count of
		// mappings filtered by status under stale statistics is left to
		// the planner, which may scan the table (see docs/performance.md);
		// patients are counted from patient_counts.
		fresh bool
		run   func() error
	}{
		{"patients", "patients_owner", false, func() error {
			_, err := s.Patients.List(ctx, old, models.PatientFilter{}, models.PageRequest{WithTotal: true})
			return err
		}},
		{"patients_second_page", "patients_owner", false, func() error {
			_, err := s.Patients.List(ctx, old, models.PatientFilter{}, models.PageRequest{After: models.Cursor(1500)})
			return err
		}},
		{"patients_offset_page", "patients_owner", false, func() error {
			_, err := s.Patients.List(ctx, old, models.PatientFilter{}, models.PageRequest{Offset: 1000})
			return err
		}},
		{"patients_by_gender", "patients_owner", false, func() error {
			_, err := s.Patients.List(ctx, old, models.PatientFilter{Gender: &female}, models.PageRequest{})
			return err
		}},
		{"patients_by_gender_counted", "patients_owner", false, func() error {
			_, err := s.Patients.List(ctx, old, models.PatientFilter{Gender: &female}, models.PageRequest{WithTotal: true})
			return err
		}},
		{"mappings", "mappings_owner", false, func() error {
			_, err := s.Mappings.List(ctx, old, models.MappingFilter{}, models.PageRequest{WithTotal: true})
			return err
		}},
		{"mappings_by_status", "mappings_owner", false, func() error {
			_, err := s.Mappings.List(ctx, old, models.MappingFilter{Status: &active}, models.PageRequest{})
			return err
		}},
		{"mappings_by_status_counted", "mappings_owner", true, func() error {
			_, err := s.Mappings.List(ctx, old, models.MappingFilter{Status: &active}, models.PageRequest{WithTotal: true})
			return err
		}},
		// A search reads its term's matches (the trigram index, or on a
		// table this small the table), never a walk of the owner index or
		// the primary key, for the old account and for the one the
		// statistics know nothing of (see listSpec.search).
		{"patients_search", "search", false, func() error {
			_, err := s.Patients.List(ctx, old, models.PatientFilter{Search: "p1234@"}, models.PageRequest{WithTotal: true})
			return err
		}},
		{"patients_search_newer_account", "search", false, func() error {
			_, err := s.Patients.List(ctx, newer, models.PatientFilter{Search: "p31234@"}, models.PageRequest{WithTotal: true})
			return err
		}},
		// Lookups by ids reach the rows through the ids' index, not by
		// reading every row the account owns.
		{"patients_by_ids", "patients_pkey", false, func() error {
			_, err := s.Patients.ByIDs(ctx, old, oldIDs)
			return err
		}},
		{"mappings_of_patients", "mappings_patient_doctor_key", false, func() error {
			_, err := s.Mappings.ByPatientIDs(ctx, old, oldIDs, nil)
			return err
		}},
		{"audit_of_one_account", "audit_events_user_idx", false, func() error {
			_, err := app.Audit.List(ctx, root, models.AuditFilter{UserID: &uid}, models.PageRequest{WithTotal: true})
			return err
		}},
	}
	check := func(fresh bool) func(t *testing.T) {
		return func(t *testing.T) {
			for _, l := range lists {
				if l.fresh && !fresh {
					continue
				}
				t.Run(l.name, func(t *testing.T) {
					var err error
					qs := rec.capture(func() { err = l.run() })
					if err != nil {
						t.Fatal(err)
					}
					if len(qs) == 0 {
						t.Fatal("no statement")
					}
					for _, q := range qs {
						if len(q.args) == 0 && !strings.Contains(q.query, " LIKE ") {
							t.Errorf("%s: its values are not parameters", q.query)
						}
						for _, plan := range explain(t, db, q) {
							if strings.Contains(q.query, "patient_counts") {
								// A count from the counts (patientCount):
								// a few rows, never the patients themselves.
								if strings.Contains(plan, " on patients ") || strings.Contains(plan, " on patients\n") {
									t.Errorf("%s %v\ncounts patients:\n%s", q.query, q.args, plan)
								}
								continue
							}
							if l.index == "search" {
								if strings.Contains(plan, "patients_owner") || strings.Contains(plan, "patients_pkey") {
									t.Errorf("%s\nplanned as\n%s", q.query, plan)
								}
								continue
							}
							if !strings.Contains(plan, l.index) || strings.Contains(plan, "Seq Scan on patients") ||
								strings.Contains(plan, "Seq Scan on mappings") || strings.Contains(plan, "Seq Scan on audit_events") ||
								strings.Contains(plan, "Backward using patients_pkey") || strings.Contains(plan, "Backward using mappings_pkey") ||
								strings.Contains(plan, "audit_events_pkey") {
								t.Errorf("%s %v\nplanned as\n%s", q.query, q.args, plan)
							}
						}
					}
				})
			}
		}
	}

	seed(old.UserID, 3000)
	if err := db.NewSelect().Table("patients").Column("id").Where("created_by = ?", old.UserID).
		OrderExpr("id DESC").Limit(50).Scan(ctx, &oldIDs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	// The statistics now say the old account owns everything.
	seed(newer.UserID, 30000)
	t.Run("stale_statistics", check(false))
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	t.Run("fresh_statistics", check(true))
}

// TestReadsArePrepared checks that the reads every request makes carry
// their values as parameters: the same text for other values (so each
// connection prepares it once and PostgreSQL plans it once), whatever the
// id, owner, filter value, cursor or page.
func TestReadsArePrepared(t *testing.T) {
	if len(dbtest.Kinds(t)) < 2 {
		t.Skip("prepared statements are PostgreSQL's: set TEST_DATABASE_URL")
	}
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.Postgres)
	app := apptest.New(t, db, apptest.Options{})
	s := app.Store
	a, b := mustUser(t, s, "a@example.com"), mustUser(t, s, "b@example.com")
	var pa, pb []*models.Patient
	for i := range 3 {
		for _, u := range []models.Viewer{a, b} {
			p, err := s.Patients.Create(ctx, u, patientIn("Ann"+itoa(int64(i))))
			if err != nil {
				t.Fatal(err)
			}
			if u == a {
				pa = append(pa, p)
			} else {
				pb = append(pb, p)
			}
		}
	}
	d, err := s.Doctors.Create(ctx, a, doctorIn(1))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []*models.Patient{pa[0], pb[0]} {
		if _, err := s.Mappings.Create(ctx, []models.Viewer{a, b}[i], models.MappingInput{PatientID: &p.ID, DoctorID: &d.ID}); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	db.AddQueryHook(rec)
	male, female := models.GenderMale, models.GenderFemale
	reads := []struct {
		name string
		run  func(u models.Viewer, p *models.Patient, alt bool) error
	}{
		{"patient", func(u models.Viewer, p *models.Patient, _ bool) error {
			_, err := s.Patients.Get(ctx, u, p.ID)
			return err
		}},
		{"patients_page", func(u models.Viewer, p *models.Patient, alt bool) error {
			pr := models.PageRequest{WithTotal: true, First: ptr(20)}
			if alt {
				pr.Offset = 1
			}
			_, err := s.Patients.List(ctx, u, models.PatientFilter{}, pr)
			return err
		}},
		{"patients_after", func(u models.Viewer, p *models.Patient, _ bool) error {
			_, err := s.Patients.List(ctx, u, models.PatientFilter{}, models.PageRequest{After: models.Cursor(p.ID)})
			return err
		}},
		{"patients_filtered", func(u models.Viewer, p *models.Patient, alt bool) error {
			// Not a search: its pattern is written into the text, so that
			// each is planned for its term (listSpec.literal).
			f := models.PatientFilter{Gender: &female, City: "Mumbai"}
			if alt {
				f = models.PatientFilter{Gender: &male, City: "Pune"}
			}
			_, err := s.Patients.List(ctx, u, f, models.PageRequest{WithTotal: true})
			return err
		}},
		{"patients_by_ids", func(u models.Viewer, p *models.Patient, alt bool) error {
			ids := []int64{p.ID}
			if alt {
				ids = []int64{p.ID, p.ID + 1, p.ID + 2}
			}
			_, err := s.Patients.ByIDs(ctx, u, ids)
			return err
		}},
		{"mappings_of_patient", func(u models.Viewer, p *models.Patient, _ bool) error {
			_, _, err := s.Mappings.ForPatient(ctx, u, p.ID, nil)
			return err
		}},
		{"mappings_by_patients", func(u models.Viewer, p *models.Patient, _ bool) error {
			_, err := s.Mappings.ByPatientIDs(ctx, u, []int64{p.ID}, nil)
			return err
		}},
		{"doctors_filtered", func(u models.Viewer, p *models.Patient, alt bool) error {
			spec, fee := models.Specialization("CARDIOLOGY"), 150.0
			if alt {
				spec, fee = "NEUROLOGY", 90.5
			}
			_, err := s.Doctors.List(ctx, u, models.DoctorFilter{Specialization: &spec, MaxFee: &fee, City: "x"}, models.PageRequest{WithTotal: true})
			return err
		}},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			var first, second []statement
			var err1, err2 error
			first = rec.capture(func() { err1 = r.run(a, pa[0], false) })
			second = rec.capture(func() { err2 = r.run(b, pb[0], true) })
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if len(first) == 0 || len(first) != len(second) {
				t.Fatalf("%d and %d statements", len(first), len(second))
			}
			for i := range first {
				if first[i].query != second[i].query {
					t.Errorf("the text differs with the values:\n%s\n%s", first[i].query, second[i].query)
				}
				if len(first[i].args) == 0 {
					t.Errorf("no parameters: %s", first[i].query)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
