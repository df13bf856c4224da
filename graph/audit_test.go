package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/graph"
	"healthcare/internal/apptest"
	"healthcare/models"
	"healthcare/web"
)

// newAuditEnv is newEnv with the request id and request info middleware in
// front, as the server mounts them.
func newAuditEnv(t *testing.T, db *bun.DB) *env {
	t.Helper()
	app := apptest.New(t, db, apptest.Options{})
	h := app.Auth.Middleware(graph.NewHandler(graph.Options{Store: app.Store, Auth: app.Auth, Audit: app.Audit, Introspection: graph.IntrospectionPublic}))
	srv := httptest.NewServer(middleware.RequestID(web.RequestInfo(web.Origin{})(h)))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, auth: app.Auth, store: app.Store, app: app, counter: &dbtest.Counter{}}
}

// doAs sends an operation with a user agent and a request id.
func (e *env) doAs(token, ua, reqID, query string, vars map[string]any) result {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	req.Header.Set("X-Request-Id", reqID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// eventsOf returns the audit events of request reqID, read from the store.
func (e *env) eventsOf(reqID string) []*models.AuditEvent {
	e.t.Helper()
	page, err := e.app.Audit.List(context.Background(), models.Viewer{UserID: 1 << 40, Superuser: true}, models.AuditFilter{}, models.PageRequest{First: ptr(100)})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*models.AuditEvent
	for _, ev := range page.Items {
		if ev.RequestID == reqID {
			out = append(out, ev)
		}
	}
	return out
}

const auditQ = `query($f: AuditEventFilter, $n: Int) { auditEvents(first: $n, filter: $f) {
	totalCount nodes { id occurredAt userId action recordType recordId fields ip userAgent requestId hash }
	pageInfo { hasNextPage endCursor } } }`

func TestAuditOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newAuditEnv(t, db)
		alice, aliceRefresh := e.signup("alice@example.com")
		pid := e.mkPatient(alice, "Ann")
		e.mkPatient(alice, "Bea")
		e.mkPatient(alice, "Cid")
		if _, err := e.auth.CreateSuperuser(context.Background(), models.RegisterInput{Name: "Root", Email: "root@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"}); err != nil {
			t.Fatal(err)
		}
		root, _ := e.signupLogin("root@example.com")

		t.Run("patient_read_recorded_with_origin", func(t *testing.T) {
			e.doAs(alice, "Mozilla/5.0 (audit test)", "req-read-1", `query($id: ID!) { patient(id: $id) { fullName medicalHistory } }`, map[string]any{"id": pid})
			evs := e.eventsOf("req-read-1")
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			ev := evs[0]
			if ev.Action != models.AuditRead || ev.RecordType != "patient" || fmt.Sprint(*ev.RecordID) != pid ||
				ev.UserAgent != "Mozilla/5.0 (audit test)" || ev.IP != "127.0.0.1" || ev.UserID == nil {
				t.Fatalf("event %+v", ev)
			}
		})
		t.Run("list_reads_each_patient", func(t *testing.T) {
			d := e.doAs(alice, "ua", "req-list", `{ patients(first: 20) { nodes { id } } }`, nil)
			if n := len(path(d.Data, "patients", "nodes").([]any)); n != 3 {
				t.Fatalf("%d patients", n)
			}
			// One event for the request, naming each patient it showed.
			evs := e.eventsOf("req-list")
			if len(evs) != 1 || len(evs[0].RecordRefs()) != 3 || evs[0].RecordID != nil {
				t.Fatalf("events %+v", evs)
			}
		})
		t.Run("changes_recorded_with_field_names", func(t *testing.T) {
			e.doAs(alice, "ua", "req-update", `mutation($id: ID!) { updatePatient(id: $id, input: {city: "Goa", allergies: "Dust"}) { id } }`, map[string]any{"id": pid})
			evs := e.eventsOf("req-update")
			if len(evs) != 1 || evs[0].Action != models.AuditUpdate || evs[0].Fields != "city,allergies" {
				t.Fatalf("events %+v", evs)
			}
		})
		t.Run("auth_events", func(t *testing.T) {
			q := `mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { tokens { access refresh } } }`
			e.doAs("", "ua", "req-login-bad", q, map[string]any{"e": "alice@example.com", "p": "wrong-password-1"})
			e.doAs("", "ua", "req-login-unknown", q, map[string]any{"e": "nobody@example.com", "p": "wrong-password-1"})
			d := e.doAs("", "ua", "req-login", q, map[string]any{"e": "alice@example.com", "p": "Correct-Horse-42"})
			refresh := path(d.Data, "login", "tokens", "refresh").(string)
			rq := `mutation($r: String!) { refreshToken(refresh: $r) { tokens { refresh } } }`
			e.doAs("", "ua", "req-refresh", rq, map[string]any{"r": aliceRefresh})
			e.doAs("", "ua", "req-reuse", rq, map[string]any{"r": aliceRefresh})
			e.doAs("", "ua", "req-logout", `mutation($r: String!) { logout(refresh: $r) }`, map[string]any{"r": refresh})
			for reqID, want := range map[string]string{
				"req-login-bad": "login_failed user=1", "req-login-unknown": "login_failed user=none",
				"req-login": "login user=1", "req-refresh": "", "req-reuse": "token_reuse user=1", "req-logout": "logout user=1",
			} {
				var got []string
				for _, ev := range e.eventsOf(reqID) {
					u := "none"
					if ev.UserID != nil {
						u = fmt.Sprint(*ev.UserID)
					}
					got = append(got, fmt.Sprintf("%s user=%s", ev.Action, u))
				}
				if strings.Join(got, ";") != want {
					t.Errorf("%s: %v, want %q", reqID, got, want)
				}
			}
		})
		t.Run("non_superuser_forbidden", func(t *testing.T) {
			// The reuse above ended alice's first session, its access token
			// included: sign in again.
			if r := e.do(alice, `{ me { id } }`, nil); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("access token of a session ended by refresh-token reuse: %s", r.Raw)
			}
			alice, _ := e.signupLogin("alice@example.com")
			if r := e.do(alice, auditQ, nil); r.code() != "FORBIDDEN" || r.Data["auditEvents"] != nil {
				t.Fatalf("alice: %s", r.Raw)
			}
			if r := e.do("", auditQ, nil); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("anonymous: %s", r.Raw)
			}
		})
		t.Run("superuser_reads_with_filters", func(t *testing.T) {
			if _, err := e.app.Audit.Seal(context.Background()); err != nil {
				t.Fatal(err)
			}
			d := e.ok(root, auditQ, map[string]any{"n": 50, "f": map[string]any{"recordType": "patient", "recordId": pid, "action": "UPDATE", "userId": "1"}})
			nodes := path(d, "auditEvents", "nodes").([]any)
			if len(nodes) != 1 || path(d, "auditEvents", "totalCount") != 1.0 {
				t.Fatalf("got %v", d)
			}
			n := nodes[0].(map[string]any)
			if n["action"] != "UPDATE" || n["recordType"] != "patient" || n["recordId"] != pid || n["userId"] != "1" ||
				fmt.Sprint(n["fields"]) != "[city allergies]" || n["requestId"] != "req-update" || len(fmt.Sprint(n["hash"])) != 64 {
				t.Fatalf("node %v", n)
			}
			d = e.ok(root, auditQ, map[string]any{"n": 2, "f": map[string]any{"action": "LOGIN_FAILED"}})
			if path(d, "auditEvents", "totalCount") != 2.0 || path(d, "auditEvents", "nodes", 1, "userId") != "1" || path(d, "auditEvents", "nodes", 0, "userId") != nil {
				t.Fatalf("login_failed: %v", d)
			}
			d = e.ok(root, auditQ, map[string]any{"f": map[string]any{"since": "2999-01-01T00:00:00Z"}})
			if path(d, "auditEvents", "totalCount") != 0.0 {
				t.Fatalf("since: %v", d)
			}
			if r := e.do(root, auditQ, map[string]any{"f": map[string]any{"recordType": "nurse"}}); r.code() != "BAD_USER_INPUT" {
				t.Fatalf("bad record type: %s", r.Raw)
			}
		})
		t.Run("not_writable_by_clients", func(t *testing.T) {
			// No mutation touches the trail.
			d := e.ok(root, `{ __type(name: "Mutation") { fields { name } } }`, nil)
			for _, f := range path(d, "__type", "fields").([]any) {
				if name := f.(map[string]any)["name"].(string); strings.Contains(strings.ToLower(name), "audit") {
					t.Errorf("mutation %s", name)
				}
			}
			if r := e.do(root, `mutation { deleteAuditEvent(id: "1") }`, nil); len(r.Errors) == 0 {
				t.Fatalf("accepted: %s", r.Raw)
			}
			r, err := e.app.Audit.Verify(context.Background())
			if err != nil || !r.OK() {
				t.Fatalf("verify %+v %v", r, err)
			}
		})
	})
}
