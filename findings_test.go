package main

// Regression tests for the account and session findings of a security
// review, one per finding, on every database (SQLite, and PostgreSQL when
// TEST_DATABASE_URL is set). docs/security.md describes each protection.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"healthcare/auth"
	"healthcare/database/dbtest"
	"healthcare/models"
)

// node is one server process of the program under test.
type node struct {
	*app
	srv *httptest.Server
}

// openNode opens the program over a database (a postgres:// URL, or a
// SQLite path) with env, serves it over httptest and, on PostgreSQL,
// listens for the other nodes' changes as serve does.
func openNode(t *testing.T, where string, env map[string]string) *node {
	t.Helper()
	return openNodeLogged(t, where, env, quietLog())
}

// openNodeLogged is openNode with the program logging to log.
func openNodeLogged(t *testing.T, where string, env map[string]string, log *slog.Logger) *node {
	t.Helper()
	e := map[string]string{"SECRET_KEY": strings.Repeat("n", 40), "FIELD_ENCRYPTION_KEY": testFieldKey}
	for k, v := range env {
		e[k] = v
	}
	if strings.HasPrefix(where, "postgres") {
		e["DATABASE_URL"] = where
	} else {
		e["SQLITE_PATH"] = where
	}
	cfg, err := loadConfig(envMap(e))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, log, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.notifier.Listen(ctx, a.db, a.log); close(done) }()
	srv := httptest.NewServer(a.routes())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		a.close()
	})
	if cfg.DatabaseURL != "" {
		waitFor(t, "change notifications connected", a.notifier.Connected)
	}
	return &node{app: a, srv: srv}
}

