// Package apptest wires the real stack (stores, audit trail, auth service,
// field cipher, change notifier) over a test database, the way the server
// wires it, for the adapters' tests.
package apptest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
)

// Secret is the signing key of test tokens.
const Secret = "test-secret-test-secret-test-secret-0123"

// App is the wired stack over one database.
type App struct {
	DB       *bun.DB
	Store    *database.Store
	Audit    *audit.Trail
	Auth     *auth.Service
	Cipher   *database.FieldCipher
	Notifier *database.Notifier
	Log      *slog.Logger
}

// Options adjust the stack.
type Options struct {
	Log      *slog.Logger
	Throttle *auth.Throttle
	Hasher   *auth.Hasher
	// SessionCache as auth.Options (0: the default).
	SessionCache time.Duration
}

// New wires the stack over db. The cipher has a fresh random key.
func New(tb testing.TB, db *bun.DB, o Options) *App {
	tb.Helper()
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cipher, err := database.NewFieldCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	n := database.NewNotifier(database.IsPostgres(db))
	trail := audit.New(db, o.Log)
	store := database.New(db, database.Options{Auditor: trail, Cipher: cipher, Notifier: n})
	signer, err := auth.NewSigner([]byte(Secret), 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	svc := auth.NewService(store, signer, auth.Options{
		Log: o.Log, Throttle: o.Throttle, Hasher: o.Hasher, SessionCache: o.SessionCache,
	})
	if database.IsPostgres(db) {
		// As the server does: hear other nodes' changes, which also lets
		// the session cache work.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.Listen(ctx, db, o.Log); close(done) }()
		tb.Cleanup(func() { cancel(); <-done })
		deadline := time.Now().Add(10 * time.Second)
		for !n.Connected() {
			if time.Now().After(deadline) {
				tb.Fatal("change notifications did not connect")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return &App{DB: db, Store: store, Audit: trail, Auth: svc, Cipher: cipher, Notifier: n, Log: o.Log}
}
