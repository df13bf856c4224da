package rest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"healthcare/models"
)

// These tests hold the served OpenAPI document to the models field tables:
// a field rule changed in one and not the other fails them.

// tableSchema names the schemas of the document that carry the fields of
// one table.
type tableSchema struct {
	entity        *models.Entity
	create, patch string   // request schemas; patch is "" when there is none
	response      string   // the record as the API shows it
	createExtras  []string // create properties that are not table fields
	notInPatch    []string // table fields a patch cannot change
}

var tableSchemas = []tableSchema{
	{entity: models.PatientEntity, create: "PatientCreate", patch: "PatientPatch", response: "Patient"},
	{entity: models.DoctorEntity, create: "DoctorCreate", patch: "DoctorPatch", response: "Doctor"},
	// A mapping's patient and doctor are set on create only.
	{entity: models.MappingEntity, create: "MappingCreate", patch: "MappingPatch", response: "Mapping",
		notInPatch: []string{"patient", "doctor"}},
	{entity: models.UserEntity, create: "RegisterRequest", response: "User",
		createExtras: []string{"password", "password_confirm"}},
}

// servedDoc is the document as /api/schema/ serves it, parsed afresh.
func servedDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIJSON())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// fieldProblems lists every disagreement between doc and the field tables.
func fieldProblems(doc *openapi3.T) []string {
	var out []string
	for _, ts := range tableSchemas {
		for _, name := range []string{ts.create, ts.patch, ts.response} {
			if name == "" {
				continue
			}
			s, ok := doc.Components.Schemas[name]
			if !ok || s.Value == nil {
				out = append(out, "no schema "+name)
				continue
			}
			full, patch := name == ts.create, name == ts.patch
			// The fields an input takes: a response has more (id, ...).
			fields := slices.DeleteFunc(slices.Clone(ts.entity.Fields), func(f models.Field) bool {
				return patch && slices.Contains(ts.notInPatch, f.Name)
			})
			if full || patch {
				for p := range s.Value.Properties {
					known := slices.ContainsFunc(fields, func(f models.Field) bool { return f.Name == p })
					if !known && !(full && slices.Contains(ts.createExtras, p)) {
						out = append(out, fmt.Sprintf("%s.%s is not a field of %s", name, p, ts.entity.Name))
					}
				}
			}
			if patch && len(s.Value.Required) > 0 {
				out = append(out, fmt.Sprintf("%s requires %v: a patch requires nothing", name, s.Value.Required))
			}
			for _, f := range fields {
				at := name + "." + f.Name
				p, ok := s.Value.Properties[f.Name]
				if !ok || p.Value == nil {
					out = append(out, at+" is missing")
					continue
				}
				out = append(out, propertyProblems(at, f, p.Value)...)
				if full {
					if req := slices.Contains(s.Value.Required, f.Name); req != f.Required {
						out = append(out, fmt.Sprintf("%s: required %v, the table says %v", at, req, f.Required))
					}
					if got := fmt.Sprint(p.Value.Default); f.Default != "" && got != f.Default {
						out = append(out, fmt.Sprintf("%s: default %s, the table says %s", at, got, f.Default))
					}
				} else if p.Value.Default != nil && patch {
					out = append(out, fmt.Sprintf("%s: a patch has no default", at))
				}
			}
		}
	}
	return out
}

// propertyProblems compares one property with its field.
func propertyProblems(at string, f models.Field, s *openapi3.Schema) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, at+": "+fmt.Sprintf(format, args...)) }
	typ, format, pattern := "string", "", ""
	switch f.Kind {
	case models.KindInt, models.KindRef:
		typ = "integer"
	case models.KindMoney:
		typ = "number"
	case models.KindBool:
		typ = "boolean"
	case models.KindEmail:
		format = "email"
	case models.KindBirthDate:
		format = "date"
	case models.KindPhone:
		pattern = models.PhonePattern
	}
	nullable := !f.Required && !f.NotNull
	want := []string{typ}
	if nullable {
		want = append(want, "null")
	}
	if got := s.Type.Slice(); !slices.Equal(got, want) {
		bad("type %v, want %v", got, want)
	}
	if s.Format != format {
		bad("format %q, want %q", s.Format, format)
	}
	if s.Pattern != pattern {
		bad("pattern %q, want %q", s.Pattern, pattern)
	}
	var maxLen uint64
	if s.MaxLength != nil {
		maxLen = *s.MaxLength
	}
	if maxLen != uint64(f.MaxLen) {
		bad("maxLength %d, the table says %d", maxLen, f.MaxLen)
	}
	var enum []any
	for _, e := range f.Enum {
		enum = append(enum, e)
	}
	if nullable && enum != nil {
		enum = append(enum, nil)
	}
	if !slices.Equal(s.Enum, enum) {
		bad("enum %v, the table says %v", s.Enum, enum)
	}
	bound := func(p *float64) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprint(*p)
	}
	wantMin, wantMax := "none", "none"
	switch f.Kind {
	case models.KindInt, models.KindMoney:
		wantMin, wantMax = fmt.Sprint(f.Min), fmt.Sprint(f.Max)
	case models.KindRef:
		wantMin = "1"
	}
	if got := bound(s.Min); got != wantMin {
		bad("minimum %s, want %s", got, wantMin)
	}
	if got := bound(s.Max); got != wantMax {
		bad("maximum %s, want %s", got, wantMax)
	}
	desc := f.Label + "."
	if f.Hint != "" {
		desc += " " + f.Hint
	}
	if s.Description != desc {
		bad("description %q, want the label and hint %q", s.Description, desc)
	}
	return out
}

