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
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	gqlparser "github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
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
	// the answer (required; Trail.SetOff turns recording off in tests).
	Audit *audit.Trail
	Log   *slog.Logger
	// Introspection says who may send __schema and __type queries; empty
	// means IntrospectionAuthenticated.
	Introspection Introspection
	// Debug turns on "Did you mean ...?" suggestions in validation errors.
	Debug bool
	// Limits bound each operation; zero fields take DefaultLimits.
	Limits Limits
	// Subscriptions configures the websocket subscriptions are served on;
	// zero fields take DefaultSubscriptions.
	Subscriptions Subscriptions
	// Extensions are added to the executor after the built-in ones
	// (metrics and tracing); they see every operation, refused or run.
	Extensions []graphql.HandlerExtension
}

// Introspection is the policy for __schema and __type queries.
type Introspection string

// The introspection policies (GRAPHQL_INTROSPECTION).
const (
	// IntrospectionOff refuses introspection to everyone.
	IntrospectionOff Introspection = "off"
	// IntrospectionAuthenticated allows it with any valid access token.
	IntrospectionAuthenticated Introspection = "authenticated"
	// IntrospectionPublic allows it to anonymous clients too.
	IntrospectionPublic Introspection = "public"
)

// ParseIntrospection reads a policy name: off, authenticated or public.
// The booleans of older configurations are accepted too: true is public,
// false is off.
func ParseIntrospection(s string) (Introspection, error) {
	switch p := Introspection(strings.ToLower(strings.TrimSpace(s))); p {
	case IntrospectionOff, IntrospectionAuthenticated, IntrospectionPublic:
		return p, nil
	}
	if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
		if b {
			return IntrospectionPublic, nil
		}
		return IntrospectionOff, nil
	}
	return "", fmt.Errorf("%q is not an introspection policy (use off, authenticated or public)", s)
}

// Limits of what one request may ask the parser for.
const (
	parserTokenLimit = 15000
	queryCacheSize   = 1000
	apqCacheSize     = 1000
)

// The media types of a GraphQL response (GraphQL over HTTP).
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Schema is the schema the endpoint executes and introspection describes:
// the schema files less @defer, which needs an incremental-delivery
// transport this server does not offer (a query using it is refused as
// an unknown directive rather than answered without its deferred parts).
// @deprecated keeps the locations of the spec, so the printed SDL loads in
// graphql-js.
var Schema = func() *ast.Schema {
	s := gqlparser.MustLoadSchema(sources...)
	delete(s.Directives, "defer")
	if d := s.Directives["deprecated"]; d != nil {
		d.Locations = slices.DeleteFunc(d.Locations, func(l ast.DirectiveLocation) bool {
			return l == ast.DirectiveLocation("DIRECTIVE_DEFINITION")
		})
	}
	return s
}()

var sdl = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	buf.WriteString("# The healthcare GraphQL schema, as introspection describes it.\n")
	// The spec has SDL omit the built-in scalars (graphql-js and gqlparser
	// refuse to load them twice); the built-in directives stay, as
	// introspection lists them.
	printable := *Schema
	printable.Types = map[string]*ast.Definition{}
	for name, def := range Schema.Types {
		if !def.BuiltIn || !slices.Contains([]string{"Int", "Float", "String", "Boolean", "ID"}, name) {
			printable.Types[name] = def
		}
	}
	var printed bytes.Buffer
	formatter.NewFormatter(&printed, formatter.WithIndent("  "), formatter.WithNonIntrospectionBuiltin()).FormatSchema(&printable)
	// The formatter runs definitions together; a blank line before each
	// (and before its description) makes the file readable.
	inBlock, described := false, false
	for line := range strings.Lines(printed.String()) {
		switch {
		case strings.HasPrefix(line, `"""`):
			if inBlock {
				inBlock, described = false, true
			} else {
				buf.WriteByte('\n')
				inBlock = strings.Count(line, `"""`) == 1
				described = !inBlock
			}
		case inBlock:
		case strings.HasPrefix(line, `"`):
			buf.WriteByte('\n')
			described = true
		case line != "" && line[0] >= 'a' && line[0] <= 'z':
			if !described {
				buf.WriteByte('\n')
			}
			described = false
		}
		buf.WriteString(line)
	}
	return buf.Bytes()
})

