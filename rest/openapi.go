package rest

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"healthcare/models"
)

// The OpenAPI 3.1 document of this API, served at /api/schema/ and rendered
// at /api/docs/. The schema of every client-settable field is derived from
// its row in the models field tables (type, length, bounds, enum, pattern,
// required, nullable); only the REST shape is written here: envelopes,
// pages, read-only properties, operations. The tests validate every response
// they get against the document, so it cannot drift from the handlers:
// response schemas list every property as required and allow no others.

type (
	schema = openapi3.Schema
	sref   = openapi3.SchemaRef
	props  = openapi3.Schemas
)

func typed(t, desc string) *schema { return &schema{Type: &openapi3.Types{t}, Description: desc} }

func str(desc string) *sref { return typed(openapi3.TypeString, desc).NewRef() }

func ref(name string) *sref { return openapi3.NewSchemaRef("#/components/schemas/"+name, nil) }

func enumOf[T ~string](desc string, values []T) *schema {
	s := typed(openapi3.TypeString, desc)
	for _, v := range values {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// orNull returns a copy of s that also allows null (JSON Schema 2020-12's
// type list; an enum must list null as well).
func orNull(s *schema) *schema {
	c, types := *s, openapi3.Types(slices.Concat(s.Type.Slice(), []string{openapi3.TypeNull}))
	c.Type = &types
	if s.Enum != nil {
		c.Enum = append(slices.Clone(s.Enum), nil)
	}
	return &c
}

func arrayOf(items *sref, desc string) *schema {
	return &schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: items, Description: desc}
}

func idSchema() *schema { return openapi3.NewIntegerSchema().WithMin(1) }

func dateTime() *sref { return openapi3.NewDateTimeSchema().NewRef() }

// kindTypes are the JSON types of the field kinds that are not strings.
var kindTypes = map[models.Kind]string{models.KindInt: openapi3.TypeInteger, models.KindMoney: openapi3.TypeNumber,
	models.KindBool: openapi3.TypeBoolean, models.KindRef: openapi3.TypeInteger}

// fieldSchema is the schema of one field of a table; optional columns are
// nullable.
func fieldSchema(f models.Field) *schema {
	s := typed(cmp.Or(kindTypes[f.Kind], openapi3.TypeString), strings.TrimSpace(f.Label+". "+f.Hint))
	switch f.Kind {
	case models.KindEmail:
		s.Format = "email"
	case models.KindPhone:
		s.Pattern = models.PhonePattern
	case models.KindBirthDate:
		s.Format = "date"
	case models.KindEnum:
		s = enumOf(s.Description, f.Enum)
	case models.KindInt, models.KindMoney:
		s.WithMin(f.Min).WithMax(f.Max)
	case models.KindRef:
		s.WithMin(1)
	}
	if f.MaxLen > 0 {
		s.WithMaxLength(int64(f.MaxLen))
	}
	if !f.Required && !f.NotNull {
		return orNull(s)
	}
	return s
}

// closed is an object schema whose properties are all required and that
// allows no others (for responses).
func closed(p props) *schema {
	s := object("", p, slices.Sorted(maps.Keys(p))...)
	return s.WithoutAdditionalProperties()
}

// object is an object schema of the properties p, of which required must be present.
func object(desc string, p props, required ...string) *schema {
	return &schema{Type: &openapi3.Types{openapi3.TypeObject}, Description: desc, Properties: p, Required: required}
}

// record is the response schema of a record of e: id, its fields,
// timestamps and the derived extras.
func record(e *models.Entity, extras props) *schema {
	p := props{"id": idSchema().NewRef(), "created_at": dateTime(), "updated_at": dateTime()}
	for _, f := range e.Fields {
		p[f.Name] = fieldSchema(f).NewRef()
	}
	maps.Copy(p, extras)
	return closed(p)
}

// input is the request schema of the fields of e that the input type T
// takes (by json tag). With full (create, full replacement) the required
// fields are listed as such. Optional fields take null or "" to clear them;
// omitted on create they take their default.
func input[T any](e *models.Entity, full bool, desc string) *schema {
	tags := map[string]bool{}
	for _, sf := range reflect.VisibleFields(reflect.TypeFor[T]()) {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		tags[name] = true
	}
	s := object(desc, props{})
	for _, f := range e.Fields {
		if !tags[f.Name] {
			continue
		}
		fs := fieldSchema(f)
		if full && f.Default != "" {
			fs.Default = f.Default
			if f.Kind == models.KindBool {
				fs.Default = f.Default == "true"
			}
		}
		s.Properties[f.Name] = fs.NewRef()
		if full && f.Required {
			s.Required = append(s.Required, f.Name)
		}
	}
	return s
}

func constant(v bool) *sref {
	s := openapi3.NewBoolSchema()
	s.Const = v
	return s.NewRef()
}

// envelopeOf is a success body carrying data.
func envelopeOf(data *sref) *sref {
	return closed(props{"success": constant(true), "message": str(""), "data": data}).NewRef()
}

func listOf(item string) *sref {
	link := func(desc string) *sref {
		return orNull(typed(openapi3.TypeString, desc).WithFormat("uri")).NewRef()
	}
	return envelopeOf(closed(props{
		"count":    typed(openapi3.TypeInteger, "Size of the whole filtered list.").WithMin(0).NewRef(),
		"next":     link("Absolute URL of the next page, or null."),
		"previous": link("Absolute URL of the previous page, or null."),
		"results":  arrayOf(ref(item), "").NewRef(),
	}).NewRef())
}

// fieldRef is the schema of the field of e called name.
func fieldRef(e *models.Entity, name string) *sref {
	f, ok := e.Field(name)
	if !ok {
		panic("rest: no field " + e.Name + "." + name)
	}
	return fieldSchema(f).NewRef()
}

func schemas() openapi3.Schemas {
	password := "At least 8 characters, not entirely numeric, not common, not similar to the name or email."
	register := input[models.RegisterInput](models.UserEntity, true, "")
	register.Properties["password"] = str(password)
	register.Properties["password_confirm"] = str("Must equal password.")
	register.Required = append(register.Required, "password", "password_confirm")
	messages := arrayOf(str(""), "").WithMinItems(1)
	errs := closed(props{"success": constant(false), "message": str(""), "errors": typed(openapi3.TypeObject,
		"Present on 400: every failing field (or query parameter) with its messages; non_field_errors for the request as a whole.",
	).WithAdditionalProperties(messages).NewRef()})
	errs.Required = []string{"success", "message"}
	fullName := str("first_name last_name")
	mapping := func(name string) *sref { return fieldRef(models.MappingEntity, name) }
	assigned := record(models.DoctorEntity, props{"full_name": fullName, "mapping_id": idSchema().NewRef(), "assigned_at": dateTime(),
		"status": mapping("status"), "reason": mapping("reason"), "notes": mapping("notes")})
	assigned.Description = "A doctor with the mapping that assigns it to the patient (its id and created_at are the doctor's)."
	recordType := enumOf("", models.AuditRecordTypes).NewRef()
	audit := closed(props{
		"id": idSchema().NewRef(), "occurred_at": dateTime(),
		"user_id":     orNull(typed(openapi3.TypeInteger, "The acting user; null for a failed sign-in with an unknown email.").WithMin(1)).NewRef(),
		"action":      enumOf("", models.AuditActions).NewRef(),
		"record_type": recordType,
		"record_id":   orNull(typed(openapi3.TypeInteger, "The record; for sign-in events the account, null when unknown.").WithMin(1)).NewRef(),
		"records": arrayOf(closed(props{"type": recordType, "id": idSchema().NewRef()}).NewRef(),
			"Every record the event covers: one request's reads of a list are one event naming each record shown.").NewRef(),
		"fields": arrayOf(str(""), "Names of the changed fields (create and update); empty otherwise. Never values.").NewRef(),
		"ip":     str(""), "user_agent": str(""), "request_id": str(""),
		"hash": orNull(typed(openapi3.TypeString, "The event's link in the hash chain; null until the sealer (about a second) has chained it.").
			WithPattern("^[0-9a-f]{64}$")).NewRef(),
	})

	s := openapi3.Schemas{
		"Error": errs.NewRef(),
		"User": closed(props{"id": idSchema().NewRef(), "date_joined": dateTime(),
			"name": fieldRef(models.UserEntity, "name"), "email": fieldRef(models.UserEntity, "email")}).NewRef(),
		"Tokens": closed(props{
			"access":  str("JWT access token (1 hour): send as Authorization: Bearer <access>."),
			"refresh": str("JWT refresh token (7 days); each works once."),
		}).NewRef(),
		"Session":         closed(props{"user": ref("User"), "tokens": ref("Tokens")}).NewRef(),
		"RegisterRequest": register.NewRef(),
		"LoginRequest": object("", props{"email": openapi3.NewStringSchema().WithFormat("email").NewRef(), "password": str("")},
			"email", "password").NewRef(),
		"PasswordChangeRequest": object("", props{"current_password": str("The password in use now."), "new_password": str(password),
			"new_password_confirm": str("Must equal new_password.")}, "current_password", "new_password", "new_password_confirm").NewRef(),
		"RefreshRequest": object("", props{"refresh": str("A refresh token from register, login or a previous refresh.")},
			"refresh").NewRef(),
		"Patient": record(models.PatientEntity, props{
			"full_name": fullName,
			"age":       typed(openapi3.TypeInteger, "Whole years today.").WithMin(0).NewRef(),
		}).NewRef(),
		"PatientCreate": input[models.PatientInput](models.PatientEntity, true,
			"A new patient, or a full replacement (PUT): the required fields must be present; absent optional fields keep their value.").NewRef(),
		"PatientPatch":   input[models.PatientPatch](models.PatientEntity, false, "The fields to change.").NewRef(),
		"Doctor":         record(models.DoctorEntity, props{"full_name": fullName}).NewRef(),
		"DoctorCreate":   input[models.DoctorInput](models.DoctorEntity, true, "A new doctor, or a full replacement (PUT).").NewRef(),
		"DoctorPatch":    input[models.DoctorPatch](models.DoctorEntity, false, "The fields to change.").NewRef(),
		"AssignedDoctor": assigned.NewRef(),
		"Mapping": record(models.MappingEntity, props{
			"patient_name":          str("The patient's full name."),
			"doctor_name":           str("The doctor's full name."),
			"doctor_specialization": fieldRef(models.DoctorEntity, "specialization"),
		}).NewRef(),
		"MappingCreate": input[models.MappingInput](models.MappingEntity, true,
			"Assign a doctor to one of your patients; each pair at most once.").NewRef(),
		"MappingPatch": input[models.MappingPatch](models.MappingEntity, false,
			"The fields to change; patient and doctor never change.").NewRef(),
		"PatientDoctors": closed(props{
			"patient_id":   idSchema().NewRef(),
			"patient_name": str(""),
			"count":        openapi3.NewIntegerSchema().WithMin(0).NewRef(),
			"doctors":      arrayOf(ref("AssignedDoctor"), "").NewRef(),
		}).NewRef(),
		"SessionResponse":        envelopeOf(ref("Session")),
		"TokensResponse":         envelopeOf(ref("Tokens")),
		"UserResponse":           envelopeOf(ref("User")),
		"EmptyResponse":          envelopeOf(typed(openapi3.TypeNull, "").NewRef()),
		"AuditEvent":             audit.NewRef(),
		"AuditEventPage":         listOf("AuditEvent"),
		"PatientDoctorsResponse": envelopeOf(ref("PatientDoctors")),
	}
	for _, name := range []string{"Patient", "Doctor", "Mapping"} {
		s[name+"Response"] = envelopeOf(ref(name))
		s[name+"Page"] = listOf(name)
	}
	return s
}

// Descriptions of the error statuses, shared by every operation.
var errorDescriptions = map[int]string{
	400: "Invalid input: errors names every failing field or query parameter (also malformed JSON, JSON that is not an object, and duplicates: a taken email or license number, a doctor already assigned to the patient).",
	401: "No, a malformed, an expired or a revoked token; or wrong credentials.",
	403: "Another user's doctor: readable, not changeable; the audit trail, for anyone but a superuser.",
	404: "No such record, or not yours (the same answer); a non-numeric id; a page past the end (\"Invalid page.\").",
	408: "The request body did not arrive in time.",
	409: "A doctor other accounts' patients are assigned to: only a superuser may delete it (the message says how many assignments, never whose).",
	413: "The request body is over the server's limit.",
	415: "A body was sent without Content-Type: application/json.",
	429: "Too many sign-in or registration attempts (per account and per client address); Retry-After says when to try again.",
	500: "Internal server error; the cause is logged with the request id.",
	503: "The database cannot be reached, or the request took too long; retry shortly.",
}

// op is one operation of the document; its tag is the first segment of
// its path.
type op struct {
	route, id, summary, desc string              // route: "METHOD /path/"
	public                   bool                // no token needed
	params                   openapi3.Parameters // query and path parameters
	body                     string              // request schema name
	status                   int                 // success status; 200 when 0
	response                 string              // success schema name: an envelope
	errors                   []int               // besides 500 and 503 (and 401 unless public)
	// raw is the success answer of the operations that answer other than
	// with an envelope (and say nothing of errors).
	raw *openapi3.Response
}

func (o op) build() *openapi3.Operation {
	_, path, _ := strings.Cut(o.route, " ")
	tag, _, _ := strings.Cut(path[1:], "/")
	if o.raw != nil {
		tag = "meta"
	}
	out := &openapi3.Operation{OperationID: o.id, Tags: []string{tag}, Summary: o.summary, Description: o.desc,
		Parameters: o.params, Responses: openapi3.NewResponses()}
	if o.public {
		out.Security = &openapi3.SecurityRequirements{}
	}
	errs := slices.Clone(o.errors)
	if o.body != "" {
		out.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchemaRef(ref(o.body))}
		errs = append(errs, 400, 408, 413, 415)
	}
	if !o.public {
		errs = append(errs, 401)
	}
	if o.status == 0 {
		o.status = http.StatusOK
	}
	ok := o.raw
	if ok == nil {
		errs = append(errs, 500, 503)
		ok = openapi3.NewResponse().WithDescription(http.StatusText(o.status)).WithJSONSchemaRef(ref(o.response))
	}
	out.Responses.Set(strconv.Itoa(o.status), &openapi3.ResponseRef{Value: ok})
	for _, s := range errs {
		out.Responses.Set(strconv.Itoa(s), &openapi3.ResponseRef{Ref: "#/components/responses/" + strconv.Itoa(s)})
	}
	return out
}

