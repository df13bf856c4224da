package main

// Several nodes: three server processes on one PostgreSQL database behind
// a round-robin reverse proxy, under mixed load, one of them killed with
// SIGKILL. docs/operations.md ("Several nodes in detail") describes the
// deployment this checks.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/loadtest"
)

// proc is one server process.
type proc struct {
	name    string
	url     string // the API
	metrics string // its METRICS_ADDR, as a URL
	cmd     *exec.Cmd
	log     string
	exited  chan struct{}
	err     error
}

// buildBinary builds the server into dir, as an operator would run it.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "healthcare")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startProc(t *testing.T, bin, name string, env []string) *proc {
	t.Helper()
	api, metrics := freePort(t), freePort(t)
	host, port, _ := net.SplitHostPort(api)
	p := &proc{name: name, url: "http://" + api, metrics: "http://" + metrics, log: filepath.Join(t.TempDir(), name+".log"), exited: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(slices.Clone(env), "HOST="+host, "PORT="+port, "METRICS_ADDR="+metrics)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); f.Close(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("--- log of %s (last 4 KiB):\n%s", name, tail(b, 4096))
		}
	})
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("%s exited: %v", p.name, p.err)
		default:
		}
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", p.name)
}

// jsonCall sends one JSON request and decodes the answer.
func jsonCall(t *testing.T, method, u, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// proxyError is a request the proxy could not get answered.
type proxyError struct {
	backend int
	started time.Time
	err     string
}

// rrProxy is a small round-robin reverse proxy with passive health
// checks, as a load balancer in front of the nodes would be: a node that
// refuses connections is taken out of the rotation and the request, which
// it never received, goes to the next node; a request a node received and
// did not answer fails with 502 (its outcome is unknown, so it is not
// sent again). It opens a connection per request, so a killed node's
// connections are never reused.
type rrProxy struct {
	backends []*url.URL
	down     []atomic.Bool
	inflight []atomic.Int64
	served   []atomic.Int64
	next     atomic.Uint64
	tr       *http.Transport

	mu     sync.Mutex
	errors []proxyError
}

func newProxy(urls ...string) *rrProxy {
	p := &rrProxy{down: make([]atomic.Bool, len(urls)), inflight: make([]atomic.Int64, len(urls)), served: make([]atomic.Int64, len(urls)),
		tr: &http.Transport{DisableKeepAlives: true, ResponseHeaderTimeout: 30 * time.Second}}
	for _, u := range urls {
		pu, _ := url.Parse(u)
		p.backends = append(p.backends, pu)
	}
	return p
}

func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	for range len(p.backends) {
		i := int(p.next.Add(1) % uint64(len(p.backends)))
		if p.down[i].Load() {
			continue
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = p.backends[i].Scheme, p.backends[i].Host
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		started := time.Now()
		p.inflight[i].Add(1)
		resp, err := p.tr.RoundTrip(out)
		if err != nil {
			p.inflight[i].Add(-1)
			p.down[i].Store(true)
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // never reached the node: the next one serves it
			}
			p.fail(i, started, err)
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, err = io.Copy(w, resp.Body)
		resp.Body.Close()
		p.inflight[i].Add(-1)
		p.served[i].Add(1)
		if err != nil {
			p.fail(i, started, err)
		}
		return
	}
	http.Error(w, "no node available", http.StatusServiceUnavailable)
}

func (p *rrProxy) fail(i int, started time.Time, err error) {
	p.mu.Lock()
	p.errors = append(p.errors, proxyError{backend: i, started: started, err: err.Error()})
	p.mu.Unlock()
}

// TestThreeNodes: three server processes on one PostgreSQL database behind
// a round-robin proxy. Throttling counts across nodes; a session revoked
// through one node is refused by the others within moments; under mixed
// load one node is killed with SIGKILL: only the requests it had in flight
// fail, every acknowledged write is in the database, and the audit trail
// is still one valid chain (verify-audit).
func TestThreeNodes(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("several nodes need PostgreSQL (TEST_DATABASE_URL)")
	}
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	dbURL := dbtest.URL(t)
	bin := buildBinary(t, t.TempDir())
	env := []string{
		"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "SECRET_KEY=" + strings.Repeat("s", 48), "FIELD_ENCRYPTION_KEY=" + testFieldKey,
		"LOG_FORMAT=json", "THROTTLE_LOGIN_ACCOUNT=6/15m", "THROTTLE_LOGIN_IP=1000/15m", "THROTTLE_LOGIN_SLOWDOWN=off",
		"THROTTLE_REGISTER_IP=1000/1h", "HASH_WORKERS=2",
	}
	nodes := make([]*proc, 3)
	for i := range nodes {
		nodes[i] = startProc(t, bin, fmt.Sprintf("node%d", i+1), env)
	}
	for _, n := range nodes {
		n.waitReady(t)
	}

	t.Run("throttling_counts_across_nodes", func(t *testing.T) {
		const email = "throttled@example.com"
		if st, b := jsonCall(t, "POST", nodes[0].url+"/api/auth/register/", "", map[string]any{"name": "T", "email": email,
			"password": findingsPassword, "password_confirm": findingsPassword}); st != 201 {
			t.Fatalf("register: %d %v", st, b)
		}
		for i := range 6 { // the budget (6), spread over the three nodes
			if st, b := jsonCall(t, "POST", nodes[i%3].url+"/api/auth/login/", "", map[string]any{"email": email, "password": "Wrong-Pass-99"}); st != 401 {
				t.Fatalf("failed sign-in %d on node %d: %d %v", i+1, i%3+1, st, b)
			}
		}
		for i, n := range nodes { // spent on every node, right password or not
			if st, _ := jsonCall(t, "POST", n.url+"/api/auth/login/", "", map[string]any{"email": email, "password": findingsPassword}); st != 429 {
				t.Fatalf("sign-in on node %d after six failures across nodes: %d, want 429", i+1, st)
			}
		}
		total := 0.0
		for _, n := range nodes {
			v, _ := metricValue(scrape(t, n.metrics+"/metrics"), "healthcare_auth_throttled_total", map[string]string{"limit": "account_network"})
			total += v
		}
		if total != 3 {
			t.Fatalf("healthcare_auth_throttled_total over the nodes = %v, want 3", total)
		}
	})

	t.Run("revoked_session_refused_on_every_node", func(t *testing.T) {
		const email = "revoked@example.com"
		jsonCall(t, "POST", nodes[0].url+"/api/auth/register/", "", map[string]any{"name": "R", "email": email,
			"password": findingsPassword, "password_confirm": findingsPassword})
		st, b := jsonCall(t, "POST", nodes[0].url+"/api/auth/login/", "", map[string]any{"email": email, "password": findingsPassword})
		if st != 200 {
			t.Fatalf("login: %d %v", st, b)
		}
		access := path(b, "data", "tokens", "access").(string)
		refresh := path(b, "data", "tokens", "refresh").(string)
		for i, n := range nodes[1:] { // each node has the session cached now
			if st, _ := jsonCall(t, "GET", n.url+"/api/auth/me/", access, nil); st != 200 {
				t.Fatalf("me on node %d: %d", i+2, st)
			}
		}
		if st, b := jsonCall(t, "POST", nodes[0].url+"/api/auth/logout/", access, map[string]any{"refresh": refresh}); st != 200 {
			t.Fatalf("logout on node 1: %d %v", st, b)
		}
		revoked := time.Now()
		for i, n := range nodes {
			for {
				st, _ := jsonCall(t, "GET", n.url+"/api/auth/me/", access, nil)
				if st == 401 {
					t.Logf("node %d refuses the revoked token %v after the sign-out", i+1, time.Since(revoked).Round(time.Millisecond))
					break
				}
				if time.Since(revoked) > 2*time.Second {
					t.Fatalf("node %d still accepts a revoked token after 2 s: %d", i+1, st)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	t.Run("sigkill_under_load", func(t *testing.T) {
		proxy := newProxy(nodes[0].url, nodes[1].url, nodes[2].url)
		front := httptest.NewServer(proxy)
		defer front.Close()
		const victim = 2
		// killedAt is when the signal is sent; diedAt when the process is
		// seen gone. A request the proxy sent in between reached a node
		// that was still accepting connections: it was in flight there.
		var killedAt, diedAt time.Time
		var inflightAtKill int64
		killed := make(chan struct{})
		started := make(chan struct{})
		go func() {
			<-started
			time.Sleep(3 * time.Second)
			inflightAtKill = proxy.inflight[victim].Load()
			killedAt = time.Now()
			_ = nodes[victim].cmd.Process.Signal(syscall.SIGKILL)
			<-nodes[victim].exited
			diedAt = time.Now()
			close(killed)
		}()
		res, err := loadtest.Run(context.Background(), loadtest.Options{URL: front.URL, Scenario: "mixed", Clients: 8,
			Duration: 8 * time.Second, Seed: 20, Started: func() { close(started) }})
		if err != nil {
			t.Fatal(err)
		}
		<-killed
		<-nodes[victim].exited
		t.Logf("load through the proxy: %s", res)
		t.Logf("served per node: %d, %d, %d; node 3 had %d requests in flight when killed",
			proxy.served[0].Load(), proxy.served[1].Load(), proxy.served[2].Load(), inflightAtKill)

		proxy.mu.Lock()
		perrs := slices.Clone(proxy.errors)
		proxy.mu.Unlock()
		for _, e := range perrs {
			if e.backend != victim || !e.started.Before(diedAt) {
				t.Errorf("a request failed that the killed node did not have in flight: node %d, started %v before the kill (%v before it died): %s",
					e.backend+1, killedAt.Sub(e.started), diedAt.Sub(e.started), e.err)
			}
		}
		if res.Failed != int64(len(perrs)) {
			for _, f := range res.Failures {
				t.Logf("client failure at kill%+v: %s", f.At.Sub(killedAt).Round(time.Millisecond), f.Err)
			}
			t.Fatalf("the clients saw %d failures, the proxy %d: a live node failed requests", res.Failed, len(perrs))
		}
		if res.Requests < 200 || proxy.served[victim].Load() == 0 {
			t.Fatalf("too little load to show anything: %d requests, %d on the victim", res.Requests, proxy.served[victim].Load())
		}

		db, err := database.Open(context.Background(), database.Config{URL: dbURL, MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var found int
		if err := db.NewRaw("SELECT count(*) FROM patients WHERE id IN (?)", bun.In(res.Acked)).Scan(context.Background(), &found); err != nil {
			t.Fatal(err)
		}
		if found != len(res.Acked) {
			t.Fatalf("%d of %d acknowledged writes are missing", len(res.Acked)-found, len(res.Acked))
		}
		t.Logf("three nodes: %d requests, %d failed (all in flight on the killed node, which had %d), %d acknowledged writes all present",
			res.Requests+int(res.Failed), res.Failed, inflightAtKill, len(res.Acked))

		for i, n := range nodes[:2] {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.exited:
				if n.err != nil {
					t.Errorf("node %d on SIGTERM: %v", i+1, n.err)
				}
			case <-time.After(40 * time.Second):
				t.Fatalf("node %d did not stop on SIGTERM", i+1)
			}
		}
		cmd := exec.Command(bin, "verify-audit")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "audit trail OK") {
			t.Fatalf("verify-audit: %v\n%s", err, out)
		}
		t.Logf("verify-audit: %s", lineWith(out, "audit trail OK"))
	})
}

// lineWith returns the first line of b that contains s.
func lineWith(b []byte, s string) string {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
