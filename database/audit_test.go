package database_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/models"
)

func mustSuperuser(t *testing.T, s *database.Store, email string) models.Viewer {
	t.Helper()
	u := &models.User{Name: "Root", Email: email, PasswordHash: "x", IsActive: true, IsSuperuser: true}
	if err := s.Users.Create(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return models.Viewer{UserID: u.ID, Superuser: true}
}

// reqCtx is a request's context with its origin.
func reqCtx(id string) context.Context {
	return models.WithRequestInfo(context.Background(), models.RequestInfo{IP: "203.0.113.7", UserAgent: "audit-test/1.0", RequestID: id})
}

// auditOf returns every event of the request id, oldest first.
func auditOf(t *testing.T, s *database.Store, root models.Viewer, reqID string) []*models.AuditEvent {
	t.Helper()
	var out []*models.AuditEvent
	after := ""
	for {
		page, err := s.Audit.List(context.Background(), root, models.AuditFilter{}, models.PageRequest{First: ptr(100), After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			if e.RequestID == reqID {
				out = append(out, e)
			}
		}
		if !page.HasNext {
			break
		}
		after = models.Cursor(page.Items[len(page.Items)-1].ID)
	}
	slices.Reverse(out)
	return out
}

// summary renders events as "action type:id [fields]" lines, sorted.
func summary(evs []*models.AuditEvent) string {
	var lines []string
	for _, e := range evs {
		l := fmt.Sprintf("%s %s:%d", e.Action, e.RecordType, *e.RecordID)
		if e.Fields != "" {
			l += " [" + e.Fields + "]"
		}
		lines = append(lines, l)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestAuditEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		s := database.New(db)
		alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		doc, err := s.Doctors.Create(context.Background(), bob, doctorIn(1))
		if err != nil {
			t.Fatal(err)
		}
		want := func(t *testing.T, reqID, lines string) []*models.AuditEvent {
			t.Helper()
			evs := auditOf(t, s, root, reqID)
			if got := summary(evs); got != lines {
				t.Fatalf("events of %s:\n%s\nwant:\n%s", reqID, got, lines)
			}
			return evs
		}

		p, err := s.Patients.Create(reqCtx("create"), alice, patientIn("Ann"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run("create_patient", func(t *testing.T) {
			evs := want(t, "create", fmt.Sprintf("create patient:%d [first_name,last_name,email,phone,date_of_birth,gender,blood_group,city]", p.ID))
			e := evs[0]
			if *e.UserID != alice.UserID || e.IP != "203.0.113.7" || e.UserAgent != "audit-test/1.0" || time.Since(e.OccurredAt) > time.Minute || e.Hash != nil {
				t.Fatalf("event %+v", e)
			}
			if got := e.FieldList(); len(got) != 8 || got[0] != "first_name" {
				t.Fatalf("FieldList %v", got)
			}
		})
		t.Run("get_is_a_read", func(t *testing.T) {
			if _, err := s.Patients.Get(reqCtx("get"), alice, p.ID); err != nil {
				t.Fatal(err)
			}
			want(t, "get", fmt.Sprintf("read patient:%d", p.ID))
		})
		t.Run("unseen_patient_no_event", func(t *testing.T) {
			if _, err := s.Patients.Get(reqCtx("unseen"), bob, p.ID); code(err) != models.CodeNotFound {
				t.Fatalf("got %v", err)
			}
			want(t, "unseen", "")
		})
		ids := []int64{p.ID}
		for i := range 4 {
			q, err := s.Patients.Create(context.Background(), alice, patientIn(fmt.Sprintf("More%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, q.ID)
		}
		t.Run("list_reads_each_returned", func(t *testing.T) {
			page, err := s.Patients.List(reqCtx("list"), alice, models.PatientFilter{}, models.PageRequest{First: ptr(3)})
			if err != nil || len(page.Items) != 3 {
				t.Fatal(err)
			}
			var lines []string
			for _, it := range page.Items {
				lines = append(lines, fmt.Sprintf("read patient:%d", it.ID))
			}
			slices.Sort(lines)
			evs := want(t, "list", strings.Join(lines, "\n"))
			if *evs[0].UserID != alice.UserID {
				t.Fatal("user")
			}
			if _, err := s.Patients.ByIDs(reqCtx("byids"), alice, ids[:2]); err != nil {
				t.Fatal(err)
			}
			want(t, "byids", fmt.Sprintf("read patient:%d\nread patient:%d", ids[0], ids[1]))
		})
		t.Run("update_names_changed_fields", func(t *testing.T) {
			if _, _, err := s.Patients.Update(reqCtx("update"), alice, p.ID, models.PatientPatch{City: ptr("Goa"), Allergies: ptr("Dust"), FirstName: ptr("Ann")}, false); err != nil {
				t.Fatal(err)
			}
			want(t, "update", fmt.Sprintf("update patient:%d [city,allergies]", p.ID))
			if _, _, err := s.Patients.Update(reqCtx("noop"), alice, p.ID, models.PatientPatch{City: ptr("Goa")}, false); err != nil {
				t.Fatal(err)
			}
			want(t, "noop", fmt.Sprintf("read patient:%d", p.ID))
		})
		var mid int64
		t.Run("mapping_actions", func(t *testing.T) {
			m, err := s.Mappings.Create(reqCtx("m-create"), alice, models.MappingInput{PatientID: &p.ID, DoctorID: &doc.ID, Reason: ptr("checkup")})
			if err != nil {
				t.Fatal(err)
			}
			mid = m.ID
			want(t, "m-create", fmt.Sprintf("create mapping:%d [patient_id,doctor_id,reason]", mid))
			if _, err := s.Mappings.Get(reqCtx("m-get"), alice, mid); err != nil {
				t.Fatal(err)
			}
			// The mapping comes with its patient: both are read.
			want(t, "m-get", fmt.Sprintf("read mapping:%d\nread patient:%d", mid, p.ID))
			if _, err := s.Mappings.List(reqCtx("m-list"), alice, models.MappingFilter{}, models.PageRequest{}); err != nil {
				t.Fatal(err)
			}
			want(t, "m-list", fmt.Sprintf("read mapping:%d\nread patient:%d", mid, p.ID))
			if _, err := s.Mappings.ByPatientIDs(reqCtx("m-bypatient"), alice, []int64{p.ID}, nil); err != nil {
				t.Fatal(err)
			}
			want(t, "m-bypatient", fmt.Sprintf("read mapping:%d", mid))
			if _, _, err := s.Mappings.ForPatient(reqCtx("m-for"), alice, p.ID, nil); err != nil {
				t.Fatal(err)
			}
			want(t, "m-for", fmt.Sprintf("read mapping:%d\nread patient:%d", mid, p.ID))
			if _, err := s.Patients.ByDoctorIDs(reqCtx("by-doctor"), alice, []int64{doc.ID}, nil); err != nil {
				t.Fatal(err)
			}
			want(t, "by-doctor", fmt.Sprintf("read patient:%d", p.ID))
			if _, _, err := s.Mappings.Update(reqCtx("m-update"), alice, mid, models.MappingPatch{Status: ptr(models.StatusCompleted), Notes: ptr("done")}); err != nil {
				t.Fatal(err)
			}
			want(t, "m-update", fmt.Sprintf("update mapping:%d [notes,status]", mid))
			if err := s.Mappings.Delete(reqCtx("m-delete-bob"), bob, mid); code(err) != models.CodeNotFound {
				t.Fatalf("bob deletes: %v", err)
			}
			want(t, "m-delete-bob", "")
			if err := s.Mappings.Delete(reqCtx("m-delete"), alice, mid); err != nil {
				t.Fatal(err)
			}
			want(t, "m-delete", fmt.Sprintf("delete mapping:%d", mid))
		})
		t.Run("delete_patient_audits_its_mappings", func(t *testing.T) {
			m, err := s.Mappings.Create(context.Background(), alice, models.MappingInput{PatientID: &ids[1], DoctorID: &doc.ID})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Patients.Delete(reqCtx("p-delete-bob"), bob, ids[1]); code(err) != models.CodeNotFound {
				t.Fatalf("bob deletes: %v", err)
			}
			want(t, "p-delete-bob", "")
			if _, err := s.Mappings.Get(context.Background(), alice, m.ID); err != nil {
				t.Fatalf("bob's failed delete removed the mapping: %v", err)
			}
			if err := s.Patients.Delete(reqCtx("p-delete"), alice, ids[1]); err != nil {
				t.Fatal(err)
			}
			want(t, "p-delete", fmt.Sprintf("delete mapping:%d\ndelete patient:%d", m.ID, ids[1]))
		})
		t.Run("auth_events", func(t *testing.T) {
			if err := s.Audit.RecordAuth(reqCtx("auth"), models.AuditLoginFailed, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.Audit.RecordAuth(reqCtx("auth"), models.AuditLogin, alice.UserID); err != nil {
				t.Fatal(err)
			}
			evs := auditOf(t, s, root, "auth")
			if len(evs) != 2 || evs[0].UserID != nil || evs[0].RecordID != nil || evs[0].Action != models.AuditLoginFailed ||
				*evs[1].UserID != alice.UserID || *evs[1].RecordID != alice.UserID || evs[1].RecordType != "user" {
				t.Fatalf("events %+v", evs)
			}
		})
		t.Run("list_superuser_only", func(t *testing.T) {
			if _, err := s.Audit.List(context.Background(), alice, models.AuditFilter{}, models.PageRequest{}); code(err) != models.CodeForbidden {
				t.Fatalf("alice: %v", err)
			}
			if _, err := s.Audit.List(context.Background(), models.Viewer{}, models.AuditFilter{}, models.PageRequest{}); code(err) != models.CodeUnauthenticated {
				t.Fatalf("anonymous: %v", err)
			}
		})
		t.Run("list_filters", func(t *testing.T) {
			ctx := context.Background()
			count := func(f models.AuditFilter) int {
				t.Helper()
				page, err := s.Audit.List(ctx, root, f, models.PageRequest{First: ptr(100), WithTotal: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Items {
					if (f.UserID != nil && (e.UserID == nil || *e.UserID != *f.UserID)) || (f.Action != nil && e.Action != *f.Action) ||
						(f.RecordType != "" && e.RecordType != f.RecordType) || (f.RecordID != nil && *e.RecordID != *f.RecordID) {
						t.Fatalf("filter %+v returned %+v", f, e)
					}
				}
				return page.Total
			}
			upd := models.AuditUpdate
			if n := count(models.AuditFilter{Action: &upd}); n != 2 {
				t.Errorf("updates: %d", n)
			}
			if n := count(models.AuditFilter{RecordType: "mapping", RecordID: &mid}); n != 7 {
				t.Errorf("mapping %d: %d", mid, n)
			}
			if n := count(models.AuditFilter{UserID: &bob.UserID}); n != 0 {
				t.Errorf("bob: %d", n)
			}
			if n := count(models.AuditFilter{UserID: &alice.UserID, RecordType: "patient", RecordID: &p.ID}); n < 5 {
				t.Errorf("alice on patient %d: %d", p.ID, n)
			}
			future := time.Now().Add(time.Hour)
			past := time.Now().Add(-time.Hour)
			if n := count(models.AuditFilter{Since: &future}); n != 0 {
				t.Errorf("since future: %d", n)
			}
			if n := count(models.AuditFilter{Until: &past}); n != 0 {
				t.Errorf("until past: %d", n)
			}
			if n, all := count(models.AuditFilter{Since: &past, Until: &future}), count(models.AuditFilter{}); n != all || n == 0 {
				t.Errorf("range %d of %d", n, all)
			}
			if _, err := s.Audit.List(ctx, root, models.AuditFilter{RecordType: "doctor"}, models.PageRequest{}); code(err) != models.CodeInvalid {
				t.Errorf("bad record type: %v", err)
			}
		})
	})
}

func TestAuditChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := database.New(db)
		alice := mustUser(t, s, "alice@example.com")
		for i := range 5 {
			if _, err := s.Patients.Create(reqCtx(fmt.Sprint("c", i)), alice, patientIn(fmt.Sprintf("Ann%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		verify := func(t *testing.T) *database.AuditReport {
			t.Helper()
			r, err := s.Audit.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		t.Run("seal_and_verify_ok", func(t *testing.T) {
			n, err := s.Audit.Seal(ctx)
			if err != nil || n != 5 {
				t.Fatalf("sealed %d: %v", n, err)
			}
			if _, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{}); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if !r.OK() || r.Sealed != 10 || r.HeadSeq != 10 || r.Unsealed != 0 || len(r.HeadHash) != 64 {
				t.Fatalf("report %+v", r)
			}
			if n, _ := s.Audit.Seal(ctx); n != 0 {
				t.Fatalf("sealed again: %d", n)
			}
		})
		t.Run("concurrent_appends_and_seals", func(t *testing.T) {
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					for range 10 {
						if _, err := s.Patients.List(reqCtx(fmt.Sprint("w", i)), alice, models.PatientFilter{}, models.PageRequest{First: ptr(3)}); err != nil {
							t.Error(err)
							return
						}
					}
				})
				wg.Go(func() {
					if _, err := s.Audit.Seal(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if r := verify(t); !r.OK() || r.Sealed != 10+8*10*3 {
				t.Fatalf("report %+v", r)
			}
		})
		var rows []models.AuditEvent
		if err := db.NewSelect().Model(&rows).OrderExpr("seq").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		t.Run("edited_row_detected", func(t *testing.T) {
			victim := rows[3]
			if _, err := db.ExecContext(ctx, `UPDATE audit_events SET fields = 'first_name' WHERE id = ?`, victim.ID); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if r.OK() || r.BadID != victim.ID || !strings.Contains(r.Problem, "altered") {
				t.Fatalf("report %+v", r)
			}
			if _, err := db.ExecContext(ctx, `UPDATE audit_events SET fields = ? WHERE id = ?`, victim.Fields, victim.ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); !r.OK() {
				t.Fatalf("restored: %+v", r)
			}
			// Another column, and the user id made NULL.
			if _, err := db.ExecContext(ctx, `UPDATE audit_events SET user_id = NULL WHERE id = ?`, rows[7].ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); r.BadID != rows[7].ID {
				t.Fatalf("report %+v", r)
			}
			if _, err := db.ExecContext(ctx, `UPDATE audit_events SET user_id = ? WHERE id = ?`, *rows[7].UserID, rows[7].ID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("deleted_row_detected", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_events WHERE id = ?`, rows[5].ID); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if r.OK() || r.BadID != rows[6].ID || !strings.Contains(r.Problem, "deleted") || r.Sealed != 5 {
				t.Fatalf("report %+v", r)
			}
		})
		t.Run("rehashed_row_detected", func(t *testing.T) {
			// Unsealing a row (hash set to NULL) to have it sealed anew
			// moves it out of its place: the gap shows.
			if _, err := db.ExecContext(ctx, `UPDATE audit_events SET hash = NULL, seq = NULL WHERE id = ?`, rows[1].ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); r.OK() || r.BadID != rows[2].ID {
				t.Fatalf("report %+v", r)
			}
		})
	})
}

// TestAuditSealCommitOrder: on PostgreSQL an event can commit after one with
// a higher id has been sealed; it is chained after it, and the chain still
// verifies.
func TestAuditSealCommitOrder(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("PostgreSQL only: SQLite commits one writer at a time, in id order")
	}
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.Postgres)
	s := database.New(db)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	late := &models.AuditEvent{OccurredAt: time.Now(), Action: models.AuditLogin, RecordType: "user"}
	if _, err := tx.NewInsert().Model(late).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit.RecordAuth(ctx, models.AuditLogout, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Audit.Seal(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d: %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Audit.Verify(ctx)
	if err != nil || !r.OK() || r.Sealed != 2 {
		t.Fatalf("report %+v, %v", r, err)
	}
	var head models.AuditEvent
	if err := db.NewSelect().Model(&head).Where("seq = 2").Scan(ctx); err != nil || head.ID != late.ID {
		t.Fatalf("position 2 is %d, want the late event %d: %v", head.ID, late.ID, err)
	}
}

// BenchmarkListPatients20 measures a list of 20 patients with auditing on
// (20 events in one INSERT, the sealer running each second) and off.
func BenchmarkListPatients20(b *testing.B) {
	for _, k := range dbtest.Kinds(b) {
		for _, audit := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/audit=%v", k, audit), func(b *testing.B) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				db := dbtest.Open(b, k)
				s := database.New(db)
				database.SetAuditOff(s, !audit)
				u := &models.User{Name: "Bench", Email: "bench@example.com", PasswordHash: "x", IsActive: true}
				if err := s.Users.Create(ctx, u); err != nil {
					b.Fatal(err)
				}
				v := models.Viewer{UserID: u.ID}
				for i := range 20 {
					if _, err := s.Patients.Create(ctx, v, patientIn(fmt.Sprintf("Bench%d", i))); err != nil {
						b.Fatal(err)
					}
				}
				done := make(chan struct{})
				go func() { s.Audit.RunSealer(ctx, time.Second, nil); close(done) }()
				rctx := reqCtx("bench")
				cpu0 := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					page, err := s.Patients.List(rctx, v, models.PatientFilter{}, models.PageRequest{First: ptr(20)})
					if err != nil || len(page.Items) != 20 {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cancel()
				<-done
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the CPU time this process has used (user and system), which
// unlike ns/op does not count waiting for a busy machine; the database
// server's own work is not in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
