package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/graph"
	"healthcare/internal/apptest"
	"healthcare/models"
	"healthcare/web"
)

// env is one test server over a fresh database.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	auth    *auth.Service
	store   *database.Store
	app     *apptest.App
	counter *dbtest.Counter
}

func newEnv(t testing.TB, db *bun.DB) *env {
	t.Helper()
	return newEnvWith(t, db, func(o *graph.Options) { o.Introspection = graph.IntrospectionPublic })
}

func newEnvWith(t testing.TB, db *bun.DB, configure func(*graph.Options)) *env {
	t.Helper()
	counter := &dbtest.Counter{}
	db.AddQueryHook(counter)
	app := apptest.New(t, db, apptest.Options{})
	opts := graph.Options{Store: app.Store, Auth: app.Auth, Audit: app.Audit}
	configure(&opts)
	h := app.Auth.Middleware(graph.NewHandler(opts))
	srv := httptest.NewServer(middleware.RequestID(web.RequestInfo(web.Origin{})(h)))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, auth: app.Auth, store: app.Store, app: app, counter: counter}
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code   string              `json:"code"`
		Fields map[string][]string `json:"fields"`
	} `json:"extensions"`
}

type result struct {
	Status int
	Data   map[string]any
	Errors []gqlError
	Raw    string
}

func (r result) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

// do sends one GraphQL operation by POST with token (may be empty).
func (e *env) do(token, query string, vars map[string]any) result {
	e.t.Helper()
	return e.doBody(token, map[string]any{"query": query, "variables": vars})
}

// doBody POSTs a whole request body.
func (e *env) doBody(token string, payload map[string]any) result {
	e.t.Helper()
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) result {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	_ = json.Unmarshal(buf.Bytes(), &out)
	return result{Status: resp.StatusCode, Data: out.Data, Errors: out.Errors, Raw: buf.String()}
}

// ok sends an operation that must succeed and returns its data.
func (e *env) ok(token, query string, vars map[string]any) map[string]any {
	e.t.Helper()
	r := e.do(token, query, vars)
	if len(r.Errors) > 0 || r.Status != 200 {
		e.t.Fatalf("%s: status %d, errors %s", query, r.Status, r.Raw)
	}
	return r.Data
}

// path walks decoded JSON: path(m, "patients", "nodes", 0, "id").
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

const registerQ = `mutation($in: RegisterInput!) { register(input: $in) { user { id name email dateJoined } tokens { access refresh } } }`

// signup registers a user and returns its access and refresh tokens.
func (e *env) signup(email string) (string, string) {
	e.t.Helper()
	d := e.ok("", registerQ, map[string]any{"in": map[string]any{
		"name": "Test User", "email": email, "password": "Correct-Horse-42", "passwordConfirm": "Correct-Horse-42"}})
	return path(d, "register", "tokens", "access").(string), path(d, "register", "tokens", "refresh").(string)
}

const createPatientQ = `mutation($in: PatientInput!) { createPatient(input: $in) { id fullName age email bloodGroup dateOfBirth isActive } }`

func patientVars(first string) map[string]any {
	return map[string]any{"in": map[string]any{
		"firstName": first, "lastName": "Sharma", "phone": "+919876543210", "dateOfBirth": "1990-05-15",
		"gender": "F", "bloodGroup": "A_POS", "email": strings.ToLower(first) + "@example.com", "city": "Mumbai",
		"medicalHistory": "None", "allergies": "Penicillin",
	}}
}

const createDoctorQ = `mutation($in: DoctorInput!) { createDoctor(input: $in) { id fullName specialization consultationFee } }`

func doctorVars(n int) map[string]any {
	return map[string]any{"in": map[string]any{
		"firstName": "Rajesh", "lastName": fmt.Sprintf("Kumar%d", n), "email": fmt.Sprintf("dr%d@hospital.com", n),
		"phone": "+919876543220", "specialization": "CARDIOLOGY", "qualification": "MBBS, MD",
		"licenseNumber": fmt.Sprintf("MH%d", n), "experienceYears": 5 + n, "consultationFee": 1500 + n, "city": "Pune",
	}}
}

func (e *env) mkPatient(token, first string) string {
	e.t.Helper()
	return path(e.ok(token, createPatientQ, patientVars(first)), "createPatient", "id").(string)
}

