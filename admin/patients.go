package admin

import (
	"net/http"
	"net/url"

	"healthcare/models"
)

func patientSections() []section {
	return []section{
		{Legend: "Personal details", Fields: []field{
			{Name: "first_name", Label: "First name", Type: "text", Required: true, MaxLen: 100, Autocomplete: "off"},
			{Name: "last_name", Label: "Last name", Type: "text", Required: true, MaxLen: 100, Autocomplete: "off"},
			{Name: "date_of_birth", Label: "Date of birth", Type: "date", Required: true},
			{Name: "gender", Label: "Gender", Type: "select", Required: true, Options: choices(models.Genders, genderLabel, "Choose…")},
			{Name: "blood_group", Label: "Blood group", Type: "select", Options: choices(models.BloodGroups, bloodLabel, "Unknown")},
			{Name: "is_active", Label: "Active patient", Type: "checkbox", Hint: "Inactive patients stay on record but are hidden by the active filter."},
		}},
		{Legend: "Contact", Fields: []field{
			{Name: "phone", Label: "Phone", Type: "tel", Required: true, MaxLen: 16, Hint: "International format, e.g. +919876543210"},
			{Name: "email", Label: "Email", Type: "email", MaxLen: 254},
			{Name: "address", Label: "Address", Type: "textarea", MaxLen: 500, Wide: true},
			{Name: "city", Label: "City", Type: "text", MaxLen: 100},
			{Name: "state", Label: "State", Type: "text", MaxLen: 100},
			{Name: "postal_code", Label: "Postal code", Type: "text", MaxLen: 20},
			{Name: "country", Label: "Country", Type: "text", MaxLen: 100},
		}},
		{Legend: "Medical", Fields: []field{
			{Name: "medical_history", Label: "Medical history", Type: "textarea", MaxLen: 10000, Wide: true},
			{Name: "allergies", Label: "Allergies", Type: "textarea", MaxLen: 5000, Wide: true},
			{Name: "current_medications", Label: "Current medications", Type: "textarea", MaxLen: 5000, Wide: true},
		}},
		{Legend: "Emergency contact", Fields: []field{
			{Name: "emergency_contact_name", Label: "Name", Type: "text", MaxLen: 200},
			{Name: "emergency_contact_phone", Label: "Phone", Type: "tel", MaxLen: 16, Hint: "International format"},
			{Name: "emergency_contact_relation", Label: "Relation", Type: "text", MaxLen: 50},
		}},
	}
}

func patientValues(p *models.Patient) url.Values {
	v := url.Values{}
	v.Set("first_name", p.FirstName)
	v.Set("last_name", p.LastName)
	v.Set("email", deref(p.Email))
	v.Set("phone", p.Phone)
	if !p.DateOfBirth.IsZero() {
		v.Set("date_of_birth", p.DateOfBirth.String())
	}
	v.Set("gender", string(p.Gender))
	if p.BloodGroup != nil {
		v.Set("blood_group", string(*p.BloodGroup))
	}
	for k, s := range map[string]*string{
		"address": p.Address, "city": p.City, "state": p.State, "postal_code": p.PostalCode, "country": p.Country,
		"medical_history": p.MedicalHistory.Ptr(), "allergies": p.Allergies.Ptr(), "current_medications": p.CurrentMedications.Ptr(),
		"emergency_contact_name": p.EmergencyContactName, "emergency_contact_phone": p.EmergencyContactPhone,
		"emergency_contact_relation": p.EmergencyContactRelation,
	} {
		v.Set(k, deref(s))
	}
	v.Set("is_active", checkbox(p.IsActive))
	return v
}

