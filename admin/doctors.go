package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"healthcare/models"
)

func doctorSections() []section {
	return []section{
		{Legend: "Personal details", Fields: []field{
			{Name: "first_name", Label: "First name", Type: "text", Required: true, MaxLen: 100, Autocomplete: "off"},
			{Name: "last_name", Label: "Last name", Type: "text", Required: true, MaxLen: 100, Autocomplete: "off"},
			{Name: "email", Label: "Email", Type: "email", Required: true, MaxLen: 254, Hint: "Unique per doctor"},
			{Name: "phone", Label: "Phone", Type: "tel", Required: true, MaxLen: 16, Hint: "International format, e.g. +919876543210"},
			{Name: "date_of_birth", Label: "Date of birth", Type: "date"},
			{Name: "gender", Label: "Gender", Type: "select", Options: choices(models.Genders, genderLabel, "Not given")},
		}},
		{Legend: "Practice", Fields: []field{
			{Name: "specialization", Label: "Specialization", Type: "select", Required: true, Options: choices(models.Specializations, specLabel, "Choose…")},
			{Name: "qualification", Label: "Qualification", Type: "text", Required: true, MaxLen: 200, Hint: "e.g. MBBS, MD"},
			{Name: "license_number", Label: "License number", Type: "text", Required: true, MaxLen: 50, Hint: "Unique; stored in capitals"},
			{Name: "experience_years", Label: "Experience (years)", Type: "number", Required: true, Min: "0", Max: "80", Step: "1"},
			{Name: "consultation_fee", Label: "Consultation fee", Type: "number", Required: true, Min: "0", Step: "0.01"},
			{Name: "is_available", Label: "Accepting patients", Type: "checkbox"},
			{Name: "available_days", Label: "Available days", Type: "text", MaxLen: 100, Hint: "e.g. Mon–Fri"},
			{Name: "available_time", Label: "Available time", Type: "text", MaxLen: 100, Hint: "e.g. 09:00–17:00"},
			{Name: "languages_spoken", Label: "Languages spoken", Type: "text", MaxLen: 200},
			{Name: "bio", Label: "Biography", Type: "textarea", MaxLen: 5000, Wide: true},
		}},
		{Legend: "Clinic", Fields: []field{
			{Name: "clinic_name", Label: "Clinic name", Type: "text", MaxLen: 200},
			{Name: "clinic_address", Label: "Clinic address", Type: "textarea", MaxLen: 500, Wide: true},
			{Name: "city", Label: "City", Type: "text", MaxLen: 100},
			{Name: "state", Label: "State", Type: "text", MaxLen: 100},
			{Name: "postal_code", Label: "Postal code", Type: "text", MaxLen: 20},
			{Name: "country", Label: "Country", Type: "text", MaxLen: 100},
		}},
	}
}

func doctorValues(d *models.Doctor) url.Values {
	v := url.Values{}
	v.Set("first_name", d.FirstName)
	v.Set("last_name", d.LastName)
	v.Set("email", d.Email)
	v.Set("phone", d.Phone)
	v.Set("date_of_birth", optDate(d.DateOfBirth))
	if d.Gender != nil {
		v.Set("gender", string(*d.Gender))
	}
	v.Set("specialization", string(d.Specialization))
	v.Set("qualification", d.Qualification)
	v.Set("license_number", d.LicenseNumber)
	v.Set("experience_years", strconv.Itoa(d.ExperienceYears))
	v.Set("consultation_fee", fmtFee(float64(d.ConsultationFee)))
	v.Set("is_available", checkbox(d.IsAvailable))
	for k, s := range map[string]*string{
		"clinic_name": d.ClinicName, "clinic_address": d.ClinicAddress, "city": d.City, "state": d.State,
		"postal_code": d.PostalCode, "country": d.Country, "available_days": d.AvailableDays,
		"available_time": d.AvailableTime, "bio": d.Bio, "languages_spoken": d.LanguagesSpoken,
	} {
		v.Set(k, deref(s))
	}
	return v
}

