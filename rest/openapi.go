package rest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"healthcare/models"
)

// The OpenAPI 3.1 document of this API, served at /api/schema/ and rendered
// at /api/docs/. The tests validate every response they get against it, so
// it cannot drift from the handlers: response schemas list every property
// as required and allow no others.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func maxLen(n int, desc string) obj {
	return obj{"type": "string", "maxLength": n, "description": desc}
}

func enumOf[T ~string](values []T, desc string) obj {
	e := make([]any, len(values))
	for i, v := range values {
		e[i] = string(v)
	}
	return obj{"type": "string", "enum": e, "description": desc}
}

// orNull allows null besides s (JSON Schema 2020-12's type list; an enum
// must list null as well).
func orNull(s obj) obj {
	out := obj{}
	for k, v := range s {
		out[k] = v
	}
	out["type"] = []any{s["type"], "null"}
	if e, ok := s["enum"].([]any); ok {
		out["enum"] = append(slices.Clone(e), nil)
	}
	return out
}

// prop is one client-settable field of an entity.
type prop struct {
	name     string
	schema   obj
	required bool // on create and full update
	nullable bool // optional column: null when unset
}

var phoneSchema = obj{"type": "string", "pattern": `^\+[1-9][0-9]{7,14}$`, "description": "E.164, e.g. +919876543210 (spaces and dashes are removed)."}

var patientProps = []prop{
	{"first_name", maxLen(100, ""), true, false},
	{"last_name", maxLen(100, ""), true, false},
	{"email", obj{"type": "string", "format": "email"}, false, true},
	{"phone", phoneSchema, true, false},
	{"date_of_birth", obj{"type": "string", "format": "date", "description": "YYYY-MM-DD; not in the future, age at most 150."}, true, false},
	{"gender", enumOf(models.Genders, "M, F or O."), true, false},
	{"blood_group", enumOf(models.BloodGroups, ""), false, true},
	{"address", maxLen(500, ""), false, true},
	{"city", maxLen(100, ""), false, true},
	{"state", maxLen(100, ""), false, true},
	{"postal_code", maxLen(20, ""), false, true},
	{"country", maxLen(100, ""), false, true},
	{"medical_history", maxLen(10000, ""), false, true},
	{"allergies", maxLen(5000, ""), false, true},
	{"current_medications", maxLen(5000, ""), false, true},
	{"emergency_contact_name", maxLen(200, ""), false, true},
	{"emergency_contact_phone", phoneSchema, false, true},
	{"emergency_contact_relation", maxLen(50, ""), false, true},
	{"is_active", obj{"type": "boolean", "description": "Default true."}, false, false},
}

var doctorProps = []prop{
	{"first_name", maxLen(100, ""), true, false},
	{"last_name", maxLen(100, ""), true, false},
	{"email", obj{"type": "string", "format": "email", "description": "Unique among doctors."}, true, false},
	{"phone", phoneSchema, true, false},
	{"date_of_birth", obj{"type": "string", "format": "date"}, false, true},
	{"gender", enumOf(models.Genders, ""), false, true},
	{"specialization", enumOf(models.Specializations, ""), true, false},
	{"qualification", maxLen(200, ""), true, false},
	{"license_number", maxLen(50, "Unique; stored in capitals."), true, false},
	{"experience_years", obj{"type": "integer", "minimum": 0, "maximum": models.MaxExperienceYears}, true, false},
	{"clinic_name", maxLen(200, ""), false, true},
	{"clinic_address", maxLen(500, ""), false, true},
	{"city", maxLen(100, ""), false, true},
	{"state", maxLen(100, ""), false, true},
	{"postal_code", maxLen(20, ""), false, true},
	{"country", maxLen(100, ""), false, true},
	{"consultation_fee", obj{"type": "number", "minimum": 0, "maximum": models.MaxConsultationFee, "description": "At most 2 decimal places."}, true, false},
	{"available_days", maxLen(100, ""), false, true},
	{"available_time", maxLen(100, ""), false, true},
	{"bio", maxLen(5000, ""), false, true},
	{"languages_spoken", maxLen(200, ""), false, true},
	{"is_available", obj{"type": "boolean", "description": "Default true."}, false, false},
}

