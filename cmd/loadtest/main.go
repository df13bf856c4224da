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
// graphql-create (createPatient), mixed (3 in 10 REST creates, the rest
// reads through both APIs). It only talks to the URL it is given; point it
// at a server on this machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"healthcare/internal/loadtest"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	scenario := flag.String("scenario", "graphql-list", strings.Join(loadtest.Scenarios, " | "))
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 15*time.Second, "how long to run")
	seed := flag.Int("seed", 200, "patients to create before measuring")
	flag.Parse()
	r, err := loadtest.Run(context.Background(), loadtest.Options{URL: *base, Scenario: *scenario, Clients: *conc, Duration: *dur, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	fmt.Println(r)
	if r.Failed > 0 {
		fmt.Fprintf(os.Stderr, "loadtest: %d requests failed; first: %s\n", r.Failed, r.Failures[0].Err)
		os.Exit(1)
	}
}
