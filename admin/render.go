package admin

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"healthcare/models"
	"healthcare/web"
)

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active section
	User   *models.User
	CSRF   string
	Prefix string
	Notice string // a success message after a redirect
	Data   any
}

// notices are the fixed messages a redirect may ask for with ?done=…: a
// code, not text, so a link cannot put words in the console's mouth.
var notices = map[string]string{
	"created":     "Created.",
	"saved":       "Changes saved.",
	"unchanged":   "Nothing changed.",
	"deleted":     "Deleted.",
	"assigned":    "Doctor assigned.",
	"unassigned":  "Assignment removed.",
	"activated":   "Account activated.",
	"deactivated": "Account deactivated; every session of it has ended.",
	"promoted":    "Account is now a superuser.",
	"demoted":     "Account is no longer a superuser.",
	"password":    "Password reset; every session of the account has ended.",
	"ownpassword": "Password reset; every other session of your account has ended.",
	"sessions":    "Signed out everywhere: every session of this account has ended.",
	"signedout":   "You have signed out.",
	"signedoutall": "You have signed out everywhere: every session of your account has ended, " +
		"in this console and in the apps.",
}

var pageNames = []string{"login", "dashboard", "list", "form", "patient", "doctor", "user", "mapping", "confirm", "error", "audit"}

func parseTemplates() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(template.FuncMap{
		"join":   strings.Join,
		"spec":   func(s models.Specialization) string { return specLabel(s) },
		"status": func(s models.MappingStatus) string { return statusLabel(s) },
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
	}).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	out := make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		out[n] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n+".html"))
	}
	return out
}

// render writes page name with data. It renders into a buffer first so a
// template error becomes a clean 500, not half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	v := view{Title: title, Nav: nav, Prefix: h.prefix, Data: data, Notice: notices[r.URL.Query().Get("done")]}
	if cs := sessionFrom(r.Context()); cs != nil {
		v.User, v.CSRF = cs.User, cs.CSRF
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.ErrorContext(r.Context(), "admin: render", "page", name, "err", err)
		if name == "error" {
			// The error page itself failed: answer in plain text.
			http.Error(w, "Internal server error.", http.StatusInternalServerError)
			return
		}
		h.internalError(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

type errorData struct{ Heading, Message string }

func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	h.render(w, r, status, "error", heading, "", errorData{heading, msg})
}

// fail answers an error that the page cannot show beside a field, with
// the status of its code (web.Status). Anything but an *models.Error is
// logged and shown as a 500 that says nothing of its cause.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := models.ErrorCode(err)
	var me *models.Error
	errors.As(err, &me)
	status := web.Status(code)
	switch code {
	case models.CodeNotFound:
		h.errorPage(w, r, status, "Not found", me.Message)
	case models.CodeForbidden:
		h.errorPage(w, r, status, "Not allowed", me.Message)
	case models.CodeConflict:
		h.errorPage(w, r, status, "Cannot do that", me.Message)
	case models.CodeInvalid:
		msg := describeFields(me.Fields)
		if msg == "" {
			msg = me.Message
		}
		h.errorPage(w, r, status, "Invalid request", msg)
	case models.CodeUnauthenticated:
		h.errorPage(w, r, status, "Signed out", "Your session has ended. Sign in again.")
	case models.CodeUnavailable:
		web.SetRetryAfter(w, err)
		h.errorPage(w, r, status, "Try again shortly", me.Message)
	case models.CodeRateLimited:
		web.SetRetryAfter(w, err)
		h.errorPage(w, r, status, "Too many requests", retryText(err))
	default:
		h.log.ErrorContext(r.Context(), "admin: request failed", "path", r.URL.Path,
			"request_id", middleware.GetReqID(r.Context()), "err", err)
		h.internalError(w, r)
	}
}

// internalError is the 500 page: it says nothing of the cause.
func (h *handler) internalError(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete this request. It has been logged.")
}

func describeFields(f map[string][]string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(f[k], " "))
	}
	return strings.Join(parts, "; ")
}

// fieldErrors returns the per-field messages of a validation error, or nil.
func fieldErrors(err error) map[string][]string {
	var me *models.Error
	if errors.As(err, &me) && me.Code == models.CodeInvalid && len(me.Fields) > 0 {
		return me.Fields
	}
	return nil
}

// pathID reads the {id} of the route, or answers 404.
func (h *handler) pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, http.StatusNotFound, "Not found", "There is no record with this id.")
		return 0, false
	}
	return id, true
}

func (h *handler) redirect(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path, frag, _ := strings.Cut(path, "#")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + done
		if frag != "" {
			path += "#" + frag
		}
		http.Redirect(w, r, path, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// link returns the current URL with the given query parameters set
// (an empty value removes one).
func link(u *url.URL, set ...string) string {
	q := u.Query()
	q.Del("done")
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			q.Del(set[i])
		} else {
			q.Set(set[i], set[i+1])
		}
	}
	if len(q) == 0 {
		return u.Path
	}
	return u.Path + "?" + q.Encode()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// retryText says when to try again after err.
func retryText(err error) string {
	d := (web.RetryAfter(err) + time.Second - 1).Truncate(time.Second)
	if d <= 0 {
		return "Try again later."
	}
	if d < 2*time.Minute {
		return "Try again in " + strconv.Itoa(int(d/time.Second)) + " seconds."
	}
	return "Try again in " + strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " minutes."
}
