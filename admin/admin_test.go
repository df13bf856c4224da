package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/uptrace/bun"

	"healthcare/admin"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
	"healthcare/web"
)

const (
	adminEmail = "boss@clinic.example"
	adminPass  = "Sturdy-Horse-42"
)

// env is one console over a fresh database, with its superuser.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	app   *apptest.App
	store *database.Store
	auth  *auth.Service
	admin *models.User
}

func mustEnv(t *testing.T, db *bun.DB) *env {
	t.Helper()
	return mustEnvWith(t, db, apptest.Options{})
}

// mustEnvWith serves the console over the real stack, mounted as
// routes.go mounts it (behind the request id and request origin
// middleware, not trusting a proxy).
func mustEnvWith(t *testing.T, db *bun.DB, o apptest.Options) *env {
	t.Helper()
	app := apptest.New(t, db, o)
	e := &env{t: t, app: app, store: app.Store, auth: app.Auth}
	e.srv = e.server(web.Origin{})
	u, err := e.auth.CreateSuperuser(context.Background(),
		models.RegisterInput{Name: "Clinic Boss", Email: adminEmail, Password: adminPass, PasswordConfirm: adminPass})
	if err != nil {
		t.Fatalf("create superuser: %v", err)
	}
	e.admin = u
	return e
}

// server serves the console of e, working out requests' origin by o.
func (e *env) server(o web.Origin) *httptest.Server {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(web.RequestInfo(o))
	r.Mount("/admin", admin.NewHandler(admin.Options{Store: e.store, Auth: e.auth, Audit: e.app.Audit, Log: e.app.Log}))
	// The API's view of a bearer token: 200 and the account's id, or 401.
	r.With(e.auth.Middleware).Get("/whoami", func(w http.ResponseWriter, r *http.Request) {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, v.UserID)
	})
	srv := httptest.NewServer(r)
	e.t.Cleanup(srv.Close)
	return srv
}

// boss is the superuser as a viewer.
func (e *env) boss() models.Viewer { return models.Viewer{UserID: e.admin.ID, Superuser: true} }

func (e *env) mustUser(email, pw, name string, super bool) *models.User {
	e.t.Helper()
	u, err := e.auth.CreateUser(context.Background(), e.boss(), models.RegisterInput{Name: name, Email: email, Password: pw, PasswordConfirm: pw}, super)
	if err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	return u
}

// client is a browser: a cookie jar and the last page it saw.
type client struct {
	t    *testing.T
	e    *env
	http *http.Client
	last string // body of the last page
	url  *url.URL
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, http: &http.Client{Jar: jar}}
}

func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.last, c.url = string(b), resp.Request.URL
	return resp.StatusCode, c.last
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	return c.do(req)
}

// post submits form to path with the CSRF token of the last page seen.
func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", csrfOf(c.last))
	}
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

func csrfOf(body string) string {
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func (c *client) signIn(email, pw string) (int, string) {
	c.t.Helper()
	c.get("/admin/login")
	return c.post("/admin/login", url.Values{"email": {email}, "password": {pw}, "next": {"/admin/"}})
}

func (e *env) signedIn() *client {
	e.t.Helper()
	c := e.client()
	if st, body := c.signIn(adminEmail, adminPass); st != http.StatusOK || !strings.Contains(body, "<h1>Dashboard</h1>") {
		e.t.Fatalf("sign in: %d\n%s", st, body)
	}
	return c
}

func want(t *testing.T, gotStatus, wantStatus int, body string, wants ...string) {
	t.Helper()
	if gotStatus != wantStatus {
		t.Fatalf("status %d, want %d\n%s", gotStatus, wantStatus, body)
	}
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q\n%s", w, body)
		}
	}
}

func wantNot(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Fatalf("page has %q\n%s", n, body)
		}
	}
}

