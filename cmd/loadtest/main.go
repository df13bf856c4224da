// Command loadtest measures a running healthcare server: it signs up a
// user, seeds patients, doctors and mappings through the API, then keeps
// -c concurrent clients busy for -d with one scenario and reports
// throughput and latency percentiles.
//
//	go run ./cmd/loadtest -url http://127.0.0.1:8080 -scenario graphql-list -c 32 -d 15s
//
// Scenarios: graphql-list (patients(first: 20) with scalar fields),
// graphql-nested (patients(first: 20) with doctors and mappings),
// rest-list (GET /api/patients/?page_size=20), rest-get (GET /api/patients/<id>/),
// graphql-create (createPatient). It only talks to the URL it is given;
// point it at a server on this machine.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	scenario := flag.String("scenario", "graphql-list", "graphql-list | graphql-nested | rest-list | rest-get | graphql-create")
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 15*time.Second, "how long to run")
	seed := flag.Int("seed", 200, "patients to create before measuring")
	flag.Parse()
	if err := run(*base, *scenario, *conc, *dur, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type client struct {
	base  string
	token string
	http  *http.Client
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

func run(base, scenario string, conc int, dur time.Duration, seed int) error {
	tr := &http.Transport{MaxIdleConnsPerHost: conc * 2, MaxConnsPerHost: conc * 2}
	c := &client{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	email := fmt.Sprintf("load%d@example.com", time.Now().UnixNano())
	d, err := c.gql(`mutation($e: String!) { register(input: {name: "Load Test", email: $e, password: "Load-Test-Pass-9", passwordConfirm: "Load-Test-Pass-9"}) { tokens { access } } }`, map[string]any{"e": email})
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	c.token = d["register"].(map[string]any)["tokens"].(map[string]any)["access"].(string)

	var doctors, patients []string
	for i := range 5 {
		d, err := c.gql(`mutation($e: String!, $l: String!) { createDoctor(input: {firstName: "Load", lastName: "Doctor", email: $e, phone: "+919876543220", specialization: CARDIOLOGY, qualification: "MBBS", licenseNumber: $l, experienceYears: 10, consultationFee: 1000}) { id } }`,
			map[string]any{"e": fmt.Sprintf("d%d-%s", i, email), "l": fmt.Sprintf("L%d-%d", i, time.Now().UnixNano())})
		if err != nil {
			return fmt.Errorf("seed doctor: %w", err)
		}
		doctors = append(doctors, d["createDoctor"].(map[string]any)["id"].(string))
	}
	for i := range seed {
		id, err := createPatient(c, i)
		if err != nil {
			return fmt.Errorf("seed patient: %w", err)
		}
		patients = append(patients, id)
		if i%4 == 0 {
			if _, err := c.gql(`mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d}) { id } }`,
				map[string]any{"p": id, "d": doctors[i%len(doctors)]}); err != nil {
				return fmt.Errorf("seed mapping: %w", err)
			}
		}
	}

	var op func(n int) error
	switch scenario {
	case "graphql-list":
		op = func(int) error {
			_, err := c.gql(`{ patients(first: 20) { totalCount nodes { id fullName age phone city bloodGroup } } }`, nil)
			return err
		}
	case "graphql-nested":
		op = func(int) error {
			_, err := c.gql(`{ patients(first: 20) { nodes { id fullName doctors { id fullName } mappings { status doctor { id } } } } }`, nil)
			return err
		}
	case "rest-list":
		op = func(int) error { return expect(c.do(http.MethodGet, "/api/patients/?page_size=20", nil)) }
	case "rest-get":
		op = func(n int) error {
			return expect(c.do(http.MethodGet, "/api/patients/"+patients[n%len(patients)]+"/", nil))
		}
	case "graphql-create":
		op = func(n int) error { _, err := createPatient(c, n); return err }
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		firstErr  atomic.Value
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for w := range conc {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			for n := w; time.Now().Before(deadline); n += conc {
				t := time.Now()
				if err := op(n + rand.IntN(1000)); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
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
	fmt.Printf("scenario=%s clients=%d duration=%s requests=%d failures=%d throughput=%.0f req/s p50=%s p90=%s p99=%s\n",
		scenario, conc, elapsed.Round(time.Millisecond), len(latencies), failures.Load(),
		float64(len(latencies))/elapsed.Seconds(), pct(0.50).Round(10*time.Microsecond),
		pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	if f := failures.Load(); f > 0 {
		return fmt.Errorf("%d requests failed; first: %v", f, firstErr.Load())
	}
	return nil
}

func createPatient(c *client, i int) (string, error) {
	d, err := c.gql(`mutation($f: String!) { createPatient(input: {firstName: $f, lastName: "Load", phone: "+919876543210", dateOfBirth: "1985-03-04", gender: F, bloodGroup: O_POS, city: "Pune", medicalHistory: "Hypertension", allergies: "None"}) { id } }`,
		map[string]any{"f": fmt.Sprintf("Patient%d", i)})
	if err != nil {
		return "", err
	}
	return d["createPatient"].(map[string]any)["id"].(string), nil
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
