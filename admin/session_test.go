package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
	"healthcare/web"
)

// sessionCookie returns the console session cookie c holds.
func (c *client) sessionCookie() *http.Cookie {
	c.t.Helper()
	u, _ := url.Parse(c.e.srv.URL + "/admin/")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "hc_admin_session" {
			return ck
		}
	}
	c.t.Fatal("no session cookie")
	return nil
}

// withCookie is another browser of e holding a copy of the session
// cookie ck (a stolen cookie), for the server at base.
func (e *env) withCookie(ck *http.Cookie, base string) *client {
	e.t.Helper()
	cp := e.client()
	u, _ := url.Parse(base + "/admin/")
	cp.http.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/admin/"}})
	return cp
}

// signInPage reports whether body is the sign-in page.
func signInPage(body string) bool { return strings.Contains(body, `<h1 id="login-title">Sign in</h1>`) }

// apiToken signs in to the API as email and returns the access token.
func (e *env) apiToken(email, pw string) string {
	e.t.Helper()
	res, err := e.auth.Login(context.Background(), models.LoginInput{Email: email, Password: pw})
	if err != nil {
		e.t.Fatalf("API sign-in of %s: %v", email, err)
	}
	return res.Access
}

// apiStatus is the status the API answers token with.
func (e *env) apiStatus(token string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// events returns the audit events with action about account id, newest first.
func (e *env) events(action models.AuditAction, id int64) []*models.AuditEvent {
	e.t.Helper()
	p, err := e.app.Audit.List(context.Background(), e.boss(),
		models.AuditFilter{Action: &action, RecordType: models.AuditUser, RecordID: &id}, models.PageRequest{})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Items
}

func TestConsoleSignOutEndsSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		staff := e.mustUser("staff@clinic.example", "Plain-Otter-77", "Plain Staff", false)
		c := e.signedIn()
		c.get("/admin/users/" + itoaT(staff.ID))
		token, stolen := csrfOf(c.last), c.sessionCookie()

		// The copy works while the session lasts (and is now cached).
		thief := e.withCookie(stolen, e.srv.URL)
		st, body := thief.get("/admin/users")
		want(t, st, http.StatusOK, body, "<h1>Users</h1>", "Plain Staff")

		st, body = c.post("/admin/logout", nil)
		want(t, st, http.StatusOK, body, "You have signed out.")

		t.Run("copied_cookie_cannot_read", func(t *testing.T) {
			st, body := thief.get("/admin/users")
			if st != http.StatusOK || !signInPage(body) || thief.url.Path != "/admin/login" {
				t.Fatalf("copied cookie still reads the users: %d %s\n%s", st, thief.url, body)
			}
		})
		t.Run("copied_cookie_cannot_deactivate_403", func(t *testing.T) {
			thief := e.withCookie(stolen, e.srv.URL)
			st, body := thief.post("/admin/users/"+itoaT(staff.ID)+"/active", url.Values{"active": {"false"}, "csrf_token": {token}})
			want(t, st, http.StatusForbidden, body, "Your session has ended.")
			u, err := e.store.Users.Manage(context.Background(), e.boss(), staff.ID)
			if err != nil || !u.IsActive {
				t.Fatalf("staff deactivated after sign-out: %+v %v", u, err)
			}
		})
		t.Run("audited", func(t *testing.T) {
			if n := len(e.events(models.AuditLogout, e.admin.ID)); n != 1 {
				t.Fatalf("%d logout events", n)
			}
		})
	})
}

