package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/models"
)

// testFieldKey is a field encryption key for tests (32 bytes, base64).
var testFieldKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("f", 32)))

var otherFieldKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("g", 32)))

// cryptApp opens the program over one database with the given keys.
func cryptApp(t *testing.T, kind dbtest.Kind, where string, env map[string]string) *app {
	t.Helper()
	env["SECRET_KEY"] = strings.Repeat("c", 40)
	if kind == dbtest.Postgres {
		env["DATABASE_URL"] = where
	} else {
		env["SQLITE_PATH"] = where
	}
	cfg, err := loadConfig(envMap(env))
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

// rawMedical reads a patient's sealed columns with plain SQL, past the models.
func rawMedical(t *testing.T, a *app, id string) [3]sql.NullString {
	t.Helper()
	var v [3]sql.NullString
	err := a.db.QueryRowContext(context.Background(), `SELECT medical_history, allergies, current_medications FROM patients WHERE id = ?`, id).Scan(&v[0], &v[1], &v[2])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFieldEncryption: medical fields are ciphertext in the database and
// plain text through the API; keys rotate.
func TestFieldEncryption(t *testing.T) {
	for _, kind := range dbtest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			where := filepath.Join(t.TempDir(), "hc.db")
			if kind == dbtest.Postgres {
				where = dbtest.URL(t)
			}
			a := cryptApp(t, kind, where, map[string]string{"FIELD_ENCRYPTION_KEY": testFieldKey})
			srv := httptest.NewServer(a.routes())
			defer srv.Close()
			_, reg := postJSON(t, srv.URL+"/graphql", `{"query":"mutation { register(input: {name: \"Enc Ryption\", email: \"enc@example.com\", password: \"Correct-Horse-42\", passwordConfirm: \"Correct-Horse-42\"}) { tokens { access } } }"}`)
			token := path(reg, "data", "register", "tokens", "access").(string)
			gql := func(q string) map[string]any {
				req := httptest.NewRequest("POST", "/graphql", strings.NewReader(fmt.Sprintf(`{"query":%q}`, q)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				a.routes().ServeHTTP(w, req)
				var out map[string]any
				_ = jsonDecode(w.Body.String(), &out)
				return out
			}
			out := gql(`mutation { createPatient(input: {firstName: "Asha", lastName: "Rao", phone: "+919876543210", dateOfBirth: "1990-05-15", gender: F, medicalHistory: "Type 2 diabetes", allergies: "Penicillin", currentMedications: "Metformin 500mg"}) { id medicalHistory } }`)
			id, _ := path(out, "data", "createPatient", "id").(string)
			if id == "" || path(out, "data", "createPatient", "medicalHistory") != "Type 2 diabetes" {
				t.Fatalf("create: %v", out)
			}
			raw := rawMedical(t, a, id)
			for i, v := range raw {
				if !strings.HasPrefix(v.String, "enc:v1:") || strings.Contains(v.String, "Penicillin") || strings.Contains(v.String, "diabetes") {
					t.Fatalf("column %d stored as %q", i, v.String)
				}
			}
			out = gql(fmt.Sprintf(`{ patient(id: "%s") { medicalHistory allergies currentMedications } }`, id))
			if path(out, "data", "patient", "allergies") != "Penicillin" || path(out, "data", "patient", "currentMedications") != "Metformin 500mg" {
				t.Fatalf("read back: %v", out)
			}

			// Rotation: a new key seals, the old one still opens until
			// rotate-keys has re-sealed everything.
			a.db.Close()
			b := cryptApp(t, kind, where, map[string]string{"FIELD_ENCRYPTION_KEY": otherFieldKey, "FIELD_ENCRYPTION_OLD_KEYS": testFieldKey})
			n, err := database.RotateFieldKeys(context.Background(), b.db, b.cipher, 2)
			if err != nil || n != 1 {
				t.Fatalf("rotate: %d %v", n, err)
			}
			newID := b.cipher.CurrentKeyID()
			for i, v := range rawMedical(t, b, id) {
				if database.SealedWith(v.String) != newID {
					t.Fatalf("column %d not re-sealed: %q", i, v.String)
				}
			}
			if n, err := database.RotateFieldKeys(context.Background(), b.db, b.cipher, 2); err != nil || n != 0 {
				t.Fatalf("second rotation rewrote %d (%v)", n, err)
			}
			b.db.Close()
			c := cryptApp(t, kind, where, map[string]string{"FIELD_ENCRYPTION_KEY": otherFieldKey})
			p, err := c.store.Patients.Get(context.Background(), models.Viewer{UserID: 1, Superuser: true}, parseID(t, id))
			if err != nil || p.Allergies == nil || *p.Allergies != "Penicillin" {
				t.Fatalf("after rotation, new key alone: %v %+v", err, p)
			}
			c.db.Close()
			d := cryptApp(t, kind, where, map[string]string{"FIELD_ENCRYPTION_KEY": testFieldKey})
			if _, err := d.store.Patients.Get(context.Background(), models.Viewer{UserID: 1, Superuser: true}, parseID(t, id)); err == nil {
				t.Fatal("a retired key still opens the fields")
			}
		})
	}
}

func TestFieldEncryptionDebugPlain(t *testing.T) {
	a := cryptApp(t, dbtest.SQLite, filepath.Join(t.TempDir(), "hc.db"), map[string]string{"DEBUG": "true"})
	if a.cipher != nil {
		t.Fatal("a cipher is installed in debug mode without a key")
	}
	p, err := a.store.Patients.Create(context.Background(), models.Viewer{UserID: mustUserID(t, a)}, models.PatientInput{
		FirstName: ptrTo("P"), LastName: ptrTo("Q"), Phone: ptrTo("+919876543210"), DateOfBirth: ptrTo(models.NewDate(1990, 1, 1)),
		Gender: ptrTo(models.GenderOther), Allergies: ptrTo("Peanuts")})
	if err != nil {
		t.Fatal(err)
	}
	if raw := rawMedical(t, a, fmt.Sprint(p.ID)); raw[1].String != "Peanuts" {
		t.Fatalf("stored %q", raw[1].String)
	}
	if _, err := loadConfigAndCipher(map[string]string{"DATABASE_URL": "postgres://x@y/z", "SECRET_KEY": strings.Repeat("c", 40)}); err == nil || !strings.Contains(err.Error(), "FIELD_ENCRYPTION_KEY") {
		t.Fatalf("PostgreSQL without a field key: %v", err)
	}
}

func loadConfigAndCipher(env map[string]string) (*database.FieldCipher, error) {
	cfg, err := loadConfig(envMap(env))
	if err != nil {
		return nil, err
	}
	return cfg.fieldCipher(quietLog())
}

func mustUserID(t *testing.T, a *app) int64 {
	t.Helper()
	res, err := a.auth.Register(context.Background(), models.RegisterInput{Name: "U", Email: "u@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"})
	if err != nil {
		t.Fatal(err)
	}
	u := res.User
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func parseID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func ptrTo[T any](v T) *T { return &v }

func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }
