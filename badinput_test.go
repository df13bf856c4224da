package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestBadInput sends a few thousand malformed requests of many kinds,
// generated from a fixed seed, to both APIs of the whole program and
// checks that each is answered as the client's mistake: no 5xx, a JSON
// body, no GraphQL INTERNAL_SERVER_ERROR, and nothing logged at ERROR and
// no panic.
func TestBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("barrage of malformed requests")
	}
	logBuf := &lockedBuffer{}
	secret := strings.Repeat("b", 40)
	cfg, err := loadConfig(envMap(map[string]string{
		"SQLITE_PATH": filepath.Join(t.TempDir(), "hc.db"), "SECRET_KEY": secret,
		"FIELD_ENCRYPTION_KEY": testFieldKey, "LOG_LEVEL": "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.db.Close() })
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)

	// Fixtures: one account, one patient, one doctor, one mapping.
	client := srv.Client()
	client.Timeout = 10 * time.Second
	b := &barrage{t: t, base: srv.URL, client: client, byKind: map[string]int{}, statuses: map[int]int{}, codes: map[string]int{}, known: map[string]int{}}
	reg := b.must(http.MethodPost, "/api/auth/register/", `{"name":"Bad Input","email":"bad@example.com","password":"Correct-Horse-42","password_confirm":"Correct-Horse-42"}`, "", 201)
	b.token = path(reg, "data", "tokens", "access").(string)
	b.refresh = path(reg, "data", "tokens", "refresh").(string)
	b.userID = int64(path(reg, "data", "user", "id").(float64))
	p := b.must(http.MethodPost, "/api/patients/", validPatient, b.token, 201)
	b.patientID = int64(path(p, "data", "id").(float64))
	d := b.must(http.MethodPost, "/api/doctors/", validDoctor, b.token, 201)
	b.doctorID = int64(path(d, "data", "id").(float64))
	m := b.must(http.MethodPost, "/api/mappings/", fmt.Sprintf(`{"patient":%d,"doctor":%d,"reason":"checkup"}`, b.patientID, b.doctorID), b.token, 201)
	b.mappingID = int64(path(m, "data", "id").(float64))
	b.badTokens = badTokens(secret, b.userID, b.refresh)

	rng := rand.New(rand.NewPCG(4, 2026))
	start := time.Now()
	for _, k := range kinds {
		for range k.n {
			pr := k.gen(rng, b)
			pr.kind = k.name
			b.send(pr)
		}
	}
	elapsed := time.Since(start)

	// Every fixture survived the barrage (no malformed request deleted it).
	for _, p := range []string{fmt.Sprintf("/api/patients/%d/", b.patientID), fmt.Sprintf("/api/doctors/%d/", b.doctorID), fmt.Sprintf("/api/mappings/detail/%d/", b.mappingID)} {
		b.must(http.MethodGet, p, "", b.token, 200)
	}

	log := logBuf.String()
	for _, line := range strings.Split(log, "\n") {
		known := false
		for _, k := range knownIssues {
			known = known || k.log != "" && b.known[k.name] > 0 && strings.Contains(line, k.log)
		}
		if !known && (strings.Contains(line, "level=ERROR") || strings.Contains(strings.ToLower(line), "panic")) {
			t.Errorf("server log: %.500s", line)
		}
	}
	names := make([]string, 0, len(b.byKind))
	for k := range b.byKind {
		names = append(names, k)
	}
	slices.Sort(names)
	var sb strings.Builder
	for _, k := range names {
		fmt.Fprintf(&sb, "\n  %-22s %5d", k, b.byKind[k])
	}
	t.Logf("%d malformed requests in %s (REST %d, GraphQL %d) by kind:%s\nstatuses: %v\nGraphQL error codes: %v",
		b.total, elapsed.Round(time.Millisecond), b.rest, b.gql, sb.String(), b.statuses, b.codes)
	for name, n := range b.known {
		t.Logf("KNOWN ISSUE, not fixed here (%d requests): %s", n, name)
	}
}

// lockedBuffer is a log destination the server writes and the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const (
	validPatient = `{"first_name":"ABC","last_name":"XYZ","email":"abc@email.com","phone":"+919876543210","date_of_birth":"1990-05-15",` +
		`"gender":"F","blood_group":"A+","city":"Mumbai","medical_history":"None","allergies":"Penicillin"}`
	validDoctor = `{"first_name":"Rajesh","last_name":"Kumar","email":"dr.rajesh@hospital.com","phone":"+919876543220",` +
		`"specialization":"CARDIOLOGY","qualification":"MBBS, MD","license_number":"MH12345","experience_years":15,"consultation_fee":1500}`
)

// probe is one request of the barrage.
type probe struct {
	kind    string
	method  string
	path    string // with its query
	body    []byte
	ctype   string // Content-Type; "" sends application/json when there is a body, "-" none
	auth    string // Authorization; "" sends the fixture's token, "-" none
	headers map[string]string
}

type barrage struct {
	t         *testing.T
	base      string
	client    *http.Client
	token     string
	refresh   string
	userID    int64
	patientID int64
	doctorID  int64
	mappingID int64
	badTokens []string

	total, rest, gql int
	byKind           map[string]int
	statuses         map[int]int
	codes            map[string]int
	known            map[string]int
}

// knownIssues are bugs this test found whose fix lies outside the files it
// may change; each is counted and reported instead of failing the test.
// Delete an entry once its bug is fixed.
var knownIssues = []struct {
	name  string
	match func(pr probe, status int, raw []byte) bool
	log   string // the server's ERROR line it causes, if any
}{}

var stdMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

func knownIssue(pr probe, status int, raw []byte) string {
	for _, k := range knownIssues {
		if k.match(pr, status, raw) {
			return k.name
		}
	}
	return ""
}

// must sends a well-formed request that has to succeed with status want.
func (b *barrage) must(method, p, body, token string, want int) map[string]any {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+p, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode != want || json.Unmarshal(raw, &out) != nil {
		b.t.Fatalf("%s %s: %d %s", method, p, resp.StatusCode, raw)
	}
	return out
}