// fieldError returns the error list rendered beside field name.
func fieldError(body, name string) string {
	re := regexp.MustCompile(`<ul class="errors" id="f-` + regexp.QuoteMeta(name) + `-err">(.*?)</ul>`)
	if m := re.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

var idRe = regexp.MustCompile(`/(\d+)$`)

// createdID is the id at the end of the page the last redirect landed on.
func (c *client) createdID() string {
	c.t.Helper()
	m := idRe.FindStringSubmatch(c.url.Path)
	if m == nil {
		c.t.Fatalf("not on a detail page: %s\n%s", c.url, c.last)
	}
	return m[1]
}

func patientForm(first, last string) url.Values {
	return url.Values{
		"first_name": {first}, "last_name": {last}, "date_of_birth": {"1980-05-17"}, "gender": {"F"},
		"phone": {"+919876543210"}, "city": {"Pune"}, "is_active": {"on"}, "blood_group": {"O+"},
	}
}

func doctorForm(n int) url.Values {
	return url.Values{
		"first_name": {"Asha"}, "last_name": {fmt.Sprintf("Rao%d", n)}, "email": {fmt.Sprintf("asha%d@clinic.example", n)},
		"phone": {"+919812345678"}, "specialization": {"CARDIOLOGY"}, "qualification": {"MBBS, MD"},
		"license_number": {fmt.Sprintf("lic-%d", n)}, "experience_years": {"12"}, "consultation_fee": {"750.50"},
		"is_available": {"on"}, "city": {"Mumbai"},
	}
}

func TestSignIn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)

		t.Run("anonymous_redirected_to_login", func(t *testing.T) {
			c := e.client()
			st, body := c.get("/admin/patients?search=x")
			want(t, st, http.StatusOK, body, "<h1 id=\"login-title\">Sign in</h1>", `name="next" value="/admin/patients?search=x"`)
			if c.url.Path != "/admin/login" {
				t.Fatalf("landed on %s", c.url)
			}
		})

		t.Run("wrong_password_401", func(t *testing.T) {
			c := e.client()
			st, body := c.signIn(adminEmail, "wrong-password-1")
			want(t, st, http.StatusUnauthorized, body, "Invalid email or password.")
		})

		t.Run("ok_then_sign_out", func(t *testing.T) {
			c := e.client()
			c.get("/admin/login")
			form := url.Values{"email": {adminEmail}, "password": {adminPass}, "next": {"/admin/"}}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultTransport.RoundTrip(withCookies(c, req))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var sc string
			for _, v := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(v, "hc_admin_session=") {
					sc = v
				}
			}
			for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/admin/"} {
				if !strings.Contains(sc, attr) {
					t.Fatalf("session cookie %q lacks %s", sc, attr)
				}
			}
			if strings.Contains(sc, "Secure") {
				t.Fatalf("cookie over plain http is Secure: %q", sc)
			}

			c = e.signedIn()
			st, body := c.get("/admin/")
			want(t, st, http.StatusOK, body, "Clinic Boss", adminEmail, "Sign out")
			st, body = c.post("/admin/logout", nil)
			want(t, st, http.StatusOK, body, "You have signed out.")
			st, body = c.get("/admin/patients")
			want(t, st, http.StatusOK, body, "<h1 id=\"login-title\">Sign in</h1>")
		})

		t.Run("open_redirect_refused", func(t *testing.T) {
			c := e.client()
			c.get("/admin/login")
			st, _ := c.post("/admin/login", url.Values{"email": {adminEmail}, "password": {adminPass}, "next": {"//evil.example/x"}})
			if st != http.StatusOK || c.url.Host != strings.TrimPrefix(e.srv.URL, "http://") || c.url.Path != "/admin/" {
				t.Fatalf("landed on %s (%d)", c.url, st)
			}
		})

		t.Run("non_superuser_refused_403", func(t *testing.T) {
			e.mustUser("staff@clinic.example", "Plain-Otter-77", "Plain Staff", false)
			c := e.client()
			st, body := c.signIn("staff@clinic.example", "Plain-Otter-77")
			want(t, st, http.StatusForbidden, body, "This account may not use the admin console.")
			st, body = c.get("/admin/")
			want(t, st, http.StatusOK, body, "<h1 id=\"login-title\">Sign in</h1>")
		})

		t.Run("session_rechecked_each_request", func(t *testing.T) {
			other := e.mustUser("second@clinic.example", "Second-Heron-55", "Second Admin", true)
			c := e.client()
			want(t, func() int { st, _ := c.signIn("second@clinic.example", "Second-Heron-55"); return st }(), http.StatusOK, "")
			st, body := c.get("/admin/patients")
			want(t, st, http.StatusOK, body, "<h1>Patients</h1>")
			if _, err := e.auth.SetSuperuser(context.Background(), e.boss(), other.ID, false); err != nil {
				t.Fatal(err)
			}
			st, body = c.get("/admin/patients")
			want(t, st, http.StatusOK, body, "<h1 id=\"login-title\">Sign in</h1>")
		})

		t.Run("password_reset_ends_sessions", func(t *testing.T) {
			other := e.mustUser("third@clinic.example", "Third-Falcon-31", "Third Admin", true)
			c := e.client()
			c.signIn("third@clinic.example", "Third-Falcon-31")
			if _, _, err := e.auth.ResetPassword(context.Background(), e.boss(), other.ID,
				models.SetPasswordInput{Password: "Another-Falcon-32", PasswordConfirm: "Another-Falcon-32"}); err != nil {
				t.Fatal(err)
			}
			st, body := c.get("/admin/")
			want(t, st, http.StatusOK, body, "<h1 id=\"login-title\">Sign in</h1>")
		})

		t.Run("forged_session_cookie_refused", func(t *testing.T) {
			c := e.client()
			u, _ := url.Parse(e.srv.URL + "/admin/")
			c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "hc_admin_session", Value: "forged-" + strings.Repeat("A", 40), Path: "/admin/"}})
			st, body := c.get("/admin/")
			want(t, st, http.StatusOK, body, "<h1 id=\"login-title\">Sign in</h1>")
		})
	})
}

