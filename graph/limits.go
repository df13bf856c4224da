package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcare/graph/model"
	"healthcare/models"
)

// Limits bound what one operation may ask for. Every limit is checked
// after parsing and validation and before anything executes, so an
// operation past a limit runs no resolver and no SQL.
type Limits struct {
	// MaxDepth is the deepest field nesting (introspection excluded).
	MaxDepth int
	// MaxComplexity is the largest estimated cost: each field costs 1, a
	// connection multiplies its nodes' cost by its first/last (20 when not
	// given), a nested list by EdgeFanOut.
	MaxComplexity int
	// MaxAliases is the most aliased fields in one operation.
	MaxAliases int
	// MaxRootFields is the most top-level fields in one operation.
	MaxRootFields int
}

// DefaultLimits are safe for the documented use: the N+1 guard's query
// (100 patients with their doctors and mappings) costs about 7,100.
var DefaultLimits = Limits{MaxDepth: 12, MaxComplexity: 10000, MaxAliases: 15, MaxRootFields: 10}

// EdgeFanOut is the assumed size of an unpaginated to-many edge
// (Patient.doctors) when estimating complexity.
const EdgeFanOut = 10

// authFields are the root fields that check credentials; one operation may
// contain at most one, so aliases cannot multiply guesses per request.
var authFields = map[string]bool{"login": true, "register": true, "refreshToken": true, "changePassword": true}

// CodeTooComplex is the extensions.code of a rejected operation.
const CodeTooComplex = "QUERY_TOO_COMPLEX"

type limitsExt struct {
	limits Limits
	schema graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = limitsExt{}

func (limitsExt) ExtensionName() string                   { return "Limits" }
func (limitsExt) Validate(graphql.ExecutableSchema) error { return nil }

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": CodeTooComplex},
	}
}

// MutateOperationContext rejects an operation past any limit.
func (l limitsExt) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Operation
	if op == nil {
		return nil
	}
	lim := l.limits
	roots, authRoots := 0, 0
	for _, f := range graphql.CollectFields(rc, op.SelectionSet, nil) {
		roots++
		if authFields[f.Name] {
			authRoots++
		}
	}
	if lim.MaxRootFields > 0 && roots > lim.MaxRootFields {
		return tooComplex("The operation has %d top-level fields; at most %d are allowed.", roots, lim.MaxRootFields)
	}
	if authRoots > 1 {
		return tooComplex("At most one of login, register, refreshToken and changePassword may appear in an operation.")
	}
	w := walker{doc: rc.Doc, seen: map[string]bool{}}
	depth := w.depth(op.SelectionSet, 0)
	if lim.MaxDepth > 0 && depth > lim.MaxDepth {
		return tooComplex("The operation is %d levels deep; at most %d are allowed.", depth, lim.MaxDepth)
	}
	if lim.MaxAliases > 0 && w.aliases > lim.MaxAliases {
		return tooComplex("The operation uses %d aliases; at most %d are allowed.", w.aliases, lim.MaxAliases)
	}
	if lim.MaxComplexity > 0 {
		if c := complexity.Calculate(ctx, l.schema, op, rc.Variables); c > lim.MaxComplexity {
			return tooComplex("The operation's estimated cost is %d; at most %d is allowed. Ask for smaller pages or fewer fields.", c, lim.MaxComplexity)
		}
	}
	return nil
}

// walker measures depth and counts aliases, following fragments once each.
type walker struct {
	doc     *ast.QueryDocument
	seen    map[string]bool
	aliases int
}

func (w *walker) depth(set ast.SelectionSet, d int) int {
	deepest := d
	for _, sel := range set {
		var sub int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue // introspection is governed by its own switch
			}
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			sub = w.depth(s.SelectionSet, d+1)
		case *ast.InlineFragment:
			sub = w.depth(s.SelectionSet, d)
		case *ast.FragmentSpread:
			if w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			if f := w.doc.Fragments.ForName(s.Name); f != nil {
				sub = w.depth(f.SelectionSet, d)
			}
			w.seen[s.Name] = false
		}
		deepest = max(deepest, sub)
	}
	return deepest
}

// pageCost is the multiplier of a connection: the page size it asks for.
func pageCost(first, last *int) int {
	switch {
	case first != nil && *first > 0:
		return *first
	case last != nil && *last > 0:
		return *last
	case first != nil || last != nil:
		return 1
	}
	return models.DefaultPageSize
}

// complexityRoot prices connections by their page size and to-many edges
// by EdgeFanOut; every other field costs 1 plus its children.
func complexityRoot() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Patients = func(child int, first *int, _ *string, last *int, _ *string, _ *model.PatientFilter) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Doctors = func(child int, first *int, _ *string, last *int, _ *string, _ *model.DoctorFilter) int {
		return 1 + child*pageCost(first, last)
	}
	c.Query.Mappings = func(child int, first *int, _ *string, last *int, _ *string, _ *model.MappingFilter) int {
		return 1 + child*pageCost(first, last)
	}
	c.Patient.Doctors = func(child int, _ *models.MappingStatus) int { return 1 + child*EdgeFanOut }
	c.Patient.Mappings = func(child int, _ *models.MappingStatus) int { return 1 + child*EdgeFanOut }
	c.Doctor.Patients = func(child int, _ *models.MappingStatus) int { return 1 + child*EdgeFanOut }
	return c
}