// send sends pr and checks its answer.
func (b *barrage) send(pr probe) {
	b.t.Helper()
	var body io.Reader
	if pr.body != nil {
		body = bytes.NewReader(pr.body)
	}
	req, err := http.NewRequest(pr.method, b.base+pr.path, body)
	if err != nil {
		b.t.Fatalf("%s: build %s %q: %v", pr.kind, pr.method, pr.path, err)
	}
	switch {
	case pr.ctype == "-":
	case pr.ctype != "":
		req.Header.Set("Content-Type", pr.ctype)
	case pr.body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	switch pr.auth {
	case "-":
	case "":
		req.Header.Set("Authorization", "Bearer "+b.token)
	default:
		req.Header.Set("Authorization", pr.auth)
	}
	for k, v := range pr.headers {
		req.Header.Set(k, v)
	}
	began := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Errorf("%s: %s %.200q body %.200q: %v", pr.kind, pr.method, pr.path, pr.body, err)
		return
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if took := time.Since(began); took > time.Second {
		b.t.Errorf("%s: %s %.200q body %.200q took %s", pr.kind, pr.method, pr.path, pr.body, took.Round(time.Millisecond))
	}
	b.total++
	b.byKind[pr.kind]++
	b.statuses[resp.StatusCode]++
	isGQL := strings.HasPrefix(pr.path, "/graphql")
	if isGQL {
		b.gql++
	} else {
		b.rest++
	}
	what := fmt.Sprintf("%s: %s %.300q body %.300q", pr.kind, pr.method, pr.path, pr.body)
	if resp.StatusCode >= 500 {
		b.t.Errorf("%s: status %d: %.500s", what, resp.StatusCode, raw)
		return
	}
	if pr.method == http.MethodHead || resp.StatusCode == http.StatusNoContent || (pr.method == http.MethodOptions && len(raw) == 0) {
		return
	}
	if issue := knownIssue(pr, resp.StatusCode, raw); issue != "" {
		b.known[issue]++
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		b.t.Errorf("%s: status %d with Content-Type %q: %.300s", what, resp.StatusCode, ct, raw)
		return
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Errorf("%s: status %d, body is not a JSON object: %v: %.300s", what, resp.StatusCode, err, raw)
		return
	}
	if !isGQL {
		if ok, isBool := out["success"].(bool); !isBool || ok != (resp.StatusCode < 400) {
			b.t.Errorf("%s: status %d with success=%v: %.300s", what, resp.StatusCode, out["success"], raw)
		}
		return
	}
	errs, _ := out["errors"].([]any)
	if _, hasData := out["data"]; !hasData && len(errs) == 0 {
		b.t.Errorf("%s: status %d, neither data nor errors: %.300s", what, resp.StatusCode, raw)
	}
	for _, e := range errs {
		code, _ := path(e, "extensions", "code").(string)
		b.codes[code]++
		if code == "INTERNAL_SERVER_ERROR" || code == "" && resp.StatusCode == http.StatusOK {
			b.t.Errorf("%s: status %d, error code %q: %.300s", what, resp.StatusCode, code, raw)
		}
	}
}

// badTokens are Authorization values that must all be refused: missing
// parts, garbage, expired, unsigned ("alg":"none"), another algorithm,
// another issuer or audience, a refresh token, subjects that name no
// account.
func badTokens(secret string, uid int64, refresh string) []string {
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			panic(err)
		}
		return s
	}
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "healthcare", "aud": []string{"healthcare-api"}, "sub": strconv.FormatInt(uid, 10),
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "x1", "typ": "access"}
		edit(c)
		return c
	}
	key := []byte(secret)
	hs := func(edit func(jwt.MapClaims)) string { return sign(jwt.SigningMethodHS256, key, claims(edit)) }
	none := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(func(jwt.MapClaims) {}))
	valid := hs(func(jwt.MapClaims) {})
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	return []string{
		"Bearer", "Bearer ", "Bearer  ", "bearer x", "Token " + valid, "Basic YWRtaW46YWRtaW4=", "Bearer a.b.c", "Bearer ...",
		"Bearer " + strings.Repeat("A", 8000), "Bearer " + valid + "x", "Bearer " + parts[0] + "." + parts[1] + ".",
		"Bearer " + parts[0] + "." + b64([]byte(`{"sub":"1"}`)) + "." + parts[2], "Bearer " + valid + "." + parts[2],
		"Bearer " + none, "Bearer " + strings.TrimSuffix(none, "."),
		"Bearer " + sign(jwt.SigningMethodHS512, key, claims(func(jwt.MapClaims) {})),
		"Bearer " + hs(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Hour).Unix()
			c["iat"] = now.Add(-2 * time.Hour).Unix()
		}),
		"Bearer " + hs(func(c jwt.MapClaims) { delete(c, "exp") }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["iss"] = "someone-else" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["aud"] = "other-api" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["typ"] = "refresh" }),
		"Bearer " + hs(func(c jwt.MapClaims) { delete(c, "jti") }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["sub"] = "abc" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["sub"] = "0" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["sub"] = "-1" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["sub"] = "99999999999999999999" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["sub"] = "999999" }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["sub"] = 7 }),
		"Bearer " + hs(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }),
		"Bearer " + sign(jwt.SigningMethodHS256, []byte(strings.Repeat("w", 40)), claims(func(jwt.MapClaims) {})),
		"Bearer " + refresh,
		"Bearer " + b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{"sub":"1","typ":"access"}`)) + ".",
		"Bearer " + b64([]byte("\xff\xfe")) + "." + b64([]byte("[]")) + "." + b64([]byte("x")),
		"Bearer \u00e9\u00e9\u00e9",
	}
}

// kinds are the families of malformed requests and how many of each.
var kinds = []struct {
	name string
	n    int
	gen  func(*rand.Rand, *barrage) probe
}{
	{"rest_wrong_method", 120, restWrongMethod},
	{"rest_unknown_path", 80, restUnknownPath},
	{"rest_bad_id", 150, restBadID},
	{"rest_truncated_json", 150, restTruncated},
	{"rest_not_object", 80, restNotObject},
	{"rest_deep_nesting", 20, restDeep},
	{"rest_huge_values", 30, restHuge},
	{"rest_wrong_types", 250, restWrongTypes},
	{"rest_utf8_nul", 100, restUTF8},
	{"rest_content_type", 80, restContentType},
	{"rest_bad_token", 150, restBadToken},
	{"rest_query_params", 250, restQuery},
	{"rest_auth_bodies", 50, restAuthBodies},
	{"gql_syntax", 200, gqlSyntax},
	{"gql_unknown_field", 100, gqlUnknown},
	{"gql_variable_types", 250, gqlVarTypes},
	{"gql_huge_first", 60, gqlHugeFirst},
	{"gql_bad_cursor", 100, gqlBadCursor},
	{"gql_bad_id", 100, gqlBadID},
	{"gql_bad_enum", 80, gqlBadEnum},
	{"gql_long_query", 20, gqlLong},
	{"gql_aliases", 40, gqlAliases},
	{"gql_fragments", 40, gqlFragments},
	{"gql_typename_spam", 20, gqlTypename},
	{"gql_batched", 30, gqlBatched},
	{"gql_get", 100, gqlGet},
	{"gql_http", 100, gqlHTTP},
	{"gql_bad_token", 100, gqlBadToken},
	{"gql_deep", 30, gqlDeep},
	{"gql_directives", 50, gqlDirectives},
	{"gql_auth_mutations", 40, gqlAuthMutations},
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// gqlPost is a POST /graphql of query with variables (any JSON value, or
// raw bytes as they are).
func gqlPost(query string, vars any) probe {
	q, _ := json.Marshal(query)
	var v []byte
	switch x := vars.(type) {
	case nil:
		v = []byte("null")
	case []byte:
		v = x
	case string:
		v = []byte(x)
	default:
		v, _ = json.Marshal(x)
	}
	body := append(append(append([]byte(`{"query":`), q...), `,"variables":`...), v...)
	return probe{method: http.MethodPost, path: "/graphql", body: append(body, '}')}
}

// mutate damages a valid text: truncates it, drops, swaps or inserts a
// byte.
func mutate(rng *rand.Rand, s string) string {
	if s == "" {
		return "{"
	}
	b := []byte(s)
	i := rng.IntN(len(b))
	switch rng.IntN(5) {
	case 0:
		return string(b[:i])
	case 1:
		return string(append(b[:i:i], b[i+1:]...))
	case 2:
		b[i] = pick(rng, byte('{'), '}', '[', ']', '"', ',', ':', '\\', 0, 0xff, '\n', '$', '@', '!', '(', ')')
		return string(b)
	case 3:
		j := rng.IntN(len(b))
		b[i], b[j] = b[j], b[i]
		return string(b)
	default:
		ins := pick(rng, "{", "}", `"`, `\u`, `\ud800`, "\x00", "\xff\xfe", ",,", "::", "null", "1e999", "-", "#")
		return string(b[:i]) + ins + string(b[i:])
	}
}