func withCookies(c *client, req *http.Request) *http.Request {
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return req
}

func TestCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()

		t.Run("missing_token_403", func(t *testing.T) {
			st, body := c.post("/admin/patients/new", url.Values{"csrf_token": {""}, "first_name": {"X"}})
			want(t, st, http.StatusForbidden, body, "CSRF token missing or wrong")
		})
		t.Run("wrong_token_403", func(t *testing.T) {
			st, body := c.post("/admin/logout", url.Values{"csrf_token": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
			want(t, st, http.StatusForbidden, body, "Form expired")
			st, body = c.get("/admin/")
			want(t, st, http.StatusOK, body, "<h1>Dashboard</h1>")
		})
		t.Run("other_sessions_token_403", func(t *testing.T) {
			c2 := e.signedIn()
			st, body := c.post("/admin/patients/new", url.Values{"csrf_token": {csrfOf(c2.last)}})
			want(t, st, http.StatusForbidden, body, "Form expired")
		})
		t.Run("nothing_created", func(t *testing.T) {
			n := 1
			p, err := e.store.Patients.List(context.Background(), e.boss(), models.PatientFilter{}, models.PageRequest{First: &n, WithTotal: true})
			if err != nil || p.Total != 0 {
				t.Fatalf("patients: %v %v", p, err)
			}
		})
	})
}

