package rest

// Fuzz targets for the REST body decoding: arbitrary bytes go through the
// path the create and update handlers take (readObject, fill, invalid, the
// model's Validate as the store calls it) and the outcome must be a clean
// 400 naming its fields, or a patch whose every field keeps the models'
// invariants. CI runs the seeds (f.Add and testdata/fuzz/<FuzzName>/);
// `go test -run='^$' -fuzz='^FuzzDecodePatient$' ./rest/` explores.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"healthcare/models"
)

// Bodies from the contract's examples (contract/rest-api-seed.md).
const (
	seedPatient = `{"first_name":"ABC","last_name":"XYZ","email":"abc@email.com","phone":"+919876543210",` +
		`"date_of_birth":"1990-05-15","gender":"F","blood_group":"A+","address":"123 Main Street, Apartment 4B",` +
		`"city":"Mumbai","state":"Maharashtra","postal_code":"400001","country":"India",` +
		`"medical_history":"No significant medical history","allergies":"Penicillin","current_medications":"None",` +
		`"emergency_contact_name":"pranav abc","emergency_contact_phone":"+919876543211","emergency_contact_relation":"Spouse"}`
	seedDoctor = `{"first_name":"Rajesh","last_name":"Kumar","email":"dr.rajesh@hospital.com","phone":"+919876543220",` +
		`"date_of_birth":"1975-08-20","gender":"M","specialization":"CARDIOLOGY","qualification":"MBBS, MD Cardiology",` +
		`"license_number":"MH12345","experience_years":15,"clinic_name":"City Heart Hospital",` +
		`"clinic_address":"456 Medical Plaza, Ground Floor","city":"Mumbai","state":"Maharashtra","postal_code":"400002",` +
		`"country":"India","consultation_fee":1500,"available_days":"Monday to Friday","available_time":"9:00 AM - 5:00 PM",` +
		`"bio":"Experienced cardiologist specializing in heart disease prevention","languages_spoken":"English, Hindi, Marathi"}`
	seedMapping = `{"patient":1,"doctor":1,"reason":"Regular checkup and consultation for hypertension",` +
		`"notes":"Patient prefers morning appointments","status":"ACTIVE"}`
)

// nearValid are bodies one mistake away from the seeds, and shapes that are
// not objects at all; each target adds them after its own seeds.
var nearValid = []string{
	``, ` `, `{}`, `null`, `[]`, `"x"`, `42`, `true`, `{`, `{"a":}`, `{} {}`, `{"first_name":"A"}x`,
	`[{"first_name":"A"}]`, "\xff\xfe{}", `{"first_name":"\u0000"}`, "{\"first_name\":\"\xff\"}",
	`{"first_name":null,"last_name":null,"phone":null,"date_of_birth":null,"gender":null}`,
	`{"first_name":1,"last_name":true,"phone":[],"date_of_birth":{},"gender":2}`,
	`{"phone":"+91 98765-43210"}`, `{"phone":"+0123456789"}`, `{"phone":"+1234567"}`, `{"phone":"+1234567890123456"}`,
	`{"date_of_birth":"2999-01-01"}`, `{"date_of_birth":"1800-01-01"}`, `{"date_of_birth":"0001-01-01"}`,
	`{"date_of_birth":"1990-02-30"}`, `{"date_of_birth":"15/05/1990"}`, `{"date_of_birth":19900515}`,
	`{"email":"A@B.CO"}`, `{"email":"not-an-email"}`, `{"email":"a@b"}`, `{"email":"\"a b\"@example.com"}`,
	`{"experience_years":"15"}`, `{"experience_years":15.0}`, `{"experience_years":15.5}`, `{"experience_years":1e99}`,
	`{"experience_years":-1}`, `{"experience_years":81}`, `{"experience_years":9223372036854775808}`,
	`{"consultation_fee":-0.01}`, `{"consultation_fee":"1500.50"}`, `{"consultation_fee":1500.555}`,
	`{"consultation_fee":1e308}`, `{"consultation_fee":"NaN"}`, `{"consultation_fee":"Infinity"}`, `{"consultation_fee":99999999.99}`,
	`{"patient":0,"doctor":-1}`, `{"patient":"1","doctor":"2"}`, `{"patient":1.5,"doctor":1}`, `{"patient":null,"doctor":null}`,
	`{"status":""}`, `{"status":"active"}`, `{"status":"DONE"}`, `{"status":null}`, `{"is_active":"maybe"}`, `{"is_active":1}`,
	`{"first_name":"` + strings.Repeat("a", 101) + `"}`, `{"first_name":"   "}`, `{"first_name":"\t Ann \n"}`,
	`{"gender":"f"}`, `{"blood_group":"C+"}`, `{"blood_group":""}`, `{"specialization":"cardiology"}`,
	`{"first_name":"A","first_name":2}`, `{"id":5,"created_at":"x","owner":1}`,
}

