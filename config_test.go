package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthcare/auth"
	"healthcare/graph"
)

// settingCases has, for every row of settings, a valid value other than
// the default with what it must do to the config, and an invalid value
// (empty when the row takes any text). A row without a case fails
// TestEverySettingIsRead, so a new row comes with its test.
var settingCases = map[string]struct {
	good  string
	check func(c *config) bool
	bad   string
}{
	"DEBUG":                     {"true", func(c *config) bool { return c.Debug }, "maybe"},
	"DATABASE_URL":              {"postgres://u@db:5432/x?sslmode=require", func(c *config) bool { return c.DatabaseURL == "postgres://u@db:5432/x?sslmode=require" }, "mysql://u@db/x"},
	"SQLITE_PATH":               {"/var/lib/hc/x.db", func(c *config) bool { return c.SQLitePath == "/var/lib/hc/x.db" }, ""},
	"DB_MAX_CONNS":              {"20", func(c *config) bool { return c.DBMaxConns == 20 }, "0"},
	"DB_NAME":                   {"clinic", func(c *config) bool { return strings.Contains(c.DatabaseURL, "/clinic?") }, ""},
	"DB_USER":                   {"hc", func(c *config) bool { return c.db.User == "hc" }, ""},
	"DB_PASSWORD":               {"pw", func(c *config) bool { return c.db.Password == "pw" }, ""},
	"DB_HOST":                   {"db.internal", func(c *config) bool { return c.db.Host == "db.internal" }, ""},
	"DB_PORT":                   {"6543", func(c *config) bool { return c.db.Port == "6543" }, "0"},
	"DB_SSLMODE":                {"verify-full", func(c *config) bool { return c.db.SSLMode == "verify-full" }, "on"},
	"SECRET_KEY":                {strings.Repeat("k", 40), func(c *config) bool { return c.SecretKey == strings.Repeat("k", 40) }, "short"},
	"FIELD_ENCRYPTION_KEY":      {testFieldKey, func(c *config) bool { return c.FieldKey == testFieldKey }, "not-a-key"},
	"FIELD_ENCRYPTION_OLD_KEYS": {testFieldKey + ", " + otherFieldKey, func(c *config) bool { return slices.Equal(c.FieldOldKeys, []string{testFieldKey, otherFieldKey}) }, testFieldKey + ",nope"},
	"HOST":                      {"::1", func(c *config) bool { return c.Host == "::1" }, "example.com"},
	"PORT":                      {"9000", func(c *config) bool { return c.Port == 9000 }, "65536"},
	"TRUST_PROXY":               {"true", func(c *config) bool { return c.TrustProxy }, "yes please"},
	"CORS_ALLOWED_ORIGINS":      {"https://a.example, https://b.example", func(c *config) bool { return len(c.CORSOrigins) == 2 }, "https://*"},
	"MAX_BODY_BYTES":            {"4096", func(c *config) bool { return c.MaxBodyBytes == 4096 }, "-1"},
	"REQUEST_TIMEOUT":           {"10s", func(c *config) bool { return c.RequestTimeout == 10*time.Second }, "10"},
	"ACCESS_TOKEN_LIFETIME":     {"5m", func(c *config) bool { return c.AccessTTL == 5*time.Minute }, "forever"},
	"REFRESH_TOKEN_LIFETIME":    {"24h", func(c *config) bool { return c.RefreshTTL == 24*time.Hour }, "-1h"},
	"THROTTLE_LOGIN_ACCOUNT":    {"5/1m", func(c *config) bool { return c.Throttle.Pair == auth.Rate{N: 5, Window: time.Minute} }, "5"},
	"THROTTLE_LOGIN_IP":         {"7/1m", func(c *config) bool { return c.Throttle.Network == auth.Rate{N: 7, Window: time.Minute} }, "x/1m"},
	"THROTTLE_LOGIN_SLOWDOWN":   {"off", func(c *config) bool { return c.Throttle.Account == auth.Rate{} }, "0/1m"},
	"PUBLIC_URL":                {"https://api.clinic.example", func(c *config) bool { return c.PublicURL != nil && c.PublicURL.Host == "api.clinic.example" }, "https://api.clinic.example/v1"},
	"READ_TIMEOUT":              {"5s", func(c *config) bool { return c.ReadTimeout == 5*time.Second }, "0"},
	"HASH_WORKERS":              {"3", func(c *config) bool { return c.HashWorkers == 3 }, "0"},
	"HASH_QUEUE":                {"40", func(c *config) bool { return c.HashQueue == 40 }, "-1"},
	"SESSION_CACHE":             {"off", func(c *config) bool { return c.SessionCache < 0 }, "soon"},
	"THROTTLE_REGISTER_IP":      {"3/1m", func(c *config) bool { return c.Throttle.Register == auth.Rate{N: 3, Window: time.Minute} }, "3/ever"},
	"REDIS_URL":                 {"redis://127.0.0.1:6379/2", func(c *config) bool { return c.RedisURL == "redis://127.0.0.1:6379/2" }, "http://cache"},
	"GRAPHQL_INTROSPECTION":     {"public", func(c *config) bool { return c.Introspection == graph.IntrospectionPublic }, "sometimes"},
	"GRAPHQL_MAX_DEPTH":         {"20", func(c *config) bool { return c.GraphQLLimits.MaxDepth == 20 }, "deep"},
	"GRAPHQL_MAX_COMPLEXITY":    {"500", func(c *config) bool { return c.GraphQLLimits.MaxComplexity == 500 }, "1e9"},
	"GRAPHQL_MAX_ALIASES":       {"3", func(c *config) bool { return c.GraphQLLimits.MaxAliases == 3 }, "-3"},
	"GRAPHQL_MAX_ROOT_FIELDS":   {"4", func(c *config) bool { return c.GraphQLLimits.MaxRootFields == 4 }, "4.5"},
	"GRAPHQL_WS_CONNECTIONS":    {"3", func(c *config) bool { return c.Subscriptions.MaxConnections == 3 }, "0"},
	"GRAPHQL_WS_SUBSCRIPTIONS":  {"7", func(c *config) bool { return c.Subscriptions.MaxSubscriptions == 7 }, "many"},
	"GRAPHQL_WS_IDLE_TIMEOUT":   {"90s", func(c *config) bool { return c.Subscriptions.IdleTimeout == 90*time.Second }, "-1m"},
	"LOG_FORMAT":                {"json", func(c *config) bool { return c.LogFormat == "json" }, "xml"},
	"LOG_LEVEL":                 {"debug", func(c *config) bool { return c.LogLevel == slog.LevelDebug }, "loud"},

	// Metrics, tracing and the read replica.
	"DATABASE_REPLICA_URL":        {"postgres://u@standby:5432/x", func(c *config) bool { return c.ReplicaURL == "postgres://u@standby:5432/x" }, "standby:5432"},
	"METRICS_ADDR":                {"127.0.0.1:9090", func(c *config) bool { return c.MetricsAddr == "127.0.0.1:9090" }, "9090"},
	"PPROF":                       {"true", func(c *config) bool { return c.Pprof }, "sometimes"},
	"OTEL_EXPORTER_OTLP_ENDPOINT": {"http://127.0.0.1:4318", func(c *config) bool { return c.OTLPEndpoint == "http://127.0.0.1:4318" }, "collector:4317"},
	"OTEL_SERVICE_NAME":           {"clinic-api", func(c *config) bool { return c.ServiceName == "clinic-api" }, ""},
}

