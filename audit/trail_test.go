package audit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

func TestBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		bg := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		var ps []*models.Patient
		for i := range 3 {
			p, err := s.Patients.Create(bg, alice, patientIn(fmt.Sprint("Ann", i)))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		bp, err := s.Patients.Create(bg, bob, patientIn("Bea"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := s.Doctors.Create(bg, alice, doctorIn(1))
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Mappings.Create(bg, alice, models.MappingInput{PatientID: &ps[0].ID, DoctorID: &doc.ID})
		if err != nil {
			t.Fatal(err)
		}
		count := func(t *testing.T) int {
			t.Helper()
			n, err := db.NewSelect().Table("audit_events").Count(bg)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}

		ctx, b := trail.Begin(reqCtx("batch"))
		if _, err := s.Patients.Get(ctx, alice, ps[0].ID); err != nil {
			t.Fatal(err)
		}
		if page, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{First: ptr(2)}); err != nil || len(page.Items) != 2 {
			t.Fatalf("list: %v", err)
		}
		if _, err := s.Mappings.Get(ctx, alice, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Patients.Get(ctx, bob, bp.ID); err != nil {
			t.Fatal(err)
		}
		// Resolvers read at once: the batch takes concurrent reads.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.Patients.ByIDs(ctx, alice, []int64{ps[0].ID, ps[1].ID}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// A change is written at once, in its transaction.
		if _, _, err := s.Patients.Update(ctx, alice, ps[1].ID, models.PatientPatch{City: ptr("Goa")}); err != nil {
			t.Fatal(err)
		}
		// An event for another trail does not join this one's batch.
		other := audit.New(db, nil)
		if err := other.Record(ctx, nil, models.AuditEntry{UserID: root.UserID, Action: models.AuditRead,
			Refs: []models.AuditRef{{Type: models.AuditPatient, ID: bp.ID}}}); err != nil {
			t.Fatal(err)
		}

		t.Run("reads_wait_for_flush", func(t *testing.T) {
			evs := auditOf(t, trail, root, "batch")
			if got, want := summary(evs), fmt.Sprintf("read patient:%d\nupdate patient:%d [city]", bp.ID, ps[1].ID); got != want {
				t.Fatalf("before Flush:\n%s\nwant:\n%s", got, want)
			}
		})
		before := count(t)
		t.Run("flush_writes_one_event_per_account", func(t *testing.T) {
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			// Durable when Flush returns: List sees the events.
			var reads []*models.AuditEvent
			for _, e := range auditOf(t, trail, root, "batch") {
				if e.Action == models.AuditRead && *e.UserID != root.UserID {
					reads = append(reads, e)
				}
			}
			if len(reads) != 2 || count(t) != before+2 {
				t.Fatalf("%d read events, %d new rows", len(reads), count(t)-before)
			}
			byUser := map[int64]*models.AuditEvent{*reads[0].UserID: reads[0], *reads[1].UserID: reads[1]}
			a, bo := byUser[alice.UserID], byUser[bob.UserID]
			if a == nil || bo == nil {
				t.Fatalf("events %+v", reads)
			}
			// Every record read once, in the order first read: the Get,
			// then the list (newest first), then the mapping.
			if want := models.Records(fmt.Sprintf(`{"patient":[%d,%d,%d],"mapping":[%d]}`, ps[0].ID, ps[2].ID, ps[1].ID, m.ID)); a.Records != want {
				t.Errorf("alice's event names %s, want %s", a.Records, want)
			}
			if want := models.Records(fmt.Sprintf(`{"patient":[%d]}`, bp.ID)); bo.Records != want || *bo.RecordID != bp.ID {
				t.Errorf("bob's event names %s (record %v), want %s", bo.Records, bo.RecordID, want)
			}
			for _, e := range reads {
				checkColumns(t, e)
				if e.IP != "203.0.113.7" || e.UserAgent != "audit-test/1.0" {
					t.Errorf("origin of %+v", e)
				}
			}
		})
		t.Run("second_flush_writes_nothing", func(t *testing.T) {
			n := count(t)
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if count(t) != n {
				t.Fatalf("%d events written by a second Flush", count(t)-n)
			}
		})
		t.Run("reads_after_flush_wait_for_the_next", func(t *testing.T) {
			n := count(t)
			if _, err := s.Patients.Get(ctx, alice, ps[2].ID); err != nil {
				t.Fatal(err)
			}
			if count(t) != n {
				t.Fatal("a read after Flush was written at once")
			}
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if count(t) != n+1 {
				t.Fatalf("%d events, want 1", count(t)-n)
			}
		})
		t.Run("failed_flush_fails_the_request", func(t *testing.T) {
			// A database that cannot take the events: Flush says so.
			db2 := dbtest.Open(t, kindOf(db))
			app2 := apptest.New(t, db2, apptest.Options{})
			v := mustUser(t, app2.Store, "carol@example.com")
			p, err := app2.Store.Patients.Create(bg, v, patientIn("Cid"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, b := app2.Audit.Begin(reqCtx("doomed"))
			if _, err := app2.Store.Patients.Get(ctx, v, p.ID); err != nil {
				t.Fatal(err)
			}
			if err := db2.Close(); err != nil {
				t.Fatal(err)
			}
			if err := b.Flush(ctx); err == nil {
				t.Fatal("Flush on a closed database succeeded")
			}
		})
	})
}

func kindOf(db *bun.DB) dbtest.Kind {
	if database.IsPostgres(db) {
		return dbtest.Postgres
	}
	return dbtest.SQLite
}

// failBody is what the middleware's fail answers with.
const failBody = "audit unavailable"

// serve serves h behind the trail's middleware, with each request's id
// taken from its X-Test-Request header.
func serve(t *testing.T, trail *audit.Trail, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	fail := func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, failBody)
	}
	mw := trail.Middleware(fail)(h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := models.WithRequestInfo(r.Context(), models.RequestInfo{IP: "192.0.2.1", RequestID: r.Header.Get("X-Test-Request")})
		mw.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path, reqID string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-Request", reqID)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestMiddlewareFlushesBeforeAnswer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		bg := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice := mustUser(t, s, "alice@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		var ps []*models.Patient
		for i := range 3 {
			p, err := s.Patients.Create(bg, alice, patientIn(fmt.Sprint("Ann", i)))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}

		t.Run("events_written_before_first_byte", func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			done := func() { once.Do(func() { close(release) }) }
			t.Cleanup(done)
			srv := serve(t, trail, func(w http.ResponseWriter, r *http.Request) {
				page, err := s.Patients.List(r.Context(), alice, models.PatientFilter{}, models.PageRequest{})
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				if _, err := s.Patients.Get(r.Context(), alice, ps[0].ID); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.Header().Set("Content-Type", "text/plain")
				for _, p := range page.Items {
					_, _ = io.WriteString(w, p.FirstName+"\n")
				}
				w.(http.Flusher).Flush()
				// The handler is not done: the events must not wait for it.
				<-release
				_, _ = io.WriteString(w, "end\n")
			})
			resp := get(t, srv, "/", "stream")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			line := make([]byte, 5)
			if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "Ann2\n" {
				t.Fatalf("first line %q: %v", line, err)
			}
			evs := auditOf(t, trail, root, "stream")
			if got, want := summary(evs), fmt.Sprintf("read patient:%d patient:%d patient:%d", ps[0].ID, ps[1].ID, ps[2].ID); got != want {
				t.Fatalf("events while the answer streams:\n%s\nwant:\n%s", got, want)
			}
			if *evs[0].UserID != alice.UserID || evs[0].IP != "192.0.2.1" {
				t.Fatalf("event %+v", evs[0])
			}
			done()
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != "Ann1\nAnn0\nend\n" {
				t.Fatalf("rest %q: %v", rest, err)
			}
			if n := len(auditOf(t, trail, root, "stream")); n != 1 {
				t.Fatalf("%d events after the answer, want 1", n)
			}
		})
		t.Run("status_only_answer", func(t *testing.T) {
			srv := serve(t, trail, func(w http.ResponseWriter, r *http.Request) {
				if _, err := s.Patients.Get(r.Context(), alice, ps[1].ID); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			if resp := get(t, srv, "/", "no-content"); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got, want := summary(auditOf(t, trail, root, "no-content")), fmt.Sprintf("read patient:%d", ps[1].ID); got != want {
				t.Fatalf("events %q, want %q", got, want)
			}
		})
		t.Run("empty_answer", func(t *testing.T) {
			srv := serve(t, trail, func(w http.ResponseWriter, r *http.Request) {
				if _, err := s.Patients.Get(r.Context(), alice, ps[2].ID); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			})
			if resp := get(t, srv, "/", "empty"); resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got, want := summary(auditOf(t, trail, root, "empty")), fmt.Sprintf("read patient:%d", ps[2].ID); got != want {
				t.Fatalf("events %q, want %q", got, want)
			}
		})
		t.Run("failed_flush_answers_fail", func(t *testing.T) {
			// Its own database, closed once the handler has read.
			db2 := dbtest.Open(t, kindOf(db))
			app2 := apptest.New(t, db2, apptest.Options{})
			v := mustUser(t, app2.Store, "carol@example.com")
			p, err := app2.Store.Patients.Create(bg, v, patientIn("Secretname"))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name  string
				write func(w http.ResponseWriter, p *models.Patient)
			}{
				{"write", func(w http.ResponseWriter, p *models.Patient) { _, _ = io.WriteString(w, p.FirstName) }},
				{"write_header_then_write", func(w http.ResponseWriter, p *models.Patient) {
					w.WriteHeader(http.StatusCreated)
					_, _ = io.WriteString(w, p.FirstName)
				}},
				{"flush_then_write", func(w http.ResponseWriter, p *models.Patient) {
					w.(http.Flusher).Flush()
					_, _ = io.WriteString(w, p.FirstName)
				}},
			} {
				t.Run(c.name, func(t *testing.T) {
					var closeOnce sync.Once
					srv := serve(t, app2.Audit, func(w http.ResponseWriter, r *http.Request) {
						got, err := app2.Store.Patients.Get(r.Context(), v, p.ID)
						if err != nil {
							// Only the first request reads: the database
							// is closed after it.
							got = p
						}
						closeOnce.Do(func() { _ = db2.Close() })
						// Something else to record, in case the read failed.
						_ = app2.Audit.Record(r.Context(), nil, models.AuditEntry{UserID: v.UserID, Action: models.AuditRead,
							Refs: []models.AuditRef{{Type: models.AuditPatient, ID: p.ID}}})
						c.write(w, got)
					})
					resp := get(t, srv, "/", "doomed")
					body, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != http.StatusServiceUnavailable || string(body) != failBody {
						t.Fatalf("answer %d %q, want 503 %q", resp.StatusCode, body, failBody)
					}
					if strings.Contains(string(body), "Secretname") {
						t.Fatal("the handler's data went out")
					}
				})
			}
		})
	})
}

