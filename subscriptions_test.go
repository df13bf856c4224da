package main

// GraphQL subscriptions through the whole server: the router (whose
// request timeout a websocket outlives), the playground's policy, shutdown,
// and two server nodes on one PostgreSQL, where a change made through one
// node reaches a subscriber on the other through LISTEN/NOTIFY.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"healthcare/database/dbtest"
	"healthcare/internal/wstest"
	"healthcare/models"
)

const (
	subMappings     = `subscription { mappingChanged { op mappingId patientId mapping { id status patient { firstName } } } }`
	createPatientQ  = `mutation($first: String!) { createPatient(input: {firstName: $first, lastName: "Rao", phone: "+919876543210", dateOfBirth: "1990-05-15", gender: F}) { id } }`
	createDoctorQ   = `mutation($n: String!) { createDoctor(input: {firstName: "Rajesh", lastName: "Kumar", email: $n, phone: "+919876543220", specialization: CARDIOLOGY, qualification: "MBBS", licenseNumber: $n, experienceYears: 5, consultationFee: 1500}) { id } }`
	createMappingQ  = `mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d}) { id } }`
	updateMappingQ  = `mutation($id: ID!) { updateMapping(id: $id, input: {status: INACTIVE}) { id } }`
	deleteMappingQ  = `mutation($id: ID!) { deleteMapping(id: $id) }`
	subscriptionEnv = "1s" // REQUEST_TIMEOUT: a websocket must outlive it
)

// mustData runs an operation on n that must succeed and returns the value
// at keys.
func (n *node) mustData(t *testing.T, token, query string, vars map[string]any, keys ...any) any {
	t.Helper()
	a := n.gql(t, token, query, vars, nil)
	if a.status != http.StatusOK || a.body["errors"] != nil {
		t.Fatalf("%s: %d %s", query, a.status, a.raw)
	}
	return path(a.body, append([]any{"data"}, keys...)...)
}

// assignment makes a patient (named first), a doctor and their mapping
// through n, as token; it returns the mapping's id.
func (n *node) assignment(t *testing.T, token, first string) string {
	t.Helper()
	pid := n.mustData(t, token, createPatientQ, map[string]any{"first": first}, "createPatient", "id")
	lic := "dr-" + strings.ToLower(first) + "@hospital.com"
	did := n.mustData(t, token, createDoctorQ, map[string]any{"n": lic}, "createDoctor", "id")
	return n.mustData(t, token, createMappingQ, map[string]any{"p": pid, "d": did}, "createMapping", "id").(string)
}

// wantEvent reads the next event of subscription id on c and checks its
// op, mapping id and (unless empty) patient's first name.
func wantEvent(t *testing.T, c *wstest.Client, id, op, mid, first string) {
	t.Helper()
	data, errs := c.Event(id)
	ev := path(data, "mappingChanged")
	if len(errs) > 0 || path(ev, "op") != op || path(ev, "mappingId") != mid {
		t.Fatalf("want %s of mapping %s, got %v %+v", op, mid, data, errs)
	}
	if first != "" && path(ev, "mapping", "patient", "firstName") != first {
		t.Fatalf("the event's mapping: %v", ev)
	}
	if op == "DELETE" && path(ev, "mapping") != nil {
		t.Fatalf("a deleted mapping is still shown: %v", ev)
	}
}

// TestSubscriptionsThroughTheServer: one node, on every database, through
// the server's own router and middleware.
func TestSubscriptionsThroughTheServer(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, map[string]string{"REQUEST_TIMEOUT": subscriptionEnv})
		alice, _ := n.register(t, "alice@example.com")
		bob, _ := n.register(t, "bob@example.com")
		a := mustWS(t, n, alice)
		a.Subscribe("1", subMappings, nil)
		b := mustWS(t, n, bob)
		b.Subscribe("1", subMappings, nil)
		time.Sleep(1500 * time.Millisecond) // past REQUEST_TIMEOUT

		mid := n.assignment(t, alice, "Asha")
		wantEvent(t, a, "1", "CREATE", mid, "Asha")
		if got := b.Quiet(500 * time.Millisecond); len(got) != 0 {
			t.Fatalf("another account's subscriber received %+v", got)
		}

		// The playground may open the websocket: its policy names this
		// origin's ws: URL.
		req, _ := http.NewRequest(http.MethodGet, n.srv.URL+"/graphql", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := "connect-src 'self' ws://" + strings.TrimPrefix(n.srv.URL, "http://") + ";"
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) {
			t.Fatalf("playground policy %q lacks %q", csp, want)
		}
	})
}

