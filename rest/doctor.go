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
		Specialization: enum(q, "specialization", models.Specializations),
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

// doctors serves the create, read, update and delete of the doctor
// directory: everyone reads, only an entry's creator changes it (403).
func (h *Handler) doctors() resource[models.Doctor, models.DoctorInput, models.DoctorPatch] {
	ds := h.store.Doctors
	return resource[models.Doctor, models.DoctorInput, models.DoctorPatch]{
		name: "Doctor", get: ds.Get, create: ds.Create, replace: ds.Replace, update: ds.Update, remove: ds.Delete,
		out: func(d *models.Doctor) any { return doctorOut(d) },
	}
}
