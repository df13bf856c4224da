package main

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/joho/godotenv"
	"github.com/redis/go-redis/v9"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/graph"
)

// config is everything the server reads from its environment (and an
// optional .env file, which never overrides a variable already set). Every
// field that comes from a variable is filled by a row of settings.
type config struct {
	Debug          bool
	Host           string
	TrustProxy     bool // believe X-Forwarded-For/-Proto from a reverse proxy
	Port           int
	SecretKey      string
	DatabaseURL    string // postgres://…; empty: embedded SQLite
	SQLitePath     string
	DBMaxConns     int // 0: the database package's default
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	CORSOrigins    []string
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	Introspection  graph.Introspection // off, authenticated or public
	GraphQLLimits  graph.Limits
	Subscriptions  graph.Subscriptions // the limits only; routes adds the origins
	LogFormat      string
	LogLevel       slog.Level
	FieldKey       string        // FIELD_ENCRYPTION_KEY: seals medical fields
	FieldOldKeys   []string      // FIELD_ENCRYPTION_OLD_KEYS: still open, until rotate-keys
	RedisURL       string        // throttling counters in Redis instead of the database
	Throttle       auth.Throttle // rates only; the counter is wired in open
	PublicURL      *url.URL      // how clients reach us (links); nil: from each request
	ReadTimeout    time.Duration // the time a client has to send a whole request
	HashWorkers    int           // concurrent password hashes; 0: one per CPU
	HashQueue      int           // requests waiting for a hash; 0: 16 per worker
	SessionCache   time.Duration // how long a session's state is reused; negative: never
	ReplicaURL     string        // DATABASE_REPLICA_URL: a standby for reads that may be stale
	MetricsAddr    string        // METRICS_ADDR: host:port of /metrics (and pprof); empty: off
	Pprof          bool          // PPROF: /debug/pprof/ on the metrics address
	OTLPEndpoint   string        // OTEL_EXPORTER_OTLP_ENDPOINT: export traces there; empty: off
	ServiceName    string        // OTEL_SERVICE_NAME: service.name of the spans

	// db holds the Django-style DB_* variables; loadConfig turns them into
	// DatabaseURL when DB_NAME is set and DATABASE_URL is not.
	db struct{ Name, User, Password, Host, Port, SSLMode string }
}

// setting is one environment variable: its name, its default written as
// the variable would be, one line of meaning, and the parser that checks
// a value and stores it in the config. loadConfig applies every row and
// `healthcare help` prints them, so the two cannot disagree.
type setting struct {
	Name    string
	Group   string
	Default string // used when the variable is unset or blank; parsed like a value
	Shown   string // what help shows as the default when Default is empty
	Help    string // one line
	// parse checks v (trimmed; the default when unset) and stores it in c.
	// Its error is prefixed with Name. Rows are applied in order, so a row
	// may read a field set by an earlier one.
	parse func(c *config, v string) error
}

// Groups of variables, in the order help prints them.
const (
	groupDatabase  = "Database"
	groupDjangoDB  = "PostgreSQL as Django names it (used when DB_NAME is set and DATABASE_URL is not)"
	groupKeys      = "Keys and encryption at rest"
	groupHTTP      = "HTTP"
	groupTokens    = "Tokens and throttling"
	groupGraphQL   = "GraphQL"
	groupObserve   = "Metrics, tracing and profiling"
	groupLogging   = "Logging and debugging"
	groupSuperuser = "createsuperuser --noinput (read from the process environment only, not from .env)"
)

var groupOrder = []string{groupDatabase, groupDjangoDB, groupKeys, groupHTTP, groupTokens, groupGraphQL, groupObserve, groupLogging, groupSuperuser}

const (
	sslModes        = "disable, allow, prefer, require, verify-ca, verify-full"
	generatedSQLite = "SQLite: generated"
)

// settings is every variable the server reads. To add one: a field in
// config, a row here (its default, one line of meaning, a parser), a line
// in .env.example (TestEnvExampleMatchesSettings checks it).
// defaultThrottle gives the throttling rows their defaults (the rates
// are the rows'; MaxDelay has no setting).
var defaultThrottle = auth.DefaultThrottle(nil)

