package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/models"
)

// auditTotal is the number of events in the trail.
func (e *env) auditTotal(t *testing.T) int {
	t.Helper()
	p, err := e.app.Audit.List(context.Background(), e.boss(),
		models.AuditFilter{}, models.PageRequest{WithTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

func TestAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := mustEnv(t, db)
		c := e.signedIn()
		staff := e.mustUser("staff@clinic.example", "Paper-Lantern-77", "Desk Staff", false)

		// A patient created, read, edited; another created and deleted;
		// an assignment; a failed sign-in.
		c.get("/admin/patients/new")
		c.post("/admin/patients/new", patientForm("Meera", "Iyer"))
		meera := c.createdID()
		f := patientForm("Meera", "Iyer")
		f.Set("city", "Chennai")
		c.post("/admin/patients/"+meera, f)
		c.get("/admin/patients/new")
		c.post("/admin/patients/new", patientForm("Gone", "Soon"))
		gone := c.createdID()
		c.get("/admin/patients/" + gone + "/delete")
		c.post("/admin/patients/"+gone+"/delete", nil)
		c.get("/admin/doctors/new")
		c.post("/admin/doctors/new", doctorForm(1))
		did := c.createdID()
		c.get("/admin/mappings/new")
		c.post("/admin/mappings/new", url.Values{"patient": {meera}, "doctor": {did}, "status": {"ACTIVE"}})
		mid := c.createdID()
		e.client().signIn("staff@clinic.example", "wrong password")

		t.Run("nav_and_list", func(t *testing.T) {
			st, body := c.get("/admin/audit")
			want(t, st, http.StatusOK, body, "<h1>Audit trail</h1>", `href="/admin/audit" aria-current="page">Audit</a>`,
				`<a href="/admin/patients/`+meera+`">Patient #`+meera+`</a>`,
				`<a href="/admin/mappings/`+mid+`">Assignment #`+mid+`</a>`,
				"Patient #"+gone+" (deleted)",
				`<a href="/admin/users/`+itoaT(e.admin.ID)+`">boss@clinic.example</a>`,
				`badge ok">Create`, `badge ok">Update`, `badge warn">Delete`, `badge ok">Login`, `badge warn">Login failed`,
				"first_name, last_name", // the fields a create sets
				"city",                  // and the one the edit changed
				`badge off">Unsealed`, `<h2 id="chain-title">Chain</h2>`, "Verify chain")
			wantNot(t, body, `href="/admin/patients/`+gone+`"`)
			if !strings.Contains(body, `<a href="/admin/users/`+itoaT(staff.ID)+`">User #`+itoaT(staff.ID)+`</a>`) {
				t.Fatalf("failed sign-in of the staff account not linked to it\n%s", body)
			}
		})

		t.Run("listing_records_no_reads", func(t *testing.T) {
			before := e.auditTotal(t)
			st, body := c.get("/admin/audit?page_size=100")
			want(t, st, http.StatusOK, body)
			if after := e.auditTotal(t); after != before {
				t.Fatalf("the audit page added %d events", after-before)
			}
		})

		t.Run("filters", func(t *testing.T) {
			for _, tc := range []struct {
				query      string
				wants, not []string
			}{
				{"action=create", []string{`badge ok">Create`, "Patient #" + meera, "Assignment #" + mid}, []string{`badge ok">Update`, `">Read</td>`}},
				{"action=delete&record_type=patient", []string{"1 event matching", "Patient #" + gone + " (deleted)"}, nil},
				// An event shows every record it names: the reads of the
				// patient's page name its assignment too, but the
				// assignment's own creation does not name the patient.
				{"record_type=patient&record_id=" + meera, []string{"Patient #" + meera, `badge ok">Update`,
					`<ul class="refs"><li><a href="/admin/patients/` + meera + `">Patient #` + meera + `</a></li><li><a href="/admin/mappings/` + mid + `">Assignment #` + mid + `</a></li></ul>`},
					[]string{"Patient #" + gone, `badge ok">Create</span></td><td><ul class="refs"><li><a href="/admin/mappings/`}},
				{"record_type=mapping", []string{"Assignment #" + mid}, []string{`badge ok">Update`, "Patient #" + gone}},
				{"user=STAFF%40clinic.example", []string{"1 event matching", `badge warn">Login failed`}, []string{"boss@clinic.example</a>"}},
				{"user=" + itoaT(staff.ID), []string{"1 event matching"}, nil},
				{"action=login_failed", []string{"1 event matching"}, nil},
				{"since=2000-01-01T00:00&until=2999-01-01T00:00&action=update", []string{"1 event matching", "Patient #" + meera}, nil},
				{"since=2999-01-01T00:00", []string{"0 events matching", "No events match."}, nil},
			} {
				st, body := c.get("/admin/audit?" + tc.query)
				want(t, st, http.StatusOK, body, tc.wants...)
				wantNot(t, body, tc.not...)
			}
			// The form keeps what was chosen.
			_, body := c.get("/admin/audit?action=login_failed&record_type=user")
			want(t, http.StatusOK, http.StatusOK, body, `<option value="login_failed" selected>`, `<option value="user" selected>User</option>`, "Clear filters")
		})

		t.Run("bad_filters_400", func(t *testing.T) {
			for q, fields := range map[string]map[string]string{
				"user=nobody%40clinic.example": {"user": "No account has this email."},
				"user=bob":                     {"user": "Enter a user id or an email."},
				"record_id=abc":                {"record_id": "Enter an id number."},
				"since=yesterday":              {"since": "Enter a date and time."},
				"since=2026-02-01T00:00&until=2026-01-01T00:00":             {"until": "must not be before since"},
				"action=shred&record_type=invoice":                          {"action": "is not a valid action", "record_type": "must be one of"},
				"record_type=patient&record_id=0&user=" + itoaT(e.admin.ID): {"record_id": "Enter an id number."},
			} {
				st, body := c.get("/admin/audit?" + q)
				want(t, st, http.StatusBadRequest, body, "Correct the filters above to see events.")
				for name, msg := range fields {
					if got := fieldError(body, name); !strings.Contains(got, msg) {
						t.Errorf("%s: %s error %q, want %q", q, name, got, msg)
					}
				}
			}
		})

		t.Run("pages", func(t *testing.T) {
			st, body := c.get("/admin/audit?page_size=10")
			want(t, st, http.StatusOK, body, `aria-sort="descending"`, `rel="next"`)
			next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)[1]
			st, body = c.get(strings.ReplaceAll(next, "&amp;", "&"))
			want(t, st, http.StatusOK, body, `rel="prev"`, "« First")
			// Oldest first: the admin's sign-in is the first event.
			st, body = c.get("/admin/audit?sort=id&action=login")
			want(t, st, http.StatusOK, body, `aria-sort="ascending"`, `badge ok">Login`)
		})

		t.Run("verify_shows_head", func(t *testing.T) {
			c.get("/admin/audit?action=update")
			st, body := c.post("/admin/audit/verify?action=update", nil)
			want(t, st, http.StatusOK, body, `badge ok">Intact`, "Head position", "1 event matching", `<option value="update" selected>`,
				`<a href="/admin/audit?action=update&amp;sort=id" class="sort">`)
			wantNot(t, body, `href="/admin/audit/verify?`+"action=update&amp;")
			rep, err := e.app.Audit.Verify(context.Background())
			if err != nil || !rep.OK() {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			// The page's head is the chain's head at that moment; the
			// listed event is sealed now, so its hash shows (shortened).
			m := regexp.MustCompile(`<code class="hash">([0-9a-f]{64})</code>`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no head hash\n%s", body)
			}
			st, body = c.get("/admin/audit?action=update")
			want(t, st, http.StatusOK, body)
			wantNot(t, body, `badge off">Unsealed`)
			if !regexp.MustCompile(`<code title="[0-9a-f]{64}">[0-9a-f]{8}…</code>`).MatchString(body) {
				t.Fatalf("no short hash\n%s", body)
			}
		})

		t.Run("verify_needs_csrf_403", func(t *testing.T) {
			st, body := c.post("/admin/audit/verify", url.Values{"csrf_token": {"forged"}})
			want(t, st, http.StatusForbidden, body, "Form expired")
		})

		t.Run("anonymous_redirected", func(t *testing.T) {
			anon := e.client()
			st, body := anon.get("/admin/audit?action=read")
			want(t, st, http.StatusOK, body, `name="password"`)
			if anon.url.Path != "/admin/login" {
				t.Fatalf("landed on %s", anon.url)
			}
		})

		t.Run("times_in_utc_to_the_second", func(t *testing.T) {
			st, body := c.get("/admin/audit?action=create&record_type=mapping")
			want(t, st, http.StatusOK, body)
			if !regexp.MustCompile(`<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>`).MatchString(body) {
				t.Fatalf("no time\n%s", body)
			}
		})
	})
}