// each runs fn once per database kind, with a fresh database.
func each(t *testing.T, fn func(t *testing.T, where string)) {
	for _, k := range dbtest.Kinds(t) {
		t.Run(string(k), func(t *testing.T) {
			if k == dbtest.Postgres {
				fn(t, dbtest.URL(t))
				return
			}
			fn(t, t.TempDir()+"/hc.db")
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// apiCall is one JSON request to a node.
type apiCall struct {
	method, path string
	body         any
	token        string
	header       map[string]string
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (n *node) do(t *testing.T, c apiCall) answer {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		b, _ := json.Marshal(c.body)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(c.method, n.srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// gql runs a GraphQL operation.
func (n *node) gql(t *testing.T, token, query string, vars map[string]any, header map[string]string) answer {
	t.Helper()
	return n.do(t, apiCall{method: "POST", path: "/graphql", token: token, header: header,
		body: map[string]any{"query": query, "variables": vars}})
}

const findingsPassword = "Correct-Horse-42"

// register makes an account through REST and returns its tokens.
func (n *node) register(t *testing.T, email string) (access, refresh string) {
	t.Helper()
	a := n.do(t, apiCall{method: "POST", path: "/api/auth/register/", body: map[string]any{
		"name": "Test User", "email": email, "password": findingsPassword, "password_confirm": findingsPassword}})
	if a.status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", email, a.status, a.raw)
	}
	return path(a.body, "data", "tokens", "access").(string), path(a.body, "data", "tokens", "refresh").(string)
}

func (n *node) login(t *testing.T, email, password string, header map[string]string) answer {
	t.Helper()
	return n.do(t, apiCall{method: "POST", path: "/api/auth/login/", header: header,
		body: map[string]any{"email": email, "password": password}})
}

// superuser makes a superuser account and signs it in.
func (n *node) superuser(t *testing.T, email string) string {
	t.Helper()
	if _, err := n.auth.CreateSuperuser(context.Background(), models.RegisterInput{
		Name: "Root", Email: email, Password: findingsPassword, PasswordConfirm: findingsPassword}); err != nil {
		t.Fatal(err)
	}
	a := n.login(t, email, findingsPassword, nil)
	if a.status != 200 {
		t.Fatalf("superuser login: %d %s", a.status, a.raw)
	}
	return path(a.body, "data", "tokens", "access").(string)
}

// events returns the audit events with the given action about account id.
func (n *node) events(t *testing.T, action models.AuditAction, userID int64) []*models.AuditEvent {
	t.Helper()
	root := models.Viewer{UserID: 1 << 40, Superuser: true}
	page, err := n.audit.List(context.Background(), root, models.AuditFilter{Action: &action, UserID: &userID},
		models.PageRequest{First: ptrTo(100)})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func userIDOf(t *testing.T, n *node, token string) int64 {
	t.Helper()
	a := n.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: token})
	if a.status != 200 {
		t.Fatalf("me: %d %s", a.status, a.raw)
	}
	return int64(path(a.body, "data", "id").(float64))
}

// TestFinding01_PasswordChangeThrottledAndAudited: the current-password
// check of a password change is no oracle: it shares the sign-in budget
// (per account and network), through both APIs, and each failure and each
// change is audited.
func TestFinding01_PasswordChangeThrottledAndAudited(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, map[string]string{"THROTTLE_LOGIN_ACCOUNT": "4/1m", "THROTTLE_LOGIN_IP": "100/1m"})
		tok, _ := n.register(t, "owner@example.com")
		uid := userIDOf(t, n, tok)
		restChange := func(current string) answer {
			return n.do(t, apiCall{method: "POST", path: "/api/auth/password/", token: tok, body: map[string]any{
				"current_password": current, "new_password": "Another-Horse-77", "new_password_confirm": "Another-Horse-77"}})
		}
		gqlChange := func(current string) answer {
			return n.gql(t, tok, `mutation($c: String!) { changePassword(input: {currentPassword: $c, newPassword: "Another-Horse-77", newPasswordConfirm: "Another-Horse-77"}) { tokens { access } } }`,
				map[string]any{"c": current}, nil)
		}
		for i := range 2 {
			if a := restChange(fmt.Sprintf("wrong-guess-%d", i)); a.status != 400 || path(a.body, "errors", "current_password") == nil {
				t.Fatalf("REST guess %d: %d %s", i, a.status, a.raw)
			}
			if a := gqlChange(fmt.Sprintf("wrong-guess-g%d", i)); path(a.body, "errors", 0, "extensions", "code") != "BAD_USER_INPUT" {
				t.Fatalf("GraphQL guess %d: %s", i, a.raw)
			}
		}
		// The budget of 4 is spent, whichever API spent it: even the right
		// password is refused now, and so is a sign-in.
		if a := restChange(findingsPassword); a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
			t.Fatalf("after 4 failures: %d %s", a.status, a.raw)
		}
		if a := gqlChange(findingsPassword); path(a.body, "errors", 0, "extensions", "code") != "RATE_LIMITED" {
			t.Fatalf("GraphQL after 4 failures: %s", a.raw)
		}
		if a := n.login(t, "owner@example.com", findingsPassword, nil); a.status != http.StatusTooManyRequests {
			t.Fatalf("sign-in after 4 password-change failures: %d %s", a.status, a.raw)
		}
		if got := len(n.events(t, models.AuditPasswordChangeFailed, uid)); got != 4 {
			t.Fatalf("%d password_change_failed events, want 4", got)
		}
		if got := len(n.events(t, models.AuditPasswordChanged, uid)); got != 0 {
			t.Fatalf("%d password_changed events before any change", got)
		}
	})
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, nil)
		tok, _ := n.register(t, "owner@example.com")
		uid := userIDOf(t, n, tok)
		a := n.do(t, apiCall{method: "POST", path: "/api/auth/password/", token: tok, body: map[string]any{
			"current_password": findingsPassword, "new_password": "Another-Horse-77", "new_password_confirm": "Another-Horse-77"}})
		if a.status != 200 {
			t.Fatalf("change: %d %s", a.status, a.raw)
		}
		if got := len(n.events(t, models.AuditPasswordChanged, uid)); got != 1 {
			t.Fatalf("%d password_changed events, want 1", got)
		}
	})
}