func garbage(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

// ---- REST ----

func (b *barrage) ids() (p, d, m string) {
	return strconv.FormatInt(b.patientID, 10), strconv.FormatInt(b.doctorID, 10), strconv.FormatInt(b.mappingID, 10)
}

func restWrongMethod(rng *rand.Rand, b *barrage) probe {
	p, d, m := b.ids()
	// Methods no route takes at these paths: nothing here may change a fixture.
	cases := [][2]string{
		{"DELETE", "/api/patients/"}, {"PUT", "/api/patients/"}, {"PATCH", "/api/doctors/"}, {"DELETE", "/api/mappings/"},
		{"POST", "/api/patients/" + p + "/"}, {"POST", "/api/doctors/" + d + "/"}, {"PUT", "/api/mappings/detail/" + m + "/"},
		{"POST", "/api/mappings/detail/" + m + "/"}, {"POST", "/api/mappings/" + p + "/"}, {"DELETE", "/api/mappings/" + p + "/"},
		{"GET", "/api/auth/login/"}, {"GET", "/api/auth/register/"}, {"PUT", "/api/auth/me/"}, {"DELETE", "/api/auth/me/"},
		{"GET", "/api/auth/token/refresh/"}, {"GET", "/api/auth/logout/"}, {"POST", "/api/schema/"}, {"DELETE", "/api/docs/"},
		{"TRACE", "/api/patients/"}, {"PROPFIND", "/api/patients/"}, {"FOO", "/api/doctors/" + d + "/"}, {"BREW", "/api/"},
		{"OPTIONS", "/api/patients/"}, {"OPTIONS", "/api/mappings/detail/" + m + "/"}, {"HEAD", "/api/patients/"},
		{"HEAD", "/api/auth/login/"}, {"M-SEARCH", "/api/mappings/"}, {"LOCK", "/api/patients/" + p + "/"},
	}
	c := pick(rng, cases...)
	pr := probe{method: c[0], path: c[1]}
	if rng.IntN(2) == 0 && c[0] != "HEAD" && c[0] != "OPTIONS" && c[0] != "TRACE" {
		pr.body = []byte(pick(rng, validPatient, validDoctor, `{}`, `[]`))
	}
	return pr
}

func restUnknownPath(rng *rand.Rand, _ *barrage) probe {
	paths := []string{
		"/api", "/api/", "/api/nope/", "/api/patients/1/extra/", "/api/patients/1/2/3/", "/api/Patients/", "/api/PATIENTS/",
		"/api/doctor/", "/api/mapping/", "/api/mappings/detail/", "/api/mappings/detail/1/x/", "/api/auth/", "/api/auth/me/x/",
		"/api/%2e%2e/%2e%2e/etc/passwd", "/api/patients/%00/", "/api/patients/%2F/", "/api//patients/", "/api/patients//",
		"/api/" + strings.Repeat("a", 4000) + "/", "/api/%E2%98%83/", "/api/%ff%fe/", "/api/patients/..;/", "/api/v2/patients/",
		"/api/schema/x/", "/api/docs/../schema/", "/api/;/", "/api/patients;jsessionid=1/",
	}
	method := pick(rng, "GET", "POST", "PUT", "DELETE", "PATCH")
	pr := probe{method: method, path: pick(rng, paths...)}
	if method != "GET" {
		pr.body = []byte(`{}`)
	}
	return pr
}

var badIDs = []string{"abc", "-1", "0", "00", "-0", "1.5", "1e3", "0x10", "%20", "+1", "%2B1", "9223372036854775807",
	"9223372036854775808", "99999999999999999999999999", "-9223372036854775809", "%00", "1%00", "NaN", "null", "[1]",
	"%7B%7D", "1,2", "%E2%91%A0", "%D9%A1", "999999", "２", "true", "1 ", "%201"}

func restBadID(rng *rand.Rand, _ *barrage) probe {
	id := pick(rng, badIDs...)
	prefix := pick(rng, "/api/patients/", "/api/doctors/", "/api/mappings/detail/", "/api/mappings/")
	method := "GET"
	if prefix != "/api/mappings/" {
		method = pick(rng, "GET", "GET", "PUT", "PATCH", "DELETE")
	}
	if prefix == "/api/mappings/detail/" && method == "PUT" {
		method = "PATCH"
	}
	if method == "DELETE" && (id == "+1" || id == "%2B1") {
		method = "GET" // a signed number is still the fixture's id
	}
	pr := probe{method: method, path: prefix + url.PathEscape(id) + "/"}
	if strings.Contains(id, "%") {
		pr.path = prefix + id + "/"
	}
	if method == "PUT" || method == "PATCH" {
		pr.body = []byte(pick(rng, validPatient, validDoctor, `{"status":"COMPLETED"}`, `{}`))
	}
	return pr
}

// bodyTarget picks a path that reads a JSON body, and a valid body for it.
func bodyTarget(rng *rand.Rand, b *barrage) (method, path, body string) {
	p, d, m := b.ids()
	mapping := fmt.Sprintf(`{"patient":%s,"doctor":%s,"reason":"x","notes":"y","status":"ACTIVE"}`, p, d)
	switch rng.IntN(8) {
	case 0:
		return "POST", "/api/patients/", validPatient
	case 1:
		return pick(rng, "PUT", "PATCH"), "/api/patients/" + p + "/", validPatient
	case 2:
		return "POST", "/api/doctors/", validDoctor
	case 3:
		return pick(rng, "PUT", "PATCH"), "/api/doctors/" + d + "/", validDoctor
	case 4:
		return "POST", "/api/mappings/", mapping
	case 5:
		return "PATCH", "/api/mappings/detail/" + m + "/", `{"reason":"r","notes":"n","status":"ACTIVE"}`
	case 6:
		return "PATCH", "/api/patients/" + p + "/", `{"phone":"+919876543210","is_active":true}`
	default:
		return "PATCH", "/api/doctors/" + d + "/", `{"consultation_fee":1500,"is_available":true}`
	}
}

func restTruncated(rng *rand.Rand, b *barrage) probe {
	method, p, body := bodyTarget(rng, b)
	var out string
	if rng.IntN(2) == 0 {
		out = body[:rng.IntN(len(body))]
	} else {
		out = mutate(rng, body)
	}
	return probe{method: method, path: p, body: []byte(out)}
}

func restNotObject(rng *rand.Rand, b *barrage) probe {
	method, p, _ := bodyTarget(rng, b)
	body := pick(rng, `[]`, `[{}]`, `[`+validPatient+`]`, `"x"`, `""`, `"{}"`, `42`, `-0`, `1e999`, `3.14`, `true`, `false`, `null`,
		` null `, `{}{}`, `{} []`, `{"a":1} x`, "\t\n", `[[]]`, `"\u0000"`, `0x10`, `NaN`, `Infinity`, `'x'`, `{'a':1}`, `{a:1}`)
	return probe{method: method, path: p, body: []byte(body)}
}

func restDeep(rng *rand.Rand, b *barrage) probe {
	method, p, _ := bodyTarget(rng, b)
	n := pick(rng, 100, 1000, 9999, 10000, 10001, 50000)
	var body string
	switch rng.IntN(4) {
	case 0:
		body = strings.Repeat("[", n) + strings.Repeat("]", n)
	case 1:
		body = strings.Repeat("[", n)
	case 2:
		body = strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
	default:
		body = `{"first_name":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,"reason":` + strings.Repeat(`{"a":`, n/2) + "1" + strings.Repeat("}", n/2) + `}`
	}
	return probe{method: method, path: p, body: []byte(body)}
}

func restHuge(rng *rand.Rand, b *barrage) probe {
	method, p, _ := bodyTarget(rng, b)
	field := pick(rng, "first_name", "medical_history", "bio", "reason", "notes", "email", "phone", "unknown_field")
	n := pick(rng, 10_001, 100_000, 900_000, 2_000_000)
	body := fmt.Sprintf(`{%q:%q}`, field, strings.Repeat(pick(rng, "a", "é", "😀", " "), n/4))
	if rng.IntN(3) == 0 {
		// Many keys rather than one long value.
		var sb strings.Builder
		sb.WriteString("{")
		for i := range 20000 {
			fmt.Fprintf(&sb, `"k%d":%d,`, i, i)
		}
		sb.WriteString(`"first_name":"A"}`)
		body = sb.String()
	}
	return probe{method: method, path: p, body: []byte(body)}
}

// fieldsOf names the body fields of each entity.
var restFields = []string{"first_name", "last_name", "email", "phone", "date_of_birth", "gender", "blood_group", "address",
	"city", "state", "postal_code", "country", "medical_history", "allergies", "current_medications", "emergency_contact_name",
	"emergency_contact_phone", "emergency_contact_relation", "is_active", "specialization", "qualification", "license_number",
	"experience_years", "clinic_name", "consultation_fee", "available_days", "is_available", "languages_spoken",
	"patient", "doctor", "reason", "notes", "status", "id", "created_at", "owner", "created_by"}

var wrongValues = []string{`null`, `true`, `false`, `0`, `-1`, `1.5`, `-0.0`, `1e308`, `-1e308`, `1e999`, `9223372036854775807`,
	`9223372036854775808`, `-9223372036854775809`, `123456789012345678901234567890`, `[]`, `[1,2]`, `{}`, `{"a":1}`, `""`, `" "`,
	`"\u0000"`, `"NaN"`, `"Infinity"`, `"-Infinity"`, `"1e999"`, `"0x1F"`, `"true"`, `"yes"`, `"2024-13-45"`, `"1990-05-15T00:00:00Z"`,
	`"9999-12-31"`, `"0000-00-00"`, `"-0001-01-01"`, `"+919876543210\n"`, `"A+ "`, `"a+"`, `"CARDIOLOGY "`, `"cardiology"`,
	`"ACTIVE\u0000"`, `"\ud800"`, `"<script>alert(1)</script>"`, `"'; DROP TABLE patients; --"`, `"%s%n%x"`, `"${jndi:ldap://x}"`}

func restWrongTypes(rng *rand.Rand, b *barrage) probe {
	method, p, body := bodyTarget(rng, b)
	var obj map[string]json.RawMessage
	_ = json.Unmarshal([]byte(body), &obj)
	for range 1 + rng.IntN(4) {
		obj[pick(rng, restFields...)] = json.RawMessage(pick(rng, wrongValues...))
	}
	// json.Marshal would reject the invalid ones (1e999): write by hand.
	var sb strings.Builder
	sb.WriteString("{")
	i := 0
	for k, v := range obj {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "%q:%s", k, v)
		i++
	}
	sb.WriteString("}")
	return probe{method: method, path: p, body: []byte(sb.String())}
}

