package models

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Kind is what a field holds. It decides how the field is normalized and
// checked (Validate), decoded (REST, the admin forms), described (OpenAPI)
// and shown (the admin console).
type Kind uint8

// Field kinds.
const (
	KindText      Kind = iota + 1 // one line of text
	KindMultiline                 // free text: tabs and line breaks allowed
	KindEmail                     // a mailbox, normalized (NFKC, lower case)
	KindPhone                     // E.164, spaces and dashes removed
	KindCode                      // an identifier printed in capitals (a licence number)
	KindBirthDate                 // a date of birth: not in the future, age at most MaxAge
	KindEnum                      // one of Field.Enum
	KindInt                       // a whole number between Field.Min and Field.Max
	KindMoney                     // an amount with at most 2 decimal places, Min to Max
	KindBool                      // true or false
	KindRef                       // the id of another record
)

// Field is one client-settable field of an entity: the one place its rules
// are written. Everything that checks, decodes, documents or renders the
// field reads them from here.
type Field struct {
	// Name is the snake_case name: REST's JSON key, the database column,
	// the key of Error.Fields (GraphQL converts it to camelCase).
	Name string
	// Label names the field for people (forms, documentation).
	Label string
	Kind  Kind
	// Required fields must be given on create and on a full replacement,
	// and may never be blank.
	Required bool
	// MaxLen bounds text kinds, in characters.
	MaxLen int
	// Min and Max bound KindInt and KindMoney.
	Min, Max float64
	// Enum lists the values of KindEnum, in their stored (REST) spelling.
	Enum []string
	// NotNull fields are optional but cannot be cleared: omitted on create
	// they take Default, and a blank value is refused.
	NotNull bool
	// Default is what an omitted optional field takes on create, as text
	// ("true", "ACTIVE"); empty means none (NULL).
	Default string
	// Hint says in one line what a client must know: format, units, who may
	// see it. It is the field's description in the OpenAPI document.
	Hint string
	// Sensitive fields are encrypted at rest.
	Sensitive bool
}

// Entity is the field table of one kind of record.
type Entity struct {
	Name   string // "Patient": messages and documentation
	Fields []Field
}

