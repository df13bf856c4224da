package djangoimport

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"healthcare/auth"
	"healthcare/models"
)

// Problem is one source row the import refuses (Refused) or changes on its
// way in (a note: a specialization we do not have, an unusable password).
// It names the row by its Django table and id, never by its values.
type Problem struct {
	Table   string
	ID      int64
	Refused bool
	// Fields holds every failing field and its messages, as our validation
	// words them (field names are ours, which are Django's too).
	Fields models.FieldErrors
	// Reason says what is wrong when it is not one field's value.
	Reason string
}

// String is the problem on one line: "patients_patient id=42 refused:
// date_of_birth: must not be in the future; phone: Enter a valid ...".
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s id=%d", p.Table, p.ID)
	if p.Refused {
		b.WriteString(" refused")
	}
	b.WriteString(": ")
	var parts []string
	if p.Reason != "" {
		parts = append(parts, p.Reason)
	}
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(p.Fields[k], " "))
	}
	b.WriteString(strings.Join(parts, "; "))
	return b.String()
}

// addAll records the failing fields of a validation error (nothing for
// nil; an error without fields under "").
func (p *Problem) addAll(err error) {
	if err == nil {
		return
	}
	var e *models.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		p.Fields.Add("", err.Error())
		return
	}
	for f, msgs := range e.Fields {
		for _, m := range msgs {
			p.Fields.Add(f, m)
		}
	}
}

// The rows as they are written to our tables. Medical fields are already
// sealed (plain strings here, not models.Sensitive, which would seal again
// with the process-wide cipher).

