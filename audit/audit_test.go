package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

func ptr[T any](v T) *T { return &v }

func mustUser(t testing.TB, s *database.Store, email string) models.Viewer {
	t.Helper()
	u := &models.User{Name: "Test " + email, Email: email, PasswordHash: "x", IsActive: true}
	if err := s.Users.Create(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return models.Viewer{UserID: u.ID}
}

func mustSuperuser(t testing.TB, s *database.Store, email string) models.Viewer {
	t.Helper()
	u := &models.User{Name: "Root", Email: email, PasswordHash: "x", IsActive: true, IsSuperuser: true}
	if err := s.Users.Create(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return models.Viewer{UserID: u.ID, Superuser: true}
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

// reqCtx is a request's context with its origin.
func reqCtx(id string) context.Context {
	return models.WithRequestInfo(context.Background(), models.RequestInfo{IP: "203.0.113.7", UserAgent: "audit-test/1.0", RequestID: id})
}

// listAll returns every event matching f, newest first.
func listAll(t testing.TB, a *audit.Trail, root models.Viewer, f models.AuditFilter) []*models.AuditEvent {
	t.Helper()
	var out []*models.AuditEvent
	after := ""
	for {
		page, err := a.List(context.Background(), root, f, models.PageRequest{First: ptr(models.MaxPageSize), After: after})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if !page.HasNext {
			return out
		}
		after = models.Cursor(page.Items[len(page.Items)-1].ID)
	}
}

// auditOf returns every event of the request id, oldest first.
func auditOf(t testing.TB, a *audit.Trail, root models.Viewer, reqID string) []*models.AuditEvent {
	t.Helper()
	var out []*models.AuditEvent
	for _, e := range listAll(t, a, root, models.AuditFilter{}) {
		if e.RequestID == reqID {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

// refsOf renders the records e names as "type:id" words, sorted.
func refsOf(e *models.AuditEvent) string {
	var words []string
	for _, r := range e.RecordRefs() {
		words = append(words, fmt.Sprintf("%s:%d", r.Type, r.ID))
	}
	slices.Sort(words)
	return strings.Join(words, " ")
}

// summary renders events as "action type:id type:id [fields]" lines, sorted.
func summary(evs []*models.AuditEvent) string {
	var lines []string
	for _, e := range evs {
		l := string(e.Action) + " " + refsOf(e)
		if e.Fields != "" {
			l += " [" + e.Fields + "]"
		}
		lines = append(lines, l)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// checkColumns checks that the record_type and record_id columns agree with
// records: set to the one record of an event about one, record_id NULL for
// an event about several (record_type then one of their types), empty for
// an event about none.
func checkColumns(t testing.TB, e *models.AuditEvent) {
	t.Helper()
	refs := e.RecordRefs()
	switch {
	case len(refs) == 0:
		if e.RecordID != nil || e.RecordType != "" || e.Records != "" {
			t.Errorf("event %d names nothing but has record_type %q, record_id %v, records %q", e.ID, e.RecordType, e.RecordID, e.Records)
		}
	case len(refs) == 1:
		if e.RecordID == nil || *e.RecordID != refs[0].ID || e.RecordType != refs[0].Type {
			t.Errorf("event %d names %v but has record_type %q, record_id %v", e.ID, refs, e.RecordType, e.RecordID)
		}
	default:
		if e.RecordID != nil || !slices.ContainsFunc(refs, func(r models.AuditRef) bool { return r.Type == e.RecordType }) {
			t.Errorf("event %d names %v but has record_type %q, record_id %v", e.ID, refs, e.RecordType, e.RecordID)
		}
	}
}

// names reports whether e names a record of type typ (with id, if set).
func names(e *models.AuditEvent, typ string, id *int64) bool {
	return slices.ContainsFunc(e.RecordRefs(), func(r models.AuditRef) bool {
		return r.Type == typ && (id == nil || r.ID == *id)
	})
}

func TestAuditEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		doc, err := s.Doctors.Create(context.Background(), bob, doctorIn(1))
		if err != nil {
			t.Fatal(err)
		}
		// want checks the events of the request reqID: their summary, their
		// columns, and that v made them.
		want := func(t *testing.T, reqID string, v models.Viewer, lines string) []*models.AuditEvent {
			t.Helper()
			evs := auditOf(t, trail, root, reqID)
			if got := summary(evs); got != lines {
				t.Fatalf("events of %s:\n%s\nwant:\n%s", reqID, got, lines)
			}
			for _, e := range evs {
				checkColumns(t, e)
				if e.UserID == nil || *e.UserID != v.UserID {
					t.Errorf("event %d by %v, want %d", e.ID, e.UserID, v.UserID)
				}
			}
			return evs
		}

		p, err := s.Patients.Create(reqCtx("create"), alice, patientIn("Ann"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run("create_patient", func(t *testing.T) {
			evs := want(t, "create", alice, fmt.Sprintf("create patient:%d [first_name,last_name,email,phone,date_of_birth,gender,blood_group,city]", p.ID))
			e := evs[0]
			if e.IP != "203.0.113.7" || e.UserAgent != "audit-test/1.0" || time.Since(e.OccurredAt) > time.Minute || e.Hash != nil {
				t.Fatalf("event %+v", e)
			}
			if e.Records != models.Records(fmt.Sprintf(`{"patient":[%d]}`, p.ID)) {
				t.Fatalf("records %q", e.Records)
			}
			if got := e.FieldList(); len(got) != 8 || got[0] != "first_name" {
				t.Fatalf("FieldList %v", got)
			}
		})
		t.Run("get_is_a_read", func(t *testing.T) {
			if _, err := s.Patients.Get(reqCtx("get"), alice, p.ID); err != nil {
				t.Fatal(err)
			}
			want(t, "get", alice, fmt.Sprintf("read patient:%d", p.ID))
		})
		t.Run("unseen_patient_no_event", func(t *testing.T) {
			if _, err := s.Patients.Get(reqCtx("unseen"), bob, p.ID); code(err) != models.CodeNotFound {
				t.Fatalf("got %v", err)
			}
			want(t, "unseen", bob, "")
			if _, err := s.Patients.ByIDs(reqCtx("unseen-byids"), bob, []int64{p.ID}); err != nil {
				t.Fatal(err)
			}
			want(t, "unseen-byids", bob, "")
			if page, err := s.Patients.List(reqCtx("unseen-list"), bob, models.PatientFilter{}, models.PageRequest{}); err != nil || len(page.Items) != 0 {
				t.Fatalf("bob's list: %v", err)
			}
			want(t, "unseen-list", bob, "")
		})
		ids := []int64{p.ID}
		for i := range 4 {
			q, err := s.Patients.Create(context.Background(), alice, patientIn(fmt.Sprintf("More%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, q.ID)
		}
		t.Run("list_is_one_event_naming_each_shown", func(t *testing.T) {
			page, err := s.Patients.List(reqCtx("list"), alice, models.PatientFilter{}, models.PageRequest{First: ptr(3)})
			if err != nil || len(page.Items) != 3 {
				t.Fatal(err)
			}
			var words []string
			for _, it := range page.Items {
				words = append(words, fmt.Sprintf("patient:%d", it.ID))
			}
			slices.Sort(words)
			evs := want(t, "list", alice, "read "+strings.Join(words, " "))
			// The records in the order they were shown.
			if got, want := evs[0].Records, models.Records(fmt.Sprintf(`{"patient":[%d,%d,%d]}`, page.Items[0].ID, page.Items[1].ID, page.Items[2].ID)); got != want {
				t.Fatalf("records %s, want %s", got, want)
			}
			if _, err := s.Patients.ByIDs(reqCtx("byids"), alice, ids[:2]); err != nil {
				t.Fatal(err)
			}
			want(t, "byids", alice, fmt.Sprintf("read patient:%d patient:%d", ids[0], ids[1]))
		})
		t.Run("update_names_changed_fields", func(t *testing.T) {
			if _, _, err := s.Patients.Update(reqCtx("update"), alice, p.ID, models.PatientPatch{City: ptr("Goa"), Allergies: ptr("Dust"), FirstName: ptr("Ann")}); err != nil {
				t.Fatal(err)
			}
			want(t, "update", alice, fmt.Sprintf("update patient:%d [city,allergies]", p.ID))
		})
		t.Run("noop_update_is_a_read", func(t *testing.T) {
			if _, _, err := s.Patients.Update(reqCtx("noop"), alice, p.ID, models.PatientPatch{City: ptr("Goa")}); err != nil {
				t.Fatal(err)
			}
			want(t, "noop", alice, fmt.Sprintf("read patient:%d", p.ID))
		})
		var mid int64
		t.Run("mapping_actions", func(t *testing.T) {
			m, err := s.Mappings.Create(reqCtx("m-create"), alice, models.MappingInput{PatientID: &p.ID, DoctorID: &doc.ID, Reason: ptr("checkup")})
			if err != nil {
				t.Fatal(err)
			}
			mid = m.ID
			want(t, "m-create", alice, fmt.Sprintf("create mapping:%d [patient_id,doctor_id,reason]", mid))
			if _, err := s.Mappings.Get(reqCtx("m-get"), alice, mid); err != nil {
				t.Fatal(err)
			}
			// The mapping comes with its patient: one event names both.
			want(t, "m-get", alice, fmt.Sprintf("read mapping:%d patient:%d", mid, p.ID))
			if _, err := s.Mappings.List(reqCtx("m-list"), alice, models.MappingFilter{}, models.PageRequest{}); err != nil {
				t.Fatal(err)
			}
			want(t, "m-list", alice, fmt.Sprintf("read mapping:%d patient:%d", mid, p.ID))
			if _, err := s.Mappings.ByPatientIDs(reqCtx("m-bypatient"), alice, []int64{p.ID}, nil); err != nil {
				t.Fatal(err)
			}
			want(t, "m-bypatient", alice, fmt.Sprintf("read mapping:%d", mid))
			if _, _, err := s.Mappings.ForPatient(reqCtx("m-for"), alice, p.ID, nil); err != nil {
				t.Fatal(err)
			}
			want(t, "m-for", alice, fmt.Sprintf("read mapping:%d patient:%d", mid, p.ID))
			if _, err := s.Patients.ByDoctorIDs(reqCtx("by-doctor"), alice, []int64{doc.ID}, nil); err != nil {
				t.Fatal(err)
			}
			want(t, "by-doctor", alice, fmt.Sprintf("read patient:%d", p.ID))
			if _, _, err := s.Mappings.Update(reqCtx("m-update"), alice, mid, models.MappingPatch{Status: ptr(models.StatusCompleted), Notes: ptr("done")}); err != nil {
				t.Fatal(err)
			}
			want(t, "m-update", alice, fmt.Sprintf("update mapping:%d [notes,status]", mid))
			if _, _, err := s.Mappings.Update(reqCtx("m-noop"), alice, mid, models.MappingPatch{Notes: ptr("done")}); err != nil {
				t.Fatal(err)
			}
			want(t, "m-noop", alice, fmt.Sprintf("read mapping:%d patient:%d", mid, p.ID))
			if err := s.Mappings.Delete(reqCtx("m-delete-bob"), bob, mid); code(err) != models.CodeNotFound {
				t.Fatalf("bob deletes: %v", err)
			}
			want(t, "m-delete-bob", bob, "")
			if err := s.Mappings.Delete(reqCtx("m-delete"), alice, mid); err != nil {
				t.Fatal(err)
			}
			want(t, "m-delete", alice, fmt.Sprintf("delete mapping:%d", mid))
		})
		t.Run("delete_patient_is_one_event_with_its_mappings", func(t *testing.T) {
			doc2, err := s.Doctors.Create(context.Background(), alice, doctorIn(2))
			if err != nil {
				t.Fatal(err)
			}
			var ms []int64
			for _, d := range []int64{doc.ID, doc2.ID} {
				m, err := s.Mappings.Create(context.Background(), alice, models.MappingInput{PatientID: &ids[1], DoctorID: &d})
				if err != nil {
					t.Fatal(err)
				}
				ms = append(ms, m.ID)
			}
			if err := s.Patients.Delete(reqCtx("p-delete-bob"), bob, ids[1]); code(err) != models.CodeNotFound {
				t.Fatalf("bob deletes: %v", err)
			}
			want(t, "p-delete-bob", bob, "")
			if _, err := s.Mappings.Get(context.Background(), alice, ms[0]); err != nil {
				t.Fatalf("bob's failed delete removed the mapping: %v", err)
			}
			if err := s.Patients.Delete(reqCtx("p-delete"), alice, ids[1]); err != nil {
				t.Fatal(err)
			}
			want(t, "p-delete", alice, fmt.Sprintf("delete mapping:%d mapping:%d patient:%d", ms[0], ms[1], ids[1]))
		})
		t.Run("auth_events", func(t *testing.T) {
			if err := s.Record(reqCtx("auth"), models.AuditEntry{Action: models.AuditLoginFailed}); err != nil {
				t.Fatal(err)
			}
			if err := s.Record(reqCtx("auth"), models.AuditEntry{UserID: alice.UserID, Action: models.AuditLogin,
				Refs: []models.AuditRef{{Type: models.AuditUser, ID: alice.UserID}}}); err != nil {
				t.Fatal(err)
			}
			evs := auditOf(t, trail, root, "auth")
			if len(evs) != 2 || evs[0].UserID != nil || evs[0].RecordID != nil || evs[0].Action != models.AuditLoginFailed ||
				*evs[1].UserID != alice.UserID || *evs[1].RecordID != alice.UserID || evs[1].RecordType != models.AuditUser ||
				refsOf(evs[1]) != fmt.Sprintf("user:%d", alice.UserID) {
				t.Fatalf("events %+v", evs)
			}
			checkColumns(t, evs[0])
			checkColumns(t, evs[1])
		})
		t.Run("list_superuser_only", func(t *testing.T) {
			if _, err := trail.List(context.Background(), alice, models.AuditFilter{}, models.PageRequest{}); code(err) != models.CodeForbidden {
				t.Fatalf("alice: %v", err)
			}
			if _, err := trail.List(context.Background(), models.Viewer{}, models.AuditFilter{}, models.PageRequest{}); code(err) != models.CodeUnauthenticated {
				t.Fatalf("anonymous: %v", err)
			}
			if _, err := trail.Existing(context.Background(), alice, models.AuditPatient, []int64{p.ID}); code(err) != models.CodeForbidden {
				t.Fatalf("alice's Existing: %v", err)
			}
			got, err := trail.Existing(context.Background(), root, models.AuditPatient, []int64{p.ID, ids[1], 1 << 40})
			if err != nil || !got[p.ID] || got[ids[1]] || got[1<<40] {
				t.Fatalf("Existing %v: %v", got, err)
			}
		})
		t.Run("list_filters", func(t *testing.T) {
			ctx := context.Background()
			// An event written before records existed names its record in
			// record_type and record_id only.
			if _, err := db.ExecContext(ctx, `INSERT INTO audit_events (occurred_at, user_id, action, record_type, record_id, records, fields, ip, user_agent, request_id)
				VALUES (?, ?, 'read', 'patient', ?, '', '', '', '', 'v1')`, time.Now().UTC().Add(-time.Minute), alice.UserID, p.ID); err != nil {
				t.Fatal(err)
			}
			// Ids that are prefixes of others, and of another type: a
			// match is on the type and the whole id.
			big, small, other := int64(1000001), int64(100000), int64(777)
			if err := trail.Record(reqCtx("far"), nil, models.AuditEntry{UserID: root.UserID, Action: models.AuditRead,
				Refs: []models.AuditRef{{Type: models.AuditPatient, ID: big}, {Type: models.AuditMapping, ID: other}}}); err != nil {
				t.Fatal(err)
			}
			all := listAll(t, trail, root, models.AuditFilter{})
			// count returns how many events match f, after checking that
			// List returns exactly those the filter's meaning selects.
			count := func(t *testing.T, f models.AuditFilter) int {
				t.Helper()
				var wantIDs []int64
				for _, e := range all {
					typ := f.RecordType
					if typ == "" && f.RecordID != nil {
						typ = models.AuditPatient
					}
					if (f.UserID != nil && (e.UserID == nil || *e.UserID != *f.UserID)) || (f.Action != nil && e.Action != *f.Action) ||
						(typ != "" && !names(e, typ, f.RecordID)) ||
						(f.Since != nil && e.OccurredAt.Before(*f.Since)) || (f.Until != nil && !e.OccurredAt.Before(*f.Until)) {
						continue
					}
					wantIDs = append(wantIDs, e.ID)
				}
				var gotIDs []int64
				for _, e := range listAll(t, trail, root, f) {
					gotIDs = append(gotIDs, e.ID)
				}
				if !slices.Equal(gotIDs, wantIDs) {
					t.Fatalf("filter %+v: events %v, want %v", f, gotIDs, wantIDs)
				}
				page, err := trail.List(ctx, root, f, models.PageRequest{First: ptr(1), WithTotal: true})
				if err != nil || page.Total != len(wantIDs) {
					t.Fatalf("filter %+v: total %v: %v", f, page, err)
				}
				return len(wantIDs)
			}
			upd, read := models.AuditUpdate, models.AuditRead
			if n := count(t, models.AuditFilter{Action: &upd}); n != 2 {
				t.Errorf("updates: %d", n)
			}
			// Created, read alone, read with its patient (get, list,
			// mappings of the patient, the no-op update), read without
			// (the patient's mappings), updated, deleted.
			if n := count(t, models.AuditFilter{RecordType: models.AuditMapping, RecordID: &mid}); n != 8 {
				t.Errorf("mapping %d: %d", mid, n)
			}
			if n := count(t, models.AuditFilter{RecordType: models.AuditMapping}); n < 10 {
				t.Errorf("mappings: %d", n)
			}
			if n := count(t, models.AuditFilter{UserID: &bob.UserID}); n != 0 {
				t.Errorf("bob: %d", n)
			}
			if n := count(t, models.AuditFilter{UserID: &alice.UserID, RecordType: models.AuditPatient, RecordID: &p.ID}); n < 10 {
				t.Errorf("alice on patient %d: %d", p.ID, n)
			}
			if n := count(t, models.AuditFilter{RecordID: &p.ID, Action: &read}); n < 5 {
				t.Errorf("reads of patient %d: %d", p.ID, n)
			}
			if n := count(t, models.AuditFilter{RecordType: models.AuditUser}); n != 1 {
				t.Errorf("users: %d", n)
			}
			for _, c := range []struct {
				typ string
				id  int64
				n   int
			}{{models.AuditPatient, big, 1}, {models.AuditPatient, small, 0}, {models.AuditMapping, big, 0},
				{models.AuditMapping, other, 1}, {models.AuditPatient, other, 0}, {models.AuditMapping, 77, 0}} {
				if n := count(t, models.AuditFilter{RecordType: c.typ, RecordID: &c.id}); n != c.n {
					t.Errorf("%s %d: %d, want %d", c.typ, c.id, n, c.n)
				}
			}
			future := time.Now().Add(time.Hour)
			past := time.Now().Add(-time.Hour)
			if n := count(t, models.AuditFilter{Since: &future}); n != 0 {
				t.Errorf("since future: %d", n)
			}
			if n := count(t, models.AuditFilter{Until: &past}); n != 0 {
				t.Errorf("until past: %d", n)
			}
			cut := time.Now().Add(-30 * time.Second) // the v1 event is before it
			if n, all := count(t, models.AuditFilter{Since: &cut, Until: &future}), count(t, models.AuditFilter{Since: &past}); n != all-1 || n == 0 {
				t.Errorf("range %d of %d", n, all)
			}
			if _, err := trail.List(ctx, root, models.AuditFilter{RecordType: "nurse"}, models.PageRequest{}); code(err) != models.CodeInvalid {
				t.Errorf("bad record type: %v", err)
			}
			if _, err := trail.List(ctx, root, models.AuditFilter{Since: &future, Until: &past}, models.PageRequest{}); code(err) != models.CodeInvalid {
				t.Errorf("until before since: %v", err)
			}
		})
		t.Run("doctors_of_patient_read_their_mappings", func(t *testing.T) {
			doc3, err := s.Doctors.Create(context.Background(), alice, doctorIn(3))
			if err != nil {
				t.Fatal(err)
			}
			var ms []int64
			for _, d := range []int64{doc.ID, doc3.ID} {
				m, err := s.Mappings.Create(context.Background(), alice, models.MappingInput{PatientID: &p.ID, DoctorID: &d})
				if err != nil {
					t.Fatal(err)
				}
				ms = append(ms, m.ID)
			}
			got, err := s.Mappings.ByPatientIDs(reqCtx("d-bypatient"), alice, []int64{p.ID, ids[2]}, nil)
			if err != nil || len(got[p.ID]) != 2 {
				t.Fatalf("doctors %v: %v", got, err)
			}
			want(t, "d-bypatient", alice, fmt.Sprintf("read mapping:%d mapping:%d", ms[0], ms[1]))
			// Bob sees no patient of alice's: no doctor, no event.
			if got, err := s.Mappings.ByPatientIDs(reqCtx("d-bypatient-bob"), bob, []int64{p.ID}, nil); err != nil || len(got) != 0 {
				t.Fatalf("bob: %v %v", got, err)
			}
			want(t, "d-bypatient-bob", bob, "")
		})
		t.Run("delete_doctor", func(t *testing.T) {
			// Bob's doctor is assigned to two of alice's patients (one
			// mapping exists already) and to one of carol's.
			carol := mustUser(t, s, "carol@example.com")
			cp, err := s.Patients.Create(context.Background(), carol, patientIn("Cid"))
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []struct {
				v   models.Viewer
				pid int64
			}{{alice, ids[2]}, {carol, cp.ID}} {
				if _, err := s.Mappings.Create(context.Background(), in.v, models.MappingInput{PatientID: &in.pid, DoctorID: &doc.ID}); err != nil {
					t.Fatal(err)
				}
			}
			page, err := s.Mappings.List(context.Background(), root, models.MappingFilter{DoctorID: &doc.ID}, models.PageRequest{})
			if err != nil || len(page.Items) != 3 {
				t.Fatalf("mappings of the doctor: %v", err)
			}
			if err := s.Doctors.Delete(reqCtx("d-delete-alice"), alice, doc.ID); code(err) != models.CodeForbidden {
				t.Fatalf("alice deletes bob's doctor: %v", err)
			}
			want(t, "d-delete-alice", alice, "")
			t.Run("creator_conflict", func(t *testing.T) {
				err := s.Doctors.Delete(reqCtx("d-delete-bob"), bob, doc.ID)
				if code(err) != models.CodeConflict {
					t.Fatalf("bob deletes his doctor of others' patients: %v", err)
				}
				msg := err.Error()
				if e, ok := err.(*models.Error); ok {
					msg = e.Message
				}
				if !strings.Contains(msg, "3 patient") {
					t.Errorf("message does not say how many: %q", msg)
				}
				for _, secret := range []string{"alice", "carol", "Ann", "More", "Cid", fmt.Sprint(cp.ID), fmt.Sprint(alice.UserID)} {
					if strings.Contains(msg, secret) {
						t.Errorf("message names %q: %q", secret, msg)
					}
				}
				want(t, "d-delete-bob", bob, "")
				if again, err := s.Mappings.List(context.Background(), root, models.MappingFilter{DoctorID: &doc.ID}, models.PageRequest{}); err != nil || len(again.Items) != 3 {
					t.Fatalf("bob's refused delete removed mappings: %v", err)
				}
			})
			t.Run("creator_own_patients_only", func(t *testing.T) {
				bp, err := s.Patients.Create(context.Background(), bob, patientIn("Bea"))
				if err != nil {
					t.Fatal(err)
				}
				bdoc, err := s.Doctors.Create(context.Background(), bob, doctorIn(4))
				if err != nil {
					t.Fatal(err)
				}
				m, err := s.Mappings.Create(context.Background(), bob, models.MappingInput{PatientID: &bp.ID, DoctorID: &bdoc.ID})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Doctors.Delete(reqCtx("d-delete-own"), bob, bdoc.ID); err != nil {
					t.Fatal(err)
				}
				want(t, "d-delete-own", bob, fmt.Sprintf("delete mapping:%d", m.ID))
			})
			t.Run("superuser_one_event_per_mapping", func(t *testing.T) {
				if err := s.Doctors.Delete(reqCtx("d-delete"), root, doc.ID); err != nil {
					t.Fatal(err)
				}
				var lines []string
				for _, m := range page.Items {
					lines = append(lines, fmt.Sprintf("delete mapping:%d", m.ID))
				}
				slices.Sort(lines)
				want(t, "d-delete", root, strings.Join(lines, "\n"))
				for _, m := range page.Items {
					if _, err := s.Mappings.Get(context.Background(), root, m.ID); code(err) != models.CodeNotFound {
						t.Fatalf("mapping %d survived: %v", m.ID, err)
					}
				}
				if err := s.Doctors.Delete(reqCtx("d-delete-again"), root, doc.ID); code(err) != models.CodeNotFound {
					t.Fatalf("again: %v", err)
				}
				want(t, "d-delete-again", root, "")
			})
		})
	})
}