// TestConsoleSignOutEndsSessionAcrossNodes signs out on one node while a
// copy of the cookie is in use on another: the other hears of it at once
// (PostgreSQL's LISTEN/NOTIFY), however fresh its session cache.
func TestConsoleSignOutEndsSessionAcrossNodes(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("several nodes need PostgreSQL (TEST_DATABASE_URL)")
	}
	dsn := dbtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	node := func() *env {
		db, err := database.Open(ctx, database.Config{URL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		app := apptest.New(t, db, apptest.Options{SessionCache: time.Hour})
		e := &env{t: t, app: app, store: app.Store, auth: app.Auth}
		e.srv = e.server(web.Origin{})
		return e
	}
	a, b := node(), node()
	for !a.app.Notifier.Connected() || !b.app.Notifier.Connected() {
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, err := a.auth.CreateSuperuser(ctx, models.RegisterInput{Name: "Clinic Boss", Email: adminEmail, Password: adminPass, PasswordConfirm: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	a.admin, b.admin = u, u

	c := a.signedIn()
	onB := b.withCookie(c.sessionCookie(), b.srv.URL)
	if st, body := onB.get("/admin/users"); st != http.StatusOK || signInPage(body) {
		t.Fatalf("the cookie does not work on the other node: %d\n%s", st, body)
	}
	if st, body := c.post("/admin/logout", nil); st != http.StatusOK || !strings.Contains(body, "You have signed out.") {
		t.Fatalf("sign out: %d\n%s", st, body)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, body := onB.get("/admin/users")
		if st == http.StatusOK && signInPage(body) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other node still accepts the cookie 2 s after sign-out: %d\n%s", st, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConsoleSignOutEverywhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)

		t.Run("own_sessions_from_the_header", func(t *testing.T) {
			here, there := e.signedIn(), e.signedIn()
			api := e.apiToken(adminEmail, adminPass)
			if st := e.apiStatus(api); st != http.StatusOK {
				t.Fatalf("API token: %d", st)
			}
			st, body := here.post("/admin/logout", url.Values{"everywhere": {"1"}})
			want(t, st, http.StatusOK, body, "You have signed out everywhere")
			if !signInPage(body) {
				t.Fatalf("not on the sign-in page\n%s", body)
			}
			for name, c := range map[string]*client{"this browser": here, "another browser": there} {
				if _, body := c.get("/admin/"); !signInPage(body) {
					t.Fatalf("%s is still signed in\n%s", name, body)
				}
			}
			if st := e.apiStatus(api); st != http.StatusUnauthorized {
				t.Fatalf("API token after signing out everywhere: %d", st)
			}
			if n := len(e.events(models.AuditSignOutAll, e.admin.ID)); n != 1 {
				t.Fatalf("%d signout_all events", n)
			}
		})

		t.Run("another_account_from_its_page", func(t *testing.T) {
			other := e.mustUser("second@clinic.example", "Second-Heron-55", "Second Admin", true)
			theirs := e.client()
			if st, body := theirs.signIn("second@clinic.example", "Second-Heron-55"); st != http.StatusOK || signInPage(body) {
				t.Fatalf("sign in: %d", st)
			}
			api := e.apiToken("second@clinic.example", "Second-Heron-55")
			c := e.signedIn()
			st, body := c.get("/admin/users/" + itoaT(other.ID))
			want(t, st, http.StatusOK, body, `action="/admin/users/`+itoaT(other.ID)+`/signout"`, "Sign out everywhere")
			st, body = c.post("/admin/users/"+itoaT(other.ID)+"/signout", nil)
			want(t, st, http.StatusOK, body, "Signed out everywhere: every session of this account has ended.", "<h1>Second Admin</h1>")
			if _, body := theirs.get("/admin/"); !signInPage(body) {
				t.Fatalf("the account is still signed in to the console\n%s", body)
			}
			if st := e.apiStatus(api); st != http.StatusUnauthorized {
				t.Fatalf("its API token: %d", st)
			}
			if _, body := c.get("/admin/"); signInPage(body) {
				t.Fatal("signing another account out ended this session")
			}
			evs := e.events(models.AuditSignOutAll, other.ID)
			if len(evs) != 1 || evs[0].UserID == nil || *evs[0].UserID != e.admin.ID {
				t.Fatalf("signout_all events: %+v", evs)
			}
		})

		t.Run("own_account_from_its_page", func(t *testing.T) {
			c := e.signedIn()
			c.get("/admin/users/" + itoaT(e.admin.ID))
			st, body := c.post("/admin/users/"+itoaT(e.admin.ID)+"/signout", nil)
			want(t, st, http.StatusOK, body, "You have signed out everywhere")
			if !signInPage(body) {
				t.Fatalf("not signed out\n%s", body)
			}
		})
	})
}

func TestConsoleCrossOriginPostRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()

		// post sends form to path with the session's token and the given
		// headers, as a browser would from another site.
		post := func(path string, form url.Values, hdr map[string]string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return c.do(req)
		}
		c.get("/admin/patients/new")
		token := csrfOf(c.last)
		form := patientForm("Cross", "Site")
		form.Set("csrf_token", token)

		for name, hdr := range map[string]map[string]string{
			"sec_fetch_site_cross_site": {"Sec-Fetch-Site": "cross-site"},
			"sec_fetch_site_same_site":  {"Sec-Fetch-Site": "same-site"},
			"origin_elsewhere":          {"Origin": "http://evil.example"},
		} {
			t.Run(name+"_403", func(t *testing.T) {
				st, body := post("/admin/patients/new", form, hdr)
				want(t, st, http.StatusForbidden, body, "Request refused", "sent from another site")
			})
		}
		t.Run("nothing_created", func(t *testing.T) {
			n := 1
			p, err := e.store.Patients.List(context.Background(), e.boss(), models.PatientFilter{}, models.PageRequest{First: &n, WithTotal: true})
			if err != nil || p.Total != 0 {
				t.Fatalf("patients: %+v %v", p, err)
			}
		})
		t.Run("login_from_elsewhere_403", func(t *testing.T) {
			anon := e.client()
			st, body := func() (int, string) {
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/login",
					strings.NewReader(url.Values{"email": {adminEmail}, "password": {adminPass}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				return anon.do(req)
			}()
			want(t, st, http.StatusForbidden, body, "Request refused")
			u, _ := url.Parse(e.srv.URL + "/admin/")
			if len(anon.http.Jar.Cookies(u)) != 0 {
				t.Fatal("a cross-site sign-in set a cookie")
			}
		})
		t.Run("same_origin_ok", func(t *testing.T) {
			c.get("/admin/patients/new")
			form.Set("csrf_token", csrfOf(c.last))
			st, body := post("/admin/patients/new", form, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL})
			want(t, st, http.StatusOK, body, "Created.", "<h1>Cross Site</h1>")
		})
		t.Run("reading_from_elsewhere_ok", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/patients", nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			st, body := c.do(req)
			want(t, st, http.StatusOK, body, "<h1>Patients</h1>")
		})
	})
}

