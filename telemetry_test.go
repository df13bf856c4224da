package main

// Metrics, tracing and the request's ids in the log, on a whole node.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"healthcare/observe"
)

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openObservedNode is openNode with the server's own log handler writing
// JSON to the returned buffer.
func openObservedNode(t *testing.T, where string, env map[string]string) (*node, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	return openNodeLogged(t, where, env, slog.New(observe.LogHandler(slog.NewJSONHandler(logs, nil)))), logs
}

// scrape returns the metrics text at url.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// metricValue finds one sample: name{labels} value, labels in any order.
func metricValue(text, name string, labels map[string]string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for k, v := range labels {
			if !strings.Contains(line, fmt.Sprintf("%s=%q", k, v)) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var f float64
		fields := strings.Fields(line)
		if len(fields) >= 2 {
			if _, err := fmt.Sscan(fields[len(fields)-1], &f); err == nil {
				return f, true
			}
		}
	}
	return 0, false
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMetricsEndpoint: /metrics on METRICS_ADDR has every family the
// operations guide lists, labelled by route pattern (never a raw path);
// the profiler is there only with PPROF, and neither is on the API port.
func TestMetricsEndpoint(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		addr := freePort(t)
		n, _ := openObservedNode(t, where, map[string]string{"METRICS_ADDR": addr, "PPROF": "true", "THROTTLE_LOGIN_ACCOUNT": "2/15m"})
		ctx, cancel := context.WithCancel(context.Background())
		stop, err := n.serveMetrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(); cancel() })

		token, _ := n.register(t, "metrics@example.com")
		a := n.do(t, apiCall{method: "POST", path: "/api/patients/", token: token, body: map[string]any{
			"first_name": "Asha", "last_name": "Rao", "phone": "+919876543210", "date_of_birth": "1990-05-15", "gender": "F", "blood_group": "A+"}})
		if a.status != http.StatusCreated {
			t.Fatalf("create: %d %s", a.status, a.raw)
		}
		id := int64(path(a.body, "data", "id").(float64))
		for range 2 {
			if a := n.do(t, apiCall{method: "GET", path: fmt.Sprintf("/api/patients/%d/", id), token: token}); a.status != 200 {
				t.Fatalf("get: %d %s", a.status, a.raw)
			}
		}
		if a := n.gql(t, token, `query ListPatients { patients(first: 5) { nodes { id fullName } } }`, nil, nil); a.status != 200 {
			t.Fatalf("graphql: %d %s", a.status, a.raw)
		}
		n.gql(t, token, `query Broken { nope }`, nil, nil)
		for range 3 { // the third is refused by THROTTLE_LOGIN_ACCOUNT=2/15m
			n.login(t, "metrics@example.com", "wrong-password-1", nil)
		}

		text := scrape(t, "http://"+addr+"/metrics")
		for _, c := range []struct {
			name   string
			labels map[string]string
			min    float64
		}{
			{"healthcare_http_requests_total", map[string]string{"route": "/api/patients/{id}", "method": "GET", "status": "200"}, 2},
			{"healthcare_http_requests_total", map[string]string{"route": "/api/patients", "method": "POST", "status": "201"}, 1},
			{"healthcare_http_request_duration_seconds_count", map[string]string{"route": "/graphql", "method": "POST"}, 2},
			{"healthcare_graphql_operations_total", map[string]string{"operation": "ListPatients", "type": "query", "outcome": "ok"}, 1},
			{"healthcare_graphql_operations_total", map[string]string{"outcome": "refused"}, 1},
			{"healthcare_graphql_operation_complexity_count", map[string]string{"operation": "ListPatients"}, 1},
			{"healthcare_graphql_errors_total", map[string]string{"code": "GRAPHQL_VALIDATION_FAILED"}, 1},
			{"healthcare_db_query_duration_seconds_count", map[string]string{"pool": "primary", "operation": "SELECT"}, 1},
			{"go_sql_max_open_connections", map[string]string{"db_name": "primary"}, 1},
			{"healthcare_audit_commit_duration_seconds_count", map[string]string{"outcome": "ok"}, 1},
			{"healthcare_audit_queue_depth", nil, 0},
			{"healthcare_audit_sealer_lag_seconds", nil, 0},
			{"healthcare_auth_throttled_total", map[string]string{"limit": "account_network"}, 1},
			{"healthcare_auth_hash_queue_depth", nil, 0},
			{"healthcare_auth_hash_workers", nil, 1},
			{"healthcare_changes_connected", nil, 1},
			{"healthcare_changes_received_total", map[string]string{"kind": "patient"}, 1},
			{"healthcare_build_info", nil, 1},
			{"go_goroutines", nil, 1},
			{"process_resident_memory_bytes", nil, 1},
		} {
			v, ok := metricValue(text, c.name, c.labels)
			if !ok || v < c.min {
				t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, v, ok, c.min)
			}
		}
		if regexp.MustCompile(`route="[^"]*/\d+`).MatchString(text) {
			t.Error("a route label holds a raw id")
		}
		resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("pprof on the metrics address: %v %v", resp, err)
		}
		resp.Body.Close()
		for _, p := range []string{"/metrics", "/debug/pprof/"} {
			if a := n.do(t, apiCall{method: "GET", path: p}); a.status != http.StatusNotFound {
				t.Errorf("GET %s on the API port: %d, want 404", p, a.status)
			}
		}
	})
}

