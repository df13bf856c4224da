// Package loadtest drives a running healthcare server: it signs up a
// user, seeds patients, doctors and mappings through the API, then keeps
// concurrent clients busy for a while with one scenario and reports
// throughput, latency percentiles, failures and the writes the server
// acknowledged. cmd/loadtest is its command line; the several-nodes test
// runs it in-process.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios are the workloads Run knows.
var Scenarios = []string{"graphql-list", "graphql-nested", "rest-list", "rest-get", "graphql-create", "mixed"}

// Options configure one run.
type Options struct {
	URL      string        // the server (or load balancer) base URL
	Scenario string        // one of Scenarios
	Clients  int           // concurrent clients
	Duration time.Duration // how long to measure
	Seed     int           // patients to create before measuring
	// Started, if set, is called when the measured phase begins.
	Started func()
}

// Failure is one failed request of the measured phase.
type Failure struct {
	At  time.Time
	Err string
}

// Result is what a run measured.
type Result struct {
	Scenario   string
	Clients    int
	Elapsed    time.Duration
	Requests   int       // answered as expected
	Failed     int64     // requests that failed
	Failures   []Failure // the first 1,000 of them
	P50        time.Duration
	P90        time.Duration
	P99        time.Duration
	Throughput float64 // requests answered per second
	// Acked are the ids of the patients whose creation the server
	// acknowledged (201, or a GraphQL answer with the id), seeding
	// included: each must exist afterwards.
	Acked []int64
}

// String is the one-line report the command prints.
func (r *Result) String() string {
	return fmt.Sprintf("scenario=%s clients=%d duration=%s requests=%d failures=%d throughput=%.0f req/s p50=%s p90=%s p99=%s",
		r.Scenario, r.Clients, r.Elapsed.Round(time.Millisecond), r.Requests, r.Failed, r.Throughput,
		r.P50.Round(10*time.Microsecond), r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond))
}

type client struct {
	base  string
	token string
	http  *http.Client

	mu    sync.Mutex
	acked []int64
}

func (c *client) ack(id string) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.acked = append(c.acked, n)
	c.mu.Unlock()
}

func (c *client) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c *client) gql(query string, vars map[string]any) (map[string]any, error) {
	status, b, err := c.do(http.MethodPost, "/graphql", map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("status %d: %s", status, b)
	}
	if status != 200 || len(out.Errors) > 0 {
		return nil, fmt.Errorf("status %d: %s", status, b)
	}
	return out.Data, nil
}

