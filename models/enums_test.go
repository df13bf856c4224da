package models_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"healthcare/models"
)

func TestBloodGroupSpellings(t *testing.T) {
	// The expected spellings are written out, not derived from the package.
	tests := []struct {
		group models.BloodGroup
		json  string // REST and database
		gql   string
	}{
		{models.BloodAPos, `"A+"`, "A_POS"},
		{models.BloodANeg, `"A-"`, "A_NEG"},
		{models.BloodBPos, `"B+"`, "B_POS"},
		{models.BloodBNeg, `"B-"`, "B_NEG"},
		{models.BloodABPos, `"AB+"`, "AB_POS"},
		{models.BloodABNeg, `"AB-"`, "AB_NEG"},
		{models.BloodOPos, `"O+"`, "O_POS"},
		{models.BloodONeg, `"O-"`, "O_NEG"},
	}
	if len(models.BloodGroups) != len(tests) {
		t.Fatalf("len(BloodGroups) = %d, want %d", len(models.BloodGroups), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.gql, func(t *testing.T) {
			if !slices.Contains(models.BloodGroups, tt.group) || !tt.group.IsValid() {
				t.Fatalf("%q missing from BloodGroups or not valid", tt.group)
			}
			b, err := json.Marshal(tt.group)
			if err != nil || string(b) != tt.json {
				t.Fatalf("json.Marshal = %s, %v; want %s", b, err, tt.json)
			}
			var fromJSON models.BloodGroup
			if err := json.Unmarshal([]byte(tt.json), &fromJSON); err != nil || fromJSON != tt.group {
				t.Fatalf("json.Unmarshal(%s) = %q, %v", tt.json, fromJSON, err)
			}
			if got := tt.group.GQLName(); got != tt.gql {
				t.Errorf("GQLName = %q, want %q", got, tt.gql)
			}
			var w bytes.Buffer
			tt.group.MarshalGQL(&w)
			if want := `"` + tt.gql + `"`; w.String() != want {
				t.Errorf("MarshalGQL wrote %s, want %s", w.String(), want)
			}
			var fromGQL models.BloodGroup
			if err := fromGQL.UnmarshalGQL(tt.gql); err != nil || fromGQL != tt.group {
				t.Errorf("UnmarshalGQL(%q) = %q, %v; want %q", tt.gql, fromGQL, err, tt.group)
			}
			if got, ok := models.ParseBloodGroupGQL(tt.gql); !ok || got != tt.group {
				t.Errorf("ParseBloodGroupGQL(%q) = %q, %v", tt.gql, got, ok)
			}
		})
	}
}

func TestBloodGroupUnmarshalGQLRejects(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{"json_spelling", "A+"},
		{"lower_case", "a_pos"},
		{"unknown", "C_POS"},
		{"empty", ""},
		{"integer", 1},
		{"nil", nil},
		{"bytes", []byte("A_POS")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := models.BloodONeg
			if err := b.UnmarshalGQL(tt.in); err == nil {
				t.Fatalf("UnmarshalGQL(%#v) = nil, want error", tt.in)
			}
			if b != models.BloodONeg {
				t.Errorf("value changed to %q on error", b)
			}
		})
	}
	t.Run("parse_unknown", func(t *testing.T) {
		if _, ok := models.ParseBloodGroupGQL("A+"); ok {
			t.Fatal(`ParseBloodGroupGQL("A+") ok, want false`)
		}
	})
}

// gqlEnum is one of the enums spelled the same in GraphQL, REST and the
// database.
type gqlEnum interface {
	UnmarshalGQL(any) error
}

func TestPlainEnumsGQL(t *testing.T) {
	type enumCase struct {
		name    string
		valid   []string // every value, written out
		invalid []any
		fresh   func() (gqlEnum, func() string, func(string) string) // target, its value, MarshalGQL of a value
	}
	cases := []enumCase{
		{
			name:    "Gender",
			valid:   []string{"M", "F", "O"},
			invalid: []any{"m", "MALE", "", "X", 1, nil},
			fresh: func() (gqlEnum, func() string, func(string) string) {
				var g models.Gender
				return &g, func() string { return string(g) }, func(s string) string {
					var b bytes.Buffer
					models.Gender(s).MarshalGQL(&b)
					return b.String()
				}
			},
		},
		{
			name:    "MappingStatus",
			valid:   []string{"ACTIVE", "INACTIVE", "COMPLETED"},
			invalid: []any{"active", "DONE", "", true, nil},
			fresh: func() (gqlEnum, func() string, func(string) string) {
				var s models.MappingStatus
				return &s, func() string { return string(s) }, func(v string) string {
					var b bytes.Buffer
					models.MappingStatus(v).MarshalGQL(&b)
					return b.String()
				}
			},
		},
		{
			name: "Specialization",
			valid: []string{
				"CARDIOLOGY", "DERMATOLOGY", "ENDOCRINOLOGY", "GASTROENTEROLOGY", "GENERAL_MEDICINE",
				"GYNECOLOGY", "NEUROLOGY", "ONCOLOGY", "OPHTHALMOLOGY", "ORTHOPEDICS", "PEDIATRICS",
				"PSYCHIATRY", "PULMONOLOGY", "RADIOLOGY", "UROLOGY", "OTHER",
			},
			invalid: []any{"cardiology", "SURGERY", "General Medicine", "", 3.5, nil},
			fresh: func() (gqlEnum, func() string, func(string) string) {
				var s models.Specialization
				return &s, func() string { return string(s) }, func(v string) string {
					var b bytes.Buffer
					models.Specialization(v).MarshalGQL(&b)
					return b.String()
				}
			},
		},
	}
	lists := map[string][]string{
		"Gender":         toStrings(models.Genders),
		"MappingStatus":  toStrings(models.MappingStatuses),
		"Specialization": toStrings(models.Specializations),
	}
	for _, c := range cases {
		t.Run(c.name+"_list_complete", func(t *testing.T) {
			if !slices.Equal(lists[c.name], c.valid) {
				t.Fatalf("%s list = %q, want %q", c.name, lists[c.name], c.valid)
			}
		})
		for _, v := range c.valid {
			t.Run(c.name+"_"+v+"_round_trip", func(t *testing.T) {
				target, value, marshal := c.fresh()
				if err := target.UnmarshalGQL(v); err != nil {
					t.Fatalf("UnmarshalGQL(%q) = %v", v, err)
				}
				if value() != v {
					t.Fatalf("UnmarshalGQL(%q) set %q", v, value())
				}
				if got, want := marshal(v), `"`+v+`"`; got != want {
					t.Errorf("MarshalGQL wrote %s, want %s", got, want)
				}
			})
		}
		for _, v := range c.invalid {
			label := fmt.Sprintf("%v", v)
			if v == "" {
				label = "empty"
			}
			t.Run(c.name+"_rejects_"+label, func(t *testing.T) {
				target, value, _ := c.fresh()
				if err := target.UnmarshalGQL(v); err == nil {
					t.Fatalf("UnmarshalGQL(%#v) = nil, want error", v)
				}
				if value() != "" {
					t.Errorf("value set to %q on error", value())
				}
			})
		}
	}
}

func toStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
