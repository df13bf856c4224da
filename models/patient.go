package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Patient is a person whose care a user records. Only the user who created a
// patient (and superusers) can see or change it.
type Patient struct {
	bun.BaseModel `bun:"table:patients,alias:p"`

	ID                       int64       `bun:"id,pk,autoincrement" json:"id"`
	FirstName                string      `bun:"first_name,notnull" json:"first_name"`
	LastName                 string      `bun:"last_name,notnull" json:"last_name"`
	Email                    *string     `bun:"email" json:"email"`
	Phone                    string      `bun:"phone,notnull" json:"phone"`
	DateOfBirth              Date        `bun:"date_of_birth,notnull,type:date" json:"date_of_birth"`
	Gender                   Gender      `bun:"gender,notnull" json:"gender"`
	BloodGroup               *BloodGroup `bun:"blood_group" json:"blood_group"`
	Address                  *string     `bun:"address" json:"address"`
	City                     *string     `bun:"city" json:"city"`
	State                    *string     `bun:"state" json:"state"`
	PostalCode               *string     `bun:"postal_code" json:"postal_code"`
	Country                  *string     `bun:"country" json:"country"`
	MedicalHistory           *Sensitive  `bun:"medical_history" json:"medical_history"`
	Allergies                *Sensitive  `bun:"allergies" json:"allergies"`
	CurrentMedications       *Sensitive  `bun:"current_medications" json:"current_medications"`
	EmergencyContactName     *string     `bun:"emergency_contact_name" json:"emergency_contact_name"`
	EmergencyContactPhone    *string     `bun:"emergency_contact_phone" json:"emergency_contact_phone"`
	EmergencyContactRelation *string     `bun:"emergency_contact_relation" json:"emergency_contact_relation"`
	IsActive                 bool        `bun:"is_active,notnull" json:"is_active"`
	CreatedBy                int64       `bun:"created_by,notnull" json:"-"`
	CreatedAt                time.Time   `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt                time.Time   `bun:"updated_at,notnull" json:"updated_at"`
}

// FullName is "first last".
func (p *Patient) FullName() string { return p.FirstName + " " + p.LastName }

// Age is the patient's age in whole years today (UTC).
func (p *Patient) Age() int { return p.DateOfBirth.Age(DateOf(time.Now().UTC())) }

// PatientPatch carries the fields of a patient a client sets: all of them on
// create (required ones must be present), only the present ones on update.
// An empty string clears an optional field.
type PatientPatch struct {
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
}

// Validate checks every present field, normalizing in place; with full set
// (create, or a full replacement) the required fields must be present too.
// It reports every failing field at once.
func (in *PatientPatch) Validate(today Date, full bool) error {
	c := checker{full: full}
	c.text("first_name", in.FirstName, true, 100)
	c.text("last_name", in.LastName, true, 100)
	c.email("email", in.Email, false)
	c.phone("phone", in.Phone, true)
	c.birthDate("date_of_birth", in.DateOfBirth, true, today)
	enumCheck(&c, "gender", in.Gender, true, Gender.IsValid, Genders)
	enumCheck(&c, "blood_group", in.BloodGroup, false, BloodGroup.IsValid, BloodGroups)
	c.text("address", in.Address, false, 500)
	c.text("city", in.City, false, 100)
	c.text("state", in.State, false, 100)
	c.text("postal_code", in.PostalCode, false, 20)
	c.text("country", in.Country, false, 100)
	c.text("medical_history", in.MedicalHistory, false, 10000)
	c.text("allergies", in.Allergies, false, 5000)
	c.text("current_medications", in.CurrentMedications, false, 5000)
	c.text("emergency_contact_name", in.EmergencyContactName, false, 200)
	c.phone("emergency_contact_phone", in.EmergencyContactPhone, false)
	c.text("emergency_contact_relation", in.EmergencyContactRelation, false, 50)
	return c.fe.Err()
}

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
	setOpt(&ch, "medical_history", &p.MedicalHistory, (*Sensitive)(in.MedicalHistory))
	setOpt(&ch, "allergies", &p.Allergies, (*Sensitive)(in.Allergies))
	setOpt(&ch, "current_medications", &p.CurrentMedications, (*Sensitive)(in.CurrentMedications))
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
