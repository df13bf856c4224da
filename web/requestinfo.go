package web

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
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

// Origin says which sources of a request's origin to believe.
type Origin struct {
	// TrustProxy believes X-Forwarded-For, X-Forwarded-Proto and
	// X-Forwarded-Host from exactly one reverse proxy in front of us.
	TrustProxy bool
	// PublicURL, when set, is the scheme and host clients reach us at
	// (https://api.clinic.example): links use it whatever the request says.
	PublicURL *url.URL
}

// RequestInfo returns middleware that works out, once per request and from
// trusted sources only, where it comes from (models.RequestInfo: client
// address, user agent, chi's request id, scheme and host): the audit trail,
// the sign-in throttle, HSTS, cookies and absolute links all read it from
// there. Mount it after middleware.RequestID.
//
// The address is the connection's peer. With TrustProxy it is instead the
// last address of X-Forwarded-For: the one the proxy in front of us
// appended. Not the first: a client can send its own X-Forwarded-For,
// which a proxy extends rather than replaces, so the first address is
// whatever the client chose. This assumes exactly one trusted proxy.
// The scheme is https only over TLS, or with TrustProxy when the proxy says
// so; the host is PublicURL's, else (with TrustProxy) X-Forwarded-Host's,
// else the Host header's, when it is a well-formed host[:port]
// ("localhost" otherwise). Client-controlled text (user agent, a request
// id taken from the X-Request-Id header) is made valid UTF-8 without
// control characters and cut to the column's size, so it can never make
// the audit insert fail.
func RequestInfo(o Origin) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			info := models.RequestInfo{
				IP:        clientIP(r, o.TrustProxy),
				UserAgent: cleanText(r.UserAgent(), maxUserAgent),
				RequestID: cleanText(middleware.GetReqID(ctx), maxRequestID),
			}
			info.Scheme, info.Host = schemeHost(r, o)
			next.ServeHTTP(w, r.WithContext(models.WithRequestInfo(ctx, info)))
		})
	}
}

func schemeHost(r *http.Request, o Origin) (string, string) {
	if o.PublicURL != nil {
		return o.PublicURL.Scheme, o.PublicURL.Host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	} else if o.TrustProxy && strings.EqualFold(lastValue(r.Header.Values("X-Forwarded-Proto")), "https") {
		scheme = "https"
	}
	host := r.Host
	if o.TrustProxy {
		if fh := lastValue(r.Header.Values("X-Forwarded-Host")); fh != "" {
			host = fh
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme, host
}

// lastValue is the last comma-separated value of a header's lines: the one
// the proxy next to us wrote.
func lastValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	last := vs[len(vs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// validHost reports whether h is host[:port] with a DNS name or an IP.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, ""
	}
	if port != "" {
		for _, c := range port {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// clientIP returns the client's address as text.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if last := lastValue(r.Header.Values("X-Forwarded-For")); last != "" {
			if a, err := netip.ParseAddr(last); err == nil {
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
