package rest

import (
	"context"
	"net/http"

	"healthcare/auth"
	"healthcare/models"
)

// resource is the create, read, update and delete of one kind of record
// (patients, doctors, and mappings by id, which are created otherwise): the
// same handlers over that kind's store methods, patch type and JSON shape.
type resource[M any, P any] struct {
	name     string // "Patient": messages and 404s
	get      func(ctx context.Context, v models.Viewer, id int64) (*M, error)
	create   func(ctx context.Context, v models.Viewer, in P) (*M, error)
	update   func(ctx context.Context, v models.Viewer, id int64, in P, full bool) (*M, []string, error)
	remove   func(ctx context.Context, v models.Viewer, id int64) error
	validate func(in *P, full bool) error
	out      func(*M) any
}

// readPatch fills a patch from the body; type errors come back merged with
// the patch's own validation, so every failing field is reported at once.
func (res resource[M, P]) readPatch(r *http.Request) (P, models.FieldErrors, error) {
	var in P
	obj, err := readObject(r)
	if err != nil {
		return in, nil, err
	}
	return in, fill(&in, obj), nil
}

// createHandler is POST /<kind>/: 201 with the new record, owned by the viewer.
func (res resource[M, P]) createHandler(h *Handler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			return err
		}
		in, fe, err := res.readPatch(r)
		if err != nil {
			return err
		}
		if len(fe) > 0 {
			return invalid(fe, res.validate(&in, true))
		}
		m, err := res.create(r.Context(), v, in)
		if err != nil {
			return err
		}
		return h.writeData(w, r, http.StatusCreated, res.name+" created successfully", res.out(m))
	}
}

// getHandler is GET /<kind>/{id}/.
func (res resource[M, P]) getHandler(h *Handler) handlerFunc {
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

// updateHandler is PUT (full: required fields required) or PATCH (only the
// fields sent change) /<kind>/{id}/.
func (res resource[M, P]) updateHandler(h *Handler, full bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := auth.RequireViewer(r.Context())
		if err != nil {
			return err
		}
		id, err := pathID(r, "id", res.name)
		if err != nil {
			return err
		}
		in, fe, err := res.readPatch(r)
		if err != nil {
			return err
		}
		if len(fe) > 0 {
			// An empty patch writes nothing but answers whether the viewer
			// may change this record at all (404, or 403 for another user's
			// doctor) before its input is judged.
			var none P
			if _, _, err := res.update(r.Context(), v, id, none, false); err != nil {
				return err
			}
			return invalid(fe, res.validate(&in, full))
		}
		m, _, err := res.update(r.Context(), v, id, in, full)
		if err != nil {
			return err
		}
		return h.writeData(w, r, http.StatusOK, res.name+" updated successfully", res.out(m))
	}
}

// deleteHandler is DELETE /<kind>/{id}/: the record and its mappings go.
func (res resource[M, P]) deleteHandler(h *Handler) handlerFunc {
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
