package admin

import (
	"net/http"
	"net/url"

	"healthcare/models"
)

// patientLayout arranges the patient form.
var patientLayout = layout{
	{"Personal details", []string{"first_name", "last_name", "date_of_birth", "gender", "blood_group", "is_active"}},
	{"Contact", []string{"phone", "email", "address", "city", "state", "postal_code", "country"}},
	{"Medical", []string{"medical_history", "allergies", "current_medications"}},
	{"Emergency contact", []string{"emergency_contact_name", "emergency_contact_phone", "emergency_contact_relation"}},
}

func patientSections() []section { return patientLayout.sections(models.PatientEntity) }

// patientInput reads a submitted patient form: the whole patient (every
// field is present; an empty optional one clears it).
func patientInput(vals url.Values) models.PatientInput {
	var in models.PatientInput
	decode(models.PatientEntity, patientSections(), vals, &in)
	return in
}

// patientColumns are the patient list's columns; the keys are
// database.PatientStore.List's order_by names.
var patientColumns = []sortable{
	{"ID", "id", true}, {"Name", "name", false}, {"Date of birth", "date_of_birth", false}, {"Gender", "gender", false},
	{"Phone", "", false}, {"City", "city", false}, {"Status", "", false},
}

func (h *handler) listPatients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k := parseListQuery(q, patientColumns)
	f := models.PatientFilter{Search: q.Get("search"), City: q.Get("city"), IsActive: boolParam(q, "is_active")}
	if g := models.Gender(q.Get("gender")); g.IsValid() {
		f.Gender = &g
	}
	if b := models.BloodGroup(q.Get("blood_group")); b.IsValid() {
		f.BloodGroup = &b
	}
	page, err := h.store.Patients.List(r.Context(), viewerFrom(r.Context()), f, k.request())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fv, filtered := filterValues(q, "search", "gender", "city", "is_active", "blood_group")
	filters := []section{{Fields: []field{
		{Name: "search", Label: "Search", Type: "search", Placeholder: "Name, email or phone"},
		{Name: "gender", Label: "Gender", Type: "select", Options: entityOptions(models.PatientEntity, "gender", "Any")},
		{Name: "city", Label: "City", Type: "text"},
		{Name: "is_active", Label: "Active", Type: "select", Options: yesNo},
		{Name: "blood_group", Label: "Blood group", Type: "select", Options: entityOptions(models.PatientEntity, "blood_group", "Any")},
	}}}
	fill(filters, fv, nil)
	d := &listData{
		Heading: "Patients", NewHref: h.prefix + "/patients/new", NewLabel: "Add patient",
		Action: h.prefix + "/patients", Filters: filters[0].Fields, Filtered: filtered, Clear: h.prefix + "/patients",
		Empty: "No patients match.",
	}
	items := listNav(d, r.URL, k, page, func(p *models.Patient) int64 { return p.ID }, "patient")
	d.Columns = k.columns(r.URL, patientColumns)
	for _, p := range items {
		d.Rows = append(d.Rows, []cell{
			{Text: itoa(p.ID), Num: true},
			{Text: p.FullName(), Href: h.prefix + "/patients/" + itoa(p.ID)},
			{Text: p.DateOfBirth.String()},
			{Text: genderLabel(p.Gender)},
			{Text: p.Phone},
			{Text: deref(p.City)},
			yesNoCell(p.IsActive, "Active", "Inactive"),
		})
	}
	h.render(w, r, http.StatusOK, "list", "Patients", "patients", d)
}

func (h *handler) newPatient(w http.ResponseWriter, r *http.Request) {
	h.patientForm(w, r, http.StatusOK, defaults(models.PatientEntity, patientSections()), nil)
}

func (h *handler) patientForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, errs map[string][]string) {
	f := form{Heading: "Add patient", Action: h.prefix + "/patients/new", Submit: "Save patient", Cancel: h.prefix + "/patients",
		Sections: patientSections()}
	f.Problems = fill(f.Sections, vals, errs)
	h.render(w, r, status, "form", "Add patient", "patients", f)
}

