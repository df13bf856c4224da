package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"healthcare/database/dbtest"
)

// proxy forwards TCP to a target and can cut every connection at once, to
// take PostgreSQL away from the server without stopping the shared server.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection: the database is gone.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same address: the database is back.
func (p *proxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseOutage takes PostgreSQL away under load and brings it back:
// requests get 503 SERVICE_UNAVAILABLE meanwhile (never a 500, never a
// panic), /readyz fails, service resumes by itself, and every write that
// was acknowledged is still there.
func TestDatabaseOutage(t *testing.T) {
	if len(dbtest.Kinds(t)) < 2 {
		t.Skip("needs PostgreSQL: set TEST_DATABASE_URL")
	}
	dbURL, err := url.Parse(dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, dbURL.Host)
	dbURL.Host = px.addr
	cfg, err := loadConfig(envMap(map[string]string{"DATABASE_URL": dbURL.String(), "SECRET_KEY": strings.Repeat("o", 40), "FIELD_ENCRYPTION_KEY": testFieldKey, "DB_MAX_CONNS": "4"}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	srv := httptest.NewServer(a.routes())
	defer srv.Close()

	post := func(token, query string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := outageClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	_, reg := post("", `mutation { register(input: {name: "Out Age", email: "outage@example.com", password: "Correct-Horse-42", passwordConfirm: "Correct-Horse-42"}) { tokens { access } } }`)
	token, _ := path(reg, "data", "register", "tokens", "access").(string)
	if token == "" {
		t.Fatalf("register: %v", reg)
	}

	// Load: writers create patients and remember every acknowledged id.
	var (
		mu       sync.Mutex
		acked    []string
		statuses = map[int]int{}
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				q := fmt.Sprintf(`mutation { createPatient(input: {firstName: "W%d", lastName: "N%d", phone: "+919876543210", dateOfBirth: "1990-01-01", gender: O}) { id } }`, w, i)
				status, out := post(token, q)
				mu.Lock()
				statuses[status]++
				if id, ok := path(out, "data", "createPatient", "id").(string); ok && status == 200 {
					acked = append(acked, id)
				} else if status == 200 {
					t.Errorf("200 without data: %v", out)
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	px.cut()
	time.Sleep(300 * time.Millisecond)

	status, out := post(token, `{ patients { totalCount } }`)
	if status != http.StatusServiceUnavailable || path(out, "errors", 0, "extensions", "code") != "SERVICE_UNAVAILABLE" {
		t.Errorf("during outage: %d %v", status, out)
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz during outage: %d", resp.StatusCode)
	}

	px.restore(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, _ := post(token, `{ patients { totalCount } }`)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not resume within 15 s (last status %d)", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	if statuses[500] > 0 || statuses[0] > 0 {
		t.Errorf("statuses under outage: %v (no 500s, no dropped connections allowed)", statuses)
	}
	t.Logf("statuses %v, %d writes acknowledged", statuses, len(acked))
	// Every acknowledged write survived.
	_, out = post(token, `{ patients(first: 100) { totalCount } }`)
	total, _ := path(out, "data", "patients", "totalCount").(float64)
	if int(total) < len(acked) {
		t.Fatalf("%d acknowledged writes, %d stored", len(acked), int(total))
	}
	for _, id := range acked {
		_, out := post(token, fmt.Sprintf(`{ patient(id: "%s") { id } }`, id))
		if path(out, "data", "patient", "id") != id {
			t.Fatalf("acknowledged patient %s lost: %v", id, out)
		}
	}
}

// outageClient bounds every request, so a hang fails the test instead of
// stalling the suite.
var outageClient = &http.Client{Timeout: 40 * time.Second}

// path walks decoded JSON.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}