// Run seeds the server, then runs o.Scenario with o.Clients clients for
// o.Duration. It returns an error only when seeding fails or the scenario
// is unknown; failed requests of the measured phase are in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if !slices.Contains(Scenarios, o.Scenario) {
		return nil, fmt.Errorf("unknown scenario %q", o.Scenario)
	}
	conc := max(1, o.Clients)
	tr := &http.Transport{MaxIdleConnsPerHost: conc * 2, MaxConnsPerHost: conc * 2}
	defer tr.CloseIdleConnections()
	c := &client{base: o.URL, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	email := fmt.Sprintf("load%d@example.com", time.Now().UnixNano())
	d, err := c.gql(`mutation($e: String!) { register(input: {name: "Load Test", email: $e, password: "Load-Test-Pass-9", passwordConfirm: "Load-Test-Pass-9"}) { tokens { access } } }`, map[string]any{"e": email})
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	c.token = d["register"].(map[string]any)["tokens"].(map[string]any)["access"].(string)

	var doctors, patients []string
	for i := range 5 {
		d, err := c.gql(`mutation($e: String!, $l: String!) { createDoctor(input: {firstName: "Load", lastName: "Doctor", email: $e, phone: "+919876543220", specialization: CARDIOLOGY, qualification: "MBBS", licenseNumber: $l, experienceYears: 10, consultationFee: 1000}) { id } }`,
			map[string]any{"e": fmt.Sprintf("d%d-%s", i, email), "l": fmt.Sprintf("L%d-%d", i, time.Now().UnixNano())})
		if err != nil {
			return nil, fmt.Errorf("seed doctor: %w", err)
		}
		doctors = append(doctors, d["createDoctor"].(map[string]any)["id"].(string))
	}
	for i := range o.Seed {
		id, err := createPatient(c, i)
		if err != nil {
			return nil, fmt.Errorf("seed patient: %w", err)
		}
		patients = append(patients, id)
		if i%4 == 0 {
			if _, err := c.gql(`mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d}) { id } }`,
				map[string]any{"p": id, "d": doctors[i%len(doctors)]}); err != nil {
				return nil, fmt.Errorf("seed mapping: %w", err)
			}
		}
	}
	if len(patients) == 0 {
		patients = []string{"1"}
	}

	graphqlList := func(int) error {
		_, err := c.gql(`{ patients(first: 20) { totalCount nodes { id fullName age phone city bloodGroup } } }`, nil)
		return err
	}
	graphqlNested := func(int) error {
		_, err := c.gql(`{ patients(first: 20) { nodes { id fullName doctors { id fullName } mappings { status doctor { id } } } } }`, nil)
		return err
	}
	restList := func(int) error { return expect(c.do(http.MethodGet, "/api/patients/?page_size=20", nil)) }
	restGet := func(n int) error {
		return expect(c.do(http.MethodGet, "/api/patients/"+patients[n%len(patients)]+"/", nil))
	}
	var op func(n int) error
	switch o.Scenario {
	case "graphql-list":
		op = graphqlList
	case "graphql-nested":
		op = graphqlNested
	case "rest-list":
		op = restList
	case "rest-get":
		op = restGet
	case "graphql-create":
		op = func(n int) error { _, err := createPatient(c, n); return err }
	case "mixed":
		// Writes and reads through both APIs: 3 in 10 create a patient
		// through REST (201), the rest read.
		op = func(n int) error {
			switch n % 10 {
			case 0, 1, 2:
				return restCreate(c, n)
			case 3, 4:
				return restGet(n)
			case 5, 6:
				return graphqlList(n)
			case 7:
				return graphqlNested(n)
			case 8:
				return restList(n)
			default:
				return expect(c.do(http.MethodGet, "/api/doctors/?page_size=10", nil))
			}
		}
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  []Failure
		nfail     atomic.Int64
		wg        sync.WaitGroup
	)
	if o.Started != nil {
		o.Started()
	}
	start := time.Now()
	deadline := start.Add(o.Duration)
	for w := range conc {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			for n := w; time.Now().Before(deadline) && ctx.Err() == nil; n += conc {
				t := time.Now()
				if err := op(n + rand.IntN(1000)); err != nil {
					if nfail.Add(1) <= 1000 {
						mu.Lock()
						failures = append(failures, Failure{At: time.Now(), Err: err.Error()})
						mu.Unlock()
					}
					continue
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	return &Result{
		Scenario: o.Scenario, Clients: conc, Elapsed: elapsed, Requests: len(latencies), Failed: nfail.Load(), Failures: failures,
		P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Throughput: float64(len(latencies)) / elapsed.Seconds(),
		Acked: c.acked,
	}, nil
}

func createPatient(c *client, i int) (string, error) {
	d, err := c.gql(`mutation($f: String!) { createPatient(input: {firstName: $f, lastName: "Load", phone: "+919876543210", dateOfBirth: "1985-03-04", gender: F, bloodGroup: O_POS, city: "Pune", medicalHistory: "Hypertension", allergies: "None"}) { id } }`,
		map[string]any{"f": fmt.Sprintf("Patient%d", i)})
	if err != nil {
		return "", err
	}
	id := d["createPatient"].(map[string]any)["id"].(string)
	c.ack(id)
	return id, nil
}

// restCreate creates a patient through REST; a 201 is an acknowledged write.
func restCreate(c *client, i int) error {
	status, b, err := c.do(http.MethodPost, "/api/patients/", map[string]any{
		"first_name": fmt.Sprintf("Rest%d", i), "last_name": "Load", "phone": "+919876543210", "date_of_birth": "1985-03-04",
		"gender": "M", "blood_group": "B+", "city": "Nagpur", "medical_history": "Asthma",
	})
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("status %d: %s", status, b)
	}
	var out struct {
		Data struct {
			ID json.Number `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Data.ID == "" {
		return fmt.Errorf("201 without an id: %s", b)
	}
	c.ack(out.Data.ID.String())
	return nil
}

func expect(status int, body []byte, err error) error {
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return errors.New(string(body))
	}
	return nil
}