func (e *env) mkDoctor(token string, n int) string {
	e.t.Helper()
	return path(e.ok(token, createDoctorQ, doctorVars(n)), "createDoctor", "id").(string)
}

func (e *env) mkMapping(token, pid, did string) string {
	e.t.Helper()
	d := e.ok(token, `mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d, reason: "checkup"}) { id status } }`,
		map[string]any{"p": pid, "d": did})
	return path(d, "createMapping", "id").(string)
}

func TestAuthFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		access, refresh := e.signup("Ann@Example.com")

		t.Run("me_ok", func(t *testing.T) {
			e.counter.Reset()
			d := e.ok(access, `{ me { id name email dateJoined } }`, nil)
			if path(d, "me", "email") != "ann@example.com" {
				t.Fatalf("me: %v", d)
			}
			// The account the token names is read once, by the middleware.
			if n := e.counter.Count(); n != 1 {
				t.Fatalf("me ran %d statements, want 1", n)
			}
		})
		t.Run("register_invalid_400", func(t *testing.T) {
			r := e.do("", registerQ, map[string]any{"in": map[string]any{"name": "", "email": "nope", "password": "12345678", "passwordConfirm": "x"}})
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("got %s", r.Raw)
			}
			f := r.Errors[0].Extensions.Fields
			for _, k := range []string{"name", "email", "password", "passwordConfirm"} {
				if len(f[k]) == 0 {
					t.Errorf("no message for %s: %v", k, f)
				}
			}
			if !strings.Contains(strings.Join(f["password"], " "), "entirely numeric") || !strings.Contains(strings.Join(f["password"], " "), "too common") {
				t.Errorf("password messages: %v", f["password"])
			}
		})
		t.Run("register_duplicate_email_case_insensitive", func(t *testing.T) {
			r := e.do("", registerQ, map[string]any{"in": map[string]any{"name": "X", "email": "ANN@example.com", "password": "Correct-Horse-42", "passwordConfirm": "Correct-Horse-42"}})
			if r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Extensions.Fields["email"]) == 0 {
				t.Fatalf("got %s", r.Raw)
			}
		})
		t.Run("password_similar_to_name", func(t *testing.T) {
			r := e.do("", registerQ, map[string]any{"in": map[string]any{"name": "Margaretha Quintessa", "email": "mq@example.com", "password": "quintessa", "passwordConfirm": "quintessa"}})
			if r.code() != "BAD_USER_INPUT" || !strings.Contains(strings.Join(r.Errors[0].Extensions.Fields["password"], " "), "too similar to the name") {
				t.Fatalf("got %s", r.Raw)
			}
		})
		t.Run("login_wrong_password_and_unknown_email_same_answer", func(t *testing.T) {
			q := `mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { tokens { access } } }`
			a := e.do("", q, map[string]any{"e": "ann@example.com", "p": "wrong-password-1"})
			b := e.do("", q, map[string]any{"e": "nobody@example.com", "p": "wrong-password-1"})
			if a.code() != "UNAUTHENTICATED" || b.code() != "UNAUTHENTICATED" || a.Errors[0].Message != b.Errors[0].Message {
				t.Fatalf("a=%s b=%s", a.Raw, b.Raw)
			}
			ok := e.ok("", q, map[string]any{"e": "ANN@example.com", "p": "Correct-Horse-42"})
			if path(ok, "login", "tokens", "access") == "" {
				t.Fatal("no token")
			}
		})
		t.Run("unauthenticated", func(t *testing.T) {
			for name, tok := range map[string]string{"none": "", "garbage": "abc.def.ghi", "refresh_as_access": refresh} {
				if r := e.do(tok, `{ me { id } }`, nil); r.code() != "UNAUTHENTICATED" {
					t.Errorf("%s: %s", name, r.Raw)
				}
			}
			if r := e.do("", `{ patients { totalCount } }`, nil); r.code() != "UNAUTHENTICATED" {
				t.Errorf("patients: %s", r.Raw)
			}
		})
		t.Run("refresh_rotation_and_reuse", func(t *testing.T) {
			q := `mutation($r: String!) { refreshToken(refresh: $r) { tokens { access refresh } } }`
			d := e.ok("", q, map[string]any{"r": refresh})
			next := path(d, "refreshToken", "tokens", "refresh").(string)
			if next == refresh {
				t.Fatal("refresh token not rotated")
			}
			// The old token is spent: using it again is reuse, which revokes
			// the family, so the newer token stops working too.
			if r := e.do("", q, map[string]any{"r": refresh}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("reuse accepted: %s", r.Raw)
			}
			if r := e.do("", q, map[string]any{"r": next}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("family not revoked: %s", r.Raw)
			}
			if r := e.do("", q, map[string]any{"r": access}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("access token accepted as refresh: %s", r.Raw)
			}
		})
		t.Run("logout_revokes_family", func(t *testing.T) {
			_, r1 := e.signupLogin("ann@example.com")
			d := e.ok("", `mutation($r: String!) { logout(refresh: $r) }`, map[string]any{"r": r1})
			if path(d, "logout") != true {
				t.Fatal(d)
			}
			if r := e.do("", `mutation($r: String!) { refreshToken(refresh: $r) { tokens { access } } }`, map[string]any{"r": r1}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("refresh after logout: %s", r.Raw)
			}
		})
	})
}

