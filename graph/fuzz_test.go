package graph_test

// FuzzGraphQLVariables sends fixed operations with fuzzed variables (raw
// bytes, so malformed JSON reaches the server too) and checks that every
// answer is a client error or a success: never a 5xx, never
// INTERNAL_SERVER_ERROR, always a JSON body with data or errors. CI runs the
// seeds (f.Add and testdata/fuzz/FuzzGraphQLVariables/); explore with
// `go test -run='^$' -fuzz='^FuzzGraphQLVariables$' ./graph/`.

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"healthcare/database/dbtest"
	"healthcare/graph"
)

// fuzzOps are the operations variables are fuzzed for; the fuzzer's first
// argument picks one (modulo their number; its high bit sends no token).
var fuzzOps = []string{
	`mutation($in: PatientInput!) { createPatient(input: $in) { id fullName email phone dateOfBirth gender bloodGroup isActive } }`,
	`mutation($id: ID!, $in: PatientPatch!) { updatePatient(id: $id, input: $in) { id fullName phone dateOfBirth bloodGroup } }`,
	`query($first: Int, $after: String, $last: Int, $before: String, $filter: PatientFilter) {
		patients(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
			totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id fullName } } }`,
	`mutation($in: DoctorInput!) { createDoctor(input: $in) { id fullName consultationFee experienceYears } }`,
	`mutation($p: ID!, $d: ID!, $status: MappingStatus) { createMapping(input: {patientId: $p, doctorId: $d, status: $status}) { id status } }`,
}

// knownCodes are the extensions.code values a client error may carry.
var knownCodes = map[string]bool{
	"BAD_USER_INPUT": true, "GRAPHQL_VALIDATION_FAILED": true, "GRAPHQL_PARSE_FAILED": true, "NOT_FOUND": true,
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "QUERY_TOO_COMPLEX": true, "BAD_REQUEST": true,
}

func FuzzGraphQLVariables(f *testing.F) {
	for _, s := range []struct {
		op   uint8
		vars string
	}{
		{0, `{"in":{"firstName":"Asha","lastName":"Rao","phone":"+919876543210","dateOfBirth":"1990-05-15","gender":"F","bloodGroup":"A_POS","email":"asha@example.com"}}`},
		{0, `{"in":{"firstName":"","lastName":"Rao","phone":"123","dateOfBirth":"2999-01-01","gender":"F"}}`},
		{0, `{"in":{"firstName":"Asha","lastName":"Rao","phone":"+919876543210","dateOfBirth":"1990-02-30","gender":"X","bloodGroup":"A+"}}`},
		{0, `{"in":{"firstName":1,"lastName":true,"phone":[],"dateOfBirth":{},"gender":null}}`},
		{0, `{"in":"patient"}`}, {0, `{"in":null}`}, {0, `{}`}, {0, `null`}, {0, `[]`}, {0, `"x"`}, {0, `{"in":`},
		{1, `{"id":"1","in":{"phone":"+91 98765-43210"}}`},
		{1, `{"id":"1","in":{"dateOfBirth":null,"firstName":null}}`},
		{1, `{"id":"-1","in":{}}`}, {1, `{"id":"99999999999999999999","in":{}}`}, {1, `{"id":"abc","in":{}}`},
		{1, `{"id":1.5,"in":{}}`}, {1, `{"id":"1","in":{"email":"\u0000@x.com","city":"\ud800"}}`},
		{2, `{"first":20,"filter":{"search":"ann","gender":"F","isActive":true,"bloodGroup":"O_NEG"}}`},
		{2, `{"first":101}`}, {2, `{"first":-1}`}, {2, `{"first":99999999999}`}, {2, `{"first":1e99}`},
		{2, `{"first":2,"after":"not-a-cursor"}`}, {2, `{"last":2,"before":"YzE"}`}, {2, `{"first":1,"last":1}`},
		{2, `{"filter":{"gender":"Z","bloodGroup":"A+"}}`}, {2, `{"filter":{"search":"` + strings.Repeat("a", 300) + `"}}`},
		{2, `{"filter":{"unknown":1}}`}, {0x82, `{"first":1}`},
		{3, `{"in":{"firstName":"Rajesh","lastName":"Kumar","email":"dr@hospital.com","phone":"+919876543220","specialization":"CARDIOLOGY","qualification":"MBBS","licenseNumber":"MH1","experienceYears":15,"consultationFee":1500}}`},
		{3, `{"in":{"firstName":"R","lastName":"K","email":"x","phone":"x","specialization":"PLUMBING","qualification":"","licenseNumber":"","experienceYears":2147483648,"consultationFee":1e309}}`},
		{4, `{"p":"1","d":"1","status":"ACTIVE"}`}, {4, `{"p":"0","d":"-5","status":"DONE"}`}, {4, `{"p":null,"d":{}}`},
	} {
		f.Add(s.op, []byte(s.vars))
	}

	var logBuf syncBuffer
	e := newEnvWith(f, dbtest.Open(f, dbtest.SQLite), func(o *graph.Options) {
		o.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
	})
	token, _ := e.signup("fuzz@example.com")
	e.mkPatient(token, "Fuzz") // id 1: the seeds update it
	e.mkDoctor(token, 1)

	f.Fuzz(func(t *testing.T, op uint8, vars []byte) {
		query, _ := json.Marshal(fuzzOps[int(op&0x7f)%len(fuzzOps)])
		body := make([]byte, 0, len(query)+len(vars)+32)
		body = append(body, `{"query":`...)
		body = append(body, query...)
		body = append(body, `,"variables":`...)
		body = append(body, vars...)
		body = append(body, '}')
		req, err := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if op&0x80 == 0 {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkGraphQLAnswer(t, resp.StatusCode, raw, body)
		if log := logBuf.String(); strings.Contains(log, "level=ERROR") {
			t.Fatalf("server logged an error for %q:\n%s", body, log)
		}
	})
}

// checkGraphQLAnswer asserts one answer is a JSON object with data or
// errors, no 5xx, and errors with known codes only.
func checkGraphQLAnswer(t *testing.T, status int, raw, sent []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("status %d for %q: %s", status, sent, raw)
	}
	var out struct {
		Data   *json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body is not a JSON object (%v) for %q: %s", status, err, sent, raw)
	}
	if out.Data == nil && len(out.Errors) == 0 {
		t.Fatalf("status %d, neither data nor errors for %q: %s", status, sent, raw)
	}
	for _, e := range out.Errors {
		code, _ := e.Extensions["code"].(string)
		if !knownCodes[code] {
			t.Fatalf("status %d, error code %q (%q) for %q: %s", status, code, e.Message, sent, raw)
		}
	}
	if status == http.StatusOK && len(out.Errors) == 0 && (out.Data == nil || string(*out.Data) == "null") {
		t.Fatalf("200 without errors or data for %q: %s", sent, raw)
	}
}

// syncBuffer is a log destination the server and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