// patientPatch reads a submitted patient form as a full patch: every field
// is present, an empty optional field clears it.
func patientPatch(vals url.Values) (models.PatientPatch, models.FieldErrors) {
	p := &formParser{vals: vals}
	in := models.PatientPatch{
		FirstName: p.str("first_name"), LastName: p.str("last_name"), Email: p.str("email"), Phone: p.str("phone"),
		DateOfBirth: p.date("date_of_birth"), Gender: enumRequired[models.Gender](vals, "gender"),
		BloodGroup: enumOptional[models.BloodGroup](vals, "blood_group"),
		Address:    p.str("address"), City: p.str("city"), State: p.str("state"), PostalCode: p.str("postal_code"),
		Country: p.str("country"), MedicalHistory: p.str("medical_history"), Allergies: p.str("allergies"),
		CurrentMedications: p.str("current_medications"), EmergencyContactName: p.str("emergency_contact_name"),
		EmergencyContactPhone: p.str("emergency_contact_phone"), EmergencyContactRelation: p.str("emergency_contact_relation"),
		IsActive: p.boolean("is_active"),
	}
	return in, p.fe
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
		{Name: "gender", Label: "Gender", Type: "select", Options: choices(models.Genders, genderLabel, "Any")},
		{Name: "city", Label: "City", Type: "text"},
		{Name: "is_active", Label: "Active", Type: "select", Options: yesNo},
		{Name: "blood_group", Label: "Blood group", Type: "select", Options: choices(models.BloodGroups, bloodLabel, "Any")},
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
	h.patientForm(w, r, http.StatusOK, url.Values{"is_active": {"on"}}, nil)
}

func (h *handler) patientForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, errs map[string][]string) {
	f := form{Heading: "Add patient", Action: h.prefix + "/patients/new", Submit: "Save patient", Cancel: h.prefix + "/patients",
		Sections: patientSections()}
	f.Problems = fill(f.Sections, vals, errs)
	h.render(w, r, status, "form", "Add patient", "patients", f)
}

func (h *handler) createPatient(w http.ResponseWriter, r *http.Request) {
	in, perr := patientPatch(r.PostForm)
	if len(perr) > 0 {
		h.patientForm(w, r, http.StatusBadRequest, r.PostForm, merge(perr, in.Validate(today(), true)))
		return
	}
	p, err := h.store.Patients.Create(r.Context(), viewerFrom(r.Context()), in)
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
	h.patientPage(w, r, http.StatusOK, p, patientValues(p), nil, url.Values{"status": {string(models.StatusActive)}}, nil)
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
	if owner, err := h.store.Users.ByID(ctx, p.CreatedBy); err == nil {
		d.Owner = owner
	}
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
	as := []section{{Fields: []field{
		{Name: "doctor", Label: "Doctor", Type: "select", Required: true, Options: opts},
		{Name: "status", Label: "Status", Type: "select", Options: choices(models.MappingStatuses, statusLabel, "")},
		{Name: "reason", Label: "Reason", Type: "textarea", MaxLen: 2000, Wide: true},
	}}}
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
	in, perr := patientPatch(r.PostForm)
	var err error
	var changed []string
	var p *models.Patient
	if len(perr) == 0 {
		p, changed, err = h.store.Patients.Update(ctx, v, id, in, true)
	}
	errs := fieldErrors(err)
	if len(perr) > 0 {
		errs = merge(perr, in.Validate(today(), true))
	} else if err != nil && errs == nil {
		h.fail(w, r, err)
		return
	}
	if errs != nil {
		cur, gerr := h.store.Patients.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.patientPage(w, r, http.StatusBadRequest, cur, r.PostForm, errs, url.Values{"status": {string(models.StatusActive)}}, nil)
		return
	}
	done := "saved"
	if len(changed) == 0 {
		done = "unchanged"
	}
	h.redirect(w, r, h.prefix+"/patients/"+itoa(p.ID), done)
}

func (h *handler) assignDoctor(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx, v := r.Context(), viewerFrom(r.Context())
	p := &formParser{vals: r.PostForm}
	in := models.MappingInput{PatientID: &id, DoctorID: p.id("doctor"), Reason: p.str("reason"),
		Status: enumOptional[models.MappingStatus](r.PostForm, "status")}
	if *in.Status == "" {
		in.Status = nil
	}
	var err error
	if len(p.fe) == 0 {
		_, err = h.store.Mappings.Create(ctx, v, in)
	}
	errs := mappingErrors(p.fe, err)
	if errs == nil && err != nil {
		h.fail(w, r, err)
		return
	}
	if errs != nil {
		pt, gerr := h.store.Patients.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.patientPage(w, r, http.StatusBadRequest, pt, patientValues(pt), nil, r.PostForm, errs)
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
