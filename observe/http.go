package observe

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// routeKey carries a request's *route.
type routeKey struct{}

// route is where a request was routed: the chi route context every router
// of the request shares, and the pattern of the ServeMux that dispatched it.
type route struct {
	rctx *chi.Context
	mux  string
}

// pattern is the route pattern of the request: chi's (the adapters'
// routers, "/api/patients/{id}"), else the ServeMux's when it names one
// path ("/graphql"), else "unmatched". Never the raw path: ids would make
// every request a new label.
func (rt *route) pattern() string {
	if p := rt.rctx.RoutePattern(); p != "" {
		return p
	}
	if rt.mux != "" && !strings.HasSuffix(rt.mux, "/") {
		return rt.mux
	}
	return "unmatched"
}

// Route returns the route pattern of the request ctx belongs to, once its
// routers have routed it; "" outside HTTP's middleware.
func Route(ctx context.Context) string {
	if rt, ok := ctx.Value(routeKey{}).(*route); ok {
		return rt.pattern()
	}
	return ""
}

// MuxPattern wraps the ServeMux that dispatches to the adapters, keeping
// the pattern it matched for HTTP's label (a ServeMux sets it on the
// request it is given, which the middleware in between have copied).
func MuxPattern(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if rt, ok := r.Context().Value(routeKey{}).(*route); ok {
			rt.mux = r.Pattern
		}
	})
}

// HTTP returns the middleware that measures every request (count, latency
// and requests in flight by route pattern, method and status) and, with
// tracing on, serves it in a server span that continues the caller's
// trace (traceparent) and carries the request id. It needs chi's
// RequestID before it and MuxPattern around the final ServeMux.
//
// It gives the request a chi route context of its own, which every chi
// router below shares (a router that finds one in the context joins it,
// as a mounted router does), so that the pattern they routed by is still
// there once they return.
func HTTP(m *Metrics, t *Tracing) func(http.Handler) http.Handler {
	tracer, prop := t.Tracer(), t.Propagator()
	on := t.Enabled()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rt := &route{rctx: chi.NewRouteContext()}
			ctx := context.WithValue(r.Context(), chi.RouteCtxKey, rt.rctx)
			ctx = context.WithValue(ctx, routeKey{}, rt)
			method := methodLabel(r.Method)
			var span trace.Span
			if on {
				ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
				ctx, span = tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
					attribute.String("http.request.method", method),
					attribute.String("url.path", r.URL.Path),
					attribute.String("request_id", middleware.GetReqID(ctx)),
				))
			}
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			m.httpInFlight.Inc()
			defer func() {
				m.httpInFlight.Dec()
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK
				}
				pattern := rt.pattern()
				if rec := recover(); rec != nil {
					status = http.StatusInternalServerError
					defer panic(rec)
				}
				m.httpRequests.WithLabelValues(pattern, method, strconv.Itoa(status)).Inc()
				m.httpDuration.WithLabelValues(pattern, method).Observe(time.Since(start).Seconds())
				if span != nil {
					span.SetName(method + " " + pattern)
					span.SetAttributes(attribute.String("http.route", pattern), attribute.Int("http.response.status_code", status))
					if status >= 500 {
						span.SetStatus(codes.Error, http.StatusText(status))
					}
					span.End()
				}
			}()
			next.ServeHTTP(ww, r.WithContext(ctx))
		})
	}
}

// methodLabel is the method, or OTHER for one HTTP does not define (any
// token is a valid method: labels must stay few).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
