package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"healthcare/models"
	"healthcare/web"
)

// envelope is the body of every answer: success with a message and data,
// or failure with a message and, for a 400, the failing fields.
type envelope struct {
	Success bool                `json:"success"`
	Message string              `json:"message"`
	Data    any                 `json:"data,omitempty"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

// okEnvelope is a success; its data is always present, null when there is none.
type okEnvelope struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// nonFieldErrors is the errors key of a 400 that is about the request as a
// whole rather than one field (Django REST framework's name for it).
const nonFieldErrors = "non_field_errors"

// writeData writes a success envelope with status (200 or 201).
func (h *Handler) writeData(w http.ResponseWriter, r *http.Request, status int, msg string, data any) error {
	h.writeJSON(w, r, status, okEnvelope{Success: true, Message: msg, Data: data})
	return nil
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		h.log.ErrorContext(r.Context(), "rest: encode response", "request_id", middleware.GetReqID(r.Context()), "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"success":false,"message":"Internal server error."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// The errors of the transport itself; writeError gives each its status.
var (
	errNoRoute = errors.New("no such endpoint")
	// errInvalidPage is DRF's answer to a page past the end.
	errInvalidPage = &models.Error{Code: models.CodeNotFound, Message: "Invalid page."}
)

// methodNotAllowedError is a request with a method the path does not serve.
type methodNotAllowedError struct {
	method string
	allow  string // the value of the Allow header
}

func (e *methodNotAllowedError) Error() string { return "method " + e.method + " not allowed" }

// unsupportedMediaTypeError is a body sent without a JSON Content-Type.
type unsupportedMediaTypeError struct{ contentType string }

func (e *unsupportedMediaTypeError) Error() string {
	return fmt.Sprintf("unsupported media type %q", e.contentType)
}

// bodyError is a request body that could not be read: too large, too slow,
// or cut off.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// writeError is the one place in this package that picks the status of a
// failure (through web.Status, the one map of codes to statuses). A
// *models.Error is shown as it is (its cause is logged, never sent);
// anything unknown is a logged 500 that says nothing of its cause.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	status, body := http.StatusInternalServerError, envelope{Message: "Internal server error."}

	var (
		me     *models.Error
		be     *bodyError
		method *methodNotAllowedError
		media  *unsupportedMediaTypeError
	)
	switch {
	case errors.As(err, &be):
		status, body.Message = web.BodyError(be.err)
		w.Header().Set("Connection", "close")
		h.log.WarnContext(ctx, "rest: request body not read", "request_id", middleware.GetReqID(ctx), "status", status, "err", err)
	case errors.As(err, &method):
		status, body.Message = http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", method.method)
		if method.allow != "" {
			w.Header().Set("Allow", method.allow)
		}
	case errors.As(err, &media):
		status, body.Message = http.StatusUnsupportedMediaType,
			fmt.Sprintf("Unsupported media type %q in request; send JSON in UTF-8 with Content-Type: application/json.", media.contentType)
	case errors.Is(err, errNoRoute):
		status, body.Message = http.StatusNotFound, "Not found."
	case errors.As(err, &me):
		status, body.Message = web.Status(me.Code), me.Message
		switch me.Code {
		case models.CodeInvalid:
			body.Errors = me.Fields
			if len(body.Errors) == 0 {
				body.Errors = map[string][]string{nonFieldErrors: {me.Message}}
			}
		case models.CodeUnauthenticated:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		case models.CodeUnavailable, models.CodeRateLimited:
			h.log.WarnContext(ctx, "rest: "+strings.ToLower(string(me.Code)), "request_id", middleware.GetReqID(ctx), "err", err)
		case models.CodeInternal:
			body.Message = "Internal server error."
		}
		web.SetRetryAfter(w, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The request ran out of time, or its client left: nothing the
		// client sent was wrong.
		status, body.Message = http.StatusServiceUnavailable, "The request took too long; try again shortly."
		web.SetRetryAfter(w, models.Unavailable(err))
		h.log.WarnContext(ctx, "rest: request cut short", "request_id", middleware.GetReqID(ctx), "err", err)
	}
	if status == http.StatusInternalServerError {
		h.log.LogAttrs(ctx, slog.LevelError, "rest: internal error",
			slog.String("request_id", middleware.GetReqID(ctx)),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("err", err.Error()))
	}
	h.writeJSON(w, r, status, body)
}
