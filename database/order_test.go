package database_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// TestListOrder covers PageRequest.OrderBy on the patient, doctor and
// mapping lists: each allowed column in both directions, NULLs last, ties
// by id, offset paging, scoping, and the invalid combinations.
func TestListOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := apptest.New(t, db, apptest.Options{}).Store
		alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")

		// Patients: names out of id order, one city missing, two alike
		// last names (first name decides), one of bob's.
		type pat struct{ first, last, dob, city string }
		pats := []pat{
			{"Zoe", "Mehta", "1990-01-01", "pune"},
			{"Arun", "Bose", "1970-06-15", ""},
			{"Chitra", "Mehta", "2001-12-31", "Agra"},
			{"bela", "das", "1985-03-03", "Delhi"},
		}
		pid := map[string]int64{}
		for _, p := range pats {
			in := patientIn(p.first)
			in.LastName, in.Email = ptr(p.last), nil
			d, err := models.ParseDate(p.dob)
			if err != nil {
				t.Fatal(err)
			}
			in.DateOfBirth = &d
			in.City = nil
			if p.city != "" {
				in.City = ptr(p.city)
			}
			got, err := s.Patients.Create(ctx, alice, in)
			if err != nil {
				t.Fatal(err)
			}
			pid[p.first] = got.ID
		}
		if _, err := s.Patients.Create(ctx, bob, patientIn("Aaron")); err != nil {
			t.Fatal(err)
		}
		patientNames := func(t *testing.T, pr models.PageRequest) []string {
			t.Helper()
			page, err := s.Patients.List(ctx, alice, models.PatientFilter{}, pr)
			if err != nil {
				t.Fatalf("list %+v: %v", pr, err)
			}
			var out []string
			for _, p := range page.Items {
				out = append(out, p.FirstName)
			}
			return out
		}
		for _, tc := range []struct {
			name    string
			orderBy string
			desc    bool
			want    []string
		}{
			{"patients_name_asc", "name", false, []string{"Arun", "bela", "Chitra", "Zoe"}},
			{"patients_name_desc", "name", true, []string{"Zoe", "Chitra", "bela", "Arun"}},
			{"patients_dob_asc", "date_of_birth", false, []string{"Arun", "bela", "Zoe", "Chitra"}},
			{"patients_dob_desc", "date_of_birth", true, []string{"Chitra", "Zoe", "bela", "Arun"}},
			{"patients_city_asc_null_last", "city", false, []string{"Chitra", "bela", "Zoe", "Arun"}},
			{"patients_city_desc_null_last", "city", true, []string{"Zoe", "bela", "Chitra", "Arun"}},
			{"patients_created_at_asc_ties_by_id", "created_at", false, []string{"Zoe", "Arun", "Chitra", "bela"}},
			{"patients_updated_at_desc", "updated_at", true, []string{"bela", "Chitra", "Arun", "Zoe"}},
			{"patients_gender_ties_by_id_desc", "gender", true, []string{"bela", "Chitra", "Arun", "Zoe"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := patientNames(t, models.PageRequest{OrderBy: tc.orderBy, Desc: tc.desc})
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}

		t.Run("patients_offset_pages", func(t *testing.T) {
			page, err := s.Patients.List(ctx, alice, models.PatientFilter{},
				models.PageRequest{OrderBy: "name", First: ptr(3), WithTotal: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 3 || !page.HasNext || page.HasPrevious || page.Total != 4 {
				t.Fatalf("first page: %d items, next %v, prev %v, total %d", len(page.Items), page.HasNext, page.HasPrevious, page.Total)
			}
			page, err = s.Patients.List(ctx, alice, models.PatientFilter{},
				models.PageRequest{OrderBy: "name", First: ptr(3), Offset: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 || page.Items[0].FirstName != "Zoe" || page.HasNext || !page.HasPrevious {
				t.Fatalf("second page: %+v next %v prev %v", page.Items, page.HasNext, page.HasPrevious)
			}
		})

		t.Run("patients_filter_and_order", func(t *testing.T) {
			page, err := s.Patients.List(ctx, alice, models.PatientFilter{Search: "mehta"}, models.PageRequest{OrderBy: "name", Desc: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 2 || page.Items[0].ID != pid["Zoe"] || page.Items[1].ID != pid["Chitra"] {
				t.Fatalf("got %+v", page.Items)
			}
		})

		t.Run("superuser_sees_all_ordered", func(t *testing.T) {
			page, err := s.Patients.List(ctx, models.Viewer{UserID: alice.UserID, Superuser: true}, models.PatientFilter{}, models.PageRequest{OrderBy: "name"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 5 || page.Items[4].FirstName != "Aaron" { // bob's Aaron Sharma after Zoe Mehta
				var names []string
				for _, p := range page.Items {
					names = append(names, p.FirstName+" "+p.LastName)
				}
				t.Fatalf("got %v", names)
			}
		})

		// Doctors: experience 10+n, fee and city varied.
		fees := []float64{900, 300, 1200}
		cities := []string{"Pune", "", "agra"}
		specs := []models.Specialization{"NEUROLOGY", "CARDIOLOGY", "DERMATOLOGY"}
		lasts := []string{"Rao", "Iyer", "Khan"}
		did := make([]int64, 3)
		for i := range 3 {
			in := doctorIn(i)
			in.ConsultationFee, in.Specialization, in.LastName = ptr(fees[i]), ptr(specs[i]), ptr(lasts[i])
			in.City = nil
			if cities[i] != "" {
				in.City = ptr(cities[i])
			}
			d, err := s.Doctors.Create(ctx, alice, in)
			if err != nil {
				t.Fatal(err)
			}
			did[i] = d.ID
		}
		doctorIDs := func(t *testing.T, orderBy string, desc bool) []int64 {
			t.Helper()
			page, err := s.Doctors.List(ctx, bob, models.DoctorFilter{}, models.PageRequest{OrderBy: orderBy, Desc: desc})
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, d := range page.Items {
				out = append(out, d.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name    string
			orderBy string
			desc    bool
			want    []int64
		}{
			{"doctors_name_asc", "name", false, []int64{did[1], did[2], did[0]}},
			{"doctors_specialization_asc", "specialization", false, []int64{did[1], did[2], did[0]}},
			{"doctors_experience_desc", "experience_years", true, []int64{did[2], did[1], did[0]}},
			{"doctors_fee_asc", "consultation_fee", false, []int64{did[1], did[0], did[2]}},
			{"doctors_fee_desc", "consultation_fee", true, []int64{did[2], did[0], did[1]}},
			{"doctors_city_asc_null_last", "city", false, []int64{did[2], did[0], did[1]}},
			{"doctors_city_desc_null_last", "city", true, []int64{did[0], did[2], did[1]}},
			{"doctors_created_at_asc", "created_at", false, []int64{did[0], did[1], did[2]}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := doctorIDs(t, tc.orderBy, tc.desc); !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}

		// Mappings: Zoe Mehta-Khan (completed), Arun Bose-Rao (active), Chitra Mehta-Iyer (inactive).
		mid := make([]int64, 3)
		for i, m := range []struct {
			patient string
			doctor  int64
			status  models.MappingStatus
		}{
			{"Zoe", did[2], models.StatusCompleted},
			{"Arun", did[0], models.StatusActive},
			{"Chitra", did[1], models.StatusInactive},
		} {
			got, err := s.Mappings.Create(ctx, alice, models.MappingInput{PatientID: ptr(pid[m.patient]), DoctorID: &m.doctor, Status: &m.status})
			if err != nil {
				t.Fatal(err)
			}
			mid[i] = got.ID
		}
		mappingIDs := func(t *testing.T, orderBy string, desc bool) []int64 {
			t.Helper()
			page, err := s.Mappings.List(ctx, alice, models.MappingFilter{}, models.PageRequest{OrderBy: orderBy, Desc: desc})
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, m := range page.Items {
				if m.Patient == nil || m.Doctor == nil {
					t.Fatalf("mapping %d without its parties", m.ID)
				}
				out = append(out, m.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name    string
			orderBy string
			desc    bool
			want    []int64
		}{
			{"mappings_status_asc", "status", false, []int64{mid[1], mid[0], mid[2]}},
			{"mappings_created_at_desc", "created_at", true, []int64{mid[2], mid[1], mid[0]}},
			{"mappings_patient_name_asc", "patient_name", false, []int64{mid[1], mid[2], mid[0]}},
			{"mappings_doctor_name_asc", "doctor_name", false, []int64{mid[2], mid[0], mid[1]}},
			{"mappings_doctor_name_desc", "doctor_name", true, []int64{mid[1], mid[0], mid[2]}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := mappingIDs(t, tc.orderBy, tc.desc); !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			})
		}
		t.Run("mappings_other_user_sees_none", func(t *testing.T) {
			page, err := s.Mappings.List(ctx, bob, models.MappingFilter{}, models.PageRequest{OrderBy: "patient_name", WithTotal: true})
			if err != nil || len(page.Items) != 0 || page.Total != 0 {
				t.Fatalf("got %v, %v", page, err)
			}
		})

		t.Run("default_order_unchanged", func(t *testing.T) {
			page, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{Desc: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := page.Items[0].ID; got != pid["bela"] {
				t.Fatalf("first is %d, want the newest %d", got, pid["bela"])
			}
		})

		// Invalid: an unknown column (also "id", and a column of another
		// entity), and cursors or last with order_by.
		cursor := models.Cursor(pid["Chitra"])
		for _, tc := range []struct {
			name string
			list func() error
			want string // substring of the order_by message
		}{
			{"unknown_column_400", func() error {
				_, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{OrderBy: "phone"})
				return err
			}, "name"},
			{"sql_injection_400", func() error {
				_, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{OrderBy: "p.id; DROP TABLE patients"})
				return err
			}, "date_of_birth"},
			{"doctor_column_on_mappings_400", func() error {
				_, err := s.Mappings.List(ctx, alice, models.MappingFilter{}, models.PageRequest{OrderBy: "consultation_fee"})
				return err
			}, "patient_name"},
			{"id_is_the_default_not_a_column_400", func() error {
				_, err := s.Doctors.List(ctx, alice, models.DoctorFilter{}, models.PageRequest{OrderBy: "id"})
				return err
			}, "experience_years"},
			{"after_with_order_by_400", func() error {
				_, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{OrderBy: "name", First: ptr(2), After: cursor})
				return err
			}, "Cursors"},
			{"before_with_order_by_400", func() error {
				_, err := s.Doctors.List(ctx, alice, models.DoctorFilter{}, models.PageRequest{OrderBy: "name", Last: ptr(2), Before: cursor})
				return err
			}, "Cursors"},
			{"last_with_order_by_400", func() error {
				_, err := s.Mappings.List(ctx, alice, models.MappingFilter{}, models.PageRequest{OrderBy: "status", Last: ptr(2)})
				return err
			}, "Cursors"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.list()
				var me *models.Error
				if code(err) != models.CodeInvalid || !errors.As(err, &me) || len(me.Fields["order_by"]) != 1 {
					t.Fatalf("got %v", err)
				}
				if msg := me.Fields["order_by"][0]; !strings.Contains(msg, tc.want) {
					t.Fatalf("order_by message %q lacks %q", msg, tc.want)
				}
			})
		}
		t.Run("patients_still_there", func(t *testing.T) {
			page, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{WithTotal: true})
			if err != nil || page.Total != 4 {
				t.Fatalf("got %v, %v", page, err)
			}
		})
	})
}