var mappingEditProps = []prop{
	{"reason", maxLen(2000, ""), false, true},
	{"notes", maxLen(5000, ""), false, true},
	{"status", enumOf(models.MappingStatuses, "Default ACTIVE."), false, false},
}

var (
	idSchema       = obj{"type": "integer", "minimum": 1}
	dateTimeSchema = obj{"type": "string", "format": "date-time"}
)

// closed is an object schema whose properties are all required and that
// allows no others (for responses).
func closed(props obj) obj {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return obj{"type": "object", "properties": props, "required": req, "additionalProperties": false}
}

// entity is the response schema of a record: id, its fields, timestamps
// and the derived extras.
func entity(props []prop, extras obj) obj {
	p := obj{"id": idSchema, "created_at": dateTimeSchema, "updated_at": dateTimeSchema}
	for _, f := range props {
		s := f.schema
		if f.nullable {
			s = orNull(s)
		}
		p[f.name] = s
	}
	for k, v := range extras {
		p[k] = v
	}
	return closed(p)
}

// input is the request schema of props: with full, the required fields are
// listed as such. Optional text fields take null or "" to clear them.
func input(props []prop, full bool, desc string) obj {
	p := obj{}
	var req []string
	for _, f := range props {
		s := f.schema
		if f.nullable {
			s = orNull(s)
		}
		p[f.name] = s
		if full && f.required {
			req = append(req, f.name)
		}
	}
	s := obj{"type": "object", "properties": p, "description": desc}
	if len(req) > 0 {
		s["required"] = req
	}
	return s
}

// envelope is a success body carrying data.
func envelopeOf(data obj) obj {
	return closed(obj{
		"success": obj{"type": "boolean", "const": true},
		"message": obj{"type": "string"},
		"data":    data,
	})
}

func pageOfSchema(item string) obj {
	return closed(obj{
		"count":    obj{"type": "integer", "minimum": 0, "description": "Size of the whole filtered list."},
		"next":     obj{"type": []any{"string", "null"}, "format": "uri", "description": "Absolute URL of the next page, or null."},
		"previous": obj{"type": []any{"string", "null"}, "format": "uri", "description": "Absolute URL of the previous page, or null."},
		"results":  obj{"type": "array", "items": ref(item)},
	})
}

