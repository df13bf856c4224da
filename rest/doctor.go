package rest

import (
	"net/http"

	"healthcare/auth"
	"healthcare/models"
)

// doctorJSON is a doctor as the API shows it: its fields plus the full name.
type doctorJSON struct {
	*models.Doctor
	FullName string `json:"full_name"`
}

func doctorOut(d *models.Doctor) doctorJSON { return doctorJSON{Doctor: d, FullName: d.FullName()} }

// listDoctors is GET /doctors/: the whole directory, filtered and paged.
func (h *Handler) listDoctors(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	q := newQuery(r)
	f := models.DoctorFilter{
		Search:         q.text("search"),
		Specialization: enum(q, "specialization", models.Specialization.IsValid, models.Specializations),
		City:           q.text("city"),
		IsAvailable:    q.boolean("is_available"),
		MinExperience:  q.integer("min_experience", 0),
		MaxFee:         q.number("max_fee", 0),
	}
	p := q.pagination()
	if err := q.err(); err != nil {
		return err
	}
	pg, err := h.store.Doctors.List(r.Context(), v, f, p.request())
	if err != nil {
		return err
	}
	data, err := pageOf(r, p, pg, doctorOut)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Doctors retrieved successfully", data)
}

// createDoctor is POST /doctors/: 201 with the new directory entry.
func (h *Handler) createDoctor(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var in models.DoctorPatch
	if fe := fill(&in, obj); len(fe) > 0 {
		return invalid(fe, in.Validate(today(), true))
	}
	d, err := h.store.Doctors.Create(r.Context(), v, in)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusCreated, "Doctor created successfully", doctorOut(d))
}

// getDoctor is GET /doctors/{id}/.
func (h *Handler) getDoctor(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "id", "Doctor")
	if err != nil {
		return err
	}
	d, err := h.store.Doctors.Get(r.Context(), v, id)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Doctor retrieved successfully", doctorOut(d))
}

// putDoctor is PUT /doctors/{id}/: a full update.
func (h *Handler) putDoctor(w http.ResponseWriter, r *http.Request) error {
	return h.updateDoctor(w, r, true)
}

// patchDoctor is PATCH /doctors/{id}/: a partial update.
func (h *Handler) patchDoctor(w http.ResponseWriter, r *http.Request) error {
	return h.updateDoctor(w, r, false)
}

func (h *Handler) updateDoctor(w http.ResponseWriter, r *http.Request, full bool) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "id", "Doctor")
	if err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var in models.DoctorPatch
	if fe := fill(&in, obj); len(fe) > 0 {
		// The empty patch writes nothing; it asks the store whether the
		// viewer may change this doctor (404, or 403 for another user's).
		if _, _, err := h.store.Doctors.Update(r.Context(), v, id, models.DoctorPatch{}, false); err != nil {
			return err
		}
		return invalid(fe, in.Validate(today(), full))
	}
	d, _, err := h.store.Doctors.Update(r.Context(), v, id, in, full)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Doctor updated successfully", doctorOut(d))
}

// deleteDoctor is DELETE /doctors/{id}/: the entry and its mappings go.
func (h *Handler) deleteDoctor(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "id", "Doctor")
	if err != nil {
		return err
	}
	if err := h.store.Doctors.Delete(r.Context(), v, id); err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Doctor deleted successfully", nil)
}
