package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"healthcare/database/dbtest"
	"healthcare/graph"
	"healthcare/models"
	"healthcare/web"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		c, err := loadConfig(envMap(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Port != 8080 || c.DatabaseURL != "" || c.SQLitePath != "healthcare.db" || c.AccessTTL != time.Hour || c.RefreshTTL != 7*24*time.Hour || c.Debug || c.Introspection != graph.IntrospectionAuthenticated {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("django_db_variables", func(t *testing.T) {
		c, err := loadConfig(envMap(map[string]string{"DB_NAME": "healthcare_db", "DB_USER": "hc", "DB_PASSWORD": "p@ss/word", "DB_HOST": "db", "DB_PORT": "6543"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.DatabaseURL != "postgres://hc:p%40ss%2Fword@db:6543/healthcare_db?sslmode=prefer" {
			t.Fatal(c.DatabaseURL)
		}
	})
	t.Run("database_url_wins", func(t *testing.T) {
		c, _ := loadConfig(envMap(map[string]string{"DB_NAME": "x", "DATABASE_URL": "postgres://a@b/c"}))
		if c.DatabaseURL != "postgres://a@b/c" {
			t.Fatal(c.DatabaseURL)
		}
	})
	t.Run("introspection_policy", func(t *testing.T) {
		for env, want := range map[string]graph.Introspection{
			"":                             graph.IntrospectionAuthenticated,
			"DEBUG=True":                   graph.IntrospectionPublic,
			"GRAPHQL_INTROSPECTION=off":    graph.IntrospectionOff,
			"GRAPHQL_INTROSPECTION=public": graph.IntrospectionPublic,
			"GRAPHQL_INTROSPECTION=false":  graph.IntrospectionOff,
		} {
			vars := map[string]string{}
			if k, v, ok := strings.Cut(env, "="); ok {
				vars[k] = v
			}
			if c, err := loadConfig(envMap(vars)); err != nil || c.Introspection != want {
				t.Fatalf("%s: %v %v, want %s", env, c, err, want)
			}
		}
		c, _ := loadConfig(envMap(map[string]string{"DEBUG": "true", "GRAPHQL_INTROSPECTION": "authenticated"}))
		if c.Introspection != graph.IntrospectionAuthenticated {
			t.Fatal("setting ignored in debug")
		}
		if _, err := loadConfig(envMap(map[string]string{"GRAPHQL_INTROSPECTION": "sometimes"})); err == nil || !strings.Contains(err.Error(), "GRAPHQL_INTROSPECTION") {
			t.Fatalf("bad policy accepted: %v", err)
		}
	})
	t.Run("bad_values_name_the_variable", func(t *testing.T) {
		_, err := loadConfig(envMap(map[string]string{
			"PORT": "eighty", "DEBUG": "maybe", "ACCESS_TOKEN_LIFETIME": "forever", "CORS_ALLOWED_ORIGINS": "*",
			"SECRET_KEY": "short", "DATABASE_URL": "mysql://x", "LOG_FORMAT": "xml",
		}))
		if err == nil {
			t.Fatal("accepted")
		}
		for _, k := range []string{"PORT", "DEBUG", "ACCESS_TOKEN_LIFETIME", "CORS_ALLOWED_ORIGINS", "SECRET_KEY", "DATABASE_URL", "LOG_FORMAT"} {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("error does not name %s: %v", k, err)
			}
		}
	})
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestEnsureSecret(t *testing.T) {
	t.Run("embedded_generates_and_keeps", func(t *testing.T) {
		c := &config{SQLitePath: filepath.Join(t.TempDir(), "x.db")}
		if err := c.ensureSecret(quietLog()); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(c.SQLitePath + ".secret")
		if err != nil || st.Mode().Perm() != 0o600 || len(c.SecretKey) < 32 {
			t.Fatalf("%v %v %d", err, st.Mode(), len(c.SecretKey))
		}
		again := &config{SQLitePath: c.SQLitePath}
		if err := again.ensureSecret(quietLog()); err != nil || again.SecretKey != c.SecretKey {
			t.Fatalf("key not kept: %v", err)
		}
	})
	t.Run("postgres_requires_key", func(t *testing.T) {
		c := &config{DatabaseURL: "postgres://x@y/z"}
		if err := c.ensureSecret(quietLog()); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
			t.Fatalf("got %v", err)
		}
	})
}

// testApp opens the whole program on a fresh embedded database.
func testApp(t *testing.T) *app {
	t.Helper()
	cfg, err := loadConfig(envMap(map[string]string{"SQLITE_PATH": filepath.Join(t.TempDir(), "hc.db"), "MAX_BODY_BYTES": "4096"}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, quietLog(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.db.Close() })
	if st, err := os.Stat(cfg.SQLitePath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("embedded database file mode: %v %v", st.Mode(), err)
	}
	return a
}

// serveApp runs a.serve on a free local port; stop (also run when the
// test ends) cancels it and returns what serve returned.
func serveApp(t *testing.T, a *app) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() { cancel(); result = <-served })
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return ln.Addr().String(), stop
}

func TestServe(t *testing.T) {
	a := testApp(t)
	addr, stop := serveApp(t, a)
	base := "http://" + addr

	get := func(path string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/readyz"); resp.StatusCode != 200 || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("readyz %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/graphql/schema.graphql"); resp.StatusCode != 200 || !strings.Contains(body, "type Patient") {
		t.Fatalf("schema %d", resp.StatusCode)
	}
	if resp, _ := get("/healthz"); resp.Header.Get("X-Request-Id") == "" && resp.Header.Get("X-Request-ID") == "" {
		// chi's RequestID does not echo the id; the access log carries it.
		t.Log("no request id header (logged only)")
	}
	t.Run("body_over_limit_413", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), 5000)
		resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("graphql_over_the_full_router", func(t *testing.T) {
		q := `{"query":"mutation { register(input: {name: \"Ann\", email: \"ann@example.com\", password: \"Correct-Horse-42\", passwordConfirm: \"Correct-Horse-42\"}) { user { email } } }"}`
		resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(q))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "ann@example.com") {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no graceful shutdown")
	}
}

func TestCreateSuperuser(t *testing.T) {
	ctx := context.Background()
	t.Run("noinput_from_environment", func(t *testing.T) {
		a := testApp(t)
		t.Setenv("DJANGO_SUPERUSER_EMAIL", "Admin@Example.com")
		t.Setenv("DJANGO_SUPERUSER_PASSWORD", "Stethoscope-Blue-91")
		t.Setenv("DJANGO_SUPERUSER_NAME", "Clinic Admin")
		var out bytes.Buffer
		if err := createSuperuser(ctx, a.auth, []string{"--noinput"}, nil, &out); err != nil {
			t.Fatal(err)
		}
		u, err := a.store.Users.ByEmail(ctx, "admin@example.com")
		if err != nil || !u.IsSuperuser || u.Name != "Clinic Admin" {
			t.Fatalf("%v %+v", err, u)
		}
		if _, err := a.auth.Login(ctx, models.LoginInput{Email: "admin@example.com", Password: "Stethoscope-Blue-91"}); err != nil {
			t.Fatalf("cannot log in: %v", err)
		}
		if err := createSuperuser(ctx, a.auth, []string{"--noinput"}, nil, &out); err == nil || !strings.Contains(err.Error(), "email") {
			t.Fatalf("duplicate accepted: %v", err)
		}
	})
	t.Run("interactive", func(t *testing.T) {
		a := testApp(t)
		in := strings.NewReader("root@example.com\nRoot User\nStethoscope-Blue-91\nStethoscope-Blue-91\n")
		var out bytes.Buffer
		if err := createSuperuser(ctx, a.auth, nil, in, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "Password") || !strings.Contains(out.String(), "Superuser created") {
			t.Fatalf("output %q", out.String())
		}
	})
	t.Run("weak_password_refused", func(t *testing.T) {
		a := testApp(t)
		in := strings.NewReader("weak@example.com\nWeak\n12345678\n12345678\n")
		err := createSuperuser(ctx, a.auth, nil, in, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "entirely numeric") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestPostgresConfigured runs the program's open path against PostgreSQL.
func TestOpenPostgres(t *testing.T) {
	kinds := dbtest.Kinds(t)
	if len(kinds) < 2 {
		t.Skip("TEST_DATABASE_URL not set")
	}
	url := dbtest.URL(t)
	cfg, err := loadConfig(envMap(map[string]string{"DATABASE_URL": url, "SECRET_KEY": strings.Repeat("s", 40), "FIELD_ENCRYPTION_KEY": testFieldKey}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, quietLog(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	if err := a.store.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := testApp(t)
	srv := httptest.NewServer(a.routes())
	defer srv.Close()
	for path, csp := range map[string]string{"/healthz": web.APIPolicy, "/graphql/schema.graphql": web.APIPolicy} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("Content-Security-Policy") != csp || h.Get("Cache-Control") != "no-store" || h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: %v", path, h)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The playground may tighten the policy further; it must not loosen it.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("playground CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	tls := httptest.NewTLSServer(a.routes())
	defer tls.Close()
	resp, err = tls.Client().Get(tls.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS over TLS: %v", resp.Header)
	}
}
