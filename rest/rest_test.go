package rest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/database/dbtest"
)

// patientBody is the contract's example patient.
func patientBody(email string) map[string]any {
	return map[string]any{
		"first_name": "ABC", "last_name": "XYZ", "email": email, "phone": "+919876543210",
		"date_of_birth": "1990-05-15", "gender": "F", "blood_group": "A+",
		"address": "123 Main Street, Apartment 4B", "city": "Mumbai", "state": "Maharashtra",
		"postal_code": "400001", "country": "India", "medical_history": "No significant medical history",
		"allergies": "Penicillin", "current_medications": "None", "emergency_contact_name": "pranav abc",
		"emergency_contact_phone": "+919876543211", "emergency_contact_relation": "Spouse",
	}
}

// doctorBody is the contract's example doctor.
func doctorBody(email, license string) map[string]any {
	return map[string]any{
		"first_name": "Rajesh", "last_name": "Kumar", "email": email, "phone": "+919876543220",
		"date_of_birth": "1975-08-20", "gender": "M", "specialization": "CARDIOLOGY",
		"qualification": "MBBS, MD Cardiology", "license_number": license, "experience_years": 15,
		"clinic_name": "City Heart Hospital", "clinic_address": "456 Medical Plaza, Ground Floor",
		"city": "Mumbai", "state": "Maharashtra", "postal_code": "400002", "country": "India",
		"consultation_fee": 1500, "available_days": "Monday to Friday", "available_time": "9:00 AM - 5:00 PM",
		"bio":              "Experienced cardiologist specializing in heart disease prevention",
		"languages_spoken": "English, Hindi, Marathi",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// tc is one row of a table: a request, the status it must get, and what
// else to check.
type tc struct {
	name  string
	req   req
	want  int
	check func(t *testing.T, r *response)
}

func (e *env) run(t *testing.T, cases []tc) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.req)
			expect(t, r, c.want)
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

func fields(names ...string) func(t *testing.T, r *response) {
	return func(t *testing.T, r *response) { t.Helper(); expectFields(t, r, names...) }
}

func message(want string) func(t *testing.T, r *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		if got := r.str(t, "message"); got != want {
			t.Fatalf("message %q, want %q", got, want)
		}
	}
}

func count(n int) func(t *testing.T, r *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		if got := int(r.num(t, "data", "count")); got != n {
			t.Fatalf("count %d, want %d: %s", got, n, r.raw)
		}
		if got := len(r.results(t)); got > n {
			t.Fatalf("%d results for count %d", got, n)
		}
	}
}

func fieldError(field, want string) func(t *testing.T, r *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		if got := r.firstError(t, field); !strings.Contains(got, want) {
			t.Fatalf("errors.%s = %q, want it to contain %q", field, got, want)
		}
	}
}

func TestREST(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := MustEnv(t, db)
		alice := e.MustUser("Alice Admin", "alice@example.com")
		bob := e.MustUser("Bob Other", "bob@example.com")
		t.Run("auth", func(t *testing.T) { testAuth(t, e, alice) })
		t.Run("transport", func(t *testing.T) { testTransport(t, e, alice) })
		t.Run("patients", func(t *testing.T) { testPatients(t, e, alice, bob) })
		t.Run("doctors", func(t *testing.T) { testDoctors(t, e, alice, bob) })
		t.Run("mappings", func(t *testing.T) { testMappings(t, e, alice, bob) })
		t.Run("internal_error_500", func(t *testing.T) { testInternal(t, e, alice) })
	})
}

