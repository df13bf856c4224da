package auth_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// killer cuts every other connection to the database right after the first
// statement that starts with prefix has run: the connection of the
// transaction that ran it dies between that step and the next.
type killer struct {
	db     *bun.DB
	mu     sync.Mutex
	prefix string
	fired  bool
}

func (k *killer) arm(prefix string) {
	k.mu.Lock()
	k.prefix, k.fired = prefix, false
	k.mu.Unlock()
}

func (k *killer) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (k *killer) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	k.mu.Lock()
	hit := k.prefix != "" && e.Err == nil && strings.HasPrefix(e.Query, k.prefix)
	if hit {
		k.prefix, k.fired = "", true
	}
	k.mu.Unlock()
	if !hit {
		return
	}
	conn, err := k.db.DB.Conn(context.Background()) // not the transaction's
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = conn.ExecContext(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
}

// TestMultiStepWritesAreAtomic kills the database connection between the
// steps of each multi-step write (PostgreSQL: a real server-side kill) and
// finds nothing half-written: a password change, a registration, a
// deactivation and a patient's deletion with its mappings each fail as a
// whole, and succeed as a whole when tried again.
func TestMultiStepWritesAreAtomic(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("killing a connection needs PostgreSQL (TEST_DATABASE_URL)")
	}
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.Postgres)
	app := apptest.New(t, db, apptest.Options{})
	k := &killer{db: db}
	db.AddQueryHook(k)
	const pw, newPW = "Correct-Horse-42", "Battery-Staple-77"
	reg := func(email string) (*models.User, error) {
		res, err := app.Auth.Register(ctx, models.RegisterInput{Name: "Test User", Email: email, Password: pw, PasswordConfirm: pw})
		if err != nil {
			return nil, err
		}
		return res.User, nil
	}
	owner, err := reg("owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ov := models.Viewer{UserID: owner.ID}
	events := func(action models.AuditAction) int {
		n, err := db.NewSelect().Table("audit_events").Where("action = ?", string(action)).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	cut := func(name, prefix string, op func() error) {
		t.Helper()
		k.arm(prefix)
		err := op()
		k.mu.Lock()
		fired := k.fired
		k.prefix = ""
		k.mu.Unlock()
		if !fired {
			t.Fatalf("%s: no statement starting %q ran", name, prefix)
		}
		if err == nil {
			t.Fatalf("%s: succeeded though its connection was killed after %q", name, prefix)
		}
	}

	t.Run("password_change", func(t *testing.T) {
		in := models.ChangePasswordInput{CurrentPassword: pw, NewPassword: newPW, NewPasswordConfirm: newPW}
		cut("change password", `UPDATE "users"`, func() error { _, err := app.Auth.ChangePassword(ctx, ov, in); return err })
		if _, err := app.Auth.Login(ctx, models.LoginInput{Email: owner.Email, Password: pw}); err != nil {
			t.Fatalf("the old password no longer works: %v", err)
		}
		if n := events(models.AuditPasswordChanged); n != 0 {
			t.Fatalf("%d password_changed events for a change that did not happen", n)
		}
		if _, err := app.Auth.ChangePassword(ctx, ov, in); err != nil {
			t.Fatalf("again: %v", err)
		}
		if _, err := app.Auth.Login(ctx, models.LoginInput{Email: owner.Email, Password: newPW}); err != nil {
			t.Fatalf("the new password does not work: %v", err)
		}
	})

	t.Run("registration", func(t *testing.T) {
		cut("register", `INSERT INTO "users"`, func() error { _, err := reg("new@example.com"); return err })
		if _, err := app.Store.Users.ByEmail(ctx, "new@example.com"); models.ErrorCode(err) != models.CodeNotFound {
			t.Fatalf("an account half-registered: %v", err)
		}
		if _, err := reg("new@example.com"); err != nil {
			t.Fatalf("again: %v", err)
		}
	})

	t.Run("deactivation", func(t *testing.T) {
		staff, err := reg("staff@example.com")
		if err != nil {
			t.Fatal(err)
		}
		root := models.Viewer{UserID: owner.ID, Superuser: true}
		cut("deactivate", `UPDATE "users"`, func() error { _, err := app.Auth.SetActive(ctx, root, staff.ID, false); return err })
		u, err := app.Store.Users.ByID(ctx, staff.ID)
		if err != nil || !u.IsActive {
			t.Fatalf("deactivated halfway: %+v %v", u, err)
		}
		if n := events(models.AuditAccountDeactivated); n != 0 {
			t.Fatalf("%d account_deactivated events for a change that did not happen", n)
		}
		if _, err := app.Auth.SetActive(ctx, root, staff.ID, false); err != nil {
			t.Fatalf("again: %v", err)
		}
	})

	t.Run("patient_deletion", func(t *testing.T) {
		dob := models.NewDate(1980, 1, 1)
		g := models.GenderFemale
		p, err := app.Store.Patients.Create(ctx, ov, models.PatientInput{FirstName: ptrTo("Asha"), LastName: ptrTo("Rao"),
			Phone: ptrTo("+919876543210"), DateOfBirth: &dob, Gender: &g})
		if err != nil {
			t.Fatal(err)
		}
		d, err := app.Store.Doctors.Create(ctx, ov, models.DoctorInput{FirstName: ptrTo("Ravi"), LastName: ptrTo("Kumar"),
			Email: ptrTo("dr@example.com"), Phone: ptrTo("+919876543220"), Specialization: ptrTo(models.Specialization("CARDIOLOGY")),
			Qualification: ptrTo("MBBS"), LicenseNumber: ptrTo("MH1"), ExperienceYears: ptrTo(5), ConsultationFee: ptrTo(500.0)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := app.Store.Mappings.Create(ctx, ov, models.MappingInput{PatientID: &p.ID, DoctorID: &d.ID})
		if err != nil {
			t.Fatal(err)
		}
		cut("delete patient", `DELETE FROM "mappings"`, func() error { return app.Store.Patients.Delete(ctx, ov, p.ID) })
		if _, err := app.Store.Mappings.Get(ctx, ov, m.ID); err != nil {
			t.Fatalf("the mapping is gone though the deletion failed: %v", err)
		}
		if _, err := app.Store.Patients.Get(ctx, ov, p.ID); err != nil {
			t.Fatalf("the patient is gone though the deletion failed: %v", err)
		}
		if err := app.Store.Patients.Delete(ctx, ov, p.ID); err != nil {
			t.Fatalf("again: %v", err)
		}
		if _, err := app.Store.Mappings.Get(ctx, ov, m.ID); models.ErrorCode(err) != models.CodeNotFound {
			t.Fatalf("the mapping outlived its patient: %v", err)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