func TestPatients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()

		c.get("/admin/patients/new")
		st, body := c.post("/admin/patients/new", patientForm("Meera", "Iyer"))
		want(t, st, http.StatusOK, body, "Created.", "<h1>Meera Iyer</h1>", `value="&#43;919876543210"`)
		meera := c.createdID()

		t.Run("create_invalid_400_fields", func(t *testing.T) {
			c.get("/admin/patients/new")
			f := patientForm("", "Iyer")
			f.Set("phone", "12345")
			f.Set("date_of_birth", "2999-01-01")
			f.Del("gender")
			st, body := c.post("/admin/patients/new", f)
			want(t, st, http.StatusBadRequest, body, "There are 4 problems")
			for name, msg := range map[string]string{
				"first_name":    "This field may not be blank.",
				"phone":         "Enter a valid phone number in international format",
				"date_of_birth": "must not be in the future",
				"gender":        "This field is required.",
			} {
				if got := fieldError(body, name); !strings.Contains(got, msg) {
					t.Errorf("%s: error %q, want %q", name, got, msg)
				}
			}
			want(t, st, http.StatusBadRequest, body, `value="Iyer"`, `aria-invalid="true"`)
		})

		t.Run("bad_date_text_400", func(t *testing.T) {
			c.get("/admin/patients/new")
			f := patientForm("Ravi", "Kumar")
			f.Set("date_of_birth", "17/05/1980")
			st, body := c.post("/admin/patients/new", f)
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "date_of_birth"); !strings.Contains(got, "Enter a valid date") {
				t.Fatalf("date error %q", got)
			}
		})

		t.Run("edit_ok", func(t *testing.T) {
			c.get("/admin/patients/" + meera)
			f := patientForm("Meera", "Iyer")
			f.Set("city", "Chennai")
			f.Set("allergies", "Penicillin")
			st, body := c.post("/admin/patients/"+meera, f)
			want(t, st, http.StatusOK, body, "Changes saved.", `value="Chennai"`, "Penicillin")
		})

		t.Run("edit_invalid_shows_error_beside_field", func(t *testing.T) {
			c.get("/admin/patients/" + meera)
			f := patientForm("Meera", "Iyer")
			f.Set("email", "not-an-email")
			st, body := c.post("/admin/patients/"+meera, f)
			want(t, st, http.StatusBadRequest, body, "There is a problem", `value="not-an-email"`)
			if got := fieldError(body, "email"); !strings.Contains(got, "Enter a valid email address.") {
				t.Fatalf("email error %q", got)
			}
			p, _ := e.store.Patients.Get(context.Background(), e.boss(), mustInt(t, meera))
			if p.Email != nil {
				t.Fatalf("invalid email was stored: %v", *p.Email)
			}
		})

		// More patients for the list.
		for i := range 12 {
			c.get("/admin/patients/new")
			f := patientForm(fmt.Sprintf("Pat%02d", i), "Shah")
			if i%2 == 0 {
				f.Set("gender", "M")
				f.Set("city", "Delhi")
			}
			if i%3 == 0 {
				f.Del("is_active")
			}
			if st, body := c.post("/admin/patients/new", f); st != http.StatusOK {
				t.Fatalf("create %d: %d\n%s", i, st, body)
			}
		}

		t.Run("list_filters", func(t *testing.T) {
			st, body := c.get("/admin/patients")
			want(t, st, http.StatusOK, body, "13 patients", "Meera Iyer", "Pat11 Shah")
			st, body = c.get("/admin/patients?search=meera")
			want(t, st, http.StatusOK, body, "1 patient matching", "Meera Iyer")
			wantNot(t, body, "Pat01 Shah")
			st, body = c.get("/admin/patients?gender=M")
			want(t, st, http.StatusOK, body, "6 patients", "Pat00 Shah")
			wantNot(t, body, "Pat01 Shah", "Meera Iyer")
			st, body = c.get("/admin/patients?city=delhi")
			want(t, st, http.StatusOK, body, "6 patients")
			st, body = c.get("/admin/patients?is_active=false")
			want(t, st, http.StatusOK, body, "4 patients", "Pat09 Shah")
			wantNot(t, body, "Pat01 Shah")
			st, body = c.get("/admin/patients?blood_group=O%2B&gender=F&city=Chennai")
			want(t, st, http.StatusOK, body, "1 patient", "Meera Iyer")
		})

		t.Run("sort_and_pages", func(t *testing.T) {
			st, body := c.get("/admin/patients?page_size=10")
			want(t, st, http.StatusOK, body, "Pat11 Shah", `aria-sort="descending"`, `rel="next"`)
			wantNot(t, body, "Meera Iyer", "Pat01 Shah")
			next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)[1]
			st, body = c.get(strings.ReplaceAll(next, "&amp;", "&"))
			want(t, st, http.StatusOK, body, "Meera Iyer", "Pat01 Shah", `rel="prev"`)
			wantNot(t, body, "Pat11 Shah", `href="/admin/patients?cursor`+"X")
			if strings.Contains(body, `" rel="next"`) {
				t.Fatal("second page has a next link")
			}
			prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`).FindStringSubmatch(body)[1]
			st, body = c.get(strings.ReplaceAll(prev, "&amp;", "&"))
			want(t, st, http.StatusOK, body, "Pat11 Shah", "Pat02 Shah")
			wantNot(t, body, "Meera Iyer")

			st, body = c.get("/admin/patients?sort=id&page_size=10")
			want(t, st, http.StatusOK, body, `aria-sort="ascending"`, "Meera Iyer", "Pat08 Shah")
			wantNot(t, body, "Pat09 Shah")
			if strings.Index(body, "Meera Iyer") > strings.Index(body, "Pat08 Shah") {
				t.Fatal("ascending sort is not ascending")
			}
			next = regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)[1]
			st, body = c.get(strings.ReplaceAll(next, "&amp;", "&"))
			want(t, st, http.StatusOK, body, "Pat09 Shah", "Pat11 Shah")
			wantNot(t, body, "Meera Iyer")
			if strings.Index(body, "Pat09 Shah") > strings.Index(body, "Pat11 Shah") {
				t.Fatal("second ascending page is not ascending")
			}
		})

		t.Run("delete_with_confirmation", func(t *testing.T) {
			st, body := c.get("/admin/patients/" + meera + "/delete")
			want(t, st, http.StatusOK, body, "Delete patient Meera Iyer?", "cannot be undone")
			st, body = c.post("/admin/patients/"+meera+"/delete", nil)
			want(t, st, http.StatusOK, body, "Deleted.", "12 patients")
			st, body = c.get("/admin/patients/" + meera)
			want(t, st, http.StatusNotFound, body, "Patient not found.")
		})
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDoctors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()

		c.get("/admin/doctors/new")
		st, body := c.post("/admin/doctors/new", doctorForm(1))
		want(t, st, http.StatusOK, body, "Created.", "<h1>Dr. Asha Rao1</h1>", `value="LIC-1"`, `value="750.50"`)
		doc1 := c.createdID()
		for i := 2; i <= 4; i++ {
			c.get("/admin/doctors/new")
			f := doctorForm(i)
			if i == 3 {
				f.Set("specialization", "NEUROLOGY")
				f.Set("experience_years", "3")
				f.Set("consultation_fee", "300")
				f.Set("city", "Pune")
				f.Del("is_available")
			}
			if st, body := c.post("/admin/doctors/new", f); st != http.StatusOK {
				t.Fatalf("create %d: %d\n%s", i, st, body)
			}
		}

		t.Run("duplicate_license_400", func(t *testing.T) {
			c.get("/admin/doctors/new")
			f := doctorForm(9)
			f.Set("license_number", "lic-1")
			st, body := c.post("/admin/doctors/new", f)
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "license_number"); !strings.Contains(got, "A doctor with this license number already exists.") {
				t.Fatalf("license error %q", got)
			}
		})

		t.Run("edit_invalid_400", func(t *testing.T) {
			c.get("/admin/doctors/" + doc1)
			f := doctorForm(1)
			f.Set("experience_years", "99")
			f.Set("consultation_fee", "abc")
			st, body := c.post("/admin/doctors/"+doc1, f)
			want(t, st, http.StatusBadRequest, body, "There are 2 problems")
			if got := fieldError(body, "experience_years"); !strings.Contains(got, "Ensure this value is between 0 and 80.") {
				t.Fatalf("experience error %q", got)
			}
			if got := fieldError(body, "consultation_fee"); !strings.Contains(got, "Enter a number.") {
				t.Fatalf("fee error %q", got)
			}
		})

		t.Run("edit_ok", func(t *testing.T) {
			c.get("/admin/doctors/" + doc1)
			f := doctorForm(1)
			f.Set("bio", "Interventional cardiologist.")
			st, body := c.post("/admin/doctors/"+doc1, f)
			want(t, st, http.StatusOK, body, "Changes saved.", "Interventional cardiologist.")
		})

		t.Run("list_filters", func(t *testing.T) {
			st, body := c.get("/admin/doctors")
			want(t, st, http.StatusOK, body, "4 doctors", "Dr. Asha Rao4")
			for q, n := range map[string]string{
				"specialization=NEUROLOGY": "1 doctor",
				"is_available=true":        "3 doctors",
				"min_experience=10":        "3 doctors",
				"max_fee=500":              "1 doctor",
				"city=pune":                "1 doctor",
				"search=rao2":              "1 doctor",
				"search=cardio":            "3 doctors",
			} {
				st, body := c.get("/admin/doctors?" + q)
				want(t, st, http.StatusOK, body, n)
			}
			st, body = c.get("/admin/doctors?min_experience=lots")
			want(t, st, http.StatusOK, body, "Enter a whole number of years.", "4 doctors")
		})

		t.Run("detail_shows_patients", func(t *testing.T) {
			v := e.boss()
			p, err := e.store.Patients.Create(context.Background(), v, models.PatientInput{
				FirstName: ptr("Kiran"), LastName: ptr("Das"), Phone: ptr("+919800000001"),
				DateOfBirth: &models.Date{Time: time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC)}, Gender: ptr(models.GenderOther),
			})
			if err != nil {
				t.Fatal(err)
			}
			did := mustInt(t, doc1)
			if _, err := e.store.Mappings.Create(context.Background(), v, models.MappingInput{PatientID: &p.ID, DoctorID: &did, Reason: ptr("Chest pain")}); err != nil {
				t.Fatal(err)
			}
			st, body := c.get("/admin/doctors/" + doc1)
			want(t, st, http.StatusOK, body, "Patients assigned (1)", "Kiran Das", "Chest pain")
		})

		t.Run("delete", func(t *testing.T) {
			st, body := c.get("/admin/doctors/" + doc1 + "/delete")
			want(t, st, http.StatusOK, body, "Delete Dr. Asha Rao1?", "1 patient assignment of this doctor will be removed too.")
			st, body = c.post("/admin/doctors/"+doc1+"/delete", nil)
			want(t, st, http.StatusOK, body, "Deleted.", "3 doctors")
		})
	})
}

func ptr[T any](v T) *T { return &v }

func TestMappings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()
		c.get("/admin/patients/new")
		c.post("/admin/patients/new", patientForm("Anita", "Bose"))
		pid := c.createdID()
		c.get("/admin/patients/new")
		c.post("/admin/patients/new", patientForm("Vikram", "Sen"))
		pid2 := c.createdID()
		c.get("/admin/doctors/new")
		c.post("/admin/doctors/new", doctorForm(1))
		did := c.createdID()
		c.get("/admin/doctors/new")
		f := doctorForm(2)
		f.Set("first_name", "Neel")
		c.post("/admin/doctors/new", f)
		did2 := c.createdID()

		t.Run("assign_from_patient_page", func(t *testing.T) {
			st, body := c.get("/admin/patients/" + pid + "?doctor_search=rao1")
			want(t, st, http.StatusOK, body, "Doctors (0)", "Dr. Asha Rao1 — Cardiology, Mumbai")
			wantNot(t, body, "Neel Rao2")
			st, body = c.post("/admin/patients/"+pid+"/assign", url.Values{"doctor": {did}, "reason": {"Hypertension"}, "status": {"ACTIVE"}})
			want(t, st, http.StatusOK, body, "Doctor assigned.", "Doctors (1)", "Hypertension", "Dr. Asha Rao1</a>")
		})

		t.Run("assign_without_doctor_400", func(t *testing.T) {
			c.get("/admin/patients/" + pid)
			st, body := c.post("/admin/patients/"+pid+"/assign", url.Values{"doctor": {""}})
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "doctor"); !strings.Contains(got, "This field is required.") {
				t.Fatalf("doctor error %q", got)
			}
		})

		t.Run("duplicate_assignment_400", func(t *testing.T) {
			c.get("/admin/mappings/new")
			st, body := c.post("/admin/mappings/new", url.Values{"patient": {pid}, "doctor": {did}, "status": {"ACTIVE"}})
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "doctor"); !strings.Contains(got, "This doctor is already assigned to this patient.") {
				t.Fatalf("doctor error %q", got)
			}
		})

		t.Run("unknown_patient_400", func(t *testing.T) {
			c.get("/admin/mappings/new")
			st, body := c.post("/admin/mappings/new", url.Values{"patient": {"99999"}, "doctor": {did}})
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "patient"); !strings.Contains(got, "object does not exist") {
				t.Fatalf("patient error %q", got)
			}
		})

		var mid string
		t.Run("create_and_edit", func(t *testing.T) {
			c.get("/admin/mappings/new")
			st, body := c.post("/admin/mappings/new", url.Values{"patient": {pid2}, "doctor": {did2}, "status": {"INACTIVE"}, "reason": {"Migraine"}})
			want(t, st, http.StatusOK, body, "Created.", "Vikram Sen", "Dr. Neel Rao2")
			mid = c.createdID()
			st, body = c.post("/admin/mappings/"+mid, url.Values{"status": {"COMPLETED"}, "reason": {"Migraine"}, "notes": {"Follow-up done"}})
			want(t, st, http.StatusOK, body, "Changes saved.", "Follow-up done", `<option value="COMPLETED" selected>`)
			st, body = c.post("/admin/mappings/"+mid, url.Values{"status": {"BOGUS"}})
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "status"); !strings.Contains(got, "is not a valid choice") {
				t.Fatalf("status error %q", got)
			}
		})

		t.Run("list_filters", func(t *testing.T) {
			st, body := c.get("/admin/mappings")
			want(t, st, http.StatusOK, body, "2 assignments", "Anita Bose", "Vikram Sen")
			for q, n := range map[string]string{
				"patient_id=" + pid: "1 assignment", "doctor_id=" + did2: "1 assignment",
				"status=COMPLETED": "1 assignment", "status=ACTIVE": "1 assignment",
				"search=neel": "1 assignment", "search=bose": "1 assignment", "search=nobody": "0 assignments",
			} {
				st, body := c.get("/admin/mappings?" + q)
				want(t, st, http.StatusOK, body, n)
			}
			st, body = c.get("/admin/mappings?sort=id")
			want(t, st, http.StatusOK, body, `aria-sort="ascending"`)
			if strings.Index(body, "Anita Bose") > strings.Index(body, "Vikram Sen") {
				t.Fatal("not ascending")
			}
		})

		t.Run("unassign_with_confirmation", func(t *testing.T) {
			st, body := c.get("/admin/patients/" + pid)
			m := regexp.MustCompile(`href="(/admin/mappings/\d+/delete\?next=[^"]+)"`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no unassign link\n%s", body)
			}
			st, body = c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
			want(t, st, http.StatusOK, body, "Remove Dr. Asha Rao1 from Anita Bose?", `name="next" value="/admin/patients/`+pid+`"`)
			st, body = c.post(strings.TrimPrefix(c.url.Path, ""), url.Values{"next": {"/admin/patients/" + pid}})
			want(t, st, http.StatusOK, body, "Assignment removed.", "Doctors (0)", "<h1>Anita Bose</h1>")
		})
	})
}

func TestUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		e.mustUser("zed@clinic.example", "Zebra-Crossing-9", "Zed Young", false)
		e.mustUser("amy@clinic.example", "Amber-Lantern-8", "Amy Old", false)
		c := e.signedIn()

		t.Run("list_search_sort", func(t *testing.T) {
			st, body := c.get("/admin/users")
			want(t, st, http.StatusOK, body, "3 users", "Zed Young", "Amy Old", "Clinic Boss")
			st, body = c.get("/admin/users?sort=email")
			want(t, st, http.StatusOK, body, `aria-sort="ascending"`)
			if !(strings.Index(body, "<td>amy@") < strings.Index(body, "<td>boss@") && strings.Index(body, "<td>boss@") < strings.Index(body, "<td>zed@")) {
				t.Fatal("not sorted by email")
			}
			st, body = c.get("/admin/users?sort=-name")
			want(t, st, http.StatusOK, body, `aria-sort="descending"`)
			if strings.Index(body, "Zed Young") > strings.Index(body, "Amy Old") {
				t.Fatal("not sorted by name descending")
			}
			st, body = c.get("/admin/users?search=ZED")
			want(t, st, http.StatusOK, body, "1 user", "Zed Young")
			st, body = c.get("/admin/users?is_superuser=true")
			want(t, st, http.StatusOK, body, "1 user", "Clinic Boss")
			st, body = c.get("/admin/users?page_size=10&sort=name&page=2")
			want(t, st, http.StatusOK, body, "No users match.", `rel="prev"`)
		})

		var uid string
		t.Run("create", func(t *testing.T) {
			c.get("/admin/users/new")
			st, body := c.post("/admin/users/new", url.Values{"name": {"Nurse Joy"}, "email": {"joy@clinic.example"}, "password": {"12345678"}, "password_confirm": {"1234"}})
			want(t, st, http.StatusBadRequest, body, "This password is entirely numeric.", "Passwords do not match.", `value="joy@clinic.example"`)
			wantNot(t, body, `value="12345678"`)
			st, body = c.post("/admin/users/new", url.Values{"name": {"Nurse Joy"}, "email": {"joy@clinic.example"}, "password": {"Pink-Kettle-61"}, "password_confirm": {"Pink-Kettle-61"}})
			want(t, st, http.StatusOK, body, "Created.", "<h1>Nurse Joy</h1>")
			uid = c.createdID()
			st, body = c.post("/admin/users/new", url.Values{"name": {"Again"}, "email": {"JOY@clinic.example"}, "password": {"Pink-Kettle-61"}, "password_confirm": {"Pink-Kettle-61"}})
			want(t, st, http.StatusBadRequest, body, "A user with this email already exists.")
		})

		t.Run("deactivate_activate", func(t *testing.T) {
			c.get("/admin/users/" + uid)
			st, body := c.post("/admin/users/"+uid+"/active", url.Values{"active": {"false"}})
			want(t, st, http.StatusOK, body, "Account deactivated", `<span class="badge off">Inactive</span>`)
			st, body = c.post("/admin/users/"+uid+"/active", url.Values{"active": {"true"}})
			want(t, st, http.StatusOK, body, "Account activated.", `<span class="badge ok">Active</span>`)
			st, body = c.post("/admin/users/"+uid+"/superuser", url.Values{"superuser": {"true"}})
			want(t, st, http.StatusOK, body, "Account is now a superuser.")
		})

		t.Run("cannot_lock_self_out_400", func(t *testing.T) {
			self := itoaT(e.admin.ID)
			c.get("/admin/users/" + self)
			st, body := c.post("/admin/users/"+self+"/active", url.Values{"active": {"false"}})
			want(t, st, http.StatusBadRequest, body, "You cannot deactivate your own account.")
			st, body = c.post("/admin/users/"+self+"/superuser", url.Values{"superuser": {"false"}})
			want(t, st, http.StatusBadRequest, body, "You cannot remove your own superuser status.")
		})

		t.Run("reset_password", func(t *testing.T) {
			c.get("/admin/users/" + uid)
			st, body := c.post("/admin/users/"+uid+"/password", url.Values{"password": {"password"}, "password_confirm": {"password"}})
			want(t, st, http.StatusBadRequest, body, "This password is too common.")
			st, body = c.post("/admin/users/"+uid+"/password", url.Values{"password": {"Fresh-Meadow-27"}, "password_confirm": {"Fresh-Meadow-27"}})
			want(t, st, http.StatusOK, body, "Password reset")
			if _, err := e.auth.Authenticate(context.Background(), "joy@clinic.example", "Fresh-Meadow-27"); err != nil {
				t.Fatalf("new password: %v", err)
			}
		})

		t.Run("reset_own_password_keeps_session", func(t *testing.T) {
			self := itoaT(e.admin.ID)
			c.get("/admin/users/" + self)
			st, body := c.post("/admin/users/"+self+"/password", url.Values{"password": {"Brand-New-Key-88"}, "password_confirm": {"Brand-New-Key-88"}})
			want(t, st, http.StatusOK, body, "Password reset")
			st, body = c.get("/admin/")
			want(t, st, http.StatusOK, body, "<h1>Dashboard</h1>")
		})
	})
}