// TestPprofOnlyWhenEnabled: without PPROF the metrics address has no
// profiler.
func TestPprofOnlyWhenEnabled(t *testing.T) {
	addr := freePort(t)
	n, _ := openObservedNode(t, t.TempDir()+"/hc.db", map[string]string{"METRICS_ADDR": addr})
	stop, err := n.serveMetrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("pprof without PPROF: %d", resp.StatusCode)
	}
}

// otlpSink is an OTLP/HTTP trace receiver.
type otlpSink struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			s.spans = append(s.spans, ss.Spans...)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (s *otlpSink) all() []*tracepb.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*tracepb.Span(nil), s.spans...)
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			if v := kv.Value.GetStringValue(); v != "" {
				return v
			}
			return fmt.Sprint(kv.Value.GetIntValue())
		}
	}
	return ""
}

// TestTracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, one GraphQL request
// is one trace that continues the caller's traceparent: the HTTP server
// span (named by route, carrying the request id), the operation, its
// resolvers and its SQL statements (operation and table, never the
// statement's text); its access log line carries the same trace id.
func TestTracing(t *testing.T) {
	each(t, func(t *testing.T, where string) {
		sink := &otlpSink{}
		collector := httptest.NewServer(sink)
		defer collector.Close()
		n, logs := openObservedNode(t, where, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_SERVICE_NAME": "hc-test"})
		token, _ := n.register(t, "trace@example.com")
		n.do(t, apiCall{method: "POST", path: "/api/patients/", token: token, body: map[string]any{
			"first_name": "Zed", "last_name": "Quill", "phone": "+919876543210", "date_of_birth": "1990-05-15", "gender": "M", "blood_group": "O+"}})

		const caller = "0af7651916cd43dd8448eb211c80319c"
		a := n.gql(t, token, `query TracedList { patients(first: 5, filter: {search: "quill"}) { nodes { id doctors { id } } } }`, nil,
			map[string]string{"X-Request-Id": "trace-req-1", "traceparent": "00-" + caller + "-b7ad6b7169203331-01"})
		if a.status != 200 || a.body["errors"] != nil {
			t.Fatalf("graphql: %d %s", a.status, a.raw)
		}
		if err := n.tracing.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var trace []*tracepb.Span
		for _, s := range sink.all() {
			if fmt.Sprintf("%x", s.TraceId) == caller {
				trace = append(trace, s)
			}
		}
		names := map[string]*tracepb.Span{}
		for _, s := range trace {
			names[s.Name] = s
		}
		server := names["POST /graphql"]
		if server == nil || spanAttr(server, "request_id") != "trace-req-1" || spanAttr(server, "http.route") != "/graphql" ||
			spanAttr(server, "http.response.status_code") != "200" {
			t.Fatalf("no server span with the request id and route; spans of the trace: %v", keys(names))
		}
		op := names["graphql query TracedList"]
		if op == nil || spanAttr(op, "graphql.operation.complexity") == "" || !bytes.Equal(op.ParentSpanId, server.SpanId) {
			t.Fatalf("no operation span under the server span; spans: %v", keys(names))
		}
		if names["Query.patients"] == nil {
			t.Errorf("no resolver span; spans: %v", keys(names))
		}
		sel := names["SELECT patients"]
		if sel == nil || spanAttr(sel, "db.operation.name") != "SELECT" {
			t.Fatalf("no statement span; spans: %v", keys(names))
		}
		for _, s := range trace {
			for _, kv := range s.Attributes {
				if v := kv.Value.GetStringValue(); strings.Contains(strings.ToLower(v), "quill") {
					t.Errorf("span %s attribute %s holds the search text: %q", s.Name, kv.Key, v)
				}
			}
		}

		var line map[string]any
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `"request_id":"trace-req-1"`) && strings.Contains(l, `"msg":"request"`) {
				_ = json.Unmarshal([]byte(l), &line)
			}
		}
		if line == nil || line["trace_id"] != caller || line["route"] != "/graphql" {
			t.Fatalf("access log line without the trace id: %v\n%s", line, logs.String())
		}
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