// FuzzDecodePatient decodes a patient body for create (full) or a partial
// update.
func FuzzDecodePatient(f *testing.F) {
	f.Add([]byte(seedPatient), true)
	f.Add([]byte(seedPatient), false)
	for _, s := range nearValid {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, full bool) {
		var in models.PatientPatch
		today := models.Today()
		err := decodeBody(body, &in, func() error {
			if full {
				return (*models.PatientInput)(&in).Validate(today)
			}
			return in.Validate(today)
		})
		if err != nil {
			checkInvalid(t, body, err)
			return
		}
		checkText(t, "first_name", in.FirstName, 100, full)
		checkText(t, "last_name", in.LastName, 100, full)
		checkEmail(t, "email", in.Email, false)
		checkPhone(t, "phone", in.Phone, full)
		if in.DateOfBirth == nil {
			if full {
				t.Fatalf("date_of_birth missing from a valid full patient: %q", body)
			}
		} else {
			checkBirthDate(t, *in.DateOfBirth, today)
		}
		checkEnum(t, "gender", in.Gender, models.Gender.IsValid, full)
		if in.Gender != nil && !in.Gender.IsValid() {
			t.Fatalf("gender %q accepted", *in.Gender)
		}
		checkEnum(t, "blood_group", in.BloodGroup, models.BloodGroup.IsValid, false)
		for name, p := range map[string]*string{"address": in.Address, "city": in.City, "state": in.State,
			"postal_code": in.PostalCode, "country": in.Country, "emergency_contact_name": in.EmergencyContactName,
			"emergency_contact_relation": in.EmergencyContactRelation} {
			checkText(t, name, p, 500, false)
		}
		for name, p := range map[string]*string{"medical_history": in.MedicalHistory, "allergies": in.Allergies,
			"current_medications": in.CurrentMedications} {
			checkText(t, name, p, 10000, false)
		}
		checkPhone(t, "emergency_contact_phone", in.EmergencyContactPhone, false)
		// What the store then shows must encode.
		var p models.Patient
		in.Apply(&p)
		if _, err := json.Marshal(patientOut(&p)); err != nil {
			t.Fatalf("valid patient does not encode: %v (%q)", err, body)
		}
	})
}

