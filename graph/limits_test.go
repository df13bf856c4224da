package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/graph"
)

// nested returns a query `depth` levels deep: patients/nodes/doctors/patients/...
func nested(depth int) string {
	// patients(1) nodes(2) then alternating doctors/patients, closing with id.
	var b strings.Builder
	b.WriteString("{ patients(first: 1) { nodes { ")
	open := 2
	for i := 3; i < depth; i++ {
		if i%2 == 1 {
			b.WriteString("doctors { ")
		} else {
			b.WriteString("patients { ")
		}
		open++
	}
	b.WriteString("id ")
	b.WriteString(strings.Repeat("} ", open))
	b.WriteString("}")
	return b.String()
}

func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	b.WriteString("}")
	return b.String()
}

func TestLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		lim := graph.Limits{MaxDepth: 6, MaxComplexity: 501, MaxAliases: 4, MaxRootFields: 5}
		e := newEnvWith(t, db, func(o *graph.Options) { o.Limits = lim })
		tok, _ := e.signup("limits@example.com")
		// Depth is checked on its own: deep queries are expensive too.
		deep := newEnvWith(t, db, func(o *graph.Options) { o.Limits = graph.Limits{MaxDepth: 6, MaxComplexity: 1 << 30} })
		cases := []struct {
			name   string
			query  string
			reject bool
			env    *env
		}{
			{"depth_at_bound_ok", nested(6), false, deep},
			{"depth_past_bound_rejected", nested(7), true, deep},
			{"aliases_at_bound_ok", aliases(4, "me { id }"), false, nil},
			{"aliases_past_bound_rejected", aliases(5, "me { id }"), true, nil},
			{"root_fields_at_bound_ok", `{ me { id } patients { totalCount } doctors { totalCount } mappings { totalCount } patient(id: "1") { id } }`, false, nil},
			{"root_fields_past_bound_rejected", `{ me { id } patients { totalCount } doctors { totalCount } mappings { totalCount } patient(id: "1") { id } doctor(id: "1") { id } }`, true, nil},
			// patients(first: 100) { nodes { k fields } } costs 1 + 100*(1+k):
			// 501 with four fields; me { id } adds 2.
			{"complexity_under_bound_ok", `{ patients(first: 100) { nodes { id firstName lastName email } } }`, false, nil},
			{"complexity_past_bound_rejected", `{ patients(first: 100) { nodes { id firstName lastName email } } me { id } }`, true, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e
				if c.env != nil {
					e = c.env
				}
				e.counter.Reset()
				r := e.do(tok, c.query, nil)
				if c.reject {
					if r.code() != graph.CodeTooComplex {
						t.Fatalf("not rejected: %s", r.Raw)
					}
					if n := e.counter.Count(); n != 0 {
						t.Fatalf("%d SQL statements ran for a rejected operation", n)
					}
					return
				}
				if len(r.Errors) > 0 {
					t.Fatalf("rejected: %s", r.Raw)
				}
			})
		}
		t.Run("one_auth_field_per_operation", func(t *testing.T) {
			q := `mutation { a: login(input: {email: "limits@example.com", password: "x1"}) { tokens { access } } b: login(input: {email: "limits@example.com", password: "x2"}) { tokens { access } } }`
			e.counter.Reset()
			if r := e.do("", q, nil); r.code() != graph.CodeTooComplex || e.counter.Count() != 0 {
				t.Fatalf("%s (%d statements)", r.Raw, e.counter.Count())
			}
		})
		t.Run("batch_rejected", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(`[{"query":"{ me { id } }"},{"query":"{ me { id } }"}]`))
			req.Header.Set("Content-Type", "application/json")
			if r := e.send(req); r.Status != 400 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	})
}

func TestIntrospectionAndPersistedQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		off := newEnvWith(t, db, func(o *graph.Options) { o.Introspection = graph.IntrospectionOff })
		tok, _ := off.signup("intro@example.com")
		if r := off.do(tok, `{ __schema { queryType { name } } }`, nil); len(r.Errors) == 0 {
			t.Fatalf("introspection on by default: %s", r.Raw)
		}
		if r := off.do(tok, `{ me { emial } }`, nil); strings.Contains(r.Raw, "Did you mean") {
			t.Fatalf("field suggestions outside debug: %s", r.Raw)
		}
		on := newEnv(t, db)
		if r := on.do(tok, `{ __schema { queryType { name } } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("introspection off when enabled: %s", r.Raw)
		}

		t.Run("automatic_persisted_query", func(t *testing.T) {
			q := `{ me { email } }`
			sum := sha256.Sum256([]byte(q))
			ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
			send := func(query string) result {
				body := map[string]any{"extensions": ext}
				if query != "" {
					body["query"] = query
				}
				return on.doBody(tok, body)
			}
			if r := send(""); len(r.Errors) == 0 || !strings.Contains(r.Raw, "PersistedQueryNotFound") {
				t.Fatalf("unknown hash: %s", r.Raw)
			}
			if r := send(q); path(r.Data, "me", "email") != "intro@example.com" {
				t.Fatalf("register: %s", r.Raw)
			}
			if r := send(""); path(r.Data, "me", "email") != "intro@example.com" {
				t.Fatalf("by hash: %s", r.Raw)
			}
		})
	})
}
