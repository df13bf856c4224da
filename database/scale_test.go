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
// table: HC_SCALE_ROWS patients (e.g. 1000000) owned by one user, seeded
// with generate_series. Skipped unless HC_SCALE_ROWS and TEST_DATABASE_URL
// are set; see docs/performance.md for figures.
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
	u := &models.User{Name: "Scale", Email: "scale@example.com", PasswordHash: "x", IsActive: true}
	if err := s.Users.Create(ctx, u); err != nil {
		b.Fatal(err)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO patients (first_name, last_name, email, phone, date_of_birth, gender, city, is_active, created_by, created_at, updated_at)
		SELECT 'First' || g, (ARRAY['Sharma','Rao','Kumar','Mehta','Iyer','Das','Khan','Nair'])[1 + g % 8] || g,
		       'p' || g || '@example.com', '+9198' || lpad(g::text, 8, '0'), DATE '1950-01-01' + (g % 20000),
		       (ARRAY['M','F','O'])[1 + g % 3], (ARRAY['Mumbai','Pune','Delhi','Chennai'])[1 + g % 4], g % 10 <> 0, ?, now(), now()
		FROM generate_series(1, ?) AS g`, u.ID, rows)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE patients`); err != nil {
		b.Fatal(err)
	}
	app.Audit.SetOff(true) // measure the query, not the audit trail
	v := models.Viewer{UserID: u.ID}
	first := 20
	// The cursor of a row 100,000 rows deep: keyset pages cost the same there.
	var deepID int64
	if err := db.NewSelect().Table("patients").Column("id").Order("id DESC").Offset(int64(100000%rows)).Limit(1).Scan(ctx, &deepID); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		f    models.PatientFilter
		pr   models.PageRequest
	}{
		{"page1", models.PatientFilter{}, models.PageRequest{First: &first}},
		{"page_deep_keyset", models.PatientFilter{}, models.PageRequest{First: &first, After: models.Cursor(deepID)}},
		{"search_rare", models.PatientFilter{Search: "first123456"}, models.PageRequest{First: &first}},
		{"search_common_with_total", models.PatientFilter{Search: "sharma"}, models.PageRequest{First: &first, WithTotal: true}},
		{"search_phone", models.PatientFilter{Search: "98000123"}, models.PageRequest{First: &first}},
		{"filter_city_gender", models.PatientFilter{City: "pune", Gender: ptr(models.GenderFemale)}, models.PageRequest{First: &first}},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/rows=%d", c.name, rows), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Patients.List(ctx, v, c.f, c.pr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
