package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
	"healthcare/models"
)

// MustSuperuser creates a superuser and signs it in.
func (e *env) MustSuperuser(name, email string) *user {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.svc.CreateSuperuser(ctx, models.RegisterInput{Name: name, Email: email, Password: "Str0ng-Passw0rd!", PasswordConfirm: "Str0ng-Passw0rd!"})
	if err != nil {
		e.t.Fatalf("create superuser %s: %v", email, err)
	}
	res, err := e.svc.Login(ctx, models.LoginInput{Email: email, Password: "Str0ng-Passw0rd!"})
	if err != nil {
		e.t.Fatalf("login %s: %v", email, err)
	}
	return &user{id: u.ID, email: email, access: res.Access, refresh: res.Refresh}
}

func TestAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := MustEnv(t, db)
		alice := e.MustUser("Alice Admin", "alice@example.com")
		root := e.MustSuperuser("Root User", "root@example.com")
		// Alice creates, reads and changes a patient: three events.
		r := e.do(t, req{method: "POST", path: "/api/patients/", token: alice.access, body: patientBody("p@example.com")})
		expect(t, r, http.StatusCreated)
		pid := r.id(t)
		expect(t, e.do(t, req{method: "GET", path: "/api/patients/" + itoa(pid) + "/", token: alice.access}), http.StatusOK)
		expect(t, e.do(t, req{method: "PATCH", path: "/api/patients/" + itoa(pid) + "/", token: alice.access, body: map[string]any{"city": "Pune"}}), http.StatusOK)

		all := e.do(t, req{method: "GET", path: "/api/audit/", token: root.access})
		expect(t, all, http.StatusOK)
		total := int(all.num(t, "data", "count"))
		past, future := url(time.Now().Add(-time.Hour)), url(time.Now().Add(time.Hour))
		list := "/api/audit/?"
		mine := fmt.Sprintf("record_type=patient&record_id=%d", pid)
		e.run(t, []tc{
			{"superuser_lists_200", req{method: "GET", path: list + mine, token: root.access}, 200, func(t *testing.T, r *response) {
				count(3)(t, r)
				if got := r.str(t, "message"); got != "Audit events retrieved successfully" {
					t.Fatalf("message %q", got)
				}
				var actions []string
				for _, ev := range r.results(t) {
					actions = append(actions, ev["action"].(string))
					if ev["user_id"].(float64) != float64(alice.id) || ev["record_type"] != "patient" || ev["record_id"].(float64) != float64(pid) || ev["hash"] != nil {
						t.Fatalf("event %v", ev)
					}
				}
				if fmt.Sprint(actions) != "[update read create]" {
					t.Fatalf("actions %v, want newest first", actions)
				}
			}},
			{"filter_action_200", req{method: "GET", path: list + mine + "&action=update", token: root.access}, 200, func(t *testing.T, r *response) {
				count(1)(t, r)
				if ev := r.results(t)[0]; fmt.Sprint(ev["fields"]) != "[city]" {
					t.Fatalf("fields %v", ev["fields"])
				}
			}},
			{"filter_action_any_case_200", req{method: "GET", path: list + mine + "&action=CREATE", token: root.access}, 200, count(1)},
			{"filter_user_200", req{method: "GET", path: list + "action=read&user_id=" + itoa(alice.id), token: root.access}, 200, count(1)},
			{"filter_other_user_200", req{method: "GET", path: list + mine + "&user_id=" + itoa(root.id), token: root.access}, 200, count(0)},
			{"filter_since_future_200", req{method: "GET", path: list + "since=" + future, token: root.access}, 200, count(0)},
			{"filter_until_past_200", req{method: "GET", path: list + "until=" + past, token: root.access}, 200, count(0)},
			{"filter_range_200", req{method: "GET", path: list + "since=" + past + "&until=" + future, token: root.access}, 200, count(total)},
			// An unencoded "+" of the offset arrives as a space.
			{"filter_since_offset_200", req{method: "GET", path: list + "since=2000-01-01T05:30:00+05:30", token: root.access}, 200, count(total)},
			{"paged_200", req{method: "GET", path: list + mine + "&page_size=2&page=2", token: root.access}, 200, func(t *testing.T, r *response) {
				count(3)(t, r)
				if n := len(r.results(t)); n != 1 || r.path(t, "data", "next") != nil || r.path(t, "data", "previous") == nil {
					t.Fatalf("page 2: %s", r.raw)
				}
			}},
			{"page_past_end_404", req{method: "GET", path: list + mine + "&page=3", token: root.access}, 404, message("Invalid page.")},
			{"normal_user_403", req{method: "GET", path: list, token: alice.access}, 403, message("Only superusers can read the audit trail.")},
			{"anonymous_401", req{method: "GET", path: list}, 401, nil},
			{"bad_user_id_400", req{method: "GET", path: list + "user_id=abc", token: root.access}, 400, fields("user_id")},
			{"bad_record_id_400", req{method: "GET", path: list + "record_id=0", token: root.access}, 400, fields("record_id")},
			{"bad_record_type_400", req{method: "GET", path: list + "record_type=nurse", token: root.access}, 400, fieldError("record_type", "patient, mapping, user, doctor")},
			{"bad_action_400", req{method: "GET", path: list + "action=peek", token: root.access}, 400, fields("action")},
			{"bad_since_400", req{method: "GET", path: list + "since=yesterday", token: root.access}, 400, fieldError("since", "RFC 3339")},
			{"bad_until_400", req{method: "GET", path: list + "until=2026-01-01", token: root.access}, 400, fields("until")},
			{"until_before_since_400", req{method: "GET", path: list + "since=" + future + "&until=" + past, token: root.access}, 400, fields("until")},
			{"several_bad_400", req{method: "GET", path: list + "user_id=-1&action=x&page_size=1000", token: root.access}, 400, fields("user_id", "action", "page_size")},
		})
		t.Run("sealed_events_carry_hash_200", func(t *testing.T) {
			if _, err := e.app.Audit.Seal(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := e.do(t, req{method: "GET", path: list + mine, token: root.access})
			expect(t, r, http.StatusOK)
			for _, ev := range r.results(t) {
				if h, _ := ev["hash"].(string); len(h) != 64 {
					t.Fatalf("hash %v", ev["hash"])
				}
			}
		})
	})
}

// url formats t for a query string (UTC: no "+" to encode).
func url(t time.Time) string { return t.UTC().Format(time.RFC3339) }
