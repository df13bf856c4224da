package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"healthcare/database/dbtest"
	"healthcare/models"
)

func TestVerifyAudit(t *testing.T) {
	apps := map[string]func(t *testing.T) *app{"sqlite": testApp}
	if len(dbtest.Kinds(t)) > 1 {
		apps["postgres"] = func(t *testing.T) *app {
			cfg, err := loadConfig(envMap(map[string]string{"DATABASE_URL": dbtest.URL(t), "SECRET_KEY": strings.Repeat("s", 40), "FIELD_ENCRYPTION_KEY": testFieldKey}))
			if err != nil {
				t.Fatal(err)
			}
			a, err := open(context.Background(), cfg, quietLog(), true)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.db.Close() })
			return a
		}
	}
	for name, mk := range apps {
		t.Run(name, func(t *testing.T) {
			a := mk(t)
			ctx := context.Background()
			u, err := registerUser(ctx, a, models.RegisterInput{Name: "Ann", Email: "ann@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"})
			if err != nil {
				t.Fatal(err)
			}
			v := models.Viewer{UserID: u.ID}
			for _, first := range []string{"Ann", "Bea", "Cid", "Dev"} {
				in := models.PatientInput{FirstName: &first, LastName: new("Sharma"), Phone: new("+919876543210"),
					DateOfBirth: new(models.NewDate(1990, 5, 15)), Gender: new(models.GenderFemale)}
				if _, err := a.store.Patients.Create(ctx, v, in); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			if err := verifyAudit(ctx, a, &out); err != nil || !strings.Contains(out.String(), "audit trail OK: 5 events chained") {
				t.Fatalf("%v: %s", err, out.String())
			}
			var ids []int64
			if err := a.db.NewSelect().Table("audit_events").Column("id").OrderExpr("id").Scan(ctx, &ids); err != nil {
				t.Fatal(err)
			}
			t.Run("edited_row", func(t *testing.T) {
				if _, err := a.db.ExecContext(ctx, `UPDATE audit_events SET action = 'read' WHERE id = ?`, ids[1]); err != nil {
					t.Fatal(err)
				}
				out.Reset()
				err := verifyAudit(ctx, a, &out)
				if err == nil || !strings.Contains(out.String(), "BROKEN at event "+strconv.FormatInt(ids[1], 10)) {
					t.Fatalf("%v: %s", err, out.String())
				}
				if _, err := a.db.ExecContext(ctx, `UPDATE audit_events SET action = 'create' WHERE id = ?`, ids[1]); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("deleted_row", func(t *testing.T) {
				if _, err := a.db.ExecContext(ctx, `DELETE FROM audit_events WHERE id = ?`, ids[2]); err != nil {
					t.Fatal(err)
				}
				out.Reset()
				err := verifyAudit(ctx, a, &out)
				if err == nil || !strings.Contains(out.String(), "BROKEN at event "+strconv.FormatInt(ids[2], 10)) || !strings.Contains(out.String(), "deleted") {
					t.Fatalf("%v: %s", err, out.String())
				}
			})
		})
	}
}
