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
		t.Run("doctors_of_patient_read_their_mappings", func(t *testing.T) {
			m, err := s.Mappings.Create(context.Background(), alice, models.MappingInput{PatientID: &p.ID, DoctorID: &doc.ID})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Doctors.ByPatientIDs(reqCtx("d-bypatient"), alice, []int64{p.ID, ids[2]}, nil)
			if err != nil || len(got[p.ID]) != 1 {
				t.Fatalf("doctors %v: %v", got, err)
			}
			want(t, "d-bypatient", fmt.Sprintf("read mapping:%d", m.ID))
			// Bob sees no patient of alice's: no doctor, no event.
			if got, err := s.Doctors.ByPatientIDs(reqCtx("d-bypatient-bob"), bob, []int64{p.ID}, nil); err != nil || len(got) != 0 {
				t.Fatalf("bob: %v %v", got, err)
			}
			want(t, "d-bypatient-bob", "")
		})
		t.Run("delete_doctor_audits_its_mappings", func(t *testing.T) {
			// Bob's doctor, assigned to two of alice's patients (one
			// mapping exists already) and to one of carol's.
			carol := mustUser(t, s, "carol@example.com")
			cp, err := s.Patients.Create(context.Background(), carol, patientIn("Cid"))
			if err != nil {
				t.Fatal(err)
			}
			var mids []int64
			for _, in := range []struct {
				v   models.Viewer
				pid int64
			}{{alice, ids[2]}, {carol, cp.ID}} {
				m, err := s.Mappings.Create(context.Background(), in.v, models.MappingInput{PatientID: &in.pid, DoctorID: &doc.ID})
				if err != nil {
					t.Fatal(err)
				}
				mids = append(mids, m.ID)
			}
			page, err := s.Mappings.List(context.Background(), root, models.MappingFilter{DoctorID: &doc.ID}, models.PageRequest{})
			if err != nil || len(page.Items) != 3 {
				t.Fatalf("mappings of the doctor: %v", err)
			}
			if err := s.Doctors.Delete(reqCtx("d-delete-alice"), alice, doc.ID); code(err) != models.CodeForbidden {
				t.Fatalf("alice deletes bob's doctor: %v", err)
			}
			want(t, "d-delete-alice", "")
			if err := s.Doctors.Delete(reqCtx("d-delete"), bob, doc.ID); err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, m := range page.Items {
				lines = append(lines, fmt.Sprintf("delete mapping:%d", m.ID))
			}
			slices.Sort(lines)
			evs := want(t, "d-delete", strings.Join(lines, "\n"))
			for _, e := range evs {
				if *e.UserID != bob.UserID {
					t.Fatalf("event by %d, want bob", *e.UserID)
				}
			}
			if _, err := s.Mappings.Get(context.Background(), root, mids[1]); code(err) != models.CodeNotFound {
				t.Fatalf("mapping survived: %v", err)
			}
			if err := s.Doctors.Delete(reqCtx("d-delete-again"), bob, doc.ID); code(err) != models.CodeNotFound {
				t.Fatalf("again: %v", err)
			}
			want(t, "d-delete-again", "")
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
		// The chain takes events in id order.
		var rows []struct {
			ID     int64  `bun:"id"`
			Fields string `bun:"fields"`
			UserID *int64 `bun:"user_id"`
		}
		if err := db.NewSelect().Table("audit_events").Column("id", "fields", "user_id").OrderExpr("id").Scan(ctx, &rows); err != nil {
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
		t.Run("edited_link_detected", func(t *testing.T) {
			var link struct {
				Hash string `bun:"hash"`
			}
			if err := db.NewSelect().Table("audit_chain").Column("hash").Where("event_id = ?", rows[4].ID).Scan(ctx, &link); err != nil {
				t.Fatal(err)
			}
			forged := strings.Repeat("f", 64)
			if _, err := db.ExecContext(ctx, `UPDATE audit_chain SET hash = ? WHERE event_id = ?`, forged, rows[4].ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); r.BadID != rows[4].ID || !strings.Contains(r.Problem, "altered") {
				t.Fatalf("report %+v", r)
			}
			if _, err := db.ExecContext(ctx, `UPDATE audit_chain SET hash = ? WHERE event_id = ?`, link.Hash, rows[4].ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); !r.OK() {
				t.Fatalf("restored: %+v", r)
			}
		})
		t.Run("deleted_row_detected", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_events WHERE id = ?`, rows[5].ID); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if r.OK() || r.BadID != rows[5].ID || !strings.Contains(r.Problem, "deleted") || r.Sealed != 5 {
				t.Fatalf("report %+v", r)
			}
			// Its link deleted too: the gap in positions shows.
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain WHERE event_id = ?`, rows[5].ID); err != nil {
				t.Fatal(err)
			}
			r = verify(t)
			if r.OK() || r.BadID != rows[6].ID || !strings.Contains(r.Problem, "deleted") || r.Sealed != 5 {
				t.Fatalf("report %+v", r)
			}
		})
		t.Run("unlinked_row_detected", func(t *testing.T) {
			// Removing a link to have the event chained anew is seen
			// (the gap in positions), and the event, left behind the
			// chain's head, is not sealed again.
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain WHERE event_id = ?`, rows[1].ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); r.OK() || r.BadID != rows[2].ID {
				t.Fatalf("report %+v", r)
			}
			var n int
			if err := db.NewSelect().Table("audit_chain").ColumnExpr("count(*)").Where("event_id = ?", rows[1].ID).Scan(ctx, &n); err != nil || n != 0 {
				t.Fatalf("relinked: %d %v", n, err)
			}
		})
	})
}

// insertRawEvent writes an event on db (a transaction) as a change would,
// and returns its id.
func insertRawEvent(t *testing.T, db bun.IDB) int64 {
	t.Helper()
	var id int64
	err := db.NewRaw(`INSERT INTO audit_events (occurred_at, action, record_type, fields, ip, user_agent, request_id)
		VALUES (?, 'login', 'user', '', '', '', 'raw') RETURNING id`, time.Now().UTC()).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAuditSealCommitOrder: on PostgreSQL an event can commit after one with
// a higher id. The sealer waits for it and chains both in id order; it
// passes an id that never commits (a rollback) once the grace is over; and
// an event that commits after it was passed is reported by Verify.
func TestAuditSealCommitOrder(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("PostgreSQL only: SQLite commits one writer at a time, in id order")
	}
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.Postgres)
	s := database.New(db)
	seal := func(t *testing.T, want int) {
		t.Helper()
		if n, err := s.Audit.Seal(ctx); err != nil || n != want {
			t.Fatalf("sealed %d, want %d: %v", n, want, err)
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
	t.Run("late_commit_waited_for", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		late := insertRawEvent(t, tx)
		if err := s.Audit.RecordAuth(ctx, models.AuditLogout, 0); err != nil {
			t.Fatal(err)
		}
		seal(t, 0)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		seal(t, 2)
		r := verify(t)
		if !r.OK() || r.Sealed != 2 {
			t.Fatalf("report %+v", r)
		}
		var first int64
		if err := db.NewSelect().Table("audit_chain").Column("event_id").Where("seq = 1").Scan(ctx, &first); err != nil || first != late {
			t.Fatalf("position 1 is %d, want the late event %d: %v", first, late, err)
		}
	})
	t.Run("rollback_passed_after_grace", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		insertRawEvent(t, tx)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := s.Audit.RecordAuth(ctx, models.AuditLogout, 0); err != nil {
			t.Fatal(err)
		}
		seal(t, 0)
		database.SetSealGrace(s, time.Nanosecond)
		defer database.SetSealGrace(s, 0)
		seal(t, 1)
		if r := verify(t); !r.OK() || r.Sealed != 3 || r.Unsealed != 0 {
			t.Fatalf("report %+v", r)
		}
	})
	t.Run("commit_after_grace_reported", func(t *testing.T) {
		database.SetSealGrace(s, time.Nanosecond)
		defer database.SetSealGrace(s, 0)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		late := insertRawEvent(t, tx)
		if err := s.Audit.RecordAuth(ctx, models.AuditLogout, 0); err != nil {
			t.Fatal(err)
		}
		seal(t, 1)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		r := verify(t)
		if r.OK() || r.BadID != late || !strings.Contains(r.Problem, "not on the chain") {
			t.Fatalf("report %+v", r)
		}
	})
}

// TestAuditGroupCommit: concurrent reads share INSERTs, yet each returns
// only once its own events are committed; a read whose events cannot be
// written fails (it is never served unaudited) without failing the reads
// it shared an INSERT with.
func TestAuditGroupCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := database.New(db)
		alice := mustUser(t, s, "alice@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		for i := range 5 {
			if _, err := s.Patients.Create(ctx, alice, patientIn(fmt.Sprintf("Ann%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		// Events of the request "poison" cannot be written.
		trigger := []string{`CREATE TRIGGER audit_poison BEFORE INSERT ON audit_events
			WHEN NEW.request_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned event'); END`}
		if database.IsPostgres(db) {
			trigger = []string{`CREATE FUNCTION audit_poison() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.request_id = 'poison' THEN RAISE EXCEPTION 'poisoned event'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER audit_poison BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_poison()`}
		}
		for _, q := range trigger {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		const workers, rounds = 16, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					id := fmt.Sprintf("g%d-%d", w, i)
					if w == 0 && i%3 == 0 {
						id = "poison"
					}
					page, err := s.Patients.List(reqCtx(id), alice, models.PatientFilter{}, models.PageRequest{First: ptr(5)})
					if id == "poison" {
						if err == nil || page != nil {
							errs <- fmt.Errorf("poisoned read served: %v", err)
						}
						continue
					}
					if err != nil {
						errs <- err
						continue
					}
					// Committed before List returned: visible at once.
					if n := len(auditOf(t, s, root, id)); n != 5 {
						errs <- fmt.Errorf("%s: %d events right after the read", id, n)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n, err := db.NewSelect().Table("audit_events").Where("action = 'read'").Count(ctx)
		if err != nil || n != 5*(workers*rounds-4) {
			t.Fatalf("%d read events, want %d: %v", n, 5*(workers*rounds-4), err)
		}
		// On PostgreSQL the failed INSERTs left unused ids: gaps the sealer
		// would wait sealGrace for, though nothing is in flight any more.
		database.SetSealGrace(s, time.Nanosecond)
		if r, err := s.Audit.Verify(ctx); err != nil || !r.OK() || r.Sealed != int(n)+5 {
			t.Fatalf("verify %+v %v", r, err)
		}
	})
}

// BenchmarkListPatients20 measures a list of 20 patients with auditing on
// (20 events, the sealer running each second) and off: one caller at a
// time, and (parallel) 4 per CPU at once, where reads share group INSERTs.
func BenchmarkListPatients20(b *testing.B) {
	for _, k := range dbtest.Kinds(b) {
		for _, c := range []struct{ audit, parallel bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			audit, parallel := c.audit, c.parallel
			name := fmt.Sprintf("%s/audit=%v", k, audit)
			if parallel {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
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
				list := func() {
					page, err := s.Patients.List(rctx, v, models.PatientFilter{}, models.PageRequest{First: ptr(20)})
					if err != nil || len(page.Items) != 20 {
						b.Error(err)
					}
				}
				cpu0 := cpuTime()
				b.ResetTimer()
				if parallel {
					b.SetParallelism(4)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							list()
						}
					})
				} else {
					for b.Loop() {
						list()
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

// TestAuditOddText: the events' text (written by hand, not by Bun) comes
// back exactly as sent, whatever it holds, and chains.
func TestAuditOddText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := database.New(db)
		alice := mustUser(t, s, "alice@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		p, err := s.Patients.Create(ctx, alice, patientIn("Ann"))
		if err != nil {
			t.Fatal(err)
		}
		odd := `it's "odd" ? ?? $1 \ '' -- ; 日本 ` + "\t\u00e9"
		rctx := models.WithRequestInfo(ctx, models.RequestInfo{IP: "::1", UserAgent: odd, RequestID: "odd?'"})
		if _, err := s.Patients.Get(rctx, alice, p.ID); err != nil {
			t.Fatal(err)
		}
		evs := auditOf(t, s, root, "odd?'")
		if len(evs) != 1 || evs[0].UserAgent != odd || evs[0].IP != "::1" {
			t.Fatalf("events %+v", evs)
		}
		if r, err := s.Audit.Verify(ctx); err != nil || !r.OK() || r.Sealed != 2 {
			t.Fatalf("verify %+v %v", r, err)
		}
	})
}
