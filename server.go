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
//
// With no configuration it uses an embedded SQLite file; DATABASE_URL (or the
// DB_* variables) selects PostgreSQL. See .env.example for every setting.
package main

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "healthcare:", err)
		os.Exit(1)
	}
}

// app is the wired program: configuration, database, stores and auth.
type app struct {
	cfg   *config
	log   *slog.Logger
	db    *bun.DB
	store *database.Store
	auth  *auth.Service
}

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate", "createsuperuser", "verify-audit", "rotate-keys", "import-django":
	case "-h", "--help", "help":
		fmt.Println("usage: healthcare [serve | migrate | createsuperuser [--noinput] | verify-audit | rotate-keys | import-django SOURCE]")
		return nil
	default:
		return fmt.Errorf("unknown command %q (serve, migrate, createsuperuser, verify-audit, rotate-keys, import-django)", cmd)
	}
	cfg, err := loadConfig(envWithDotenv(".env"))
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg)
	a, err := open(ctx, cfg, log, cmd != "migrate")
	if err != nil {
		return err
	}
	defer a.db.Close()
	switch cmd {
	case "migrate":
		return nil
	case "createsuperuser":
		return createSuperuser(ctx, a.auth, args, os.Stdin, os.Stdout)
	case "verify-audit":
		return verifyAudit(ctx, a, os.Stdout)
	case "import-django":
		return importDjango(ctx, a, args, os.Stdout, os.Stderr)
	case "rotate-keys":
		n, err := database.RotateFieldKeys(ctx, a.db, 500)
		if err != nil {
			return err
		}
		fmt.Printf("re-sealed the medical fields of %d patients under key %s\n", n, models.FieldCipherInUse().CurrentKeyID())
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
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
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
	models.SetFieldCipher(fc)
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
	a := &app{cfg: cfg, log: log, db: db, store: database.New(db)}
	if withSecret {
		signer, err := auth.NewSigner([]byte(cfg.SecretKey), cfg.AccessTTL, cfg.RefreshTTL)
		if err != nil {
			db.Close()
			return nil, err
		}
		throttle := cfg.Throttle
		throttle.Counter = database.NewRateLimitStore(db)
		if cfg.RedisURL != "" {
			opts, err := redis.ParseURL(cfg.RedisURL)
			if err != nil {
				db.Close()
				return nil, fmt.Errorf("REDIS_URL: %w", err)
			}
			throttle.Counter = auth.RedisCounter{Client: redis.NewClient(opts)}
			log.Info("throttling counters: Redis")
		}
		a.auth = &auth.Service{Store: a.store, Signer: signer, Log: log, Throttle: &throttle}
	}
	return a, nil
}

// serve answers on ln until ctx is done, then lets in-flight requests finish.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      a.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.log.Info("listening", "addr", ln.Addr().String(), "graphql", "/graphql", "rest", "/api/", "admin", "/admin/")
	go a.purgeTokens(ctx)
	sealed := make(chan struct{})
	go func() { a.store.Audit.RunSealer(ctx, time.Second, a.log); close(sealed) }()
	defer func() { <-sealed }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: finishing in-flight requests")
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

// purgeTokens deletes long-expired refresh tokens every hour.
func (a *app) purgeTokens(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := database.NewRateLimitStore(a.db).Purge(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purge rate-limit counters", "err", err)
		}
		if n, err := a.auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purge expired refresh tokens", "err", err)
		} else if n > 0 {
			a.log.Info("purged expired refresh tokens", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
