package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"healthcare/models"
)

// mappingErrors returns the field messages of a failed assignment: the
// validation errors, or a patient or doctor that does not exist (NotFound
// from the store), shown on its field; nil for any other error.
func mappingErrors(err error) map[string][]string {
	if fe := fieldErrors(err); fe != nil {
		return fe
	}
	var me *models.Error
	if errors.As(err, &me) && me.Code == models.CodeNotFound {
		f := "doctor"
		if strings.HasPrefix(me.Message, "Patient") {
			f = "patient"
		}
		return map[string][]string{f: {models.MsgBadRef}}
	}
	return nil
}

// mappingLayout arranges the form that makes an assignment;
// mappingEditLayout the one that edits it (its patient and doctor never
// change).
var (
	mappingLayout     = layout{{"Who", []string{"patient", "doctor"}}, {"Assignment", []string{"status", "reason", "notes"}}}
	mappingEditLayout = layout{{"Assignment", []string{"status", "reason", "notes"}}}
)

// mappingColumns are the assignment list's columns; the keys are
// database.MappingStore.List's order_by names.
var mappingColumns = []sortable{
	{"ID", "id", true}, {"Patient", "patient_name", false}, {"Doctor", "doctor_name", false},
	{"Status", "status", false}, {"Reason", "", false}, {"Assigned", "created_at", false},
}

func (h *handler) listMappings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k := parseListQuery(q, mappingColumns)
	f := models.MappingFilter{Search: q.Get("search")}
	var ferr models.FieldErrors
	for name, dst := range map[string]**int64{"patient_id": &f.PatientID, "doctor_id": &f.DoctorID} {
		if s := strings.TrimSpace(q.Get(name)); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
				*dst = &n
			} else {
				ferr.Add(name, "Enter an id number.")
			}
		}
	}
	if s := models.MappingStatus(q.Get("status")); s.IsValid() {
		f.Status = &s
	}
	page, err := h.store.Mappings.List(r.Context(), viewerFrom(r.Context()), f, k.request())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fv, filtered := filterValues(q, "search", "patient_id", "doctor_id", "status")
	filters := []section{{Fields: []field{
		{Name: "search", Label: "Search", Type: "search", Placeholder: "Patient or doctor name"},
		{Name: "patient_id", Label: "Patient ID", Type: "number", Min: "1", Step: "1"},
		{Name: "doctor_id", Label: "Doctor ID", Type: "number", Min: "1", Step: "1"},
		{Name: "status", Label: "Status", Type: "select", Options: entityOptions(models.MappingEntity, "status", "Any")},
	}}}
	fill(filters, fv, ferr)
	d := &listData{
		Heading: "Assignments", Intro: "Which doctor is assigned to which patient.",
		NewHref: h.prefix + "/mappings/new", NewLabel: "Assign a doctor",
		Action: h.prefix + "/mappings", Filters: filters[0].Fields, Filtered: filtered, Clear: h.prefix + "/mappings",
		Empty: "No assignments match.",
	}
	items := listNav(d, r.URL, k, page, func(m *models.Mapping) int64 { return m.ID }, "assignment")
	d.Columns = k.columns(r.URL, mappingColumns)
	for _, m := range items {
		row := []cell{{Text: itoa(m.ID), Num: true, Href: h.prefix + "/mappings/" + itoa(m.ID)}}
		if m.Patient != nil {
			row = append(row, cell{Text: m.Patient.FullName(), Href: h.prefix + "/patients/" + itoa(m.PatientID)})
		} else {
			row = append(row, cell{Text: "#" + itoa(m.PatientID)})
		}
		if m.Doctor != nil {
			row = append(row, cell{Text: "Dr. " + m.Doctor.FullName(), Href: h.prefix + "/doctors/" + itoa(m.DoctorID)})
		} else {
			row = append(row, cell{Text: "#" + itoa(m.DoctorID)})
		}
		row = append(row, statusCell(m.Status), cell{Text: truncate(deref(m.Reason), 80)}, cell{Text: fmtTime(m.CreatedAt)})
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, http.StatusOK, "list", "Assignments", "mappings", d)
}

