package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"healthcare/models"
)

// doctorLayout arranges the doctor form.
var doctorLayout = layout{
	{"Personal details", []string{"first_name", "last_name", "email", "phone", "date_of_birth", "gender"}},
	{"Practice", []string{"specialization", "qualification", "license_number", "experience_years", "consultation_fee",
		"is_available", "available_days", "available_time", "languages_spoken", "bio"}},
	{"Clinic", []string{"clinic_name", "clinic_address", "city", "state", "postal_code", "country"}},
}

func doctorSections() []section { return doctorLayout.sections(models.DoctorEntity) }

// doctorInput reads a submitted doctor form: the whole entry.
func doctorInput(vals url.Values) models.DoctorInput {
	var in models.DoctorInput
	decode(models.DoctorEntity, doctorSections(), vals, &in)
	return in
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
		{Name: "specialization", Label: "Specialization", Type: "select", Options: entityOptions(models.DoctorEntity, "specialization", "Any")},
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
	h.doctorForm(w, r, http.StatusOK, defaults(models.DoctorEntity, doctorSections()), nil)
}

func (h *handler) doctorForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, errs map[string][]string) {
	f := form{Heading: "Add doctor", Action: h.prefix + "/doctors/new", Submit: "Save doctor", Cancel: h.prefix + "/doctors",
		Sections: doctorSections()}
	f.Problems = fill(f.Sections, vals, errs)
	h.render(w, r, status, "form", "Add doctor", "doctors", f)
}

func (h *handler) createDoctor(w http.ResponseWriter, r *http.Request) {
	d, err := h.store.Doctors.Create(r.Context(), viewerFrom(r.Context()), doctorInput(r.PostForm))
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
	h.doctorPage(w, r, http.StatusOK, d, values(doctorSections(), d), nil)
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
	_, changed, err := h.store.Doctors.Replace(ctx, v, id, doctorInput(r.PostForm))
	if errs := fieldErrors(err); errs != nil {
		cur, gerr := h.store.Doctors.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.doctorPage(w, r, http.StatusBadRequest, cur, r.PostForm, errs)
		return
	} else if err != nil {
		h.fail(w, r, err)
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
