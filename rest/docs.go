package rest

import (
	"bytes"
	"fmt"
	"healthcare/web"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The reference page at /api/docs/, rendered on the server from the OpenAPI
// document: no scripts, no assets from elsewhere (clinics run offline).

// Page models: what the template ranges over.
type pageOp struct {
	Method, Path, ID, Summary, Description string
	Public                                 bool
	Params                                 []pageParam
	Body                                   template.HTML
	Responses                              []pageResponse
}

type pageParam struct{ Name, In, Type, Description string }

type pageResponse struct {
	Status, Description string
	Schema              template.HTML
}

type pageTag struct {
	Name, Description string
	Ops               []pageOp
}

type pageField struct {
	Name, Description string
	Type              template.HTML
	Required          bool
}

type pageSchema struct {
	Name, Description string
	Fields            []pageField
	Type              template.HTML
}

// typeHTML describes s in a line: a link for a $ref, the type with its
// format, enum and bounds otherwise.
func typeHTML(r *openapi3.SchemaRef) template.HTML {
	if r == nil {
		return ""
	}
	if r.Ref != "" {
		name := template.HTMLEscapeString(r.Ref[strings.LastIndex(r.Ref, "/")+1:])
		return template.HTML(`<a href="#schema-` + name + `">` + name + `</a>`)
	}
	s := r.Value
	if s.Type.Is(openapi3.TypeArray) && s.Items != nil {
		return "array of " + typeHTML(s.Items)
	}
	var parts []string
	if !s.Type.IsEmpty() {
		parts = append(parts, strings.Join(s.Type.Slice(), " | "))
	}
	if s.Format != "" {
		parts = append(parts, "("+s.Format+")")
	}
	if s.Const != nil {
		parts = append(parts, fmt.Sprintf("= %v", s.Const))
	}
	if len(s.Enum) > 0 {
		es := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			es[i] = "null"
			if e != nil {
				es[i] = fmt.Sprint(e)
			}
		}
		parts = append(parts, "one of "+strings.Join(es, ", "))
	}
	if s.Min != nil {
		parts = append(parts, fmt.Sprintf("≥ %g", *s.Min))
	}
	if s.Max != nil {
		parts = append(parts, fmt.Sprintf("≤ %g", *s.Max))
	}
	if s.MaxLength != nil {
		parts = append(parts, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.Pattern != "" {
		parts = append(parts, "matching "+s.Pattern)
	}
	if s.Default != nil {
		parts = append(parts, fmt.Sprintf("default %v", s.Default))
	}
	if s.AdditionalProperties.Schema != nil {
		parts = append(parts, "map of field → messages")
	}
	return template.HTML(template.HTMLEscapeString(strings.Join(parts, " ")))
}

var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func buildPage(spec *openapi3.T) (tags []pageTag, schemas []pageSchema) {
	byTag := map[string][]pageOp{}
	paths := spec.Paths.Map()
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		for _, m := range methodOrder {
			o := paths[p].GetOperation(m)
			if o == nil {
				continue
			}
			po := pageOp{Method: m, Path: "/api" + p, ID: o.OperationID, Summary: o.Summary,
				Description: o.Description, Public: o.Security != nil && len(*o.Security) == 0}
			for _, pr := range o.Parameters {
				po.Params = append(po.Params, pageParam{Name: pr.Value.Name, In: pr.Value.In,
					Type: string(typeHTML(pr.Value.Schema)), Description: pr.Value.Description})
			}
			if o.RequestBody != nil {
				po.Body = typeHTML(o.RequestBody.Value.Content.Get("application/json").Schema)
			}
			responses := o.Responses.Map()
			for _, c := range slices.Sorted(maps.Keys(responses)) {
				r := responses[c]
				if r.Ref != "" {
					r = spec.Components.Responses[r.Ref[strings.LastIndex(r.Ref, "/")+1:]]
				}
				var schema template.HTML
				for _, media := range r.Value.Content {
					schema = typeHTML(media.Schema)
				}
				po.Responses = append(po.Responses, pageResponse{Status: c, Description: *r.Value.Description, Schema: schema})
			}
			tag := "other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			byTag[tag] = append(byTag[tag], po)
		}
	}
	for _, t := range spec.Tags {
		tags = append(tags, pageTag{Name: t.Name, Description: t.Description, Ops: byTag[t.Name]})
	}
	for _, n := range slices.Sorted(maps.Keys(spec.Components.Schemas)) {
		s := spec.Components.Schemas[n]
		ps := pageSchema{Name: n}
		if s.Value == nil {
			schemas = append(schemas, ps)
			continue
		}
		ps.Description = s.Value.Description
		for _, f := range slices.Sorted(maps.Keys(s.Value.Properties)) {
			fs := s.Value.Properties[f]
			pf := pageField{Name: f, Type: typeHTML(fs), Required: slices.Contains(s.Value.Required, f)}
			if fs.Value != nil {
				pf.Description = fs.Value.Description
			}
			ps.Fields = append(ps.Fields, pf)
		}
		if len(ps.Fields) == 0 {
			ps.Type = typeHTML(s)
		}
		schemas = append(schemas, ps)
	}
	return tags, schemas
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#fafbfc}
main{max-width:1000px;margin:0 auto;padding:1.5rem}
h1{margin-top:0} h2{border-bottom:2px solid #d8dee8;padding-bottom:.3rem;margin-top:2.5rem}
nav a{margin-right:1rem}
.op{background:#fff;border:1px solid #d8dee8;border-radius:6px;margin:1rem 0;padding:.8rem 1rem}
.op h3{margin:.2rem 0;font-size:1.05rem}
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font:bold 13px monospace;padding:2px 6px;margin-right:.5rem}
.GET{background:#2b7bb9}.POST{background:#2f9e44}.PUT{background:#c77c02}.PATCH{background:#8e5bd0}.DELETE{background:#c92a2a}
code,.path{font-family:ui-monospace,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{text-align:left;border-bottom:1px solid #e6eaf0;padding:.25rem .5rem;vertical-align:top;font-size:14px}
th{background:#f1f4f8}
.pub{font-size:12px;color:#2f9e44;margin-left:.5rem}
.req{color:#c92a2a;font-size:12px}
.schema{background:#fff;border:1px solid #d8dee8;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
</style>
</head>
<body><main>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p>{{.Description}}</p>
<p>Machine-readable: <a href="@SCHEMA_URL@">OpenAPI 3.1 document</a>. Protected endpoints need <code>Authorization: Bearer &lt;access token&gt;</code>.</p>
<nav>{{range .Tags}}<a href="#tag-{{.Name}}">{{.Name}}</a>{{end}}<a href="#schemas">schemas</a></nav>
{{range .Tags}}
<h2 id="tag-{{.Name}}">{{.Name}}</h2>
<p>{{.Description}}</p>
{{range .Ops}}
<div class="op" id="op-{{.ID}}">
<h3><span class="m {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span>{{if .Public}}<span class="pub">no token needed</span>{{end}}</h3>
<p><strong>{{.Summary}}</strong>{{if .Description}} — {{.Description}}{{end}}</p>
{{if .Params}}<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<p>Request body (JSON): {{.Body}}</p>{{end}}
<table><tr><th>Status</th><th>Body</th><th>When</th></tr>
{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Schema}}</td><td>{{.Description}}</td></tr>{{end}}</table>
</div>
{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}
<div class="schema" id="schema-{{.Name}}">
<h3>{{.Name}}</h3>{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Fields}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>
{{else}}<p>{{.Type}}</p>{{end}}
</div>
{{end}}
</main></body></html>
`))

// docsHTML is the reference page, rendered once.
var docsHTML = sync.OnceValue(func() []byte {
	spec := openAPIDoc()
	tags, schemas := buildPage(spec)
	var b bytes.Buffer
	err := docsTemplate.Execute(&b, map[string]any{
		"Title": spec.Info.Title, "Version": spec.Info.Version, "Description": spec.Info.Description,
		"Tags": tags, "Schemas": schemas,
	})
	if err != nil {
		panic("rest: render docs: " + err.Error())
	}
	return b.Bytes()
})

// docsPolicy lets the reference page use its inline styles and nothing else.
var docsPolicy = web.CSP{StyleSrc: []string{"'unsafe-inline'"}}.String()

// docs is GET /docs/: the API reference as HTML.
func (h *Handler) docs(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", docsPolicy)
	// The link to the document is relative to where the API is mounted.
	schemaURL := strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/"), "docs") + "schema/"
	_, _ = w.Write(bytes.Replace(docsHTML(), []byte("@SCHEMA_URL@"), []byte(template.HTMLEscapeString(schemaURL)), 1))
	return nil
}
