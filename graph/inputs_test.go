package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	gqlparser "github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"healthcare/graph"
	"healthcare/models"
)

// These tests hold the GraphQL input types to the models field tables, the
// rules the resolvers validate with: a field added to, dropped from or made
// required in one and not the other fails them.

// tableInput is one input type carrying the fields of a table.
type tableInput struct {
	name   string
	entity *models.Entity
	create bool // a create input: required fields are non-null
	// skip are the table fields the input does not take.
	skip []string
	// extras are the input fields that are not table fields.
	extras []string
}

var tableInputs = []tableInput{
	{name: "PatientInput", entity: models.PatientEntity, create: true},
	{name: "PatientPatch", entity: models.PatientEntity},
	{name: "DoctorInput", entity: models.DoctorEntity, create: true},
	{name: "DoctorPatch", entity: models.DoctorEntity},
	{name: "MappingInput", entity: models.MappingEntity, create: true},
	// A mapping's patient and doctor are set on create only.
	{name: "MappingPatch", entity: models.MappingEntity, skip: []string{"patient", "doctor"}},
	// The password is checked by its own rules, not a table's.
	{name: "RegisterInput", entity: models.UserEntity, create: true, extras: []string{"password", "passwordConfirm"}},
}

// gqlFieldName is the GraphQL name of a table field: camelCase, and a
// reference to another record is its id (patient: patientId).
func gqlFieldName(f models.Field) string {
	parts := strings.Split(f.Name, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	name := strings.Join(parts, "")
	if f.Kind == models.KindRef {
		name += "Id"
	}
	return name
}

// gqlEnumValue is the GraphQL spelling of a stored enum value: blood
// groups have their own (A_POS for A+), the others are spelled alike.
func gqlEnumValue(v string) string {
	if b := models.BloodGroup(v); b.IsValid() {
		return b.GQLName()
	}
	return v
}

// scalarOf is the GraphQL type of a field kind; "" for an enum.
func scalarOf(k models.Kind) string {
	switch k {
	case models.KindBirthDate:
		return "Date"
	case models.KindInt:
		return "Int"
	case models.KindMoney:
		return "Float"
	case models.KindBool:
		return "Boolean"
	case models.KindRef:
		return "ID"
	case models.KindEnum:
		return ""
	}
	return "String"
}

func loadSDL(t *testing.T) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(graph.SDL())})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inputProblems lists every disagreement between the input types of s and
// the field tables.
func inputProblems(s *ast.Schema) []string {
	var out []string
	for _, ti := range tableInputs {
		def := s.Types[ti.name]
		if def == nil || def.Kind != ast.InputObject {
			out = append(out, "no input "+ti.name)
			continue
		}
		want := slices.Clone(ti.extras)
		for _, f := range ti.entity.Fields {
			if slices.Contains(ti.skip, f.Name) {
				continue
			}
			name := gqlFieldName(f)
			want = append(want, name)
			at := ti.name + "." + name
			gf := def.Fields.ForName(name)
			if gf == nil {
				out = append(out, fmt.Sprintf("%s is missing (%s.%s)", at, ti.entity.Name, f.Name))
				continue
			}
			if nonNull := gf.Type.NonNull; nonNull != (ti.create && f.Required) {
				out = append(out, fmt.Sprintf("%s: non-null %v, but required %v on %s", at, nonNull, f.Required,
					map[bool]string{true: "create", false: "a patch"}[ti.create]))
			}
			if gf.Type.Elem != nil {
				out = append(out, at+" is a list")
				continue
			}
			if scalar := scalarOf(f.Kind); scalar != "" {
				if gf.Type.NamedType != scalar {
					out = append(out, fmt.Sprintf("%s: type %s, want %s", at, gf.Type.NamedType, scalar))
				}
				continue
			}
			enum := s.Types[gf.Type.NamedType]
			if enum == nil || enum.Kind != ast.Enum {
				out = append(out, fmt.Sprintf("%s: type %s is not an enum", at, gf.Type.NamedType))
				continue
			}
			var got, values []string
			for _, v := range enum.EnumValues {
				got = append(got, v.Name)
			}
			for _, v := range f.Enum {
				values = append(values, gqlEnumValue(v))
			}
			if !slices.Equal(got, values) {
				out = append(out, fmt.Sprintf("%s: %s is %v, the table says %v", at, enum.Name, got, values))
			}
		}
		for _, gf := range def.Fields {
			if !slices.Contains(want, gf.Name) {
				out = append(out, fmt.Sprintf("%s.%s is not a field of %s", ti.name, gf.Name, ti.entity.Name))
			}
		}
	}
	return out
}

func TestInputsFollowFieldTables(t *testing.T) {
	for _, p := range inputProblems(loadSDL(t)) {
		t.Error(p)
	}
}

// TestInputCheckFails proves the check above can fail: every kind of drift
// between an input type and a table is reported.
func TestInputCheckFails(t *testing.T) {
	field := func(s *ast.Schema, input, name string) *ast.FieldDefinition {
		return s.Types[input].Fields.ForName(name)
	}
	drifts := map[string]func(*ast.Schema){
		"required made optional": func(s *ast.Schema) { field(s, "PatientInput", "lastName").Type.NonNull = false },
		"optional made required": func(s *ast.Schema) { field(s, "DoctorInput", "bio").Type.NonNull = true },
		"required in a patch":    func(s *ast.Schema) { field(s, "DoctorPatch", "email").Type.NonNull = true },
		"missing field": func(s *ast.Schema) {
			d := s.Types["PatientPatch"]
			d.Fields = slices.DeleteFunc(d.Fields, func(f *ast.FieldDefinition) bool { return f.Name == "allergies" })
		},
		"extra field": func(s *ast.Schema) {
			d := s.Types["RegisterInput"]
			d.Fields = append(d.Fields, &ast.FieldDefinition{Name: "nickname", Type: ast.NamedType("String", nil)})
		},
		"field a patch cannot change": func(s *ast.Schema) {
			d := s.Types["MappingPatch"]
			d.Fields = append(d.Fields, &ast.FieldDefinition{Name: "doctorId", Type: ast.NamedType("ID", nil)})
		},
		"type": func(s *ast.Schema) {
			field(s, "DoctorInput", "experienceYears").Type = ast.NonNullNamedType("Float", nil)
		},
		"enum value": func(s *ast.Schema) {
			e := s.Types["MappingStatus"]
			e.EnumValues = e.EnumValues[:len(e.EnumValues)-1]
		},
	}
	for name, drift := range drifts {
		t.Run(name, func(t *testing.T) {
			s := loadSDL(t)
			drift(s)
			if len(inputProblems(s)) == 0 {
				t.Error("not reported")
			}
		})
	}
}
