package rest

import (
	"net/http"
	"strconv"
	"time"

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

// today is the date the models validate dates of birth against (the stores
// use the same).
func today() models.Date { return models.DateOf(time.Now().UTC()) }

// pathID reads the id in the path parameter name; anything but a positive
// integer names no record, so it is that record's 404.
func pathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || id <= 0 {
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
		Gender:   enum(q, "gender", models.Gender.IsValid, models.Genders),
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

// createPatient is POST /patients/: 201 with the new patient, owned by the viewer.
func (h *Handler) createPatient(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var in models.PatientPatch
	if fe := fill(&in, obj); len(fe) > 0 {
		return invalid(fe, in.Validate(today(), true))
	}
	p, err := h.store.Patients.Create(r.Context(), v, in)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusCreated, "Patient created successfully", patientOut(p))
}

// getPatient is GET /patients/{id}/.
func (h *Handler) getPatient(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "id", "Patient")
	if err != nil {
		return err
	}
	p, err := h.store.Patients.Get(r.Context(), v, id)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Patient retrieved successfully", patientOut(p))
}

// putPatient is PUT /patients/{id}/: a full update, required fields required.
func (h *Handler) putPatient(w http.ResponseWriter, r *http.Request) error {
	return h.updatePatient(w, r, true)
}

// patchPatient is PATCH /patients/{id}/: only the fields sent change.
func (h *Handler) patchPatient(w http.ResponseWriter, r *http.Request) error {
	return h.updatePatient(w, r, false)
}

func (h *Handler) updatePatient(w http.ResponseWriter, r *http.Request, full bool) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "id", "Patient")
	if err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var in models.PatientPatch
	if fe := fill(&in, obj); len(fe) > 0 {
		// An empty patch changes nothing and writes nothing, but answers
		// whether the viewer may update this patient at all: a patient that
		// is not theirs is a 404 before its input is judged.
		if _, _, err := h.store.Patients.Update(r.Context(), v, id, models.PatientPatch{}, false); err != nil {
			return err
		}
		return invalid(fe, in.Validate(today(), full))
	}
	p, _, err := h.store.Patients.Update(r.Context(), v, id, in, full)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Patient updated successfully", patientOut(p))
}

// deletePatient is DELETE /patients/{id}/: the patient and its mappings go.
func (h *Handler) deletePatient(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "id", "Patient")
	if err != nil {
		return err
	}
	if err := h.store.Patients.Delete(r.Context(), v, id); err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Patient deleted successfully", nil)
}
