package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

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

// ComplexityStat is the key under which an operation's estimated cost (an
// int) is kept in its graphql.Stats, for metrics.
const ComplexityStat = "complexity"

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
		c := complexity.Calculate(ctx, l.schema, op, rc.Variables)
		rc.Stats.SetExtension(ComplexityStat, c)
		if c > lim.MaxComplexity {
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

// validationRules are gqlparser's rules plus intRange. Outside debug mode
// every rule's message loses its "Did you mean ...?" tail: gqlgen's
// switch only covers unknown fields, and suggestions for arguments, input
// fields, types and enum values would spell out what the schema holds to
// anyone who guesses near it.
func validationRules(debug bool) func() *rules.Rules {
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		r.AddRule(intRange.Name, intRange.RuleFunc)
		if fn, ok := r.GetInner()[rules.ValuesOfCorrectTypeRule.Name]; ok {
			r.ReplaceRule(rules.ValuesOfCorrectTypeRule.Name, withoutNonIntegerInt(fn))
		}
		if !debug {
			for name, fn := range r.GetInner() {
				r.ReplaceRule(name, withoutSuggestions(fn))
			}
		}
		return r
	}
}

// withoutSuggestions wraps a rule so that its errors end before " Did you
// mean".
func withoutSuggestions(fn core.RuleFunc) core.RuleFunc {
	return func(observers *core.Events, addError core.AddErrFunc) {
		fn(observers, func(options ...core.ErrorOption) {
			addError(append(options, stripSuggestion)...)
		})
	}
}

// withoutNonIntegerInt drops gqlparser's "Int cannot represent non-integer
// value" (for first: 1e40), which names no argument: intRange reports the
// same value with its argument.
func withoutNonIntegerInt(fn core.RuleFunc) core.RuleFunc {
	return func(observers *core.Events, addError core.AddErrFunc) {
		fn(observers, func(options ...core.ErrorOption) {
			var probe gqlerror.Error
			for _, o := range options {
				o(&probe)
			}
			if strings.HasPrefix(probe.Message, "Int cannot represent non-integer value") {
				return
			}
			addError(options...)
		})
	}
}

func stripSuggestion(err *gqlerror.Error) {
	if i := strings.Index(err.Message, " Did you mean "); i >= 0 {
		err.Message = err.Message[:i]
	}
}

// intRangeProblem is what an Int outside GraphQL's 32 bits is told.
const intRangeProblem = "must be a whole number from -2147483648 to 2147483647"

// intRange refuses an Int literal outside 32 bits (gqlparser takes any
// 64-bit one) or written as a float, naming the argument: first:
// 3000000000, first: 1e40.
var intRange = core.Rule{Name: "IntRange", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
	observers.OnField(func(w *core.Walker, f *ast.Field) {
		if f.Definition == nil {
			return
		}
		for _, arg := range f.Arguments {
			if def := f.Definition.Arguments.ForName(arg.Name); def != nil {
				checkIntLiteral(w.Schema, def.Type, arg.Value, `Argument "`+arg.Name, addError)
			}
		}
	})
	observers.OnVariable(func(w *core.Walker, vd *ast.VariableDefinition) {
		checkIntLiteral(w.Schema, vd.Type, vd.DefaultValue, `Default value of "$`+vd.Variable, addError)
	})
}}

// checkIntLiteral reports every Int in literal v (of type t) that is not
// a 32-bit whole number; what is the opening of the message, completed
// with the input field path and a closing quote.
func checkIntLiteral(schema *ast.Schema, t *ast.Type, v *ast.Value, what string, addError core.AddErrFunc) {
	if v == nil || t == nil {
		return
	}
	if t.Elem != nil {
		if v.Kind != ast.ListValue {
			checkIntLiteral(schema, t.Elem, v, what, addError)
			return
		}
		for _, c := range v.Children {
			checkIntLiteral(schema, t.Elem, c.Value, what, addError)
		}
		return
	}
	if t.NamedType == "Int" && (v.Kind == ast.IntValue || v.Kind == ast.FloatValue) {
		if _, err := strconv.ParseInt(v.Raw, 10, 32); err != nil || v.Kind == ast.FloatValue {
			addError(core.Message(`%s" %s.`, what, intRangeProblem), core.At(v.Position))
		}
		return
	}
	if def := schema.Types[t.NamedType]; def != nil && def.Kind == ast.InputObject && v.Kind == ast.ObjectValue {
		for _, c := range v.Children {
			if fd := def.Fields.ForName(c.Name); fd != nil {
				checkIntLiteral(schema, fd.Type, c.Value, what+"."+c.Name, addError)
			}
		}
	}
}

