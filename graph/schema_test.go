package graph_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	gqlparser "github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"healthcare/database/dbtest"
	"healthcare/graph"
)

// introspectionQuery asks for everything SDL can say: what graphql-js's
// getIntrospectionQuery asks with every option on.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

type ivTypeRef struct {
	Kind   string     `json:"kind"`
	Name   *string    `json:"name"`
	OfType *ivTypeRef `json:"ofType"`
}

type ivInput struct {
	Name              string    `json:"name"`
	Description       *string   `json:"description"`
	Type              ivTypeRef `json:"type"`
	DefaultValue      *string   `json:"defaultValue"`
	IsDeprecated      bool      `json:"isDeprecated"`
	DeprecationReason *string   `json:"deprecationReason"`
}

type ivSchema struct {
	Types []struct {
		Kind           string      `json:"kind"`
		Name           string      `json:"name"`
		Description    *string     `json:"description"`
		SpecifiedByURL *string     `json:"specifiedByURL"`
		IsOneOf        *bool       `json:"isOneOf"`
		InputFields    []ivInput   `json:"inputFields"`
		Interfaces     []ivTypeRef `json:"interfaces"`
		PossibleTypes  []ivTypeRef `json:"possibleTypes"`
		Fields         []struct {
			Name              string    `json:"name"`
			Description       *string   `json:"description"`
			Args              []ivInput `json:"args"`
			Type              ivTypeRef `json:"type"`
			IsDeprecated      bool      `json:"isDeprecated"`
			DeprecationReason *string   `json:"deprecationReason"`
		} `json:"fields"`
		EnumValues []struct {
			Name              string  `json:"name"`
			Description       *string `json:"description"`
			IsDeprecated      bool    `json:"isDeprecated"`
			DeprecationReason *string `json:"deprecationReason"`
		} `json:"enumValues"`
	} `json:"types"`
	Directives []struct {
		Name         string    `json:"name"`
		Description  *string   `json:"description"`
		IsRepeatable bool      `json:"isRepeatable"`
		Locations    []string  `json:"locations"`
		Args         []ivInput `json:"args"`
	} `json:"directives"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func typeOf(r ivTypeRef) *ast.Type {
	switch r.Kind {
	case "NON_NULL":
		t := typeOf(*r.OfType)
		t.NonNull = true
		return t
	case "LIST":
		return ast.ListType(typeOf(*r.OfType), nil)
	}
	return ast.NamedType(str(r.Name), nil)
}

// literal parses a default value as introspection prints it.
func literal(t *testing.T, s string) *ast.Value {
	t.Helper()
	doc, err := parser.ParseSchema(&ast.Source{Input: "input X { f: String = " + s + " }"})
	if err != nil {
		t.Fatalf("default value %q: %v", s, err)
	}
	return doc.Definitions[0].Fields[0].DefaultValue
}

func deprecated(is bool, reason *string) ast.DirectiveList {
	if !is {
		return nil
	}
	d := &ast.Directive{Name: "deprecated"}
	if reason != nil {
		d.Arguments = ast.ArgumentList{{Name: "reason", Value: &ast.Value{Kind: ast.StringValue, Raw: *reason}}}
	}
	return ast.DirectiveList{d}
}

func inputs(t *testing.T, in []ivInput) ast.ArgumentDefinitionList {
	var out ast.ArgumentDefinitionList
	for _, a := range in {
		d := &ast.ArgumentDefinition{Name: a.Name, Description: str(a.Description), Type: typeOf(a.Type),
			Directives: deprecated(a.IsDeprecated, a.DeprecationReason)}
		if a.DefaultValue != nil {
			d.DefaultValue = literal(t, *a.DefaultValue)
		}
		out = append(out, d)
	}
	return out
}

// sdlFromIntrospection rebuilds the schema document an introspection result
// describes, as gqlparser's AST (built-in scalars and the introspection
// types left out, as in SDL).
func sdlFromIntrospection(t *testing.T, s ivSchema) *ast.SchemaDocument {
	doc := &ast.SchemaDocument{}
	for _, ty := range s.Types {
		if strings.HasPrefix(ty.Name, "__") || slices.Contains([]string{"Int", "Float", "String", "Boolean", "ID"}, ty.Name) {
			continue
		}
		def := &ast.Definition{Name: ty.Name, Description: str(ty.Description)}
		switch ty.Kind {
		case "SCALAR":
			def.Kind = ast.Scalar
			if ty.SpecifiedByURL != nil {
				def.Directives = ast.DirectiveList{{Name: "specifiedBy", Arguments: ast.ArgumentList{{Name: "url", Value: &ast.Value{Kind: ast.StringValue, Raw: *ty.SpecifiedByURL}}}}}
			}
		case "OBJECT", "INTERFACE":
			def.Kind = ast.Object
			if ty.Kind == "INTERFACE" {
				def.Kind = ast.Interface
			}
			for _, i := range ty.Interfaces {
				def.Interfaces = append(def.Interfaces, str(i.Name))
			}
			for _, f := range ty.Fields {
				def.Fields = append(def.Fields, &ast.FieldDefinition{Name: f.Name, Description: str(f.Description),
					Arguments: inputs(t, f.Args), Type: typeOf(f.Type), Directives: deprecated(f.IsDeprecated, f.DeprecationReason)})
			}
		case "UNION":
			def.Kind = ast.Union
			for _, p := range ty.PossibleTypes {
				def.Types = append(def.Types, str(p.Name))
			}
		case "ENUM":
			def.Kind = ast.Enum
			for _, v := range ty.EnumValues {
				def.EnumValues = append(def.EnumValues, &ast.EnumValueDefinition{Name: v.Name, Description: str(v.Description),
					Directives: deprecated(v.IsDeprecated, v.DeprecationReason)})
			}
		case "INPUT_OBJECT":
			def.Kind = ast.InputObject
			if ty.IsOneOf != nil && *ty.IsOneOf {
				def.Directives = ast.DirectiveList{{Name: "oneOf"}}
			}
			for _, a := range inputs(t, ty.InputFields) {
				def.Fields = append(def.Fields, &ast.FieldDefinition{Name: a.Name, Description: a.Description, Type: a.Type,
					DefaultValue: a.DefaultValue, Directives: a.Directives})
			}
		default:
			t.Fatalf("type %s: unknown kind %s", ty.Name, ty.Kind)
		}
		doc.Definitions = append(doc.Definitions, def)
	}
	for _, d := range s.Directives {
		def := &ast.DirectiveDefinition{Name: d.Name, Description: str(d.Description), IsRepeatable: d.IsRepeatable,
			Arguments: inputs(t, d.Args)}
		for _, l := range d.Locations {
			def.Locations = append(def.Locations, ast.DirectiveLocation(l))
		}
		doc.Directives = append(doc.Directives, def)
	}
	return doc
}

// printed formats a loaded schema, sorted by name, without gqlparser's own
// prelude: the text two equal schemas share.
func printed(s *ast.Schema) string {
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(s)
	return b.String()
}

func directiveNames(list ast.DirectiveDefinitionList) []string {
	var names []string
	for _, d := range list {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	return names
}

// TestSDLEqualsIntrospection loads /graphql/schema.graphql and what
// introspection answers (with the default policy and a token) into
// gqlparser, and compares them: types, fields, arguments, descriptions,
// defaults and directives.
func TestSDLEqualsIntrospection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		e := newEnvWith(t, db, func(*graph.Options) {})
		tok, _ := e.signup("sdl@example.com")
		r := e.do(tok, introspectionQuery, nil)
		if r.Status != 200 || len(r.Errors) > 0 {
			t.Fatalf("introspection with a token: %d %s", r.Status, r.Raw)
		}
		var got struct {
			Data struct {
				Schema ivSchema `json:"__schema"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.Raw), &got); err != nil {
			t.Fatal(err)
		}
		fromIntro := sdlFromIntrospection(t, got.Data.Schema)
		var introText bytes.Buffer
		formatter.NewFormatter(&introText).FormatSchemaDocument(fromIntro)

		sdl := graph.SDL()
		sdlDoc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphql", Input: string(sdl)})
		if err != nil {
			t.Fatalf("the SDL does not parse: %v", err)
		}
		if a, b := directiveNames(sdlDoc.Directives), directiveNames(fromIntro.Directives); !slices.Equal(a, b) {
			t.Fatalf("directives differ: SDL %v, introspection %v", a, b)
		}
		a, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(sdl)})
		if err != nil {
			t.Fatalf("gqlparser does not load the SDL: %v", err)
		}
		b, err := gqlparser.LoadSchema(&ast.Source{Name: "introspection", Input: introText.String()})
		if err != nil {
			t.Fatalf("gqlparser does not load the introspected schema: %v", err)
		}
		pa, pb := printed(a), printed(b)
		if pa != pb {
			la, lb := strings.Split(pa, "\n"), strings.Split(pb, "\n")
			for i := range min(len(la), len(lb)) {
				if la[i] != lb[i] {
					t.Fatalf("SDL and introspection differ at line %d:\nSDL:           %s\nintrospection: %s", i+1, la[i], lb[i])
				}
			}
			t.Fatalf("SDL has %d lines, introspection %d", len(la), len(lb))
		}
		if !strings.Contains(pa, "patients(") || a.Types["Patient"] == nil {
			t.Fatalf("the compared schemas look empty:\n%.500s", pa)
		}
	})
}

// TestSchemaDescriptions fails on any type, field, argument, input field,
// enum value or directive of the served schema without a description.
func TestSchemaDescriptions(t *testing.T) {
	var blank []string
	described := 0
	check := func(what, desc string) {
		if strings.TrimSpace(desc) == "" {
			blank = append(blank, what)
			return
		}
		described++
	}
	s := graph.Schema
	names := make([]string, 0, len(s.Types))
	for name := range s.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def := s.Types[name]
		if strings.HasPrefix(name, "__") {
			continue // introspection's own types
		}
		check(name, def.Description)
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			check(name+"."+f.Name, f.Description)
			for _, a := range f.Arguments {
				check(name+"."+f.Name+"("+a.Name+")", a.Description)
			}
		}
		for _, v := range def.EnumValues {
			check(name+"."+v.Name, v.Description)
		}
	}
	for _, d := range s.Directives {
		check("@"+d.Name, d.Description)
		for _, a := range d.Arguments {
			check("@"+d.Name+"("+a.Name+")", a.Description)
		}
	}
	if len(blank) > 0 {
		t.Fatalf("%d schema elements have no description (%d do):\n  %s", len(blank), described, strings.Join(blank, "\n  "))
	}
	t.Logf("%d schema elements described", described)
}
