package graph

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/uptrace/bun"
	"github.com/vektah/gqlparser/v2/ast"

	"healthcare/database"
	"healthcare/models"
)

// The stores read only the columns an operation shows (database.Projection):
// a list of patients' names does not fetch, decode and decrypt their medical
// history. The columns come from the operation's selection: every field
// selected on Patient, Doctor or Mapping anywhere in the document (under
// @skip and @include too: a superset is safe), mapped to the columns that
// field is made of. It is worked out once per document and operation and
// cached.

// projector maps an operation to its Projection.
type projector struct {
	fields map[string]map[string][]string // type -> field -> columns
	cache  *lru.LRU[*database.Projection]
}

// computed fields and edges: the columns they are made of. Every other
// field is the column of its snake_case name; the keys (id, owner, the ids
// edges join by) are always read.
var derivedFields = map[string]map[string][]string{
	"Patient": {"fullName": {"first_name", "last_name"}, "age": {"date_of_birth"}, "doctors": nil, "mappings": nil},
	"Doctor":  {"fullName": {"first_name", "last_name"}, "patients": nil},
	"Mapping": {"patient": nil, "doctor": nil},
}

// newProjector maps the fields of Patient, Doctor and Mapping in schema to
// the columns of their models' tables. A field it cannot map makes any
// operation that selects it read every column of that table.
func newProjector(db *bun.DB, schema *ast.Schema) *projector {
	p := &projector{fields: map[string]map[string][]string{}, cache: lru.New[*database.Projection](queryCacheSize)}
	for name, model := range map[string]any{"Patient": models.Patient{}, "Doctor": models.Doctor{}, "Mapping": models.Mapping{}} {
		table := db.Dialect().Tables().Get(reflect.TypeOf(model))
		def := schema.Types[name]
		if def == nil || table == nil {
			continue
		}
		m := map[string][]string{}
		for _, f := range def.Fields {
			if cols, ok := derivedFields[name][f.Name]; ok {
				m[f.Name] = cols
				continue
			}
			switch f.Name {
			case "id", "nodeId", "__typename":
				m[f.Name] = nil
				continue
			}
			if col := snake(f.Name); table.FieldMap[col] != nil {
				m[f.Name] = []string{col}
			}
		}
		p.fields[name] = m
	}
	return p
}

// of returns the projection of the operation of oc (nil: every column).
func (p *projector) of(ctx context.Context, oc *graphql.OperationContext) *database.Projection {
	if oc == nil || oc.Doc == nil || oc.Operation == nil {
		return nil
	}
	key := oc.RawQuery + "\x00" + oc.OperationName
	if pr, ok := p.cache.Get(ctx, key); ok {
		return pr
	}
	pr := p.compute(oc.Operation.SelectionSet)
	p.cache.Add(ctx, key, pr)
	return pr
}

// compute walks set (fragments expanded once each) and gathers the columns
// of every field selected on the three types.
func (p *projector) compute(set ast.SelectionSet) *database.Projection {
	cols := map[string][]string{"Patient": {}, "Doctor": {}, "Mapping": {}}
	full := map[string]bool{}
	spread := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				p.add(s, cols, full)
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil && !spread[s.Name] {
					spread[s.Name] = true
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	walk(set)
	pick := func(t string) []string {
		if full[t] {
			return nil
		}
		return cols[t]
	}
	return &database.Projection{Patients: pick("Patient"), Doctors: pick("Doctor"), Mappings: pick("Mapping")}
}

// add records the columns of field f.
func (p *projector) add(f *ast.Field, cols map[string][]string, full map[string]bool) {
	if f.ObjectDefinition == nil || f.Name == "__typename" {
		return
	}
	on := f.ObjectDefinition
	if on.Kind != ast.Object {
		// A field of an interface or union may be any of its types'
		// columns; Node's one field is the id, which is always read.
		if on.Name == "Node" && f.Name == "nodeId" {
			return
		}
		for _, t := range []string{"Patient", "Doctor", "Mapping"} {
			full[t] = true
		}
		return
	}
	m, ok := p.fields[on.Name]
	if !ok {
		return // not a table of ours (connections, page info, users)
	}
	c, known := m[f.Name]
	if !known {
		full[on.Name] = true
		return
	}
	for _, col := range c {
		if !slices.Contains(cols[on.Name], col) {
			cols[on.Name] = append(cols[on.Name], col)
		}
	}
}

// snake is the snake_case of a camelCase GraphQL name (dateOfBirth ->
// date_of_birth).
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// projectionExt gives each operation's context its Projection, for the
// resolvers and the loaders' batches alike.
type projectionExt struct{ p *projector }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = projectionExt{}

func (projectionExt) ExtensionName() string                   { return "Projection" }
func (projectionExt) Validate(graphql.ExecutableSchema) error { return nil }

func (e projectionExt) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if pr := e.p.of(ctx, graphql.GetOperationContext(ctx)); pr != nil {
		ctx = database.WithProjection(ctx, pr)
	}
	return next(ctx)
}