func TestEverySettingIsRead(t *testing.T) {
	names := map[string]bool{}
	for _, s := range append(slices.Clone(settings), commandVariables...) {
		if names[s.Name] {
			t.Errorf("%s is in the table twice", s.Name)
		}
		names[s.Name] = true
		if !slices.Contains(groupOrder, s.Group) || s.Help == "" || strings.Contains(s.Help, "\n") {
			t.Errorf("%s: group %q and one line of help needed", s.Name, s.Group)
		}
	}
	for _, s := range settings {
		t.Run(s.Name, func(t *testing.T) {
			tc, ok := settingCases[s.Name]
			if !ok {
				t.Fatalf("no case for %s in settingCases", s.Name)
			}
			c, err := loadConfig(envMap(map[string]string{s.Name: " " + tc.good + " "}))
			if err != nil {
				t.Fatalf("valid value refused: %v", err)
			}
			if !tc.check(c) {
				t.Fatalf("%s=%s did not reach the config: %+v", s.Name, tc.good, c)
			}
			if tc.bad == "" {
				return
			}
			_, err = loadConfig(envMap(map[string]string{s.Name: tc.bad}))
			var ce configErrors
			if !errors.As(err, &ce) || len(ce) != 1 || !strings.HasPrefix(ce[0].Error(), s.Name+": ") {
				t.Fatalf("%s=%s: want one error naming it, got %v", s.Name, tc.bad, err)
			}
		})
	}
}

