package observe

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the metrics endpoint: /metrics and, with withPprof, Go's
// profiler under /debug/pprof/. It is meant for its own listener
// (METRICS_ADDR), never the API's.
func (m *Metrics) Handler(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		Registry: m.Registry, EnableOpenMetrics: true, MaxRequestsInFlight: 4,
	}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		body := "healthcare metrics: /metrics\n"
		if withPprof {
			body += "profiler: /debug/pprof/\n"
		}
		_, _ = w.Write([]byte(body))
	})
	return mux
}