var settings = []setting{
	// DEBUG comes first: GRAPHQL_INTROSPECTION's default is its value.
	{Name: "DEBUG", Group: groupLogging, Default: "false",
		Help:  "debug mode: GraphQL introspection and suggestions; no FIELD_ENCRYPTION_KEY means plain text",
		parse: boolean(func(c *config) *bool { return &c.Debug })},
	{Name: "DATABASE_URL", Group: groupDatabase, Shown: "embedded SQLite",
		Help:  "postgres://user:pass@host:5432/db?sslmode=verify-full; wins over DB_*",
		parse: parseDatabaseURL},
	{Name: "DATABASE_REPLICA_URL", Group: groupDatabase, Shown: "none",
		Help:  "postgres:// URL of a streaming standby: reads that may be a moment stale go there (never a recent writer's); down: the primary",
		parse: parseReplicaURL},
	{Name: "SQLITE_PATH", Group: groupDatabase, Default: "healthcare.db",
		Help:  "the embedded database file (generated keys are kept beside it as .secret and .fieldkey)",
		parse: text(func(c *config) *string { return &c.SQLitePath })},
	{Name: "DB_MAX_CONNS", Group: groupDatabase, Shown: "4 per CPU, at least 8",
		Help:  "connection pool size; 0 is refused (leave it unset for the default)",
		parse: optionalInt(1, 10_000, func(c *config) *int { return &c.DBMaxConns })},
	{Name: "DB_NAME", Group: groupDjangoDB,
		Help:  "database name; setting it selects PostgreSQL",
		parse: text(func(c *config) *string { return &c.db.Name })},
	{Name: "DB_USER", Group: groupDjangoDB, Default: "postgres",
		Help:  "role to connect as",
		parse: text(func(c *config) *string { return &c.db.User })},
	{Name: "DB_PASSWORD", Group: groupDjangoDB,
		Help:  "its password",
		parse: text(func(c *config) *string { return &c.db.Password })},
	{Name: "DB_HOST", Group: groupDjangoDB, Default: "localhost",
		Help:  "server host name or address",
		parse: text(func(c *config) *string { return &c.db.Host })},
	{Name: "DB_PORT", Group: groupDjangoDB, Default: "5432",
		Help:  "server port, 1-65535 (0 is refused)",
		parse: portText(func(c *config) *string { return &c.db.Port })},
	{Name: "DB_SSLMODE", Group: groupDjangoDB, Default: "prefer",
		Help:  "TLS to the server: " + sslModes,
		parse: oneOf(strings.Split(sslModes, ", "), func(c *config) *string { return &c.db.SSLMode })},

	{Name: "SECRET_KEY", Group: groupKeys, Shown: generatedSQLite,
		Help:  "signs tokens and admin sessions: 32+ random characters; PostgreSQL: required, the same on every node",
		parse: parseSecretKey},
	{Name: "FIELD_ENCRYPTION_KEY", Group: groupKeys, Shown: generatedSQLite,
		Help:  "seals medical fields: 32 random bytes, base64; PostgreSQL: required, the same on every node; back it up",
		parse: parseFieldKey},
	{Name: "FIELD_ENCRYPTION_OLD_KEYS", Group: groupKeys,
		Help:  "comma-separated previous keys: still open old values until rotate-keys re-seals them",
		parse: parseOldFieldKeys},

	{Name: "HOST", Group: groupHTTP, Shown: "all interfaces",
		Help:  "IP address to listen on (127.0.0.1, ::1, 0.0.0.0, ...); empty: every interface",
		parse: parseHost},
	{Name: "PORT", Group: groupHTTP, Default: "8080",
		Help:  "TCP port to listen on, 1-65535 (0 is refused)",
		parse: integer(1, 65535, func(c *config) *int { return &c.Port })},
	{Name: "TRUST_PROXY", Group: groupHTTP, Default: "false",
		Help:  "true behind one reverse proxy: believe its X-Forwarded-For, -Proto and -Host (client address, HSTS, links, cookies)",
		parse: boolean(func(c *config) *bool { return &c.TrustProxy })},
	{Name: "PUBLIC_URL", Group: groupHTTP, Shown: "from each request",
		Help:  "https://api.clinic.example: the scheme and host in pagination links and cookies, whatever a request says",
		parse: parsePublicURL},
	{Name: "CORS_ALLOWED_ORIGINS", Group: groupHTTP, Shown: "none",
		Help:  "comma-separated browser origins allowed to call the API, each exactly scheme://host[:port]; no wildcard or pattern",
		parse: parseOrigins},
	{Name: "MAX_BODY_BYTES", Group: groupHTTP, Default: "1048576",
		Help:  "largest request body in bytes, 413 past it; 0 is refused",
		parse: integer(int64(1), math.MaxInt64, func(c *config) *int64 { return &c.MaxBodyBytes })},
	{Name: "REQUEST_TIMEOUT", Group: groupHTTP, Default: "30s",
		Help:  "longest a request may run (Go duration; 0 is refused); keep it under 1m for the audit sealer",
		parse: duration(func(c *config) *time.Duration { return &c.RequestTimeout })},
	{Name: "READ_TIMEOUT", Group: groupHTTP, Default: "30s",
		Help:  "longest a client may take to send a whole request, body included (408 past it; 0 is refused)",
		parse: duration(func(c *config) *time.Duration { return &c.ReadTimeout })},

	{Name: "ACCESS_TOKEN_LIFETIME", Group: groupTokens, Default: auth.ShortDuration(auth.DefaultAccessTTL),
		Help:  "access token lifetime (Go duration; 0 is refused)",
		parse: duration(func(c *config) *time.Duration { return &c.AccessTTL })},
	{Name: "REFRESH_TOKEN_LIFETIME", Group: groupTokens, Default: auth.ShortDuration(auth.DefaultRefreshTTL),
		Help:  "refresh token lifetime (Go duration; 0 is refused)",
		parse: duration(func(c *config) *time.Duration { return &c.RefreshTTL })},
	{Name: "THROTTLE_LOGIN_ACCOUNT", Group: groupTokens, Default: defaultThrottle.Pair.String(),
		Help:  "failed credential checks (sign-in, current password) per account and client network per window (N/duration, or off)",
		parse: rate(func(c *config) *auth.Rate { return &c.Throttle.Pair })},
	{Name: "THROTTLE_LOGIN_IP", Group: groupTokens, Default: defaultThrottle.Network.String(),
		Help:  "failed credential checks and taken-email registrations per client network (IPv4 address, IPv6 /64)",
		parse: rate(func(c *config) *auth.Rate { return &c.Throttle.Network })},
	{Name: "THROTTLE_LOGIN_SLOWDOWN", Group: groupTokens, Default: defaultThrottle.Account.String(),
		Help:  "failed checks per account from anywhere before each further check is slowed (up to " + defaultThrottle.MaxDelay.String() + "), never locked",
		parse: rate(func(c *config) *auth.Rate { return &c.Throttle.Account })},
	{Name: "THROTTLE_REGISTER_IP", Group: groupTokens, Default: defaultThrottle.Register.String(),
		Help:  "registrations per client network per window",
		parse: rate(func(c *config) *auth.Rate { return &c.Throttle.Register })},
	{Name: "HASH_WORKERS", Group: groupTokens, Shown: "one per CPU",
		Help:  "password hashes (argon2id, 19 MiB each) run at once; 0 is refused (leave it unset for the default)",
		parse: optionalInt(1, 1024, func(c *config) *int { return &c.HashWorkers })},
	{Name: "HASH_QUEUE", Group: groupTokens, Shown: "16 per worker",
		Help:  "requests that may wait for a hash; past it, 503 with Retry-After; 0 is refused",
		parse: optionalInt(1, 1_000_000, func(c *config) *int { return &c.HashQueue })},
	{Name: "SESSION_CACHE", Group: groupTokens, Default: "1m",
		Help:  "how long a node reuses a session's state without reading it (revocations reach every node at once; off: read every request)",
		parse: parseSessionCache},
	{Name: "REDIS_URL", Group: groupTokens, Shown: "the database",
		Help:  "redis://host:6379/0: keep the throttling counters in Redis instead of the database",
		parse: parseRedisURL},

	{Name: "GRAPHQL_INTROSPECTION", Group: groupGraphQL, Shown: "authenticated; public with DEBUG",
		Help: "who may run __schema/__type queries: off, authenticated (any valid access token) or public",
		parse: func(c *config, v string) error {
			switch {
			case v != "":
				p, err := graph.ParseIntrospection(v)
				if err != nil {
					return err
				}
				c.Introspection = p
			case c.Debug:
				c.Introspection = graph.IntrospectionPublic
			default:
				c.Introspection = graph.IntrospectionAuthenticated
			}
			return nil
		}},
	{Name: "GRAPHQL_MAX_DEPTH", Group: groupGraphQL, Default: strconv.Itoa(graph.DefaultLimits.MaxDepth),
		Help:  "deepest field nesting of one operation; 0 is refused",
		parse: integer(1, 1000, func(c *config) *int { return &c.GraphQLLimits.MaxDepth })},
	{Name: "GRAPHQL_MAX_COMPLEXITY", Group: groupGraphQL, Default: strconv.Itoa(graph.DefaultLimits.MaxComplexity),
		Help:  "largest estimated cost of one operation (a field costs 1, a page of N nodes N times theirs); 0 is refused",
		parse: integer(1, 1_000_000_000, func(c *config) *int { return &c.GraphQLLimits.MaxComplexity })},
	{Name: "GRAPHQL_MAX_ALIASES", Group: groupGraphQL, Default: strconv.Itoa(graph.DefaultLimits.MaxAliases),
		Help:  "most aliased fields in one operation; 0 is refused",
		parse: integer(1, 10_000, func(c *config) *int { return &c.GraphQLLimits.MaxAliases })},
	{Name: "GRAPHQL_MAX_ROOT_FIELDS", Group: groupGraphQL, Default: strconv.Itoa(graph.DefaultLimits.MaxRootFields),
		Help:  "most top-level fields in one operation; 0 is refused",
		parse: integer(1, 10_000, func(c *config) *int { return &c.GraphQLLimits.MaxRootFields })},
	{Name: "GRAPHQL_WS_CONNECTIONS", Group: groupGraphQL, Default: strconv.Itoa(graph.DefaultSubscriptions.MaxConnections),
		Help:  "subscription websockets one account may hold open on each server node (close code 4429 past it); 0 is refused",
		parse: integer(1, 100_000, func(c *config) *int { return &c.Subscriptions.MaxConnections })},
	{Name: "GRAPHQL_WS_SUBSCRIPTIONS", Group: groupGraphQL, Default: strconv.Itoa(graph.DefaultSubscriptions.MaxSubscriptions),
		Help:  "subscriptions running at once on one websocket (RATE_LIMITED past it); 0 is refused",
		parse: integer(1, 10_000, func(c *config) *int { return &c.Subscriptions.MaxSubscriptions })},
	{Name: "GRAPHQL_WS_IDLE_TIMEOUT", Group: groupGraphQL, Default: "5m",
		Help:  "a websocket with no running subscription for this long is closed (Go duration; 0 is refused)",
		parse: duration(func(c *config) *time.Duration { return &c.Subscriptions.IdleTimeout })},

	{Name: "METRICS_ADDR", Group: groupObserve, Shown: "off",
		Help:  "host:port to serve Prometheus /metrics on, apart from the API port (127.0.0.1:9090); empty: no metrics endpoint",
		parse: parseMetricsAddr},
	{Name: "PPROF", Group: groupObserve, Default: "false",
		Help:  "true: serve Go's profiler at /debug/pprof/ on METRICS_ADDR (never on the API port)",
		parse: boolean(func(c *config) *bool { return &c.Pprof })},
	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Group: groupObserve, Shown: "off",
		Help:  "http(s)://collector:4318: export OpenTelemetry traces over OTLP/HTTP; the other OTEL_* variables are read from the environment",
		parse: parseOTLPEndpoint},
	{Name: "OTEL_SERVICE_NAME", Group: groupObserve, Default: "healthcare",
		Help:  "service.name of the traces",
		parse: text(func(c *config) *string { return &c.ServiceName })},

	{Name: "LOG_FORMAT", Group: groupLogging, Default: "text",
		Help:  "text, or json for machines",
		parse: oneOf([]string{"text", "json"}, func(c *config) *string { return &c.LogFormat })},
	{Name: "LOG_LEVEL", Group: groupLogging, Default: "info",
		Help: "debug, info, warn or error",
		parse: func(c *config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%q is not debug, info, warn or error", v)
			}
			return nil
		}},
}

