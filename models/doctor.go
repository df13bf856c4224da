package models

import (
	"math"
	"time"

	"github.com/uptrace/bun"
)

// Doctor is an entry in the shared doctor directory. Every signed-in user can
// read every doctor; only the user who created the entry (and superusers) can
// change or delete it.
type Doctor struct {
	bun.BaseModel `bun:"table:doctors,alias:d"`

	ID              int64          `bun:"id,pk,autoincrement" json:"id"`
	FirstName       string         `bun:"first_name,notnull" json:"first_name"`
	LastName        string         `bun:"last_name,notnull" json:"last_name"`
	Email           string         `bun:"email,notnull" json:"email"`
	Phone           string         `bun:"phone,notnull" json:"phone"`
	DateOfBirth     *Date          `bun:"date_of_birth,type:date" json:"date_of_birth"`
	Gender          *Gender        `bun:"gender" json:"gender"`
	Specialization  Specialization `bun:"specialization,notnull" json:"specialization"`
	Qualification   string         `bun:"qualification,notnull" json:"qualification"`
	LicenseNumber   string         `bun:"license_number,notnull" json:"license_number"`
	ExperienceYears int            `bun:"experience_years,notnull" json:"experience_years"`
	ClinicName      *string        `bun:"clinic_name" json:"clinic_name"`
	ClinicAddress   *string        `bun:"clinic_address" json:"clinic_address"`
	City            *string        `bun:"city" json:"city"`
	State           *string        `bun:"state" json:"state"`
	PostalCode      *string        `bun:"postal_code" json:"postal_code"`
	Country         *string        `bun:"country" json:"country"`
	ConsultationFee Money          `bun:"consultation_fee,notnull,type:numeric(10,2)" json:"consultation_fee"`
	AvailableDays   *string        `bun:"available_days" json:"available_days"`
	AvailableTime   *string        `bun:"available_time" json:"available_time"`
	Bio             *string        `bun:"bio" json:"bio"`
	LanguagesSpoken *string        `bun:"languages_spoken" json:"languages_spoken"`
	IsAvailable     bool           `bun:"is_available,notnull" json:"is_available"`
	CreatedBy       *int64         `bun:"created_by" json:"-"`
	CreatedAt       time.Time      `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt       time.Time      `bun:"updated_at,notnull" json:"updated_at"`
}

// FullName is "first last" (the REST contract's full_name; no "Dr." prefix,
// which clients add if they want it).
func (d *Doctor) FullName() string { return d.FirstName + " " + d.LastName }

// DoctorInput is a whole directory entry as a client gives it: to create
// one, or to replace one (PUT). Required fields must be present.
type DoctorInput struct {
	FirstName       *string         `json:"first_name"`
	LastName        *string         `json:"last_name"`
	Email           *string         `json:"email"`
	Phone           *string         `json:"phone"`
	DateOfBirth     *Date           `json:"date_of_birth"`
	Gender          *Gender         `json:"gender"`
	Specialization  *Specialization `json:"specialization"`
	Qualification   *string         `json:"qualification"`
	LicenseNumber   *string         `json:"license_number"`
	ExperienceYears *int            `json:"experience_years"`
	ClinicName      *string         `json:"clinic_name"`
	ClinicAddress   *string         `json:"clinic_address"`
	City            *string         `json:"city"`
	State           *string         `json:"state"`
	PostalCode      *string         `json:"postal_code"`
	Country         *string         `json:"country"`
	ConsultationFee *float64        `json:"consultation_fee"`
	AvailableDays   *string         `json:"available_days"`
	AvailableTime   *string         `json:"available_time"`
	Bio             *string         `json:"bio"`
	LanguagesSpoken *string         `json:"languages_spoken"`
	IsAvailable     *bool           `json:"is_available"`
	// Unreadable holds the fields a transport could not decode; Validate
	// reports them with the others.
	Unreadable FieldErrors `json:"-"`
}

// DoctorPatch changes the fields of a doctor that it carries.
type DoctorPatch DoctorInput

// Validate checks the input against DoctorEntity, normalizing in place.
func (in *DoctorInput) Validate(today Date) error { return validate(DoctorEntity, in, true, today) }

// Validate checks the present fields against DoctorEntity, normalizing in place.
func (in *DoctorPatch) Validate(today Date) error { return validate(DoctorEntity, in, false, today) }

// Patch is in as a patch that sets every field it carries.
func (in *DoctorInput) Patch() *DoctorPatch { return (*DoctorPatch)(in) }

// Apply sets the present fields on d and returns the changed column names.
func (in *DoctorPatch) Apply(d *Doctor) []string {
	var ch changes
	setStr(&ch, "first_name", &d.FirstName, in.FirstName)
	setStr(&ch, "last_name", &d.LastName, in.LastName)
	setStr(&ch, "email", &d.Email, in.Email)
	setStr(&ch, "phone", &d.Phone, in.Phone)
	setOpt(&ch, "date_of_birth", &d.DateOfBirth, in.DateOfBirth)
	setOpt(&ch, "gender", &d.Gender, in.Gender)
	setVal(&ch, "specialization", &d.Specialization, in.Specialization)
	setStr(&ch, "qualification", &d.Qualification, in.Qualification)
	setStr(&ch, "license_number", &d.LicenseNumber, in.LicenseNumber)
	setVal(&ch, "experience_years", &d.ExperienceYears, in.ExperienceYears)
	setOpt(&ch, "clinic_name", &d.ClinicName, in.ClinicName)
	setOpt(&ch, "clinic_address", &d.ClinicAddress, in.ClinicAddress)
	setOpt(&ch, "city", &d.City, in.City)
	setOpt(&ch, "state", &d.State, in.State)
	setOpt(&ch, "postal_code", &d.PostalCode, in.PostalCode)
	setOpt(&ch, "country", &d.Country, in.Country)
	if in.ConsultationFee != nil {
		fee := Money(math.Round(*in.ConsultationFee*100) / 100)
		setVal(&ch, "consultation_fee", &d.ConsultationFee, &fee)
	}
	setOpt(&ch, "available_days", &d.AvailableDays, in.AvailableDays)
	setOpt(&ch, "available_time", &d.AvailableTime, in.AvailableTime)
	setOpt(&ch, "bio", &d.Bio, in.Bio)
	setOpt(&ch, "languages_spoken", &d.LanguagesSpoken, in.LanguagesSpoken)
	setVal(&ch, "is_available", &d.IsAvailable, in.IsAvailable)
	return ch
}

// DoctorFilter selects doctors. Search matches a case-insensitive substring
// of the full name, specialization or city.
type DoctorFilter struct {
	Search         string
	Specialization *Specialization
	City           string
	IsAvailable    *bool
	MinExperience  *int
	MaxFee         *float64
}
