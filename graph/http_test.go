package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/graph"
)

// post sends body to the endpoint with the given headers (a token goes
// in as "Authorization") and returns the answer and its Content-Type.
func (e *env) post(body string, headers map[string]string) (result, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	_ = json.Unmarshal(raw, &out)
	return result{Status: resp.StatusCode, Data: out.Data, Errors: out.Errors, Raw: string(raw)}, resp.Header.Get("Content-Type")
}

func hasData(raw string) bool {
	var m map[string]json.RawMessage
	_ = json.Unmarshal([]byte(raw), &m)
	_, ok := m["data"]
	return ok
}

// TestLeak_ArgumentSuggestion: with DEBUG off no validation error suggests
// a name of the schema ("Did you mean first?"), whether the unknown name
// is an argument, a field, a type, an enum value or an input field. With
// DEBUG on they do, as a developer expects.
func TestLeak_ArgumentSuggestion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnvWith(t, db, func(*graph.Options) {})
		tok, _ := e.signup("leak@example.com")
		probes := map[string]string{
			"argument":     `{ patients(frist: 1) { totalCount } }`,
			"field":        `{ patients { totlCount } }`,
			"type":         `query($f: PatientFiltr) { patients(filter: $f) { totalCount } }`,
			"enum_value":   `{ patients(filter: {gender: FF}) { totalCount } }`,
			"input_field":  `{ patients(filter: {gendr: F}) { totalCount } }`,
			"fragment_on":  `{ patient(id: "1") { ... on Patien { id } } }`,
			"scalar_leaf":  `{ me }`,
			"enum_literal": `{ doctors(filter: {specialization: "CARDIOLOGY"}) { totalCount } }`,
		}
		for name, q := range probes {
			t.Run(name, func(t *testing.T) {
				r := e.do(tok, q, nil)
				if len(r.Errors) == 0 || r.code() != "GRAPHQL_VALIDATION_FAILED" {
					t.Fatalf("want a validation error: %s", r.Raw)
				}
				if strings.Contains(r.Raw, "Did you mean") {
					t.Fatalf("suggestion outside debug: %s", r.Raw)
				}
			})
		}
		t.Run("debug_suggests", func(t *testing.T) {
			dbg := newEnvWith(t, db, func(o *graph.Options) { o.Debug = true })
			r := dbg.do(tok, probes["argument"], nil)
			if !strings.Contains(r.Raw, `Did you mean \"first\"`) {
				t.Fatalf("no suggestion in debug: %s", r.Raw)
			}
		})
	})
}