func (e *env) signupLogin(email string) (string, string) {
	e.t.Helper()
	d := e.ok("", `mutation($e: String!) { login(input: {email: $e, password: "Correct-Horse-42"}) { tokens { access refresh } } }`, map[string]any{"e": email})
	return path(d, "login", "tokens", "access").(string), path(d, "login", "tokens", "refresh").(string)
}

func TestRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		alice, _ := e.signup("alice@example.com")
		bob, _ := e.signup("bob@example.com")
		pid := e.mkPatient(alice, "Ann")
		did := e.mkDoctor(bob, 1)

		t.Run("create_patient_ok", func(t *testing.T) {
			d := e.ok(alice, `query($id: ID!) { patient(id: $id) { fullName age email bloodGroup dateOfBirth allergies isActive createdAt } }`, map[string]any{"id": pid})
			p := path(d, "patient").(map[string]any)
			if p["fullName"] != "Ann Sharma" || p["bloodGroup"] != "A_POS" || p["dateOfBirth"] != "1990-05-15" || p["isActive"] != true || p["allergies"] != "Penicillin" {
				t.Fatalf("patient %v", p)
			}
			if age := p["age"].(float64); age < 35 {
				t.Fatalf("age %v", age)
			}
		})
		t.Run("create_patient_invalid_fields", func(t *testing.T) {
			v := patientVars("Bad")
			in := v["in"].(map[string]any)
			in["email"], in["phone"], in["dateOfBirth"], in["firstName"] = "not-an-email", "12345", "2999-01-01", "  "
			in["emergencyContactPhone"] = "call me"
			r := e.do(alice, createPatientQ, v)
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("got %s", r.Raw)
			}
			f := r.Errors[0].Extensions.Fields
			if f["dateOfBirth"][0] != "must not be in the future" {
				t.Errorf("dateOfBirth: %v", f["dateOfBirth"])
			}
			for _, k := range []string{"email", "phone", "firstName", "emergencyContactPhone"} {
				if len(f[k]) == 0 {
					t.Errorf("no message for %s: %v", k, f)
				}
			}
			in["dateOfBirth"] = "1700-01-01"
			in["email"], in["phone"], in["firstName"], in["emergencyContactPhone"] = "x@example.com", "+919876543210", "Old", ""
			r = e.do(alice, createPatientQ, v)
			if r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Extensions.Fields["dateOfBirth"]) != 1 {
				t.Fatalf("age over 150: %s", r.Raw)
			}
			in["dateOfBirth"] = "15/05/1990"
			if r = e.do(alice, createPatientQ, v); r.code() != "BAD_USER_INPUT" {
				t.Fatalf("malformed date: %s", r.Raw)
			}
			in["dateOfBirth"], in["gender"] = "1990-01-01", "X"
			if r = e.do(alice, createPatientQ, v); len(r.Errors) == 0 {
				t.Fatalf("bad enum accepted: %s", r.Raw)
			}
		})
		t.Run("other_users_patient_not_found", func(t *testing.T) {
			if d := e.ok(bob, `query($id: ID!) { patient(id: $id) { id } }`, map[string]any{"id": pid}); path(d, "patient") != nil {
				t.Fatalf("bob sees alice's patient: %v", d)
			}
			for _, q := range []string{
				`mutation($id: ID!) { updatePatient(id: $id, input: {city: "Goa"}) { id } }`,
				`mutation($id: ID!) { deletePatient(id: $id) }`,
			} {
				if r := e.do(bob, q, map[string]any{"id": pid}); r.code() != "NOT_FOUND" {
					t.Errorf("%s: %s", q, r.Raw)
				}
			}
			if r := e.do(bob, `mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d}) { id } }`, map[string]any{"p": pid, "d": did}); r.code() != "NOT_FOUND" {
				t.Errorf("bob maps alice's patient: %s", r.Raw)
			}
			if d := e.ok(alice, `query { patient(id: "abc") { id } }`, nil); path(d, "patient") != nil {
				t.Errorf("non-numeric id: %v", d)
			}
		})
		t.Run("update_patient_only_given_fields", func(t *testing.T) {
			d := e.ok(alice, `mutation($id: ID!) { updatePatient(id: $id, input: {city: "Goa", allergies: ""}) { city allergies firstName email } }`, map[string]any{"id": pid})
			p := path(d, "updatePatient").(map[string]any)
			if p["city"] != "Goa" || p["allergies"] != nil || p["firstName"] != "Ann" || p["email"] != "ann@example.com" {
				t.Fatalf("got %v", p)
			}
		})
		t.Run("doctor_readable_by_all_writable_by_creator", func(t *testing.T) {
			d := e.ok(alice, `query($id: ID!) { doctor(id: $id) { fullName specialization consultationFee experienceYears } }`, map[string]any{"id": did})
			if path(d, "doctor", "fullName") != "Rajesh Kumar1" || path(d, "doctor", "consultationFee") != 1501.0 {
				t.Fatalf("doctor %v", d)
			}
			if r := e.do(alice, `mutation($id: ID!) { updateDoctor(id: $id, input: {bio: "x"}) { id } }`, map[string]any{"id": did}); r.code() != "FORBIDDEN" {
				t.Fatalf("alice edits bob's doctor: %s", r.Raw)
			}
			if r := e.do(alice, `mutation($id: ID!) { deleteDoctor(id: $id) }`, map[string]any{"id": did}); r.code() != "FORBIDDEN" {
				t.Fatalf("alice deletes bob's doctor: %s", r.Raw)
			}
			d = e.ok(bob, `mutation($id: ID!) { updateDoctor(id: $id, input: {bio: "Cardiologist", experienceYears: 20}) { bio experienceYears } }`, map[string]any{"id": did})
			if path(d, "updateDoctor", "bio") != "Cardiologist" {
				t.Fatal(d)
			}
			if r := e.do(bob, `mutation { updateDoctor(id: "999999", input: {bio: "x"}) { id } }`, nil); r.code() != "NOT_FOUND" {
				t.Fatalf("missing doctor: %s", r.Raw)
			}
		})
		t.Run("doctor_validation_and_uniqueness", func(t *testing.T) {
			v := doctorVars(1)
			r := e.do(alice, createDoctorQ, v)
			f := r.Errors[0].Extensions.Fields
			if r.code() != "BAD_USER_INPUT" || (len(f["email"]) == 0 && len(f["licenseNumber"]) == 0) {
				t.Fatalf("duplicate doctor: %s", r.Raw)
			}
			in := doctorVars(9)["in"].(map[string]any)
			in["experienceYears"], in["consultationFee"], in["specialization"] = -1, -5, "CARDIOLOGY"
			r = e.do(alice, createDoctorQ, map[string]any{"in": in})
			f = r.Errors[0].Extensions.Fields
			if len(f["experienceYears"]) == 0 || len(f["consultationFee"]) == 0 {
				t.Fatalf("negative numbers: %s", r.Raw)
			}
		})
		t.Run("mappings", func(t *testing.T) {
			mid := e.mkMapping(alice, pid, did)
			r := e.do(alice, `mutation($p: ID!, $d: ID!) { createMapping(input: {patientId: $p, doctorId: $d}) { id } }`, map[string]any{"p": pid, "d": did})
			if r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Extensions.Fields["doctorId"]) == 0 {
				t.Fatalf("duplicate pair: %s", r.Raw)
			}
			d := e.ok(alice, `query($id: ID!) { mapping(id: $id) { status reason patient { fullName } doctor { fullName } } }`, map[string]any{"id": mid})
			if path(d, "mapping", "status") != "ACTIVE" || path(d, "mapping", "patient", "fullName") != "Ann Sharma" {
				t.Fatal(d)
			}
			if d := e.ok(bob, `query($id: ID!) { mapping(id: $id) { id } }`, map[string]any{"id": mid}); path(d, "mapping") != nil {
				t.Fatalf("bob sees alice's mapping: %v", d)
			}
			// Bob created the doctor, but sees none of alice's patients through it.
			d = e.ok(bob, `query($id: ID!) { doctor(id: $id) { patients { id } } }`, map[string]any{"id": did})
			if n := len(path(d, "doctor", "patients").([]any)); n != 0 {
				t.Fatalf("bob sees %d of alice's patients", n)
			}
			d = e.ok(alice, `query($id: ID!) { doctor(id: $id) { patients(status: ACTIVE) { id } } }`, map[string]any{"id": did})
			if n := len(path(d, "doctor", "patients").([]any)); n != 1 {
				t.Fatalf("alice sees %d patients", n)
			}
			d = e.ok(alice, `mutation($id: ID!) { updateMapping(id: $id, input: {status: COMPLETED, notes: "done"}) { status notes } }`, map[string]any{"id": mid})
			if path(d, "updateMapping", "status") != "COMPLETED" {
				t.Fatal(d)
			}
			d = e.ok(alice, `query($id: ID!) { patient(id: $id) { active: doctors(status: ACTIVE) { id } all: doctors { id } mappings(status: COMPLETED) { id } } }`, map[string]any{"id": pid})
			if len(path(d, "patient", "active").([]any)) != 0 || len(path(d, "patient", "all").([]any)) != 1 || len(path(d, "patient", "mappings").([]any)) != 1 {
				t.Fatalf("status filter on edges: %v", d)
			}
			if r := e.do(bob, `mutation($id: ID!) { deleteMapping(id: $id) }`, map[string]any{"id": mid}); r.code() != "NOT_FOUND" {
				t.Fatalf("bob deletes: %s", r.Raw)
			}
			if r := e.do(bob, `mutation($id: ID!) { updateMapping(id: $id, input: {notes: "x"}) { id } }`, map[string]any{"id": mid}); r.code() != "NOT_FOUND" {
				t.Fatalf("bob updates: %s", r.Raw)
			}
			if d := e.ok(bob, `{ mappings { totalCount } patients { totalCount } }`, nil); path(d, "mappings", "totalCount") != 0.0 || path(d, "patients", "totalCount") != 0.0 {
				t.Fatalf("bob's lists show alice's records: %v", d)
			}
			if d := e.ok(alice, `mutation($id: ID!) { deleteMapping(id: $id) }`, map[string]any{"id": mid}); path(d, "deleteMapping") != mid {
				t.Fatal(d)
			}
		})
		t.Run("delete_patient", func(t *testing.T) {
			id := e.mkPatient(alice, "Gone")
			if d := e.ok(alice, `mutation($id: ID!) { deletePatient(id: $id) }`, map[string]any{"id": id}); path(d, "deletePatient") != id {
				t.Fatal(d)
			}
			if r := e.do(alice, `mutation($id: ID!) { deletePatient(id: $id) }`, map[string]any{"id": id}); r.code() != "NOT_FOUND" {
				t.Fatal(r.Raw)
			}
		})
		t.Run("superuser_sees_everything", func(t *testing.T) {
			u, err := e.auth.CreateSuperuser(context.Background(), models.RegisterInput{Name: "Root", Email: "root@example.com", Password: "Correct-Horse-42", PasswordConfirm: "Correct-Horse-42"})
			if err != nil || !u.IsSuperuser {
				t.Fatal(err)
			}
			tok, _ := e.signupLogin("root@example.com")
			d := e.ok(tok, `query($id: ID!) { patient(id: $id) { id } }`, map[string]any{"id": pid})
			if path(d, "patient", "id") != pid {
				t.Fatal(d)
			}
		})
	})
}

func TestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tok, _ := e.signup("pager@example.com")
		other, _ := e.signup("other@example.com")
		var ids []string
		for i := range 23 {
			v := patientVars(fmt.Sprintf("P%02d", i))
			in := v["in"].(map[string]any)
			if i%2 == 0 {
				in["gender"] = "M"
			}
			ids = append(ids, path(e.ok(tok, createPatientQ, v), "createPatient", "id").(string))
		}
		e.mkPatient(other, "P99")
		q := `query($f: Int, $a: String, $l: Int, $b: String, $g: Gender) {
			patients(first: $f, after: $a, last: $l, before: $b, filter: {gender: $g, search: "p"}) {
				totalCount nodes { id } edges { cursor node { id } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
		t.Run("forward_with_filter", func(t *testing.T) {
			var got []string
			after := any(nil)
			for range 10 {
				d := e.ok(tok, q, map[string]any{"f": 5, "a": after, "g": "M"})
				if n := path(d, "patients", "totalCount"); n != 12.0 {
					t.Fatalf("totalCount %v", n)
				}
				for _, n := range path(d, "patients", "nodes").([]any) {
					got = append(got, n.(map[string]any)["id"].(string))
				}
				if path(d, "patients", "pageInfo", "hasNextPage") != true {
					break
				}
				after = path(d, "patients", "pageInfo", "endCursor")
			}
			var want []string
			for i := 22; i >= 0; i -= 2 {
				want = append(want, ids[i])
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("got %v want %v", got, want)
			}
		})
		t.Run("backward", func(t *testing.T) {
			d := e.ok(tok, q, map[string]any{"l": 3, "b": path(e.ok(tok, q, map[string]any{"f": 10}), "patients", "pageInfo", "endCursor")})
			nodes := path(d, "patients", "nodes").([]any)
			// The page before the 10th-newest is the 7th..9th newest.
			if len(nodes) != 3 || nodes[0].(map[string]any)["id"] != ids[16] || nodes[2].(map[string]any)["id"] != ids[14] {
				t.Fatalf("got %v", nodes)
			}
			if path(d, "patients", "pageInfo", "hasPreviousPage") != true || path(d, "patients", "pageInfo", "hasNextPage") != true {
				t.Fatalf("pageInfo %v", path(d, "patients", "pageInfo"))
			}
		})
		t.Run("default_and_limits", func(t *testing.T) {
			d := e.ok(tok, q, nil)
			if n := len(path(d, "patients", "nodes").([]any)); n != 20 {
				t.Fatalf("default page %d", n)
			}
			for _, vars := range []map[string]any{{"f": 101}, {"f": -1}, {"a": "not-a-cursor"}, {"f": 1, "l": 1}} {
				if r := e.do(tok, q, vars); r.code() != "BAD_USER_INPUT" {
					t.Errorf("%v: %s", vars, r.Raw)
				}
			}
			if d := e.ok(tok, q, map[string]any{"f": 100}); len(path(d, "patients", "nodes").([]any)) != 23 {
				t.Fatal("first: 100")
			}
		})
	})
}

// TestNoNPlusOne pins the number of SQL statements a nested query runs: the
// same small constant for 5 patients as for 100. Seven: the viewer's
// account, the patients, their doctors, their mappings, and one audit INSERT
// each for the patients, the mappings the doctors were reached through, and
// the mappings read.
func TestNoNPlusOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tok, _ := e.signup("many@example.com")
		d1, d2 := e.mkDoctor(tok, 1), e.mkDoctor(tok, 2)
		ctx := context.Background()
		v := models.Viewer{UserID: 1}
		for i := range 100 {
			p, err := e.store.Patients.Create(ctx, v, models.PatientInput{
				FirstName: ptr(fmt.Sprintf("N%d", i)), LastName: ptr("Plus"), Phone: ptr("+919876543210"),
				DateOfBirth: ptr(models.NewDate(1980, 1, 1)), Gender: ptr(models.GenderOther)})
			if err != nil {
				t.Fatal(err)
			}
			for _, did := range []string{d1, d2} {
				var id int64
				fmt.Sscan(did, &id)
				if _, err := e.store.Mappings.Create(ctx, v, models.MappingInput{PatientID: &p.ID, DoctorID: &id}); err != nil {
					t.Fatal(err)
				}
			}
		}
		q := `query($n: Int) { patients(first: $n) { nodes { doctors { id } mappings { doctor { id } patient { id } } } } }`
		counts := map[int]int64{}
		for _, n := range []int{5, 100} {
			e.counter.Reset()
			d := e.ok(tok, q, map[string]any{"n": n})
			counts[n] = e.counter.Count()
			nodes := path(d, "patients", "nodes").([]any)
			if len(nodes) != n || len(path(nodes[n-1], "doctors").([]any)) != 2 || path(nodes[0], "mappings", 1, "patient", "id") == nil {
				t.Fatalf("n=%d: wrong data", n)
			}
		}
		t.Logf("SQL statements: first 5 -> %d, first 100 -> %d", counts[5], counts[100])
		// The page, the mappings of its patients with their doctors (both
		// edges), and the request's one audit event; the session is cached.
		if counts[5] != counts[100] || counts[5] > 3 {
			t.Fatalf("statement counts %v: want at most 3 at any page size", counts)
		}
	})
}

func TestHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tok, _ := e.signup("http@example.com")
		t.Run("get_query_ok", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"?query="+url.QueryEscape(`{ me { email } }`), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if r := e.send(req); r.Status != 200 || path(r.Data, "me", "email") != "http@example.com" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
		t.Run("get_mutation_405", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"?query="+url.QueryEscape(`mutation { deletePatient(id: "1") }`), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
				t.Fatalf("%d allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
			}
		})
		t.Run("put_405", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, e.srv.URL, strings.NewReader("{}"))
			if r := e.send(req); r.Status != 405 {
				t.Fatalf("%d", r.Status)
			}
		})
		t.Run("malformed_json_400_without_echo", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(`{"query": "secret-looking-body`))
			req.Header.Set("Content-Type", "application/json")
			r := e.send(req)
			if r.Status != 400 || strings.Contains(r.Raw, "secret-looking") {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
		t.Run("parse_error_is_not_internal", func(t *testing.T) {
			r := e.do(tok, `{ me { `, nil)
			if len(r.Errors) == 0 || r.code() == "INTERNAL_SERVER_ERROR" {
				t.Fatalf("%s", r.Raw)
			}
		})
		t.Run("internal_error_masked", func(t *testing.T) {
			// Break the database under the server: the SQL error must not
			// reach the client.
			if _, err := db.ExecContext(context.Background(), `DROP TABLE mappings`); err != nil {
				t.Fatal(err)
			}
			r := e.do(tok, `{ mappings { totalCount } }`, nil)
			if r.code() != "INTERNAL_SERVER_ERROR" || r.Errors[0].Message != "internal error" || strings.Contains(r.Raw, "no such table") || strings.Contains(r.Raw, "does not exist") || strings.Contains(r.Raw, "SQL") {
				t.Fatalf("%s", r.Raw)
			}
		})
	})
}

