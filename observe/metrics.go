// Package observe is the server's telemetry: Prometheus metrics (one
// registry per server), OpenTelemetry tracing exported over OTLP, the
// HTTP, GraphQL and SQL instrumentation that feeds both, and a log handler
// that puts the request id and trace id on every line of a request.
//
// The packages it watches (audit, auth, database) expose plain numbers and
// hooks; only this package knows Prometheus and OpenTelemetry.
package observe

import (
	"context"
	"database/sql"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"healthcare/database"
)

// namespace prefixes every metric of the application.
const namespace = "healthcare"

// latencyBuckets are the request and operation latency buckets, in seconds.
var latencyBuckets = []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics is one server's registry and the collectors its middleware and
// hooks update. Each server has its own (tests run several in a process).
type Metrics struct {
	// Registry holds every collector; Handler serves it.
	Registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge

	gqlOperations *prometheus.CounterVec
	gqlDuration   *prometheus.HistogramVec
	gqlComplexity *prometheus.HistogramVec
	gqlErrors     *prometheus.CounterVec
	gqlNames      *nameCap

	dbQueries  *prometheus.HistogramVec
	dbErrors   *prometheus.CounterVec
	dbReplica  *prometheus.CounterVec
	dbFallback prometheus.Counter

	auditCommits      *prometheus.HistogramVec
	auditCommitRows   prometheus.Histogram
	auditSealDuration *prometheus.HistogramVec
	auditSealed       prometheus.Counter

	throttle *prometheus.CounterVec

	changes        *prometheus.CounterVec
	notifierResets prometheus.Counter
}

// Build names the running binary in healthcare_build_info.
type Build struct{ Version, Commit string }