type userRow struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64      `bun:"id,pk"`
	Name          string     `bun:"name"`
	Email         string     `bun:"email"`
	PasswordHash  string     `bun:"password_hash"`
	IsActive      bool       `bun:"is_active"`
	IsSuperuser   bool       `bun:"is_superuser"`
	DateJoined    time.Time  `bun:"date_joined"`
	LastLogin     *time.Time `bun:"last_login"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

var userColumns = []string{"id", "name", "email", "password_hash", "is_active", "is_superuser", "date_joined", "last_login", "updated_at"}

func (r *userRow) values() []any {
	return []any{r.ID, r.Name, r.Email, r.PasswordHash, r.IsActive, r.IsSuperuser, r.DateJoined, timeOrNil(r.LastLogin), r.UpdatedAt}
}

type patientRow struct {
	bun.BaseModel            `bun:"table:patients"`
	ID                       int64       `bun:"id,pk"`
	FirstName                string      `bun:"first_name"`
	LastName                 string      `bun:"last_name"`
	Email                    *string     `bun:"email"`
	Phone                    string      `bun:"phone"`
	DateOfBirth              models.Date `bun:"date_of_birth"`
	Gender                   string      `bun:"gender"`
	BloodGroup               *string     `bun:"blood_group"`
	Address                  *string     `bun:"address"`
	City                     *string     `bun:"city"`
	State                    *string     `bun:"state"`
	PostalCode               *string     `bun:"postal_code"`
	Country                  *string     `bun:"country"`
	MedicalHistory           *string     `bun:"medical_history"`
	Allergies                *string     `bun:"allergies"`
	CurrentMedications       *string     `bun:"current_medications"`
	EmergencyContactName     *string     `bun:"emergency_contact_name"`
	EmergencyContactPhone    *string     `bun:"emergency_contact_phone"`
	EmergencyContactRelation *string     `bun:"emergency_contact_relation"`
	IsActive                 bool        `bun:"is_active"`
	CreatedBy                int64       `bun:"created_by"`
	CreatedAt                time.Time   `bun:"created_at"`
	UpdatedAt                time.Time   `bun:"updated_at"`
}

var patientColumns = []string{
	"id", "first_name", "last_name", "email", "phone", "date_of_birth", "gender", "blood_group", "address", "city",
	"state", "postal_code", "country", "medical_history", "allergies", "current_medications", "emergency_contact_name",
	"emergency_contact_phone", "emergency_contact_relation", "is_active", "created_by", "created_at", "updated_at",
}

func (r *patientRow) values() []any {
	return []any{
		r.ID, r.FirstName, r.LastName, strOrNil(r.Email), r.Phone, r.DateOfBirth.Time, r.Gender, strOrNil(r.BloodGroup),
		strOrNil(r.Address), strOrNil(r.City), strOrNil(r.State), strOrNil(r.PostalCode), strOrNil(r.Country),
		strOrNil(r.MedicalHistory), strOrNil(r.Allergies), strOrNil(r.CurrentMedications),
		strOrNil(r.EmergencyContactName), strOrNil(r.EmergencyContactPhone), strOrNil(r.EmergencyContactRelation),
		r.IsActive, r.CreatedBy, r.CreatedAt, r.UpdatedAt,
	}
}

type doctorRow struct {
	bun.BaseModel   `bun:"table:doctors"`
	ID              int64        `bun:"id,pk"`
	FirstName       string       `bun:"first_name"`
	LastName        string       `bun:"last_name"`
	Email           string       `bun:"email"`
	Phone           string       `bun:"phone"`
	DateOfBirth     *models.Date `bun:"date_of_birth"`
	Gender          *string      `bun:"gender"`
	Specialization  string       `bun:"specialization"`
	Qualification   string       `bun:"qualification"`
	LicenseNumber   string       `bun:"license_number"`
	ExperienceYears int          `bun:"experience_years"`
	ClinicName      *string      `bun:"clinic_name"`
	ClinicAddress   *string      `bun:"clinic_address"`
	City            *string      `bun:"city"`
	State           *string      `bun:"state"`
	PostalCode      *string      `bun:"postal_code"`
	Country         *string      `bun:"country"`
	ConsultationFee float64      `bun:"consultation_fee"`
	AvailableDays   *string      `bun:"available_days"`
	AvailableTime   *string      `bun:"available_time"`
	Bio             *string      `bun:"bio"`
	LanguagesSpoken *string      `bun:"languages_spoken"`
	IsAvailable     bool         `bun:"is_available"`
	CreatedBy       *int64       `bun:"created_by"`
	CreatedAt       time.Time    `bun:"created_at"`
	UpdatedAt       time.Time    `bun:"updated_at"`
}

var doctorColumns = []string{
	"id", "first_name", "last_name", "email", "phone", "date_of_birth", "gender", "specialization", "qualification",
	"license_number", "experience_years", "clinic_name", "clinic_address", "city", "state", "postal_code", "country",
	"consultation_fee", "available_days", "available_time", "bio", "languages_spoken", "is_available", "created_by",
	"created_at", "updated_at",
}

func (r *doctorRow) values() []any {
	var dob, owner any
	if r.DateOfBirth != nil {
		dob = r.DateOfBirth.Time
	}
	if r.CreatedBy != nil {
		owner = *r.CreatedBy
	}
	return []any{
		r.ID, r.FirstName, r.LastName, r.Email, r.Phone, dob, strOrNil(r.Gender), r.Specialization, r.Qualification,
		r.LicenseNumber, int64(r.ExperienceYears), strOrNil(r.ClinicName), strOrNil(r.ClinicAddress), strOrNil(r.City),
		strOrNil(r.State), strOrNil(r.PostalCode), strOrNil(r.Country), r.ConsultationFee, strOrNil(r.AvailableDays),
		strOrNil(r.AvailableTime), strOrNil(r.Bio), strOrNil(r.LanguagesSpoken), r.IsAvailable, owner,
		r.CreatedAt, r.UpdatedAt,
	}
}

type mappingRow struct {
	bun.BaseModel `bun:"table:mappings"`
	ID            int64     `bun:"id,pk"`
	PatientID     int64     `bun:"patient_id"`
	DoctorID      int64     `bun:"doctor_id"`
	Reason        *string   `bun:"reason"`
	Notes         *string   `bun:"notes"`
	Status        string    `bun:"status"`
	CreatedBy     int64     `bun:"created_by"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

var mappingColumns = []string{"id", "patient_id", "doctor_id", "reason", "notes", "status", "created_by", "created_at", "updated_at"}

func (r *mappingRow) values() []any {
	return []any{r.ID, r.PatientID, r.DoctorID, strOrNil(r.Reason), strOrNil(r.Notes), r.Status, r.CreatedBy, r.CreatedAt, r.UpdatedAt}
}

func strOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func timeOrNil(p *time.Time) any {
	if p == nil {
		return nil
	}
	return *p
}

// optional turns Django's blank string (its "no value" for optional text)
// into our NULL.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ptr returns a pointer to a copy of s, for the models' patch types.
func ptr[T any](v T) *T { return &v }

// enumValue reads a Django choice value: trimmed, upper-cased (our
// spellings are Django's own, in capitals).
func enumValue(v any) string { return strings.ToUpper(strings.TrimSpace(text(v))) }

// Conversions: each takes a source row (columns in the order of its table's
// columns) and returns our row, or the problem that refuses it; notes are
// changes made on the way.

// convertUser reads an authentication_user row. Only the email is
// validated (normalized as our accounts are: trimmed, lower-cased); the
// encoded password hash is kept as it is when CheckPassword can read it,
// and otherwise kept behind the unusable prefix (the user resets it).
func convertUser(v []any, now time.Time) (*userRow, *Problem, []Problem) {
	id, _, _ := integer(v[0])
	p := &Problem{Table: TableUsers, ID: id, Refused: true}
	var notes []Problem
	note := func(reason string) { notes = append(notes, Problem{Table: TableUsers, ID: id, Reason: reason}) }
	r := &userRow{ID: id, UpdatedAt: now}
	r.PasswordHash = text(v[1])
	switch kind := auth.HashKind(r.PasswordHash); {
	case r.PasswordHash == "":
		r.PasswordHash = auth.UnusablePrefix
		note("password: empty; imported as unusable (the user must reset it)")
	case kind == "":
		algo, _, _ := strings.Cut(r.PasswordHash, "$")
		note(fmt.Sprintf("password: a %q hash cannot be verified here; imported as unusable (the user must reset it)", algo))
		r.PasswordHash = auth.UnusablePrefix + r.PasswordHash
	}
	var err error
	var ok bool
	var t time.Time
	if t, ok, err = timestamp(v[2]); err != nil {
		p.Fields.Add("last_login", err.Error())
	} else if ok {
		r.LastLogin = &t
	}
	if r.IsSuperuser, err = boolean(v[3]); err != nil {
		p.Fields.Add("is_superuser", err.Error())
	}
	r.Email = models.NormalizeEmail(text(v[4]))
	if !models.ValidEmail(r.Email) {
		p.Fields.Add("email", "Enter a valid email address.")
	}
	r.Name = strings.TrimSpace(text(v[5]))
	if r.Name == "" {
		note("name: blank")
	}
	if r.IsActive, err = boolean(v[6]); err != nil {
		p.Fields.Add("is_active", err.Error())
	}
	if staff, _ := boolean(v[7]); staff && !r.IsSuperuser {
		note("is_staff: there is no staff role here; imported as a regular account")
	}
	if r.DateJoined, ok, err = timestamp(v[8]); err != nil || !ok {
		p.Fields.Add("date_joined", "Enter a valid date and time.")
	}
	if p.Fields != nil {
		return nil, p, notes
	}
	return r, nil, notes
}

