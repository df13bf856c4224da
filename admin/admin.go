// Package admin serves the admin console under /admin/: server-rendered
// HTML from embedded templates, for the clinic staff who sign in with a
// superuser account (made by `healthcare createsuperuser`).
//
// It is an adapter like the two APIs: each handler parses a form or a
// query, makes one call to the stores, the auth service or the audit trail
// with the signed-in superuser as the viewer, and renders the answer.
// Validation, scoping, account rules and auditing all happen in those
// calls; field errors come back from them and are shown beside their
// fields. The forms are laid out here, but every field's label, input
// type, limits, choices and hint come from the models' field tables.
//
// Sessions live in the database (auth.Service.ConsoleLogin): the cookie
// holds only a random secret, checked on every request, so signing out,
// signing out everywhere, deactivating, demoting or resetting the password
// of an account ends its sessions at once, on every node. State-changing
// requests must come from this origin (http.CrossOriginProtection) and,
// once signed in, carry the session's form token.
package admin

import (
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
	"healthcare/web"
)

// Options configures the console. Store, Auth and Audit are required.
type Options struct {
	Store *database.Store
	Auth  *auth.Service
	// Audit is the trail the audit page reads; it also gives each request
	// a batch for its read events, written before the answer.
	Audit *audit.Trail
	Log   *slog.Logger
	// Prefix is the path the console is mounted at (default "/admin").
	Prefix string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// consolePolicy is the console's Content-Security-Policy: its own
// scripts, styles and images, forms posted to itself, nothing else.
var consolePolicy = web.CSP{
	ScriptSrc: []string{"'self'"}, StyleSrc: []string{"'self'"}, ImgSrc: []string{"'self'", "data:"},
	FormAction: []string{"'self'"},
}.String()

type handler struct {
	store  *database.Store
	auth   *auth.Service
	trail  *audit.Trail
	log    *slog.Logger
	prefix string
	pages  map[string]*template.Template
}

// NewHandler returns the console, to be mounted at Options.Prefix. It sets
// its own security headers, recovers its own panics and answers its own
// 404s and 405s, all as HTML pages.
func NewHandler(o Options) http.Handler {
	if o.Store == nil || o.Auth == nil || o.Audit == nil {
		panic("admin: Options.Store, Auth and Audit are required")
	}
	h := &handler{store: o.Store, auth: o.Auth, trail: o.Audit, log: o.Log, prefix: strings.TrimRight(o.Prefix, "/")}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.prefix == "" {
		h.prefix = "/admin"
	}
	h.pages = parseTemplates()

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site, so it was not accepted. Open the console directly and try again.")
	}))

	r := chi.NewRouter()
	r.Use(web.Headers(consolePolicy, h.prefix+"/static/"))
	r.Use(web.Recover(h.log, "admin", h.internalError))
	r.Use(cop.Handler)
	r.Use(h.trail.Middleware(h.auditFailed))
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix(h.prefix+"/static", staticHandler(static)))
	r.Get("/login", h.loginForm)
	r.Post("/login", h.login)
	r.Group(func(r chi.Router) {
		r.Use(h.requireSession)
		r.Use(h.checkFormToken)
		r.Get("/", h.dashboard)
		r.Post("/logout", h.logout)

		r.Get("/users", h.listUsers)
		r.Get("/users/new", h.newUser)
		r.Post("/users/new", h.createUser)
		r.Get("/users/{id}", h.showUser)
		r.Post("/users/{id}/active", h.setUserActive)
		r.Post("/users/{id}/superuser", h.setUserSuperuser)
		r.Post("/users/{id}/password", h.resetPassword)
		r.Post("/users/{id}/signout", h.signOutUser)

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

// auditFailed answers a request whose read events could not be recorded:
// it must not show what it read.
func (h *handler) auditFailed(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "admin: audit trail unavailable", "err", err)
	err = models.Unavailable(err)
	web.SetRetryAfter(w, err)
	h.errorPage(w, r, http.StatusServiceUnavailable, "Try again shortly",
		"The audit trail could not record this request, so its answer is withheld. Try again in a few seconds.")
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

type ctxKey struct{}

// requireSession lets a request through only with a live console session
// of an active superuser, and puts the session and the superuser viewer in
// its context; anything else is sent to the sign-in page.
func (h *handler) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, err := h.session(r)
		if err != nil {
			if models.ErrorCode(err) != models.CodeUnauthenticated {
				h.fail(w, r, err)
				return
			}
			h.clearSessionCookie(w, r)
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, h.prefix+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, http.StatusForbidden, "Signed out", "Your session has ended. Sign in again and repeat the change.")
			return
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, cs)
		ctx = auth.WithViewer(ctx, models.Viewer{UserID: cs.User.ID, Superuser: true})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// checkFormToken refuses a state-changing request whose form lacks the
// session's token.
func (h *handler) checkFormToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			h.badForm(w, r, err)
			return
		}
		if !tokensEqual(r.PostForm.Get(csrfField), sessionFrom(r.Context()).CSRF) {
			h.errorPage(w, r, http.StatusForbidden, "Form expired",
				"This form could not be verified (CSRF token missing or wrong). Go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func tokensEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// badForm answers a form that could not be read.
func (h *handler) badForm(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := web.BodyError(err)
	h.errorPage(w, r, status, "Bad request", msg)
}

// sessionFrom returns the console session of a signed-in request.
func sessionFrom(ctx context.Context) *auth.ConsoleSession {
	cs, _ := ctx.Value(ctxKey{}).(*auth.ConsoleSession)
	return cs
}

// viewerFrom returns the signed-in superuser as a viewer.
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