// FuzzDecodeDoctor decodes a doctor body for create (full) or a partial
// update.
func FuzzDecodeDoctor(f *testing.F) {
	f.Add([]byte(seedDoctor), true)
	f.Add([]byte(seedDoctor), false)
	for _, s := range nearValid {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, full bool) {
		var in models.DoctorPatch
		today := models.Today()
		err := decodeBody(body, &in, func() error {
			if full {
				return (*models.DoctorInput)(&in).Validate(today)
			}
			return in.Validate(today)
		})
		if err != nil {
			checkInvalid(t, body, err)
			return
		}
		checkText(t, "first_name", in.FirstName, 100, full)
		checkText(t, "last_name", in.LastName, 100, full)
		checkEmail(t, "email", in.Email, full)
		checkPhone(t, "phone", in.Phone, full)
		if in.DateOfBirth != nil && !in.DateOfBirth.IsZero() {
			checkBirthDate(t, *in.DateOfBirth, today)
		}
		checkEnum(t, "gender", in.Gender, models.Gender.IsValid, false)
		checkEnum(t, "specialization", in.Specialization, models.Specialization.IsValid, full)
		if in.Specialization != nil && !in.Specialization.IsValid() {
			t.Fatalf("specialization %q accepted", *in.Specialization)
		}
		checkText(t, "qualification", in.Qualification, 200, full)
		checkText(t, "license_number", in.LicenseNumber, 50, full)
		if in.LicenseNumber != nil && *in.LicenseNumber != strings.ToUpper(*in.LicenseNumber) {
			t.Fatalf("license_number %q not in capitals", *in.LicenseNumber)
		}
		if in.ExperienceYears == nil {
			if full {
				t.Fatalf("experience_years missing from a valid full doctor: %q", body)
			}
		} else if v := *in.ExperienceYears; v < 0 || v > models.MaxExperienceYears {
			t.Fatalf("experience_years %d accepted", v)
		}
		if in.ConsultationFee == nil {
			if full {
				t.Fatalf("consultation_fee missing from a valid full doctor: %q", body)
			}
		} else if v := *in.ConsultationFee; math.IsNaN(v) || v < 0 || v > models.MaxConsultationFee {
			t.Fatalf("consultation_fee %v accepted", v)
		}
		for name, p := range map[string]*string{"clinic_name": in.ClinicName, "clinic_address": in.ClinicAddress,
			"city": in.City, "state": in.State, "postal_code": in.PostalCode, "country": in.Country,
			"available_days": in.AvailableDays, "available_time": in.AvailableTime, "bio": in.Bio,
			"languages_spoken": in.LanguagesSpoken} {
			checkText(t, name, p, 5000, false)
		}
		var d models.Doctor
		in.Apply(&d)
		// numeric(10,2): the stored amount has at most 8 integer digits.
		if fee := float64(d.ConsultationFee); fee < 0 || fee > models.MaxConsultationFee || fee != math.Round(fee*100)/100 {
			t.Fatalf("stored fee %v out of numeric(10,2) (%q)", fee, body)
		}
		if _, err := json.Marshal(doctorOut(&d)); err != nil {
			t.Fatalf("valid doctor does not encode: %v (%q)", err, body)
		}
	})
}

// FuzzDecodeMapping decodes a mapping body for create (create set) or a
// PATCH of reason, notes and status.
func FuzzDecodeMapping(f *testing.F) {
	f.Add([]byte(seedMapping), true)
	f.Add([]byte(`{"reason":"Follow-up","notes":"","status":"COMPLETED"}`), false)
	for _, s := range nearValid {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, create bool) {
		if create {
			var in models.MappingInput
			err := decodeBody(body, &in, in.Validate)
			if err != nil {
				checkInvalid(t, body, err)
				return
			}
			if in.PatientID == nil || *in.PatientID <= 0 || in.DoctorID == nil || *in.DoctorID <= 0 {
				t.Fatalf("mapping accepted without positive patient and doctor: %q", body)
			}
			checkText(t, "reason", in.Reason, 2000, false)
			checkText(t, "notes", in.Notes, 5000, false)
			if in.Status != nil && *in.Status != "" && !in.Status.IsValid() {
				t.Fatalf("status %q accepted", *in.Status)
			}
			return
		}
		var in models.MappingPatch
		err := decodeBody(body, &in, in.Validate)
		if err != nil {
			checkInvalid(t, body, err)
			return
		}
		checkText(t, "reason", in.Reason, 2000, false)
		checkText(t, "notes", in.Notes, 5000, false)
		checkEnum(t, "status", in.Status, models.MappingStatus.IsValid, false)
		if in.Status != nil && *in.Status == "" {
			t.Fatalf("blank status accepted on a patch: %q", body)
		}
	})
}