// TestSubscriptionsAcrossNodes is the proof that subscriptions work across
// server nodes: two nodes on one PostgreSQL; every change is made through
// node A, every subscriber is on node B.
func TestSubscriptionsAcrossNodes(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("needs PostgreSQL: set TEST_DATABASE_URL")
	}
	url := dbtest.URL(t)
	env := map[string]string{"REQUEST_TIMEOUT": subscriptionEnv}
	nodeA, nodeB := openNode(t, url, env), openNode(t, url, env)
	alice, aliceRefresh := nodeA.register(t, "alice@example.com")
	bob, _ := nodeA.register(t, "bob@example.com")

	onB := mustWS(t, nodeB, alice)
	onB.Subscribe("m", subMappings, nil)
	bobOnB := mustWS(t, nodeB, bob)
	bobOnB.Subscribe("m", subMappings, nil)
	time.Sleep(1500 * time.Millisecond)

	t.Run("changes_on_A_reach_B", func(t *testing.T) {
		mid := nodeA.assignment(t, alice, "Asha")
		wantEvent(t, onB, "m", "CREATE", mid, "Asha")
		nodeA.mustData(t, alice, updateMappingQ, map[string]any{"id": mid})
		data, _ := onB.Event("m")
		if path(data, "mappingChanged", "op") != "UPDATE" || path(data, "mappingChanged", "mapping", "status") != "INACTIVE" {
			t.Fatalf("update event on B: %v", data)
		}
		nodeA.mustData(t, alice, deleteMappingQ, map[string]any{"id": mid})
		wantEvent(t, onB, "m", "DELETE", mid, "")
	})

	t.Run("never_another_accounts_event", func(t *testing.T) {
		if got := bobOnB.Quiet(500 * time.Millisecond); len(got) != 0 {
			t.Fatalf("bob's subscriber on B received alice's changes: %+v", got)
		}
		// Bob's subscription is live: his own change through A reaches him.
		mid := nodeA.assignment(t, bob, "Vikram")
		wantEvent(t, bobOnB, "m", "CREATE", mid, "Vikram")
		if got := onB.Quiet(500 * time.Millisecond); len(got) != 0 {
			t.Fatalf("alice's subscriber on B received bob's change: %+v", got)
		}
	})

	t.Run("sign_out_on_A_closes_B_4401", func(t *testing.T) {
		if r := nodeA.do(t, apiCall{method: "POST", path: "/api/auth/logout/", body: map[string]any{"refresh": aliceRefresh}}); r.status != 200 {
			t.Fatalf("logout: %d %s", r.status, r.raw)
		}
		if code, reason := onB.WaitClose(5 * time.Second); code != 4401 {
			t.Fatalf("B's socket after sign-out on A: %d %q, want 4401", code, reason)
		}
	})
}

// TestSubscriptionsEndAtShutdown: serve closes its websockets with 1001
// when it begins to shut down (http.Server.Shutdown does not wait for
// hijacked connections).
func TestSubscriptionsEndAtShutdown(t *testing.T) {
	cfg, err := loadConfig(envMap(map[string]string{"SQLITE_PATH": t.TempDir() + "/hc.db",
		"SECRET_KEY": strings.Repeat("n", 40), "FIELD_ENCRYPTION_KEY": testFieldKey}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, quietLog(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	addr, stop := serveApp(t, a)
	base := "http://" + addr
	res, err := a.auth.Register(context.Background(), models.RegisterInput{Name: "Alice", Email: "alice@example.com",
		Password: findingsPassword, PasswordConfirm: findingsPassword})
	if err != nil {
		t.Fatal(err)
	}
	token := res.Access
	c, _, err := wstest.Dial(t, base+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(token).Subscribe("1", subMappings, nil)
	served := make(chan error, 1)
	go func() { served <- stop() }()
	if code, _ := c.WaitClose(5 * time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("at shutdown: closed %d, want 1001", code)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
}

// mustWS opens a signed-in websocket to n's /graphql.
func mustWS(t *testing.T, n *node, token string) *wstest.Client {
	t.Helper()
	c, _, err := wstest.Dial(t, n.srv.URL+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Connect(token)
}