// rss returns the process's resident memory, from /proc.
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestFinding02_HashingBounded: 200 parallel sign-ins and 200 parallel
// password changes keep memory bounded (at most HASH_WORKERS argon2 runs at
// once) and get answers (401, 400, 429 or 503 with Retry-After), never a
// crash or another 5xx.
func TestFinding02_HashingBounded(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, map[string]string{"HASH_WORKERS": "2", "HASH_QUEUE": "8",
			"THROTTLE_LOGIN_ACCOUNT": "off", "THROTTLE_LOGIN_IP": "off", "THROTTLE_LOGIN_SLOWDOWN": "off", "DB_MAX_CONNS": "20"})
		tok, _ := n.register(t, "owner@example.com")
		base := rss(t)
		var peak int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				if r := rss(t); r > peak {
					peak = r
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 400, MaxIdleConnsPerHost: 400}}
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range 400 {
			wg.Go(func() {
				var req *http.Request
				if i%2 == 0 {
					body := fmt.Sprintf(`{"email": "owner@example.com", "password": "wrong-%d"}`, i)
					req, _ = http.NewRequest("POST", n.srv.URL+"/api/auth/login/", strings.NewReader(body))
				} else {
					body := fmt.Sprintf(`{"current_password": "wrong-%d", "new_password": "Another-Horse-77", "new_password_confirm": "Another-Horse-77"}`, i)
					req, _ = http.NewRequest("POST", n.srv.URL+"/api/auth/password/", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
		close(stop)
		<-sampled
		t.Logf("statuses %v; RSS %d MB before, peak %d MB", statuses, base>>20, peak>>20)
		for s, c := range statuses {
			if s >= 500 && s != http.StatusServiceUnavailable {
				t.Fatalf("%d answers with status %d", c, s)
			}
		}
		if statuses[http.StatusServiceUnavailable] == 0 {
			t.Fatalf("no request was turned away with 503: the pool is not bounded? %v", statuses)
		}
		if peak > 300<<20 {
			t.Fatalf("peak RSS %d MB, want under 300 MB", peak>>20)
		}
	})
}

// TestFinding04_AccessTokenEndsWithSession: signing out, and refresh-token
// reuse, end the session's access tokens at their next use.
func TestFinding04_AccessTokenEndsWithSession(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, nil)
		n.register(t, "owner@example.com")
		signIn := func() (string, string) {
			a := n.login(t, "owner@example.com", findingsPassword, nil)
			return path(a.body, "data", "tokens", "access").(string), path(a.body, "data", "tokens", "refresh").(string)
		}
		me := func(tok string) int { return n.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: tok}).status }

		t.Run("logout_401", func(t *testing.T) {
			access, refresh := signIn()
			if s := me(access); s != 200 {
				t.Fatalf("before logout: %d", s)
			}
			if a := n.do(t, apiCall{method: "POST", path: "/api/auth/logout/", body: map[string]any{"refresh": refresh}}); a.status != 200 {
				t.Fatalf("logout: %d %s", a.status, a.raw)
			}
			if s := me(access); s != http.StatusUnauthorized {
				t.Fatalf("access token after logout: %d, want 401", s)
			}
		})
		t.Run("refresh_reuse_401", func(t *testing.T) {
			access, refresh := signIn()
			first := n.do(t, apiCall{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": refresh}})
			if first.status != 200 {
				t.Fatalf("refresh: %d %s", first.status, first.raw)
			}
			newAccess := path(first.body, "data", "access").(string)
			if s := me(newAccess); s != 200 {
				t.Fatalf("new access token: %d", s)
			}
			if a := n.do(t, apiCall{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": refresh}}); a.status != 401 {
				t.Fatalf("reuse: %d %s", a.status, a.raw)
			}
			for _, tok := range []string{access, newAccess} {
				if s := me(tok); s != http.StatusUnauthorized {
					t.Fatalf("access token of a session ended by reuse: %d, want 401", s)
				}
			}
		})
		t.Run("other_sessions_unaffected", func(t *testing.T) {
			a1, _ := signIn()
			_, r2 := signIn()
			n.do(t, apiCall{method: "POST", path: "/api/auth/logout/", body: map[string]any{"refresh": r2}})
			if s := me(a1); s != 200 {
				t.Fatalf("another session's token after a logout: %d", s)
			}
		})
	})
	// Across nodes: a token checked (and cached) on node B is refused there
	// once node A ends its session.
	if len(dbtest.Kinds(t)) < 2 {
		return
	}
	t.Run("postgres_two_nodes", func(t *testing.T) {
		url := dbtest.URL(t)
		a, b := openNode(t, url, nil), openNode(t, url, nil)
		a.register(t, "owner@example.com")
		lg := a.login(t, "owner@example.com", findingsPassword, nil)
		access, refresh := path(lg.body, "data", "tokens", "access").(string), path(lg.body, "data", "tokens", "refresh").(string)
		if s := b.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: access}).status; s != 200 {
			t.Fatalf("node B before logout: %d", s)
		}
		if r := a.do(t, apiCall{method: "POST", path: "/api/auth/logout/", body: map[string]any{"refresh": refresh}}); r.status != 200 {
			t.Fatal(r.raw)
		}
		waitFor(t, "node B to refuse the token", func() bool {
			return b.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: access}).status == http.StatusUnauthorized
		})
	})
}

