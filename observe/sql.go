package observe

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// QueryHook returns the Bun hook that times every statement on the pool
// named pool (primary, replica) and, with tracing on, runs each statement
// of a traced request in a client span. system is db.system.name
// (postgresql, sqlite).
//
// A span names the operation and the table, never the statement: Bun
// writes the arguments into the SQL text, so the text holds the very
// records (names, phone numbers) that must not leave the database.
func QueryHook(m *Metrics, t *Tracing, pool, system string) bun.QueryHook {
	return &queryHook{m: m, tracer: t.Tracer(), on: t.Enabled(), pool: pool, system: system}
}

type queryHook struct {
	m      *Metrics
	tracer trace.Tracer
	on     bool
	pool   string
	system string
}

// spanKey keeps a statement's span between BeforeQuery and AfterQuery.
type spanKey struct{}

func (h *queryHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	// Only statements of a traced request get a span: the sealer's and the
	// purges' would each start a trace of their own every second.
	if !h.on || !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	op := operation(e)
	attrs := []attribute.KeyValue{attribute.String("db.system.name", h.system), attribute.String("db.operation.name", op),
		attribute.String("db.pool", h.pool)}
	name := op
	if tn := table(e); tn != "" {
		attrs = append(attrs, attribute.String("db.collection.name", tn))
		name += " " + tn
	}
	ctx, span := h.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if e.Stash == nil {
		e.Stash = map[any]any{}
	}
	e.Stash[spanKey{}] = span
	return ctx
}

func (h *queryHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	op := operation(e)
	h.m.dbQueries.WithLabelValues(h.pool, op).Observe(time.Since(e.StartTime).Seconds())
	failed := e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows)
	if failed {
		h.m.dbErrors.WithLabelValues(h.pool, op).Inc()
	}
	if span, ok := e.Stash[spanKey{}].(trace.Span); ok {
		if failed {
			span.SetStatus(codes.Error, "statement failed")
		}
		span.End()
	}
}

// operation is the statement's first word, upper-cased, from a short list.
func operation(e *bun.QueryEvent) string {
	op := strings.ToUpper(e.Operation())
	switch op {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "CREATE", "DROP", "ALTER", "LISTEN", "NOTIFY":
		return op
	}
	return "OTHER"
}

// table is the table a query built with Bun works on ("" for raw SQL).
func table(e *bun.QueryEvent) string {
	if q, ok := e.IQuery.(interface{ GetTableName() string }); ok {
		return strings.Trim(q.GetTableName(), `"`)
	}
	return ""
}
