package rest_test

import (
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/database/dbtest"
)

// TestChangePassword: POST /api/auth/password/ checks the current password
// and the rules, and revokes every refresh token of the account.
func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := MustEnv(t, db)
		u := e.MustUser("Pass Changer", "changer@example.com")
		body := func(cur, next, confirm string) map[string]any {
			return map[string]any{"current_password": cur, "new_password": next, "new_password_confirm": confirm}
		}
		e.run(t, []tc{
			{"no_token_401", req{method: "POST", path: "/api/auth/password/", body: body("Str0ng-Passw0rd!", "Fresh-Lantern-88", "Fresh-Lantern-88")}, 401, nil},
			{"wrong_current_400", req{method: "POST", path: "/api/auth/password/", token: u.access, body: body("nope-nope-1", "Fresh-Lantern-88", "Fresh-Lantern-88")}, 400, fields("current_password")},
			{"weak_and_mismatch_400", req{method: "POST", path: "/api/auth/password/", token: u.access, body: body("Str0ng-Passw0rd!", "12345678", "12345679")}, 400, fields("new_password", "new_password_confirm")},
			{"empty_body_400", req{method: "POST", path: "/api/auth/password/", token: u.access}, 400, fields("current_password", "new_password")},
		})
		time.Sleep(1100 * time.Millisecond) // the old access token must predate the change by a whole second
		r := e.do(t, req{method: "POST", path: "/api/auth/password/", token: u.access, body: body("Str0ng-Passw0rd!", "Fresh-Lantern-88", "Fresh-Lantern-88")})
		expect(t, r, 200)
		fresh := r.str(t, "data", "tokens", "access")
		e.run(t, []tc{
			{"old_refresh_revoked_401", req{method: "POST", path: "/api/auth/token/refresh/", body: map[string]any{"refresh": u.refresh}}, 401, nil},
			{"old_access_refused_401", req{method: "GET", path: "/api/auth/me/", token: u.access}, 401, nil},
			{"new_access_ok_200", req{method: "GET", path: "/api/auth/me/", token: fresh}, 200, nil},
			{"old_password_401", req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "changer@example.com", "password": "Str0ng-Passw0rd!"}}, 401, nil},
			{"new_password_200", req{method: "POST", path: "/api/auth/login/", body: map[string]any{"email": "changer@example.com", "password": "Fresh-Lantern-88"}}, 200, nil},
		})
	})
}