// convertPatient reads a patients_patient row and validates it as our API
// validates a new patient (the same normalization too: trimmed text,
// lower-cased email, phone without separators), sealing the medical fields.
func convertPatient(v []any, today models.Date, seal func(string) (*string, error)) (*patientRow, *Problem, error) {
	id, _, _ := integer(v[0])
	p := &Problem{Table: TablePatients, ID: id, Refused: true}
	in := models.PatientInput{
		FirstName: ptr(text(v[1])), LastName: ptr(text(v[2])), Email: ptr(text(v[3])), Phone: ptr(text(v[4])),
		Gender: ptr(models.Gender(enumValue(v[6]))), BloodGroup: ptr(models.BloodGroup(enumValue(v[7]))),
		Address: ptr(text(v[8])), City: ptr(text(v[9])), State: ptr(text(v[10])), PostalCode: ptr(text(v[11])),
		Country: ptr(text(v[12])), MedicalHistory: ptr(text(v[13])), Allergies: ptr(text(v[14])),
		CurrentMedications: ptr(text(v[15])), EmergencyContactName: ptr(text(v[16])),
		EmergencyContactPhone: ptr(text(v[17])), EmergencyContactRelation: ptr(text(v[18])),
	}
	dob, ok, err := date(v[5])
	if err != nil {
		in.Unreadable.Add("date_of_birth", "Enter a valid date.")
	} else if ok {
		in.DateOfBirth = &dob
	} else {
		in.DateOfBirth = &models.Date{}
	}
	p.addAll(in.Validate(today))
	r := &patientRow{ID: id}
	if r.IsActive, err = boolean(v[19]); err != nil {
		p.Fields.Add("is_active", err.Error())
	}
	if r.CreatedAt, ok, err = timestamp(v[20]); err != nil || !ok {
		p.Fields.Add("created_at", "Enter a valid date and time.")
	}
	if r.UpdatedAt, ok, err = timestamp(v[21]); err != nil || !ok {
		p.Fields.Add("updated_at", "Enter a valid date and time.")
	}
	if r.CreatedBy, ok, err = integer(v[22]); err != nil || !ok {
		p.Fields.Add("created_by", "This field is required.")
	}
	if p.Fields != nil {
		return nil, p, nil
	}
	r.FirstName, r.LastName, r.Phone = *in.FirstName, *in.LastName, *in.Phone
	r.Email = optional(*in.Email)
	r.DateOfBirth = *in.DateOfBirth
	r.Gender = string(*in.Gender)
	r.BloodGroup = optional(string(*in.BloodGroup))
	r.Address, r.City, r.State = optional(*in.Address), optional(*in.City), optional(*in.State)
	r.PostalCode, r.Country = optional(*in.PostalCode), optional(*in.Country)
	r.EmergencyContactName = optional(*in.EmergencyContactName)
	r.EmergencyContactPhone = optional(*in.EmergencyContactPhone)
	r.EmergencyContactRelation = optional(*in.EmergencyContactRelation)
	for _, f := range [...]struct {
		dst **string
		src string
	}{{&r.MedicalHistory, *in.MedicalHistory}, {&r.Allergies, *in.Allergies}, {&r.CurrentMedications, *in.CurrentMedications}} {
		if f.src == "" {
			continue
		}
		if *f.dst, err = seal(f.src); err != nil {
			return nil, nil, err
		}
	}
	return r, nil, nil
}