func param(in, name, desc string, s *schema) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Value: &openapi3.Parameter{In: in, Name: name, Description: desc, Required: in == "path", Schema: s.NewRef()}}
}

func queryParam(name, desc string, s *schema) *openapi3.ParameterRef {
	return param("query", name, desc, s)
}

// paged is params followed by the pagination parameters.
func paged(params ...*openapi3.ParameterRef) openapi3.Parameters {
	return append(params,
		queryParam("page", "Page number, from 1. A page past the end is a 404.", openapi3.NewIntegerSchema().WithMin(1).WithDefault(1)),
		queryParam("page_size", "Items per page.", openapi3.NewIntegerSchema().WithMin(1).WithMax(models.MaxPageSize).WithDefault(models.DefaultPageSize)))
}

// recordOps are the operations on one record at path: read, full and
// partial update, delete. change describes both updates; errs are the
// errors of all four (404 at least), removeErrs the delete's own.
func recordOps(path, name, change, remove string, errs []int, removeErrs ...int) []op {
	what, params := strings.ToLower(name), openapi3.Parameters{param("path", "id", name+" id.", idSchema())}
	return []op{
		{route: "GET " + path, id: "get" + name, summary: "Get a " + what, params: params, response: name + "Response", errors: []int{404}},
		{route: "PUT " + path, id: "replace" + name, summary: "Update a " + what + " (full)", desc: change, params: params,
			body: name + "Create", response: name + "Response", errors: errs},
		{route: "PATCH " + path, id: "update" + name, summary: "Update a " + what + " (partial)", desc: change, params: params,
			body: name + "Patch", response: name + "Response", errors: errs},
		{route: "DELETE " + path, id: "delete" + name, summary: "Delete a " + what, desc: remove, params: params,
			response: "EmptyResponse", errors: append(slices.Clone(errs), removeErrs...)},
	}
}