func restUTF8(rng *rand.Rand, b *barrage) probe {
	method, p, body := bodyTarget(rng, b)
	bad := pick(rng, "\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x00", "\x00\x00", "\xef\xbb\xbf", "\u2028", "\x7f", "\x1b[31m")
	switch rng.IntN(4) {
	case 0: // inside a string value
		i := strings.Index(body, `":"`) + 3
		body = body[:i] + bad + body[i:]
	case 1: // between tokens
		i := strings.Index(body, ",")
		body = body[:i] + bad + body[i:]
	case 2: // before the object (a BOM, a NUL)
		body = bad + body
	default: // escaped NULs and lone surrogates
		body = strings.Replace(body, `":"`, `":"`+pick(rng, `\u0000`, `\ud800`, `\udfff\ud800`, `\u0000\u0000x`), 1)
	}
	return probe{method: method, path: p, body: []byte(body)}
}

func restContentType(rng *rand.Rand, b *barrage) probe {
	method, p, body := bodyTarget(rng, b)
	ct := pick(rng, "-", "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/xml", "application/json; charset=", "application/json;;", "application/json; charset=utf-16",
		"application/jsonx", "json", "*/*", "application/", "APPLICATION/JSON", "application/problem+json",
		"application/json; boundary=\"unterminated")
	if ct == "application/x-www-form-urlencoded" {
		body = "first_name=A&last_name=B"
	}
	return probe{method: method, path: p, body: []byte(body), ctype: ct}
}

func restBadToken(rng *rand.Rand, b *barrage) probe {
	p, _, _ := b.ids()
	tok := pick(rng, b.badTokens...)
	switch rng.IntN(4) {
	case 0:
		return probe{method: "GET", path: pick(rng, "/api/patients/", "/api/doctors/", "/api/mappings/", "/api/auth/me/", "/api/patients/"+p+"/"), auth: tok}
	case 1:
		return probe{method: "POST", path: "/api/patients/", body: []byte(validPatient), auth: tok}
	case 2:
		return probe{method: "DELETE", path: "/api/patients/" + p + "/", auth: tok}
	default:
		// The refresh and logout endpoints take a refresh token in the body.
		return probe{method: "POST", path: pick(rng, "/api/auth/token/refresh/", "/api/auth/logout/"), auth: pick(rng, "-", tok),
			body: []byte(fmt.Sprintf(`{"refresh":%q}`, strings.TrimPrefix(pick(rng, b.badTokens...), "Bearer ")))}
	}
}

