package rest

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"healthcare/auth"
	"healthcare/models"
)

// patientJSON is a patient as the API shows it: its fields plus the derived
// full name and age.
type patientJSON struct {
	*models.Patient
	FullName string `json:"full_name"`
	Age      int    `json:"age"`
}

func patientOut(p *models.Patient) patientJSON {
	return patientJSON{Patient: p, FullName: p.FullName(), Age: p.Age()}
}

// pathID reads the id in the path parameter name; anything but a positive
// integer names no record, so it is that record's 404.
func pathID(r *http.Request, name, what string) (int64, error) {
	id, ok := models.ParseID(chi.URLParam(r, name))
	if !ok {
		return 0, models.NotFound(what)
	}
	return id, nil
}

// listPatients is GET /patients/: the viewer's patients, filtered and paged.
func (h *Handler) listPatients(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	q := newQuery(r)
	f := models.PatientFilter{
		Search:   q.text("search"),
		Gender:   enum(q, "gender", models.Genders),
		City:     q.text("city"),
		IsActive: q.boolean("is_active"),
	}
	p := q.pagination()
	if err := q.err(); err != nil {
		return err
	}
	pg, err := h.store.Patients.List(r.Context(), v, f, p.request())
	if err != nil {
		return err
	}
	data, err := pageOf(r, p, pg, patientOut)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Patients retrieved successfully", data)
}

// patients serves the create, read, update and delete of patients: the
// viewer's own only (others' are 404).
func (h *Handler) patients() resource[models.Patient, models.PatientInput, models.PatientPatch] {
	ps := h.store.Patients
	return resource[models.Patient, models.PatientInput, models.PatientPatch]{
		name: "Patient", get: ps.Get, create: ps.Create, replace: ps.Replace, update: ps.Update, remove: ps.Delete,
		out: func(p *models.Patient) any { return patientOut(p) },
	}
}
