// Package admin serves the admin console under /admin/: server-rendered
// HTML from embedded templates, for the clinic staff who sign in with a
// superuser account (made by `healthcare createsuperuser`).
//
// Every change goes through the same store methods as the GraphQL and REST
// APIs, with the signed-in superuser as the viewer, so the same validation,
// scoping and error rules apply; field errors are shown beside their
// fields.
//
// Sessions are stateless: an HMAC-signed cookie carrying the user id, an
// expiry, a random nonce and a fingerprint of the password hash. On every
// request the account is read again and must still exist, be active and be
// a superuser, with the same password. Every POST carries a CSRF token
// derived from the session's nonce (the sign-in form: a signed
// double-submit cookie).
package admin

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
)

// Options configures the console.
type Options struct {
	Store *database.Store
	Auth  *auth.Service
	Log   *slog.Logger
	Debug bool
	// SessionKey is the secret the session and CSRF keys are derived from
	// (pass the server's SECRET_KEY). With fewer than 32 bytes a random key
	// is used: sessions then end when the process restarts and are not
	// shared between nodes.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts (default 8 hours).
	SessionTTL time.Duration
	// Prefix is the path the console is mounted at (default "/admin").
	Prefix string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type handler struct {
	store  *database.Store
	auth   *auth.Service
	log    *slog.Logger
	debug  bool
	keys   keys
	ttl    time.Duration
	prefix string
	pages  map[string]*template.Template
}

// NewHandler returns the console, to be mounted at /admin.
func NewHandler(o Options) http.Handler {
	h := &handler{store: o.Store, auth: o.Auth, log: o.Log, debug: o.Debug, ttl: o.SessionTTL, prefix: strings.TrimRight(o.Prefix, "/")}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.ttl <= 0 {
		h.ttl = 8 * time.Hour
	}
	if h.prefix == "" {
		h.prefix = "/admin"
	}
	secret := o.SessionKey
	if len(secret) < 32 {
		h.log.Warn("admin: no session key of at least 32 bytes given; using a random one, so console sessions end on restart and are not shared between nodes")
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	h.keys = deriveKeys(secret)
	h.pages = parseTemplates()

	r := chi.NewRouter()
	r.Use(securityHeaders)
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix(h.prefix+"/static", staticHandler(static)))
	r.Get("/login", h.loginForm)
	r.Post("/login", h.login)
	r.Group(func(r chi.Router) {
		r.Use(h.requireSession)
		r.Use(h.checkCSRF)
		r.Get("/", h.dashboard)
		r.Post("/logout", h.logout)

		r.Get("/users", h.listUsers)
		r.Get("/users/new", h.newUser)
		r.Post("/users/new", h.createUser)
		r.Get("/users/{id}", h.showUser)
		r.Post("/users/{id}/active", h.setUserActive)
		r.Post("/users/{id}/superuser", h.setUserSuperuser)
		r.Post("/users/{id}/password", h.resetPassword)

		r.Get("/patients", h.listPatients)
		r.Get("/patients/new", h.newPatient)
		r.Post("/patients/new", h.createPatient)
		r.Get("/patients/{id}", h.showPatient)
		r.Post("/patients/{id}", h.updatePatient)
		r.Post("/patients/{id}/assign", h.assignDoctor)
		r.Get("/patients/{id}/delete", h.confirmDeletePatient)
		r.Post("/patients/{id}/delete", h.deletePatient)

		r.Get("/doctors", h.listDoctors)
		r.Get("/doctors/new", h.newDoctor)
		r.Post("/doctors/new", h.createDoctor)
		r.Get("/doctors/{id}", h.showDoctor)
		r.Post("/doctors/{id}", h.updateDoctor)
		r.Get("/doctors/{id}/delete", h.confirmDeleteDoctor)
		r.Post("/doctors/{id}/delete", h.deleteDoctor)

		r.Get("/mappings", h.listMappings)
		r.Get("/mappings/new", h.newMapping)
		r.Post("/mappings/new", h.createMapping)
		r.Get("/mappings/{id}", h.showMapping)
		r.Post("/mappings/{id}", h.updateMapping)
		r.Get("/mappings/{id}/delete", h.confirmDeleteMapping)
		r.Post("/mappings/{id}/delete", h.deleteMapping)

		r.Get("/audit", h.listAudit)
		r.Post("/audit/verify", h.verifyAudit)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This page does not accept that kind of request.")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The session cookie's path is prefix + "/": send "/admin" there.
		if req.URL.Path == h.prefix {
			http.Redirect(w, req, h.prefix+"/", http.StatusMovedPermanently)
			return
		}
		r.ServeHTTP(w, req)
	})
}

// securityHeaders keeps the console's pages out of frames and caches (they
// show patient data) and forbids anything not served by this server.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.Contains(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func staticHandler(fsys fs.FS) http.Handler {
	fsrv := http.FileServer(http.FS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

// requireSession lets a request through only with a valid session of an
// active superuser, and puts the superuser viewer in its context; anything
// else is sent to the sign-in page.
func (h *handler) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, s, ok := h.currentUser(r)
		if !ok {
			h.setCookie(w, r, sessionCookie, "", -1)
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, h.prefix+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, http.StatusForbidden, "Signed out", "Your session has ended. Sign in again and repeat the change.")
			return
		}
		ctx := context.WithValue(r.Context(), userKey, u)
		ctx = context.WithValue(ctx, sessionKey, s)
		ctx = auth.WithViewer(ctx, models.Viewer{UserID: u.ID, Superuser: true})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// currentUser returns the signed-in superuser of r, if its session is valid
// and the account still exists, is active, is a superuser and has the
// password it signed in with.
func (h *handler) currentUser(r *http.Request) (*models.User, session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, session{}, false
	}
	s, err := h.keys.decode(c.Value, time.Now())
	if err != nil {
		return nil, session{}, false
	}
	u, err := h.store.Users.ByID(r.Context(), s.UserID)
	if err != nil {
		if models.ErrorCode(err) != models.CodeNotFound {
			h.log.ErrorContext(r.Context(), "admin: read session user", "err", err)
		}
		return nil, session{}, false
	}
	if !u.IsActive || !u.IsSuperuser || !tokensEqual(s.PwFP, h.keys.pwFingerprint(u.PasswordHash)) {
		return nil, session{}, false
	}
	return u, s, true
}

// checkCSRF refuses a state-changing request whose form lacks the
// session's CSRF token.
func (h *handler) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		s, _ := r.Context().Value(sessionKey).(session)
		if err := r.ParseForm(); err != nil {
			h.badForm(w, r, err)
			return
		}
		if !tokensEqual(r.PostForm.Get(csrfField), h.keys.csrfToken(s)) {
			h.errorPage(w, r, http.StatusForbidden, "Form expired",
				"This form could not be verified (CSRF token missing or wrong). Go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) badForm(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		h.errorPage(w, r, http.StatusRequestEntityTooLarge, "Too much data", "The form sent more data than the server accepts.")
		return
	}
	h.errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
}

func userFrom(ctx context.Context) *models.User {
	u, _ := ctx.Value(userKey).(*models.User)
	return u
}

func viewerFrom(ctx context.Context) models.Viewer {
	v, _ := auth.ViewerFrom(ctx)
	return v
}

// safeNext returns next if it is a path inside the console, else the
// dashboard: the sign-in redirect must not lead off the site.
func (h *handler) safeNext(next string) string {
	if strings.HasPrefix(next, h.prefix+"/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") &&
		!strings.HasPrefix(next, h.prefix+"/login") && !strings.HasPrefix(next, h.prefix+"/logout") {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return h.prefix + "/"
}