func restQuery(rng *rand.Rand, b *barrage) probe {
	p, d, _ := b.ids()
	params := map[string][]string{
		"/api/patients/": {"page=-1", "page=0", "page=abc", "page=1.5", "page=99999999999999999999", "page=2147483647", "page=9223372036854775807",
			"page_size=abc", "page_size=0", "page_size=-5", "page_size=101", "page_size=1e2", "page_size=99999999999",
			"gender=X", "gender=", "gender=m", "gender=%00", "is_active=maybe", "is_active=2", "is_active=", "search=%00",
			"search=" + strings.Repeat("a", 300), "search=%ff%fe", "search=%", "search=%zz", "city=" + strings.Repeat("%E2%98%83", 250),
			"page=2&page=x", "blood_group=C", "ordering=-id;drop", "search='%20OR%201=1--", "page=%20", "page=1&page_size=100&page=3"},
		"/api/doctors/": {"min_experience=1e99", "min_experience=-1", "min_experience=abc", "min_experience=99999999999999999999",
			"max_fee=NaN", "max_fee=Inf", "max_fee=-Inf", "max_fee=-1", "max_fee=1e400", "max_fee=0x10", "max_fee=1_000",
			"specialization=PLUMBING", "specialization=cardiology", "is_available=maybe", "page=-1", "page_size=abc",
			"page=99999", "max_fee=%00", "min_experience=1.5", "search=" + strings.Repeat("x", 201)},
		"/api/mappings/": {"patient_id=abc", "patient_id=-1", "patient_id=0", "patient_id=99999999999999999999", "doctor_id=1e3",
			"doctor_id=" + d + "&patient_id=x", "status=DONE", "status=active", "status=", "page=0", "page_size=1000", "search=%00"},
		"/api/mappings/" + p + "/": {"status=DONE", "page=-1", "page_size=abc", "x=%zz"},
	}
	base := pick(rng, "/api/patients/", "/api/doctors/", "/api/mappings/", "/api/mappings/"+p+"/")
	list := params[base]
	q := pick(rng, list...)
	if rng.IntN(3) == 0 {
		q += "&" + pick(rng, list...)
	}
	return probe{method: pick(rng, "GET", "GET", "GET", "HEAD"), path: base + "?" + q}
}

func restAuthBodies(rng *rand.Rand, _ *barrage) probe {
	p := pick(rng, "/api/auth/register/", "/api/auth/login/", "/api/auth/token/refresh/", "/api/auth/logout/")
	body := pick(rng,
		`{}`, `[]`, `null`, `{"email":1,"password":true}`, `{"email":null,"password":null}`, `{"email":"bad@example.com","password":[]}`,
		`{"email":"bad@example.com","password":"`+strings.Repeat("p", 5000)+`"}`, `{"email":"`+strings.Repeat("e", 300)+`@x.com","password":"x"}`,
		`{"name":{},"email":"x@y.z","password":"Correct-Horse-42","password_confirm":"Correct-Horse-42"}`,
		`{"name":"N","email":"not-an-email","password":"12345678","password_confirm":"1234567"}`,
		`{"name":"\u0000","email":"n@example.com\u0000","password":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000","password_confirm":"\u0000"}`,
		`{"refresh":""}`, `{"refresh":null}`, `{"refresh":123}`, `{"refresh":"a.b.c"}`, `{"refresh":["x"]}`, `{"email":"bad@example.com"`,
		`{"email":"BAD@EXAMPLE.COM","password":"wrong-password-1"}`, "{\"email\":\"\xff@example.com\",\"password\":\"\xff\"}")
	return probe{method: "POST", path: p, body: []byte(body), auth: pick(rng, "-", "")}
}

// ---- GraphQL ----

const (
	qCreatePatient = `mutation($in: PatientInput!) { createPatient(input: $in) { id fullName } }`
	qUpdatePatient = `mutation($id: ID!, $in: PatientPatch!) { updatePatient(id: $id, input: $in) { id } }`
	qPatients      = `query($first: Int, $after: String, $last: Int, $before: String, $filter: PatientFilter) { patients(first: $first, after: $after, last: $last, before: $before, filter: $filter) { totalCount pageInfo { endCursor hasNextPage } nodes { id fullName } } }`
	qDoctors       = `query($first: Int, $filter: DoctorFilter) { doctors(first: $first, filter: $filter) { totalCount nodes { id fullName consultationFee } } }`
	qCreateDoctor  = `mutation($in: DoctorInput!) { createDoctor(input: $in) { id } }`
	qCreateMapping = `mutation($in: MappingInput!) { createMapping(input: $in) { id status } }`
	qMappings      = `query($first: Int, $filter: MappingFilter) { mappings(first: $first, filter: $filter) { nodes { id status patient { id } doctor { id } } } }`
)

var validQueries = []string{
	`{ me { id name email dateJoined } }`,
	`{ patients(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id fullName age doctors { id fullName } } } } }`,
	`{ doctors(first: 3, filter: {specialization: CARDIOLOGY, minExperience: 1, maxFee: 2000.5}) { nodes { id fullName specialization } } }`,
	`query Q($id: ID!) { patient(id: $id) { id firstName lastName bloodGroup dateOfBirth mappings { id status doctor { id } } } }`,
	`mutation { createPatient(input: {firstName: "A", lastName: "B", phone: "+919876543210", dateOfBirth: "1990-05-15", gender: F}) { id } }`,
	`fragment P on Patient { id fullName } query { patients(first: 2) { nodes { ...P } } }`,
	`{ mappings(first: 2, filter: {status: ACTIVE}) { nodes { id reason notes status } } }`,
}

func gqlSyntax(rng *rand.Rand, _ *barrage) probe {
	var q string
	switch rng.IntN(4) {
	case 0, 1:
		q = mutate(rng, pick(rng, validQueries...))
	case 2:
		q = pick(rng, ``, ` `, `{`, `}`, `{}`, `{ me { } }`, `query`, `query {`, `mutation`, `subscription { me { id } }`,
			`{ me { id }`, `{ me(id: ) { id } }`, `{ patient(id: "1) { id } }`, `{ patient(id: """) { id } }`, `{ patient(id: "\uZZZZ") { id } }`,
			`{ me { id } } }`, `{ "me" }`, `{ me { id } } { me { id } }`, `query Q { me { id } } query Q { me { id } }`,
			`{ me { ...  } }`, `{ ...on Query }`, `{ me @ { id } }`, `{ patients(first: 1.5.5) { totalCount } }`, `{ patients(first: 0x10) { totalCount } }`,
			`{ patients(first: 1e999) { totalCount } }`, `{ patients(filter: {search: "a", }) { totalCount } }`, `{ patients(first: $x) { totalCount } }`,
			"{ me { id \x00 } }", "{ me { id \xff } }", `# only a comment`, `{ me { id } } # trailing`, "\ufeff{ me { id } }",
			`{ patient(id: 1, id: 2) { id } }`, `query($a: Int = "x") { patients(first: $a) { totalCount } }`, `query($a: Int!, $a: Int!) { me { id } }`)
	default:
		q = string(garbage(rng, 1+rng.IntN(200)))
	}
	return gqlPost(q, nil)
}

