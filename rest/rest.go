// Package rest serves the documented REST API (contract/rest-api-seed.md)
// under /api/: the JSON envelope, DRF-style pagination and error bodies, over
// the same store methods the GraphQL resolvers call. Handlers parse, call one
// store (or auth) method and shape the answer; validation and ownership rules
// live in models and database, never here.
package rest

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
	"healthcare/web"
)

// Handler serves the REST API.
type Handler struct {
	store  *database.Store
	auth   *auth.Service
	trail  *audit.Trail
	log    *slog.Logger
	router chi.Router
}

// Options are what the REST API needs.
type Options struct {
	Store *database.Store
	Auth  *auth.Service
	// Audit gives each request a batch for its read events, written before
	// the answer; nil when nothing is audited.
	Audit *audit.Trail
	Log   *slog.Logger
}

// NewHandler returns the REST API handler, to be mounted at /api. It puts
// the viewer of a Bearer token in each request's context itself (the auth
// service's middleware), sets its own security headers, recovers its own
// panics and answers its own 404s and 405s, all in the envelope. Every path
// answers with and without its trailing slash, without redirects.
func NewHandler(o Options) http.Handler {
	if o.Store == nil || o.Auth == nil || o.Audit == nil {
		panic("rest: Options.Store, Auth and Audit are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	h := &Handler{store: o.Store, auth: o.Auth, trail: o.Audit, log: o.Log}
	r := chi.NewRouter()
	r.Use(web.Headers(web.APIPolicy, ""))
	r.Use(web.Recover(h.log, "rest", func(w http.ResponseWriter, r *http.Request) {
		h.writeJSON(w, r, http.StatusInternalServerError, envelope{Message: "Internal server error."})
	}))
	r.Use(middleware.StripSlashes)
	r.Use(o.Auth.Middleware)
	r.Use(o.Audit.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
		h.writeError(w, r, models.Unavailable(err))
	}))
	r.NotFound(h.handle(func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
	// Only a method chi does not know reaches this: every route takes all
	// the standard ones and answers 405 itself, with Allow.
	r.MethodNotAllowed(h.handle(func(_ http.ResponseWriter, r *http.Request) error {
		return &methodNotAllowedError{method: r.Method}
	}))

	r.Handle("/auth/register", h.methods(methods{http.MethodPost: h.register}))
	r.Handle("/auth/login", h.methods(methods{http.MethodPost: h.login}))
	r.Handle("/auth/token/refresh", h.methods(methods{http.MethodPost: h.refresh}))
	r.Handle("/auth/logout", h.methods(methods{http.MethodPost: h.logout}))
	r.Handle("/auth/me", h.methods(methods{http.MethodGet: h.me}))
	r.Handle("/auth/password", h.methods(methods{http.MethodPost: h.changePassword}))

	patients, doctors := h.patients(), h.doctors()
	r.Handle("/patients", h.methods(methods{http.MethodGet: h.listPatients, http.MethodPost: patients.createHandler(h)}))
	r.Handle("/patients/{id}", h.methods(methods{
		http.MethodGet: patients.getHandler(h), http.MethodPut: patients.replaceHandler(h),
		http.MethodPatch: patients.updateHandler(h), http.MethodDelete: patients.deleteHandler(h),
	}))

	r.Handle("/doctors", h.methods(methods{http.MethodGet: h.listDoctors, http.MethodPost: doctors.createHandler(h)}))
	r.Handle("/doctors/{id}", h.methods(methods{
		http.MethodGet: doctors.getHandler(h), http.MethodPut: doctors.replaceHandler(h),
		http.MethodPatch: doctors.updateHandler(h), http.MethodDelete: doctors.deleteHandler(h),
	}))

	r.Handle("/mappings", h.methods(methods{http.MethodGet: h.listMappings, http.MethodPost: h.createMapping}))
	r.Handle("/mappings/{patient_id}", h.methods(methods{http.MethodGet: h.doctorsOfPatient}))
	mappings := h.mappings()
	r.Handle("/mappings/detail/{id}", h.methods(methods{
		http.MethodGet: mappings.getHandler(h), http.MethodPatch: mappings.updateHandler(h),
		http.MethodDelete: mappings.deleteHandler(h),
	}))

	r.Handle("/audit", h.methods(methods{http.MethodGet: h.listAudit}))

	r.Handle("/schema", h.methods(methods{http.MethodGet: h.schema}))
	r.Handle("/docs", h.methods(methods{http.MethodGet: h.docs}))
	h.router = r
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// handlerFunc is a handler that leaves its failure to writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts f to http.HandlerFunc: a returned error is written by writeError.
func (h *Handler) handle(f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			h.writeError(w, r, err)
		}
	}
}

// methods maps HTTP methods to the handlers of one path.
type methods map[string]handlerFunc

// methods dispatches by method: HEAD is served as GET, OPTIONS lists the
// methods in Allow, and any other method is a 405 carrying Allow (chi's own
// 405 handler cannot be given the allowed methods of a route).
func (h *Handler) methods(m methods) http.Handler {
	allowed := make([]string, 0, len(m)+2)
	for k := range m {
		allowed = append(allowed, k)
	}
	if _, ok := m[http.MethodGet]; ok {
		allowed = append(allowed, http.MethodHead)
	}
	allowed = append(allowed, http.MethodOptions)
	slices.Sort(allowed)
	allow := strings.Join(allowed, ", ")
	return h.handle(func(w http.ResponseWriter, r *http.Request) error {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if f, ok := m[method]; ok {
			return f(w, r)
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", allow)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return &methodNotAllowedError{method: r.Method, allow: allow}
	})
}