// TestFinding05_DoctorDeleteKeepsOtherAccountsAssignments: a doctor other
// accounts' patients are assigned to cannot be deleted by its creator (409,
// naming how many, never whose); a superuser may, and that delete is
// audited per mapping.
func TestFinding05_DoctorDeleteKeepsOtherAccountsAssignments(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, nil)
		aTok, _ := n.register(t, "a@example.com")
		bTok, _ := n.register(t, "b@example.com")
		doc := n.do(t, apiCall{method: "POST", path: "/api/doctors/", token: aTok, body: map[string]any{
			"first_name": "Rajesh", "last_name": "Kumar", "email": "dr@hospital.com", "phone": "+919876543220",
			"specialization": "CARDIOLOGY", "qualification": "MBBS", "license_number": "MH1", "experience_years": 10, "consultation_fee": 500}})
		did := path(doc.body, "data", "id").(float64)
		pat := n.do(t, apiCall{method: "POST", path: "/api/patients/", token: bTok, body: map[string]any{
			"first_name": "Bea", "last_name": "Rao", "phone": "+919876543210", "date_of_birth": "1990-05-15", "gender": "F"}})
		pid := path(pat.body, "data", "id").(float64)
		m := n.do(t, apiCall{method: "POST", path: "/api/mappings/", token: bTok, body: map[string]any{
			"patient": pid, "doctor": did, "reason": "Chest pain", "notes": "B's own notes"}})
		if m.status != 201 {
			t.Fatalf("mapping: %d %s", m.status, m.raw)
		}
		mid := int64(path(m.body, "data", "id").(float64))
		del := n.do(t, apiCall{method: "DELETE", path: fmt.Sprintf("/api/doctors/%d/", int(did)), token: aTok})
		if del.status != http.StatusConflict || !strings.Contains(del.raw, "assigned to 1 patient(s) of other accounts") ||
			strings.Contains(del.raw, "b@example.com") || strings.Contains(del.raw, "Bea") {
			t.Fatalf("creator deletes a doctor others use: %d %s", del.status, del.raw)
		}
		got := n.do(t, apiCall{method: "GET", path: fmt.Sprintf("/api/mappings/detail/%d/", mid), token: bTok})
		if got.status != 200 || path(got.body, "data", "notes") != "B's own notes" {
			t.Fatalf("B's mapping after A's refused delete: %d %s", got.status, got.raw)
		}
		// GraphQL says the same.
		if r := n.gql(t, aTok, `mutation($id: ID!) { deleteDoctor(id: $id) }`, map[string]any{"id": fmt.Sprint(int(did))}, nil); path(r.body, "errors", 0, "extensions", "code") != "CONFLICT" {
			t.Fatalf("GraphQL: %s", r.raw)
		}
		root := n.superuser(t, "root@example.com")
		if r := n.do(t, apiCall{method: "DELETE", path: fmt.Sprintf("/api/doctors/%d/", int(did)), token: root}); r.status != 200 {
			t.Fatalf("superuser delete: %d %s", r.status, r.raw)
		}
		rootID := userIDOf(t, n, root)
		del2 := models.AuditDelete
		page, err := n.audit.List(context.Background(), models.Viewer{UserID: rootID, Superuser: true},
			models.AuditFilter{Action: &del2, UserID: &rootID, RecordType: models.AuditMapping, RecordID: &mid}, models.PageRequest{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("audit of the superuser's delete of mapping %d: %v %v", mid, page, err)
		}
	})
}

