package database_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// TestPatientCounts: the counts of patient lists filtered by the counted
// columns come from patient_counts and its deltas; after creates
// (concurrent ones too), updates that move a patient between buckets or
// not, deletes, a deleted account's cascade and a bulk INSERT that bypasses
// the stores, every such count equals the number of rows, before and after
// the deltas are folded in.
func TestPatientCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s := app.Store
		alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")
		root := models.Viewer{UserID: bob.UserID + 100, Superuser: true}
		genders := []models.Gender{models.GenderMale, models.GenderFemale, models.GenderOther}
		bloods := []models.BloodGroup{models.BloodAPos, models.BloodONeg}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var made []*models.Patient
		for i := range 24 {
			wg.Go(func() {
				in := patientIn(fmt.Sprintf("P%d", i))
				in.Gender = &genders[i%3]
				if i%4 == 0 {
					in.BloodGroup = nil
				} else {
					in.BloodGroup = &bloods[i%2]
				}
				owner := alice
				if i%3 == 0 {
					owner = bob
				}
				p, err := s.Patients.Create(ctx, owner, in)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				made = append(made, p)
				mu.Unlock()
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		active := false
		check := func(stage string) {
			t.Helper()
			for _, v := range []models.Viewer{alice, bob, root} {
				for _, f := range []models.PatientFilter{
					{}, {Gender: &genders[1]}, {IsActive: &active}, {BloodGroup: &bloods[0]},
					{Gender: &genders[0], BloodGroup: &bloods[1], IsActive: ptr(true)},
				} {
					page, err := s.Patients.List(ctx, v, f, models.PageRequest{First: ptr(1), WithTotal: true})
					if err != nil {
						t.Fatal(err)
					}
					q := db.NewSelect().Table("patients").ColumnExpr("count(*)")
					if !v.Superuser {
						q = q.Where("created_by = ?", v.UserID)
					}
					if f.Gender != nil {
						q = q.Where("gender = ?", *f.Gender)
					}
					if f.IsActive != nil {
						q = q.Where("is_active = ?", *f.IsActive)
					}
					if f.BloodGroup != nil {
						q = q.Where("blood_group = ?", *f.BloodGroup)
					}
					var want int
					if err := q.Scan(ctx, &want); err != nil {
						t.Fatal(err)
					}
					if page.Total != want {
						t.Errorf("%s: viewer %d, filter %+v: count %d, rows %d", stage, v.UserID, f, page.Total, want)
					}
				}
			}
		}
		check("after creates")
		compact := func() {
			t.Helper()
			if _, err := s.CompactCounts(ctx); err != nil {
				t.Fatal(err)
			}
		}
		compact()
		check("folded")
		// Move patients between buckets, change one in place, delete one.
		for i, p := range made[:6] {
			owner := models.Viewer{UserID: p.CreatedBy}
			patch := models.PatientPatch{}
			switch i % 3 {
			case 0:
				patch.IsActive = ptr(false)
			case 1:
				patch.Gender = &genders[(i+1)%3]
			case 2:
				patch.City = ptr("Nagpur") // no counted column
			}
			if _, _, err := s.Patients.Update(ctx, owner, p.ID, patch); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Patients.Delete(ctx, models.Viewer{UserID: made[7].CreatedBy}, made[7].ID); err != nil {
			t.Fatal(err)
		}
		check("after updates and a delete")
		// Rows written around the stores, as an import does.
		if _, err := db.ExecContext(ctx, `INSERT INTO patients (first_name, last_name, phone, date_of_birth, gender, is_active, created_by, created_at, updated_at)
			SELECT 'Bulk', 'Row', '+919800000000', '1980-01-01', 'F', true, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
			FROM patients WHERE created_by = ?`, bob.UserID, alice.UserID); err != nil {
			t.Fatal(err)
		}
		check("after a bulk insert")
		compact()
		check("folded again")
		// An account's deletion cascades to its patients.
		if _, err := db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, bob.UserID); err != nil {
			t.Fatal(err)
		}
		check("after the account's cascade")
		compact()
		check("folded at last")
	})
}
