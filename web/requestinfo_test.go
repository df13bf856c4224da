package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"healthcare/models"
)

func TestRequestInfo(t *testing.T) {
	var got models.RequestInfo
	h := func(trust bool) http.Handler {
		return middleware.RequestID(RequestInfo(Origin{TrustProxy: trust})(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = models.RequestInfoFrom(r.Context())
		})))
	}
	req := func(remote string, hdr map[string][]string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		for k, vs := range hdr {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		return r
	}
	tests := []struct {
		name   string
		trust  bool
		remote string
		hdr    map[string][]string
		wantIP string
	}{
		{"peer_address", false, "198.51.100.4:5555", nil, "198.51.100.4"},
		{"peer_ipv6", false, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"xff_ignored_without_trust", false, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "10.0.0.2"},
		{"xff_last_address_with_trust", true, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}}, "203.0.113.9"},
		{"xff_last_header_with_trust", true, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4", "203.0.113.9"}}, "203.0.113.9"},
		{"xff_garbage_falls_back_to_peer", true, "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"not-an-ip"}}, "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h(tt.trust).ServeHTTP(httptest.NewRecorder(), req(tt.remote, tt.hdr))
			if got.IP != tt.wantIP || got.RequestID == "" {
				t.Fatalf("got %+v, want ip %s", got, tt.wantIP)
			}
		})
	}
	t.Run("client_text_cleaned_and_cut", func(t *testing.T) {
		ua := "bad\x00\x1b[31m" + string([]byte{0xff}) + strings.Repeat("é", 600)
		h(false).ServeHTTP(httptest.NewRecorder(), req("1.1.1.1:1", map[string][]string{"User-Agent": {ua}, "X-Request-Id": {strings.Repeat("r", 500)}}))
		if len(got.UserAgent) > maxUserAgent || !utf8.ValidString(got.UserAgent) || strings.ContainsAny(got.UserAgent, "\x00\x1b") || !strings.HasPrefix(got.UserAgent, "bad[31m\uFFFDé") {
			t.Fatalf("user agent %q", got.UserAgent)
		}
		if len(got.RequestID) != maxRequestID {
			t.Fatalf("request id length %d", len(got.RequestID))
		}
	})
}