// TestMiddlewareLateReadsAndFailureHeaders pins what a review of the
// middleware found: reads a handler makes after it began to answer are
// recorded before its later bytes; the failure answer carries none of the
// handler's headers; only reads wait in the batch (a sign-in event is
// written at once); a NUL in the request's origin does not break the row.
func TestMiddlewareLateReadsAndFailureHeaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		bg := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice := mustUser(t, s, "alice@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		p1, err := s.Patients.Create(bg, alice, patientIn("Ann"))
		if err != nil {
			t.Fatal(err)
		}
		p2, err := s.Patients.Create(bg, alice, patientIn("Bob"))
		if err != nil {
			t.Fatal(err)
		}

		t.Run("read_after_first_write_recorded", func(t *testing.T) {
			srv := serve(t, trail, func(w http.ResponseWriter, r *http.Request) {
				a, _ := s.Patients.Get(r.Context(), alice, p1.ID)
				_, _ = io.WriteString(w, a.FirstName+"\n")
				b, _ := s.Patients.Get(r.Context(), alice, p2.ID)
				_, _ = io.WriteString(w, b.FirstName+"\n")
			})
			resp := get(t, srv, "/", "late-read")
			body, _ := io.ReadAll(resp.Body)
			if string(body) != "Ann\nBob\n" {
				t.Fatalf("body %q", body)
			}
			got := map[int64]bool{}
			for _, e := range auditOf(t, trail, root, "late-read") {
				for _, ref := range e.RecordRefs() {
					got[ref.ID] = true
				}
			}
			if !got[p1.ID] || !got[p2.ID] {
				t.Fatalf("recorded %v, want both patients", got)
			}
		})
		t.Run("sign_in_event_not_batched", func(t *testing.T) {
			ctx, batch := trail.Begin(models.WithRequestInfo(bg, models.RequestInfo{RequestID: "login-in-batch"}))
			if err := s.Record(ctx, models.AuditEntry{UserID: alice.UserID, Action: models.AuditLogin,
				Refs: []models.AuditRef{{Type: models.AuditUser, ID: alice.UserID}}}); err != nil {
				t.Fatal(err)
			}
			if n := len(auditOf(t, trail, root, "login-in-batch")); n != 1 {
				t.Fatalf("%d events before the batch is flushed, want the sign-in written at once", n)
			}
			_ = batch.Flush(ctx)
		})
		t.Run("nul_in_origin", func(t *testing.T) {
			ctx := models.WithRequestInfo(bg, models.RequestInfo{IP: "1.2.3.4\x00", UserAgent: "ua\x00x\xff", RequestID: "nul\x00id"})
			if _, err := s.Patients.Get(ctx, alice, p1.ID); err != nil {
				t.Fatalf("a NUL in the origin broke the read: %v", err)
			}
		})
		t.Run("failure_answer_without_handler_headers", func(t *testing.T) {
			db2 := dbtest.Open(t, kindOf(db))
			app2 := apptest.New(t, db2, apptest.Options{})
			v := mustUser(t, app2.Store, "carol@example.com")
			p, err := app2.Store.Patients.Create(bg, v, patientIn("Secretname"))
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, app2.Audit, func(w http.ResponseWriter, r *http.Request) {
				got, err := app2.Store.Patients.Get(r.Context(), v, p.ID)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				db2.Close()
				w.Header().Set("X-Patient", got.FirstName)
				w.Header().Set("Content-Length", "10")
				_, _ = io.WriteString(w, got.FirstName)
			})
			resp := get(t, srv, "/", "fail-headers")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusServiceUnavailable || string(body) != failBody || resp.Header.Get("X-Patient") != "" {
				t.Fatalf("%d %q %v", resp.StatusCode, body, resp.Header)
			}
		})
	})
}