// SDL is Schema in the schema definition language, built-in directives
// included: served at /graphql/schema.graphql, so tools that read SDL see
// exactly what introspection shows.
func SDL() []byte { return sdl() }

// NewHandler returns the GraphQL endpoint: POST JSON for queries and
// mutations, GET for queries only, answering in application/json or, when
// the client asks for it, application/graphql-response+json (GraphQL over
// HTTP); and subscriptions over a websocket at the same URL
// (graphql-transport-ws, websocket.go). It expects auth's Middleware before
// it.
func NewHandler(o Options) http.Handler {
	if o.Store == nil || o.Auth == nil || o.Audit == nil {
		panic("graph: Options.Store, Auth and Audit are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits
	}
	if o.Introspection == "" {
		o.Introspection = IntrospectionAuthenticated
	}
	es := NewExecutableSchema(Config{Schema: Schema, Resolvers: &Resolver{Store: o.Store, Auth: o.Auth, Audit: o.Audit, Log: o.Log}, Complexity: complexityRoot()})
	exec := executor.New(es)
	exec.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	exec.SetParserTokenLimit(parserTokenLimit)
	exec.SetDisableSuggestion(!o.Debug)
	exec.SetDefaultRulesFn(validationRules(o.Debug))
	exec.Use(introspectionPolicy(o.Introspection))
	exec.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)})
	exec.Use(&preflight{schema: Schema, docs: lru.New[*inspected](queryCacheSize)})
	exec.Use(limitsExt{limits: o.Limits, schema: es})
	exec.Use(projectionExt{newProjector(o.Store.DB(), Schema)})
	exec.Use(wsOperations{})
	exec.Use(wsEvents{store: o.Store, audit: o.Audit, log: o.Log})
	for _, e := range o.Extensions {
		exec.Use(e)
	}
	exec.SetErrorPresenter(presentError(o.Log))
	exec.SetRecoverFunc(recoverPanic(o.Log))

	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		media := negotiate(r.Header.Get("Accept"))
		var params *graphql.RawParams
		switch r.Method {
		case http.MethodGet:
			p, msg := paramsFromURL(r.URL.RawQuery)
			if msg != "" {
				writeErr(w, media, http.StatusBadRequest, msg)
				return
			}
			params = p
		case http.MethodPost:
			p, status, msg := paramsFromBody(r)
			if msg != "" {
				writeErr(w, media, status, msg)
				return
			}
			params = p
		case http.MethodOptions:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			w.Header().Set("Allow", "GET, POST")
			writeErr(w, media, http.StatusMethodNotAllowed, "use POST, or GET for queries")
			return
		}
		if params.Query == "" && params.Extensions["persistedQuery"] == nil {
			writeErr(w, media, http.StatusBadRequest, "the request has no query: send the operation's text as the query parameter")
			return
		}
		params.Headers = r.Header

		reqCtx := r.Context()
		ctx := withLoaders(reqCtx, newLoaders(o.Store, func() models.Viewer {
			v, _ := auth.ViewerFrom(reqCtx)
			return v
		}))
		flag := &unavailableFlag{}
		ctx = context.WithValue(ctx, unavailableKey{}, flag)
		ctx = graphql.StartOperationTrace(ctx)
		w = &statusWriter{ResponseWriter: w, flag: flag}
		w.Header().Set("Content-Type", media+"; charset=utf-8")
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec) // a deliberately cut answer (audit.Trail.Middleware)
				}
				err := exec.PresentRecoveredError(ctx, rec)
				gqlErr, _ := err.(*gqlerror.Error)
				w.WriteHeader(http.StatusInternalServerError)
				writeResponse(w, &graphql.Response{Errors: gqlerror.List{gqlErr}})
			}
		}()

		rc, errs := exec.CreateOperationContext(ctx, params)
		if errs != nil {
			// Nothing ran: GraphQL over HTTP wants 4xx in its own media
			// type and 200 in application/json, with no data entry in
			// either.
			resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
			status := http.StatusOK
			if media == mediaGraphQLResponse {
				status = http.StatusBadRequest
			}
			w.WriteHeader(status)
			writeResponse(w, resp)
			return
		}
		if r.Method == http.MethodGet && rc.Operation.Operation != ast.Query {
			w.Header().Set("Allow", "POST")
			writeErr(w, media, http.StatusMethodNotAllowed, "GET requests may only run queries; send mutations by POST")
			return
		}
		if rc.Operation.Operation == ast.Subscription {
			writeErr(w, media, http.StatusBadRequest, "subscriptions run over a websocket at this URL with the graphql-transport-ws protocol (the graphql-ws client), not over HTTP")
			return
		}
		responses, ctx := exec.DispatchOperation(ctx, rc)
		resp := responses(ctx)
		w.WriteHeader(http.StatusOK)
		writeResponse(w, resp)
	})
	h = o.Audit.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
		me := models.Unavailable(err)
		web.SetRetryAfter(w, me)
		writeErrCode(w, negotiate(r.Header.Get("Accept")), web.Status(me.Code), me.Message, string(me.Code))
	})(h)
	// A websocket is not one request: each of its events gets its own
	// loaders and audit batch (wsEvents).
	ws := newWSServer(o, exec)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			ws.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// negotiate picks the response media type from an Accept header: the
