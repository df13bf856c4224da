package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/internal/apptest"
	"healthcare/models"
	"healthcare/rest"
	"healthcare/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// maxBody is the body limit of the test server (the real one reads it from
// MAX_BODY_BYTES).
const maxBody = 64 << 10

// env is one test server over one database, with its OpenAPI document.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	db     *bun.DB
	svc    *auth.Service
	app    *apptest.App
	doc    *openapi3.T
	logBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// limitBody is the server's body limit (routes.go): a declared length over
// the limit is refused at once, and reading past it fails otherwise.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = io.WriteString(w, `{"success":false,"message":"Request body is too large."}`)
				return
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// MustEnv serves rest.NewHandler at /api behind the real auth middleware,
// mounted as routes.go mounts it, and loads the OpenAPI document it serves.
func MustEnv(t *testing.T, db *bun.DB) *env {
	t.Helper()
	buf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, nil))
	app := apptest.New(t, db, apptest.Options{Log: log})
	svc := app.Auth
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(web.RequestInfo(web.Origin{}))
	r.Use(limitBody(maxBody))
	r.Mount("/api", rest.NewHandler(rest.Options{Store: app.Store, Auth: svc, Audit: app.Audit, Log: log}))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, db: db, svc: svc, app: app, logBuf: buf}

	res, err := http.Get(srv.URL + "/api/schema/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load served OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served OpenAPI document is invalid: %v", err)
	}
	e.doc = doc
	return e
}

// user is a registered account with its tokens.
type user struct {
	id      int64
	email   string
	access  string
	refresh string
}

// MustUser registers an account through the auth service (argon2 costs
// ~25 ms: register each user once per database).
func (e *env) MustUser(name, email string) *user {
	e.t.Helper()
	res, err := e.svc.Register(context.Background(), models.RegisterInput{
		Name: name, Email: email, Password: "Str0ng-Passw0rd!", PasswordConfirm: "Str0ng-Passw0rd!",
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", email, err)
	}
	return &user{id: res.User.ID, email: email, access: res.Access, refresh: res.Refresh}
}

// response is an answer, its JSON decoded.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// req is one request of a table.
type req struct {
	method, path string
	token        string
	body         any    // marshalled to JSON unless a string (sent as is)
	contentType  string // default application/json when there is a body
	chunked      bool   // send without a Content-Length
}

// do sends rq and checks the answer against the OpenAPI document: the
// operation's schema for that status (which must be declared), or the Error
// schema for a path or method the document does not have.
func (e *env) do(t *testing.T, rq req) *response {
	t.Helper()
	var body io.Reader
	var payload []byte
	if rq.body != nil {
		switch b := rq.body.(type) {
		case string:
			payload = []byte(b)
		default:
			var err error
			if payload, err = json.Marshal(b); err != nil {
				t.Fatal(err)
			}
		}
		body = bytes.NewReader(payload)
		if rq.chunked {
			body = io.MultiReader(bytes.NewReader(payload)) // hides the length
		}
	}
	hr, err := http.NewRequest(rq.method, e.srv.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != nil {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		if ct != "none" {
			hr.Header.Set("Content-Type", ct)
		}
	}
	if rq.token != "" {
		hr.Header.Set("Authorization", "Bearer "+rq.token)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", rq.method, rq.path, err, raw)
		}
	}
	if rq.method != http.MethodHead && rq.method != http.MethodOptions {
		e.validate(t, hr, res, raw)
	}
	return out
}

func init() {
	// The docs page is text/html: checked as a string.
	openapi3filter.RegisterBodyDecoder("text/html", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

var pathSegment = regexp.MustCompile(`\{[^}]+\}`)

// validate checks one answer against the served document.
func (e *env) validate(t *testing.T, hr *http.Request, res *http.Response, raw []byte) {
	t.Helper()
	p := strings.TrimPrefix(hr.URL.Path, "/api")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	var route *routers.Route
	params := map[string]string{}
	// Static paths win over templated ones, as in the router.
	paths := e.doc.Paths.InMatchingOrder()
	for _, tmpl := range paths {
		re := regexp.MustCompile("^" + pathSegment.ReplaceAllString(tmpl, `([^/]+)`) + "$")
		m := re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		item := e.doc.Paths.Value(tmpl)
		op := item.GetOperation(hr.Method)
		if op == nil {
			break
		}
		names := pathSegment.FindAllString(tmpl, -1)
		for i, n := range names {
			params[strings.Trim(n, "{}")] = m[i+1]
		}
		route = &routers.Route{Spec: e.doc, Path: tmpl, PathItem: item, Method: hr.Method, Operation: op}
		break
	}
	if route == nil {
		if res.StatusCode < 400 {
			t.Errorf("%s %s answered %d but the OpenAPI document has no such operation", hr.Method, hr.URL.Path, res.StatusCode)
			return
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Errorf("%s %s: error body is not JSON: %s", hr.Method, hr.URL.Path, raw)
			return
		}
		if err := e.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s %s: %d body does not match Error: %v\n%s", hr.Method, hr.URL.Path, res.StatusCode, err, raw)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(raw)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: answer does not match the OpenAPI document: %v\n%s", hr.Method, hr.URL.Path, err, raw)
	}
}

// Accessors over a decoded body; a missing key fails the test.

func (r *response) path(t *testing.T, keys ...string) any {
	t.Helper()
	var cur any = r.body
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: not an object at %q in %s", keys, k, r.raw)
		}
		cur, ok = m[k]
		if !ok {
			t.Fatalf("%v: no key %q in %s", keys, k, r.raw)
		}
	}
	return cur
}

