package observe

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentation names the tracer.
const instrumentation = "healthcare"

// Tracing makes the server's spans and exports them over OTLP/HTTP. A nil
// *Tracing, or one made without an endpoint, makes no spans at all.
type Tracing struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// TracingOptions say where traces go and what they are from.
type TracingOptions struct {
	// Endpoint is the OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT);
	// traces go to its /v1/traces. Empty: tracing is off.
	Endpoint string
	// Service and Version name the service (service.name, service.version).
	Service, Version string
}

// NewTracing returns tracing per o: spans are batched and sent to the
// collector; the sampler follows OTEL_TRACES_SAMPLER (every trace by
// default, and a caller's sampling decision in traceparent is kept).
func NewTracing(ctx context.Context, o TracingOptions) (*Tracing, error) {
	if o.Endpoint == "" {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL(o.Endpoint)), otlptracehttp.WithTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost(),
		resource.WithAttributes(attribute.String("service.name", o.Service), attribute.String("service.version", o.Version)))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)), sdktrace.WithResource(res))
	return &Tracing{
		tp:     tp,
		tracer: tp.Tracer(instrumentation),
		prop:   propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// tracesURL is the traces URL of an OTLP/HTTP base URL, as the OTLP
// specification derives it from OTEL_EXPORTER_OTLP_ENDPOINT.
func tracesURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	return u.String()
}

// Enabled reports whether spans are made.
func (t *Tracing) Enabled() bool { return t != nil && t.tp != nil }

// Tracer returns the tracer (a no-op one when tracing is off).
func (t *Tracing) Tracer() trace.Tracer {
	if !t.Enabled() {
		return noop.NewTracerProvider().Tracer(instrumentation)
	}
	return t.tracer
}

// Propagator returns the W3C trace context and baggage propagator.
func (t *Tracing) Propagator() propagation.TextMapPropagator {
	if !t.Enabled() {
		return propagation.NewCompositeTextMapPropagator()
	}
	return t.prop
}

// Shutdown sends the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// ForceFlush sends the spans still buffered (tests).
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.tp.ForceFlush(ctx)
}