// GraphQL response type only when the client ranks it at least as high as
// application/json; anything else (no header, */*, text/html) gets
// application/json.
func negotiate(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	best, bestQ := mediaJSON, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		switch mt {
		case mediaGraphQLResponse:
			if q > 0 && q > bestQ {
				best, bestQ = mediaGraphQLResponse, q
			}
		case mediaJSON, "application/*", "*/*":
			if q > 0 && q >= bestQ {
				best, bestQ = mediaJSON, q
			}
		}
	}
	return best
}

// paramsFromURL reads a GET request's query, operationName, variables and
// extensions. It never echoes what it could not read.
func paramsFromURL(raw string) (*graphql.RawParams, string) {
	// gqlgen would answer a malformed query string in text/plain.
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, "the query string is malformed"
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if err := decodeJSON([]byte(v), dst); err != nil {
			return nil, name + " must be a JSON object"
		}
	}
	return p, ""
}

// paramsFromBody reads a POST body: JSON in UTF-8, one operation. On a
// problem it returns the status and a message that names the problem and
// never quotes the body (gqlgen's own decoder echoes it).
func paramsFromBody(r *http.Request) (*graphql.RawParams, int, string) {
	mt, mtParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaJSON {
		return nil, http.StatusUnsupportedMediaType, "send the operation as JSON with Content-Type: application/json"
	}
	if cs, ok := mtParams["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, http.StatusUnsupportedMediaType, "the request body must be UTF-8: use Content-Type: application/json or application/json; charset=utf-8"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// Too large (413), too slow (408) or cut off (400).
		status, msg := web.BodyError(err)
		return nil, status, msg
	}
	if !utf8.Valid(body) {
		return nil, http.StatusBadRequest, "the request body is not valid UTF-8"
	}
	if !json.Valid(body) {
		return nil, http.StatusBadRequest, "the request body is not valid JSON"
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		// One operation per request: a batch would multiply every
		// per-operation limit.
		return nil, http.StatusBadRequest, "batched operations are not supported; send one operation per request"
	}
	var p graphql.RawParams
	if err := decodeJSON(body, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, http.StatusBadRequest, fmt.Sprintf("the request body is not a GraphQL request: %s must not be a JSON %s", te.Field, te.Value)
		}
		return nil, http.StatusBadRequest, "the request body is not a GraphQL request: send a JSON object with query, variables and operationName"
	}
	return &p, 0, ""
}

// decodeJSON decodes as gqlgen's transports do: numbers stay json.Number,
// so an Int variable is checked from its text, not a rounded float.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// writeResponse writes a GraphQL response; a response without data (a
// request refused before execution) has no data entry at all.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil {
		resp = &graphql.Response{}
	}
	// The data is gqlgen's own JSON: copied as it is, not re-scanned and
	// re-escaped by encoding/json (a tenth of a list's CPU).
	b := make([]byte, 0, len(resp.Data)+64)
	b = append(b, '{')
	sep := func() {
		if len(b) > 1 {
			b = append(b, ',')
		}
	}
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			errs = []byte(`[{"message":"internal error"}]`)
		}
		b = append(append(b, `"errors":`...), errs...)
	}
	if len(resp.Data) > 0 {
		sep()
		b = append(append(b, `"data":`...), resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		if ext, err := json.Marshal(resp.Extensions); err == nil {
			sep()
			b = append(append(b, `"extensions":`...), ext...)
		}
	}
	b = append(b, "}\n"...)
	_, _ = w.Write(b)
}