func doctorPatch(vals url.Values) (models.DoctorPatch, models.FieldErrors) {
	p := &formParser{vals: vals}
	in := models.DoctorPatch{
		FirstName: p.str("first_name"), LastName: p.str("last_name"), Email: p.str("email"), Phone: p.str("phone"),
		DateOfBirth: p.date("date_of_birth"), Gender: enumOptional[models.Gender](vals, "gender"),
		Specialization: enumRequired[models.Specialization](vals, "specialization"),
		Qualification:  p.str("qualification"), LicenseNumber: p.str("license_number"),
		ExperienceYears: p.integer("experience_years"), ConsultationFee: p.decimal("consultation_fee"),
		ClinicName: p.str("clinic_name"), ClinicAddress: p.str("clinic_address"), City: p.str("city"),
		State: p.str("state"), PostalCode: p.str("postal_code"), Country: p.str("country"),
		AvailableDays: p.str("available_days"), AvailableTime: p.str("available_time"), Bio: p.str("bio"),
		LanguagesSpoken: p.str("languages_spoken"), IsAvailable: p.boolean("is_available"),
	}
	return in, p.fe
}

// doctorColumns are the doctor list's columns; the keys are
// database.DoctorStore.List's order_by names.
var doctorColumns = []sortable{
	{"ID", "id", true}, {"Name", "name", false}, {"Specialization", "specialization", false},
	{"Experience", "experience_years", true}, {"Fee", "consultation_fee", true}, {"City", "city", false}, {"Status", "", false},
}

func (h *handler) listDoctors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k := parseListQuery(q, doctorColumns)
	f := models.DoctorFilter{Search: q.Get("search"), City: q.Get("city"), IsAvailable: boolParam(q, "is_available")}
	var ferr models.FieldErrors
	if s := models.Specialization(q.Get("specialization")); s.IsValid() {
		f.Specialization = &s
	}
	if s := strings.TrimSpace(q.Get("min_experience")); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			f.MinExperience = &n
		} else {
			ferr.Add("min_experience", "Enter a whole number of years.")
		}
	}
	if s := strings.TrimSpace(q.Get("max_fee")); s != "" {
		if x, err := strconv.ParseFloat(s, 64); err == nil && x >= 0 {
			f.MaxFee = &x
		} else {
			ferr.Add("max_fee", "Enter an amount.")
		}
	}
	page, err := h.store.Doctors.List(r.Context(), viewerFrom(r.Context()), f, k.request())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fv, filtered := filterValues(q, "search", "specialization", "city", "is_available", "min_experience", "max_fee")
	filters := []section{{Fields: []field{
		{Name: "search", Label: "Search", Type: "search", Placeholder: "Name, specialization or city"},
		{Name: "specialization", Label: "Specialization", Type: "select", Options: choices(models.Specializations, specLabel, "Any")},
		{Name: "city", Label: "City", Type: "text"},
		{Name: "is_available", Label: "Available", Type: "select", Options: yesNo},
		{Name: "min_experience", Label: "Min. experience", Type: "number", Min: "0", Step: "1"},
		{Name: "max_fee", Label: "Max. fee", Type: "number", Min: "0", Step: "0.01"},
	}}}
	fill(filters, fv, ferr)
	d := &listData{
		Heading: "Doctors", NewHref: h.prefix + "/doctors/new", NewLabel: "Add doctor",
		Action: h.prefix + "/doctors", Filters: filters[0].Fields, Filtered: filtered, Clear: h.prefix + "/doctors",
		Empty: "No doctors match.",
	}
	items := listNav(d, r.URL, k, page, func(d *models.Doctor) int64 { return d.ID }, "doctor")
	d.Columns = k.columns(r.URL, doctorColumns)
	for _, doc := range items {
		d.Rows = append(d.Rows, []cell{
			{Text: itoa(doc.ID), Num: true},
			{Text: "Dr. " + doc.FullName(), Href: h.prefix + "/doctors/" + itoa(doc.ID)},
			{Text: specLabel(doc.Specialization)},
			{Text: strconv.Itoa(doc.ExperienceYears) + " y", Num: true},
			{Text: fmtFee(float64(doc.ConsultationFee)), Num: true},
			{Text: deref(doc.City)},
			yesNoCell(doc.IsAvailable, "Available", "Unavailable"),
		})
	}
	h.render(w, r, http.StatusOK, "list", "Doctors", "doctors", d)
}

func (h *handler) newDoctor(w http.ResponseWriter, r *http.Request) {
	h.doctorForm(w, r, http.StatusOK, url.Values{"is_available": {"on"}, "experience_years": {"0"}}, nil)
}