// TestFinding06_NoLockoutOfTheOwner: failures from one network lock that
// network out of the account, not the owner signing in from elsewhere;
// successes do not count; past the account-wide budget checks slow down
// rather than lock.
func TestFinding06_NoLockoutOfTheOwner(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, map[string]string{"TRUST_PROXY": "true",
			"THROTTLE_LOGIN_ACCOUNT": "3/1m", "THROTTLE_LOGIN_IP": "50/1m", "THROTTLE_LOGIN_SLOWDOWN": "5/1m"})
		n.register(t, "owner@example.com")
		from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
		// Successes do not count: the owner signs in more often than the budget.
		for i := range 5 {
			if a := n.login(t, "owner@example.com", findingsPassword, from("198.51.100.10")); a.status != 200 {
				t.Fatalf("owner sign-in %d: %d %s", i, a.status, a.raw)
			}
		}
		// An attacker hammers from one network: locked out there after 3.
		for i := range 3 {
			if a := n.login(t, "owner@example.com", "guess-"+strconv.Itoa(i), from("203.0.113.66")); a.status != 401 {
				t.Fatalf("attacker guess %d: %d", i, a.status)
			}
		}
		if a := n.login(t, "owner@example.com", "guess-x", from("203.0.113.66")); a.status != http.StatusTooManyRequests {
			t.Fatalf("attacker after the budget: %d", a.status)
		}
		// ... from a neighbouring address of the same IPv6 /64 too.
		for i := range 3 {
			n.login(t, "owner@example.com", "guess6-"+strconv.Itoa(i), from("2001:db8:1:2::1"))
		}
		if a := n.login(t, "owner@example.com", "guess6-x", from("2001:db8:1:2:ffff::9")); a.status != http.StatusTooManyRequests {
			t.Fatalf("same /64, other address: %d, want 429", a.status)
		}
		// The owner, from home, still gets in: slowed down (the account has
		// had more failures than its budget of 5), not locked.
		start := time.Now()
		if a := n.login(t, "owner@example.com", findingsPassword, from("198.51.100.10")); a.status != 200 {
			t.Fatalf("owner while under attack: %d %s", a.status, a.raw)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("sign-in past the account budget took %v: no slowdown", d)
		}
		// Superusers too.
		n.superuser(t, "root@example.com")
		for i := range 4 {
			n.login(t, "root@example.com", "guess-"+strconv.Itoa(i), from("203.0.113.77"))
		}
		if a := n.login(t, "root@example.com", findingsPassword, from("198.51.100.20")); a.status != 200 {
			t.Fatalf("superuser from another network: %d", a.status)
		}
	})
}

// TestFinding07_RevocationIsExact: a password change ends every session,
// including a token issued in the same second; a token without iat is
// refused.
func TestFinding07_RevocationIsExact(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, nil)
		n.register(t, "owner@example.com")
		lg := n.login(t, "owner@example.com", findingsPassword, nil)
		sameSecond := path(lg.body, "data", "tokens", "access").(string)
		ch := n.do(t, apiCall{method: "POST", path: "/api/auth/password/", token: sameSecond, body: map[string]any{
			"current_password": findingsPassword, "new_password": "Another-Horse-77", "new_password_confirm": "Another-Horse-77"}})
		if ch.status != 200 {
			t.Fatalf("change: %d %s", ch.status, ch.raw)
		}
		if s := n.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: sameSecond}).status; s != 401 {
			t.Fatalf("token of before the change: %d, want 401", s)
		}
		fresh := path(ch.body, "data", "tokens", "access").(string)
		if s := n.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: fresh}).status; s != 200 {
			t.Fatalf("token of the change's new session: %d", s)
		}
		// A token signed with the right key but no iat.
		var c auth.Claims
		parser := jwt.NewParser()
		if _, _, err := parser.ParseUnverified(fresh, &c); err != nil {
			t.Fatal(err)
		}
		c.IssuedAt = nil
		noIat, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString([]byte(n.cfg.SecretKey))
		if err != nil {
			t.Fatal(err)
		}
		if s := n.do(t, apiCall{method: "GET", path: "/api/auth/me/", token: noIat}).status; s != 401 {
			t.Fatalf("token without iat: %d, want 401", s)
		}
	})
}

// TestFinding08_CORSOriginsExact: an origin pattern is refused at start;
// exact origins are reflected, nothing else.
func TestFinding08_CORSOriginsExact(t *testing.T) {
	for _, bad := range []string{"https://*", "*", "https://*.example.com", "https://app.example.com/path", "app.example.com", "https://app.example.com?x=1"} {
		if _, err := loadConfig(envMap(map[string]string{"CORS_ALLOWED_ORIGINS": bad})); err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") {
			t.Errorf("CORS_ALLOWED_ORIGINS=%q: %v, want refused", bad, err)
		}
	}
	n := openNode(t, t.TempDir()+"/hc.db", map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"})
	for origin, want := range map[string]string{"https://app.example.com": "https://app.example.com", "https://evil.example": "", "https://app.example.com.evil.example": ""} {
		a := n.do(t, apiCall{method: "GET", path: "/healthz", header: map[string]string{"Origin": origin}})
		if got := a.header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("Origin %s: allowed %q, want %q", origin, got, want)
		}
	}
}