// commandVariables are read by one command, not by the server: help
// lists them, loadConfig does not.
var commandVariables = []setting{
	{Name: "DJANGO_SUPERUSER_EMAIL", Group: groupSuperuser, Help: "the superuser's email"},
	{Name: "DJANGO_SUPERUSER_PASSWORD", Group: groupSuperuser, Help: "its password (the registration rules apply)"},
	{Name: "DJANGO_SUPERUSER_NAME", Group: groupSuperuser, Shown: "Administrator", Help: "its display name"},
}

// configErrors is every problem found in the configuration, one a line.
type configErrors []error

func (e configErrors) Error() string {
	var b strings.Builder
	for i, err := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("  " + err.Error())
	}
	return b.String()
}

func (e configErrors) Unwrap() []error { return e }

// loadConfig reads the configuration; env is os.LookupEnv in production.
// It reports every invalid value at once, each naming its variable, and
// returns the config it could build alongside the error.
func loadConfig(env func(string) (string, bool)) (*config, error) {
	c := &config{Throttle: *defaultThrottle}
	var errs configErrors
	for _, s := range settings {
		v, _ := env(s.Name)
		if v = strings.TrimSpace(v); v == "" {
			v = s.Default
		}
		err := s.parse(c, v)
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() { // one line per bad item of a list
				errs = append(errs, fmt.Errorf("%s: %w", s.Name, e))
			}
		} else if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	if c.DatabaseURL == "" && c.db.Name != "" {
		c.DatabaseURL = c.djangoURL()
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// djangoURL is the postgres:// URL the DB_* variables describe.
func (c *config) djangoURL() string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.db.Host, c.db.Port), Path: "/" + c.db.Name}
	if c.db.Password != "" {
		u.User = url.UserPassword(c.db.User, c.db.Password)
	} else {
		u.User = url.User(c.db.User)
	}
	u.RawQuery = url.Values{"sslmode": {c.db.SSLMode}}.Encode()
	return u.String()
}