func (h *handler) createPatient(w http.ResponseWriter, r *http.Request) {
	p, err := h.store.Patients.Create(r.Context(), viewerFrom(r.Context()), patientInput(r.PostForm))
	if fe := fieldErrors(err); fe != nil {
		h.patientForm(w, r, http.StatusBadRequest, r.PostForm, fe)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/patients/"+itoa(p.ID), "created")
}

// patientData is the patient page: its edit form, its doctors, and the
// form that assigns another.
type patientData struct {
	Form     form
	Patient  *models.Patient
	Owner    *models.User
	Mappings []*models.Mapping
	Assign   assignData
}

type assignData struct {
	Action   string
	Search   string
	Query    string
	Fields   []field
	Problems []problem
	None     bool // no doctor to offer
}

func (h *handler) showPatient(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	p, err := h.store.Patients.Get(r.Context(), viewerFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.patientPage(w, r, http.StatusOK, p, values(patientSections(), p), nil, nil, nil)
}

func (h *handler) patientPage(w http.ResponseWriter, r *http.Request, status int, p *models.Patient,
	vals url.Values, errs map[string][]string, avals url.Values, aerrs map[string][]string) {
	ctx, v := r.Context(), viewerFrom(r.Context())
	base := h.prefix + "/patients/" + itoa(p.ID)
	d := patientData{Patient: p, Form: form{
		Heading: p.FullName(), Action: base, Submit: "Save changes", Cancel: h.prefix + "/patients",
		Delete: base + "/delete", Sections: patientSections(),
	}}
	d.Form.Problems = fill(d.Form.Sections, vals, errs)
	owners, err := h.store.Users.ByIDs(ctx, v, []int64{p.CreatedBy})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Owner = owners[p.CreatedBy]
	_, ms, err := h.store.Mappings.ForPatient(ctx, v, p.ID, nil)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Mappings = ms
	// The doctors offered: those matching the search (or the newest), less
	// those already assigned.
	query := r.URL.Query().Get("doctor_search")
	n := 50
	docs, err := h.store.Doctors.List(ctx, v, models.DoctorFilter{Search: query}, models.PageRequest{First: &n})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	assigned := map[int64]bool{}
	for _, m := range ms {
		assigned[m.DoctorID] = true
	}
	opts := []option{{"", "Choose a doctor…"}}
	for _, doc := range docs.Items {
		if !assigned[doc.ID] {
			label := "Dr. " + doc.FullName() + " — " + specLabel(doc.Specialization)
			if doc.City != nil {
				label += ", " + *doc.City
			}
			if !doc.IsAvailable {
				label += " (unavailable)"
			}
			opts = append(opts, option{itoa(doc.ID), label + " (#" + itoa(doc.ID) + ")"})
		}
	}
	d.Assign = assignData{Action: base + "/assign", Search: base, Query: query, None: len(opts) == 1}
	as := assignSections()
	as[0].Fields[0].Type, as[0].Fields[0].Options, as[0].Fields[0].Hint = "select", opts, ""
	if avals == nil {
		avals = defaults(models.MappingEntity, as)
	}
	d.Assign.Problems = fill(as, avals, aerrs)
	d.Assign.Fields = as[0].Fields
	h.render(w, r, status, "patient", p.FullName(), "patients", d)
}

func (h *handler) updatePatient(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx, v := r.Context(), viewerFrom(r.Context())
	_, changed, err := h.store.Patients.Replace(ctx, v, id, patientInput(r.PostForm))
	if errs := fieldErrors(err); errs != nil {
		cur, gerr := h.store.Patients.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.patientPage(w, r, http.StatusBadRequest, cur, r.PostForm, errs, nil, nil)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	done := "saved"
	if len(changed) == 0 {
		done = "unchanged"
	}
	h.redirect(w, r, h.prefix+"/patients/"+itoa(id), done)
}

// assignLayout arranges the form that assigns a doctor from a patient's
// page (the doctor is chosen from a list).
var assignLayout = layout{{"", []string{"doctor", "status", "reason"}}}

func assignSections() []section { return assignLayout.sections(models.MappingEntity) }

func (h *handler) assignDoctor(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx, v := r.Context(), viewerFrom(r.Context())
	var in models.MappingInput
	decode(models.MappingEntity, assignSections(), r.PostForm, &in)
	in.PatientID = &id
	_, err := h.store.Mappings.Create(ctx, v, in)
	if errs := mappingErrors(err); errs != nil {
		pt, gerr := h.store.Patients.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.patientPage(w, r, http.StatusBadRequest, pt, values(patientSections(), pt), nil, r.PostForm, errs)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/patients/"+itoa(id)+"#doctors", "assigned")
}

// confirmData is a delete confirmation page.
type confirmData struct {
	Heading string
	Message string
	Details []string
	Action  string
	Cancel  string
	Submit  string
	Next    string
}

func (h *handler) confirmDeletePatient(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	_, ms, err := h.store.Mappings.ForPatient(r.Context(), viewerFrom(r.Context()), id, nil)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.store.Patients.Get(r.Context(), viewerFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := confirmData{
		Heading: "Delete patient " + p.FullName() + "?",
		Message: "This permanently deletes the patient's record. It cannot be undone.",
		Action:  h.prefix + "/patients/" + itoa(id) + "/delete", Cancel: h.prefix + "/patients/" + itoa(id), Submit: "Delete patient",
	}
	if len(ms) > 0 {
		d.Details = append(d.Details, countNoun(len(ms), "doctor assignment")+" of this patient will be removed too.")
	}
	h.render(w, r, http.StatusOK, "confirm", "Delete patient", "patients", d)
}

func (h *handler) deletePatient(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	if err := h.store.Patients.Delete(r.Context(), viewerFrom(r.Context()), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/patients", "deleted")
}
