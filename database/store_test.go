package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

func ptr[T any](v T) *T { return &v }

func mustUser(t *testing.T, s *database.Store, email string) models.Viewer {
	t.Helper()
	u := &models.User{Name: "Test " + email, Email: email, PasswordHash: "x", IsActive: true}
	if err := s.Users.Create(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return models.Viewer{UserID: u.ID}
}

func patientIn(first string) models.PatientInput {
	return models.PatientInput{
		FirstName: ptr(first), LastName: ptr("Sharma"), Phone: ptr("+919876543210"),
		DateOfBirth: ptr(models.NewDate(1990, 5, 15)), Gender: ptr(models.GenderFemale),
		Email: ptr(first + "@Example.com"), City: ptr("Mumbai"), BloodGroup: ptr(models.BloodAPos),
	}
}

func doctorIn(n int) models.DoctorInput {
	return models.DoctorInput{
		FirstName: ptr("Rajesh"), LastName: ptr(fmt.Sprintf("Kumar%d", n)), Email: ptr(fmt.Sprintf("dr%d@hospital.com", n)),
		Phone: ptr("+919876543220"), Specialization: ptr(models.Specialization("CARDIOLOGY")),
		Qualification: ptr("MBBS"), LicenseNumber: ptr(fmt.Sprintf("mh%d", n)), ExperienceYears: ptr(10 + n),
		ConsultationFee: ptr(1500.5), City: ptr("Pune"),
	}
}

func code(err error) models.Code {
	if err == nil {
		return ""
	}
	return models.ErrorCode(err)
}

func TestStores(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := apptest.New(t, db, apptest.Options{}).Store
		alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")

		t.Run("duplicate_user_email", func(t *testing.T) {
			err := s.Users.Create(ctx, &models.User{Name: "A", Email: "alice@example.com", PasswordHash: "x"})
			if e, ok := err.(*models.Error); !ok || e.Code != models.CodeInvalid || len(e.Fields["email"]) != 1 {
				t.Fatalf("got %v", err)
			}
		})

		var ids []int64
		for i := range 25 {
			p, err := s.Patients.Create(ctx, alice, patientIn(fmt.Sprintf("Ann%02d", i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		t.Run("patient_roundtrip", func(t *testing.T) {
			p, err := s.Patients.Get(ctx, alice, ids[3])
			if err != nil {
				t.Fatal(err)
			}
			if p.FirstName != "Ann03" || *p.Email != "ann03@example.com" || p.DateOfBirth.String() != "1990-05-15" || *p.BloodGroup != models.BloodAPos {
				t.Fatalf("got %+v", p)
			}
			if p.CreatedAt.IsZero() || time.Since(p.CreatedAt) > time.Minute {
				t.Fatalf("created_at %v", p.CreatedAt)
			}
		})
		t.Run("other_users_patient_404", func(t *testing.T) {
			if _, err := s.Patients.Get(ctx, bob, ids[3]); code(err) != models.CodeNotFound {
				t.Fatalf("got %v", err)
			}
			if err := s.Patients.Delete(ctx, bob, ids[3]); code(err) != models.CodeNotFound {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("keyset_pages", func(t *testing.T) {
			var seen []int64
			after := ""
			for {
				pg, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{First: ptr(10), After: after, WithTotal: true})
				if err != nil {
					t.Fatal(err)
				}
				if pg.Total != 25 {
					t.Fatalf("total %d", pg.Total)
				}
				for _, p := range pg.Items {
					seen = append(seen, p.ID)
				}
				if !pg.HasNext {
					break
				}
				after = models.Cursor(pg.Items[len(pg.Items)-1].ID)
			}
			if len(seen) != 25 || seen[0] != ids[24] || seen[24] != ids[0] {
				t.Fatalf("seen %v", seen)
			}
			back, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{Last: ptr(5), Before: models.Cursor(ids[10])})
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Items) != 5 || back.Items[0].ID != ids[15] || back.Items[4].ID != ids[11] || !back.HasPrevious || !back.HasNext {
				t.Fatalf("back %+v", back)
			}
		})
		t.Run("search", func(t *testing.T) {
			for q, want := range map[string]int{"ann1": 10, "ANN 0": 0, "ann05 sharma": 1, "example.COM": 25, "98765": 25, "%": 0, "_": 0} {
				pg, err := s.Patients.List(ctx, alice, models.PatientFilter{Search: q}, models.PageRequest{First: ptr(100), WithTotal: true})
				if err != nil {
					t.Fatal(err)
				}
				if pg.Total != want || len(pg.Items) != want {
					t.Errorf("search %q: %d/%d, want %d", q, pg.Total, len(pg.Items), want)
				}
			}
			pg, _ := s.Patients.List(ctx, bob, models.PatientFilter{Search: "ann"}, models.PageRequest{WithTotal: true})
			if pg.Total != 0 {
				t.Errorf("bob sees %d", pg.Total)
			}
		})
		t.Run("doctor_unique_fields", func(t *testing.T) {
			if _, err := s.Doctors.Create(ctx, alice, doctorIn(1)); err != nil {
				t.Fatal(err)
			}
			in := doctorIn(1)
			in.Email = ptr("DR1@hospital.com")
			in.LicenseNumber = ptr("other")
			_, err := s.Doctors.Create(ctx, bob, in)
			if e, ok := err.(*models.Error); !ok || len(e.Fields["email"]) != 1 {
				t.Fatalf("got %v", err)
			}
			in = doctorIn(2)
			in.LicenseNumber = ptr("MH1")
			_, err = s.Doctors.Create(ctx, bob, in)
			if e, ok := err.(*models.Error); !ok || len(e.Fields["license_number"]) != 1 {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("mappings", func(t *testing.T) {
			d, err := s.Doctors.Create(ctx, bob, doctorIn(3))
			if err != nil {
				t.Fatal(err)
			}
			m, err := s.Mappings.Create(ctx, alice, models.MappingInput{PatientID: &ids[0], DoctorID: &d.ID, Reason: ptr("checkup")})
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != models.StatusActive {
				t.Fatal(m.Status)
			}
			_, err = s.Mappings.Create(ctx, alice, models.MappingInput{PatientID: &ids[0], DoctorID: &d.ID})
			if e, ok := err.(*models.Error); !ok || len(e.Fields["doctor"]) != 1 {
				t.Fatalf("dup: %v", err)
			}
			if _, err := s.Mappings.Create(ctx, bob, models.MappingInput{PatientID: &ids[1], DoctorID: &d.ID}); code(err) != models.CodeNotFound {
				t.Fatalf("bob maps alice's patient: %v", err)
			}
			pg, err := s.Mappings.List(ctx, alice, models.MappingFilter{Search: "kumar3"}, models.PageRequest{WithTotal: true})
			if err != nil || pg.Total != 1 || pg.Items[0].Patient.FirstName != "Ann00" || pg.Items[0].Doctor.ID != d.ID {
				t.Fatalf("list %v %+v", err, pg)
			}
			if _, _, err := s.Doctors.Update(ctx, alice, d.ID, models.DoctorPatch{Bio: ptr("x")}); code(err) != models.CodeForbidden {
				t.Fatalf("alice edits bob's doctor: %v", err)
			}
			byP, err := s.Mappings.ByPatientIDs(ctx, alice, []int64{ids[0], ids[1]}, nil)
			if err != nil || len(byP[ids[0]]) != 1 || len(byP[ids[1]]) != 0 || byP[ids[0]][0].Doctor == nil || byP[ids[0]][0].Doctor.ID != d.ID {
				t.Fatalf("by patient %v %v", err, byP)
			}
			if byB, err := s.Mappings.ByPatientIDs(ctx, bob, []int64{ids[0]}, nil); err != nil || len(byB) != 0 {
				t.Fatalf("bob reads alice's mappings by her patient's id: %v %v", err, byB)
			}
			byD, err := s.Patients.ByDoctorIDs(ctx, bob, []int64{d.ID}, nil)
			if err != nil || len(byD[d.ID]) != 0 {
				t.Fatalf("bob sees alice's patients through his doctor: %v %v", err, byD)
			}
			mm, ch, err := s.Mappings.Update(ctx, alice, m.ID, models.MappingPatch{Status: ptr(models.StatusCompleted), Notes: ptr("done")})
			if err != nil || mm.Status != models.StatusCompleted || len(ch) != 2 {
				t.Fatalf("update %v %v %v", err, mm, ch)
			}
			if err := s.Mappings.Delete(ctx, bob, m.ID); code(err) != models.CodeNotFound {
				t.Fatalf("bob deletes: %v", err)
			}
			if err := s.Mappings.Delete(ctx, alice, m.ID); err != nil {
				t.Fatal(err)
			}
		})
	})
}