// TestFinding09_RegistrationNoFreeOracle: registration is throttled like
// sign-in (a taken email counts as a failure of the network), per IPv6 /64,
// and emails are normalized so that spelling variants of one address
// cannot make two accounts.
func TestFinding09_RegistrationNoFreeOracle(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, map[string]string{"TRUST_PROXY": "true", "THROTTLE_LOGIN_IP": "3/1m", "THROTTLE_REGISTER_IP": "100/1m"})
		n.register(t, "alice@example.com")
		reg := func(email, ip string) answer {
			return n.do(t, apiCall{method: "POST", path: "/api/auth/register/", header: map[string]string{"X-Forwarded-For": ip},
				body: map[string]any{"name": "Probe", "email": email, "password": findingsPassword, "password_confirm": findingsPassword}})
		}
		// Variants of one address are one address.
		for _, v := range []string{"ALICE@example.com", "al\u0130ce@example.com", "\uff41lice@example.com"} {
			a := reg(v, "2001:db8:7:7::1")
			if a.status != 400 || path(a.body, "errors", "email") == nil {
				t.Fatalf("variant %q of a taken email: %d %s", v, a.status, a.raw)
			}
		}
		// Three taken-email answers spent this /64's budget: another
		// address of it is refused, even for a new email.
		if a := reg("new@example.com", "2001:db8:7:7::2"); a.status != http.StatusTooManyRequests {
			t.Fatalf("after probing: %d %s", a.status, a.raw)
		}
		if a := reg("new@example.com", "2001:db8:7:8::2"); a.status != 201 {
			t.Fatalf("another /64: %d %s", a.status, a.raw)
		}
	})
}

