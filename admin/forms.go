package admin

import (
	"net/url"
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

func choices[T ~string](vals []T, label func(T) string, blank string) []option {
	var out []option
	if blank != "" {
		out = append(out, option{"", blank})
	}
	for _, v := range vals {
		out = append(out, option{string(v), label(v)})
	}
	return out
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

func bloodLabel(b models.BloodGroup) string { return string(b) }

// formParser turns submitted text into typed patch fields, collecting the
// errors of text that is not a number or a date at all; everything else is
// left to the models' validation.
type formParser struct {
	vals url.Values
	fe   models.FieldErrors
}

func (p *formParser) str(name string) *string {
	s := p.vals.Get(name)
	return &s
}

func (p *formParser) date(name string) *models.Date {
	s := strings.TrimSpace(p.vals.Get(name))
	if s == "" {
		return &models.Date{}
	}
	d, err := models.ParseDate(s)
	if err != nil {
		p.fe.Add(name, "Enter a valid date in the form YYYY-MM-DD.")
		return nil
	}
	return &d
}

func (p *formParser) integer(name string) *int {
	s := strings.TrimSpace(p.vals.Get(name))
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.fe.Add(name, "Enter a whole number.")
		return nil
	}
	return &n
}

func (p *formParser) id(name string) *int64 {
	s := strings.TrimSpace(p.vals.Get(name))
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.fe.Add(name, "Enter a whole number.")
		return nil
	}
	return &n
}

func (p *formParser) decimal(name string) *float64 {
	s := strings.TrimSpace(p.vals.Get(name))
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		p.fe.Add(name, "Enter a number.")
		return nil
	}
	return &f
}

func (p *formParser) boolean(name string) *bool {
	b := p.vals.Get(name) != ""
	return &b
}

// required returns nil for an empty choice, so validation says "This field
// is required." rather than that "" is not a valid choice.
func enumRequired[T ~string](vals url.Values, name string) *T {
	s := strings.TrimSpace(vals.Get(name))
	if s == "" {
		return nil
	}
	v := T(s)
	return &v
}

func enumOptional[T ~string](vals url.Values, name string) *T {
	v := T(strings.TrimSpace(vals.Get(name)))
	return &v
}

// merge adds the validation messages to the parse messages, except on
// fields that did not parse (their one message says why).
func merge(parse models.FieldErrors, verr error) map[string][]string {
	out := map[string][]string{}
	for k, v := range fieldErrors(verr) {
		if _, ok := parse[k]; !ok {
			out[k] = v
		}
	}
	for k, v := range parse {
		out[k] = v
	}
	return out
}

func today() models.Date { return models.DateOf(time.Now().UTC()) }

func optDate(d *models.Date) string {
	if d == nil || d.IsZero() {
		return ""
	}
	return d.String()
}

func checkbox(b bool) string {
	if b {
		return "on"
	}
	return ""
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtFee(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
