// Package web is the HTTP policy every adapter (graph, rest, admin,
// playground) shares, written once: the status of each error code, where
// a request comes from (RequestInfo), the security headers and the
// Content-Security-Policy builder, and the handling of request bodies that
// fail to arrive.
package web

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"healthcare/models"

	"github.com/go-chi/chi/v5/middleware"
)

// statuses is the one map from error codes to HTTP statuses.
var statuses = map[models.Code]int{
	models.CodeInvalid:         http.StatusBadRequest,
	models.CodeUnauthenticated: http.StatusUnauthorized,
	models.CodeForbidden:       http.StatusForbidden,
	models.CodeNotFound:        http.StatusNotFound,
	models.CodeConflict:        http.StatusConflict,
	models.CodeRateLimited:     http.StatusTooManyRequests,
	models.CodeUnavailable:     http.StatusServiceUnavailable,
	models.CodeInternal:        http.StatusInternalServerError,
}

// Status returns the HTTP status of an error code.
func Status(c models.Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// DefaultRetryAfter is when to try again after an outage that says nothing
// more precise.
const DefaultRetryAfter = 5 * time.Second

// RetryAfter returns how long a client should wait before retrying after
// err: its own RetryAfter, DefaultRetryAfter for an unavailable service,
// 0 when retrying does not help.
func RetryAfter(err error) time.Duration {
	var me *models.Error
	if !errors.As(err, &me) {
		return 0
	}
	switch {
	case me.RetryAfter > 0:
		return me.RetryAfter
	case me.Code == models.CodeUnavailable:
		return DefaultRetryAfter
	}
	return 0
}

// SetRetryAfter sets the Retry-After header (whole seconds, at least 1)
// when err says to retry.
func SetRetryAfter(w http.ResponseWriter, err error) {
	if d := RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((d+time.Second-1)/time.Second))))
	}
}

// BodyError classifies an error from reading a request body: the body was
// too large (a *http.MaxBytesError, for the caller's 413), did not arrive
// in time (408), or the client went away. It returns the
// status to answer and a message for the client.
func BodyError(err error) (int, string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "Request body is too large."
	case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return http.StatusRequestTimeout, "The request body did not arrive in time."
	}
	return http.StatusBadRequest, "The request body could not be read."
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// CSP is a Content-Security-Policy: each directive's sources. Empty
// directives are left out; DefaultSrc defaults to 'none'.
type CSP struct {
	DefaultSrc, ScriptSrc, StyleSrc, ImgSrc, FontSrc, ConnectSrc, FormAction []string
}

// String renders the policy, always with frame-ancestors 'none', base-uri
// 'none' and object-src 'none'.
func (c CSP) String() string {
	var b strings.Builder
	add := func(name string, srcs []string) {
		if len(srcs) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		for _, s := range srcs {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	def := c.DefaultSrc
	if len(def) == 0 {
		def = []string{"'none'"}
	}
	add("default-src", def)
	add("script-src", c.ScriptSrc)
	add("style-src", c.StyleSrc)
	add("img-src", c.ImgSrc)
	add("font-src", c.FontSrc)
	add("connect-src", c.ConnectSrc)
	add("form-action", c.FormAction)
	add("frame-ancestors", []string{"'none'"})
	add("base-uri", []string{"'none'"})
	add("object-src", []string{"'none'"})
	return b.String()
}

// The policies of the kinds of answers this server gives.
var (
	// APIPolicy is for JSON: it never needs to load anything.
	APIPolicy = CSP{}.String()
)

// Headers returns middleware that sets the headers every answer of an
// adapter carries: no MIME sniffing, no referrer, no framing, no caching
// of health data (except under staticPrefix, if given), the adapter's CSP,
// and HSTS when the client reached us over TLS (models.RequestInfo).
func Headers(csp, staticPrefix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			SetHeaders(w, r, csp)
			if staticPrefix == "" || !strings.HasPrefix(r.URL.Path, staticPrefix) {
				w.Header().Set("Cache-Control", "no-store")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// SetHeaders sets the security headers with the given CSP.
func SetHeaders(w http.ResponseWriter, r *http.Request, csp string) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	h.Set("Content-Security-Policy", csp)
	if models.RequestInfoFrom(r.Context()).Secure() {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

// Recover turns a panic in the handler into answer (a 500 in the adapter's
// own format that says nothing of its cause) and logs the cause with the
// request id; where names the adapter in the log. http.ErrAbortHandler
// passes through, as net/http expects of a deliberately cut answer.
func Recover(log *slog.Logger, where string, answer func(http.ResponseWriter, *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				log.ErrorContext(r.Context(), where+": panic", "request_id", middleware.GetReqID(r.Context()), "panic", rec)
				answer(w, r)
			}()
			next.ServeHTTP(w, r)
		})
	}
}
