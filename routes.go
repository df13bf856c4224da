package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"

	"healthcare/admin"
	"healthcare/graph"
	"healthcare/observe"
	"healthcare/playground"
	"healthcare/rest"
	"healthcare/web"
)

// routes builds the server's handler: the middleware every request passes
// through (request id, metrics and the request's span, where it comes
// from, access log, last-resort recovery, body limit, timeout, CORS), then
// a dispatch by path to each
// adapter, which owns its headers, its error bodies, its 404s and 405s
// (for every method, even ones no router knows) and its recovery.
func (a *app) routes() http.Handler {
	mws := chi.Middlewares{
		middleware.RequestID,
		observe.HTTP(a.metrics, a.tracing),
		web.RequestInfo(web.Origin{TrustProxy: a.cfg.TrustProxy, PublicURL: a.cfg.PublicURL}),
		accessLog(a.log),
		// The last resort for a panic outside every adapter's own recovery.
		web.Recover(a.log, "server", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "message": "Internal server error."})
		}),
		limitBody(a.cfg.MaxBodyBytes),
		timeout(a.cfg.RequestTimeout),
	}
	if len(a.cfg.CORSOrigins) > 0 {
		mws = append(mws, cors.Handler(cors.Options{
			AllowedOrigins:   a.cfg.CORSOrigins,
			AllowedMethods:   []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id"},
			ExposedHeaders:   []string{"X-Request-Id", "Retry-After"},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}

	mux := http.NewServeMux()
	subs := a.cfg.Subscriptions
	subs.AllowedOrigins, subs.Done = a.cfg.CORSOrigins, a.stopping
	gql := graph.NewHandler(graph.Options{
		Store: a.store, Auth: a.auth, Audit: a.audit, Log: a.log, Introspection: a.cfg.Introspection, Debug: a.cfg.Debug,
		Limits: a.cfg.GraphQLLimits, Subscriptions: subs,
		Extensions: []graphql.HandlerExtension{observe.GraphQL(a.metrics, a.tracing)},
	})
	pg := playground.Handler("Healthcare GraphQL", "/graphql")
	mux.Handle("/graphql", web.Headers(web.APIPolicy, "")(a.auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.RawQuery == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
			pg.ServeHTTP(w, r)
			return
		}
		gql.ServeHTTP(w, r)
	}))))
	files := chi.NewRouter()
	files.Use(web.Headers(web.APIPolicy, "/graphql/assets/"))
	// The SDL, printed from the executable schema (what introspection
	// shows). graphql-inspector fetches a .graphql URL by POST.
	sdl := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(graph.SDL())
	}
	files.Get("/graphql/schema.graphql", sdl)
	files.Post("/graphql/schema.graphql", sdl)
	files.Mount("/graphql/assets", http.StripPrefix("/graphql/assets", playground.Assets()))
	files.NotFound(notFound)
	files.MethodNotAllowed(notAllowed)
	mux.Handle("/graphql/", files)
	mount(mux, "/api", rest.NewHandler(rest.Options{Store: a.store, Auth: a.auth, Audit: a.audit, Log: a.log}))
	mount(mux, "/admin", admin.NewHandler(admin.Options{Store: a.store, Auth: a.auth, Audit: a.audit, Log: a.log}))

	// What no adapter serves: a JSON 404/405 with the API headers.
	root := chi.NewRouter()
	root.Use(web.Headers(web.APIPolicy, ""))
	root.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	root.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.store.Ping(r.Context()); err != nil {
			a.log.WarnContext(r.Context(), "readiness: database does not answer", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
	})
	root.Get("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/graphql", http.StatusFound)
	})
	root.NotFound(notFound)
	root.MethodNotAllowed(notAllowed)
	mux.Handle("/", root)
	return mws.Handler(observe.MuxPattern(mux))
}

// mount serves h, a router of its own, at prefix: h sees the whole path,
// and every request under prefix, whatever its method, reaches h, so it
// answers its own 404s and 405s in its own format.
func mount(mux *http.ServeMux, prefix string, h http.Handler) {
	shim := chi.NewRouter()
	shim.NotFound(h.ServeHTTP)
	shim.MethodNotAllowed(h.ServeHTTP)
	shim.Mount(prefix, h)
	mux.Handle(prefix, shim)
	mux.Handle(prefix+"/", shim)
}

// notFound is the answer for a path no adapter serves.
// Its router's web.Headers gives it the security headers.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "message": "Not found."})
}

// notAllowed is the answer for a method a path outside the adapters does
// not take.
func notAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"success": false, "message": "Method not allowed."})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// accessLog writes one structured line per request.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			switch {
			case status == http.StatusServiceUnavailable || status == http.StatusRequestTimeout:
				level = slog.LevelWarn
			case status >= 500:
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", middleware.GetReqID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", observe.Route(r.Context())),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr),
			)
		})
	}
}

// timeout is middleware.Timeout for every request but a websocket upgrade,
// which lasts as long as the connection (GraphQL subscriptions, which end
// their connections themselves).
func timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		limited := middleware.Timeout(d)(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				next.ServeHTTP(w, r)
				return
			}
			limited.ServeHTTP(w, r)
		})
	}
}

// limitBody caps every request body: reading past n fails with
// *http.MaxBytesError, which each adapter answers with its own 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil && n > 0 {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