func itoaT(n int64) string { return fmt.Sprint(n) }

func TestDashboardAndErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()
		st, body := c.get("/admin/")
		want(t, st, http.StatusOK, body, "Patients", "Doctors", "Active assignments", `<span class="card-count">1</span> <span class="card-label">Users</span>`)
		st, body = c.get("/admin")
		want(t, st, http.StatusOK, body, "<h1>Dashboard</h1>")
		st, body = c.get("/admin/patients/abc")
		want(t, st, http.StatusNotFound, body, "Not found")
		st, body = c.get("/admin/doctors/4242")
		want(t, st, http.StatusNotFound, body, "Doctor not found.")
		st, body = c.get("/admin/nowhere")
		want(t, st, http.StatusNotFound, body, "Page not found")
		req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/admin/patients", nil)
		st, body = c.do(req)
		want(t, st, http.StatusMethodNotAllowed, body, "Method not allowed", `<link rel="stylesheet" href="/admin/static/admin.css">`)
		resp, err := c.http.Get(e.srv.URL + "/admin/static/admin.css")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
			t.Fatalf("css Cache-Control %q", cc)
		}
		resp, err = c.http.Get(e.srv.URL + "/admin/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
			if resp.Header.Get(h) == "" {
				t.Fatalf("missing %s", h)
			}
		}
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, d) {
				t.Fatalf("CSP %q lacks %s", csp, d)
			}
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
		// No page refers to anything off this server.
		for _, p := range []string{"/admin/", "/admin/patients", "/admin/patients/new", "/admin/doctors/new", "/admin/users"} {
			_, body := c.get(p)
			if m := regexp.MustCompile(`(?:src|href)="(?:https?:)?//`).FindString(body); m != "" {
				t.Fatalf("%s loads from elsewhere: %s", p, m)
			}
		}
	})
}
