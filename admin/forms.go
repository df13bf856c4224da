package admin

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"healthcare/models"
)

// field is one form control, rendered by the "field" template with its
// label, hint and error messages tied to it for screen readers.
type field struct {
	Name         string
	Label        string
	Type         string // text, email, tel, date, number, password, select, textarea, checkbox, search
	Value        string
	Checked      bool
	Options      []option
	Required     bool
	Hint         string
	Errors       []string
	Min, Max     string
	Step         string
	MaxLen       int
	Autocomplete string
	Placeholder  string
	Wide         bool // spans the whole row of the form grid
}

type option struct{ Value, Label string }

// section is a fieldset of a form.
type section struct {
	Legend string
	Fields []field
}

// problem is one line of a form's error summary, linking to its field.
type problem struct{ Field, Label, Message string }

// form is a whole edit form.
type form struct {
	Heading  string
	Intro    string
	Action   string
	Submit   string
	Cancel   string
	Delete   string // link to the delete confirmation, if any
	Sections []section
	Problems []problem
}

// fill sets the values of the sections' fields from vals and their error
// messages from errs, and returns the error summary (including errors on
// names no field has, such as a whole-record message).
func fill(sections []section, vals url.Values, errs map[string][]string) []problem {
	var out []problem
	seen := map[string]bool{}
	for i := range sections {
		for j := range sections[i].Fields {
			f := &sections[i].Fields[j]
			if f.Type == "checkbox" {
				f.Checked = vals.Get(f.Name) != ""
			} else if f.Type != "password" {
				f.Value = vals.Get(f.Name)
			}
			f.Errors = errs[f.Name]
			seen[f.Name] = true
			for _, m := range f.Errors {
				out = append(out, problem{Field: "f-" + f.Name, Label: f.Label, Message: m})
			}
		}
	}
	for name, msgs := range errs {
		if !seen[name] {
			for _, m := range msgs {
				out = append(out, problem{Label: name, Message: m})
			}
		}
	}
	return out
}

// layout is how a form arranges the fields of an entity: which go in
// which fieldset, in what order. Everything else about a field (label,
// input type, required, limits, choices, hint) is read from the entity's
// field table (models.Entity).
type layout []struct {
	Legend string
	Fields []string
}

// sections returns the form's fieldsets for the fields of e laid out by l.
// A name e does not have is a programming error.
func (l layout) sections(e *models.Entity) []section {
	out := make([]section, len(l))
	for i, s := range l {
		out[i].Legend = s.Legend
		for _, name := range s.Fields {
			f, ok := e.Field(name)
			if !ok {
				panic(fmt.Sprintf("admin: %s has no field %q", e.Name, name))
			}
			out[i].Fields = append(out[i].Fields, control(f))
		}
	}
	return out
}

// control is the form control of an entity field.
func control(f models.Field) field {
	c := field{Name: f.Name, Label: f.Label, Required: f.Required, MaxLen: f.MaxLen, Hint: f.Hint, Autocomplete: "off"}
	switch f.Kind {
	case models.KindMultiline:
		c.Type, c.Wide = "textarea", true
	case models.KindEmail:
		c.Type = "email"
	case models.KindPhone:
		// MaxLen bounds the number once its spaces and dashes are gone:
		// the browser must not stop people typing them.
		c.Type, c.MaxLen = "tel", 0
	case models.KindBirthDate:
		c.Type = "date"
	case models.KindEnum:
		blank := ""
		switch {
		case f.Required:
			blank = "Choose…"
		case !f.NotNull:
			blank = "Not given"
		}
		c.Type, c.Options = "select", enumOptions(f, blank)
		if enumLabels[f.Name] != nil {
			// The hint spells the stored values; the choices show them
			// by name.
			c.Hint = ""
		}
	case models.KindInt:
		c.Type, c.Min, c.Max, c.Step = "number", num(f.Min), num(f.Max), "1"
	case models.KindMoney:
		c.Type, c.Min, c.Max, c.Step = "number", num(f.Min), num(f.Max), "0.01"
	case models.KindRef:
		c.Type, c.Min, c.Step = "number", "1", "1"
	case models.KindBool:
		c.Type, c.Autocomplete = "checkbox", ""
	default: // KindText, KindCode
		c.Type = "text"
	}
	return c
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// enumLabels are the human names of enum values, by field name; a value
// without one shows as it is stored (blood groups: "A+").
var enumLabels = map[string]func(string) string{
	"gender":         func(s string) string { return genderLabel(models.Gender(s)) },
	"specialization": func(s string) string { return specLabel(models.Specialization(s)) },
	"status":         func(s string) string { return statusLabel(models.MappingStatus(s)) },
}

// enumOptions are the choices of an enum field, after a blank one labelled
// blank (none if blank is "").
func enumOptions(f models.Field, blank string) []option {
	var out []option
	if blank != "" {
		out = append(out, option{"", blank})
	}
	label := enumLabels[f.Name]
	for _, v := range f.Enum {
		l := v
		if label != nil {
			l = label(v)
		}
		out = append(out, option{v, l})
	}
	return out
}

// entityOptions are the choices of the enum field name of e (for filters).
func entityOptions(e *models.Entity, name, blank string) []option {
	f, ok := e.Field(name)
	if !ok {
		panic(fmt.Sprintf("admin: %s has no field %q", e.Name, name))
	}
	return enumOptions(f, blank)
}

var genderLabels = map[models.Gender]string{models.GenderMale: "Male", models.GenderFemale: "Female", models.GenderOther: "Other"}

func genderLabel(g models.Gender) string {
	if l, ok := genderLabels[g]; ok {
		return l
	}
	return string(g)
}

func specLabel(s models.Specialization) string {
	w := strings.Split(strings.ToLower(string(s)), "_")
	for i := range w {
		if w[i] != "" {
			w[i] = strings.ToUpper(w[i][:1]) + w[i][1:]
		}
	}
	return strings.Join(w, " ")
}

func statusLabel(s models.MappingStatus) string { return specLabel(models.Specialization(s)) }

// Messages for submitted text that is not a value of the field's kind at
// all; the models' validation judges everything else.
const (
	msgBadDate   = "Enter a valid date in the form YYYY-MM-DD."
	msgBadInt    = "Enter a whole number."
	msgBadNumber = "Enter a number."
)

var (
	dateType       = reflect.TypeFor[models.Date]()
	fieldErrorType = reflect.TypeFor[models.FieldErrors]()
)

// decode reads the submitted form vals into in (a pointer to a models
// input or patch) for the fields the sections show, matching them to in's
// fields by json tag and to the entity e for their kind. A form sends
// every field it shows, so an empty optional field clears it, and an
// unchecked box is false. An empty required or not-null choice, number or
// id is left unset (validation then says it is required, or the default
// applies). Text that does not decode (a bad date, a non-number) is left
// unset and named in in's Unreadable field, so that one Validate, inside
// the store call, reports it with every other failing field.
func decode(e *models.Entity, sections []section, vals url.Values, in any) {
	v := reflect.ValueOf(in).Elem()
	t := v.Type()
	byName := map[string]int{}
	unreadable := -1
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Name == "Unreadable" && sf.Type == fieldErrorType {
			unreadable = i
			continue
		}
		if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name != "" && name != "-" {
			byName[name] = i
		}
	}
	var bad models.FieldErrors
	for _, s := range sections {
		for _, c := range s.Fields {
			f, ok := e.Field(c.Name)
			i, has := byName[c.Name]
			if !ok || !has {
				continue
			}
			if msg := set(v.Field(i), f, vals.Get(c.Name)); msg != "" {
				bad.Add(f.Name, msg)
			}
		}
	}
	if unreadable < 0 {
		panic(fmt.Sprintf("admin: %s has no Unreadable field", t))
	}
	v.Field(unreadable).Set(reflect.ValueOf(bad))
}