// TestDefaultsAreWhatTheCodeUses keeps the table's defaults, which help
// prints, equal to the ones the packages define.
func TestDefaultsAreWhatTheCodeUses(t *testing.T) {
	c, err := loadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := auth.DefaultThrottle(nil)
	if c.Throttle.Pair != want.Pair || c.Throttle.Network != want.Network || c.Throttle.Account != want.Account || c.Throttle.Register != want.Register {
		t.Errorf("throttle defaults %+v, auth says %+v", c.Throttle, want)
	}
	if c.AccessTTL != auth.DefaultAccessTTL || c.RefreshTTL != auth.DefaultRefreshTTL {
		t.Errorf("lifetimes %v %v", c.AccessTTL, c.RefreshTTL)
	}
	if c.GraphQLLimits != graph.DefaultLimits {
		t.Errorf("GraphQL limits %+v, graph says %+v", c.GraphQLLimits, graph.DefaultLimits)
	}
	if d := graph.DefaultSubscriptions; c.Subscriptions.MaxConnections != d.MaxConnections ||
		c.Subscriptions.MaxSubscriptions != d.MaxSubscriptions || c.Subscriptions.IdleTimeout != d.IdleTimeout {
		t.Errorf("subscription limits %+v, graph says %+v", c.Subscriptions, d)
	}
	if c.Port != 8080 || c.MaxBodyBytes != 1<<20 || c.RequestTimeout != 30*time.Second || c.DBMaxConns != 0 ||
		c.LogLevel != slog.LevelInfo || c.LogFormat != "text" || c.Host != "" || c.SQLitePath != "healthcare.db" {
		t.Errorf("defaults %+v", c)
	}
}

// TestZeroLimits: no limit takes 0 to mean "off"; each refuses it, naming
// itself, as its help line says. DB_MAX_CONNS unset means the pool's
// default, which the database package picks.
func TestZeroLimits(t *testing.T) {
	for _, k := range []string{"PORT", "DB_PORT", "DB_MAX_CONNS", "MAX_BODY_BYTES", "REQUEST_TIMEOUT", "ACCESS_TOKEN_LIFETIME",
		"REFRESH_TOKEN_LIFETIME", "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_COMPLEXITY", "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_ROOT_FIELDS",
		"READ_TIMEOUT", "HASH_WORKERS", "HASH_QUEUE", "GRAPHQL_WS_CONNECTIONS", "GRAPHQL_WS_SUBSCRIPTIONS", "GRAPHQL_WS_IDLE_TIMEOUT"} {
		t.Run(k+"_refused", func(t *testing.T) {
			_, err := loadConfig(envMap(map[string]string{k: "0"}))
			if err == nil || !strings.Contains(err.Error(), k+": ") {
				t.Fatalf("0 accepted: %v", err)
			}
			if !strings.Contains(helpLine(t, k), "0 is refused") {
				t.Errorf("help does not say 0 is refused: %q", helpLine(t, k))
			}
		})
	}
	for _, k := range []string{"THROTTLE_LOGIN_ACCOUNT", "THROTTLE_LOGIN_IP", "THROTTLE_LOGIN_SLOWDOWN", "THROTTLE_REGISTER_IP"} {
		if _, err := loadConfig(envMap(map[string]string{k: "0/15m"})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=0/15m accepted: %v", k, err)
		}
	}
}

// helpLine is the line of `healthcare help` that lists variable k.
func helpLine(t *testing.T, k string) string {
	t.Helper()
	var out bytes.Buffer
	writeHelp(&out)
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == k {
			return l
		}
	}
	t.Fatalf("help does not list %s", k)
	return ""
}

