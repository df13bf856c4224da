package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"healthcare/database"
	"healthcare/observe"
)

// observe sets up the app's metrics and tracing, instruments its
// database, and opens the read replica when one is configured (withReplica:
// every command but migrate).
func (a *app) observe(ctx context.Context, withReplica bool) error {
	b := readBuildInfo()
	a.metrics = observe.NewMetrics(observe.Build{Version: b.Version, Commit: b.Commit})
	tr, err := observe.NewTracing(ctx, observe.TracingOptions{Endpoint: a.cfg.OTLPEndpoint, Service: a.cfg.ServiceName, Version: b.Version})
	if err != nil {
		return err
	}
	a.tracing = tr
	if tr.Enabled() {
		a.log.Info("tracing: OTLP/HTTP", "endpoint", database.RedactURL(a.cfg.OTLPEndpoint), "service", a.cfg.ServiceName)
	}
	system := "sqlite"
	if database.IsPostgres(a.db) {
		system = "postgresql"
	}
	a.db.AddQueryHook(observe.QueryHook(a.metrics, tr, "primary", system))
	a.metrics.WatchDB("primary", a.db.DB)
	a.metrics.WatchNotifier(a.notifier)
	if a.cfg.ReplicaURL == "" || !withReplica {
		return nil
	}
	if system != "postgresql" {
		return errors.New("DATABASE_REPLICA_URL: a read replica needs PostgreSQL (DATABASE_URL); the embedded database has none")
	}
	r, err := database.OpenReplica(ctx, a.cfg.ReplicaURL, a.cfg.DBMaxConns, a.db, a.notifier, a.log)
	if err != nil {
		return err
	}
	a.log.Info("read replica", "url", database.RedactURL(a.cfg.ReplicaURL), "up", r.Up())
	r.DB().AddQueryHook(observe.QueryHook(a.metrics, tr, "replica", system))
	a.metrics.WatchDB("replica", r.DB().DB)
	a.metrics.WatchReplica(r)
	r.OnRead = a.metrics.ReplicaRead
	r.OnFallback = a.metrics.ReplicaFallback
	a.replica = r
	return nil
}

// close closes the databases and sends the spans still buffered.
func (a *app) close() {
	if a.replica != nil {
		a.replica.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tracing.Shutdown(ctx); err != nil {
		a.log.Warn("tracing: sending the last spans", "err", err)
	}
	a.db.Close()
}

// serveMetrics serves /metrics (and the profiler with PPROF) on
// METRICS_ADDR until ctx ends or stop is called; without METRICS_ADDR it
// does nothing.
func (a *app) serveMetrics(ctx context.Context) (stop func(), err error) {
	if a.cfg.MetricsAddr == "" {
		if a.cfg.Pprof {
			a.log.Warn("PPROF is on but METRICS_ADDR is not set: the profiler is served only on the metrics address")
		}
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           a.metrics.Handler(a.cfg.Pprof),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.log.Info("metrics listening", "addr", ln.Addr().String(), "metrics", "/metrics", "pprof", a.cfg.Pprof)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics server", "err", err)
		}
	}()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return func() { close(done) }, nil
}