// set sets dst (a pointer field) from the submitted text raw, as field f,
// and returns why it could not ("" when it could, or left it unset).
func set(dst reflect.Value, f models.Field, raw string) string {
	s := strings.TrimSpace(raw)
	p := reflect.New(dst.Type().Elem())
	x := p.Elem()
	switch f.Kind {
	case models.KindBool:
		x.SetBool(raw != "")
	case models.KindEnum:
		if s == "" && (f.Required || f.NotNull) {
			return ""
		}
		x.SetString(s)
	case models.KindBirthDate:
		if s != "" {
			d, err := models.ParseDate(s)
			if err != nil {
				return msgBadDate
			}
			x.Set(reflect.ValueOf(d))
		}
	case models.KindInt, models.KindRef:
		if s == "" {
			return ""
		}
		n, err := strconv.ParseInt(s, 10, x.Type().Bits())
		if err != nil {
			return msgBadInt
		}
		x.SetInt(n)
	case models.KindMoney:
		if s == "" {
			return ""
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return msgBadNumber
		}
		x.SetFloat(n)
	default: // text kinds: validation trims and normalizes
		x.SetString(raw)
	}
	dst.Set(p)
	return ""
}

// values returns the form values of the fields the sections show, read
// from rec (a pointer to a record: models.Patient, Doctor or Mapping) by
// json tag.
func values(sections []section, rec any) url.Values {
	v := reflect.ValueOf(rec).Elem()
	t := v.Type()
	byName := map[string]int{}
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			byName[name] = i
		}
	}
	out := url.Values{}
	for _, s := range sections {
		for _, c := range s.Fields {
			if i, ok := byName[c.Name]; ok {
				out.Set(c.Name, text(v.Field(i)))
			}
		}
	}
	return out
}

// text is how a form shows a field's value.
func text(x reflect.Value) string {
	if x.Kind() == reflect.Pointer {
		if x.IsNil() {
			return ""
		}
		x = x.Elem()
	}
	if x.Type() == dateType {
		d := x.Interface().(models.Date)
		if d.IsZero() {
			return ""
		}
		return d.String()
	}
	switch x.Kind() {
	case reflect.String:
		return x.String()
	case reflect.Bool:
		if x.Bool() {
			return "on"
		}
		return ""
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(x.Int(), 10)
	case reflect.Float64, reflect.Float32:
		return strconv.FormatFloat(x.Float(), 'f', 2, 64)
	}
	return fmt.Sprint(x.Interface())
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtFee(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// defaults are the values a new record's form starts with: the defaults
// of the entity's fields the sections show.
func defaults(e *models.Entity, sections []section) url.Values {
	out := url.Values{}
	for _, s := range sections {
		for _, c := range s.Fields {
			f, ok := e.Field(c.Name)
			if !ok || f.Default == "" {
				continue
			}
			if f.Kind == models.KindBool {
				if f.Default == "true" {
					out.Set(f.Name, "on")
				}
				continue
			}
			out.Set(f.Name, f.Default)
		}
	}
	return out
}
