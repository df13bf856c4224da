package main

import (
	"net/http"
	"strings"
)

// HTML pages (the admin console, the playground, the REST reference) may
// load their own scripts, styles and images and talk to this origin only.
// Inline styles are allowed for GraphiQL; inline scripts are not.
const htmlCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// apiCSP is for everything else: JSON never needs to load anything.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every answer carries: no MIME sniffing,
// no referrer, no framing, no caching of health data, a CSP (strict for
// the APIs, self-only for HTML pages), and HSTS when the request came over
// TLS (directly, or through a proxy that says so when trustProxy is set).
func securityHeaders(trustProxy bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if htmlPath(r) {
				h.Set("Content-Security-Policy", htmlCSP)
			} else {
				h.Set("Content-Security-Policy", apiCSP)
			}
			if !strings.HasPrefix(r.URL.Path, "/graphql/assets/") && !strings.HasPrefix(r.URL.Path, "/admin/static/") {
				h.Set("Cache-Control", "no-store")
			}
			if r.TLS != nil || (trustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

func htmlPath(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/admin") || p == "/graphql" || strings.HasPrefix(p, "/graphql/assets/") ||
		strings.HasPrefix(p, "/api/docs")
}
