package rest

import (
	"net/http"
	"time"

	"healthcare/auth"
	"healthcare/models"
)

// mappingJSON is a mapping as the API shows it: its fields (patient and
// doctor are ids) plus the names of both parties and the doctor's
// specialization.
type mappingJSON struct {
	*models.Mapping
	PatientName          string                `json:"patient_name"`
	DoctorName           string                `json:"doctor_name"`
	DoctorSpecialization models.Specialization `json:"doctor_specialization"`
}

// mappingOut needs m's Patient and Doctor, which the store loads.
func mappingOut(m *models.Mapping) mappingJSON {
	out := mappingJSON{Mapping: m}
	if m.Patient != nil {
		out.PatientName = m.Patient.FullName()
	}
	if m.Doctor != nil {
		out.DoctorName = m.Doctor.FullName()
		out.DoctorSpecialization = m.Doctor.Specialization
	}
	return out
}

// assignedDoctor is one doctor of a patient, with the mapping that assigns it.
type assignedDoctor struct {
	doctorJSON
	MappingID  int64                `json:"mapping_id"`
	Status     models.MappingStatus `json:"status"`
	Reason     *string              `json:"reason"`
	Notes      *string              `json:"notes"`
	AssignedAt time.Time            `json:"assigned_at"`
}

// patientDoctors is the data of GET /mappings/{patient_id}/.
type patientDoctors struct {
	PatientID   int64            `json:"patient_id"`
	PatientName string           `json:"patient_name"`
	Count       int              `json:"count"`
	Doctors     []assignedDoctor `json:"doctors"`
}

// listMappings is GET /mappings/: the mappings of the viewer's patients.
func (h *Handler) listMappings(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	q := newQuery(r)
	f := models.MappingFilter{
		PatientID: q.id("patient_id"),
		DoctorID:  q.id("doctor_id"),
		Status:    enum(q, "status", models.MappingStatuses),
		Search:    q.text("search"),
	}
	p := q.pagination()
	if err := q.err(); err != nil {
		return err
	}
	pg, err := h.store.Mappings.List(r.Context(), v, f, p.request())
	if err != nil {
		return err
	}
	data, err := pageOf(r, p, pg, mappingOut)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Mappings retrieved successfully", data)
}

// createMapping is POST /mappings/: assign a doctor to one of the viewer's
// patients (201); a pair already mapped is a 400 on "doctor".
func (h *Handler) createMapping(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	in, err := decode[models.MappingInput](r)
	if err != nil {
		return err
	}
	m, err := h.store.Mappings.Create(r.Context(), v, in)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusCreated, "Doctor assigned to patient successfully", mappingOut(m))
}

// doctorsOfPatient is GET /mappings/{patient_id}/: the doctors assigned to
// one of the viewer's patients, optionally only those of one status.
func (h *Handler) doctorsOfPatient(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r, "patient_id", "Patient")
	if err != nil {
		return err
	}
	q := newQuery(r)
	status := enum(q, "status", models.MappingStatuses)
	if err := q.err(); err != nil {
		return err
	}
	p, ms, err := h.store.Mappings.ForPatient(r.Context(), v, id, status)
	if err != nil {
		return err
	}
	data := patientDoctors{PatientID: p.ID, PatientName: p.FullName(), Count: len(ms), Doctors: make([]assignedDoctor, 0, len(ms))}
	for _, m := range ms {
		if m.Doctor == nil {
			continue
		}
		data.Doctors = append(data.Doctors, assignedDoctor{
			doctorJSON: doctorOut(m.Doctor), MappingID: m.ID, Status: m.Status,
			Reason: m.Reason, Notes: m.Notes, AssignedAt: m.CreatedAt,
		})
	}
	data.Count = len(data.Doctors)
	return h.writeData(w, r, http.StatusOK, "Doctors for patient retrieved successfully", data)
}

// mappings serves the read, update and delete of one mapping by its own id:
// visible exactly when its patient is the viewer's (others' are 404). Only
// reason, notes and status change; patient and doctor never do.
func (h *Handler) mappings() resource[models.Mapping, models.MappingInput, models.MappingPatch] {
	ms := h.store.Mappings
	return resource[models.Mapping, models.MappingInput, models.MappingPatch]{
		name: "Mapping", get: ms.Get, update: ms.Update, remove: ms.Delete,
		out: func(m *models.Mapping) any { return mappingOut(m) },
	}
}
