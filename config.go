package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"healthcare/auth"
	"healthcare/graph"
	"healthcare/models"
)

// config is everything the server reads from its environment (and an
// optional .env file, which never overrides a variable already set).
type config struct {
	Debug          bool
	Host           string
	TrustProxy     bool // believe X-Forwarded-For/-Proto from a reverse proxy
	Port           int
	SecretKey      string
	DatabaseURL    string // postgres://…; empty: embedded SQLite
	SQLitePath     string
	DBMaxConns     int
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	CORSOrigins    []string
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	Introspection  graph.Introspection // GRAPHQL_INTROSPECTION: off, authenticated (default), public
	GraphQLLimits  graph.Limits
	LogFormat      string
	LogLevel       slog.Level
	FieldKey       string        // FIELD_ENCRYPTION_KEY: seals medical fields
	FieldOldKeys   []string      // FIELD_ENCRYPTION_OLD_KEYS: still open, until rotate-keys
	RedisURL       string        // throttling counters in Redis instead of the database
	Throttle       auth.Throttle // rates only; the counter is wired in open
}

// loadConfig reads the configuration; env is os.LookupEnv in production.
func loadConfig(env func(string) (string, bool)) (*config, error) {
	var errs []error
	str := func(k, def string) string {
		if v, ok := env(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	boolean := func(k string, def bool) bool {
		v := str(k, "")
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a boolean (use true or false)", k, v))
		}
		return b
	}
	integer := func(k string, def int) int {
		v := str(k, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a non-negative integer", k, v))
		}
		return n
	}
	duration := func(k string, def time.Duration) time.Duration {
		v := str(k, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration (e.g. 1h, 15m)", k, v))
		}
		return d
	}
	c := &config{
		Debug:          boolean("DEBUG", false),
		Host:           str("HOST", ""),
		TrustProxy:     boolean("TRUST_PROXY", false),
		Port:           integer("PORT", 8080),
		SecretKey:      str("SECRET_KEY", ""),
		SQLitePath:     str("SQLITE_PATH", "healthcare.db"),
		DBMaxConns:     integer("DB_MAX_CONNS", 0),
		AccessTTL:      duration("ACCESS_TOKEN_LIFETIME", auth.DefaultAccessTTL),
		RefreshTTL:     duration("REFRESH_TOKEN_LIFETIME", auth.DefaultRefreshTTL),
		MaxBodyBytes:   int64(integer("MAX_BODY_BYTES", 1<<20)),
		RequestTimeout: duration("REQUEST_TIMEOUT", 30*time.Second),
		LogFormat:      str("LOG_FORMAT", "text"),
	}
	// Anonymous introspection only when asked for (or in debug mode): the
	// default needs any valid access token.
	c.Introspection = graph.IntrospectionAuthenticated
	if c.Debug {
		c.Introspection = graph.IntrospectionPublic
	}
	if v := str("GRAPHQL_INTROSPECTION", ""); v != "" {
		p, err := graph.ParseIntrospection(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("GRAPHQL_INTROSPECTION: %w", err))
		}
		c.Introspection = p
	}
	c.GraphQLLimits = graph.Limits{
		MaxDepth:      integer("GRAPHQL_MAX_DEPTH", graph.DefaultLimits.MaxDepth),
		MaxComplexity: integer("GRAPHQL_MAX_COMPLEXITY", graph.DefaultLimits.MaxComplexity),
		MaxAliases:    integer("GRAPHQL_MAX_ALIASES", graph.DefaultLimits.MaxAliases),
		MaxRootFields: integer("GRAPHQL_MAX_ROOT_FIELDS", graph.DefaultLimits.MaxRootFields),
	}
	c.RedisURL = str("REDIS_URL", "")
	c.FieldKey = str("FIELD_ENCRYPTION_KEY", "")
	if c.FieldKey != "" {
		if _, err := models.ParseFieldKey(c.FieldKey); err != nil {
			errs = append(errs, fmt.Errorf("FIELD_ENCRYPTION_KEY: %w", err))
		}
	}
	for _, k := range strings.Split(str("FIELD_ENCRYPTION_OLD_KEYS", ""), ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if _, err := models.ParseFieldKey(k); err != nil {
			errs = append(errs, fmt.Errorf("FIELD_ENCRYPTION_OLD_KEYS: %w", err))
		}
		c.FieldOldKeys = append(c.FieldOldKeys, k)
	}
	c.Throttle = *auth.DefaultThrottle(nil)
	for k, dst := range map[string]*auth.Rate{
		"THROTTLE_LOGIN_ACCOUNT": &c.Throttle.LoginAcct, "THROTTLE_LOGIN_IP": &c.Throttle.LoginIP, "THROTTLE_REGISTER_IP": &c.Throttle.Register,
	} {
		if v := str(k, ""); v != "" {
			r, err := auth.ParseRate(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
			*dst = r
		}
	}
	if c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT: %d is not a port", c.Port))
	}
	for _, o := range strings.Split(str("CORS_ALLOWED_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o == "*" {
			errs = append(errs, errors.New("CORS_ALLOWED_ORIGINS: list the origins; a wildcard is not allowed with credentials"))
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin like https://app.example.com", o))
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	if err := c.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: %q is not text or json", c.LogFormat))
	}
	// DATABASE_URL wins; otherwise the Django-style DB_* variables, when
	// DB_NAME is set, describe a PostgreSQL database.
	c.DatabaseURL = str("DATABASE_URL", "")
	if c.DatabaseURL == "" && str("DB_NAME", "") != "" {
		u := url.URL{
			Scheme: "postgres",
			Host:   net.JoinHostPort(str("DB_HOST", "localhost"), str("DB_PORT", "5432")),
			Path:   "/" + str("DB_NAME", ""),
		}
		if pw := str("DB_PASSWORD", ""); pw != "" {
			u.User = url.UserPassword(str("DB_USER", "postgres"), pw)
		} else {
			u.User = url.User(str("DB_USER", "postgres"))
		}
		q := url.Values{}
		q.Set("sslmode", str("DB_SSLMODE", "prefer"))
		u.RawQuery = q.Encode()
		c.DatabaseURL = u.String()
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("DATABASE_URL: must be a postgres:// URL"))
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) < auth.MinSecretLen {
		errs = append(errs, fmt.Errorf("SECRET_KEY: must be at least %d characters of random text", auth.MinSecretLen))
	}
	return c, errors.Join(errs...)
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
func (c *config) fieldCipher(log *slog.Logger) (*models.FieldCipher, error) {
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
		k, err := models.ParseFieldKey(s)
		if err != nil {
			return nil, fmt.Errorf("field encryption key: %w", err)
		}
		keys = append(keys, k)
	}
	return models.NewFieldCipher(keys...)
}