// decodeBody runs body through what a create or update handler does before
// its store call, and then the Validate the store runs first.
func decodeBody(body []byte, dst any, validate func() error) error {
	r := httptest.NewRequest(http.MethodPost, "/api/patients/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	if fe := fill(dst, obj); len(fe) > 0 {
		reflect.ValueOf(dst).Elem().FieldByName("Unreadable").Set(reflect.ValueOf(fe))
	}
	return validate()
}

// checkInvalid asserts err is a 400 naming at least one field, each with a
// message, and that writeError answers it as a JSON 400 envelope.
func checkInvalid(t *testing.T, body []byte, err error) {
	t.Helper()
	var me *models.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %T %v is not a *models.Error (%q)", err, err, body)
	}
	if me.Code != models.CodeInvalid {
		t.Fatalf("code %s, want %s: %v (%q)", me.Code, models.CodeInvalid, err, body)
	}
	if len(me.Fields) == 0 {
		t.Fatalf("invalid input names no field: %v (%q)", err, body)
	}
	for field, msgs := range me.Fields {
		if field == "" || len(msgs) == 0 {
			t.Fatalf("field %q with messages %q (%q)", field, msgs, body)
		}
		for _, m := range msgs {
			if m == "" || !utf8.ValidString(m) {
				t.Fatalf("field %q: bad message %q (%q)", field, m, body)
			}
		}
	}
	h := &Handler{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w := httptest.NewRecorder()
	h.writeError(w, httptest.NewRequest(http.MethodPost, "/api/patients/", nil), err)
	var env struct {
		Success *bool               `json:"success"`
		Errors  map[string][]string `json:"errors"`
	}
	if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &env) != nil ||
		env.Success == nil || *env.Success || len(env.Errors) == 0 {
		t.Fatalf("answered %d %s (%q)", w.Code, w.Body.Bytes(), body)
	}
}

// checkText asserts a validated text field is trimmed, valid UTF-8 (the
// JSON decoder replaces invalid bytes), free of NULs and within max; a
// required one is present and not blank.
func checkText(t *testing.T, name string, p *string, max int, required bool) {
	t.Helper()
	if p == nil {
		if required {
			t.Fatalf("%s missing yet valid", name)
		}
		return
	}
	s := *p
	switch {
	case required && s == "":
		t.Fatalf("%s blank yet valid", name)
	case s != strings.TrimSpace(s):
		t.Fatalf("%s %q not trimmed", name, s)
	case !utf8.ValidString(s):
		t.Fatalf("%s %q is not UTF-8", name, s)
	case strings.ContainsRune(s, 0):
		t.Fatalf("%s %q holds a NUL", name, s)
	case utf8.RuneCountInString(s) > max:
		t.Fatalf("%s has %d characters", name, utf8.RuneCountInString(s))
	}
}

var strictE164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func checkPhone(t *testing.T, name string, p *string, required bool) {
	t.Helper()
	checkText(t, name, p, 16, required)
	if p != nil && *p != "" && !strictE164.MatchString(*p) {
		t.Fatalf("%s %q is not E.164", name, *p)
	}
}

func checkEmail(t *testing.T, name string, p *string, required bool) {
	t.Helper()
	checkText(t, name, p, 254, required)
	if p == nil || *p == "" {
		return
	}
	if s := *p; s != strings.ToLower(s) || strings.Count(s, "@") != 1 || strings.ContainsAny(s, " \t\r\n<>\"") || !models.ValidEmail(s) {
		t.Fatalf("%s %q accepted", name, s)
	}
}

func checkBirthDate(t *testing.T, d models.Date, today models.Date) {
	t.Helper()
	if d.IsZero() || d.After(today.Time) || d.Age(today) > 150 || d.Age(today) < 0 {
		t.Fatalf("date_of_birth %s accepted (today %s)", d, today)
	}
}

func checkEnum[T ~string](t *testing.T, name string, p *T, valid func(T) bool, required bool) {
	t.Helper()
	if p == nil {
		if required {
			t.Fatalf("%s missing yet valid", name)
		}
		return
	}
	if *p == "" && !required {
		return
	}
	if !valid(*p) {
		t.Fatalf("%s %q accepted", name, string(*p))
	}
}