func TestConfigErrorsAllAtOnce(t *testing.T) {
	t.Run("postgres_missing_both_keys_one_message", func(t *testing.T) {
		env := envMap(map[string]string{"DATABASE_URL": "postgres://hc@127.0.0.1:1/hc", "PORT": "http", "HOST": "db.example.com", "DB_SSLMODE": "yes"})
		err := runWith(context.Background(), nil, env, &bytes.Buffer{})
		if err == nil {
			t.Fatal("started")
		}
		for _, k := range []string{"SECRET_KEY: not set", "FIELD_ENCRYPTION_KEY: not set", "PORT: ", "HOST: ", "DB_SSLMODE: "} {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("message does not name %q:\n%v", k, err)
			}
		}
	})
	t.Run("migrate_needs_no_secret_key", func(t *testing.T) {
		err := runWith(context.Background(), []string{"migrate"}, envMap(map[string]string{"DATABASE_URL": "postgres://hc@127.0.0.1:1/hc"}), &bytes.Buffer{})
		if err == nil || strings.Contains(err.Error(), "SECRET_KEY") || !strings.Contains(err.Error(), "FIELD_ENCRYPTION_KEY: not set") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("django_variables_need_the_keys_too", func(t *testing.T) {
		err := runWith(context.Background(), nil, envMap(map[string]string{"DB_NAME": "hc", "DB_PORT": "1"}), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "SECRET_KEY: not set") || !strings.Contains(err.Error(), "FIELD_ENCRYPTION_KEY: not set") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("debug_postgres_without_field_key_allowed", func(t *testing.T) {
		c, _ := loadConfig(envMap(map[string]string{"DATABASE_URL": "postgres://hc@h/hc", "DEBUG": "true", "SECRET_KEY": strings.Repeat("s", 40)}))
		if err := c.missingKeys(true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sqlite_generates_keys", func(t *testing.T) {
		c, _ := loadConfig(envMap(nil))
		if err := c.missingKeys(true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("secrets_not_echoed", func(t *testing.T) {
		_, err := loadConfig(envMap(map[string]string{
			"DATABASE_URL": "mysql://u:hunter2-db@h/x", "SECRET_KEY": "hunter2-sk", "REDIS_URL": "http://:hunter2-redis@h",
			"FIELD_ENCRYPTION_KEY": "hunter2-fk", "FIELD_ENCRYPTION_OLD_KEYS": "hunter2-old",
		}))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("got %v", err)
		}
		for _, k := range []string{"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "FIELD_ENCRYPTION_KEY", "FIELD_ENCRYPTION_OLD_KEYS"} {
			if !strings.Contains(err.Error(), k+": ") {
				t.Errorf("%s not named: %v", k, err)
			}
		}
	})
	t.Run("each_bad_item_of_a_list_on_its_own_line", func(t *testing.T) {
		_, err := loadConfig(envMap(map[string]string{"CORS_ALLOWED_ORIGINS": "*, https://ok.example, nohost"}))
		var ce configErrors
		if !errors.As(err, &ce) || len(ce) != 2 || !strings.HasPrefix(ce[0].Error(), "CORS_ALLOWED_ORIGINS: ") || !strings.HasPrefix(ce[1].Error(), "CORS_ALLOWED_ORIGINS: ") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("sslmode_in_database_url", func(t *testing.T) {
		if _, err := loadConfig(envMap(map[string]string{"DATABASE_URL": "postgres://u@h/x?sslmode=maybe"})); err == nil || !strings.Contains(err.Error(), "DATABASE_URL: sslmode") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("host_forms", func(t *testing.T) {
		for v, want := range map[string]string{"": "", "0.0.0.0": "0.0.0.0", "[::1]": "::1", "localhost": "localhost", "10.1.2.3": "10.1.2.3"} {
			c, err := loadConfig(envMap(map[string]string{"HOST": v}))
			if err != nil || c.Host != want {
				t.Errorf("HOST=%q: %q %v", v, c.Host, err)
			}
		}
		for _, v := range []string{"0.0.0.0:8080", "http://0.0.0.0", "my host"} {
			if _, err := loadConfig(envMap(map[string]string{"HOST": v})); err == nil {
				t.Errorf("HOST=%q accepted", v)
			}
		}
	})
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runWith(context.Background(), []string{"help"}, envMap(map[string]string{"PORT": "bad"}), &out); err != nil {
		t.Fatal(err) // help needs no valid configuration
	}
	help := out.String()
	for _, c := range commands {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.name) + `  +\S`).MatchString(help) {
			t.Errorf("help does not list command %s", c.name)
		}
	}
	for _, s := range append(slices.Clone(settings), commandVariables...) {
		l := helpLine(t, s.Name)
		def := s.Default
		if def == "" {
			def = "(" + cmp.Or(s.Shown, "none") + ")"
		}
		if !strings.Contains(l, "  "+def+"  ") || !strings.HasSuffix(l, s.Help) {
			t.Errorf("help line for %s lacks its default %q or meaning: %q", s.Name, def, l)
		}
	}
	for _, flag := range []string{"-h", "--help"} {
		var again bytes.Buffer
		if err := runWith(context.Background(), []string{flag}, envMap(nil), &again); err != nil || again.String() != help {
			t.Errorf("%s differs from help (%v)", flag, err)
		}
	}
	err := runWith(context.Background(), []string{"serv"}, envMap(nil), &out)
	if err == nil || !strings.Contains(err.Error(), `unknown command "serv"`) {
		t.Errorf("unknown command: %v", err)
	}
}

func TestVersion(t *testing.T) {
	t.Run("from_ldflags", func(t *testing.T) {
		defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
		version, commit, date = "1.4.0", "0123456789abcdef", "2026-01-02T03:04:05Z"
		var out bytes.Buffer
		if err := runWith(context.Background(), []string{"version"}, envMap(nil), &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"healthcare 1.4.0\n", "commit: 0123456789abcdef\n", "built:  2026-01-02T03:04:05Z\n", "go:     go1."} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("version output lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("without_ldflags", func(t *testing.T) {
		defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
		version, commit, date = "", "", ""
		b := readBuildInfo()
		if b.Version == "" || b.Go == "" {
			t.Fatalf("%+v", b)
		}
	})
	t.Run("modified_only_of_its_own_revision", func(t *testing.T) {
		var out bytes.Buffer
		writeVersion(&out, buildInfo{Version: "v1", Commit: "abc", Modified: true, Go: "go1.x"})
		if !strings.Contains(out.String(), "commit: abc (modified)") || !strings.Contains(out.String(), "built:  unknown") {
			t.Fatal(out.String())
		}
	})
}

// TestEnvExampleMatchesSettings: .env.example lists exactly the table's
// variables, each with its default or empty.
func TestEnvExampleMatchesSettings(t *testing.T) {
	f, err := os.Open(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]setting{}
	for _, s := range append(slices.Clone(settings), commandVariables...) {
		rows[s.Name] = s
	}
	listed := map[string]bool{}
	assign := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := assign.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		s, ok := rows[m[1]]
		if !ok {
			t.Errorf(".env.example lists %s, which the settings table does not have", m[1])
			continue
		}
		listed[m[1]] = true
		if m[2] != "" && m[2] != s.Default {
			t.Errorf(".env.example sets %s=%s; its default is %q", m[1], m[2], s.Default)
		}
	}
	for name := range rows {
		if !listed[name] {
			t.Errorf(".env.example does not list %s", name)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	a := testApp(t)
	addr, stop := serveApp(t, a)
	_, port, _ := net.SplitHostPort(addr)

	for _, host := range []string{"", "127.0.0.1", "0.0.0.0"} {
		var out bytes.Buffer
		env := envMap(map[string]string{"PORT": port, "HOST": host})
		if err := runWith(context.Background(), []string{"healthcheck"}, env, &out); err != nil || !strings.Contains(out.String(), `"database":"ok"`) {
			t.Errorf("HOST=%q: %v %s", host, err, out.String())
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := runWith(context.Background(), []string{"healthcheck"}, envMap(map[string]string{"PORT": port}), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("stopped server reported ready: %v", err)
	}

	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer unready.Close()
	port = strconv.Itoa(unready.Listener.Addr().(*net.TCPAddr).Port)
	err := runWith(context.Background(), []string{"healthcheck"}, envMap(map[string]string{"PORT": port}), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503 reported ready: %v", err)
	}
}

// TestServeFromEmptyDirectory runs the default command as an operator
// would on a fresh machine: no configuration at all, in an empty working
// directory; it creates its database and keys there.
func TestServeFromEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	env := envMap(map[string]string{"HOST": "127.0.0.1", "PORT": port, "LOG_LEVEL": "error"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, nil, env, &bytes.Buffer{}) }()
	var err2 error
	for range 100 {
		if err2 = runWith(context.Background(), []string{"healthcheck"}, env, &bytes.Buffer{}); err2 == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	for _, f := range []string{"healthcare.db", "healthcare.db.secret", "healthcare.db.fieldkey"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestPackagedEnvNamesSettings: every variable the packaged
// /etc/healthcare/env mentions, commented out or not, is one the server
// reads.
func TestPackagedEnvNamesSettings(t *testing.T) {
	b, err := os.ReadFile("packaging/env")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.Name] = true
	}
	n := 0
	for _, m := range regexp.MustCompile(`(?m)^#? ?([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(string(b), -1) {
		n++
		if !known[m[1]] {
			t.Errorf("packaging/env names %s, which is not a setting", m[1])
		}
	}
	if n == 0 {
		t.Fatal("packaging/env names no variable")
	}
}