// TestInput_IntOutOfRange: first: 1e40 answered "cannot use value 0 as
// Int". An Int that is not a 32-bit whole number is refused naming the
// argument (and input field), BAD_USER_INPUT with extensions.fields for a
// variable.
func TestInput_IntOutOfRange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnvWith(t, db, func(*graph.Options) {})
		tok, _ := e.signup("ints@example.com")
		const byVar = `query($n: Int) { patients(first: $n) { totalCount } }`
		for _, n := range []string{"1e40", "3000000000", "-2147483649", "1.5", "1e400"} {
			t.Run("variable_"+n, func(t *testing.T) {
				r, _ := e.post(`{"query":"query($n: Int) { patients(first: $n) { totalCount } }","variables":{"n":`+n+`}}`,
					map[string]string{"Authorization": "Bearer " + tok})
				if r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Extensions.Fields["first"]) == 0 || !strings.Contains(r.Errors[0].Message, `"first"`) {
					t.Fatalf("%s", r.Raw)
				}
				if strings.Contains(r.Raw, "cannot use value") || hasData(r.Raw) {
					t.Fatalf("%s", r.Raw)
				}
			})
		}
		t.Run("nested_input_field", func(t *testing.T) {
			r := e.do(tok, `query($f: DoctorFilter) { doctors(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"minExperience": 1e40}})
			if r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Extensions.Fields["minExperience"]) == 0 || !strings.Contains(r.Errors[0].Message, `"filter"`) {
				t.Fatalf("%s", r.Raw)
			}
		})
		for _, lit := range []string{"1e40", "3000000000", "2.5"} {
			t.Run("literal_"+lit, func(t *testing.T) {
				r := e.do(tok, `{ patients(first: `+lit+`) { totalCount } }`, nil)
				if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, `Argument "first"`) || strings.Contains(r.Raw, "cannot use value") {
					t.Fatalf("%s", r.Raw)
				}
			})
		}
		t.Run("whole_float_is_an_int", func(t *testing.T) {
			r, _ := e.post(`{"query":"query($n: Int) { patients(first: $n) { totalCount } }","variables":{"n":2.0}}`,
				map[string]string{"Authorization": "Bearer " + tok})
			if len(r.Errors) > 0 || path(r.Data, "patients", "totalCount") != float64(0) {
				t.Fatalf("%s", r.Raw)
			}
		})
		if r := e.do(tok, byVar, map[string]any{"n": 100}); len(r.Errors) > 0 {
			t.Fatalf("a valid first: %s", r.Raw)
		}
	})
}

// TestInput_NonUTF8Charset: a body sent as application/json;
// charset=utf-16 was parsed as UTF-8. Any charset but UTF-8 is 415 with a
// message.
func TestInput_NonUTF8Charset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnvWith(t, db, func(*graph.Options) {})
		body := `{"query":"{ __typename }"}`
		for _, ct := range []string{"application/json; charset=utf-16", "application/json; charset=UTF-16LE", "application/json; charset=iso-8859-1"} {
			r, _ := e.post(body, map[string]string{"Content-Type": ct})
			if r.Status != http.StatusUnsupportedMediaType || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "UTF-8") {
				t.Fatalf("%s: %d %s", ct, r.Status, r.Raw)
			}
		}
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"} {
			if r, _ := e.post(body, map[string]string{"Content-Type": ct}); r.Status != 200 || path(r.Data, "__typename") != "Query" {
				t.Fatalf("%s: %d %s", ct, r.Status, r.Raw)
			}
		}
		if r, _ := e.post("{\"query\":\"{ __typename }\",\"x\":\"\xff\"}", nil); r.Status != 400 {
			t.Fatalf("invalid UTF-8: %d %s", r.Status, r.Raw)
		}
	})
}

// TestOverHTTP pins what GraphQL over HTTP asks of the answers: 200 in
// application/json, 400 in application/graphql-response+json for a request
// that fails before execution, never a data entry then, and 400 for a
// request that is not a GraphQL request at all.
func TestOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnvWith(t, db, func(*graph.Options) {})
		const gqlResp = "application/graphql-response+json"
		failures := map[string]string{
			"parse":      `{"query":"{"}`,
			"validation": `{"query":"{ nope }"}`,
			"coercion":   `{"query":"query($id: ID!) { __typename }","variables":{"id":null}}`,
			"operation":  `{"query":"query A { __typename }","operationName":"B"}`,
		}
		for name, body := range failures {
			for _, accept := range []string{"", "application/json", "*/*", gqlResp, gqlResp + ", application/json;q=0.9"} {
				t.Run(name+"_"+accept, func(t *testing.T) {
					r, ct := e.post(body, map[string]string{"Accept": accept})
					want, wantCT := 200, "application/json"
					if strings.HasPrefix(accept, gqlResp) {
						want, wantCT = 400, gqlResp
					}
					if r.Status != want || !strings.HasPrefix(ct, wantCT) || len(r.Errors) == 0 || hasData(r.Raw) {
						t.Fatalf("%d %s %s", r.Status, ct, r.Raw)
					}
				})
			}
		}
		for name, body := range map[string]string{
			"no_query": `{"qeury":"{ __typename }"}`, "query_not_string": `{"query":{}}`, "variables_not_object": `{"query":"{ __typename }","variables":"x"}`,
			"extensions_not_object": `{"query":"{ __typename }","extensions":[1]}`, "not_json": `{"query`, "empty": ``,
		} {
			t.Run(name, func(t *testing.T) {
				for _, accept := range []string{"application/json", gqlResp} {
					if r, _ := e.post(body, map[string]string{"Accept": accept}); r.Status != 400 || len(r.Errors) == 0 || r.code() != "BAD_REQUEST" {
						t.Fatalf("%s: %d %s", accept, r.Status, r.Raw)
					}
				}
			})
		}
		t.Run("ok_both_media_types", func(t *testing.T) {
			for _, accept := range []string{"application/json", gqlResp} {
				r, ct := e.post(`{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}`, map[string]string{"Accept": accept})
				if r.Status != 200 || !strings.HasPrefix(ct, accept) || path(r.Data, "__typename") != "Query" || len(r.Errors) > 0 {
					t.Fatalf("%s: %d %s %s", accept, r.Status, ct, r.Raw)
				}
			}
		})
		t.Run("get_with_variables", func(t *testing.T) {
			get := func(v url.Values) result {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"?"+v.Encode(), nil)
				req.Header.Set("Accept", gqlResp)
				return e.send(req)
			}
			q := `query Q($b: Boolean!) { __typename @include(if: $b) }`
			if r := get(url.Values{"query": {q}, "operationName": {"Q"}, "variables": {`{"b": true}`}}); r.Status != 200 || path(r.Data, "__typename") != "Query" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if r := get(url.Values{"query": {q}, "variables": {`{"b":`}}); r.Status != 400 || r.code() != "BAD_REQUEST" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if r := get(url.Values{"query": {q}}); r.Status != 400 || hasData(r.Raw) {
				t.Fatalf("missing variable: %d %s", r.Status, r.Raw)
			}
		})
		t.Run("defer_is_unknown", func(t *testing.T) {
			tok, _ := e.signup("defer@example.com")
			r := e.do(tok, `{ patients { nodes { id ... @defer { city } } } }`, nil)
			if r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "defer") {
				t.Fatalf("%s", r.Raw)
			}
		})
	})
}

