package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
)

// Options configures the GraphQL handler.
type Options struct {
	Store *database.Store
	Auth  *auth.Service
	Log   *slog.Logger
	// Introspection allows __schema queries (on in debug mode by default).
	Introspection bool
	Debug         bool
	// Limits bound each operation; zero fields take DefaultLimits.
	Limits Limits
}

// Limits of what one request may ask the parser for.
const (
	parserTokenLimit = 15000
	queryCacheSize   = 1000
	apqCacheSize     = 1000
)

// NewHandler returns the GraphQL endpoint: POST JSON for every operation,
// GET for queries only. It expects auth's Middleware before it.
func NewHandler(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits
	}
	es := NewExecutableSchema(Config{Resolvers: &Resolver{Store: o.Store, Auth: o.Auth, Log: o.Log}, Complexity: complexityRoot()})
	srv := handler.New(es)
	srv.AddTransport(transport.Options{AllowedMethods: []string{"GET", "POST", "OPTIONS"}})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.SetDisableSuggestion(!o.Debug)
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)})
	srv.Use(limitsExt{limits: o.Limits, schema: es})
	srv.SetErrorPresenter(presentError(o.Log))
	srv.SetRecoverFunc(recoverPanic(o.Log))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodOptions:
		case http.MethodPost:
			// gqlgen echoes an undecodable body in its error and does not
			// tell an over-long body apart; answer both here instead.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					writeErr(w, http.StatusRequestEntityTooLarge, "request body is too large")
					return
				}
				writeErr(w, http.StatusBadRequest, "could not read the request body")
				return
			}
			if !json.Valid(body) {
				writeErr(w, http.StatusBadRequest, "the request body is not valid JSON")
				return
			}
			if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
				// One operation per request: a batch would multiply every
				// per-operation limit.
				writeErr(w, http.StatusBadRequest, "batched operations are not supported; send one operation per request")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST")
			writeErr(w, http.StatusMethodNotAllowed, "use POST, or GET for queries")
			return
		}
		reqCtx := r.Context()
		ctx := withLoaders(reqCtx, newLoaders(o.Store, func() models.Viewer {
			v, _ := auth.ViewerFrom(reqCtx)
			return v
		}))
		flag := &unavailableFlag{}
		ctx = context.WithValue(ctx, unavailableKey{}, flag)
		w = &statusWriter{ResponseWriter: w, flag: flag}
		if r.Method == http.MethodGet {
			w = &getOnlyQueries{ResponseWriter: w}
		}
		srv.ServeHTTP(w, r.WithContext(ctx))
	})
}

// getOnlyQueries turns gqlgen's 406 for a mutation sent by GET into the 405
// (with Allow: POST) that GraphQL over HTTP asks for.
type getOnlyQueries struct{ http.ResponseWriter }

func (g *getOnlyQueries) WriteHeader(code int) {
	if code == http.StatusNotAcceptable {
		g.Header().Set("Allow", "POST")
		code = http.StatusMethodNotAllowed
	}
	g.ResponseWriter.WriteHeader(code)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]string{"code": "BAD_REQUEST"},
	}}})
}