func ptr[T any](v T) *T { return &v }

func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		access, refresh := e.signup("change@example.com")
		q := `mutation($c: String!, $n: String!, $k: String!) { changePassword(input: {currentPassword: $c, newPassword: $n, newPasswordConfirm: $k}) { tokens { access refresh } } }`
		t.Run("wrong_current_password", func(t *testing.T) {
			r := e.do(access, q, map[string]any{"c": "nope-nope-1", "n": "Another-Horse-77", "k": "Another-Horse-77"})
			if r.code() != "BAD_USER_INPUT" || len(r.Errors[0].Extensions.Fields["currentPassword"]) == 0 {
				t.Fatal(r.Raw)
			}
		})
		t.Run("weak_new_password", func(t *testing.T) {
			r := e.do(access, q, map[string]any{"c": "Correct-Horse-42", "n": "123", "k": "124"})
			f := r.Errors[0].Extensions.Fields
			if r.code() != "BAD_USER_INPUT" || len(f["newPassword"]) == 0 || len(f["newPasswordConfirm"]) == 0 {
				t.Fatal(r.Raw)
			}
		})
		t.Run("revokes_refresh_tokens", func(t *testing.T) {
			time.Sleep(1100 * time.Millisecond) // the old access token must predate the change by a whole second
			d := e.ok(access, q, map[string]any{"c": "Correct-Horse-42", "n": "Another-Horse-77", "k": "Another-Horse-77"})
			fresh := path(d, "changePassword", "tokens", "access").(string)
			if r := e.do("", `mutation($r: String!) { refreshToken(refresh: $r) { tokens { access } } }`, map[string]any{"r": refresh}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("old refresh token still works: %s", r.Raw)
			}
			if r := e.do(access, `{ me { id } }`, nil); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("old access token still works: %s", r.Raw)
			}
			if d := e.ok(fresh, `{ me { email } }`, nil); path(d, "me", "email") != "change@example.com" {
				t.Fatal(d)
			}
			if r := e.do("", `mutation { login(input: {email: "change@example.com", password: "Correct-Horse-42"}) { tokens { access } } }`, nil); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("old password works: %s", r.Raw)
			}
		})
	})
}