func gqlUnknown(rng *rand.Rand, _ *barrage) probe {
	q := pick(rng, `{ nope }`, `{ me { nope } }`, `{ patients { nodes { password } } }`, `{ patients(nope: 1) { totalCount } }`,
		`{ users { id } }`, `mutation { nope }`, `mutation { dropDatabase }`, `{ me { id passwordHash } }`, `query($x: Nope) { me { id } }`,
		`{ patients(filter: {nope: 1}) { totalCount } }`, `{ doctor { id } }`, `{ patient(id: 1) }`, `{ me }`, `{ patients { nodes } }`,
		`{ patients(first: 1) { nodes { id ... on Doctor { fee } } } }`, `{ __type(name: "Patient") { fields { name } } }`,
		`{ __schema { types { name } } }`, `mutation { createPatient { id } }`, `mutation { createPatient(input: {}) { id } }`,
		`{ me { id } patients { totalCount } doctors { totalCount } mappings { totalCount } nope2 }`)
	return gqlPost(q, nil)
}

func gqlVarTypes(rng *rand.Rand, b *barrage) probe {
	p, d, _ := b.ids()
	wrong := []any{nil, true, 0, -1, 1.5, 1e300, "x", "", []any{}, []any{1, "a"}, map[string]any{}, map[string]any{"a": 1},
		json.RawMessage(`1e999`), json.RawMessage(`9223372036854775808`), json.RawMessage(`"\u0000"`), json.RawMessage(`"\ud800"`),
		strings.Repeat("x", 20000), "1990-13-45", "A+", "a_pos", "f", "ACTIVE ", "+91 98765-43210"}
	patient := map[string]any{"firstName": "A", "lastName": "B", "phone": "+919876543210", "dateOfBirth": "1990-05-15", "gender": "F", "bloodGroup": "A_POS"}
	doctor := map[string]any{"firstName": "R", "lastName": "K", "email": "r@k.com", "phone": "+919876543220", "specialization": "CARDIOLOGY",
		"qualification": "MBBS", "licenseNumber": "X1", "experienceYears": 3, "consultationFee": 100}
	mapping := map[string]any{"patientId": p, "doctorId": d, "reason": "r", "status": "ACTIVE"}
	spoil := func(m map[string]any, extra ...string) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		keys := append(slices.Sorted(maps.Keys(m)), extra...)
		for range 1 + rng.IntN(3) {
			out[pick(rng, keys...)] = pick(rng, wrong...)
		}
		// Never create with the fixtures' own unique values.
		if _, ok := out["licenseNumber"].(string); ok {
			out["licenseNumber"] = fmt.Sprintf("LIC%d", rng.IntN(1<<30))
		}
		return out
	}
	switch rng.IntN(8) {
	case 0:
		return gqlPost(qCreatePatient, map[string]any{"in": spoil(patient, "unknownField", "email", "isActive")})
	case 1:
		return gqlPost(qUpdatePatient, map[string]any{"id": pick[any](rng, p, 1.5, true, nil, "x", []any{p}), "in": spoil(patient, "email")})
	case 2:
		return gqlPost(qPatients, spoil(map[string]any{"first": 5, "after": "", "last": nil, "before": nil,
			"filter": map[string]any{"search": "a", "gender": "F", "isActive": true, "bloodGroup": "O_NEG"}}))
	case 3:
		return gqlPost(qPatients, map[string]any{"filter": spoil(map[string]any{"search": "a", "gender": "F", "isActive": true, "bloodGroup": "O_NEG", "city": "x"})})
	case 4:
		return gqlPost(qCreateDoctor, map[string]any{"in": spoil(doctor, "dateOfBirth", "gender", "isAvailable")})
	case 5:
		return gqlPost(qDoctors, map[string]any{"first": pick(rng, wrong...), "filter": spoil(map[string]any{"minExperience": 1, "maxFee": 10.5, "specialization": "CARDIOLOGY", "isAvailable": true})})
	case 6:
		return gqlPost(qCreateMapping, map[string]any{"in": spoil(mapping, "notes")})
	default:
		return gqlPost(qMappings, map[string]any{"first": 2, "filter": spoil(map[string]any{"patientId": p, "doctorId": d, "status": "ACTIVE", "search": "a"})})
	}
}

func gqlHugeFirst(rng *rand.Rand, _ *barrage) probe {
	if rng.IntN(2) == 0 {
		n := pick(rng, "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "-1", "101",
			"100000000000000000000000", "1e3", "1.0", `"10"`, "null", "0")
		f := pick(rng, "first", "last")
		return gqlPost(fmt.Sprintf(`{ patients(%s: %s) { totalCount nodes { id doctors { id } } } }`, f, n), nil)
	}
	v := pick[any](rng, 2147483647, 2147483648, int64(9223372036854775807), json.RawMessage(`9223372036854775808`),
		json.RawMessage(`1e300`), -1, 101, 1000000, 1.5, "100")
	return gqlPost(pick(rng, qPatients, qDoctors, qMappings), map[string]any{"first": v})
}

func gqlBadCursor(rng *rand.Rand, _ *barrage) probe {
	b64 := base64.RawURLEncoding.EncodeToString
	c := pick(rng, "x", "====", "YzA", b64([]byte("c-1")), b64([]byte("c0")), b64([]byte("cabc")), b64([]byte("c99999999999999999999")),
		b64([]byte("c9223372036854775807")), b64([]byte("c")), b64([]byte("")), b64([]byte("d5")), b64([]byte("c5\x00")),
		base64.StdEncoding.EncodeToString([]byte("c5")), " YzU ", strings.Repeat("Y", 10000), "\x00", "\xff", "YzU.YzU", "%59%7A%55")
	args := pick(rng, "first: 2, after: $c", "last: 2, before: $c", "first: 2, before: $c", "last: 2, after: $c", "after: $c, before: $c")
	q := fmt.Sprintf(`query($c: String) { %s(%s) { totalCount nodes { id } } }`, pick(rng, "patients", "doctors", "mappings"), args)
	return gqlPost(q, map[string]any{"c": c})
}

func gqlBadID(rng *rand.Rand, _ *barrage) probe {
	id := pick(rng, badIDs...)
	root := pick(rng, "patient", "doctor", "mapping")
	if rng.IntN(3) == 0 {
		lit := pick(rng, `"abc"`, `-1`, `0`, `1.5`, `99999999999999999999`, `"99999999999999999999"`, `""`, `" 1"`, `"0x1"`, `true`, `null`, `[1]`, `{}`)
		return gqlPost(fmt.Sprintf(`{ %s(id: %s) { id } }`, root, lit), nil)
	}
	switch rng.IntN(4) {
	case 0:
		return gqlPost(fmt.Sprintf(`query($id: ID!) { %s(id: $id) { id } }`, root), map[string]any{"id": id})
	case 1:
		return gqlPost(`mutation($id: ID!) { deletePatient(id: $id) }`, map[string]any{"id": pick(rng, "abc", "-1", "0", "99999999999999999999", "1.5", "")})
	case 2:
		return gqlPost(`mutation($id: ID!) { updateMapping(id: $id, input: {status: COMPLETED}) { id } }`, map[string]any{"id": id})
	default:
		return gqlPost(`mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d}) { id } }`,
			map[string]any{"p": id, "d": pick(rng, badIDs...)})
	}
}