// missingKeys names every key that must be configured and is not: with
// PostgreSQL every node must share SECRET_KEY (needed by every command
// but migrate) and FIELD_ENCRYPTION_KEY (except in debug mode, where the
// fields are stored in plain text). The embedded database generates both.
func (c *config) missingKeys(needSecret bool) error {
	if c.DatabaseURL == "" {
		return nil
	}
	var errs configErrors
	if needSecret && c.SecretKey == "" {
		errs = append(errs, errors.New("SECRET_KEY: not set; with PostgreSQL every node must share one signing key: set 32+ random characters (openssl rand -base64 48)"))
	}
	if c.FieldKey == "" && !c.Debug {
		errs = append(errs, errors.New("FIELD_ENCRYPTION_KEY: not set; with PostgreSQL every node must share the key that seals medical fields: set 32 random bytes, base64 (openssl rand -base64 32), and keep a copy"))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Parsers. Each returns a problem with the value, never the value of a
// secret; loadConfig prefixes the variable's name.

func text(dst func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *dst(c) = v; return nil }
}

func boolean(dst func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (use true or false)", v)
		}
		*dst(c) = b
		return nil
	}
}

func integer[T int | int64](lo, hi T, dst func(*config) *T) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < int64(lo) || n > int64(hi) {
			if int64(hi) == math.MaxInt64 {
				return fmt.Errorf("%q is not a whole number of at least %d", v, lo)
			}
			return fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
		}
		*dst(c) = T(n)
		return nil
	}
}