// checkVariables refuses an Int variable that is not a 32-bit whole number
// and a Float one too large for a double, with BAD_USER_INPUT naming the
// argument (and input field) it feeds. gqlparser would answer
// "cannot use value 0 as Int" for 1e40, and take 3000000000. A whole
// number written as a float (20.0, 2e1) is rewritten as an integer, as
// JavaScript clients cannot tell the two apart.
func checkVariables(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	for _, vd := range op.VariableDefinitions {
		val, ok := vars[vd.Variable]
		if !ok || val == nil {
			continue
		}
		fixed, at, problem := checkNumbers(schema, vd.Type, val, nil)
		if problem == "" {
			vars[vd.Variable] = fixed
			continue
		}
		arg := argumentOf(doc, op, vd.Variable)
		where := fmt.Sprintf(`Variable "$%s"`, vd.Variable)
		key := vd.Variable
		if arg != "" {
			where += fmt.Sprintf(` (argument "%s")`, arg)
			key = arg
		}
		path := ast.Path{ast.PathName("variable"), ast.PathName(vd.Variable)}
		if len(at) > 0 {
			where += fmt.Sprintf(`, field "%s"`, strings.Join(at, "."))
			key = at[len(at)-1]
			for _, a := range at {
				path = append(path, ast.PathName(a))
			}
		}
		return &gqlerror.Error{
			Message: where + ": " + problem + ".",
			Path:    path,
			Extensions: map[string]any{
				"code":   string(models.CodeInvalid),
				"fields": map[string][]string{key: {problem}},
			},
		}
	}
	return nil
}

// checkNumbers walks one variable's value along its type. It returns the
// value (with whole floats of Int rewritten), and on a problem the input
// field path where it lies and what is wrong.
func checkNumbers(schema *ast.Schema, t *ast.Type, v any, at []string) (any, []string, string) {
	if v == nil {
		return v, nil, ""
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return checkNumbers(schema, t.Elem, v, at)
		}
		for i, e := range list {
			fixed, where, problem := checkNumbers(schema, t.Elem, e, at)
			if problem != "" {
				return v, where, problem
			}
			list[i] = fixed
		}
		return list, nil, ""
	}
	switch t.NamedType {
	case "Int":
		n, ok := v.(json.Number)
		if !ok {
			return v, nil, "" // gqlparser judges strings, booleans and the rest
		}
		if _, err := strconv.ParseInt(string(n), 10, 32); err == nil {
			return v, nil, ""
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return v, at, intRangeProblem
		}
		return json.Number(strconv.FormatInt(int64(f), 10)), nil, ""
	case "Float":
		if n, ok := v.(json.Number); ok {
			if _, err := strconv.ParseFloat(string(n), 64); err != nil {
				return v, at, "must be a number no larger than about 1.8e308"
			}
		}
		return v, nil, ""
	}
	def := schema.Types[t.NamedType]
	m, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return v, nil, ""
	}
	for k, fv := range m {
		fd := def.Fields.ForName(k)
		if fd == nil {
			continue
		}
		fixed, where, problem := checkNumbers(schema, fd.Type, fv, append(at[:len(at):len(at)], k))
		if problem != "" {
			return v, where, problem
		}
		m[k] = fixed
	}
	return m, nil, ""
}

// argumentOf names the argument that variable name feeds first in op
// (following its fragments), or "" if none does.
func argumentOf(doc *ast.QueryDocument, op *ast.OperationDefinition, name string) string {
	seen := map[string]bool{}
	var uses func(v *ast.Value) bool
	uses = func(v *ast.Value) bool {
		if v == nil {
			return false
		}
		if v.Kind == ast.Variable && v.Raw == name {
			return true
		}
		for _, c := range v.Children {
			if uses(c.Value) {
				return true
			}
		}
		return false
	}
	var find func(ast.SelectionSet) string
	find = func(set ast.SelectionSet) string {
		for _, sel := range set {
			var sub ast.SelectionSet
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					if uses(a.Value) {
						return a.Name
					}
				}
				sub = s.SelectionSet
			case *ast.InlineFragment:
				sub = s.SelectionSet
			case *ast.FragmentSpread:
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				if f := doc.Fragments.ForName(s.Name); f != nil {
					sub = f.SelectionSet
				}
			}
			if a := find(sub); a != "" {
				return a
			}
		}
		return ""
	}
	return find(op.SelectionSet)
}