func (h *handler) doctorForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, errs map[string][]string) {
	f := form{Heading: "Add doctor", Action: h.prefix + "/doctors/new", Submit: "Save doctor", Cancel: h.prefix + "/doctors",
		Sections: doctorSections()}
	f.Problems = fill(f.Sections, vals, errs)
	h.render(w, r, status, "form", "Add doctor", "doctors", f)
}

func (h *handler) createDoctor(w http.ResponseWriter, r *http.Request) {
	in, perr := doctorPatch(r.PostForm)
	if len(perr) > 0 {
		h.doctorForm(w, r, http.StatusBadRequest, r.PostForm, merge(perr, in.Validate(today(), true)))
		return
	}
	d, err := h.store.Doctors.Create(r.Context(), viewerFrom(r.Context()), in)
	if fe := fieldErrors(err); fe != nil {
		h.doctorForm(w, r, http.StatusBadRequest, r.PostForm, fe)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/doctors/"+itoa(d.ID), "created")
}

// doctorData is the doctor page: its edit form and its patients.
type doctorData struct {
	Form     form
	Doctor   *models.Doctor
	Mappings []*models.Mapping
	More     string // link to all of them, when there are more than shown
	Total    int
}

func (h *handler) showDoctor(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	d, err := h.store.Doctors.Get(r.Context(), viewerFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.doctorPage(w, r, http.StatusOK, d, doctorValues(d), nil)
}

func (h *handler) doctorPage(w http.ResponseWriter, r *http.Request, status int, doc *models.Doctor, vals url.Values, errs map[string][]string) {
	base := h.prefix + "/doctors/" + itoa(doc.ID)
	d := doctorData{Doctor: doc, Form: form{
		Heading: "Dr. " + doc.FullName(), Action: base, Submit: "Save changes", Cancel: h.prefix + "/doctors",
		Delete: base + "/delete", Sections: doctorSections(),
	}}
	d.Form.Problems = fill(d.Form.Sections, vals, errs)
	n := 100
	ms, err := h.store.Mappings.List(r.Context(), viewerFrom(r.Context()), models.MappingFilter{DoctorID: &doc.ID},
		models.PageRequest{First: &n, WithTotal: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Mappings, d.Total = ms.Items, ms.Total
	if ms.HasNext {
		d.More = h.prefix + "/mappings?doctor_id=" + itoa(doc.ID)
	}
	h.render(w, r, status, "doctor", "Dr. "+doc.FullName(), "doctors", d)
}

func (h *handler) updateDoctor(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx, v := r.Context(), viewerFrom(r.Context())
	in, perr := doctorPatch(r.PostForm)
	var err error
	var changed []string
	if len(perr) == 0 {
		_, changed, err = h.store.Doctors.Update(ctx, v, id, in, true)
	}
	errs := fieldErrors(err)
	if len(perr) > 0 {
		errs = merge(perr, in.Validate(today(), true))
	} else if err != nil && errs == nil {
		h.fail(w, r, err)
		return
	}
	if errs != nil {
		cur, gerr := h.store.Doctors.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.doctorPage(w, r, http.StatusBadRequest, cur, r.PostForm, errs)
		return
	}
	done := "saved"
	if len(changed) == 0 {
		done = "unchanged"
	}
	h.redirect(w, r, h.prefix+"/doctors/"+itoa(id), done)
}

func (h *handler) confirmDeleteDoctor(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx, v := r.Context(), viewerFrom(r.Context())
	doc, err := h.store.Doctors.Get(ctx, v, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	zero := 0
	ms, err := h.store.Mappings.List(ctx, v, models.MappingFilter{DoctorID: &id}, models.PageRequest{First: &zero, WithTotal: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := confirmData{
		Heading: "Delete Dr. " + doc.FullName() + "?",
		Message: "This permanently removes the doctor from the directory. It cannot be undone.",
		Action:  h.prefix + "/doctors/" + itoa(id) + "/delete", Cancel: h.prefix + "/doctors/" + itoa(id), Submit: "Delete doctor",
	}
	if ms.Total > 0 {
		d.Details = append(d.Details, countNoun(ms.Total, "patient assignment")+" of this doctor will be removed too.")
	}
	h.render(w, r, http.StatusOK, "confirm", "Delete doctor", "doctors", d)
}

func (h *handler) deleteDoctor(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	if err := h.store.Doctors.Delete(r.Context(), viewerFrom(r.Context()), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/doctors", "deleted")
}