func operations() []op {
	search := func(what string) *openapi3.ParameterRef {
		return queryParam("search", "Case-insensitive substring of "+what+".", openapi3.NewStringSchema().WithMaxLength(models.MaxSearchLen))
	}
	flag := func(name, desc string) *openapi3.ParameterRef {
		return queryParam(name, desc, openapi3.NewStringSchema().WithEnum("true", "false"))
	}
	city := queryParam("city", "City, case-insensitive exact match.", openapi3.NewStringSchema())
	statusOf := func(desc string) *openapi3.ParameterRef {
		return queryParam("status", desc, enumOf("", models.MappingStatuses))
	}
	mappingID := openapi3.Parameters{param("path", "id", "Mapping id.", idSchema())}
	ops := []op{
		{route: "POST /auth/register/", id: "register", summary: "Register a user", public: true,
			desc: "Creates an account and signs it in. A taken email is a 400 on email.",
			body: "RegisterRequest", status: 201, response: "SessionResponse", errors: []int{429}},
		{route: "POST /auth/login/", id: "login", summary: "Log in", public: true, desc: "Wrong email or password: 401.",
			body: "LoginRequest", response: "SessionResponse", errors: []int{401, 429}},
		{route: "POST /auth/token/refresh/", id: "refreshToken", summary: "Refresh the token pair", public: true,
			desc: "Spends the refresh token (each works once) and returns the next pair. Presenting a spent token again revokes its whole family.",
			body: "RefreshRequest", response: "TokensResponse", errors: []int{401}},
		{route: "POST /auth/logout/", id: "logout", summary: "Log out", public: true,
			desc: "Revokes the refresh token's family; access tokens already issued expire on their own (1 hour).",
			body: "RefreshRequest", response: "EmptyResponse", errors: []int{401}},
		{route: "GET /auth/me/", id: "me", summary: "The signed-in user", response: "UserResponse"},
		{route: "POST /auth/password/", id: "changePassword", summary: "Change your password",
			desc: "Checks the current password and the password rules, sets the new password, revokes every refresh token of the account (all devices sign in again; access tokens issued before the change stop working) and returns a new pair for this client.",
			body: "PasswordChangeRequest", response: "SessionResponse"},

		{route: "GET /patients/", id: "listPatients", summary: "List your patients", desc: "Newest first.",
			params: paged(search("the name, phone or email"), queryParam("gender", "M, F or O.", enumOf("", models.Genders)),
				city, flag("is_active", "Active status.")),
			response: "PatientPage", errors: []int{400, 404}},
		{route: "POST /patients/", id: "createPatient", summary: "Create a patient", body: "PatientCreate", status: 201, response: "PatientResponse"},

		{route: "GET /doctors/", id: "listDoctors", summary: "List doctors", desc: "Every user reads the whole directory. Newest first.",
			params: paged(search("the name, specialization or city"),
				queryParam("specialization", "Specialization.", enumOf("", models.Specializations)),
				city, flag("is_available", "Availability."),
				queryParam("min_experience", "Minimum years of experience.", openapi3.NewIntegerSchema().WithMin(0)),
				queryParam("max_fee", "Maximum consultation fee.", openapi3.NewFloat64Schema().WithMin(0))),
			response: "DoctorPage", errors: []int{400, 404}},
		{route: "POST /doctors/", id: "createDoctor", summary: "Create a doctor", desc: "A taken email or license number is a 400 on that field.",
			body: "DoctorCreate", status: 201, response: "DoctorResponse"},

		{route: "GET /mappings/", id: "listMappings", summary: "List the mappings of your patients", desc: "Newest first.",
			params: paged(queryParam("patient_id", "Patient id.", idSchema()), queryParam("doctor_id", "Doctor id.", idSchema()),
				statusOf("Mapping status."), search("the patient's or the doctor's name")),
			response: "MappingPage", errors: []int{400, 404}},
		{route: "POST /mappings/", id: "createMapping", summary: "Assign a doctor to a patient",
			desc: "The patient must be yours (404 otherwise); a pair already mapped is a 400 on doctor.",
			body: "MappingCreate", status: 201, response: "MappingResponse", errors: []int{404}},
		{route: "GET /mappings/{patient_id}/", id: "doctorsOfPatient", summary: "The doctors of a patient",
			params: openapi3.Parameters{param("path", "patient_id", "Patient id (one of yours).", idSchema()),
				statusOf("Only mappings of this status.")},
			response: "PatientDoctorsResponse", errors: []int{400, 404}},
		{route: "GET /mappings/detail/{id}/", id: "getMapping", summary: "Get a mapping", params: mappingID,
			response: "MappingResponse", errors: []int{404}},
		{route: "PATCH /mappings/detail/{id}/", id: "updateMapping", summary: "Update a mapping", params: mappingID,
			body: "MappingPatch", response: "MappingResponse", errors: []int{404}},
		{route: "DELETE /mappings/detail/{id}/", id: "deleteMapping", summary: "Remove a doctor from a patient", params: mappingID,
			response: "EmptyResponse", errors: []int{404}},

		{route: "GET /audit/", id: "listAuditEvents", summary: "Read the audit trail",
			desc: "Superusers only (403 for anyone else). Every read and change of a patient or mapping, and every sign-in, newest first. Events name records and fields, never values.",
			params: paged(queryParam("user_id", "The acting user's id.", idSchema()),
				queryParam("record_type", "Kind of record.", enumOf("", models.AuditRecordTypes)),
				queryParam("record_id", "Record id (with record_type: that record).", idSchema()),
				queryParam("action", "What was done.", enumOf("", models.AuditActions)),
				queryParam("since", "Events at or after this time (RFC 3339).", openapi3.NewDateTimeSchema()),
				queryParam("until", "Events before this time (RFC 3339); not before since.", openapi3.NewDateTimeSchema())),
			response: "AuditEventPage", errors: []int{400, 403, 404}},

		{route: "GET /schema/", id: "schema", summary: "This OpenAPI document", public: true,
			raw: openapi3.NewResponse().WithDescription("OpenAPI 3.1 JSON").WithJSONSchema(openapi3.NewObjectSchema())},
		{route: "GET /docs/", id: "docs", summary: "This reference as an HTML page", public: true,
			raw: openapi3.NewResponse().WithDescription("HTML").
				WithContent(openapi3.NewContentWithSchema(openapi3.NewStringSchema(), []string{"text/html"}))},
	}
	ownerOnly := "Only its creator may change a doctor (403 for others)."
	ops = append(ops, recordOps("/patients/{id}/", "Patient", "", "Its mappings go with it.", []int{404})...)
	return append(ops, recordOps("/doctors/{id}/", "Doctor", ownerOnly,
		"Only its creator may delete a doctor, and only while no other account's patient is assigned to it (409; a superuser may); its mappings go with it.",
		[]int{403, 404}, 409)...)
}