// Field returns the field called name.
func (e *Entity) Field(name string) (Field, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Limits shared by several fields.
const (
	// MaxAge is the oldest a date of birth may make a person, in years.
	MaxAge = 150
	// MaxExperienceYears bounds a doctor's years of practice.
	MaxExperienceYears = 80
	// MaxConsultationFee bounds a doctor's fee (numeric(10,2)).
	MaxConsultationFee = 99_999_999.99
)

// PhonePattern is the E.164 form every phone number takes once its spaces
// and dashes are removed: a plus, a country code that does not start with
// 0, and 8 to 15 digits in all.
const PhonePattern = `^\+[1-9][0-9]{7,14}$`

func enumNames[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

const phoneHint = "International (E.164) format, e.g. +919876543210; spaces and dashes are removed."

// UserEntity is the field table of accounts (what registration sets).
var UserEntity = &Entity{Name: "User", Fields: []Field{
	{Name: "name", Label: "Name", Kind: KindText, Required: true, MaxLen: 150, Hint: "The person's full name."},
	{Name: "email", Label: "Email", Kind: KindEmail, Required: true, MaxLen: 254,
		Hint: "Unique regardless of case; stored lower-cased."},
}}

// PatientEntity is the field table of patients.
var PatientEntity = &Entity{Name: "Patient", Fields: []Field{
	{Name: "first_name", Label: "First name", Kind: KindText, Required: true, MaxLen: 100},
	{Name: "last_name", Label: "Last name", Kind: KindText, Required: true, MaxLen: 100},
	{Name: "email", Label: "Email", Kind: KindEmail, MaxLen: 254},
	{Name: "phone", Label: "Phone", Kind: KindPhone, Required: true, MaxLen: 16, Hint: phoneHint},
	{Name: "date_of_birth", Label: "Date of birth", Kind: KindBirthDate, Required: true,
		Hint: "YYYY-MM-DD; not in the future, age at most 150 years."},
	{Name: "gender", Label: "Gender", Kind: KindEnum, Required: true, Enum: enumNames(Genders), Hint: "M, F or O."},
	{Name: "blood_group", Label: "Blood group", Kind: KindEnum, Enum: enumNames(BloodGroups)},
	{Name: "address", Label: "Address", Kind: KindMultiline, MaxLen: 500},
	{Name: "city", Label: "City", Kind: KindText, MaxLen: 100},
	{Name: "state", Label: "State", Kind: KindText, MaxLen: 100},
	{Name: "postal_code", Label: "Postal code", Kind: KindText, MaxLen: 20},
	{Name: "country", Label: "Country", Kind: KindText, MaxLen: 100},
	{Name: "medical_history", Label: "Medical history", Kind: KindMultiline, MaxLen: 10000, Sensitive: true,
		Hint: "Encrypted at rest."},
	{Name: "allergies", Label: "Allergies", Kind: KindMultiline, MaxLen: 5000, Sensitive: true, Hint: "Encrypted at rest."},
	{Name: "current_medications", Label: "Current medications", Kind: KindMultiline, MaxLen: 5000, Sensitive: true,
		Hint: "Encrypted at rest."},
	{Name: "emergency_contact_name", Label: "Emergency contact", Kind: KindText, MaxLen: 200},
	{Name: "emergency_contact_phone", Label: "Emergency contact phone", Kind: KindPhone, MaxLen: 16, Hint: phoneHint},
	{Name: "emergency_contact_relation", Label: "Emergency contact relation", Kind: KindText, MaxLen: 50},
	{Name: "is_active", Label: "Active patient", Kind: KindBool, NotNull: true, Default: "true",
		Hint: "Inactive patients stay on record; the is_active filter hides them."},
}}

// DoctorEntity is the field table of the doctor directory.
var DoctorEntity = &Entity{Name: "Doctor", Fields: []Field{
	{Name: "first_name", Label: "First name", Kind: KindText, Required: true, MaxLen: 100},
	{Name: "last_name", Label: "Last name", Kind: KindText, Required: true, MaxLen: 100},
	{Name: "email", Label: "Email", Kind: KindEmail, Required: true, MaxLen: 254, Hint: "Unique among doctors."},
	{Name: "phone", Label: "Phone", Kind: KindPhone, Required: true, MaxLen: 16, Hint: phoneHint},
	{Name: "date_of_birth", Label: "Date of birth", Kind: KindBirthDate, Hint: "YYYY-MM-DD; not in the future."},
	{Name: "gender", Label: "Gender", Kind: KindEnum, Enum: enumNames(Genders), Hint: "M, F or O."},
	{Name: "specialization", Label: "Specialization", Kind: KindEnum, Required: true, Enum: enumNames(Specializations)},
	{Name: "qualification", Label: "Qualification", Kind: KindText, Required: true, MaxLen: 200},
	{Name: "license_number", Label: "Licence number", Kind: KindCode, Required: true, MaxLen: 50,
		Hint: "Unique; stored in capitals."},
	{Name: "experience_years", Label: "Years of experience", Kind: KindInt, Required: true, Min: 0, Max: MaxExperienceYears},
	{Name: "clinic_name", Label: "Clinic", Kind: KindText, MaxLen: 200},
	{Name: "clinic_address", Label: "Clinic address", Kind: KindMultiline, MaxLen: 500},
	{Name: "city", Label: "City", Kind: KindText, MaxLen: 100},
	{Name: "state", Label: "State", Kind: KindText, MaxLen: 100},
	{Name: "postal_code", Label: "Postal code", Kind: KindText, MaxLen: 20},
	{Name: "country", Label: "Country", Kind: KindText, MaxLen: 100},
	{Name: "consultation_fee", Label: "Consultation fee", Kind: KindMoney, Required: true, Min: 0, Max: MaxConsultationFee,
		Hint: "In the clinic's currency, at most 2 decimal places."},
	{Name: "available_days", Label: "Available days", Kind: KindText, MaxLen: 100, Hint: "Free text, e.g. Mon-Fri."},
	{Name: "available_time", Label: "Available time", Kind: KindText, MaxLen: 100, Hint: "Free text, e.g. 09:00-17:00."},
	{Name: "bio", Label: "Biography", Kind: KindMultiline, MaxLen: 5000},
	{Name: "languages_spoken", Label: "Languages spoken", Kind: KindText, MaxLen: 200},
	{Name: "is_available", Label: "Accepting patients", Kind: KindBool, NotNull: true, Default: "true"},
}}

// MappingEntity is the field table of assignments. The patient and doctor
// are set on create only.
var MappingEntity = &Entity{Name: "Mapping", Fields: []Field{
	{Name: "patient", Label: "Patient", Kind: KindRef, Required: true, Hint: "The id of one of your patients."},
	{Name: "doctor", Label: "Doctor", Kind: KindRef, Required: true, Hint: "The id of a doctor."},
	{Name: "reason", Label: "Reason", Kind: KindMultiline, MaxLen: 2000},
	{Name: "notes", Label: "Notes", Kind: KindMultiline, MaxLen: 5000},
	{Name: "status", Label: "Status", Kind: KindEnum, Enum: enumNames(MappingStatuses), NotNull: true,
		Default: string(StatusActive)},
}}

// binding maps the fields of an entity to the struct fields (by json tag)
// of one input type, once per type.
type binding struct {
	fields []Field
	index  [][]int // struct field index of fields[i]
	probs  []int   // index of the Unreadable field
}

var bindings sync.Map // reflect.Type -> *binding

// bind returns the binding of e to the struct type t. Every field of e
// must have a struct field with its json tag, except those in skip: a
// missing one is a programming error, caught by the first test that
// validates the type.
func bind(e *Entity, t reflect.Type, skip ...string) *binding {
	if b, ok := bindings.Load(t); ok {
		return b.(*binding)
	}
	tags := map[string][]int{}
	var probs []int
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Type == reflect.TypeFor[FieldErrors]() && sf.Name == "Unreadable" {
			probs = sf.Index
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			tags[name] = sf.Index
		}
	}
	b := &binding{probs: probs}
	for _, f := range e.Fields {
		idx, ok := tags[f.Name]
		if !ok {
			if contains(skip, f.Name) {
				continue
			}
			panic(fmt.Sprintf("models: %s has no field for %s.%s", t, e.Name, f.Name))
		}
		b.fields = append(b.fields, f)
		b.index = append(b.index, idx)
	}
	if probs == nil {
		panic(fmt.Sprintf("models: %s has no Unreadable field", t))
	}
	v, _ := bindings.LoadOrStore(t, b)
	return v.(*binding)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
