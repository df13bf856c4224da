package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"healthcare/database/dbtest"
)

// BenchmarkGraphQL measures whole requests over real HTTP against each
// database, 16 clients at once: `me`, a page of 20 patients, and the same
// page with nested doctors and mappings, each with the audit trail on (as
// the server runs) and off (to show what the trail costs: the same
// requests, no read events written).
//
//	TEST_DATABASE_URL=... go test -run '^$' -bench GraphQL -benchtime 3s ./graph
func BenchmarkGraphQL(b *testing.B) {
	for _, k := range dbtest.Kinds(b) {
		b.Run(string(k), func(b *testing.B) {
			t := &testing.T{}
			e := newEnv(t, dbtest.Open(b, k))
			e.t = t
			tok, _ := e.signup("bench@example.com")
			d1 := e.mkDoctor(tok, 1)
			for i := range 40 {
				pid := e.mkPatient(tok, fmt.Sprintf("Bench%d", i))
				if i%2 == 0 {
					e.mkMapping(tok, pid, d1)
				}
			}
			for name, q := range map[string]string{
				"me":              `{ me { id email } }`,
				"patients20":      `{ patients(first: 20) { totalCount nodes { id fullName age phone city bloodGroup } } }`,
				"patients20_nest": `{ patients(first: 20) { nodes { id fullName doctors { id fullName } mappings { status doctor { id } } } } }`,
			} {
				body, _ := json.Marshal(map[string]any{"query": q})
				for _, audit := range []string{"on", "off"} {
					b.Run(name+"/audit="+audit, func(b *testing.B) {
						e.app.Audit.SetOff(audit == "off")
						defer e.app.Audit.SetOff(false)
						client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
						b.ReportAllocs()
						b.SetParallelism(8) // 8 per CPU: 16 clients on 2 CPUs
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
								req.Header.Set("Content-Type", "application/json")
								req.Header.Set("Authorization", "Bearer "+tok)
								resp, err := client.Do(req)
								if err != nil {
									b.Fatal(err)
								}
								var out struct{ Errors []any }
								_ = json.NewDecoder(resp.Body).Decode(&out)
								resp.Body.Close()
								if resp.StatusCode != 200 || len(out.Errors) > 0 {
									b.Fatalf("status %d errors %v", resp.StatusCode, out.Errors)
								}
							}
						})
					})
				}
			}
		})
	}
}
