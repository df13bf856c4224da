package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
	"healthcare/web"
)

// Options configures the GraphQL handler.
type Options struct {
	Store *database.Store
	Auth  *auth.Service
	// Audit gives each request a batch for its read events, written before
	// the answer; nil when nothing is audited.
	Audit *audit.Trail
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
	es := NewExecutableSchema(Config{Resolvers: &Resolver{Store: o.Store, Auth: o.Auth, Audit: o.Audit, Log: o.Log}, Complexity: complexityRoot()})
	srv := handler.New(es)
	srv.AddTransport(transport.Options{AllowedMethods: []string{"GET", "POST", "OPTIONS"}})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.SetDisableSuggestion(!o.Debug)
	if o.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)})
	srv.Use(limitsExt{limits: o.Limits, schema: es})
	srv.SetErrorPresenter(presentError(o.Log))
	srv.SetRecoverFunc(recoverPanic(o.Log))

	sizes := lru.New[int](queryCacheSize)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No transport here upgrades (there are no subscriptions), and
		// gqlgen refuses any request carrying Upgrade in text/plain: a
		// server may ignore the header (RFC 9110, 7.8), so this one does.
		r.Header.Del("Upgrade")
		var query string
		switch r.Method {
		case http.MethodGet:
			// gqlgen answers a malformed query string in text/plain.
			params, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeErr(w, http.StatusBadRequest, "the query string is malformed")
				return
			}
			query = params.Get("query")
		case http.MethodOptions:
		case http.MethodPost:
			// gqlgen answers any other Content-Type with a text/plain 400
			// ("transport not supported").
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeErr(w, http.StatusUnsupportedMediaType, "send the operation as JSON with Content-Type: application/json")
				return
			}
			// gqlgen echoes an undecodable body in its error and does not
			// tell an over-long body apart; answer both here instead.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				status, msg := web.BodyError(err)
				if status == http.StatusRequestTimeout {
					o.Log.WarnContext(r.Context(), "graphql: request body not read in time", "err", err)
				}
				w.Header().Set("Connection", "close")
				writeErr(w, status, msg)
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
			// Valid JSON of the wrong shape ("variables": [], a bare
			// number) fails gqlgen's decoding too, and its error for that
			// echoes the whole body back: answer it here as well.
			q, msg := decodeRequest(body)
			if msg != "" {
				writeErr(w, http.StatusBadRequest, msg)
				return
			}
			query = q
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST")
			writeErr(w, http.StatusMethodNotAllowed, "use POST, or GET for queries")
			return
		}
		if query != "" {
			n, ok := sizes.Get(r.Context(), query)
			if !ok {
				n = selectionCount(query)
				sizes.Add(r.Context(), query, n)
			}
			if n > maxSelections {
				writeTooComplex(w, fmt.Sprintf("The operation selects more than %d fields once its fragments are expanded.", maxSelections))
				return
			}
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
	if o.Audit != nil {
		h = o.Audit.Middleware(func(w http.ResponseWriter, _ *http.Request, _ error) {
			writeUnavailable(w)
		})(h)
	}
	return h
}

// writeUnavailable answers that the database could not record the request
// (the audit trail must be written before data goes out).
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": "The service is temporarily unavailable; try again shortly.", "extensions": map[string]string{"code": string(models.CodeUnavailable)},
	}}})
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

// decodeRequest returns the query of a JSON body, or describes a body that
// does not decode as a GraphQL request the way gqlgen's POST transport
// decodes one (same fields, same case-insensitive names). It names the
// field, never its value.
func decodeRequest(body []byte) (query, problem string) {
	var params struct {
		Query         string                     `json:"query"`
		OperationName string                     `json:"operationName"`
		Variables     map[string]json.RawMessage `json:"variables"`
		Extensions    map[string]json.RawMessage `json:"extensions"`
	}
	err := json.Unmarshal(body, &params)
	if err == nil {
		return params.Query, ""
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "", fmt.Sprintf("the request body is not a GraphQL request: %s must not be a JSON %s", te.Field, te.Value)
	}
	return "", "the request body is not a GraphQL request: send a JSON object with query, variables and operationName"
}

// maxSelections bounds the fields of one document once its fragment
// spreads are expanded. gqlgen validates a document before any limit of
// limits.go is checked, and its validation compares fields pairwise and
// walks every spread anew: 4,000 repeats of one field cost seconds, and
// fragments that each spread the next twice grow exponentially. The
// documented queries select fewer than 200; GraphiQL's introspection
// query about 250.
const maxSelections = 500

// selectionCount is the number of fields the query selects with every
// fragment spread expanded (each fragment counted once and memoized, so
// this is linear in the document), stopping early past maxSelections. A
// document that does not parse counts 0: gqlgen reports its syntax error.
func selectionCount(query string) int {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, parserTokenLimit)
	if err != nil {
		return 0
	}
	frags := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	memo := map[string]int{}
	visiting := map[string]bool{}
	var count func(ast.SelectionSet) int
	count = func(set ast.SelectionSet) int {
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n += 1 + count(s.SelectionSet)
			case *ast.InlineFragment:
				n += count(s.SelectionSet)
			case *ast.FragmentSpread:
				c, ok := memo[s.Name]
				if f := frags[s.Name]; !ok && f != nil && !visiting[s.Name] {
					// An unknown or cyclic spread adds nothing: the
					// validator refuses it.
					visiting[s.Name] = true
					c = count(f.SelectionSet)
					visiting[s.Name] = false
					memo[s.Name] = c
				}
				n += c
			}
			if n > maxSelections {
				return n
			}
		}
		return n
	}
	total := 0
	for _, op := range doc.Operations {
		if total += count(op.SelectionSet); total > maxSelections {
			return total
		}
	}
	for _, f := range doc.Fragments {
		if _, used := memo[f.Name]; !used {
			if total += count(f.SelectionSet); total > maxSelections {
				return total
			}
		}
	}
	return total
}

// writeTooComplex refuses an operation as limits.go does: HTTP 200 with
// QUERY_TOO_COMPLEX.
func writeTooComplex(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{"data": nil, "errors": []any{map[string]any{
		"message": msg, "extensions": map[string]string{"code": CodeTooComplex},
	}}})
}

// noIntrospection refuses __schema and __type while introspection is off.
// Without it gqlgen runs the operation and fails those fields with a plain
// error, which the presenter can only take for an internal one (logged at
// ERROR, answered INTERNAL_SERVER_ERROR); up front it is the validation
// error it is.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses a query that selects __schema or __type.
func (noIntrospection) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || rc.Operation.Operation != ast.Query {
		return nil
	}
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name == "__schema" || f.Name == "__type" {
			err := gqlerror.ErrorPosf(f.Position, "introspection is disabled")
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	}
	return nil
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]string{"code": "BAD_REQUEST"},
	}}})
}