func statusCell(s models.MappingStatus) cell {
	b := "off"
	switch s {
	case models.StatusActive:
		b = "ok"
	case models.StatusCompleted:
		b = "warn"
	}
	return cell{Text: statusLabel(s), Badge: b}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (h *handler) newMapping(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vals := defaults(models.MappingEntity, mappingLayout.sections(models.MappingEntity))
	vals.Set("patient", q.Get("patient"))
	vals.Set("doctor", q.Get("doctor"))
	h.mappingForm(w, r, http.StatusOK, vals, nil)
}

func (h *handler) mappingForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, errs map[string][]string) {
	f := form{Heading: "Assign a doctor", Intro: "Tip: from a patient's page you can pick the doctor by name.",
		Action: h.prefix + "/mappings/new", Submit: "Assign", Cancel: h.prefix + "/mappings",
		Sections: mappingLayout.sections(models.MappingEntity)}
	f.Problems = fill(f.Sections, vals, errs)
	h.render(w, r, status, "form", "Assign a doctor", "mappings", f)
}

func (h *handler) createMapping(w http.ResponseWriter, r *http.Request) {
	var in models.MappingInput
	decode(models.MappingEntity, mappingLayout.sections(models.MappingEntity), r.PostForm, &in)
	m, err := h.store.Mappings.Create(r.Context(), viewerFrom(r.Context()), in)
	if errs := mappingErrors(err); errs != nil {
		h.mappingForm(w, r, http.StatusBadRequest, r.PostForm, errs)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, h.prefix+"/mappings/"+itoa(m.ID), "created")
}

// mappingData is the assignment page.
type mappingData struct {
	Form    form
	Mapping *models.Mapping
}

func (h *handler) showMapping(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	m, err := h.store.Mappings.Get(r.Context(), viewerFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.mappingPage(w, r, http.StatusOK, m, values(mappingEditLayout.sections(models.MappingEntity), m), nil)
}

func (h *handler) mappingPage(w http.ResponseWriter, r *http.Request, status int, m *models.Mapping, vals url.Values, errs map[string][]string) {
	base := h.prefix + "/mappings/" + itoa(m.ID)
	d := mappingData{Mapping: m, Form: form{
		Heading: "Assignment #" + itoa(m.ID), Action: base, Submit: "Save changes", Cancel: h.prefix + "/mappings",
		Delete: base + "/delete", Sections: mappingEditLayout.sections(models.MappingEntity),
	}}
	d.Form.Problems = fill(d.Form.Sections, vals, errs)
	h.render(w, r, status, "mapping", d.Form.Heading, "mappings", d)
}

func (h *handler) updateMapping(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	ctx, v := r.Context(), viewerFrom(r.Context())
	var in models.MappingPatch
	decode(models.MappingEntity, mappingEditLayout.sections(models.MappingEntity), r.PostForm, &in)
	_, changed, err := h.store.Mappings.Update(ctx, v, id, in)
	if fe := fieldErrors(err); fe != nil {
		m, gerr := h.store.Mappings.Get(ctx, v, id)
		if gerr != nil {
			h.fail(w, r, gerr)
			return
		}
		h.mappingPage(w, r, http.StatusBadRequest, m, r.PostForm, fe)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	done := "saved"
	if len(changed) == 0 {
		done = "unchanged"
	}
	h.redirect(w, r, h.prefix+"/mappings/"+itoa(id), done)
}

func (h *handler) confirmDeleteMapping(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	m, err := h.store.Mappings.Get(r.Context(), viewerFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	next := h.safeNext(r.URL.Query().Get("next"))
	if next == h.prefix+"/" {
		next = h.prefix + "/mappings"
	}
	d := confirmData{
		Heading: "Remove Dr. " + m.Doctor.FullName() + " from " + m.Patient.FullName() + "?",
		Message: "This deletes the assignment and its reason and notes. The patient and the doctor stay on record.",
		Action:  h.prefix + "/mappings/" + itoa(id) + "/delete", Cancel: next, Submit: "Remove assignment", Next: next,
	}
	h.render(w, r, http.StatusOK, "confirm", "Remove assignment", "mappings", d)
}

func (h *handler) deleteMapping(w http.ResponseWriter, r *http.Request) {
	id, ok := h.pathID(w, r)
	if !ok {
		return
	}
	if err := h.store.Mappings.Delete(r.Context(), viewerFrom(r.Context()), id); err != nil {
		h.fail(w, r, err)
		return
	}
	next := h.safeNext(r.PostForm.Get("next"))
	if next == h.prefix+"/" {
		next = h.prefix + "/mappings"
	}
	h.redirect(w, r, next, "unassigned")
}