// convertDoctor reads a doctors_doctor row and validates it as our API
// validates a new doctor. A specialization we do not have becomes OTHER,
// with a note naming the Django value.
func convertDoctor(v []any, today models.Date) (*doctorRow, *Problem, []Problem) {
	id, _, _ := integer(v[0])
	p := &Problem{Table: TableDoctors, ID: id, Refused: true}
	var notes []Problem
	spec := models.Specialization(enumValue(v[7]))
	if !spec.IsValid() {
		notes = append(notes, Problem{Table: TableDoctors, ID: id,
			Reason: fmt.Sprintf("specialization: %q is not one of ours; imported as OTHER", text(v[7]))})
		spec = "OTHER"
	}
	in := models.DoctorInput{
		FirstName: ptr(text(v[1])), LastName: ptr(text(v[2])), Email: ptr(text(v[3])), Phone: ptr(text(v[4])),
		Specialization: &spec, Qualification: ptr(text(v[8])), LicenseNumber: ptr(text(v[9])),
		ClinicName: ptr(text(v[11])), ClinicAddress: ptr(text(v[12])), City: ptr(text(v[13])), State: ptr(text(v[14])),
		PostalCode: ptr(text(v[15])), Country: ptr(text(v[16])), AvailableDays: ptr(text(v[18])),
		AvailableTime: ptr(text(v[19])), Bio: ptr(text(v[20])), LanguagesSpoken: ptr(text(v[21])),
	}
	if g := enumValue(v[6]); g != "" {
		in.Gender = ptr(models.Gender(g))
	}
	dob, ok, err := date(v[5])
	if err != nil {
		in.Unreadable.Add("date_of_birth", "Enter a valid date.")
	} else if ok {
		in.DateOfBirth = &dob
	}
	if n, ok, err := integer(v[10]); err != nil || !ok || n > math.MaxInt32 || n < math.MinInt32 {
		in.Unreadable.Add("experience_years", "A valid integer is required.")
	} else {
		in.ExperienceYears = ptr(int(n))
	}
	if fee, err := strconv.ParseFloat(strings.TrimSpace(text(v[17])), 64); err != nil {
		in.Unreadable.Add("consultation_fee", "A valid number is required.")
	} else {
		in.ConsultationFee = &fee
	}
	p.addAll(in.Validate(today))
	r := &doctorRow{ID: id}
	if r.IsAvailable, err = boolean(v[22]); err != nil {
		p.Fields.Add("is_available", err.Error())
	}
	if r.CreatedAt, ok, err = timestamp(v[23]); err != nil || !ok {
		p.Fields.Add("created_at", "Enter a valid date and time.")
	}
	if r.UpdatedAt, ok, err = timestamp(v[24]); err != nil || !ok {
		p.Fields.Add("updated_at", "Enter a valid date and time.")
	}
	if owner, ok, err := integer(v[25]); err != nil {
		p.Fields.Add("created_by", err.Error())
	} else if ok {
		r.CreatedBy = &owner
	}
	if p.Fields != nil {
		return nil, p, notes
	}
	r.FirstName, r.LastName, r.Email, r.Phone = *in.FirstName, *in.LastName, *in.Email, *in.Phone
	r.DateOfBirth = in.DateOfBirth
	if in.Gender != nil {
		r.Gender = ptr(string(*in.Gender))
	}
	r.Specialization, r.Qualification, r.LicenseNumber = string(spec), *in.Qualification, *in.LicenseNumber
	r.ExperienceYears = *in.ExperienceYears
	r.ClinicName, r.ClinicAddress = optional(*in.ClinicName), optional(*in.ClinicAddress)
	r.City, r.State, r.PostalCode, r.Country = optional(*in.City), optional(*in.State), optional(*in.PostalCode), optional(*in.Country)
	r.ConsultationFee = math.Round(*in.ConsultationFee*100) / 100
	r.AvailableDays, r.AvailableTime = optional(*in.AvailableDays), optional(*in.AvailableTime)
	r.Bio, r.LanguagesSpoken = optional(*in.Bio), optional(*in.LanguagesSpoken)
	return r, nil, notes
}

// convertMapping reads a mappings_patientdoctormapping row (with its
// patient's owner) and validates it as our API validates a new mapping.
// Its owner here (created_by) is its patient's owner, as for every mapping
// of ours: that is who sees and changes it. Django's assigned_by (who made
// the assignment) is not carried.
func convertMapping(v []any) (*mappingRow, *Problem) {
	id, _, _ := integer(v[0])
	p := &Problem{Table: TableMappings, ID: id, Refused: true}
	r := &mappingRow{ID: id}
	var ok bool
	var err error
	status := models.MappingStatus(enumValue(v[3]))
	in := models.MappingInput{PatientID: &r.PatientID, DoctorID: &r.DoctorID, Reason: ptr(text(v[1])), Notes: ptr(text(v[2])), Status: &status}
	if r.PatientID, ok, err = integer(v[8]); err != nil || !ok {
		in.Unreadable.Add("patient", "This field is required.")
	}
	if r.DoctorID, ok, err = integer(v[7]); err != nil || !ok {
		in.Unreadable.Add("doctor", "This field is required.")
	}
	if status == "" {
		p.Fields.Add("status", models.MsgBlank)
	}
	p.addAll(in.Validate())
	if r.CreatedAt, ok, err = timestamp(v[4]); err != nil || !ok {
		p.Fields.Add("assigned_date", "Enter a valid date and time.")
	}
	if r.UpdatedAt, ok, err = timestamp(v[5]); err != nil || !ok {
		p.Fields.Add("updated_at", "Enter a valid date and time.")
	}
	r.CreatedBy, _, _ = integer(v[9]) // the patient's owner (see the doc comment)
	if p.Fields != nil {
		return nil, p
	}
	r.Reason, r.Notes, r.Status = optional(*in.Reason), optional(*in.Notes), string(status)
	return r, nil
}
