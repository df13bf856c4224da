package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/graph"
	"healthcare/internal/apptest"
	"healthcare/internal/wstest"
	"healthcare/models"
	"healthcare/web"
)

// newWSEnv serves the handler as the server mounts it, with net/http's read
// and write timeouts at one second: a websocket must outlive them.
func newWSEnv(t *testing.T, db *bun.DB, configure func(*graph.Options)) *env {
	t.Helper()
	app := apptest.New(t, db, apptest.Options{})
	opts := graph.Options{Store: app.Store, Auth: app.Auth, Audit: app.Audit}
	if configure != nil {
		configure(&opts)
	}
	h := app.Auth.Middleware(graph.NewHandler(opts))
	srv := httptest.NewUnstartedServer(middleware.RequestID(web.RequestInfo(web.Origin{})(h)))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = time.Second, time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, auth: app.Auth, store: app.Store, app: app, counter: &dbtest.Counter{}}
}

// ws opens a websocket to the env's server, signed in with token, for the
// length of test t.
func (e *env) ws(t testing.TB, token string) *wstest.Client {
	t.Helper()
	c, _, err := wstest.Dial(t, e.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Connect(token)
}

const (
	mappingSub = `subscription($p: ID) { mappingChanged(patientId: $p) { op mappingId patientId mapping { id status reason patient { id firstName } doctor { id } } } }`
	patientSub = `subscription($id: ID!) { patientChanged(id: $id) { op patientId patient { id firstName allergies } } }`
)

func TestSubscriptions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newWSEnv(t, db, nil)
		alice, _ := e.signup("alice@example.com")
		bob, _ := e.signup("bob@example.com")

		t.Run("own_mappings_create_update_delete", func(t *testing.T) {
			a := e.ws(t, alice)
			a.Subscribe("1", mappingSub, nil)
			b := e.ws(t, bob)
			b.Subscribe("1", mappingSub, nil)
			// Past the server's read and write timeouts.
			time.Sleep(1500 * time.Millisecond)

			pid := e.mkPatient(alice, "Asha")
			did := e.mkDoctor(alice, 1)
			mid := e.mkMapping(alice, pid, did)
			data, errs := a.Event("1")
			if len(errs) > 0 || path(data, "mappingChanged", "op") != "CREATE" || path(data, "mappingChanged", "mappingId") != mid ||
				path(data, "mappingChanged", "patientId") != pid || path(data, "mappingChanged", "mapping", "status") != "ACTIVE" ||
				path(data, "mappingChanged", "mapping", "patient", "firstName") != "Asha" || path(data, "mappingChanged", "mapping", "doctor", "id") != did {
				t.Fatalf("create event: %v %v", data, errs)
			}
			e.ok(alice, `mutation($id: ID!) { updateMapping(id: $id, input: {status: COMPLETED, reason: "done"}) { id } }`, map[string]any{"id": mid})
			data, _ = a.Event("1")
			if path(data, "mappingChanged", "op") != "UPDATE" || path(data, "mappingChanged", "mapping", "status") != "COMPLETED" ||
				path(data, "mappingChanged", "mapping", "reason") != "done" {
				t.Fatalf("update event: %v", data)
			}
			e.ok(alice, `mutation($id: ID!) { deleteMapping(id: $id) }`, map[string]any{"id": mid})
			data, _ = a.Event("1")
			if path(data, "mappingChanged", "op") != "DELETE" || path(data, "mappingChanged", "mappingId") != mid ||
				path(data, "mappingChanged", "mapping") != nil {
				t.Fatalf("delete event: %v", data)
			}

			// Bob heard none of it, though his subscription is live: his
			// own change reaches him, and only it.
			if got := b.Quiet(500 * time.Millisecond); len(got) != 0 {
				t.Fatalf("another account's subscriber received %d messages: %+v", len(got), got)
			}
			bp := e.mkPatient(bob, "Vikram")
			bm := e.mkMapping(bob, bp, did)
			data, _ = b.Event("1")
			if path(data, "mappingChanged", "mappingId") != bm || path(data, "mappingChanged", "mapping", "patient", "firstName") != "Vikram" {
				t.Fatalf("bob's own event: %v", data)
			}
			if got := a.Quiet(500 * time.Millisecond); len(got) != 0 {
				t.Fatalf("alice received bob's change: %+v", got)
			}
		})

		t.Run("event_reads_are_audited", func(t *testing.T) {
			a := e.ws(t, alice)
			pid := e.mkPatient(alice, "Audited")
			a.Subscribe("1", mappingSub, map[string]any{"p": pid})
			did := e.mkDoctor(alice, 2)
			mid := e.mkMapping(alice, pid, did)
			a.Event("1")
			id, _ := models.ParseID(mid)
			typ, read := models.AuditMapping, models.AuditRead
			page, err := e.app.Audit.List(context.Background(), models.Viewer{UserID: 1 << 40, Superuser: true},
				models.AuditFilter{RecordType: typ, RecordID: &id, Action: &read}, models.PageRequest{First: ptr(10)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) == 0 {
				t.Fatal("the event's read of the mapping is not in the audit trail")
			}
		})

		t.Run("patient_update_then_delete_ends", func(t *testing.T) {
			pid := e.mkPatient(alice, "Meera")
			a := e.ws(t, alice)
			a.Subscribe("p", patientSub, map[string]any{"id": pid})
			// Bob's changes to his own patients are not Meera's.
			e.mkPatient(bob, "Other")
			e.ok(alice, `mutation($id: ID!) { updatePatient(id: $id, input: {allergies: "Latex"}) { id } }`, map[string]any{"id": pid})
			data, _ := a.Event("p")
			if path(data, "patientChanged", "op") != "UPDATE" || path(data, "patientChanged", "patient", "allergies") != "Latex" {
				t.Fatalf("update event: %v", data)
			}
			e.ok(alice, `mutation($id: ID!) { deletePatient(id: $id) }`, map[string]any{"id": pid})
			data, _ = a.Event("p")
			if path(data, "patientChanged", "op") != "DELETE" || path(data, "patientChanged", "patient") != nil {
				t.Fatalf("delete event: %v", data)
			}
			a.Expect("complete", "p")
		})

		t.Run("other_accounts_patient_not_found", func(t *testing.T) {
			pid := e.mkPatient(alice, "Private")
			b := e.ws(t, bob)
			for i, q := range []struct {
				query string
				vars  map[string]any
			}{
				{patientSub, map[string]any{"id": pid}},
				{mappingSub, map[string]any{"p": pid}},
				{patientSub, map[string]any{"id": "999999"}}, // absent: the same answer
			} {
				id := string(rune('a' + i))
				b.Subscribe(id, q.query, q.vars)
				data, errs := b.Event(id)
				if len(errs) != 1 || errs[0].Extensions.Code != "NOT_FOUND" || errs[0].Message != "Patient not found." || data != nil {
					t.Fatalf("%s: want NOT_FOUND, got %v %+v", q.vars, data, errs)
				}
				b.Expect("complete", id)
			}
			// Alice's change to the patient never reaches Bob.
			e.ok(alice, `mutation($id: ID!) { updatePatient(id: $id, input: {city: "Pune"}) { id } }`, map[string]any{"id": pid})
			if got := b.Quiet(300 * time.Millisecond); len(got) != 0 {
				t.Fatalf("bob received %+v", got)
			}
		})

		t.Run("superuser_hears_every_account", func(t *testing.T) {
			if _, err := e.auth.CreateSuperuser(context.Background(), models.RegisterInput{Name: "Root", Email: "root@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"}); err != nil {
				t.Fatal(err)
			}
			root := path(e.ok("", `mutation { login(input: {email: "root@example.com", password: "Correct-Horse-42"}) { tokens { access } } }`, nil), "login", "tokens", "access").(string)
			r := e.ws(t, root)
			r.Subscribe("1", mappingSub, nil)
			pid := e.mkPatient(bob, "Seen")
			mid := e.mkMapping(bob, pid, e.mkDoctor(bob, 3))
			data, _ := r.Event("1")
			if path(data, "mappingChanged", "mappingId") != mid || path(data, "mappingChanged", "mapping", "patient", "firstName") != "Seen" {
				t.Fatalf("superuser event: %v", data)
			}
		})

		t.Run("sign_out_closes_4401", func(t *testing.T) {
			access, refresh := e.signup("leaver@example.com")
			c := e.ws(t, access)
			c.Subscribe("1", mappingSub, nil)
			e.ok("", `mutation($r: String!) { logout(refresh: $r) }`, map[string]any{"r": refresh})
			if code, reason := c.WaitClose(5 * time.Second); code != 4401 {
				t.Fatalf("after sign-out: closed %d %q, want 4401", code, reason)
			}
			// And the token no longer opens one.
			d, _, err := wstest.Dial(t, e.srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			d.Init(map[string]any{"Authorization": "Bearer " + access})
			if code, _ := d.WaitClose(5 * time.Second); code != 4403 {
				t.Fatalf("connection_init with a signed-out token: closed %d, want 4403", code)
			}
		})

		t.Run("deactivation_closes_4401", func(t *testing.T) {
			access, _ := e.signup("deactivated@example.com")
			uid, _ := models.ParseID(path(e.ok(access, `{ me { id } }`, nil), "me", "id").(string))
			root, err := e.auth.CreateSuperuser(context.Background(), models.RegisterInput{Name: "Admin", Email: "admin-ws@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"})
			if err != nil {
				t.Fatal(err)
			}
			c := e.ws(t, access)
			c.Subscribe("1", mappingSub, nil)
			if _, err := e.auth.SetActive(context.Background(), models.Viewer{UserID: root.ID, Superuser: true}, uid, false); err != nil {
				t.Fatal(err)
			}
			if code, reason := c.WaitClose(5 * time.Second); code != 4401 {
				t.Fatalf("after deactivation: closed %d %q, want 4401", code, reason)
			}
		})

		t.Run("token_expiry_closes_4403", func(t *testing.T) {
			access, _ := e.signup("brief@example.com")
			short := shortToken(t, access, 1500*time.Millisecond)
			c := e.ws(t, short)
			c.Subscribe("1", mappingSub, nil)
			if code, reason := c.WaitClose(5 * time.Second); code != 4403 || !strings.Contains(reason, "expired") {
				t.Fatalf("at expiry: closed %d %q, want 4403", code, reason)
			}
		})

		t.Run("connection_init_refused_4403", func(t *testing.T) {
			for name, payload := range map[string]map[string]any{
				"no_token":  {},
				"bad_token": {"Authorization": "Bearer not-a-token"},
				"refresh":   {"authToken": mustRefresh(t, e)},
			} {
				c, _, err := wstest.Dial(t, e.srv.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				c.Init(payload)
				if code, _ := c.WaitClose(5 * time.Second); code != 4403 {
					t.Fatalf("%s: closed %d, want 4403", name, code)
				}
			}
			// authToken is accepted as well as Authorization.
			c, _, _ := wstest.Dial(t, e.srv.URL, nil)
			c.Init(map[string]any{"authToken": alice})
			c.Expect("connection_ack", "")
		})

		t.Run("malformed_init_4400", func(t *testing.T) {
			c, _, err := wstest.Dial(t, e.srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Send(wstest.Msg{Type: "connection_init", Payload: json.RawMessage(`"not an object"`)})
			if code, _ := c.WaitClose(5 * time.Second); code != 4400 {
				t.Fatalf("closed %d, want 4400", code)
			}
		})

		t.Run("other_subprotocol_400", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-ws"}})
			if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("the legacy subprotocol: %v %v", err, resp)
			}
		})

		t.Run("subscribe_before_init_4401", func(t *testing.T) {
			c, _, err := wstest.Dial(t, e.srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Subscribe("1", mappingSub, nil)
			if code, _ := c.WaitClose(5 * time.Second); code != 4401 {
				t.Fatalf("closed %d, want 4401", code)
			}
		})

		t.Run("queries_go_by_http_subscriptions_by_websocket", func(t *testing.T) {
			c := e.ws(t, alice)
			c.Subscribe("q", `{ me { id } }`, nil)
			_, errs := c.Event("q")
			if len(errs) != 1 || errs[0].Extensions.Code != "BAD_REQUEST" {
				t.Fatalf("a query over the websocket: %+v", errs)
			}
			r := e.do(alice, mappingSub, nil)
			if r.Status != http.StatusBadRequest || r.code() != "BAD_REQUEST" {
				t.Fatalf("a subscription by POST: %d %s", r.Status, r.Raw)
			}
		})

		t.Run("missed_changes_end_subscriptions", func(t *testing.T) {
			if !database.IsPostgres(db) {
				t.Skip("SQLite delivers in-process and misses nothing")
			}
			c := e.ws(t, alice)
			c.Subscribe("1", mappingSub, nil)
			// Cut this node's LISTEN connection: it reconnects, and changes
			// made meanwhile may have been missed.
			if _, err := db.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"); err != nil {
				t.Fatal(err)
			}
			m := c.Expect("error", "1")
			var errs []wstest.Error
			if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 || errs[0].Extensions.Code != "SERVICE_UNAVAILABLE" {
				t.Fatalf("after a lost LISTEN connection: %s", m.Payload)
			}
		})

		t.Run("origin", func(t *testing.T) {
			_, resp, err := wstest.Dial(t, e.srv.URL, http.Header{"Origin": {"https://evil.example"}})
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("another origin: %v %v", err, resp)
			}
			c, _, err := wstest.Dial(t, e.srv.URL, http.Header{"Origin": {e.srv.URL}})
			if err != nil {
				t.Fatalf("the server's own origin: %v", err)
			}
			c.Connect(alice)
		})
	})
}

func TestSubscriptionLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newWSEnv(t, db, func(o *graph.Options) {
			o.Subscriptions = graph.Subscriptions{MaxConnections: 2, MaxSubscriptions: 2, IdleTimeout: 400 * time.Millisecond,
				AllowedOrigins: []string{"https://app.example"}}
		})
		alice, _ := e.signup("alice@example.com")
		bob, _ := e.signup("bob@example.com")

		t.Run("connections_per_account_4429", func(t *testing.T) {
			c1, c2 := e.ws(t, alice), e.ws(t, alice)
			c1.Subscribe("1", mappingSub, nil)
			c2.Subscribe("1", mappingSub, nil)
			c3, _, _ := wstest.Dial(t, e.srv.URL, nil)
			c3.Init(map[string]any{"Authorization": "Bearer " + alice})
			if code, _ := c3.WaitClose(5 * time.Second); code != 4429 {
				t.Fatalf("third connection: closed %d, want 4429", code)
			}
			e.ws(t, bob) // another account is not counted with alice's
			_ = c1.Conn.Close(websocket.StatusNormalClosure, "")
			// The slot is given back once the server has seen the close.
			deadline := time.Now().Add(5 * time.Second)
			for {
				c, _, _ := wstest.Dial(t, e.srv.URL, nil)
				c.Init(map[string]any{"Authorization": "Bearer " + alice})
				if m := c.Quiet(300 * time.Millisecond); len(m) == 1 && m[0].Type == "connection_ack" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the closed connection's slot was not given back")
				}
			}
		})

		t.Run("subscriptions_per_connection", func(t *testing.T) {
			dave, _ := e.signup("dave@example.com")
			c := e.ws(t, dave)
			c.Subscribe("1", mappingSub, nil)
			c.Subscribe("2", mappingSub, nil)
			// Each subscribe starts on its own goroutine: let these two
			// take their slots first.
			time.Sleep(200 * time.Millisecond)
			c.Subscribe("3", mappingSub, nil)
			_, errs := c.Event("3")
			if len(errs) != 1 || errs[0].Extensions.Code != "RATE_LIMITED" {
				t.Fatalf("third subscription: %+v", errs)
			}
			c.Expect("complete", "3")
			c.Complete("1")
			time.Sleep(200 * time.Millisecond)
			c.Subscribe("4", mappingSub, nil)
			time.Sleep(200 * time.Millisecond)
			pid := e.mkPatient(dave, "Limit")
			e.mkMapping(dave, pid, e.mkDoctor(dave, 7))
			got := map[string]bool{}
			for len(got) < 2 {
				// gqlgen confirms the client's complete of 1 with one of its own.
				if m := c.Next(5 * time.Second); m.Type == "next" {
					got[m.ID] = true
				}
			}
			if !got["2"] || !got["4"] {
				t.Fatalf("events went to %v, want 2 and 4", got)
			}
		})

		t.Run("idle_timeout", func(t *testing.T) {
			carol, _ := e.signup("carol@example.com")
			idle := e.ws(t, carol)
			busy := e.ws(t, carol)
			busy.Subscribe("1", mappingSub, nil)
			if code, reason := idle.WaitClose(3 * time.Second); code != websocket.StatusNormalClosure || !strings.Contains(reason, "Idle") {
				t.Fatalf("idle connection: closed %d %q", code, reason)
			}
			if code, _ := busy.Status(); code != -1 {
				t.Fatalf("a connection with a subscription was closed: %d", code)
			}
		})

		t.Run("allowed_origin", func(t *testing.T) {
			c, _, err := wstest.Dial(t, e.srv.URL, http.Header{"Origin": {"https://app.example"}})
			if err != nil {
				t.Fatalf("CORS_ALLOWED_ORIGINS origin refused: %v", err)
			}
			_ = c.Conn.CloseNow()
			if _, resp, err := wstest.Dial(t, e.srv.URL, http.Header{"Origin": {"https://app.example.evil"}}); err == nil || resp.StatusCode != 403 {
				t.Fatalf("a look-alike origin: %v", err)
			}
		})
	})
}

// shortToken is an access token of access's session that expires in ttl.
func shortToken(t *testing.T, access string, ttl time.Duration) string {
	t.Helper()
	long, err := auth.NewSigner([]byte(apptest.Secret), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := long.Verify(access, auth.TypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := c.UserID()
	s, err := auth.NewSigner([]byte(apptest.Secret), ttl, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Issue(uid, auth.TypeAccess, c.Session)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mustRefresh is a refresh token (never accepted as an access token).
func mustRefresh(t *testing.T, e *env) string {
	t.Helper()
	_, refresh := e.signup("refresh-" + strings.ReplaceAll(t.Name(), "/", "-") + "@example.com")
	return refresh
}