// NewMetrics returns a registry with the Go runtime and process
// collectors and every application metric registered.
func NewMetrics(b Build) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := factory{reg}
	m := &Metrics{Registry: reg, gqlNames: newNameCap(maxOperationNames)}
	f.gauge(prometheus.GaugeOpts{Name: "build_info", Help: "The running binary: always 1, labelled with its version, commit and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": runtime.Version()}}).Set(1)

	m.httpRequests = f.counterVec(prometheus.CounterOpts{Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code."}, "route", "method", "status")
	m.httpDuration = f.histogramVec(prometheus.HistogramOpts{Subsystem: "http", Name: "request_duration_seconds",
		Help: "Time from a request's arrival to its answer, by route pattern and method.", Buckets: latencyBuckets}, "route", "method")
	m.httpInFlight = f.gauge(prometheus.GaugeOpts{Subsystem: "http", Name: "requests_in_flight",
		Help: "HTTP requests being served now."})

	m.gqlOperations = f.counterVec(prometheus.CounterOpts{Subsystem: "graphql", Name: "operations_total",
		Help: "GraphQL operations, by operation name, type and outcome (ok, error: ran with errors, refused: did not run)."}, "operation", "type", "outcome")
	m.gqlDuration = f.histogramVec(prometheus.HistogramOpts{Subsystem: "graphql", Name: "operation_duration_seconds",
		Help: "Time to run a GraphQL operation, parsing and validation included, by operation name and type.", Buckets: latencyBuckets}, "operation", "type")
	m.gqlComplexity = f.histogramVec(prometheus.HistogramOpts{Subsystem: "graphql", Name: "operation_complexity",
		Help:    "Estimated cost of GraphQL operations (GRAPHQL_MAX_COMPLEXITY bounds it), by operation name and type.",
		Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000}}, "operation", "type")
	m.gqlErrors = f.counterVec(prometheus.CounterOpts{Subsystem: "graphql", Name: "errors_total",
		Help: "Errors in GraphQL responses, by extensions.code."}, "code")

	m.dbQueries = f.histogramVec(prometheus.HistogramOpts{Subsystem: "db", Name: "query_duration_seconds",
		Help:    "SQL statements, by connection pool (primary, replica) and operation (SELECT, INSERT, ...).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}}, "pool", "operation")
	m.dbErrors = f.counterVec(prometheus.CounterOpts{Subsystem: "db", Name: "query_errors_total",
		Help: "SQL statements that failed (no-rows answers excluded), by pool and operation."}, "pool", "operation")
	m.dbReplica = f.counterVec(prometheus.CounterOpts{Subsystem: "db", Name: "reads_total",
		Help: "Reads that could go to the replica, by where they went (replica, primary) and why."}, "target", "reason")
	m.dbFallback = f.counter(prometheus.CounterOpts{Subsystem: "db", Name: "replica_fallbacks_total",
		Help: "Reads that failed on the replica and were answered from the primary."})

	m.auditCommits = f.histogramVec(prometheus.HistogramOpts{Subsystem: "audit", Name: "commit_duration_seconds",
		Help: "Group INSERTs of read events, by outcome: time to commit.", Buckets: latencyBuckets}, "outcome")
	m.auditCommitRows = f.histogram(prometheus.HistogramOpts{Subsystem: "audit", Name: "commit_rows",
		Help: "Events per group INSERT.", Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500}})
	m.auditSealDuration = f.histogramVec(prometheus.HistogramOpts{Subsystem: "audit", Name: "seal_duration_seconds",
		Help: "Runs of this node's audit sealer, by outcome.", Buckets: latencyBuckets}, "outcome")
	m.auditSealed = f.counter(prometheus.CounterOpts{Subsystem: "audit", Name: "sealed_events_total",
		Help: "Audit events this node's sealer chained."})

	m.throttle = f.counterVec(prometheus.CounterOpts{Subsystem: "auth", Name: "throttled_total",
		Help: "Attempts a throttling limit refused (account_network, network, register) or slowed down (account)."}, "limit")

	m.changes = f.counterVec(prometheus.CounterOpts{Subsystem: "changes", Name: "received_total",
		Help: "Change notifications this node handled (its own writes and the other nodes'), by kind."}, "kind")
	m.notifierResets = f.counter(prometheus.CounterOpts{Subsystem: "changes", Name: "resets_total",
		Help: "Times this node (re)connected to the change notifications and dropped its caches."})
	return m
}

// WatchDB exports the connection pool statistics of db as go_sql_*
// metrics labelled db_name=name.
func (m *Metrics) WatchDB(name string, db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// AuditSource is what the audit trail tells about itself.
type AuditSource interface {
	QueueDepth() int
	SealerLag(ctx context.Context) (time.Duration, error)
}

// WatchAudit exports the trail's queue depth and sealer lag (read from the
// database at each scrape).
func (m *Metrics) WatchAudit(t AuditSource) {
	f := factory{m.Registry}
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "audit", Name: "queue_depth",
		Help: "Requests waiting for a group INSERT of their read events."}, func() float64 { return float64(t.QueueDepth()) })
	m.Registry.MustRegister(&lagCollector{src: t, desc: prometheus.NewDesc(namespace+"_audit_sealer_lag_seconds",
		"Age of the oldest audit event not yet on the hash chain (0: all sealed); all nodes' sealers together.", nil, nil)})
}

// Committed implements audit.Observer.
func (m *Metrics) Committed(rows int, took time.Duration, err error) {
	m.auditCommits.WithLabelValues(outcome(err)).Observe(took.Seconds())
	m.auditCommitRows.Observe(float64(rows))
}

// Sealed implements audit.Observer.
func (m *Metrics) Sealed(events int, took time.Duration, err error) {
	m.auditSealDuration.WithLabelValues(outcome(err)).Observe(took.Seconds())
	m.auditSealed.Add(float64(events))
}

// HasherSource is what the password hashing pool tells about itself.
type HasherSource interface {
	Waiting() int
	Busy() int
	Workers() int
	QueueLimit() int
	Refused() uint64
}

// WatchHasher exports the hashing pool's queue and workers.
func (m *Metrics) WatchHasher(h HasherSource) {
	f := factory{m.Registry}
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "auth", Name: "hash_queue_depth",
		Help: "Requests waiting for a password hashing slot."}, func() float64 { return float64(h.Waiting()) })
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "auth", Name: "hash_queue_limit",
		Help: "Requests that may wait for a slot (HASH_QUEUE)."}, func() float64 { return float64(h.QueueLimit()) })
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "auth", Name: "hash_workers_busy",
		Help: "Password hashes running now."}, func() float64 { return float64(h.Busy()) })
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "auth", Name: "hash_workers",
		Help: "Password hashes that may run at once (HASH_WORKERS)."}, func() float64 { return float64(h.Workers()) })
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Subsystem: "auth", Name: "hash_refused_total",
		Help: "Requests answered 503 because the hashing pool and its queue were full."}, func() float64 { return float64(h.Refused()) }))
}

