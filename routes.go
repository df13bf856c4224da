package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"

	"healthcare/admin"
	"healthcare/auth"
	"healthcare/graph"
	"healthcare/playground"
	"healthcare/rest"
)

// routes builds the one router: shared middleware, then each adapter.
func (a *app) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(securityHeaders(a.cfg.TrustProxy))
	r.Use(auth.RequestInfo(a.cfg.TrustProxy))
	r.Use(accessLog(a.log))
	r.Use(recoverer(a.log))
	r.Use(limitBody(a.cfg.MaxBodyBytes))
	r.Use(middleware.Timeout(a.cfg.RequestTimeout))
	if len(a.cfg.CORSOrigins) > 0 {
		r.Use(cors.Handler(cors.Options{
			AllowedOrigins:   a.cfg.CORSOrigins,
			AllowedMethods:   []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id"},
			ExposedHeaders:   []string{"X-Request-Id", "Retry-After"},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}

	// Methods chi does not route (LOCK, FOO, ...) and unknown paths get the
	// JSON error of the API they were aimed at, never an empty body.
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, http.StatusNotFound, "Not found.")
	})

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.store.Ping(r.Context()); err != nil {
			a.log.Warn("readiness: database does not answer", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
	})

	gql := graph.NewHandler(graph.Options{
		Store: a.store, Auth: a.auth, Log: a.log, Introspection: a.cfg.Introspection, Debug: a.cfg.Debug,
		Limits: a.cfg.GraphQLLimits,
	})
	pg := playground.Handler("Healthcare GraphQL", "/graphql")
	r.Group(func(r chi.Router) {
		r.Use(a.auth.Middleware)
		r.Handle("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.RawQuery == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
				pg.ServeHTTP(w, r)
				return
			}
			gql.ServeHTTP(w, r)
		}))
		r.Mount("/api", rest.NewHandler(a.store, a.auth, a.log))
	})
	// The SDL, printed from the executable schema (what introspection
	// shows). graphql-inspector fetches a .graphql URL by POST.
	sdl := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(graph.SDL())
	}
	r.Get("/graphql/schema.graphql", sdl)
	r.Post("/graphql/schema.graphql", sdl)
	r.Mount("/graphql/assets", http.StripPrefix("/graphql/assets", playground.Assets()))
	r.Mount("/admin", admin.NewHandler(admin.Options{
		Store: a.store, Auth: a.auth, Log: a.log, Debug: a.cfg.Debug, SessionKey: []byte(a.cfg.SecretKey),
	}))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/graphql", http.StatusFound)
	})
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeAPIError answers in the envelope of the API a path belongs to: REST's
// {success, message} under /api, GraphQL's {errors} elsewhere.
func writeAPIError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
	}
	if strings.HasPrefix(r.URL.Path, "/api") {
		writeJSON(w, status, map[string]any{"success": false, "message": msg})
		return
	}
	code := "NOT_FOUND"
	if status == http.StatusMethodNotAllowed {
		code = "METHOD_NOT_ALLOWED"
	} else if status == http.StatusRequestEntityTooLarge {
		code = "BAD_REQUEST"
	}
	writeJSON(w, status, map[string]any{"errors": []any{map[string]any{"message": msg, "extensions": map[string]string{"code": code}}}})
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
			if status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", middleware.GetReqID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr),
			)
		})
	}
}

// recoverer turns a panic into a 500 that says nothing about its cause,
// logging the cause with the request id.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil || rec == http.ErrAbortHandler {
					if rec != nil {
						panic(rec)
					}
					return
				}
				log.ErrorContext(r.Context(), "panic", "request_id", middleware.GetReqID(r.Context()), "panic", rec)
				if strings.HasPrefix(r.URL.Path, "/api") {
					writeJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "message": "Internal server error."})
					return
				}
				writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []any{map[string]any{
					"message": "internal error", "extensions": map[string]string{"code": "INTERNAL_SERVER_ERROR"},
				}}})
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody caps every request body; reading past it fails, and each
// adapter answers 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				w.Header().Set("Connection", "close")
				writeAPIError(w, r, http.StatusRequestEntityTooLarge, "Request body is too large.")
				return
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