// optionalInt is integer, but an empty value leaves the field at 0 (the
// default chosen where the field is used).
func optionalInt(lo, hi int, dst func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		if v == "" {
			return nil
		}
		return integer(lo, hi, dst)(c, v)
	}
}

func portText(dst func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error {
		var p int
		if err := integer(1, 65535, func(*config) *int { return &p })(c, v); err != nil {
			return err
		}
		*dst(c) = strconv.Itoa(p)
		return nil
	}
}

func duration(dst func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration (e.g. 1h, 15m, 30s)", v)
		}
		*dst(c) = d
		return nil
	}
}

func oneOf(choices []string, dst func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error {
		if !slices.Contains(choices, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(choices, ", "))
		}
		*dst(c) = v
		return nil
	}
}

func rate(dst func(*config) *auth.Rate) func(*config, string) error {
	return func(c *config, v string) error {
		r, err := auth.ParseRate(v)
		if err != nil {
			return err
		}
		*dst(c) = r
		return nil
	}
}

// list splits a comma-separated value, dropping blanks.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseDatabaseURL(c *config, v string) error {
	if v == "" {
		return nil
	}
	c.DatabaseURL = v
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" && u.Path == "" {
		return errors.New("must be a postgres:// URL") // the value may hold a password
	}
	if m := u.Query().Get("sslmode"); m != "" && !slices.Contains(strings.Split(sslModes, ", "), m) {
		return fmt.Errorf("sslmode %q is not one of %s", m, sslModes)
	}
	return nil
}

