// Command healthcare serves the healthcare API: GraphQL at /graphql, the
// documented REST API under /api/, and the admin console under /admin/.
//
//	healthcare                  serve (the default)
//	healthcare migrate          apply database migrations and exit
//	healthcare createsuperuser  create a superuser (interactive, or --noinput
//	                            with DJANGO_SUPERUSER_EMAIL/_PASSWORD/_NAME)
//	healthcare verify-audit     seal and check the audit trail's hash chain
//	healthcare rotate-keys      re-seal medical fields under FIELD_ENCRYPTION_KEY
//	healthcare import-django    import a Django reference database (SOURCE)
//	healthcare healthcheck      exit 0 when the server on HOST:PORT is ready
//	healthcare version          print the version, commit and build date
//	healthcare help             list the commands and every setting
//
// With no configuration it uses an embedded SQLite file; DATABASE_URL (or the
// DB_* variables) selects PostgreSQL. The settings are the table in
// config.go, which `healthcare help` prints.
package main

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/observe"
	"healthcare/web"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set:
// collect when the heap has grown by four times what survived the last
// collection, not the Go default of once. A request allocates a few
// kilobytes that die with it, so the live heap is small and collections at
// the default pace cost a quarter of the CPU under load; at 400 they cost a
// few percent, for a heap of tens of megabytes. GOGC and GOMEMLIMIT, when
// set, decide as usual.
const defaultGCPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "healthcare:", err)
		os.Exit(1)
	}
}

// app is the wired program: configuration, database, stores, the audit
// trail and auth.
type app struct {
	cfg      *config
	log      *slog.Logger
	db       *bun.DB
	cipher   *database.FieldCipher
	notifier *database.Notifier
	audit    *audit.Trail
	store    *database.Store
	auth     *auth.Service
	// stopping is closed when the server begins to shut down: long-lived
	// connections (GraphQL subscriptions) end then, since Shutdown does not
	// wait for them. nil in tests that serve routes() themselves.
	stopping chan struct{}
	replica  *database.Replica // nil without DATABASE_REPLICA_URL
	metrics  *observe.Metrics
	tracing  *observe.Tracing // nil: off
}

func run(ctx context.Context, args []string) error {
	return runWith(ctx, args, envWithDotenv(".env"), os.Stdout)
}

// commands is every command with its arguments and one line of meaning;
// help prints it and runWith refuses any other.
var commands = []struct{ name, help string }{
	{"serve", "serve GraphQL /graphql, REST /api/ and the admin console /admin/ (the default)"},
	{"migrate", "apply the database migrations and exit (serve applies them too, at start)"},
	{"createsuperuser", "create a superuser: prompts, or [--noinput] reads DJANGO_SUPERUSER_*; [--email ADDR]"},
	{"verify-audit", "seal and check the audit trail's hash chain; exits non-zero if it is broken"},
	{"rotate-keys", "re-seal medical fields under FIELD_ENCRYPTION_KEY; then drop the old keys"},
	{"import-django", "[--dry-run] [--skip-invalid] [--batch N] SOURCE: import a Django deployment's database (postgres://... or sqlite:///path), passwords included"},
	{"healthcheck", "GET /readyz of the server on HOST and PORT; exits 0 when it is ready"},
	{"version", "print the version, commit and build date (also -v, --version)"},
	{"help", "print this help: every command and every environment variable (also -h, --help)"},
}

// runWith runs one command with the environment env, printing to out.
func runWith(ctx context.Context, args []string, env func(string) (string, bool), out io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "-h", "--help", "help":
		writeHelp(out)
		return nil
	case "-v", "--version", "version":
		writeVersion(out, readBuildInfo())
		return nil
	}
	if !slices.ContainsFunc(commands, func(c struct{ name, help string }) bool { return c.name == cmd }) {
		return fmt.Errorf("unknown command %q; `healthcare help` lists the commands", cmd)
	}
	if cmd != "createsuperuser" && cmd != "import-django" && len(args) > 0 {
		return fmt.Errorf("%s takes no arguments (got %q); `healthcare help` lists the commands", cmd, args)
	}
	cfg, err := loadConfig(env)
	if cmd == "healthcheck" {
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return healthcheck(ctx, cfg, out)
	}
	// Every problem at once: invalid values and missing keys.
	if keys := cfg.missingKeys(cmd != "migrate"); keys != nil {
		err = errors.Join(err, keys)
	}
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg)
	a, err := open(ctx, cfg, log, cmd != "migrate")
	if err != nil {
		return err
	}
	defer a.close()
	switch cmd {
	case "migrate":
		return nil
	case "createsuperuser":
		return createSuperuser(ctx, a.auth, args, os.Stdin, out)
	case "verify-audit":
		return verifyAudit(ctx, a, out)
	case "import-django":
		return importDjango(ctx, a, args, out, os.Stderr)
	case "rotate-keys":
		n, err := database.RotateFieldKeys(ctx, a.db, a.cipher, 500)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "re-sealed the medical fields of %d patients under key %s\n", n, a.cipher.CurrentKeyID())
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	return a.serve(ctx, ln)
}

