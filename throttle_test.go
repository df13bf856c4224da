package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"healthcare/auth"
	"healthcare/database/dbtest"
	"healthcare/models"
)

// throttledApp opens the program with login limited to 3 attempts per
// account per minute, on databaseURL (empty: a fresh SQLite file).
func throttledApp(t *testing.T, databaseURL string, extra ...string) *httptest.Server {
	t.Helper()
	env := map[string]string{"THROTTLE_LOGIN_ACCOUNT": "3/1m", "THROTTLE_LOGIN_IP": "100/1m", "THROTTLE_REGISTER_IP": "2/1m", "SECRET_KEY": strings.Repeat("t", 40), "FIELD_ENCRYPTION_KEY": testFieldKey}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	if databaseURL != "" {
		env["DATABASE_URL"] = databaseURL
	} else {
		env["SQLITE_PATH"] = t.TempDir() + "/hc.db"
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
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)
	return srv
}

func postJSON(t *testing.T, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

const gqlLogin = `{"query":"mutation { login(input: {email: \"victim@example.com\", password: \"guess-number-1\"}) { tokens { access } } }"}`
const restLogin = `{"email": "victim@example.com", "password": "guess-number-2"}`

// TestThrottle: sign-in attempts are counted per attempt across both APIs,
// and across two server processes sharing one PostgreSQL.
func TestThrottle(t *testing.T) {
	t.Run("shared_by_graphql_and_rest", func(t *testing.T) {
		srv := throttledApp(t, "")
		for i := range 3 {
			_, out := postJSON(t, srv.URL+"/graphql", gqlLogin)
			if path(out, "errors", 0, "extensions", "code") != "UNAUTHENTICATED" {
				t.Fatalf("attempt %d: %v", i+1, out)
			}
		}
		resp, out := postJSON(t, srv.URL+"/api/auth/login/", restLogin)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || out["success"] != false {
			t.Fatalf("REST after 3 GraphQL attempts: %d %v", resp.StatusCode, out)
		}
		_, out = postJSON(t, srv.URL+"/graphql", gqlLogin)
		if path(out, "errors", 0, "extensions", "code") != "RATE_LIMITED" || path(out, "errors", 0, "extensions", "retryAfter") == nil {
			t.Fatalf("GraphQL after the limit: %v", out)
		}
		// Another account is not affected.
		_, out = postJSON(t, srv.URL+"/graphql", strings.ReplaceAll(gqlLogin, "victim", "someone"))
		if path(out, "errors", 0, "extensions", "code") != "UNAUTHENTICATED" {
			t.Fatalf("other account throttled: %v", out)
		}
	})
	t.Run("aliases_cannot_multiply_attempts", func(t *testing.T) {
		srv := throttledApp(t, "")
		q := `{"query":"mutation { a: login(input: {email: \"victim@example.com\", password: \"x1\"}) { tokens { access } } b: login(input: {email: \"victim@example.com\", password: \"x2\"}) { tokens { access } } }"}`
		_, out := postJSON(t, srv.URL+"/graphql", q)
		if path(out, "errors", 0, "extensions", "code") != "QUERY_TOO_COMPLEX" {
			t.Fatalf("two logins in one operation: %v", out)
		}
	})
	t.Run("registration_by_address", func(t *testing.T) {
		srv := throttledApp(t, "")
		body := func(n string) string {
			return `{"name": "N", "email": "r` + n + `@example.com", "password": "Correct-Horse-42", "password_confirm": "Correct-Horse-42"}`
		}
		for i, want := range []int{201, 201, 429} {
			if resp, out := postJSON(t, srv.URL+"/api/auth/register/", body(string(rune('a'+i)))); resp.StatusCode != want {
				t.Fatalf("registration %d: %d %v", i+1, resp.StatusCode, out)
			}
		}
	})
	t.Run("two_instances_share_postgres", func(t *testing.T) {
		if len(dbtest.Kinds(t)) < 2 {
			t.Skip("needs PostgreSQL: set TEST_DATABASE_URL")
		}
		url := dbtest.URL(t)
		one, two := throttledApp(t, url), throttledApp(t, url)
		postJSON(t, one.URL+"/graphql", gqlLogin)
		postJSON(t, two.URL+"/graphql", gqlLogin)
		postJSON(t, one.URL+"/api/auth/login/", restLogin)
		if resp, out := postJSON(t, two.URL+"/api/auth/login/", restLogin); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("fourth attempt on the second instance: %d %v", resp.StatusCode, out)
		}
	})
}

// TestThrottleRedis: with REDIS_URL, two server processes with databases of
// their own still share one count.
func TestThrottleRedis(t *testing.T) {
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set")
		}
		t.Skip("set TEST_REDIS_URL")
	}
	one, two := throttledApp(t, "", "REDIS_URL", url), throttledApp(t, "", "REDIS_URL", url)
	victim := fmt.Sprintf("redis%d@example.com", time.Now().UnixNano())
	body := `{"email": "` + victim + `", "password": "guess-number-3"}`
	for i, srv := range []*httptest.Server{one, two, one} {
		if resp, out := postJSON(t, srv.URL+"/api/auth/login/", body); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %v", i+1, resp.StatusCode, out)
		}
	}
	if resp, out := postJSON(t, two.URL+"/api/auth/login/", body); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth attempt, other process: %d %v", resp.StatusCode, out)
	}
}

func TestParseRate(t *testing.T) {
	r, err := auth.ParseRate("10/15m")
	if err != nil || r.N != 10 || r.Window != 15*time.Minute {
		t.Fatal(r, err)
	}
	for _, bad := range []string{"", "10", "x/1m", "0/1m", "5/0s", "5/abc"} {
		if _, err := auth.ParseRate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestNoAccountEnumeration: an unknown email costs a password hash like a
// wrong password does, and gets the same answer. (Without the dummy hash an
// unknown email answers about 100 times faster; the bound is loose on
// purpose, it only has to tell the two apart.)
func TestNoAccountEnumeration(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	if _, err := registerUser(ctx, a, models.RegisterInput{Name: "Known User", Email: "known@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"}); err != nil {
		t.Fatal(err)
	}
	// The two are measured in turns, so that load from elsewhere on the
	// machine weighs on both alike.
	var knownDs, unknownDs []time.Duration
	var knownMsg, unknownMsg string
	try := func(email string, ds *[]time.Duration, msg *string) {
		start := time.Now()
		_, err := a.auth.Login(ctx, models.LoginInput{Email: email, Password: "wrong-password-1"})
		*ds = append(*ds, time.Since(start))
		if models.ErrorCode(err) != models.CodeUnauthenticated {
			t.Fatalf("%s: %v", email, err)
		}
		*msg = err.Error()
	}
	for range 9 {
		try("known@example.com", &knownDs, &knownMsg)
		try("nobody@example.com", &unknownDs, &unknownMsg)
	}
	slices.Sort(knownDs)
	slices.Sort(unknownDs)
	known, unknown := knownDs[4], unknownDs[4]
	t.Logf("median wrong password %v, unknown email %v", known, unknown)
	if knownMsg != unknownMsg {
		t.Fatalf("different answers: %q vs %q", knownMsg, unknownMsg)
	}
	if unknown < known/3 {
		t.Fatalf("an unknown email answers in %v, a wrong password in %v: the difference tells accounts apart", unknown, known)
	}
}