// TestIntrospectionPolicy: off refuses everyone, authenticated (the
// default) wants any valid access token, public lets anyone in.
func TestIntrospectionPolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		const q = `{ __schema { queryType { name } } }`
		const typeQ = `{ __type(name: "Patient") { name } }`
		envs := map[graph.Introspection]*env{}
		for _, p := range []graph.Introspection{"", graph.IntrospectionOff, graph.IntrospectionAuthenticated, graph.IntrospectionPublic} {
			envs[p] = newEnvWith(t, db, func(o *graph.Options) { o.Introspection = p })
		}
		tok, _ := envs[""].signup("intro-policy@example.com")
		for _, c := range []struct {
			policy      graph.Introspection
			token       string
			wantAllowed bool
			wantCode    string
		}{
			{"", "", false, "UNAUTHENTICATED"},
			{"", tok, true, ""},
			{"", "not-a-token", false, "UNAUTHENTICATED"},
			{graph.IntrospectionAuthenticated, "", false, "UNAUTHENTICATED"},
			{graph.IntrospectionAuthenticated, tok, true, ""},
			{graph.IntrospectionOff, "", false, "GRAPHQL_VALIDATION_FAILED"},
			{graph.IntrospectionOff, tok, false, "GRAPHQL_VALIDATION_FAILED"},
			{graph.IntrospectionPublic, "", true, ""},
			{graph.IntrospectionPublic, tok, true, ""},
		} {
			name := string(c.policy)
			if name == "" {
				name = "default"
			}
			if c.token == "" {
				name += "_anonymous"
			} else if c.token == tok {
				name += "_token"
			} else {
				name += "_bad_token"
			}
			t.Run(name, func(t *testing.T) {
				for _, query := range []string{q, typeQ} {
					r := envs[c.policy].do(c.token, query, nil)
					if c.wantAllowed != (len(r.Errors) == 0 && r.Data != nil) || (!c.wantAllowed && r.code() != c.wantCode) {
						t.Fatalf("%s: %d %s", query, r.Status, r.Raw)
					}
					if !c.wantAllowed && (hasData(r.Raw) || !strings.Contains(r.Raw, "schema.graphql") && c.token == "") {
						t.Fatalf("refusal should point at the SDL and carry no data: %s", r.Raw)
					}
				}
				// __typename is no introspection.
				if r := envs[c.policy].do("", `{ __typename }`, nil); path(r.Data, "__typename") != "Query" {
					t.Fatalf("__typename: %s", r.Raw)
				}
			})
		}
	})
}
