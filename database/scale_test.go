package database_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// BenchmarkScale measures the list queries on PostgreSQL with a large
// table: HC_SCALE_ROWS patients (e.g. 1000000), half owned by an account
// whose rows are all old, half by one whose rows are all newer, seeded with
// generate_series, with statistics taken before the newer half arrived (as
// on a server whose autovacuum lags). Each list runs for both accounts: an
// account's page and count must cost the same whoever owns the newer rows.
// Skipped unless HC_SCALE_ROWS and TEST_DATABASE_URL are set; see
// docs/performance.md for figures.
//
//	HC_SCALE_ROWS=1000000 TEST_DATABASE_URL=... go test -run '^$' -bench Scale -benchtime 200x ./database/
func BenchmarkScale(b *testing.B) {
	rows, _ := strconv.Atoi(os.Getenv("HC_SCALE_ROWS"))
	if rows <= 0 || os.Getenv("TEST_DATABASE_URL") == "" {
		b.Skip("set HC_SCALE_ROWS and TEST_DATABASE_URL")
	}
	ctx := context.Background()
	db := dbtest.Open(b, dbtest.Postgres)
	app := apptest.New(b, db, apptest.Options{})
	s := app.Store
	seed := func(email string, from int) models.Viewer {
		u := &models.User{Name: "Scale", Email: email, PasswordHash: "x", IsActive: true}
		if err := s.Users.Create(ctx, u); err != nil {
			b.Fatal(err)
		}
		_, err := db.ExecContext(ctx, `INSERT INTO patients (first_name, last_name, email, phone, date_of_birth, gender, blood_group, city, is_active, created_by, created_at, updated_at)
			SELECT 'First' || g, (ARRAY['Sharma','Rao','Kumar','Mehta','Iyer','Das','Khan','Nair'])[1 + g % 8] || g,
			       'p' || g || '@example.com', '+9198' || lpad(g::text, 8, '0'), DATE '1950-01-01' + (g % 20000),
			       (ARRAY['M','F','O'])[1 + g % 3], (ARRAY['A+','B+','O+','AB-'])[1 + g % 4],
			       (ARRAY['Mumbai','Pune','Delhi','Chennai'])[1 + g % 4], g % 10 <> 0, ?, now(), now()
			FROM generate_series(?, ?) AS g`, u.ID, from, from+rows/2-1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.CompactCounts(ctx); err != nil {
			b.Fatal(err)
		}
		return models.Viewer{UserID: u.ID}
	}
	old := seed("old@example.com", 1)
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	newer := seed("new@example.com", rows/2+1) // after the statistics: they say "old" owns all
	if _, err := db.ExecContext(ctx, `VACUUM`); err != nil {
		b.Fatal(err)
	}
	app.Audit.SetOff(true) // measure the queries, not the audit trail
	first := 20
	female := models.GenderFemale
	active := true
	for _, who := range []struct {
		name string
		v    models.Viewer
	}{{"old_account", old}, {"new_account", newer}} {
		// The cursor of a row 100,000 rows deep in the account's list.
		var deepID int64
		if err := db.NewSelect().Table("patients").Column("id").Where("created_by = ?", who.v.UserID).
			Order("id DESC").Offset(int64(100000%(rows/2))).Limit(1).Scan(ctx, &deepID); err != nil {
			b.Fatal(err)
		}
		cases := []struct {
			name string
			f    models.PatientFilter
			pr   models.PageRequest
		}{
			{"page1", models.PatientFilter{}, models.PageRequest{First: &first}},
			{"page1_with_total", models.PatientFilter{}, models.PageRequest{First: &first, WithTotal: true}},
			{"page_deep_keyset", models.PatientFilter{}, models.PageRequest{First: &first, After: models.Cursor(deepID)}},
			{"page_offset_1000", models.PatientFilter{}, models.PageRequest{First: &first, Offset: 1000, WithTotal: true}},
			{"gender_active_with_total", models.PatientFilter{Gender: &female, IsActive: &active}, models.PageRequest{First: &first, WithTotal: true}},
			{"city_gender", models.PatientFilter{City: "pune", Gender: &female}, models.PageRequest{First: &first}},
			{"search_rare", models.PatientFilter{Search: "first123456"}, models.PageRequest{First: &first}},
			{"search_phone", models.PatientFilter{Search: "98000123"}, models.PageRequest{First: &first}},
			{"search_common_with_total", models.PatientFilter{Search: "sharma"}, models.PageRequest{First: &first, WithTotal: true}},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%s/rows=%d", c.name, who.name, rows), func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Patients.List(ctx, who.v, c.f, c.pr); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