func schemas() obj {
	doctor := entity(doctorProps, obj{"full_name": str("first_name last_name")})
	assigned := entity(doctorProps, obj{
		"full_name":   str("first_name last_name"),
		"mapping_id":  idSchema,
		"status":      enumOf(models.MappingStatuses, "The mapping's status."),
		"reason":      orNull(obj{"type": "string"}),
		"notes":       orNull(obj{"type": "string"}),
		"assigned_at": dateTimeSchema,
	})
	assigned["description"] = "A doctor with the mapping that assigns it to the patient (its id and created_at are the doctor's)."
	mappingProps := append([]prop{
		{"patient", obj{"type": "integer", "minimum": 1, "description": "Patient id (one of yours)."}, true, false},
		{"doctor", obj{"type": "integer", "minimum": 1, "description": "Doctor id."}, true, false},
	}, mappingEditProps...)
	return obj{
		"Error": obj{
			"type": "object",
			"properties": obj{
				"success": obj{"type": "boolean", "const": false},
				"message": obj{"type": "string"},
				"errors": obj{
					"type":                 "object",
					"description":          "Present on 400: every failing field (or query parameter) with its messages; non_field_errors for the request as a whole.",
					"additionalProperties": obj{"type": "array", "items": obj{"type": "string"}, "minItems": 1},
				},
			},
			"required":             []string{"success", "message"},
			"additionalProperties": false,
		},
		"User": closed(obj{
			"id": idSchema, "name": obj{"type": "string"}, "email": obj{"type": "string", "format": "email"},
			"date_joined": dateTimeSchema,
		}),
		"Tokens": closed(obj{
			"access":  str("JWT access token (1 hour): send as Authorization: Bearer <access>."),
			"refresh": str("JWT refresh token (7 days); each works once."),
		}),
		"Session": closed(obj{"user": ref("User"), "tokens": ref("Tokens")}),
		"RegisterRequest": obj{
			"type": "object",
			"properties": obj{
				"name": maxLen(150, ""), "email": obj{"type": "string", "format": "email"},
				"password":         str("At least 8 characters, not entirely numeric, not common, not similar to the name or email."),
				"password_confirm": str("Must equal password."),
			},
			"required": []string{"name", "email", "password", "password_confirm"},
		},
		"LoginRequest": obj{
			"type":       "object",
			"properties": obj{"email": obj{"type": "string", "format": "email"}, "password": obj{"type": "string"}},
			"required":   []string{"email", "password"},
		},
		"PasswordChangeRequest": obj{
			"type": "object",
			"properties": obj{
				"current_password":     str("The password in use now."),
				"new_password":         str("At least 8 characters, not entirely numeric, not common, not similar to the name or email."),
				"new_password_confirm": str("Must equal new_password."),
			},
			"required": []string{"current_password", "new_password", "new_password_confirm"},
		},
		"RefreshRequest": obj{
			"type":       "object",
			"properties": obj{"refresh": str("A refresh token from register, login or a previous refresh.")},
			"required":   []string{"refresh"},
		},
		"Patient": entity(patientProps, obj{
			"full_name": str("first_name last_name"),
			"age":       obj{"type": "integer", "minimum": 0, "description": "Whole years today."},
		}),
		"PatientCreate":  input(patientProps, true, "A new patient, or a full replacement (PUT): the required fields must be present; absent optional fields keep their value."),
		"PatientPatch":   input(patientProps, false, "The fields to change."),
		"Doctor":         doctor,
		"DoctorCreate":   input(doctorProps, true, "A new doctor, or a full replacement (PUT)."),
		"DoctorPatch":    input(doctorProps, false, "The fields to change."),
		"AssignedDoctor": assigned,
		"Mapping": entity(mappingProps, obj{
			"patient_name":          str("The patient's full name."),
			"doctor_name":           str("The doctor's full name."),
			"doctor_specialization": enumOf(models.Specializations, ""),
		}),
		"MappingCreate": input(mappingProps, true, "Assign a doctor to one of your patients; each pair at most once."),
		"MappingPatch":  input(mappingEditProps, false, "The fields to change; patient and doctor never change."),
		"PatientDoctors": closed(obj{
			"patient_id":   idSchema,
			"patient_name": obj{"type": "string"},
			"count":        obj{"type": "integer", "minimum": 0},
			"doctors":      obj{"type": "array", "items": ref("AssignedDoctor")},
		}),
		"SessionResponse":        envelopeOf(ref("Session")),
		"TokensResponse":         envelopeOf(ref("Tokens")),
		"UserResponse":           envelopeOf(ref("User")),
		"EmptyResponse":          envelopeOf(obj{"type": "null"}),
		"PatientResponse":        envelopeOf(ref("Patient")),
		"PatientPage":            envelopeOf(pageOfSchema("Patient")),
		"DoctorResponse":         envelopeOf(ref("Doctor")),
		"DoctorPage":             envelopeOf(pageOfSchema("Doctor")),
		"MappingResponse":        envelopeOf(ref("Mapping")),
		"MappingPage":            envelopeOf(pageOfSchema("Mapping")),
		"PatientDoctorsResponse": envelopeOf(ref("PatientDoctors")),
		"AuditEvent": closed(obj{
			"id":          idSchema,
			"occurred_at": dateTimeSchema,
			"user_id":     orNull(obj{"type": "integer", "minimum": 1, "description": "The acting user; null for a failed sign-in with an unknown email."}),
			"action":      enumOf(models.AuditActions, ""),
			"record_type": enumOf(models.AuditRecordTypes, ""),
			"record_id":   orNull(obj{"type": "integer", "minimum": 1, "description": "The record; for sign-in events the account, null when unknown."}),
			"records": obj{"type": "array", "description": "Every record the event covers: one request's reads of a list are one event naming each record shown.",
				"items": closed(obj{"type": enumOf(models.AuditRecordTypes, ""), "id": idSchema})},
			"fields":     obj{"type": "array", "items": obj{"type": "string"}, "description": "Names of the changed fields (create and update); empty otherwise. Never values."},
			"ip":         obj{"type": "string"},
			"user_agent": obj{"type": "string"},
			"request_id": obj{"type": "string"},
			"hash":       orNull(obj{"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "The event's link in the hash chain; null until the sealer (about a second) has chained it."}),
		}),
		"AuditEventPage": envelopeOf(pageOfSchema("AuditEvent")),
	}
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

func jsonContent(schema obj) obj { return obj{"application/json": obj{"schema": schema}} }

// op is one operation of the document.
type op struct {
	tag, summary, desc string
	public             bool   // no token needed
	params             []obj  // query and path parameters
	body               string // request schema name
	status             int    // success status
	response           string // success schema name
	errors             []int  // besides 500 and 503 (and 401 unless public)
}

func (o op) build(id string) obj {
	out := obj{"operationId": id, "tags": []string{o.tag}, "summary": o.summary}
	if o.desc != "" {
		out["description"] = o.desc
	}
	if o.public {
		out["security"] = []any{}
	}
	if len(o.params) > 0 {
		out["parameters"] = o.params
	}
	errs := slices.Clone(o.errors)
	if o.body != "" {
		out["requestBody"] = obj{"required": true, "content": jsonContent(ref(o.body))}
		errs = append(errs, 400, 408, 413, 415)
	}
	if !o.public {
		errs = append(errs, 401)
	}
	errs = append(errs, 500, 503)
	responses := obj{}
	okDesc := "OK"
	if o.status == http.StatusCreated {
		okDesc = "Created"
	}
	responses[strconv.Itoa(o.status)] = obj{"description": okDesc, "content": jsonContent(ref(o.response))}
	for _, s := range errs {
		responses[strconv.Itoa(s)] = obj{"$ref": "#/components/responses/" + strconv.Itoa(s)}
	}
	out["responses"] = responses
	return out
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
}

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": idSchema}
}

var pageParams = []obj{
	queryParam("page", "Page number, from 1. A page past the end is a 404.", obj{"type": "integer", "minimum": 1, "default": 1}),
	queryParam("page_size", "Items per page.", obj{"type": "integer", "minimum": 1, "maximum": models.MaxPageSize, "default": models.DefaultPageSize}),
}

var boolParam = obj{"type": "string", "enum": []any{"true", "false"}}

func document() obj {
	searchDesc := func(what string) string {
		return "Case-insensitive substring of " + what + "."
	}
	patientID := pathParam("id", "Patient id.")
	doctorID := pathParam("id", "Doctor id.")
	mappingID := pathParam("id", "Mapping id.")
	paths := obj{
		"/auth/register/": obj{"post": op{tag: "auth", summary: "Register a user", public: true,
			desc: "Creates an account and signs it in. A taken email is a 400 on email.",
			body: "RegisterRequest", status: 201, response: "SessionResponse", errors: []int{429}}.build("register")},
		"/auth/login/": obj{"post": op{tag: "auth", summary: "Log in", public: true,
			desc: "Wrong email or password: 401.", body: "LoginRequest", status: 200, response: "SessionResponse",
			errors: []int{401, 429}}.build("login")},
		"/auth/token/refresh/": obj{"post": op{tag: "auth", summary: "Refresh the token pair", public: true,
			desc: "Spends the refresh token (each works once) and returns the next pair. Presenting a spent token again revokes its whole family.",
			body: "RefreshRequest", status: 200, response: "TokensResponse", errors: []int{401}}.build("refreshToken")},
		"/auth/logout/": obj{"post": op{tag: "auth", summary: "Log out", public: true,
			desc: "Revokes the refresh token's family; access tokens already issued expire on their own (1 hour).",
			body: "RefreshRequest", status: 200, response: "EmptyResponse", errors: []int{401}}.build("logout")},
		"/auth/me/": obj{"get": op{tag: "auth", summary: "The signed-in user", status: 200, response: "UserResponse"}.build("me")},
		"/auth/password/": obj{"post": op{tag: "auth", summary: "Change your password",
			desc: "Checks the current password and the password rules, sets the new password, revokes every refresh token of the account (all devices sign in again; access tokens issued before the change stop working) and returns a new pair for this client.",
			body: "PasswordChangeRequest", status: 200, response: "SessionResponse"}.build("changePassword")},

		"/patients/": obj{
			"get": op{tag: "patients", summary: "List your patients", desc: "Newest first.",
				params: append([]obj{
					queryParam("search", searchDesc("the name, phone or email"), obj{"type": "string", "maxLength": models.MaxSearchLen}),
					queryParam("gender", "M, F or O.", enumOf(models.Genders, "")),
					queryParam("city", "City, case-insensitive exact match.", obj{"type": "string"}),
					queryParam("is_active", "Active status.", boolParam),
				}, pageParams...),
				status: 200, response: "PatientPage", errors: []int{400, 404}}.build("listPatients"),
			"post": op{tag: "patients", summary: "Create a patient", body: "PatientCreate", status: 201, response: "PatientResponse"}.build("createPatient"),
		},
		"/patients/{id}/": obj{
			"get": op{tag: "patients", summary: "Get a patient", params: []obj{patientID}, status: 200, response: "PatientResponse",
				errors: []int{404}}.build("getPatient"),
			"put": op{tag: "patients", summary: "Update a patient (full)", params: []obj{patientID}, body: "PatientCreate",
				status: 200, response: "PatientResponse", errors: []int{404}}.build("replacePatient"),
			"patch": op{tag: "patients", summary: "Update a patient (partial)", params: []obj{patientID}, body: "PatientPatch",
				status: 200, response: "PatientResponse", errors: []int{404}}.build("updatePatient"),
			"delete": op{tag: "patients", summary: "Delete a patient", desc: "Its mappings go with it.", params: []obj{patientID},
				status: 200, response: "EmptyResponse", errors: []int{404}}.build("deletePatient"),
		},
		"/doctors/": obj{
			"get": op{tag: "doctors", summary: "List doctors", desc: "Every user reads the whole directory. Newest first.",
				params: append([]obj{
					queryParam("search", searchDesc("the name, specialization or city"), obj{"type": "string", "maxLength": models.MaxSearchLen}),
					queryParam("specialization", "Specialization.", enumOf(models.Specializations, "")),
					queryParam("city", "City, case-insensitive exact match.", obj{"type": "string"}),
					queryParam("is_available", "Availability.", boolParam),
					queryParam("min_experience", "Minimum years of experience.", obj{"type": "integer", "minimum": 0}),
					queryParam("max_fee", "Maximum consultation fee.", obj{"type": "number", "minimum": 0}),
				}, pageParams...),
				status: 200, response: "DoctorPage", errors: []int{400, 404}}.build("listDoctors"),
			"post": op{tag: "doctors", summary: "Create a doctor", desc: "A taken email or license number is a 400 on that field.",
				body: "DoctorCreate", status: 201, response: "DoctorResponse"}.build("createDoctor"),
		},
		"/doctors/{id}/": obj{
			"get": op{tag: "doctors", summary: "Get a doctor", params: []obj{doctorID}, status: 200, response: "DoctorResponse",
				errors: []int{404}}.build("getDoctor"),
			"put": op{tag: "doctors", summary: "Update a doctor (full)", desc: "Only its creator may change a doctor (403 for others).",
				params: []obj{doctorID}, body: "DoctorCreate", status: 200, response: "DoctorResponse", errors: []int{403, 404}}.build("replaceDoctor"),
			"patch": op{tag: "doctors", summary: "Update a doctor (partial)", desc: "Only its creator may change a doctor (403 for others).",
				params: []obj{doctorID}, body: "DoctorPatch", status: 200, response: "DoctorResponse", errors: []int{403, 404}}.build("updateDoctor"),
			"delete": op{tag: "doctors", summary: "Delete a doctor", desc: "Only its creator may delete a doctor, and only while no other account's patient is assigned to it (409; a superuser may); its mappings go with it.",
				params: []obj{doctorID}, status: 200, response: "EmptyResponse", errors: []int{403, 404, 409}}.build("deleteDoctor"),
		},
		"/mappings/": obj{
			"get": op{tag: "mappings", summary: "List the mappings of your patients", desc: "Newest first.",
				params: append([]obj{
					queryParam("patient_id", "Patient id.", idSchema),
					queryParam("doctor_id", "Doctor id.", idSchema),
					queryParam("status", "Mapping status.", enumOf(models.MappingStatuses, "")),
					queryParam("search", searchDesc("the patient's or the doctor's name"), obj{"type": "string", "maxLength": models.MaxSearchLen}),
				}, pageParams...),
				status: 200, response: "MappingPage", errors: []int{400, 404}}.build("listMappings"),
			"post": op{tag: "mappings", summary: "Assign a doctor to a patient",
				desc: "The patient must be yours (404 otherwise); a pair already mapped is a 400 on doctor.",
				body: "MappingCreate", status: 201, response: "MappingResponse", errors: []int{404}}.build("createMapping"),
		},
		"/mappings/{patient_id}/": obj{
			"get": op{tag: "mappings", summary: "The doctors of a patient",
				params: []obj{pathParam("patient_id", "Patient id (one of yours)."),
					queryParam("status", "Only mappings of this status.", enumOf(models.MappingStatuses, ""))},
				status: 200, response: "PatientDoctorsResponse", errors: []int{400, 404}}.build("doctorsOfPatient"),
		},
		"/mappings/detail/{id}/": obj{
			"get": op{tag: "mappings", summary: "Get a mapping", params: []obj{mappingID}, status: 200, response: "MappingResponse",
				errors: []int{404}}.build("getMapping"),
			"patch": op{tag: "mappings", summary: "Update a mapping", params: []obj{mappingID}, body: "MappingPatch",
				status: 200, response: "MappingResponse", errors: []int{404}}.build("updateMapping"),
			"delete": op{tag: "mappings", summary: "Remove a doctor from a patient", params: []obj{mappingID},
				status: 200, response: "EmptyResponse", errors: []int{404}}.build("deleteMapping"),
		},
		"/audit/": obj{
			"get": op{tag: "audit", summary: "Read the audit trail",
				desc: "Superusers only (403 for anyone else). Every read and change of a patient or mapping, and every sign-in, newest first. Events name records and fields, never values.",
				params: append([]obj{
					queryParam("user_id", "The acting user's id.", idSchema),
					queryParam("record_type", "Kind of record.", enumOf(models.AuditRecordTypes, "")),
					queryParam("record_id", "Record id (with record_type: that record).", idSchema),
					queryParam("action", "What was done.", enumOf(models.AuditActions, "")),
					queryParam("since", "Events at or after this time (RFC 3339).", dateTimeSchema),
					queryParam("until", "Events before this time (RFC 3339); not before since.", dateTimeSchema),
				}, pageParams...),
				status: 200, response: "AuditEventPage", errors: []int{400, 403, 404}}.build("listAuditEvents"),
		},
		"/schema/": obj{"get": obj{
			"operationId": "schema", "tags": []string{"meta"}, "summary": "This OpenAPI document", "security": []any{},
			"responses": obj{"200": obj{"description": "OpenAPI 3.1 JSON", "content": jsonContent(obj{"type": "object"})}},
		}},
		"/docs/": obj{"get": obj{
			"operationId": "docs", "tags": []string{"meta"}, "summary": "This reference as an HTML page", "security": []any{},
			"responses": obj{"200": obj{"description": "HTML", "content": obj{"text/html": obj{"schema": obj{"type": "string"}}}}},
		}},
	}
	responses := obj{}
	for s, d := range errorDescriptions {
		responses[strconv.Itoa(s)] = obj{"description": d, "content": jsonContent(ref("Error"))}
	}
	return obj{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": obj{
			"title":   "Healthcare REST API",
			"version": "1.0.0",
			"description": "Patients, doctors and their assignments. Every answer is an envelope " +
				"{success, message, data}; a failure is {success: false, message, errors?}. Lists are " +
				"paginated ({count, next, previous, results} in data). Send the access token from " +
				"register or login as Authorization: Bearer <access>. Paths work with and without the trailing slash.",
		},
		"servers":  []obj{{"url": "/api", "description": "This server"}},
		"security": []obj{{"bearerAuth": []string{}}},
		"tags": []obj{
			{"name": "auth", "description": "Accounts and JWT tokens."},
			{"name": "patients", "description": "Your patients: only you (and superusers) see them."},
			{"name": "doctors", "description": "The shared doctor directory: everyone reads, the creator changes."},
			{"name": "mappings", "description": "Doctors assigned to your patients."},
			{"name": "audit", "description": "The audit trail, for superusers."},
			{"name": "meta", "description": "This document."},
		},
		"paths": paths,
		"components": obj{
			"securitySchemes": obj{"bearerAuth": obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			"schemas":         schemas(),
			"responses":       responses,
		},
	}
}

// openAPIJSON is the document, encoded once.
var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(document(), "", "  ")
	if err != nil {
		panic("rest: encode OpenAPI document: " + err.Error())
	}
	return b
})

// schema is GET /schema/: the OpenAPI document.
func (h *Handler) schema(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIJSON())
	return nil
}