func parseReplicaURL(c *config, v string) error {
	if v == "" {
		return nil
	}
	var probe config
	if err := parseDatabaseURL(&probe, v); err != nil {
		return err
	}
	c.ReplicaURL = v
	return nil
}

func parseMetricsAddr(c *config, v string) error {
	if v == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port (127.0.0.1:9090, [::1]:9090, :9090)", v)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fmt.Errorf("%q: the host must be an IP address (or empty for every interface)", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be a whole number from 1 to 65535", v)
	}
	c.MetricsAddr = v
	return nil
}

func parseOTLPEndpoint(c *config, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be an http:// or https:// URL, e.g. http://127.0.0.1:4318") // may hold a token
	}
	c.OTLPEndpoint = v
	return nil
}

func parseSecretKey(c *config, v string) error {
	if v != "" && len(v) < auth.MinSecretLen {
		return fmt.Errorf("must be at least %d characters of random text (openssl rand -base64 48)", auth.MinSecretLen)
	}
	c.SecretKey = v
	return nil
}

func parseFieldKey(c *config, v string) error {
	c.FieldKey = v
	if v == "" {
		return nil
	}
	_, err := database.ParseFieldKey(v)
	return err
}

func parseOldFieldKeys(c *config, v string) error {
	var errs []error
	for i, k := range list(v) {
		if _, err := database.ParseFieldKey(k); err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i+1, err))
		}
		c.FieldOldKeys = append(c.FieldOldKeys, k)
	}
	return errors.Join(errs...)
}

func parseHost(c *config, v string) error {
	h := strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if h != "" && h != "localhost" && net.ParseIP(h) == nil {
		return fmt.Errorf("%q is not an IP address to listen on (127.0.0.1, ::1, 0.0.0.0; empty for every interface; the port goes in PORT)", v)
	}
	c.Host = h
	return nil
}

func parseOrigins(c *config, v string) error {
	var errs []error
	for _, o := range list(v) {
		origin, err := exactOrigin(o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, origin)
	}
	return errors.Join(errs...)
}

func parsePublicURL(c *config, v string) error {
	if v == "" {
		return nil
	}
	origin, err := exactOrigin(v)
	if err != nil {
		return err
	}
	c.PublicURL, _ = url.Parse(origin)
	return nil
}

// exactOrigin returns s if it is exactly an origin, scheme://host[:port]
// with scheme http or https: no path, no query, no user, and no wildcard or
// pattern of any kind (a browser origin is matched exactly, so a pattern
// is always a mistake, and with credentials a dangerous one).
func exactOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case strings.ContainsAny(s, "*?"):
		return "", fmt.Errorf("%q: list each origin exactly; wildcards and patterns are not allowed", s)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("%q is not an origin like https://app.example.com", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q has no valid port", s)
		}
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func parseSessionCache(c *config, v string) error {
	if v == "0" || strings.EqualFold(v, "off") {
		c.SessionCache = -1
		return nil
	}
	return duration(func(c *config) *time.Duration { return &c.SessionCache })(c, v)
}