func TestOpenAPIFollowsFieldTables(t *testing.T) {
	for _, p := range fieldProblems(servedDoc(t)) {
		t.Error(p)
	}
}

// TestOpenAPIFieldCheckFails proves the check above can fail: every kind of
// drift between the document and a table is reported.
func TestOpenAPIFieldCheckFails(t *testing.T) {
	prop := func(doc *openapi3.T, schema, name string) *openapi3.Schema {
		return doc.Components.Schemas[schema].Value.Properties[name].Value
	}
	n := uint64(99)
	drifts := map[string]func(*openapi3.T){
		"maxLength": func(d *openapi3.T) { prop(d, "PatientCreate", "first_name").MaxLength = &n },
		"maxLength in a response": func(d *openapi3.T) {
			prop(d, "Doctor", "bio").MaxLength = nil
		},
		"required dropped": func(d *openapi3.T) {
			s := d.Components.Schemas["DoctorCreate"].Value
			s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == "license_number" })
		},
		"required added": func(d *openapi3.T) {
			s := d.Components.Schemas["PatientCreate"].Value
			s.Required = append(s.Required, "city")
		},
		"required in a patch": func(d *openapi3.T) { d.Components.Schemas["MappingPatch"].Value.Required = []string{"status"} },
		"enum":                func(d *openapi3.T) { prop(d, "PatientPatch", "gender").Enum = []any{"M", "F"} },
		"enum in a response":  func(d *openapi3.T) { prop(d, "Mapping", "status").Enum = []any{"ACTIVE"} },
		"pattern":             func(d *openapi3.T) { prop(d, "DoctorPatch", "phone").Pattern = `^\+[0-9]+$` },
		"not nullable": func(d *openapi3.T) {
			prop(d, "PatientCreate", "city").Type = &openapi3.Types{"string"}
		},
		"maximum": func(d *openapi3.T) {
			prop(d, "DoctorCreate", "experience_years").WithMax(90)
		},
		"default": func(d *openapi3.T) { prop(d, "MappingCreate", "status").Default = "COMPLETED" },
		"missing field": func(d *openapi3.T) {
			delete(d.Components.Schemas["DoctorPatch"].Value.Properties, "bio")
		},
		"missing in a response": func(d *openapi3.T) {
			delete(d.Components.Schemas["Patient"].Value.Properties, "allergies")
		},
		"field a patch cannot change": func(d *openapi3.T) {
			d.Components.Schemas["MappingPatch"].Value.Properties["doctor"] = prop(d, "MappingCreate", "doctor").NewRef()
		},
		"extra field": func(d *openapi3.T) {
			d.Components.Schemas["RegisterRequest"].Value.Properties["nickname"] = openapi3.NewStringSchema().NewRef()
		},
		"hint": func(d *openapi3.T) { prop(d, "User", "email").Description = "Email." },
	}
	for name, drift := range drifts {
		t.Run(name, func(t *testing.T) {
			doc := servedDoc(t)
			drift(doc)
			if len(fieldProblems(doc)) == 0 {
				t.Error("not reported")
			}
		})
	}
}

// TestDocsPageShowsFieldRules checks that the reference page, rendered from
// the same document, shows a field's rules.
func TestDocsPageShowsFieldRules(t *testing.T) {
	page := string(docsHTML())
	for _, want := range []string{
		`<code>first_name</code> <span class="req">required</span>`,
		"string at most 100 characters",
		"matching " + models.PhonePattern,
		"one of ACTIVE, INACTIVE, COMPLETED default ACTIVE",
		`integer ≥ 0 ≤ 80`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the docs page does not show %q", want)
		}
	}
}