func gqlBadEnum(rng *rand.Rand, _ *barrage) probe {
	if rng.IntN(2) == 0 {
		q := pick(rng, `{ patients(filter: {gender: X}) { totalCount } }`, `{ patients(filter: {gender: "F"}) { totalCount } }`,
			`{ patients(filter: {bloodGroup: A+}) { totalCount } }`, `{ patients(filter: {bloodGroup: "A+"}) { totalCount } }`,
			`{ patients(filter: {bloodGroup: a_pos}) { totalCount } }`, `{ doctors(filter: {specialization: PLUMBING}) { totalCount } }`,
			`{ doctors(filter: {specialization: cardiology}) { totalCount } }`, `{ mappings(filter: {status: DONE}) { totalCount } }`,
			`{ mappings(filter: {status: null}) { totalCount } }`, `{ patients(filter: {gender: true}) { totalCount } }`,
			`{ patients(filter: {gender: 1}) { totalCount } }`, `{ patients(filter: {gender: [F]}) { totalCount } }`)
		return gqlPost(q, nil)
	}
	v := pick(rng, "X", "f", "A+", "a_pos", "PLUMBING", "DONE", "", " F", "F\u0000", "__typename", "null")
	return gqlPost(`query($g: Gender, $b: BloodGroup, $s: Specialization, $m: MappingStatus) { patients(filter: {gender: $g, bloodGroup: $b}) { totalCount } doctors(filter: {specialization: $s}) { totalCount } mappings(filter: {status: $m}) { totalCount } }`,
		map[string]any{pick(rng, "g", "b", "s", "m"): v})
}

func gqlLong(rng *rand.Rand, _ *barrage) probe {
	switch rng.IntN(5) {
	case 0: // near and past the parser's token limit
		return gqlPost("{ me { "+strings.Repeat("id ", pick(rng, 14000, 15001, 100000))+"} }", nil)
	case 1: // one huge string argument
		return gqlPost(`{ patients(filter: {search: "`+strings.Repeat("a", pick(rng, 10000, 500000))+`"}) { totalCount } }`, nil)
	case 2: // one huge name
		return gqlPost("{ "+strings.Repeat("x", 200000)+" }", nil)
	case 3: // a long comment
		return gqlPost("#"+strings.Repeat("c", 900000)+"\n{ me { id } }", nil)
	default: // many variables
		var sb strings.Builder
		sb.WriteString("query(")
		for i := range 3000 {
			fmt.Fprintf(&sb, "$v%d: Int ", i)
		}
		sb.WriteString(") { me { id } }")
		return gqlPost(sb.String(), nil)
	}
}

func gqlAliases(rng *rand.Rand, _ *barrage) probe {
	n := pick(rng, 15, 16, 100, 1000, 3000)
	field := pick(rng, "me { id }", "__typename", "patients(first: 100) { nodes { id } }", "login(input: {email: \"bad@example.com\", password: \"nope-nope-1\"}) { tokens { access } }")
	var sb strings.Builder
	if strings.HasPrefix(field, "login") {
		sb.WriteString("mutation ")
	}
	sb.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&sb, "a%d: %s ", i, field)
	}
	sb.WriteString("}")
	return gqlPost(sb.String(), nil)
}

func gqlFragments(rng *rand.Rand, _ *barrage) probe {
	q := pick(rng,
		`fragment A on Query { ...B } fragment B on Query { ...A } { ...A }`,
		`fragment A on Query { ...A } { ...A }`,
		`fragment A on Patient { doctors { patients { ...A } } } { patients { nodes { ...A } } }`,
		`fragment A on Query { me { id } } { ...B }`,
		`fragment A on Nope { id } { ...A }`,
		`fragment A on Patient { id } { ...A }`,
		`fragment A on Query { me { id } } fragment A on Query { me { id } } { ...A }`,
		`fragment A on Query { me { id } } { me { id } }`,
		`{ ... on Patient { id } }`,
		`{ ... { ... { ... { me { id } } } } }`)
	if rng.IntN(3) == 0 {
		// A wide fragment fan-out: each fragment spreads the next twice.
		var sb strings.Builder
		n := pick(rng, 10, 20, 30)
		for i := range n {
			fmt.Fprintf(&sb, "fragment F%d on Query { ...F%d ...F%d } ", i, i+1, i+1)
		}
		fmt.Fprintf(&sb, "fragment F%d on Query { me { id } } { ...F0 }", n)
		q = sb.String()
	}
	return gqlPost(q, nil)
}

func gqlTypename(rng *rand.Rand, _ *barrage) probe {
	n := pick(rng, 10, 100, 5000, 14000)
	where := pick(rng, "{ %s }", "{ me { %s } }", "{ patients(first: 1) { nodes { %s } } }")
	return gqlPost(fmt.Sprintf(where, strings.Repeat("__typename ", n)), nil)
}

func gqlBatched(rng *rand.Rand, _ *barrage) probe {
	one := `{"query":"{ me { id } }"}`
	body := pick(rng, `[]`, `[`+one+`]`, `[`+strings.Repeat(one+",", 99)+one+`]`, `[[`+one+`]]`, `[1,2,3]`, ` [`+one+`] `, `[null]`)
	return probe{method: "POST", path: "/graphql", body: []byte(body)}
}

func gqlGet(rng *rand.Rand, _ *barrage) probe {
	vals := url.Values{}
	switch rng.IntN(6) {
	case 0:
		vals.Set("query", pick(rng, `mutation { deletePatient(id: "1") }`, `mutation { createPatient(input: {firstName: "A"}) { id } }`, `mutation { logout(refresh: "x") }`))
	case 1:
		vals.Set("query", qPatients)
		vals.Set("variables", pick(rng, `{`, `[]`, `"x"`, `1`, `{"first":"x"}`, `{"first":1e999}`, "\xff", `null`))
	case 2:
		vals.Set("query", `{ me { id } }`)
		vals.Set("extensions", pick(rng, `{`, `[]`, `{"persistedQuery":{"version":1,"sha256Hash":"00"}}`, `{"persistedQuery":"x"}`))
	case 3:
		vals.Set("extensions", `{"persistedQuery":{"version":1,"sha256Hash":"`+strings.Repeat("a", 64)+`"}}`)
	case 4:
		vals.Set("query", mutate(rng, pick(rng, validQueries...)))
		vals.Set("operationName", pick(rng, "", "Q", "Nope", "\x00"))
	default:
		return probe{method: "GET", path: "/graphql?" + pick(rng, "", "query", "query=", "query=%zz", "query={me{id}}&query={me{email}}", "variables={}", "query=%00")}
	}
	return probe{method: "GET", path: "/graphql?" + vals.Encode()}
}