// writeErr answers a request that is not a GraphQL request at all (wrong
// method, media type or body) with one error coded BAD_REQUEST.
func writeErr(w http.ResponseWriter, media string, status int, msg string) {
	writeErrCode(w, media, status, msg, "BAD_REQUEST")
}

// writeErrCode answers with one error of the given code.
func writeErrCode(w http.ResponseWriter, media string, status int, msg, code string) {
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	if status == http.StatusRequestTimeout || status == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]string{"code": code},
	}}})
}

// maxSelections bounds the fields of one document once its fragment
// spreads are expanded. gqlgen validates a document before any limit of
// limits.go is checked, and its validation compares fields pairwise and
// walks every spread anew: 4,000 repeats of one field cost seconds, and
// fragments that each spread the next twice grow exponentially. The
// documented queries select fewer than 200; GraphiQL's introspection
// query about 250.
const maxSelections = 500

// inspected is what preflight learns of a query once (and caches).
type inspected struct {
	doc        *ast.QueryDocument // nil when the query does not parse
	selections int
}

// preflight checks an operation before gqlgen validates it: the size of
// the document (see maxSelections) and the numbers among its variables
// (gqlparser answers "cannot use value 0 as Int" for 1e40). It runs after
// the persisted-query extension, so it sees the query text of a hash too.
type preflight struct {
	schema *ast.Schema
	docs   *lru.LRU[*inspected]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = &preflight{}

func (*preflight) ExtensionName() string                   { return "Preflight" }
func (*preflight) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters refuses an oversized document or an
// out-of-range number, and writes whole-number floats (20.0) of Int
// variables as integers.
func (p *preflight) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if raw.Query == "" {
		return nil
	}
	in, ok := p.docs.Get(ctx, raw.Query)
	if !ok {
		in = &inspected{}
		if doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: raw.Query}, parserTokenLimit); err == nil {
			in.doc = doc
			in.selections = selectionCount(doc)
		}
		p.docs.Add(ctx, raw.Query, in)
	}
	if in.selections > maxSelections {
		return tooComplex("The operation selects more than %d fields once its fragments are expanded.", maxSelections)
	}
	if in.doc == nil {
		return nil // the executor reports the syntax error
	}
	op := in.doc.Operations.ForName(raw.OperationName)
	if op == nil {
		return nil
	}
	return checkVariables(p.schema, in.doc, op, raw.Variables)
}

// selectionCount is the number of fields the document selects with every
// fragment spread expanded (each fragment counted once and memoized, so
// this is linear in the document), stopping early past maxSelections.
func selectionCount(doc *ast.QueryDocument) int {
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

// introspectionPolicy lets __schema and __type through according to the
// policy, and refuses them up front otherwise. Without it gqlgen runs the
// operation and fails those fields with a plain error, which the presenter
// can only take for an internal one.
type introspectionPolicy Introspection

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionPolicy("")

func (introspectionPolicy) ExtensionName() string                   { return "IntrospectionPolicy" }
func (introspectionPolicy) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext allows or refuses a query that selects __schema
// or __type.
func (p introspectionPolicy) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || rc.Operation.Operation != ast.Query {
		return nil
	}
	var at *ast.Position
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name == "__schema" || f.Name == "__type" {
			at = f.Position
			break
		}
	}
	if at == nil {
		return nil
	}
	switch Introspection(p) {
	case IntrospectionPublic:
		rc.DisableIntrospection = false
		return nil
	case IntrospectionAuthenticated:
		v, err := auth.ViewerFrom(ctx)
		if err == nil && !v.Anonymous() {
			rc.DisableIntrospection = false
			return nil
		}
		if err == nil {
			err = models.Unauthenticated("Introspection needs a signed-in user: send Authorization: Bearer <access token>. The schema is public at /graphql/schema.graphql.")
		}
		gqlErr := gqlerror.WrapPath(nil, err)
		gqlErr.Locations = []gqlerror.Location{{Line: at.Line, Column: at.Column}}
		return gqlErr
	}
	err := gqlerror.ErrorPosf(at, "introspection is disabled on this server; the schema is at /graphql/schema.graphql")
	errcode.Set(err, errcode.ValidationFailed)
	return err
}
