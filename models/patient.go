package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Patient is a person whose care a user records. Only the user who created a
// patient (and superusers) can see or change it.
type Patient struct {
	bun.BaseModel `bun:"table:patients,alias:p"`

	ID          int64       `bun:"id,pk,autoincrement" json:"id"`
	FirstName   string      `bun:"first_name,notnull" json:"first_name"`
	LastName    string      `bun:"last_name,notnull" json:"last_name"`
	Email       *string     `bun:"email" json:"email"`
	Phone       string      `bun:"phone,notnull" json:"phone"`
	DateOfBirth Date        `bun:"date_of_birth,notnull,type:date" json:"date_of_birth"`
	Gender      Gender      `bun:"gender,notnull" json:"gender"`
	BloodGroup  *BloodGroup `bun:"blood_group" json:"blood_group"`
	Address     *string     `bun:"address" json:"address"`
	City        *string     `bun:"city" json:"city"`
	State       *string     `bun:"state" json:"state"`
	PostalCode  *string     `bun:"postal_code" json:"postal_code"`
	Country     *string     `bun:"country" json:"country"`
	// The medical fields are encrypted at rest (PatientEntity's Sensitive
	// fields): the stores seal them as they write and open them as they
	// read, so here they are always plain text.
	MedicalHistory           *string   `bun:"medical_history" json:"medical_history"`
	Allergies                *string   `bun:"allergies" json:"allergies"`
	CurrentMedications       *string   `bun:"current_medications" json:"current_medications"`
	EmergencyContactName     *string   `bun:"emergency_contact_name" json:"emergency_contact_name"`
	EmergencyContactPhone    *string   `bun:"emergency_contact_phone" json:"emergency_contact_phone"`
	EmergencyContactRelation *string   `bun:"emergency_contact_relation" json:"emergency_contact_relation"`
	IsActive                 bool      `bun:"is_active,notnull" json:"is_active"`
	CreatedBy                int64     `bun:"created_by,notnull" json:"-"`
	CreatedAt                time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt                time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// FullName is "first last".
func (p *Patient) FullName() string { return p.FirstName + " " + p.LastName }

// Age is the patient's age in whole years today (UTC).
func (p *Patient) Age() int { return p.DateOfBirth.Age(DateOf(time.Now().UTC())) }

// PatientInput is a whole patient as a client gives it: to create one, or
// to replace one (PUT). Required fields must be present. An empty string
// clears an optional field.
type PatientInput struct {
	FirstName                *string     `json:"first_name"`
	LastName                 *string     `json:"last_name"`
	Email                    *string     `json:"email"`
	Phone                    *string     `json:"phone"`
	DateOfBirth              *Date       `json:"date_of_birth"`
	Gender                   *Gender     `json:"gender"`
	BloodGroup               *BloodGroup `json:"blood_group"`
	Address                  *string     `json:"address"`
	City                     *string     `json:"city"`
	State                    *string     `json:"state"`
	PostalCode               *string     `json:"postal_code"`
	Country                  *string     `json:"country"`
	MedicalHistory           *string     `json:"medical_history"`
	Allergies                *string     `json:"allergies"`
	CurrentMedications       *string     `json:"current_medications"`
	EmergencyContactName     *string     `json:"emergency_contact_name"`
	EmergencyContactPhone    *string     `json:"emergency_contact_phone"`
	EmergencyContactRelation *string     `json:"emergency_contact_relation"`
	IsActive                 *bool       `json:"is_active"`
	// Unreadable holds the fields a transport could not decode; Validate
	// reports them with the others.
	Unreadable FieldErrors `json:"-"`
}

// PatientPatch changes the fields of a patient that it carries (PATCH, the
// GraphQL updatePatient); absent fields stay as they are.
type PatientPatch PatientInput

// Validate checks the input against PatientEntity, normalizing in place,
// and reports every failing field at once.
func (in *PatientInput) Validate(today Date) error { return validate(PatientEntity, in, true, today) }

// Validate checks the present fields against PatientEntity, normalizing in
// place, and reports every failing field at once.
func (in *PatientPatch) Validate(today Date) error { return validate(PatientEntity, in, false, today) }

// Patch is in as a patch that sets every field (absent optional ones stay
// unset, so a replacement does not clear what it does not name).
func (in *PatientInput) Patch() *PatientPatch { return (*PatientPatch)(in) }

// Apply sets the present fields on p and returns the names of the columns
// whose value changed.
func (in *PatientPatch) Apply(p *Patient) []string {
	var ch changes
	setStr(&ch, "first_name", &p.FirstName, in.FirstName)
	setStr(&ch, "last_name", &p.LastName, in.LastName)
	setOpt(&ch, "email", &p.Email, in.Email)
	setStr(&ch, "phone", &p.Phone, in.Phone)
	if in.DateOfBirth != nil && !in.DateOfBirth.Equal(p.DateOfBirth.Time) {
		p.DateOfBirth = *in.DateOfBirth
		ch = append(ch, "date_of_birth")
	}
	setVal(&ch, "gender", &p.Gender, in.Gender)
	setOpt(&ch, "blood_group", &p.BloodGroup, in.BloodGroup)
	setOpt(&ch, "address", &p.Address, in.Address)
	setOpt(&ch, "city", &p.City, in.City)
	setOpt(&ch, "state", &p.State, in.State)
	setOpt(&ch, "postal_code", &p.PostalCode, in.PostalCode)
	setOpt(&ch, "country", &p.Country, in.Country)
	setOpt(&ch, "medical_history", &p.MedicalHistory, in.MedicalHistory)
	setOpt(&ch, "allergies", &p.Allergies, in.Allergies)
	setOpt(&ch, "current_medications", &p.CurrentMedications, in.CurrentMedications)
	setOpt(&ch, "emergency_contact_name", &p.EmergencyContactName, in.EmergencyContactName)
	setOpt(&ch, "emergency_contact_phone", &p.EmergencyContactPhone, in.EmergencyContactPhone)
	setOpt(&ch, "emergency_contact_relation", &p.EmergencyContactRelation, in.EmergencyContactRelation)
	setVal(&ch, "is_active", &p.IsActive, in.IsActive)
	return ch
}

// PatientFilter selects patients. Search matches a case-insensitive substring
// of the full name, email or phone.
type PatientFilter struct {
	Search     string
	Gender     *Gender
	City       string
	IsActive   *bool
	BloodGroup *BloodGroup
}

// changes lists the columns a patch changed.
type changes []string

func setVal[T comparable](ch *changes, col string, dst *T, src *T) {
	if src != nil && *dst != *src {
		*dst = *src
		*ch = append(*ch, col)
	}
}

func setStr(ch *changes, col string, dst *string, src *string) { setVal(ch, col, dst, src) }

// setOpt sets a nullable column; the zero value clears it (stores NULL).
func setOpt[T comparable](ch *changes, col string, dst **T, src *T) {
	if src == nil {
		return
	}
	var zero T
	old := *dst
	if *src == zero {
		if old != nil {
			*dst = nil
			*ch = append(*ch, col)
		}
		return
	}
	if old == nil || *old != *src {
		v := *src
		*dst = &v
		*ch = append(*ch, col)
	}
}
