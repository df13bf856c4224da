package rest

import (
	"context"
	"net/http"

	"healthcare/auth"
	"healthcare/models"
)

// resource is the create, read, update and delete of one kind of record
// (patients, doctors, and mappings by id, which are created otherwise): the
// same handlers over that kind's store methods, input types and JSON shape.
// Each handler parses, makes one store call (which checks existence, the
// viewer's right, the input and writes) and shapes the answer.
type resource[M, I, P any] struct {
	name    string // "Patient": messages and 404s
	get     func(ctx context.Context, v models.Viewer, id int64) (*M, error)
	create  func(ctx context.Context, v models.Viewer, in I) (*M, error)
	replace func(ctx context.Context, v models.Viewer, id int64, in I) (*M, []string, error)
	update  func(ctx context.Context, v models.Viewer, id int64, in P) (*M, []string, error)
	remove  func(ctx context.Context, v models.Viewer, id int64) error
	out     func(*M) any
}

// createHandler is POST /<kind>/: 201 with the new record, owned by the viewer.
func (res resource[M, I, P]) createHandler(h *Handler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			return err
		}
		in, err := decode[I](r)
		if err != nil {
			return err
		}
		m, err := res.create(r.Context(), v, in)
		if err != nil {
			return err
		}
		return h.writeData(w, r, http.StatusCreated, res.name+" created successfully", res.out(m))
	}
}

// getHandler is GET /<kind>/{id}/.
func (res resource[M, I, P]) getHandler(h *Handler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			return err
		}
		id, err := pathID(r, "id", res.name)
		if err != nil {
			return err
		}
		m, err := res.get(r.Context(), v, id)
		if err != nil {
			return err
		}
		return h.writeData(w, r, http.StatusOK, res.name+" retrieved successfully", res.out(m))
	}
}

// replaceHandler is PUT /<kind>/{id}/: the whole record (required fields
// required).
func (res resource[M, I, P]) replaceHandler(h *Handler) handlerFunc {
	return editHandler(h, res, res.replace)
}

// updateHandler is PATCH /<kind>/{id}/: only the fields sent change.
func (res resource[M, I, P]) updateHandler(h *Handler) handlerFunc {
	return editHandler(h, res, res.update)
}

// editHandler decodes an X (the whole record, or a patch) for the record in
// the path, and answers with what apply made of it.
func editHandler[M, I, P, X any](h *Handler, res resource[M, I, P],
	apply func(context.Context, models.Viewer, int64, X) (*M, []string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			return err
		}
		id, err := pathID(r, "id", res.name)
		if err != nil {
			return err
		}
		in, err := decode[X](r)
		if err != nil {
			return err
		}
		m, _, err := apply(r.Context(), v, id, in)
		if err != nil {
			return err
		}
		return h.writeData(w, r, http.StatusOK, res.name+" updated successfully", res.out(m))
	}
}

// deleteHandler is DELETE /<kind>/{id}/: the record and its mappings go.
func (res resource[M, I, P]) deleteHandler(h *Handler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			return err
		}
		id, err := pathID(r, "id", res.name)
		if err != nil {
			return err
		}
		if err := res.remove(r.Context(), v, id); err != nil {
			return err
		}
		return h.writeData(w, r, http.StatusOK, res.name+" deleted successfully", nil)
	}
}