func parseRedisURL(c *config, v string) error {
	if v == "" {
		return nil
	}
	if _, err := redis.ParseURL(v); err != nil {
		return errors.New("must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0") // may hold a password
	}
	c.RedisURL = v
	return nil
}

// writeEnvHelp prints every variable, grouped, one a line: name, default,
// meaning.
func writeEnvHelp(w io.Writer) {
	rows := append(slices.Clone(settings), commandVariables...)
	for _, g := range groupOrder {
		fmt.Fprintf(w, "\n%s\n", g)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range rows {
			if s.Group != g {
				continue
			}
			def := s.Default
			if def == "" {
				def = "(" + cmp.Or(s.Shown, "none") + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, def, s.Help)
		}
		tw.Flush()
	}
}

// envWithDotenv looks a variable up in the process environment, then in
// the .env file of the working directory, if there is one.
func envWithDotenv(path string) func(string) (string, bool) {
	file, _ := godotenv.Read(path)
	return func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	}
}

// ensureSecret makes sure there is a signing key. With PostgreSQL every node
// must share one, so it must be configured; with the embedded database a
// strong one is generated on first start and kept beside the database file.
func (c *config) ensureSecret(log *slog.Logger) error {
	if c.SecretKey != "" {
		return nil
	}
	if c.DatabaseURL != "" {
		return errors.New("SECRET_KEY is not set: with PostgreSQL every server node must share one signing key; set SECRET_KEY to at least 32 random characters (e.g. `openssl rand -base64 48`)")
	}
	path := c.SQLitePath + ".secret"
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= auth.MinSecretLen {
			c.SecretKey = s
			log.Info("using the signing key kept beside the embedded database", "path", path)
			return nil
		}
		return fmt.Errorf("%s holds no usable key; delete it to generate a new one (all tokens will be invalidated)", path)
	}
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	key := base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("keep generated SECRET_KEY: %w", err)
	}
	c.SecretKey = key
	log.Warn("SECRET_KEY not set: generated a signing key and kept it beside the embedded database (mode 0600); set SECRET_KEY in production", "path", path)
	return nil
}

// fieldCipher returns the cipher that seals medical fields at rest. With no
// FIELD_ENCRYPTION_KEY: in debug mode the fields are stored in plain text
// (with a warning); with the embedded database a key is generated on first
// start and kept beside the database file (mode 0600); with PostgreSQL the
// server refuses to start, since every node must share the key and losing
// it loses the data.
func (c *config) fieldCipher(log *slog.Logger) (*database.FieldCipher, error) {
	if c.FieldKey == "" {
		switch {
		case c.Debug:
			log.Warn("FIELD_ENCRYPTION_KEY not set: medical history, allergies and medications are stored in PLAIN TEXT (debug mode)")
			return nil, nil
		case c.DatabaseURL != "":
			return nil, errors.New("FIELD_ENCRYPTION_KEY is not set: with PostgreSQL, medical fields are encrypted under a key every node shares; set it to 32 random bytes, base64-encoded (openssl rand -base64 32), and keep a copy: without it the fields cannot be read")
		}
		path := c.SQLitePath + ".fieldkey"
		if b, err := os.ReadFile(path); err == nil {
			c.FieldKey = strings.TrimSpace(string(b))
		} else {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return nil, err
			}
			c.FieldKey = base64.StdEncoding.EncodeToString(k)
			if err := os.WriteFile(path, []byte(c.FieldKey+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("keep generated FIELD_ENCRYPTION_KEY: %w", err)
			}
			log.Warn("FIELD_ENCRYPTION_KEY not set: generated one and kept it beside the embedded database (mode 0600); back it up with the database", "path", path)
		}
	}
	keys := make([][]byte, 0, 1+len(c.FieldOldKeys))
	for _, s := range append([]string{c.FieldKey}, c.FieldOldKeys...) {
		k, err := database.ParseFieldKey(s)
		if err != nil {
			return nil, fmt.Errorf("field encryption key: %w", err)
		}
		keys = append(keys, k)
	}
	return database.NewFieldCipher(keys...)
}