func newLogger(cfg *config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	// Every line logged with a request's context names the request (and
	// its trace).
	return slog.New(observe.LogHandler(h))
}

// open connects to the database, applies migrations and wires the stores;
// withSecret also sets up token signing (every command but migrate).
func open(ctx context.Context, cfg *config, log *slog.Logger, withSecret bool) (*app, error) {
	if withSecret {
		if err := cfg.ensureSecret(log); err != nil {
			return nil, err
		}
	}
	fc, err := cfg.fieldCipher(log)
	if err != nil {
		return nil, err
	}
	dbcfg := database.Config{URL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath, MaxConns: cfg.DBMaxConns}
	if cfg.DatabaseURL != "" {
		log.Info("database: PostgreSQL", "url", database.RedactURL(cfg.DatabaseURL))
	} else {
		log.Info("database: embedded SQLite", "path", cfg.SQLitePath)
	}
	db, err := database.Open(ctx, dbcfg)
	if err != nil {
		return nil, err
	}
	applied, err := database.Migrate(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "names", applied)
	}
	a := &app{cfg: cfg, log: log, db: db, cipher: fc, notifier: database.NewNotifier(database.IsPostgres(db))}
	if err := a.observe(ctx, withSecret); err != nil {
		a.close()
		return nil, err
	}
	a.audit = audit.New(db, log)
	a.audit.SetObserver(a.metrics)
	a.metrics.WatchAudit(a.audit)
	a.store = database.New(db, database.Options{Auditor: a.audit, Cipher: fc, Notifier: a.notifier, Replica: a.replica})
	if withSecret {
		signer, err := auth.NewSigner([]byte(cfg.SecretKey), cfg.AccessTTL, cfg.RefreshTTL)
		if err != nil {
			a.close()
			return nil, err
		}
		throttle := cfg.Throttle
		throttle.Counter = database.NewRateLimitStore(db)
		throttle.OnLimit = a.metrics.ThrottleHit
		if cfg.RedisURL != "" {
			opts, err := redis.ParseURL(cfg.RedisURL)
			if err != nil {
				a.close()
				return nil, fmt.Errorf("REDIS_URL: %w", err)
			}
			throttle.Counter = auth.RedisCounter{Client: redis.NewClient(opts)}
			log.Info("throttling counters: Redis")
		}
		hasher := auth.NewHasher(cfg.HashWorkers, cfg.HashQueue)
		a.metrics.WatchHasher(hasher)
		a.auth = auth.NewService(a.store, signer, auth.Options{
			Log: log, Throttle: &throttle, Hasher: hasher,
			SessionCache: cfg.SessionCache,
		})
	}
	return a, nil
}

// serve answers on ln until ctx is done, then lets in-flight requests finish.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	a.stopping = make(chan struct{})
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.log.Info("listening", "addr", ln.Addr().String(), "graphql", "/graphql", "rest", "/api/", "admin", "/admin/")
	stopMetrics, err := a.serveMetrics(ctx)
	if err != nil {
		return err
	}
	defer stopMetrics()
	go a.purgeTokens(ctx)
	go a.compactCounts(ctx)
	go a.notifier.Listen(ctx, a.db, a.log)
	if a.replica != nil {
		go a.replica.Watch(ctx, time.Second)
	}
	sealed := make(chan struct{})
	go func() { a.audit.RunSealer(ctx, time.Second, a.log); close(sealed) }()
	defer func() { <-sealed }()
	errc := make(chan error, 1)
	// net/http's own answers (400, 431) get the security headers too.
	go func() { errc <- srv.Serve(web.Listener(ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing in-flight requests")
	close(a.stopping)
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// compactCounts folds the patient count deltas into the counts every few
// seconds, so that a count reads a few rows (database.CompactCounts).
func (a *app) compactCounts(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.store.CompactCounts(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("compact patient counts", "err", err)
		}
	}
}

// purgeTokens deletes long-ended sessions and refresh tokens every hour.
func (a *app) purgeTokens(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := database.NewRateLimitStore(a.db).Purge(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purge rate-limit counters", "err", err)
		}
		if n, err := a.auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purge ended sessions", "err", err)
		} else if n > 0 {
			a.log.Info("purged ended sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