// ThrottleHit counts an attempt a throttling limit refused or slowed down:
// auth.Throttle's OnLimit.
func (m *Metrics) ThrottleHit(_ context.Context, limit string) {
	m.throttle.WithLabelValues(limit).Inc()
}

// WatchNotifier exports whether this node hears the others' changes, and
// counts the changes it handles and its reconnections.
func (m *Metrics) WatchNotifier(n *database.Notifier) {
	if n == nil {
		return
	}
	f := factory{m.Registry}
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "changes", Name: "connected",
		Help: "1 while this node hears the other nodes' changes (always on SQLite); caches are bypassed while 0."}, func() float64 {
		if n.Connected() {
			return 1
		}
		return 0
	})
	n.Subscribe(func(c database.Change) { m.changes.WithLabelValues(c.Kind).Inc() }, m.notifierResets.Inc)
}

// ReplicaSource is what the read replica tells about itself.
type ReplicaSource interface {
	Up() bool
	LagBytes() int64
}

// WatchReplica exports the replica's state.
func (m *Metrics) WatchReplica(r ReplicaSource) {
	f := factory{m.Registry}
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "db", Name: "replica_up",
		Help: "1 while the read replica answers and reads go to it."}, func() float64 {
		if r.Up() {
			return 1
		}
		return 0
	})
	f.gaugeFunc(prometheus.GaugeOpts{Subsystem: "db", Name: "replica_lag_bytes",
		Help: "WAL the replica has yet to replay (-1: unknown)."}, func() float64 { return float64(r.LagBytes()) })
}

// ReplicaRead counts a read that could have gone to the replica: where it
// went and why. It is database.Options' ReplicaRead hook.
func (m *Metrics) ReplicaRead(replica bool, reason string) {
	target := "primary"
	if replica {
		target = "replica"
	}
	m.dbReplica.WithLabelValues(target, reason).Inc()
}

// ReplicaFallback counts a read the replica failed and the primary answered.
func (m *Metrics) ReplicaFallback() { m.dbFallback.Inc() }

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// lagCollector reads the sealer lag at scrape time, and reports nothing
// when the database does not answer.
type lagCollector struct {
	src  AuditSource
	desc *prometheus.Desc
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lag, err := c.src.SealerLag(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, lag.Seconds())
}

// maxOperationNames bounds the distinct GraphQL operation names a server
// labels metrics with; later names count as "other". Clients choose the
// names, so without a bound they could grow the metrics without limit.
const maxOperationNames = 200

var operationName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

// nameCap admits the first max names it is asked about.
type nameCap struct {
	mu    sync.Mutex
	max   int
	names map[string]bool
}

func newNameCap(max int) *nameCap { return &nameCap{max: max, names: map[string]bool{}} }

func (c *nameCap) label(name string) string {
	switch {
	case name == "":
		return "anonymous"
	case !operationName.MatchString(name):
		return "other"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names[name] {
		return name
	}
	if len(c.names) >= c.max {
		return "other"
	}
	c.names[name] = true
	return name
}

// factory registers collectors in the application's namespace.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(o prometheus.CounterOpts) prometheus.Counter {
	o.Namespace = namespace
	c := prometheus.NewCounter(o)
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(o prometheus.CounterOpts, labels ...string) *prometheus.CounterVec {
	o.Namespace = namespace
	c := prometheus.NewCounterVec(o, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(o prometheus.GaugeOpts) prometheus.Gauge {
	o.Namespace = namespace
	g := prometheus.NewGauge(o)
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeFunc(o prometheus.GaugeOpts, fn func() float64) {
	o.Namespace = namespace
	f.reg.MustRegister(prometheus.NewGaugeFunc(o, fn))
}

func (f factory) histogram(o prometheus.HistogramOpts) prometheus.Histogram {
	o.Namespace = namespace
	h := prometheus.NewHistogram(o)
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(o prometheus.HistogramOpts, labels ...string) *prometheus.HistogramVec {
	o.Namespace = namespace
	h := prometheus.NewHistogramVec(o, labels)
	f.reg.MustRegister(h)
	return h
}
