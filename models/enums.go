package models

import (
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Gender is a person's gender as the contract spells it: M, F or O, in REST,
// GraphQL and the database alike.
type Gender string

// Genders.
const (
	GenderMale   Gender = "M"
	GenderFemale Gender = "F"
	GenderOther  Gender = "O"
)

// Genders lists every Gender.
var Genders = []Gender{GenderMale, GenderFemale, GenderOther}

// IsValid reports whether g is one of Genders.
func (g Gender) IsValid() bool { return slices.Contains(Genders, g) }

// MarshalGQL writes g as a GraphQL enum value.
func (g Gender) MarshalGQL(w io.Writer) { writeGQL(w, string(g)) }

// UnmarshalGQL reads a GraphQL enum value.
func (g *Gender) UnmarshalGQL(v any) error { return readGQL(v, "Gender", g, Gender.IsValid) }

// MappingStatus is the state of a doctor's assignment to a patient.
type MappingStatus string

// Mapping statuses.
const (
	StatusActive    MappingStatus = "ACTIVE"
	StatusInactive  MappingStatus = "INACTIVE"
	StatusCompleted MappingStatus = "COMPLETED"
)

// MappingStatuses lists every MappingStatus.
var MappingStatuses = []MappingStatus{StatusActive, StatusInactive, StatusCompleted}

// IsValid reports whether s is one of MappingStatuses.
func (s MappingStatus) IsValid() bool { return slices.Contains(MappingStatuses, s) }

// MarshalGQL writes s as a GraphQL enum value.
func (s MappingStatus) MarshalGQL(w io.Writer) { writeGQL(w, string(s)) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *MappingStatus) UnmarshalGQL(v any) error {
	return readGQL(v, "MappingStatus", s, MappingStatus.IsValid)
}

// Specialization is a doctor's field of medicine.
type Specialization string

// Specializations lists every Specialization; the constants are its elements.
var Specializations = []Specialization{
	"CARDIOLOGY", "DERMATOLOGY", "ENDOCRINOLOGY", "GASTROENTEROLOGY", "GENERAL_MEDICINE",
	"GYNECOLOGY", "NEUROLOGY", "ONCOLOGY", "OPHTHALMOLOGY", "ORTHOPEDICS", "PEDIATRICS",
	"PSYCHIATRY", "PULMONOLOGY", "RADIOLOGY", "UROLOGY", "OTHER",
}

// IsValid reports whether s is one of Specializations.
func (s Specialization) IsValid() bool { return slices.Contains(Specializations, s) }

// MarshalGQL writes s as a GraphQL enum value.
func (s Specialization) MarshalGQL(w io.Writer) { writeGQL(w, string(s)) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Specialization) UnmarshalGQL(v any) error {
	return readGQL(v, "Specialization", s, Specialization.IsValid)
}

// BloodGroup is an ABO/Rh blood group. Its value is the REST and database
// spelling ("A+"); GraphQL spells it A_POS, since "+" is not a name character.
type BloodGroup string

// Blood groups.
const (
	BloodAPos  BloodGroup = "A+"
	BloodANeg  BloodGroup = "A-"
	BloodBPos  BloodGroup = "B+"
	BloodBNeg  BloodGroup = "B-"
	BloodABPos BloodGroup = "AB+"
	BloodABNeg BloodGroup = "AB-"
	BloodOPos  BloodGroup = "O+"
	BloodONeg  BloodGroup = "O-"
)

// BloodGroups lists every BloodGroup.
var BloodGroups = []BloodGroup{BloodAPos, BloodANeg, BloodBPos, BloodBNeg, BloodABPos, BloodABNeg, BloodOPos, BloodONeg}

var bloodGQL = map[BloodGroup]string{
	BloodAPos: "A_POS", BloodANeg: "A_NEG", BloodBPos: "B_POS", BloodBNeg: "B_NEG",
	BloodABPos: "AB_POS", BloodABNeg: "AB_NEG", BloodOPos: "O_POS", BloodONeg: "O_NEG",
}

// IsValid reports whether b is one of BloodGroups.
func (b BloodGroup) IsValid() bool { _, ok := bloodGQL[b]; return ok }

// GQLName returns the GraphQL spelling of b (A_POS for "A+").
func (b BloodGroup) GQLName() string { return bloodGQL[b] }

// ParseBloodGroupGQL returns the BloodGroup whose GraphQL name is name.
func ParseBloodGroupGQL(name string) (BloodGroup, bool) {
	for b, n := range bloodGQL {
		if n == name {
			return b, true
		}
	}
	return "", false
}

// MarshalGQL writes b in its GraphQL spelling.
func (b BloodGroup) MarshalGQL(w io.Writer) { writeGQL(w, b.GQLName()) }

// UnmarshalGQL reads the GraphQL spelling (A_POS).
func (b *BloodGroup) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return invalidEnum("BloodGroup must be a string.")
	}
	bg, ok := ParseBloodGroupGQL(s)
	if !ok {
		return invalidEnum(fmt.Sprintf("%q is not a valid BloodGroup.", s))
	}
	*b = bg
	return nil
}

func writeGQL(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

func readGQL[T ~string](v any, name string, dst *T, valid func(T) bool) error {
	s, ok := v.(string)
	if !ok {
		return invalidEnum(fmt.Sprintf("%s must be a string.", name))
	}
	if !valid(T(s)) {
		return invalidEnum(fmt.Sprintf("%q is not a valid %s.", s, name))
	}
	*dst = T(s)
	return nil
}

// invalidEnum is the client's error for an enum value that is not one: an
// Invalid *Error, so that GraphQL answers it as BAD_USER_INPUT (on the
// field its path ends with) rather than as an internal error. The GraphQL
// validator refuses most bad enum literals and variables itself; this is
// what reaches the unmarshaler when it lets one through (a variable spelled
// a_pos for BloodGroup).
func invalidEnum(msg string) error { return &Error{Code: CodeInvalid, Message: msg} }
