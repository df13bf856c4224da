package main

// The read replica against a real streaming standby. .ci/replica makes a
// primary and a standby cluster (pg_createcluster, pg_basebackup -R) and
// runs this test with:
//
//	TEST_REPLICA_PRIMARY_URL   a database on the primary
//	TEST_REPLICA_URL           the same database on the standby
//	TEST_REPLICA_STOP          a command that stops the standby
//
// Without them it skips, also in CI: it needs root to make clusters.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"healthcare/database"
)

// TestReplicaStandby: reads go to the standby (a change the standby has
// not replayed is not seen, and its connections are in pg_stat_activity);
// a writer's next read sees its write even while the standby is paused;
// and when the standby stops, reads still succeed, from the primary.
func TestReplicaStandby(t *testing.T) {
	primaryURL, standbyURL := os.Getenv("TEST_REPLICA_PRIMARY_URL"), os.Getenv("TEST_REPLICA_URL")
	if primaryURL == "" || standbyURL == "" {
		t.Skip("needs a primary and a streaming standby: run .ci/replica")
	}
	ctx := context.Background()
	n, logs := openObservedNode(t, primaryURL, map[string]string{"DATABASE_REPLICA_URL": standbyURL})
	if n.replica == nil || !n.replica.Up() {
		t.Fatal("the replica is not up")
	}
	n.replica.SetWindow(time.Second)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Checked rarely, so that a stopped standby is found by a failing read.
	go n.replica.Watch(wctx, time.Minute)
	primary, err := sql.Open("pgx", primaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	standby, err := sql.Open("pgx", standbyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close()
	defer standby.Exec("SELECT pg_wal_replay_resume()") //nolint:errcheck // best effort

	alice, _ := n.register(t, fmt.Sprintf("alice%d@example.com", time.Now().UnixNano()))
	bob, _ := n.register(t, fmt.Sprintf("bob%d@example.com", time.Now().UnixNano()))
	a := n.do(t, apiCall{method: "POST", path: "/api/patients/", token: alice, body: map[string]any{
		"first_name": "Asha", "last_name": "Rao", "phone": "+919876543210", "date_of_birth": "1990-05-15", "gender": "F", "blood_group": "A+", "city": "Mumbai"}})
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	id := int64(path(a.body, "data", "id").(float64))
	patient := fmt.Sprintf("/api/patients/%d/", id)
	city := func(token string) string {
		t.Helper()
		a := n.do(t, apiCall{method: "GET", path: patient, token: token})
		if a.status != 200 {
			t.Fatalf("get: %d %s", a.status, a.raw)
		}
		return path(a.body, "data", "city").(string)
	}

	// The standby replays the patient; the writer's window passes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var c string
		if standby.QueryRow("SELECT city FROM patients WHERE id = $1", id).Scan(&c) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the standby never replayed the new patient")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond)

	t.Run("reads_come_from_the_standby", func(t *testing.T) {
		if _, err := standby.Exec("SELECT pg_wal_replay_pause()"); err != nil {
			t.Fatal(err)
		}
		// Behind the application's back, so no node knows of a writer.
		if _, err := primary.Exec("UPDATE patients SET city = 'Changed directly' WHERE id = $1", id); err != nil {
			t.Fatal(err)
		}
		if got := city(alice); got != "Mumbai" {
			t.Fatalf("city %q: the read did not come from the paused standby; reads:\n%s", got, grepLines(scrape(t, httptestMetrics(t, n)), "healthcare_db_reads_total"))
		}
		var conns int
		if err := standby.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'healthcare-replica'").Scan(&conns); err != nil || conns == 0 {
			t.Fatalf("no healthcare-replica connection on the standby: %d %v", conns, err)
		}
		text := scrape(t, httptestMetrics(t, n))
		if v, _ := metricValue(text, "healthcare_db_reads_total", map[string]string{"target": "replica", "reason": "replica"}); v < 1 {
			t.Fatalf("healthcare_db_reads_total{target=replica} = %v", v)
		}
		if v, _ := metricValue(text, "healthcare_db_query_duration_seconds_count", map[string]string{"pool": "replica", "operation": "SELECT"}); v < 1 {
			t.Fatalf("no statements timed on the replica pool: %v", v)
		}
		t.Logf("paused standby answered city %q while the primary has %q; %d healthcare-replica connections on it", "Mumbai", "Changed directly", conns)
	})

	t.Run("a_writer_reads_its_write", func(t *testing.T) {
		a := n.do(t, apiCall{method: "PATCH", path: patient, token: alice, body: map[string]any{"city": "Pune"}})
		if a.status != 200 {
			t.Fatalf("patch: %d %s", a.status, a.raw)
		}
		if got := city(alice); got != "Pune" {
			t.Fatalf("the writer read %q right after writing Pune (the standby is paused)", got)
		}
		g := n.gql(t, alice, `query($id: ID!) { patient(id: $id) { city } }`, map[string]any{"id": fmt.Sprint(id)}, nil)
		if got := path(g.body, "data", "patient", "city"); got != "Pune" {
			t.Fatalf("GraphQL: the writer read %v", got)
		}
		// Another account reads the standby still (doctors are everyone's).
		if a := n.do(t, apiCall{method: "GET", path: "/api/doctors/", token: bob}); a.status != 200 {
			t.Fatalf("doctors: %d", a.status)
		}
		if _, err := standby.Exec("SELECT pg_wal_replay_resume()"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond) // the window passes: the standby answers again
		deadline := time.Now().Add(10 * time.Second)
		for city(alice) != "Pune" {
			if time.Now().After(deadline) {
				t.Fatal("the resumed standby never showed the write")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("standby_down_reads_from_primary", func(t *testing.T) {
		stop := os.Getenv("TEST_REPLICA_STOP")
		if stop == "" {
			t.Skip("TEST_REPLICA_STOP not set")
		}
		if out, err := exec.Command("sh", "-c", stop).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", stop, err, out)
		}
		for i := range 5 {
			if got := city(alice); got != "Pune" {
				t.Fatalf("read %d with the standby down: %q", i, got)
			}
			if a := n.do(t, apiCall{method: "GET", path: "/api/patients/", token: bob}); a.status != 200 {
				t.Fatalf("list with the standby down: %d %s", a.status, a.raw)
			}
		}
		waitFor(t, "the replica set aside", func() bool { return !n.replica.Up() })
		text := scrape(t, httptestMetrics(t, n))
		fell, _ := metricValue(text, "healthcare_db_replica_fallbacks_total", nil)
		aside, _ := metricValue(text, "healthcare_db_reads_total", map[string]string{"reason": database.ReadReplicaDown})
		if fell < 1 || aside < 1 {
			t.Fatalf("want a read answered by the primary after the standby failed it, then reads routed around it: fallbacks %v, replica_unavailable %v", fell, aside)
		}
		if !strings.Contains(logs.String(), "read replica") {
			t.Fatalf("the log does not say the replica failed:\n%s", logs.String())
		}
		if v, _ := metricValue(text, "healthcare_db_replica_up", nil); v != 0 {
			t.Fatalf("healthcare_db_replica_up = %v with the standby stopped", v)
		}
		t.Logf("standby stopped: reads answered by the primary (fallbacks %v, routed around %v)", fell, aside)
	})
}

// httptestMetrics serves the node's metrics handler and returns its URL.
func httptestMetrics(t *testing.T, n *node) string {
	t.Helper()
	addr := freePort(t)
	srv := &http.Server{Addr: addr, Handler: n.metrics.Handler(false)}
	go srv.ListenAndServe() //nolint:errcheck // closed below
	t.Cleanup(func() { srv.Close() })
	waitFor(t, "metrics server", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	return "http://" + addr + "/metrics"
}

// grepLines returns the lines of text that start with prefix.
func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
