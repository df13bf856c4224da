package admin

import (
	"net/http"
	"strings"

	"healthcare/auth"
	"healthcare/models"
	"healthcare/web"
)

const (
	// sessionCookie holds the secret of a console session
	// (auth.Service.ConsoleLogin), scoped to the console's path.
	sessionCookie = "hc_admin_session"
	// csrfField is the form field that carries the session's form token.
	csrfField = "csrf_token"
)

// session returns the live console session of r's cookie, Unauthenticated
// without one.
func (h *handler) session(r *http.Request) (*auth.ConsoleSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, models.Unauthenticated("")
	}
	return h.auth.Console(r.Context(), c.Value)
}

// setSessionCookie gives the browser the secret of a new session. It is
// Secure when the client reached us over TLS, as worked out from trusted
// sources only (models.RequestInfo: a proxy's X-Forwarded-Proto counts only
// with TRUST_PROXY).
func (h *handler) setSessionCookie(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: h.prefix + "/", MaxAge: int(h.auth.ConsoleTTL().Seconds()),
		HttpOnly: true, Secure: models.RequestInfoFrom(r.Context()).Secure(), SameSite: http.SameSiteLaxMode,
	})
}

func (h *handler) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: h.prefix + "/", MaxAge: -1,
		HttpOnly: true, Secure: models.RequestInfoFrom(r.Context()).Secure(), SameSite: http.SameSiteLaxMode,
	})
}

// loginData is the sign-in page.
type loginData struct {
	Email string
	Next  string
	Error string
}

func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	next := h.safeNext(r.URL.Query().Get("next"))
	if _, err := h.session(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", "Sign in", "", loginData{Next: next})
}

// login signs a superuser in. The form carries no token of its own: a
// cross-site sign-in (login CSRF) is refused by the cross-origin check
// every state-changing request passes.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.badForm(w, r, err)
		return
	}
	d := loginData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: h.safeNext(r.PostForm.Get("next"))}
	secret, _, err := h.auth.ConsoleLogin(r.Context(), d.Email, r.PostForm.Get("password"))
	if err != nil {
		code := models.ErrorCode(err)
		switch code {
		case models.CodeUnauthenticated, models.CodeInvalid:
			code = models.CodeUnauthenticated // a form left blank is a refused sign-in too
			d.Error = "Invalid email or password."
		case models.CodeForbidden:
			d.Error = "This account may not use the admin console. Sign in with a superuser account (created with createsuperuser)."
		case models.CodeRateLimited:
			d.Error = "Too many sign-in attempts. " + retryText(err)
			web.SetRetryAfter(w, err)
		default:
			h.fail(w, r, err)
			return
		}
		h.render(w, r, web.Status(code), "login", "Sign in", "", d)
		return
	}
	h.setSessionCookie(w, r, secret)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends this session, or with "everywhere" every session of the
// account (the APIs' too).
func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	ctx, cs := r.Context(), sessionFrom(r.Context())
	done := "signedout"
	var err error
	if r.PostForm.Get("everywhere") != "" {
		done = "signedoutall"
		_, err = h.auth.SignOutEverywhere(ctx, viewerFrom(ctx), cs.User.ID)
	} else {
		err = h.auth.ConsoleLogout(ctx, cs)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.clearSessionCookie(w, r)
	http.Redirect(w, r, h.prefix+"/login?done="+done, http.StatusSeeOther)
}
