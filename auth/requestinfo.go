package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"healthcare/models"
)

// Bounds of what a request's origin may put in the audit trail (the
// columns' sizes).
const (
	maxUserAgent = 512
	maxRequestID = 128
	maxIP        = 64
)

// RequestInfo returns middleware that records where each request comes from
// (models.RequestInfo: client address, user agent, chi's request id) for
// the audit trail and the sign-in throttle. Mount it after
// middleware.RequestID.
//
// The address is the connection's peer. With trustProxy it is instead the
// last address of X-Forwarded-For: the one the proxy in front of us
// appended. Not the first: a client can send its own X-Forwarded-For,
// which a proxy extends rather than replaces, so the first address is
// whatever the client chose. This assumes exactly one trusted proxy.
// Client-controlled text (user agent, a request id taken from the
// X-Request-Id header) is made valid UTF-8 without control characters and
// cut to the column's size, so it can never make the audit insert fail.
func RequestInfo(trustProxy bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			info := models.RequestInfo{
				IP:        clientIP(r, trustProxy),
				UserAgent: cleanText(r.UserAgent(), maxUserAgent),
				RequestID: cleanText(middleware.GetReqID(ctx), maxRequestID),
			}
			next.ServeHTTP(w, r.WithContext(models.WithRequestInfo(ctx, info)))
		})
	}
}

// clientIP returns the client's address as text.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return cleanText(a.Unmap().String(), maxIP)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	return cleanText(host, maxIP)
}

// cleanText makes s valid UTF-8 without control characters, at most max
// bytes long (cut at a character boundary).
func cleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