func TestConsoleCookieSecureOnlyFromTrustedScheme(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		behindProxy := e.server(web.Origin{TrustProxy: true})

		// signIn posts the sign-in form to base with hdr and returns the
		// session cookie it sets.
		signIn := func(t *testing.T, base string, hdr map[string]string) string {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, base+"/admin/login",
				strings.NewReader(url.Values{"email": {adminEmail}, "password": {adminPass}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", resp.StatusCode)
			}
			for _, v := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(v, "hc_admin_session=") {
					return v
				}
			}
			t.Fatalf("no session cookie: %v", resp.Header.Values("Set-Cookie"))
			return ""
		}
		secure := func(cookie string) bool {
			for _, attr := range strings.Split(cookie, ";") {
				if strings.TrimSpace(attr) == "Secure" {
					return true
				}
			}
			return false
		}

		t.Run("forwarded_proto_ignored_without_trust_proxy", func(t *testing.T) {
			if ck := signIn(t, e.srv.URL, map[string]string{"X-Forwarded-Proto": "https"}); secure(ck) {
				t.Fatalf("Secure from an untrusted X-Forwarded-Proto: %q", ck)
			}
		})
		t.Run("forwarded_proto_believed_with_trust_proxy", func(t *testing.T) {
			if ck := signIn(t, behindProxy.URL, map[string]string{"X-Forwarded-Proto": "https"}); !secure(ck) {
				t.Fatalf("not Secure behind a trusted TLS proxy: %q", ck)
			}
		})
		t.Run("plain_http_behind_trusted_proxy", func(t *testing.T) {
			if ck := signIn(t, behindProxy.URL, nil); secure(ck) {
				t.Fatalf("Secure over plain HTTP: %q", ck)
			}
		})
	})
}

func TestConsoleAccountActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		const pw = "Paper-Lantern-77"
		staff := e.mustUser("staff@clinic.example", pw, "Desk Staff", false)
		id := itoaT(staff.ID)
		c := e.signedIn()

		// byBoss checks that exactly one event of action about staff was
		// written, by the superuser.
		byBoss := func(t *testing.T, action models.AuditAction) {
			t.Helper()
			evs := e.events(action, staff.ID)
			if len(evs) != 1 || evs[0].UserID == nil || *evs[0].UserID != e.admin.ID {
				t.Fatalf("%s events: %+v", action, evs)
			}
			if refs := evs[0].RecordRefs(); len(refs) != 1 || refs[0] != (models.AuditRef{Type: models.AuditUser, ID: staff.ID}) {
				t.Fatalf("%s event names %+v", action, refs)
			}
		}

		t.Run("deactivate_revokes_and_is_audited", func(t *testing.T) {
			api := e.apiToken(staff.Email, pw)
			if st := e.apiStatus(api); st != http.StatusOK {
				t.Fatalf("API token: %d", st)
			}
			c.get("/admin/users/" + id)
			st, body := c.post("/admin/users/"+id+"/active", url.Values{"active": {"false"}})
			want(t, st, http.StatusOK, body, "Account deactivated")
			if st := e.apiStatus(api); st != http.StatusUnauthorized {
				t.Fatalf("a deactivated user's API token answers %d", st)
			}
			byBoss(t, models.AuditAccountDeactivated)
			st, body = c.post("/admin/users/"+id+"/active", url.Values{"active": {"true"}})
			want(t, st, http.StatusOK, body, "Account activated.")
			byBoss(t, models.AuditAccountActivated)
			if st := e.apiStatus(api); st != http.StatusUnauthorized {
				t.Fatalf("reactivating brought an old token back: %d", st)
			}
		})

		t.Run("superuser_granted_is_audited", func(t *testing.T) {
			st, body := c.post("/admin/users/"+id+"/superuser", url.Values{"superuser": {"true"}})
			want(t, st, http.StatusOK, body, "Account is now a superuser.", `<span class="badge warn">Superuser</span>`)
			byBoss(t, models.AuditSuperuserGranted)
			st, body = c.post("/admin/users/"+id+"/superuser", url.Values{"superuser": {"false"}})
			want(t, st, http.StatusOK, body, "Account is no longer a superuser.")
			byBoss(t, models.AuditSuperuserRevoked)
		})

		t.Run("password_reset_revokes_and_is_audited", func(t *testing.T) {
			api := e.apiToken(staff.Email, pw)
			st, body := c.post("/admin/users/"+id+"/password", url.Values{"password": {"Fresh-Meadow-27"}, "password_confirm": {"Fresh-Meadow-28"}})
			want(t, st, http.StatusBadRequest, body)
			if got := fieldError(body, "password_confirm"); !strings.Contains(got, "Passwords do not match.") {
				t.Fatalf("confirm error %q", got)
			}
			if st := e.apiStatus(api); st != http.StatusOK {
				t.Fatalf("a refused reset revoked the token: %d", st)
			}
			st, body = c.post("/admin/users/"+id+"/password", url.Values{"password": {"Fresh-Meadow-27"}, "password_confirm": {"Fresh-Meadow-27"}})
			want(t, st, http.StatusOK, body, "Password reset")
			if st := e.apiStatus(api); st != http.StatusUnauthorized {
				t.Fatalf("the API token survived a password reset: %d", st)
			}
			byBoss(t, models.AuditPasswordReset)
		})

		t.Run("sign_out_everywhere_is_audited", func(t *testing.T) {
			api := e.apiToken(staff.Email, "Fresh-Meadow-27")
			st, body := c.post("/admin/users/"+id+"/signout", nil)
			want(t, st, http.StatusOK, body, "Signed out everywhere")
			if st := e.apiStatus(api); st != http.StatusUnauthorized {
				t.Fatalf("the API token survived signing out everywhere: %d", st)
			}
			byBoss(t, models.AuditSignOutAll)
		})

		t.Run("own_account_refused_by_auth_400", func(t *testing.T) {
			self := itoaT(e.admin.ID)
			c.get("/admin/users/" + self)
			st, body := c.post("/admin/users/"+self+"/active", url.Values{"active": {"false"}})
			want(t, st, http.StatusBadRequest, body, "You cannot deactivate your own account.")
			if n := len(e.events(models.AuditAccountDeactivated, e.admin.ID)); n != 0 {
				t.Fatalf("%d events for a refused change", n)
			}
		})

		t.Run("unknown_account_404", func(t *testing.T) {
			st, body := c.post("/admin/users/99999/active", url.Values{"active": {"false"}})
			want(t, st, http.StatusNotFound, body, "User not found.")
		})

		t.Run("create_is_audited", func(t *testing.T) {
			c.get("/admin/users/new")
			st, body := c.post("/admin/users/new", url.Values{"name": {"Nurse Joy"}, "email": {"joy@clinic.example"},
				"password": {"Pink-Kettle-61"}, "password_confirm": {"Pink-Kettle-61"}})
			want(t, st, http.StatusOK, body, "Created.")
			u, err := e.store.Users.ByEmail(context.Background(), "joy@clinic.example")
			if err != nil {
				t.Fatal(err)
			}
			if evs := e.events(models.AuditAccountCreated, u.ID); len(evs) != 1 || *evs[0].UserID != e.admin.ID {
				t.Fatalf("account_created events: %+v", evs)
			}
		})
	})
}

func TestSignInThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnvWith(t, db, apptest.Options{Throttle: &auth.Throttle{
			Counter: database.NewRateLimitStore(db), Pair: auth.Rate{N: 2, Window: time.Minute},
		}})
		c := e.client()
		for range 2 {
			st, body := c.signIn("victim@clinic.example", "wrong-password-1")
			want(t, st, http.StatusUnauthorized, body, "Invalid email or password.")
		}
		st, body := c.signIn("victim@clinic.example", "wrong-password-1")
		want(t, st, http.StatusTooManyRequests, body, "Too many sign-in attempts. Try again in")
	})
}