func (r *response) str(t *testing.T, keys ...string) string {
	t.Helper()
	s, ok := r.path(t, keys...).(string)
	if !ok {
		t.Fatalf("%v is not a string in %s", keys, r.raw)
	}
	return s
}

func (r *response) num(t *testing.T, keys ...string) float64 {
	t.Helper()
	n, ok := r.path(t, keys...).(float64)
	if !ok {
		t.Fatalf("%v is not a number in %s", keys, r.raw)
	}
	return n
}

func (r *response) id(t *testing.T) int64 { t.Helper(); return int64(r.num(t, "data", "id")) }

// errorFields returns the sorted keys of errors.
func (r *response) errorFields(t *testing.T) []string {
	t.Helper()
	m, ok := r.body["errors"].(map[string]any)
	if !ok {
		t.Fatalf("no errors object in %s", r.raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *response) firstError(t *testing.T, field string) string {
	t.Helper()
	msgs, ok := r.path(t, "errors", field).([]any)
	if !ok || len(msgs) == 0 {
		t.Fatalf("no messages for %s in %s", field, r.raw)
	}
	return msgs[0].(string)
}

func (r *response) results(t *testing.T) []map[string]any {
	t.Helper()
	list, ok := r.path(t, "data", "results").([]any)
	if !ok {
		t.Fatalf("no results in %s", r.raw)
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = x.(map[string]any)
	}
	return out
}

// expect checks the status and, for a failure, success=false.
func expect(t *testing.T, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if _, ok := r.body["success"]; ok {
		want := status < 400
		if got, _ := r.body["success"].(bool); got != want {
			t.Fatalf("success=%v with status %d: %s", got, status, r.raw)
		}
	}
}

// expectFields checks a 400 names exactly these fields in errors.
func expectFields(t *testing.T, r *response, fields ...string) {
	t.Helper()
	expect(t, r, http.StatusBadRequest)
	sort.Strings(fields)
	if got := r.errorFields(t); strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Fatalf("error fields %v, want %v: %s", got, fields, r.raw)
	}
}

// Golden files: documented envelopes with ids, times, tokens, ages and the
// server's address scrubbed.

var scrubKeys = map[string]string{
	"id": "<id>", "patient": "<id>", "doctor": "<id>", "mapping_id": "<id>", "patient_id": "<id>",
	"created_at": "<time>", "updated_at": "<time>", "date_joined": "<time>", "assigned_at": "<time>",
	"access": "<token>", "refresh": "<token>", "age": "<age>",
}

func scrub(v any, host string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if rep, ok := scrubKeys[k]; ok && val != nil {
				x[k] = rep
				continue
			}
			x[k] = scrub(val, host)
		}
	case []any:
		for i := range x {
			x[i] = scrub(x[i], host)
		}
	case string:
		return strings.ReplaceAll(x, host, "http://testserver")
	}
	return v
}

// golden compares r's body, scrubbed, with testdata/name.json (written
// with -update).
func (e *env) golden(t *testing.T, name string, r *response) {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.raw, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"status": r.status, "body": scrub(v, e.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	file := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./rest/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./rest/ -update rewrites it):\n got: %s\nwant: %s", file, got, want)
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