func document() *openapi3.T {
	paths := openapi3.NewPaths()
	for _, o := range operations() {
		method, path, _ := strings.Cut(o.route, " ")
		if paths.Value(path) == nil {
			paths.Set(path, &openapi3.PathItem{})
		}
		paths.Value(path).SetOperation(method, o.build())
	}
	responses := openapi3.ResponseBodies{}
	for s, d := range errorDescriptions {
		responses[strconv.Itoa(s)] = &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(d).WithJSONSchemaRef(ref("Error"))}
	}
	tag := func(name, desc string) *openapi3.Tag { return &openapi3.Tag{Name: name, Description: desc} }
	return &openapi3.T{
		OpenAPI:           "3.1.0",
		JSONSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
		Info: &openapi3.Info{
			Title:       "Healthcare REST API",
			Version:     "1.0.0",
			Description: "Patients, doctors and their assignments. Every answer is an envelope {success, message, data}; a failure is {success: false, message, errors?}. Lists are paginated ({count, next, previous, results} in data). Send the access token from register or login as Authorization: Bearer <access>. Paths work with and without the trailing slash.",
		},
		Servers:  openapi3.Servers{{URL: "/api", Description: "This server"}},
		Security: openapi3.SecurityRequirements{{"bearerAuth": []string{}}},
		Tags: openapi3.Tags{
			tag("auth", "Accounts and JWT tokens."),
			tag("patients", "Your patients: only you (and superusers) see them."),
			tag("doctors", "The shared doctor directory: everyone reads, the creator changes."),
			tag("mappings", "Doctors assigned to your patients."),
			tag("audit", "The audit trail, for superusers."),
			tag("meta", "This document."),
		},
		Paths: paths,
		Components: &openapi3.Components{
			SecuritySchemes: openapi3.SecuritySchemes{"bearerAuth": &openapi3.SecuritySchemeRef{
				Value: &openapi3.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT"}}},
			Schemas:   schemas(),
			Responses: responses,
		},
	}
}

// openAPIDoc is the document, built once; openAPIJSON is its encoding.
var (
	openAPIDoc  = sync.OnceValue(document)
	openAPIJSON = sync.OnceValue(func() []byte {
		b, err := json.MarshalIndent(openAPIDoc(), "", "  ")
		if err != nil {
			panic("rest: encode OpenAPI document: " + err.Error())
		}
		return b
	})
)

// schema is GET /schema/: the OpenAPI document.
func (h *Handler) schema(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIJSON())
	return nil
}