func testAuth(t *testing.T, e *env, alice *user) {
	reg := map[string]any{"name": "pranav kavade", "email": "pranav@example.com", "password": "SecurePass123!", "password_confirm": "SecurePass123!"}
	var refresh1 string
	e.run(t, []tc{
		{"register_ok_201", req{method: "POST", path: "/api/auth/register/", body: reg}, 201, func(t *testing.T, r *response) {
			e.golden(t, "register_201", r)
			if r.str(t, "data", "user", "email") != "pranav@example.com" || r.str(t, "data", "tokens", "access") == "" {
				t.Fatalf("unexpected body %s", r.raw)
			}
			if _, err := time.Parse(time.RFC3339, r.str(t, "data", "user", "date_joined")); err != nil {
				t.Fatal(err)
			}
		}},
		{"register_duplicate_email_400", req{method: "POST", path: "/api/auth/register/", body: with(reg, "email", "PRANAV@example.com")}, 400, fields("email")},
		{"register_empty_body_400", req{method: "POST", path: "/api/auth/register/"}, 400, fields("name", "email", "password", "password_confirm")},
		{"register_password_mismatch_400", req{method: "POST", path: "/api/auth/register/", body: with(reg, "email", "x@example.com", "password_confirm", "nope-nope-nope")}, 400, fields("password_confirm")},
		{"register_wrong_type_400", req{method: "POST", path: "/api/auth/register/", body: with(reg, "email", "y@example.com", "name", 5, "password", true)}, 400,
			func(t *testing.T, r *response) {
				// A number is a valid CharField value (DRF); a boolean is not.
				expectFields(t, r, "password", "password_confirm")
				fieldError("password", "Not a valid string.")(t, r)
			}},
		{"login_ok_200", req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "pranav@example.com", "password": "SecurePass123!"}}, 200, func(t *testing.T, r *response) {
			e.golden(t, "login_200", r)
			refresh1 = r.str(t, "data", "tokens", "refresh")
		}},
		{"login_wrong_password_401", req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "pranav@example.com", "password": "wrong-password"}}, 401,
			func(t *testing.T, r *response) {
				if r.header.Get("WWW-Authenticate") == "" {
					t.Fatal("no WWW-Authenticate on 401")
				}
			}},
		{"login_unknown_email_401", req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "nobody@example.com", "password": "SecurePass123!"}}, 401, nil},
		{"login_missing_password_400", req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "pranav@example.com"}}, 400, fields("password")},
		{"me_ok_200", req{method: "GET", path: "/api/auth/me/", token: alice.access}, 200, func(t *testing.T, r *response) {
			if r.str(t, "data", "email") != alice.email {
				t.Fatalf("me is %s", r.raw)
			}
		}},
		{"me_no_token_401", req{method: "GET", path: "/api/auth/me/"}, 401, message("Authentication credentials were not provided.")},
		{"me_bad_token_401", req{method: "GET", path: "/api/auth/me/", token: "not.a.token"}, 401, nil},
		{"me_refresh_token_as_access_401", req{method: "GET", path: "/api/auth/me/", token: alice.refresh}, 401, nil},
		{"refresh_missing_400", req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{}}, 400, fields("refresh")},
		{"refresh_garbage_401", req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": "garbage"}}, 401, nil},
	})
	var refresh2 string
	t.Run("refresh_ok_200", func(t *testing.T) {
		r := e.do(t, req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": refresh1}})
		expect(t, r, 200)
		refresh2 = r.str(t, "data", "refresh")
		if refresh2 == refresh1 || r.str(t, "data", "access") == "" {
			t.Fatalf("no rotation: %s", r.raw)
		}
	})
	e.run(t, []tc{
		// Each refresh token works once; the reuse revokes the family, so
		// the newer token dies too.
		{"refresh_reused_401", req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": refresh1}}, 401, nil},
		{"refresh_family_revoked_401", req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": refresh2}}, 401, nil},
	})
	t.Run("logout_ok_200", func(t *testing.T) {
		login := e.do(t, req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "pranav@example.com", "password": "SecurePass123!"}})
		expect(t, login, 200)
		tok := login.str(t, "data", "tokens", "refresh")
		r := e.do(t, req{method: "POST", path: "/api/auth/logout/", body: map[string]any{"refresh": tok}})
		expect(t, r, 200)
		if r.path(t, "data") != nil {
			t.Fatalf("data %s", r.raw)
		}
		r = e.do(t, req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": tok}})
		expect(t, r, 401)
	})
	t.Run("expired_token_401", func(t *testing.T) {
		s, err := auth.NewSigner([]byte("test-secret-test-secret-test-secret-0123"), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		s.AccessTTL = -time.Minute
		tok, _, err := s.Issue(alice.id, auth.TypeAccess, "ses-1")
		if err != nil {
			t.Fatal(err)
		}
		r := e.do(t, req{method: "GET", path: "/api/patients/", token: tok})
		expect(t, r, 401)
		message("Token is expired.")(t, r)
	})
}

func testTransport(t *testing.T, e *env, alice *user) {
	big := `{"first_name": "` + strings.Repeat("a", maxBody) + `"}`
	e.run(t, []tc{
		{"malformed_json_400", req{method: "POST", path: "/api/patients/", token: alice.access, body: `{"first_name": `}, 400, fields("non_field_errors")},
		{"json_array_400", req{method: "POST", path: "/api/patients/", token: alice.access, body: `[1, 2]`}, 400, fieldError("non_field_errors", "Expected a dictionary, but got list.")},
		{"json_string_400", req{method: "POST", path: "/api/patients/", token: alice.access, body: `"x"`}, 400, fieldError("non_field_errors", "got str")},
		{"trailing_data_400", req{method: "POST", path: "/api/patients/", token: alice.access, body: `{} {}`}, 400, fields("non_field_errors")},
		{"form_body_415", req{method: "POST", path: "/api/patients/", token: alice.access, body: "first_name=a", contentType: "application/x-www-form-urlencoded"}, 415, nil},
		{"no_content_type_415", req{method: "POST", path: "/api/auth/login/", body: `{"email":"a@b.co"}`, contentType: "none"}, 415, nil},
		{"json_charset_ok_400", req{method: "POST", path: "/api/auth/login/", body: `{}`, contentType: "application/json; charset=utf-8"}, 400, fields("email", "password")},
		{"body_too_large_chunked_413", req{method: "POST", path: "/api/patients/", token: alice.access, body: big, chunked: true}, 413, message("Request body is too large.")},
		{"body_too_large_declared_413", req{method: "POST", path: "/api/auth/register/", body: big}, 413, nil},
		{"method_not_allowed_405", req{method: "DELETE", path: "/api/patients/", token: alice.access}, 405, func(t *testing.T, r *response) {
			if got := r.header.Get("Allow"); got != "GET, HEAD, OPTIONS, POST" {
				t.Fatalf("Allow %q", got)
			}
		}},
		{"login_get_405", req{method: "GET", path: "/api/auth/login"}, 405, func(t *testing.T, r *response) {
			if got := r.header.Get("Allow"); got != "OPTIONS, POST" {
				t.Fatalf("Allow %q", got)
			}
		}},
		{"unknown_path_404", req{method: "GET", path: "/api/nothing/here/", token: alice.access}, 404, message("Not found.")},
		{"no_token_401", req{method: "GET", path: "/api/patients/"}, 401, nil},
		{"unauthenticated_before_body_401", req{method: "POST", path: "/api/patients/", body: "x=1", contentType: "text/plain"}, 401, nil},
		{"schema_ok_200", req{method: "GET", path: "/api/schema/"}, 200, func(t *testing.T, r *response) {
			if r.str(t, "openapi") != "3.1.0" {
				t.Fatalf("openapi %v", r.body["openapi"])
			}
		}},
		{"schema_no_slash_ok_200", req{method: "GET", path: "/api/schema"}, 200, nil},
		{"docs_ok_200", req{method: "GET", path: "/api/docs/"}, 200, func(t *testing.T, r *response) {
			page := string(r.raw)
			for _, want := range []string{"/api/patients/{id}/", "/api/mappings/detail/{id}/", "min_experience", `href="/api/schema/"`} {
				if !strings.Contains(page, want) {
					t.Errorf("docs page lacks %q", want)
				}
			}
			for _, bad := range []string{"<script", "https://", "http://"} {
				if strings.Contains(page, bad) {
					t.Errorf("docs page has %q: it must work offline", bad)
				}
			}
		}},
	})
	t.Run("options_204", func(t *testing.T) {
		r := e.do(t, req{method: "OPTIONS", path: "/api/doctors/1"})
		if r.status != 204 || r.header.Get("Allow") != "DELETE, GET, HEAD, OPTIONS, PATCH, PUT" {
			t.Fatalf("%d Allow %q", r.status, r.header.Get("Allow"))
		}
	})
}

func testPatients(t *testing.T, e *env, alice, bob *user) {
	tok := alice.access
	var id int64
	t.Run("create_ok_201", func(t *testing.T) {
		r := e.do(t, req{method: "POST", path: "/api/patients/", token: tok, body: with(patientBody("abc@email.com"), "id", 999, "created_at", "1999-01-01T00:00:00Z", "owner", bob.id, "created_by", bob.id, "full_name", "X")})
		expect(t, r, 201)
		e.golden(t, "patient_create_201", r)
		id = r.id(t)
		if id == 999 || r.str(t, "data", "full_name") != "ABC XYZ" || r.str(t, "data", "blood_group") != "A+" || r.str(t, "data", "date_of_birth") != "1990-05-15" {
			t.Fatalf("unexpected %s", r.raw)
		}
		if age := int(r.num(t, "data", "age")); age < 35 {
			t.Fatalf("age %d", age)
		}
	})
	sid := itoa(id)
	// Two more patients of alice's for the filters, and one of bob's.
	p2 := e.do(t, req{method: "POST", path: "/api/patients", token: tok, body: with(patientBody("ravi@example.com"), "first_name", "Ravi", "last_name", "Shah", "gender", "M", "city", "Pune", "phone", "+919800000002")})
	expect(t, p2, 201)
	p3 := e.do(t, req{method: "POST", path: "/api/patients/", token: tok, body: with(patientBody(""), "first_name", "Meera", "last_name", "Iyer", "email", nil, "gender", "O", "city", "mumbai", "phone", "+919800000003", "is_active", false)})
	expect(t, p3, 201)
	bobs := e.do(t, req{method: "POST", path: "/api/patients/", token: bob.access, body: patientBody("bobs@example.com")})
	expect(t, bobs, 201)
	bobID := itoa(bobs.id(t))

	e.run(t, []tc{
		{"missing_first_name_400", req{method: "POST", path: "/api/patients/", token: tok, body: with(patientBody("q@example.com"), "first_name", "<delete>")}, 400,
			func(t *testing.T, r *response) {
				expectFields(t, r, "first_name")
				fieldError("first_name", "This field is required.")(t, r)
			}},
		{"empty_body_400", req{method: "POST", path: "/api/patients/", token: tok}, 400, fields("first_name", "last_name", "phone", "date_of_birth", "gender")},
		{"malformed_date_400", req{method: "POST", path: "/api/patients/", token: tok, body: with(patientBody("q@example.com"), "date_of_birth", "15-05-1990")}, 400,
			func(t *testing.T, r *response) {
				expectFields(t, r, "date_of_birth")
				fieldError("date_of_birth", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")(t, r)
			}},
		{"future_date_400", req{method: "POST", path: "/api/patients/", token: tok, body: with(patientBody("q@example.com"), "date_of_birth", "2999-01-01")}, 400, fields("date_of_birth")},
		{"wrong_types_and_missing_merged_400", req{method: "POST", path: "/api/patients/", token: tok, body: map[string]any{"first_name": []any{1}, "is_active": "maybe", "gender": "X", "phone": "12", "date_of_birth": 19900515}}, 400,
			func(t *testing.T, r *response) {
				e.golden(t, "patient_invalid_400", r)
				expectFields(t, r, "first_name", "is_active", "gender", "phone", "date_of_birth", "last_name")
				fieldError("first_name", "Not a valid string.")(t, r)
				fieldError("is_active", "Must be a valid boolean.")(t, r)
				fieldError("last_name", "This field is required.")(t, r)
			}},
		{"bad_email_and_blood_group_400", req{method: "POST", path: "/api/patients/", token: tok, body: with(patientBody("not-an-email"), "blood_group", "C+")}, 400, fields("email", "blood_group")},
		{"get_ok_200", req{method: "GET", path: "/api/patients/" + sid + "/", token: tok}, 200, func(t *testing.T, r *response) {
			if r.id(t) != id {
				t.Fatal(string(r.raw))
			}
		}},
		{"get_no_slash_ok_200", req{method: "GET", path: "/api/patients/" + sid, token: tok}, 200, nil},
		{"other_users_patient_404", req{method: "GET", path: "/api/patients/" + bobID + "/", token: tok}, 404, message("Patient not found.")},
		{"absent_patient_404", req{method: "GET", path: "/api/patients/987654/", token: tok}, 404, nil},
		{"non_numeric_id_404", req{method: "GET", path: "/api/patients/abc/", token: tok}, 404, nil},
		{"put_ok_200", req{method: "PUT", path: "/api/patients/" + sid + "/", token: tok, body: with(patientBody("abc@email.com"), "first_name", "Abc", "city", "Mumbai")}, 200, func(t *testing.T, r *response) {
			if r.str(t, "data", "full_name") != "Abc XYZ" {
				t.Fatal(string(r.raw))
			}
		}},
		{"put_missing_required_400", req{method: "PUT", path: "/api/patients/" + sid + "/", token: tok, body: map[string]any{"city": "Pune"}}, 400, fields("first_name", "last_name", "phone", "date_of_birth", "gender")},
		{"patch_ok_200", req{method: "PATCH", path: "/api/patients/" + sid + "/", token: tok, body: map[string]any{"allergies": "Dust", "id": 5}}, 200, func(t *testing.T, r *response) {
			if r.str(t, "data", "allergies") != "Dust" || r.str(t, "data", "first_name") != "Abc" || r.id(t) != id {
				t.Fatal(string(r.raw))
			}
		}},
		{"patch_clear_optional_200", req{method: "PATCH", path: "/api/patients/" + sid + "/", token: tok, body: map[string]any{"current_medications": nil}}, 200, func(t *testing.T, r *response) {
			if r.path(t, "data", "current_medications") != nil {
				t.Fatal(string(r.raw))
			}
		}},
		{"patch_wrong_type_400", req{method: "PATCH", path: "/api/patients/" + sid + "/", token: tok, body: map[string]any{"city": []any{"x"}, "gender": "Q"}}, 400, fields("city", "gender")},
		{"patch_blank_required_400", req{method: "PATCH", path: "/api/patients/" + sid + "/", token: tok, body: map[string]any{"first_name": "  "}}, 400, fields("first_name")},
		{"patch_other_users_patient_404", req{method: "PATCH", path: "/api/patients/" + bobID + "/", token: tok, body: map[string]any{"city": 5.5, "is_active": "x"}}, 404, nil},
		{"put_other_users_patient_404", req{method: "PUT", path: "/api/patients/" + bobID + "/", token: tok, body: patientBody("z@example.com")}, 404, nil},
		{"delete_other_users_patient_404", req{method: "DELETE", path: "/api/patients/" + bobID + "/", token: tok}, 404, nil},

		{"list_ok_200", req{method: "GET", path: "/api/patients/", token: tok}, 200, count(3)},
		{"list_no_slash_ok_200", req{method: "GET", path: "/api/patients", token: tok}, 200, count(3)},
		{"list_search_name_200", req{method: "GET", path: "/api/patients/?search=ravi", token: tok}, 200, count(1)},
		{"list_search_full_name_200", req{method: "GET", path: "/api/patients/?search=meera%20iy", token: tok}, 200, count(1)},
		{"list_search_phone_200", req{method: "GET", path: "/api/patients/?search=9800000003", token: tok}, 200, count(1)},
		{"list_search_email_200", req{method: "GET", path: "/api/patients/?search=ABC@EMAIL", token: tok}, 200, count(1)},
		{"list_gender_200", req{method: "GET", path: "/api/patients/?gender=F", token: tok}, 200, count(1)},
		{"list_city_200", req{method: "GET", path: "/api/patients/?city=Mumbai", token: tok}, 200, count(2)},
		{"list_is_active_false_200", req{method: "GET", path: "/api/patients/?is_active=false", token: tok}, 200, count(1)},
		{"list_is_active_true_200", req{method: "GET", path: "/api/patients/?is_active=true", token: tok}, 200, count(2)},
		{"list_combined_200", req{method: "GET", path: "/api/patients/?city=mumbai&is_active=true&gender=F", token: tok}, 200, count(1)},
		{"list_empty_value_ignored_200", req{method: "GET", path: "/api/patients/?gender=&unknown=1", token: tok}, 200, count(3)},
		{"list_other_user_sees_own_200", req{method: "GET", path: "/api/patients/", token: bob.access}, 200, count(1)},
		{"list_page_1_200", req{method: "GET", path: "/api/patients/?page_size=2&city=", token: tok}, 200, func(t *testing.T, r *response) {
			count(3)(t, r)
			if len(r.results(t)) != 2 || r.path(t, "data", "previous") != nil {
				t.Fatal(string(r.raw))
			}
			next := r.str(t, "data", "next")
			if !strings.HasPrefix(next, e.srv.URL+"/api/patients/?") || !strings.Contains(next, "page=2") || !strings.Contains(next, "page_size=2") {
				t.Fatalf("next %q", next)
			}
		}},
		{"list_page_2_200", req{method: "GET", path: "/api/patients/?page=2&page_size=2", token: tok}, 200, func(t *testing.T, r *response) {
			e.golden(t, "patient_list_page2_200", r)
			if len(r.results(t)) != 1 || r.path(t, "data", "next") != nil {
				t.Fatal(string(r.raw))
			}
			if prev := r.str(t, "data", "previous"); prev != e.srv.URL+"/api/patients/?page_size=2" {
				t.Fatalf("previous %q", prev)
			}
		}},
		{"list_page_past_end_404", req{method: "GET", path: "/api/patients/?page=3&page_size=2", token: tok}, 404, message("Invalid page.")},
		{"list_huge_page_404", req{method: "GET", path: "/api/patients/?page=999999999999", token: tok}, 404, message("Invalid page.")},
		{"list_page_abc_400", req{method: "GET", path: "/api/patients/?page=abc", token: tok}, 400, fields("page")},
		{"list_page_0_400", req{method: "GET", path: "/api/patients/?page=0", token: tok}, 400, fields("page")},
		{"list_page_size_101_400", req{method: "GET", path: "/api/patients/?page_size=101", token: tok}, 400, fields("page_size")},
		{"list_page_size_0_400", req{method: "GET", path: "/api/patients/?page_size=0", token: tok}, 400, fields("page_size")},
		{"list_gender_X_400", req{method: "GET", path: "/api/patients/?gender=X", token: tok}, 400, fields("gender")},
		{"list_is_active_maybe_400", req{method: "GET", path: "/api/patients/?is_active=maybe&gender=Z", token: tok}, 400, fields("is_active", "gender")},

		{"delete_ok_200", req{method: "DELETE", path: "/api/patients/" + itoa(p3.id(t)) + "/", token: tok}, 200, message("Patient deleted successfully")},
		{"deleted_patient_404", req{method: "GET", path: "/api/patients/" + itoa(p3.id(t)) + "/", token: tok}, 404, nil},
	})
}

func testDoctors(t *testing.T, e *env, alice, bob *user) {
	tok := alice.access
	var id int64
	t.Run("create_ok_201", func(t *testing.T) {
		r := e.do(t, req{method: "POST", path: "/api/doctors/", token: tok, body: doctorBody("dr.rajesh@hospital.com", "MH12345")})
		expect(t, r, 201)
		e.golden(t, "doctor_create_201", r)
		id = r.id(t)
		if r.str(t, "data", "full_name") != "Rajesh Kumar" || r.num(t, "data", "consultation_fee") != 1500 {
			t.Fatal(string(r.raw))
		}
	})
	sid := itoa(id)
	d2 := e.do(t, req{method: "POST", path: "/api/doctors/", token: bob.access, body: with(doctorBody("anita@clinic.com", "KA777"),
		"first_name", "Anita", "last_name", "Rao", "specialization", "DERMATOLOGY", "city", "Bengaluru", "experience_years", "4", "consultation_fee", "500.50")})
	expect(t, d2, 201)
	bobsDoctor := itoa(d2.id(t))
	d3 := e.do(t, req{method: "POST", path: "/api/doctors/", token: tok, body: with(doctorBody("sam@clinic.com", "mh999"),
		"first_name", "Sam", "last_name", "Patel", "specialization", "NEUROLOGY", "experience_years", 25.0, "consultation_fee", 2500, "is_available", false)})
	expect(t, d3, 201)

	e.run(t, []tc{
		{"duplicate_email_400", req{method: "POST", path: "/api/doctors/", token: tok, body: doctorBody("DR.RAJESH@hospital.com", "NEW1")}, 400, fields("email")},
		{"duplicate_license_400", req{method: "POST", path: "/api/doctors/", token: tok, body: doctorBody("new@hospital.com", "mh12345")}, 400,
			func(t *testing.T, r *response) {
				expectFields(t, r, "license_number")
				e.golden(t, "doctor_duplicate_400", r)
			}},
		{"experience_not_integer_400", req{method: "POST", path: "/api/doctors/", token: tok, body: with(doctorBody("n@h.com", "N1"), "experience_years", "fifteen")}, 400,
			func(t *testing.T, r *response) {
				expectFields(t, r, "experience_years")
				fieldError("experience_years", "A valid integer is required.")(t, r)
			}},
		{"experience_fraction_400", req{method: "POST", path: "/api/doctors/", token: tok, body: with(doctorBody("n@h.com", "N1"), "experience_years", 15.5)}, 400, fields("experience_years")},
		{"experience_null_400", req{method: "POST", path: "/api/doctors/", token: tok, body: with(doctorBody("n@h.com", "N1"), "experience_years", nil)}, 400, fieldError("experience_years", "may not be null")},
		{"fee_and_specialization_400", req{method: "POST", path: "/api/doctors/", token: tok, body: with(doctorBody("n@h.com", "N1"), "consultation_fee", "cheap", "specialization", "SURGERY", "experience_years", 99)}, 400,
			fields("consultation_fee", "specialization", "experience_years")},
		{"missing_required_400", req{method: "POST", path: "/api/doctors/", token: tok, body: map[string]any{"first_name": "A"}}, 400,
			fields("last_name", "email", "phone", "specialization", "qualification", "license_number", "experience_years", "consultation_fee")},
		{"get_ok_200", req{method: "GET", path: "/api/doctors/" + sid + "/", token: bob.access}, 200, nil},
		{"get_absent_404", req{method: "GET", path: "/api/doctors/424242/", token: tok}, 404, message("Doctor not found.")},
		{"get_non_numeric_404", req{method: "GET", path: "/api/doctors/-1/", token: tok}, 404, nil},
		{"patch_other_users_doctor_403", req{method: "PATCH", path: "/api/doctors/" + bobsDoctor + "/", token: tok, body: map[string]any{"bio": "x"}}, 403, nil},
		{"patch_other_users_doctor_bad_type_403", req{method: "PATCH", path: "/api/doctors/" + bobsDoctor + "/", token: tok, body: map[string]any{"experience_years": "x"}}, 403, nil},
		{"put_other_users_doctor_403", req{method: "PUT", path: "/api/doctors/" + bobsDoctor + "/", token: tok, body: doctorBody("x@y.com", "Q1")}, 403, nil},
		{"delete_other_users_doctor_403", req{method: "DELETE", path: "/api/doctors/" + bobsDoctor + "/", token: tok}, 403, nil},
		{"patch_absent_404", req{method: "PATCH", path: "/api/doctors/424242/", token: tok, body: map[string]any{"bio": "x"}}, 404, nil},
		{"patch_ok_200", req{method: "PATCH", path: "/api/doctors/" + sid + "/", token: tok, body: map[string]any{"consultation_fee": 1750.5, "license_number": "mh12345"}}, 200, func(t *testing.T, r *response) {
			if r.num(t, "data", "consultation_fee") != 1750.5 || r.str(t, "data", "license_number") != "MH12345" {
				t.Fatal(string(r.raw))
			}
		}},
		{"patch_bad_type_own_400", req{method: "PATCH", path: "/api/doctors/" + sid + "/", token: tok, body: map[string]any{"is_available": "perhaps", "experience_years": -1}}, 400, fields("is_available", "experience_years")},
		{"put_ok_200", req{method: "PUT", path: "/api/doctors/" + sid + "/", token: tok, body: with(doctorBody("dr.rajesh@hospital.com", "MH12345"), "experience_years", 16)}, 200, nil},
		{"put_missing_required_400", req{method: "PUT", path: "/api/doctors/" + sid + "/", token: tok, body: map[string]any{"bio": "x"}}, 400,
			fields("first_name", "last_name", "email", "phone", "specialization", "qualification", "license_number", "experience_years", "consultation_fee")},

		{"list_ok_200", req{method: "GET", path: "/api/doctors/", token: bob.access}, 200, count(3)},
		{"list_search_name_200", req{method: "GET", path: "/api/doctors/?search=anita", token: tok}, 200, count(1)},
		{"list_search_specialization_200", req{method: "GET", path: "/api/doctors/?search=neuro", token: tok}, 200, count(1)},
		{"list_search_city_200", req{method: "GET", path: "/api/doctors/?search=bengal", token: tok}, 200, count(1)},
		{"list_specialization_200", req{method: "GET", path: "/api/doctors/?specialization=CARDIOLOGY", token: tok}, 200, count(1)},
		{"list_city_200", req{method: "GET", path: "/api/doctors/?city=mumbai", token: tok}, 200, count(2)},
		{"list_is_available_200", req{method: "GET", path: "/api/doctors/?is_available=false", token: tok}, 200, count(1)},
		{"list_min_experience_200", req{method: "GET", path: "/api/doctors/?min_experience=16", token: tok}, 200, count(2)},
		{"list_max_fee_200", req{method: "GET", path: "/api/doctors/?max_fee=500.50", token: tok}, 200, count(1)},
		{"list_max_fee_none_200", req{method: "GET", path: "/api/doctors/?max_fee=100", token: tok}, 200, count(0)},
		{"list_page_2_empty_404", req{method: "GET", path: "/api/doctors/?max_fee=100&page=2", token: tok}, 404, nil},
		{"list_min_experience_negative_400", req{method: "GET", path: "/api/doctors/?min_experience=-1", token: tok}, 400, fields("min_experience")},
		{"list_bad_params_400", req{method: "GET", path: "/api/doctors/?max_fee=abc&specialization=FOO&is_available=2&min_experience=x", token: tok}, 400,
			fields("max_fee", "specialization", "is_available", "min_experience")},
		{"delete_ok_200", req{method: "DELETE", path: "/api/doctors/" + itoa(d3.id(t)) + "/", token: tok}, 200, nil},
		{"deleted_doctor_404", req{method: "GET", path: "/api/doctors/" + itoa(d3.id(t)) + "/", token: tok}, 404, nil},
	})
}

func testMappings(t *testing.T, e *env, alice, bob *user) {
	tok := alice.access
	mk := func(t *testing.T, who *user, path string, body any) *response {
		t.Helper()
		r := e.do(t, req{method: "POST", path: path, token: who.access, body: body})
		expect(t, r, 201)
		return r
	}
	pat := mk(t, alice, "/api/patients/", with(patientBody("m1@example.com"), "first_name", "Kiran", "last_name", "Desai"))
	pat2 := mk(t, alice, "/api/patients/", with(patientBody("m2@example.com"), "first_name", "Leela", "last_name", "Nair"))
	bobPat := mk(t, bob, "/api/patients/", patientBody("m3@example.com"))
	doc1 := mk(t, alice, "/api/doctors/", with(doctorBody("d1@clinic.com", "MAP1"), "first_name", "Vikram", "last_name", "Sethi"))
	doc2 := mk(t, bob, "/api/doctors/", with(doctorBody("d2@clinic.com", "MAP2"), "first_name", "Zoya", "last_name", "Khan", "specialization", "PEDIATRICS"))
	pid, pid2, did, did2 := pat.id(t), pat2.id(t), doc1.id(t), doc2.id(t)

	var mid int64
	t.Run("create_ok_201", func(t *testing.T) {
		r := e.do(t, req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{
			"patient": pid, "doctor": did, "reason": "Regular checkup and consultation for hypertension",
			"notes": "Patient prefers morning appointments", "status": "ACTIVE"}})
		expect(t, r, 201)
		e.golden(t, "mapping_create_201", r)
		mid = r.id(t)
		if r.str(t, "data", "patient_name") != "Kiran Desai" || r.str(t, "data", "doctor_name") != "Vikram Sethi" ||
			r.str(t, "data", "doctor_specialization") != "CARDIOLOGY" || int64(r.num(t, "data", "patient")) != pid {
			t.Fatal(string(r.raw))
		}
	})
	smid := itoa(mid)
	m2 := e.do(t, req{method: "POST", path: "/api/mappings", token: tok, body: map[string]any{"patient": pid, "doctor": did2, "status": "COMPLETED"}})
	expect(t, m2, 201)
	m3 := e.do(t, req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{"patient": itoa(pid2), "doctor": did2}})
	expect(t, m3, 201)

	e.run(t, []tc{
		{"duplicate_pair_400", req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{"patient": pid, "doctor": did}}, 400,
			func(t *testing.T, r *response) {
				expectFields(t, r, "doctor")
				fieldError("doctor", "already assigned")(t, r)
			}},
		{"missing_doctor_400", req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{"patient": pid}}, 400, fields("doctor")},
		{"wrong_types_400", req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{"patient": "one", "doctor": true, "status": "DONE"}}, 400, fields("patient", "doctor", "status")},
		{"other_users_patient_404", req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{"patient": bobPat.id(t), "doctor": did}}, 404, nil},
		{"absent_doctor_404", req{method: "POST", path: "/api/mappings/", token: tok, body: map[string]any{"patient": pid, "doctor": 987654}}, 404, message("Doctor not found.")},

		{"list_ok_200", req{method: "GET", path: "/api/mappings/", token: tok}, 200, count(3)},
		{"list_other_user_200", req{method: "GET", path: "/api/mappings/", token: bob.access}, 200, count(0)},
		{"list_patient_id_200", req{method: "GET", path: "/api/mappings/?patient_id=" + itoa(pid), token: tok}, 200, count(2)},
		{"list_doctor_id_200", req{method: "GET", path: "/api/mappings/?doctor_id=" + itoa(did2), token: tok}, 200, count(2)},
		{"list_status_200", req{method: "GET", path: "/api/mappings/?status=COMPLETED", token: tok}, 200, count(1)},
		{"list_search_patient_200", req{method: "GET", path: "/api/mappings/?search=leela", token: tok}, 200, count(1)},
		{"list_search_doctor_200", req{method: "GET", path: "/api/mappings/?search=zoya%20k", token: tok}, 200, count(2)},
		{"list_paged_200", req{method: "GET", path: "/api/mappings/?page_size=1&page=2", token: tok}, 200, func(t *testing.T, r *response) {
			count(3)(t, r)
			if r.path(t, "data", "next") == nil || r.path(t, "data", "previous") == nil {
				t.Fatal(string(r.raw))
			}
		}},
		{"list_bad_params_400", req{method: "GET", path: "/api/mappings/?patient_id=abc&doctor_id=0&status=DONE", token: tok}, 400, fields("patient_id", "doctor_id", "status")},

		{"doctors_of_patient_200", req{method: "GET", path: "/api/mappings/" + itoa(pid) + "/", token: tok}, 200, func(t *testing.T, r *response) {
			e.golden(t, "mapping_doctors_of_patient_200", r)
			if int(r.num(t, "data", "count")) != 2 || r.str(t, "data", "patient_name") != "Kiran Desai" {
				t.Fatal(string(r.raw))
			}
		}},
		{"doctors_of_patient_status_200", req{method: "GET", path: "/api/mappings/" + itoa(pid) + "?status=ACTIVE", token: tok}, 200, func(t *testing.T, r *response) {
			docs := r.path(t, "data", "doctors").([]any)
			d := docs[0].(map[string]any)
			if len(docs) != 1 || int64(d["mapping_id"].(float64)) != mid || d["status"] != "ACTIVE" || d["full_name"] != "Vikram Sethi" {
				t.Fatal(string(r.raw))
			}
		}},
		{"doctors_of_patient_bad_status_400", req{method: "GET", path: "/api/mappings/" + itoa(pid) + "/?status=X", token: tok}, 400, fields("status")},
		{"doctors_of_other_users_patient_404", req{method: "GET", path: "/api/mappings/" + itoa(bobPat.id(t)) + "/", token: tok}, 404, nil},
		{"doctors_of_non_numeric_404", req{method: "GET", path: "/api/mappings/abc/", token: tok}, 404, nil},

		{"get_ok_200", req{method: "GET", path: "/api/mappings/detail/" + smid + "/", token: tok}, 200, nil},
		{"get_other_user_404", req{method: "GET", path: "/api/mappings/detail/" + smid + "/", token: bob.access}, 404, message("Mapping not found.")},
		{"patch_ok_200", req{method: "PATCH", path: "/api/mappings/detail/" + smid + "/", token: tok, body: map[string]any{"status": "INACTIVE", "notes": "Updated notes", "doctor": did2, "patient": pid2}}, 200,
			func(t *testing.T, r *response) {
				if r.str(t, "data", "status") != "INACTIVE" || r.str(t, "data", "notes") != "Updated notes" || int64(r.num(t, "data", "doctor")) != did {
					t.Fatal(string(r.raw))
				}
			}},
		{"patch_bad_status_400", req{method: "PATCH", path: "/api/mappings/detail/" + smid + "/", token: tok, body: map[string]any{"status": "DONE", "notes": 7}}, 400, fields("status")},
		{"patch_wrong_type_400", req{method: "PATCH", path: "/api/mappings/detail/" + smid + "/", token: tok, body: map[string]any{"reason": map[string]any{}}}, 400, fields("reason")},
		{"patch_other_user_404", req{method: "PATCH", path: "/api/mappings/detail/" + smid + "/", token: bob.access, body: map[string]any{"status": "DONE"}}, 404, nil},
		{"put_detail_405", req{method: "PUT", path: "/api/mappings/detail/" + smid + "/", token: tok, body: map[string]any{}}, 405, nil},
		{"delete_other_user_404", req{method: "DELETE", path: "/api/mappings/detail/" + smid + "/", token: bob.access}, 404, nil},
		{"delete_ok_200", req{method: "DELETE", path: "/api/mappings/detail/" + smid, token: tok}, 200, nil},
		{"deleted_mapping_404", req{method: "DELETE", path: "/api/mappings/detail/" + smid + "/", token: tok}, 404, nil},
		// Bob's doctor is assigned to two of alice's patients: not his alone to delete.
		{"doctor_delete_others_assignments_409", req{method: "DELETE", path: "/api/doctors/" + itoa(did2) + "/", token: bob.access}, 409,
			message("This doctor is assigned to 2 patient(s) of other accounts, so it cannot be deleted; mark it unavailable instead, or ask an administrator.")},
		{"assignments_kept_200", req{method: "GET", path: "/api/mappings/", token: tok}, 200, count(2)},
	})
}

// testInternal closes the database under the server: the answer is a 500
// that names no cause, and the cause is logged with the request id.
func testInternal(t *testing.T, e *env, alice *user) {
	_ = e.db.Close()
	r := e.do(t, req{method: "GET", path: "/api/patients/", token: alice.access})
	expect(t, r, 500)
	if r.str(t, "message") != "Internal server error." || strings.Contains(strings.ToLower(string(r.raw)), "sql") {
		t.Fatalf("500 body %s", r.raw)
	}
	if log := e.logBuf.String(); !strings.Contains(log, "rest: internal error") || !strings.Contains(log, "request_id=") {
		t.Fatalf("cause not logged with the request id:\n%s", log)
	}
}