func gqlHTTP(rng *rand.Rand, _ *barrage) probe {
	ok := `{"query":"{ me { id } }"}`
	switch rng.IntN(5) {
	case 0:
		return probe{method: "POST", path: "/graphql", body: []byte(ok), ctype: pick(rng, "-", "text/plain", "application/graphql",
			"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/json;;", "application/xml")}
	case 1:
		return probe{method: pick(rng, "PUT", "PATCH", "DELETE", "TRACE", "FOO"), path: "/graphql", body: []byte(ok)}
	case 2:
		return probe{method: "POST", path: "/graphql", body: []byte(pick(rng, ``, ` `, `{`, `null`, `"x"`, `42`, `true`, `{}`,
			`{"query":null}`, `{"query":5}`, `{"query":["{ me { id } }"]}`, `{"query":{}}`, `{"QUERY":"{ me { id } }"}`,
			`{"query":"{ me { id } }","variables":[]}`, `{"query":"{ me { id } }","variables":"{}"}`, `{"query":"{ me { id } }","variables":5}`,
			`{"query":"{ me { id } }","operationName":5}`, `{"query":"{ me { id } }","operationName":"Nope"}`,
			`{"query":"{ me { id } }","extensions":[]}`, `{"query":"{ me { id } }","extensions":{"persistedQuery":"x"}}`,
			`{"query":"{ me { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`,
			`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+strings.Repeat("b", 64)+`"}}}`,
			`{"extensions":{"persistedQuery":{"version":2,"sha256Hash":5}}}`, `{"query":"{ me { id } }"} {"query":"x"}`,
			"{\"query\":\"{ me { id } }\"}\x00", "\xef\xbb\xbf"+ok, `{"query":"{ me { id } }","query":"{ nope }"}`,
			`{"query":"query A { me { id } } query B { me { email } }"}`, "{\"query\":\"{ me { id \xff } }\"}",
			"{\"query\":\"{ patients(filter: {search: \\\"\xff\xfe\\\"}) { totalCount } }\"}", `{"query":"query A { me { id } } query B { me { email } }","operationName":"C"}`))}
	case 3:
		return probe{method: "POST", path: "/graphql", body: garbage(rng, 1+rng.IntN(300))}
	default:
		return probe{method: "POST", path: "/graphql", body: []byte(ok), headers: map[string]string{
			pick(rng, "Accept", "X-Forwarded-For", "X-Forwarded-Proto", "User-Agent", "X-Request-Id", "Upgrade"): pick(rng,
				"application/graphql-response+json", "text/html", "*/*;q=x", "1.2.3.4, not-an-ip, ::1", "ftp", strings.Repeat("u", 4000), "websocket", "x\ty")}}
	}
}

func gqlBadToken(rng *rand.Rand, b *barrage) probe {
	p, _, _ := b.ids()
	q := pick(rng, `{ me { id } }`, `{ patients(first: 1) { totalCount } }`, `mutation { deletePatient(id: "`+p+`") }`,
		`mutation { changePassword(input: {currentPassword: "x", newPassword: "y", newPasswordConfirm: "y"}) { tokens { access } } }`,
		`mutation { refreshToken(refresh: "x.y.z") { tokens { access } } }`, `mutation { logout(refresh: "`+strings.Repeat("r", 500)+`") }`)
	pr := gqlPost(q, nil)
	pr.auth = pick(rng, b.badTokens...)
	return pr
}

func gqlDeep(rng *rand.Rand, _ *barrage) probe {
	n := pick(rng, 13, 50, 500, 5000)
	switch rng.IntN(4) {
	case 0: // selections nested past the depth limit
		q := "{ patients { nodes { " + strings.Repeat("doctors { patients { ", n/2) + "id" + strings.Repeat(" } }", n/2) + " } } }"
		return gqlPost(q, nil)
	case 1: // braces only
		return gqlPost(strings.Repeat("{", n)+strings.Repeat("}", n), nil)
	case 2: // a deeply nested list value in an argument
		return gqlPost(`{ patients(filter: {search: `+strings.Repeat("[", n)+`"a"`+strings.Repeat("]", n)+`}) { totalCount } }`, nil)
	default: // deeply nested variables
		m := pick(rng, 100, 5000, 9990)
		return gqlPost(qPatients, `{"filter":`+strings.Repeat(`{"search":`, m)+`"a"`+strings.Repeat("}", m)+`}`)
	}
}

func gqlDirectives(rng *rand.Rand, _ *barrage) probe {
	q := pick(rng, `{ me @skip(if: "x") { id } }`, `{ me @include { id } }`, `{ me @nope { id } }`, `{ me @skip(if: true) @skip(if: false) { id } }`,
		`{ me @skip(if: $undefined) { id } }`, `query @skip(if: true) { me { id } }`, `{ me @deprecated { id } }`,
		`query($s: Boolean!) { me @skip(if: $s) { id } }`, `{ me @include(if: null) { id } }`, `{ me @skip(if: true, if: false) { id } }`,
		`{ me { id @skip(if: 1) } }`, `fragment F on User @nope { id } { me { ...F } }`, `{ me @`+strings.Repeat("skip(if: true) @", 200)+`skip(if: true) { id } }`)
	var vars any
	if strings.Contains(q, "$s") {
		vars = map[string]any{"s": pick[any](rng, "yes", nil, 1, []any{})}
	}
	return gqlPost(q, vars)
}

func gqlAuthMutations(rng *rand.Rand, _ *barrage) probe {
	q := pick(rng,
		`mutation { login(input: {email: "", password: ""}) { tokens { access } } }`,
		`mutation { login(input: {email: 1, password: 2}) { tokens { access } } }`,
		`mutation { login(input: {email: "bad@example.com"}) { tokens { access } } }`,
		`mutation { login(input: {email: "bad@example.com", password: "wrong-Password-9"}) { tokens { access } } }`,
		`mutation { register(input: {name: "", email: "x", password: "1", passwordConfirm: "2"}) { tokens { access } } }`,
		`mutation { register(input: {name: "N", email: "bad@example.com", password: "Correct-Horse-42", passwordConfirm: "Correct-Horse-42"}) { tokens { access } } }`,
		`mutation { refreshToken(refresh: "") { tokens { access } } }`, `mutation { refreshToken(refresh: null) { tokens { access } } }`,
		`mutation { logout(refresh: 5) }`, `mutation { login(input: {email: "a@b.c", password: "x"}) { tokens { access } } register(input: {name: "N", email: "y", password: "z", passwordConfirm: "z"}) { tokens { access } } }`,
		`mutation($in: LoginInput!) { login(input: $in) { tokens { access } } }`)
	var vars any
	if strings.Contains(q, "$in") {
		vars = map[string]any{"in": pick[any](rng, nil, "x", map[string]any{"email": []any{}}, map[string]any{"email": "a@b.co", "password": strings.Repeat("p", 300), "extra": 1})}
	}
	return gqlPost(q, vars)
}
