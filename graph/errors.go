package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcare/models"
	"healthcare/web"
)

// presentError translates an error exactly once: a *models.Error becomes its
// code (and, for invalid input, extensions.fields in camelCase); an error
// gqlgen itself made (parsing, validation, coercion) keeps its message; any
// other error is logged with the request id and replaced by "internal
// error", because the default presenter would send err.Error() (SQL and all).
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var me *models.Error
		if errors.As(err, &me) {
			gqlErr.Message = me.Message
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = string(me.Code)
			if me.RetryAfter > 0 {
				gqlErr.Extensions["retryAfter"] = int(me.RetryAfter.Seconds())
			}
			if me.Code == models.CodeInvalid && len(me.Fields) == 0 && len(gqlErr.Path) > 0 {
				// A scalar that failed to parse (a malformed Date) knows no
				// field name; the path ends with it.
				if name, ok := gqlErr.Path[len(gqlErr.Path)-1].(ast.PathName); ok {
					gqlErr.Extensions["fields"] = map[string][]string{string(name): {me.Message}}
				}
			}
			if len(me.Fields) > 0 {
				fields := make(map[string][]string, len(me.Fields))
				for k, v := range me.Fields {
					fields[camel(k)] = v
				}
				gqlErr.Extensions["fields"] = fields
			}
			if me.Code == models.CodeUnavailable {
				log.WarnContext(ctx, "graphql: database unavailable", "request_id", middleware.GetReqID(ctx), "err", me.Err)
				if f, ok := ctx.Value(unavailableKey{}).(*unavailableFlag); ok {
					f.set.Store(true)
				}
			}
			return gqlErr
		}
		// An argument that gqlgen's own scalars could not coerce (an ID
		// sent as 1.5 or {}) arrives as a *gqlerror.Error whose path runs
		// past its field's into the argument (graphql.ProcessArgField);
		// a resolver's error stops at the field. It is the client's
		// mistake, and its message names Go types, nothing else.
		if own, ok := err.(*gqlerror.Error); ok && own.Err != nil && isArgumentPath(ctx, own.Path) {
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = string(models.CodeInvalid)
			return gqlErr
		}
		var own *gqlerror.Error
		if errors.As(err, &own) && own.Err == nil {
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			if _, ok := gqlErr.Extensions["code"]; !ok {
				gqlErr.Extensions["code"] = string(models.CodeInvalid)
			}
			return gqlErr
		}
		log.ErrorContext(ctx, "graphql: internal error", "request_id", middleware.GetReqID(ctx), "path", gqlErr.Path.String(), "err", err)
		return &gqlerror.Error{
			Message:    "internal error",
			Path:       gqlErr.Path,
			Extensions: map[string]any{"code": string(models.CodeInternal)},
		}
	}
}

// isArgumentPath reports whether path lies inside an argument of the field
// being resolved: it is longer than the field's own path.
func isArgumentPath(ctx context.Context, path ast.Path) bool {
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && len(path) > len(fc.Path())
}

type unavailableKey struct{}

// unavailableFlag is raised when any error of a response is
// SERVICE_UNAVAILABLE, so the response goes out as HTTP 503.
type unavailableFlag struct{ set atomic.Bool }

// statusWriter answers 503 (with Retry-After) instead of 200 when the
// database could not be reached while the response was built.
type statusWriter struct {
	http.ResponseWriter
	flag  *unavailableFlag
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code == http.StatusOK && w.flag.set.Load() {
			web.SetRetryAfter(w, models.Unavailable(nil))
			code = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// recoverPanic logs a resolver panic and answers "internal error".
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic", "request_id", middleware.GetReqID(ctx), "panic", p)
		return errors.New("panic in resolver")
	}
}

// camel converts a snake_case field name to camelCase (date_of_birth ->
// dateOfBirth); the one place field names change spelling.
// The mapping input names its ends patientId and doctorId in GraphQL.
func camel(s string) string {
	switch s {
	case "patient":
		return "patientId"
	case "doctor":
		return "doctorId"
	}
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
