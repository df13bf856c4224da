package observe

import (
	"context"
	"regexp"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	graphpkg "healthcare/graph"
)

// GraphQL returns the gqlgen extension that counts and times every
// operation by name, type and outcome, records its estimated complexity
// and the codes of its errors and, with tracing on, runs it in a span with
// a child span per resolver. Operations refused before they ran (syntax,
// validation, limits) count with outcome "refused".
func GraphQL(m *Metrics, t *Tracing) graphql.HandlerExtension {
	e := gqlMetrics{m: m}
	if !t.Enabled() {
		return e
	}
	return gqlTraced{gqlMetrics: e, tracer: t.Tracer()}
}

// ranKey marks the context of an operation that was dispatched.
type ranKey struct{}

type gqlMetrics struct{ m *Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = gqlMetrics{}

func (gqlMetrics) ExtensionName() string                   { return "Metrics" }
func (gqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

func (e gqlMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, ranKey{}, true))
}

// labels returns the operation's name (bounded, see nameCap) and type.
func (e gqlMetrics) labels(rc *graphql.OperationContext) (name, typ string) {
	if rc == nil {
		return "unknown", "unknown"
	}
	name, typ = rc.OperationName, "unknown"
	if rc.Operation != nil {
		typ = string(rc.Operation.Operation)
		if name == "" {
			name = rc.Operation.Name
		}
	}
	return e.m.gqlNames.label(name), typ
}

func (e gqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	var rc *graphql.OperationContext
	if graphql.HasOperationContext(ctx) {
		rc = graphql.GetOperationContext(ctx)
	}
	name, typ := e.labels(rc)
	outcome := "ok"
	switch {
	case ctx.Value(ranKey{}) == nil:
		outcome = "refused"
	case resp != nil && len(resp.Errors) > 0:
		outcome = "error"
	}
	e.m.gqlOperations.WithLabelValues(name, typ, outcome).Inc()
	if rc != nil {
		if start := rc.Stats.OperationStart; !start.IsZero() {
			e.m.gqlDuration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
		}
		if c, ok := rc.Stats.GetExtension(graphpkg.ComplexityStat).(int); ok {
			e.m.gqlComplexity.WithLabelValues(name, typ).Observe(float64(c))
		}
	}
	if resp != nil {
		for _, err := range resp.Errors {
			code, _ := err.Extensions["code"].(string)
			e.m.gqlErrors.WithLabelValues(codeLabel(code)).Inc()
		}
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("graphql.operation.name", name), attribute.String("graphql.operation.type", typ),
			attribute.String("graphql.outcome", outcome))
		if resp != nil && len(resp.Errors) > 0 {
			span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
		}
	}
	return resp
}

var errorCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,39}$`)

// codeLabel is an extensions.code as a label: none, or other for a code
// that does not look like one of ours.
func codeLabel(code string) string {
	switch {
	case code == "":
		return "none"
	case !errorCode.MatchString(code):
		return "other"
	}
	return code
}

// gqlTraced is gqlMetrics with an operation span and resolver spans.
type gqlTraced struct {
	gqlMetrics
	tracer trace.Tracer
}

var _ graphql.FieldInterceptor = gqlTraced{}

func (e gqlTraced) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	rc := graphql.GetOperationContext(ctx)
	name, typ := e.labels(rc)
	attrs := []attribute.KeyValue{attribute.String("graphql.operation.name", name), attribute.String("graphql.operation.type", typ)}
	if c, ok := rc.Stats.GetExtension(graphpkg.ComplexityStat).(int); ok {
		attrs = append(attrs, attribute.Int("graphql.operation.complexity", c))
	}
	ctx, span := e.tracer.Start(ctx, "graphql "+typ+" "+name, trace.WithAttributes(attrs...))
	h := e.gqlMetrics.InterceptOperation(ctx, next)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, "the response has errors")
		}
		span.End()
		return resp
	}
}

// InterceptField runs each resolver the schema implements (not plain
// struct fields) in a span named Type.field.
func (e gqlTraced) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := e.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.path", fc.Path().String())))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		// The message may hold internal detail: the error presenter logs
		// it with the request id and trace id.
		span.SetStatus(codes.Error, "resolver error")
	}
	return res, err
}
