package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/trace"
)

// TestRoutePatternNotPath: requests are labelled by the pattern their
// router matched, never by the raw path; a path nothing serves is
// "unmatched".
func TestRoutePatternNotPath(t *testing.T) {
	m := NewMetrics(Build{Version: "test"})
	api := chi.NewRouter()
	api.Get("/patients/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	shim := chi.NewRouter()
	shim.Mount("/api", api)
	root := chi.NewRouter()
	root.NotFound(http.NotFound)
	mux := http.NewServeMux()
	mux.Handle("/api/", shim)
	mux.Handle("/graphql", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	mux.Handle("/", root)
	var seen []string
	h := middleware.RequestID(HTTP(m, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		MuxPattern(mux).ServeHTTP(w, r)
		seen = append(seen, Route(r.Context()))
	})))
	for _, p := range []string{"/api/patients/1", "/api/patients/2", "/graphql", "/nowhere/3"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	want := []string{"/api/patients/{id}", "/api/patients/{id}", "/graphql", "unmatched"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("routes %q, want %q", seen, want)
	}
	if n := testutil.ToFloat64(m.httpRequests.WithLabelValues("/api/patients/{id}", "GET", "418")); n != 2 {
		t.Errorf("requests by pattern = %v, want 2", n)
	}
	if n := testutil.CollectAndCount(m.httpRequests); n != 3 {
		t.Errorf("%d label sets, want 3 (one per pattern)", n)
	}
	for _, odd := range []string{"BREW", "PROPFIND"} {
		if got := methodLabel(odd); got != "OTHER" {
			t.Errorf("method %s labelled %s", odd, got)
		}
	}
}

// TestOperationNamesBounded: client-chosen operation names cannot grow the
// metrics without limit.
func TestOperationNamesBounded(t *testing.T) {
	c := newNameCap(2)
	for in, want := range map[string]string{"": "anonymous", "has space": "other", strings.Repeat("a", 65): "other"} {
		if got := c.label(in); got != want {
			t.Errorf("label(%q) = %q, want %q", in, got, want)
		}
	}
	got := []string{c.label("A"), c.label("B"), c.label("C"), c.label("A")}
	if strings.Join(got, ",") != "A,B,other,A" {
		t.Errorf("labels %v", got)
	}
	if codeLabel("") != "none" || codeLabel("not a code") != "other" || codeLabel("NOT_FOUND") != "NOT_FOUND" {
		t.Error("error codes are not labelled as documented")
	}
}

// TestLogLinesCarryRequestAndTrace: a line logged with a request's context
// names the request and its trace, once each.
func TestLogLinesCarryRequestAndTrace(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := context.WithValue(context.Background(), middleware.RequestIDKey, "req-42")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.With("component", "x").InfoContext(ctx, "hello")
	log.InfoContext(ctx, "explicit", "request_id", "req-42")
	log.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["request_id"] != "req-42" || first["trace_id"] != tid.String() || first["span_id"] != sid.String() || first["component"] != "x" {
		t.Errorf("line %s lacks the request or trace", lines[0])
	}
	if strings.Count(lines[1], "request_id") != 1 {
		t.Errorf("request id twice: %s", lines[1])
	}
	if strings.Contains(lines[2], "request_id") || strings.Contains(lines[2], "trace_id") {
		t.Errorf("a line outside requests names one: %s", lines[2])
	}
}

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":       "http://127.0.0.1:4318/v1/traces",
		"https://otel.example/":       "https://otel.example/v1/traces",
		"https://otel.example/prefix": "https://otel.example/prefix/v1/traces",
	} {
		if got := tracesURL(in); got != want {
			t.Errorf("tracesURL(%q) = %q, want %q", in, got, want)
		}
	}
}