// TestFinding10_SlowBodyGets408: a request body that does not arrive in
// time gets 408, logged as a warning, never a 500.
func TestFinding10_SlowBodyGets408(t *testing.T) {
	cfg, err := loadConfig(envMap(map[string]string{"SQLITE_PATH": t.TempDir() + "/hc.db", "SECRET_KEY": strings.Repeat("n", 40), "READ_TIMEOUT": "1s"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := newTestLogger(&logs)
	a, err := open(context.Background(), cfg, log, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	addr, stop := serveApp(t, a)
	defer stop()
	for _, target := range []string{"/api/auth/login/", "/graphql"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em", target)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s: %d, want 408", target, resp.StatusCode)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a slow client was logged as an error:\n%s", logs.String())
	}
}

// TestFinding11_SchemeAndHostFromTrustedSources: X-Forwarded-Proto makes
// links https only behind a trusted proxy; PUBLIC_URL pins links whatever
// the request says.
func TestFinding11_SchemeAndHostFromTrustedSources(t *testing.T) {
	list := func(n *node, tok string, hdr map[string]string) string {
		a := n.do(t, apiCall{method: "GET", path: "/api/patients/?page_size=1", token: tok, header: hdr})
		next, _ := path(a.body, "data", "next").(string)
		return next
	}
	mk := func(n *node, tok string) {
		for i := range 2 {
			n.do(t, apiCall{method: "POST", path: "/api/patients/", token: tok, body: map[string]any{
				"first_name": fmt.Sprint("P", i), "last_name": "X", "phone": "+919876543210", "date_of_birth": "1990-05-15", "gender": "F"}})
		}
	}
	proto := map[string]string{"X-Forwarded-Proto": "https"}
	untrusted := openNode(t, t.TempDir()+"/hc.db", nil)
	tok, _ := untrusted.register(t, "a@example.com")
	mk(untrusted, tok)
	if next := list(untrusted, tok, proto); !strings.HasPrefix(next, "http://") {
		t.Errorf("X-Forwarded-Proto without TRUST_PROXY made %q", next)
	}
	if a := untrusted.do(t, apiCall{method: "GET", path: "/healthz", header: proto}); a.header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS from an untrusted X-Forwarded-Proto")
	}
	trusted := openNode(t, t.TempDir()+"/hc.db", map[string]string{"TRUST_PROXY": "true"})
	tok, _ = trusted.register(t, "a@example.com")
	mk(trusted, tok)
	if next := list(trusted, tok, proto); !strings.HasPrefix(next, "https://") {
		t.Errorf("X-Forwarded-Proto with TRUST_PROXY made %q", next)
	}
	pinned := openNode(t, t.TempDir()+"/hc.db", map[string]string{"PUBLIC_URL": "https://api.clinic.example"})
	tok, _ = pinned.register(t, "a@example.com")
	mk(pinned, tok)
	if next := list(pinned, tok, map[string]string{"Host": "evil.example"}); !strings.HasPrefix(next, "https://api.clinic.example/api/patients/") {
		t.Errorf("PUBLIC_URL ignored: %q", next)
	}
}

// TestFinding12_InputHandling: the small input-handling leaks.
func TestFinding12_InputHandling(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		n := openNode(t, where, nil)
		tok, _ := n.register(t, "a@example.com")
		patient := func(over map[string]any) answer {
			body := map[string]any{"first_name": "Ann", "last_name": "Lee", "phone": "+919876543210", "date_of_birth": "1990-05-15", "gender": "F"}
			for k, v := range over {
				body[k] = v
			}
			return n.do(t, apiCall{method: "POST", path: "/api/patients/", token: tok, body: body})
		}
		t.Run("year_one_birth_date_is_a_date_error", func(t *testing.T) {
			a := patient(map[string]any{"date_of_birth": "0001-01-01"})
			msgs, _ := path(a.body, "errors", "date_of_birth").([]any)
			if a.status != 400 || len(msgs) == 0 || msgs[0] == models.MsgRequired {
				t.Fatalf("%d %s", a.status, a.raw)
			}
		})
		t.Run("control_characters_refused", func(t *testing.T) {
			for _, bad := range []string{"An\u202Ee", "A\x1bnn", "A\nnn", "A\tnn"} {
				if a := patient(map[string]any{"first_name": bad}); a.status != 400 || path(a.body, "errors", "first_name") == nil {
					t.Fatalf("first_name %q: %d %s", bad, a.status, a.raw)
				}
			}
			// Free text keeps its line breaks.
			if a := patient(map[string]any{"medical_history": "line one\nline two\twith a tab"}); a.status != 201 {
				t.Fatalf("multiline free text: %d %s", a.status, a.raw)
			}
		})
		t.Run("whitespace_password_refused", func(t *testing.T) {
			a := n.do(t, apiCall{method: "POST", path: "/api/auth/register/", body: map[string]any{
				"name": "Spaces", "email": "spaces@example.com", "password": "        ", "password_confirm": "        "}})
			if a.status != 400 || path(a.body, "errors", "password") == nil {
				t.Fatalf("%d %s", a.status, a.raw)
			}
		})
		t.Run("charset_utf16_refused", func(t *testing.T) {
			a := n.do(t, apiCall{method: "POST", path: "/api/patients/", token: tok, body: map[string]any{"first_name": "x"},
				header: map[string]string{"Content-Type": "application/json; charset=utf-16"}})
			if a.status != http.StatusUnsupportedMediaType {
				t.Fatalf("%d %s", a.status, a.raw)
			}
		})
	})
	t.Run("net_http_answers_carry_security_headers", func(t *testing.T) {
		cfg, err := loadConfig(envMap(map[string]string{"SQLITE_PATH": t.TempDir() + "/hc.db", "SECRET_KEY": strings.Repeat("n", 40)}))
		if err != nil {
			t.Fatal(err)
		}
		a, err := open(context.Background(), cfg, quietLog(), true)
		if err != nil {
			t.Fatal(err)
		}
		defer a.db.Close()
		addr, stop := serveApp(t, a)
		defer stop()
		for name, raw := range map[string]string{
			"bad_request_400": "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
			"huge_header_431": "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n",
		} {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, raw)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			conn.Close()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if resp.StatusCode < 400 || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s: %d %v", name, resp.StatusCode, resp.Header)
			}
		}
	})
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// registerUser makes an ordinary account through the auth service.
func registerUser(ctx context.Context, a *app, in models.RegisterInput) (*models.User, error) {
	res, err := a.auth.Register(ctx, in)
	if err != nil {
		return nil, err
	}
	return res.User, nil
}
