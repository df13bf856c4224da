package models_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"healthcare/models"
)

// today is the fixed "today" every date rule is checked against.
var today = models.NewDate(2024, time.June, 15)

const (
	msgTooLong100  = "Ensure this field has no more than 100 characters."
	msgBadEmail    = "Enter a valid email address."
	msgBadPhone    = "Enter a valid phone number in international format, e.g. +919876543210."
	msgFuture      = "must not be in the future"
	msgAge         = "Age must be between 0 and 150 years."
	msgExperience  = "Ensure this value is between 0 and 80."
	msgFeeNegative = "Ensure this value is greater than or equal to 0."
	msgFeeMax      = "Ensure this value is less than or equal to 99999999.99."
	msgFeeDecimals = "Ensure that there are no more than 2 decimal places."
	msgInvalidPK   = "Invalid pk - object does not exist."
)

func ptr[T any](v T) *T { return &v }

// MustFields asserts that err is an Invalid *models.Error and returns its
// fields.
func MustFields(tb testing.TB, err error) map[string][]string {
	tb.Helper()
	var e *models.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want *models.Error", err, err)
	}
	if e.Code != models.CodeInvalid {
		tb.Fatalf("code = %q, want %q", e.Code, models.CodeInvalid)
	}
	return e.Fields
}

// checkInvalid asserts err against want: nil want means no error; otherwise
// err must be one Invalid error whose field keys are exactly want's keys, and
// for each key with a non-empty message list, exactly those messages.
func checkInvalid(tb testing.TB, err error, want map[string][]string) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("error = %v, want nil", err)
		}
		return
	}
	if err == nil {
		tb.Fatalf("error = nil, want fields %v", slices.Sorted(maps.Keys(want)))
	}
	got := MustFields(tb, err)
	gotKeys, wantKeys := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))
	if !slices.Equal(gotKeys, wantKeys) {
		tb.Fatalf("fields = %v, want %v (error: %v)", gotKeys, wantKeys, err)
	}
	for k, msgs := range want {
		if len(msgs) > 0 && !slices.Equal(got[k], msgs) {
			tb.Errorf("%s messages = %q, want %q", k, got[k], msgs)
		}
	}
}

// f builds a want with the given keys and no message check.
func f(keys ...string) map[string][]string {
	m := map[string][]string{}
	for _, k := range keys {
		m[k] = nil
	}
	return m
}

// msg builds a want with one field and its exact messages.
func msg(key string, msgs ...string) map[string][]string {
	return map[string][]string{key: msgs}
}

func tooLong(n int) string {
	return fmt.Sprintf("Ensure this field has no more than %d characters.", n)
}

func validPatient() models.PatientPatch {
	return models.PatientPatch{
		FirstName:   ptr("Ann"),
		LastName:    ptr("Lee"),
		Email:       ptr("ann@example.com"),
		Phone:       ptr("+919876543210"),
		DateOfBirth: ptr(models.NewDate(1990, time.March, 4)),
		Gender:      ptr(models.GenderFemale),
		BloodGroup:  ptr(models.BloodAPos),
		City:        ptr("Pune"),
	}
}

func TestPatientPatchValidate(t *testing.T) {
	tests := []struct {
		name   string
		full   bool
		base   func() models.PatientPatch // validPatient when nil
		modify func(*models.PatientPatch)
		want   map[string][]string
	}{
		{name: "ok", full: true},
		{name: "empty_patch_ok", base: func() models.PatientPatch { return models.PatientPatch{} }},
		{
			name: "missing_required_on_create",
			full: true,
			base: func() models.PatientPatch { return models.PatientPatch{} },
			want: map[string][]string{
				"first_name":    {models.MsgRequired},
				"last_name":     {models.MsgRequired},
				"phone":         {models.MsgRequired},
				"date_of_birth": {models.MsgRequired},
				"gender":        {models.MsgRequired},
			},
		},
		{
			name:   "optional_fields_absent_on_create_ok",
			full:   true,
			modify: func(p *models.PatientPatch) { p.Email, p.BloodGroup, p.City = nil, nil, nil },
		},
		{name: "blank_first_name", full: true, modify: func(p *models.PatientPatch) { p.FirstName = ptr("   ") }, want: msg("first_name", models.MsgBlank)},
		{name: "blank_first_name_on_patch", modify: func(p *models.PatientPatch) { p.FirstName = ptr("") }, want: msg("first_name", models.MsgBlank)},
		{name: "blank_phone_on_patch", modify: func(p *models.PatientPatch) { p.Phone = ptr(" ") }, want: msg("phone", models.MsgBlank)},
		{name: "first_name_100_runes_ok", full: true, modify: func(p *models.PatientPatch) { p.FirstName = ptr(strings.Repeat("é", 100)) }},
		{name: "first_name_too_long", full: true, modify: func(p *models.PatientPatch) { p.FirstName = ptr(strings.Repeat("é", 101)) }, want: msg("first_name", msgTooLong100)},
		{name: "null_character", full: true, modify: func(p *models.PatientPatch) { p.LastName = ptr("Le\x00e") }, want: msg("last_name", "Null characters are not allowed.")},
		{name: "email_empty_on_optional_ok", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("") }},
		{name: "email_display_name", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("A <a@b.com>") }, want: msg("email", msgBadEmail)},
		{name: "email_no_tld", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("ann@example") }, want: msg("email", msgBadEmail)},
		{name: "email_inner_space", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("ann lee@example.com") }, want: msg("email", msgBadEmail)},
		{name: "email_no_at", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("ann.example.com") }, want: msg("email", msgBadEmail)},
		{name: "email_two_ats", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("ann@lee@example.com") }, want: msg("email", msgBadEmail)},
		{name: "email_double_dot", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("ann..lee@example.com") }, want: msg("email", msgBadEmail)},
		{name: "email_quoted_local", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr(`"ann lee"@example.com`) }, want: msg("email", msgBadEmail)},
		{name: "email_ip_literal", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr("ann@[10.0.0.1]") }, want: msg("email", msgBadEmail)},
		{name: "email_too_long", full: true, modify: func(p *models.PatientPatch) { p.Email = ptr(strings.Repeat("a", 243) + "@example.com") }, want: msg("email", tooLong(254))},
		{name: "phone_not_e164", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("919876543210") }, want: msg("phone", msgBadPhone)},
		{name: "phone_too_short", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("+9112345") }, want: msg("phone", msgBadPhone)},
		{name: "phone_8_digits_ok", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("+91123456") }},
		{name: "phone_15_digits_ok", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("+123456789012345") }},
		{name: "phone_16_digits", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("+1234567890123456") }, want: msg("phone", tooLong(16))},
		{name: "phone_letters", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("+91987654321O") }, want: msg("phone", msgBadPhone)},
		{name: "phone_country_code_zero", full: true, modify: func(p *models.PatientPatch) { p.Phone = ptr("+0919876543210") }, want: msg("phone", msgBadPhone)},
		{name: "emergency_phone_invalid", modify: func(p *models.PatientPatch) { p.EmergencyContactPhone = ptr("12345") }, want: msg("emergency_contact_phone", msgBadPhone)},
		{name: "emergency_phone_empty_ok", modify: func(p *models.PatientPatch) { p.EmergencyContactPhone = ptr("") }},
		{name: "future_date_of_birth", full: true, modify: func(p *models.PatientPatch) { p.DateOfBirth = ptr(models.NewDate(2024, time.June, 16)) }, want: msg("date_of_birth", msgFuture)},
		{name: "future_date_of_birth_on_patch", modify: func(p *models.PatientPatch) { p.DateOfBirth = ptr(models.NewDate(2030, time.January, 1)) }, want: msg("date_of_birth", msgFuture)},
		{name: "born_today_ok", full: true, modify: func(p *models.PatientPatch) { p.DateOfBirth = ptr(today) }},
		{name: "age_150_ok", full: true, modify: func(p *models.PatientPatch) { p.DateOfBirth = ptr(models.NewDate(1873, time.June, 16)) }},
		{name: "age_over_150", full: true, modify: func(p *models.PatientPatch) { p.DateOfBirth = ptr(models.NewDate(1873, time.June, 15)) }, want: msg("date_of_birth", msgAge)},
		{name: "zero_date_of_birth", modify: func(p *models.PatientPatch) { p.DateOfBirth = &models.Date{} }, want: msg("date_of_birth", models.MsgRequired)},
		{name: "gender_invalid", full: true, modify: func(p *models.PatientPatch) { p.Gender = ptr(models.Gender("X")) }, want: msg("gender", `"X" is not a valid choice; use one of M, F, O.`)},
		{name: "gender_lower_case", full: true, modify: func(p *models.PatientPatch) { p.Gender = ptr(models.Gender("f")) }, want: f("gender")},
		{name: "gender_empty", modify: func(p *models.PatientPatch) { p.Gender = ptr(models.Gender("")) }, want: f("gender")},
		{name: "blood_group_graphql_spelling", full: true, modify: func(p *models.PatientPatch) { p.BloodGroup = ptr(models.BloodGroup("A_POS")) }, want: msg("blood_group", `"A_POS" is not a valid choice; use one of A+, A-, B+, B-, AB+, AB-, O+, O-.`)},
		{name: "blood_group_empty_ok", full: true, modify: func(p *models.PatientPatch) { p.BloodGroup = ptr(models.BloodGroup("")) }},
		{
			name: "all_failing_fields_at_once",
			full: true,
			modify: func(p *models.PatientPatch) {
				p.FirstName = ptr("")
				p.LastName = nil
				p.Email = ptr("A <a@b.com>")
				p.Phone = ptr("98765")
				p.DateOfBirth = ptr(models.NewDate(2025, time.January, 1))
				p.Gender = ptr(models.Gender("male"))
				p.PostalCode = ptr(strings.Repeat("1", 21))
			},
			want: map[string][]string{
				"first_name":    {models.MsgBlank},
				"last_name":     {models.MsgRequired},
				"email":         {msgBadEmail},
				"phone":         {msgBadPhone},
				"date_of_birth": {msgFuture},
				"gender":        nil,
				"postal_code":   {tooLong(20)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPatient()
			if tt.base != nil {
				p = tt.base()
			}
			if tt.modify != nil {
				tt.modify(&p)
			}
			checkInvalid(t, validatePatient(&p, tt.full), tt.want)
		})
	}
}

func TestPatientPatchValidateMaxLengths(t *testing.T) {
	fields := []struct {
		name string
		max  int
		set  func(*models.PatientPatch, string)
	}{
		{"first_name", 100, func(p *models.PatientPatch, s string) { p.FirstName = &s }},
		{"last_name", 100, func(p *models.PatientPatch, s string) { p.LastName = &s }},
		{"address", 500, func(p *models.PatientPatch, s string) { p.Address = &s }},
		{"city", 100, func(p *models.PatientPatch, s string) { p.City = &s }},
		{"state", 100, func(p *models.PatientPatch, s string) { p.State = &s }},
		{"postal_code", 20, func(p *models.PatientPatch, s string) { p.PostalCode = &s }},
		{"country", 100, func(p *models.PatientPatch, s string) { p.Country = &s }},
		{"medical_history", 10000, func(p *models.PatientPatch, s string) { p.MedicalHistory = &s }},
		{"allergies", 5000, func(p *models.PatientPatch, s string) { p.Allergies = &s }},
		{"current_medications", 5000, func(p *models.PatientPatch, s string) { p.CurrentMedications = &s }},
		{"emergency_contact_name", 200, func(p *models.PatientPatch, s string) { p.EmergencyContactName = &s }},
		{"emergency_contact_relation", 50, func(p *models.PatientPatch, s string) { p.EmergencyContactRelation = &s }},
	}
	for _, fl := range fields {
		t.Run(fl.name+"_at_max_ok", func(t *testing.T) {
			var p models.PatientPatch
			fl.set(&p, strings.Repeat("x", fl.max))
			checkInvalid(t, validatePatient(&p, false), nil)
		})
		t.Run(fl.name+"_too_long", func(t *testing.T) {
			var p models.PatientPatch
			fl.set(&p, strings.Repeat("x", fl.max+1))
			checkInvalid(t, validatePatient(&p, false), msg(fl.name, tooLong(fl.max)))
		})
	}
}

func TestPatientPatchValidateNormalizes(t *testing.T) {
	p := validPatient()
	p.FirstName = ptr("  Ann  ")
	p.Email = ptr("  Ann.Lee@Example.COM ")
	p.Phone = ptr("+91 98765-43210")
	p.EmergencyContactPhone = ptr("+1 (415) 555.2671")
	checkInvalid(t, validatePatient(&p, true), nil)
	for _, c := range []struct{ field, got, want string }{
		{"first_name", *p.FirstName, "Ann"},
		{"email", *p.Email, "ann.lee@example.com"},
		{"phone", *p.Phone, "+919876543210"},
		{"emergency_contact_phone", *p.EmergencyContactPhone, "+14155552671"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
}

func validDoctor() models.DoctorPatch {
	return models.DoctorPatch{
		FirstName:       ptr("Ravi"),
		LastName:        ptr("Kumar"),
		Email:           ptr("ravi@example.com"),
		Phone:           ptr("+919812345678"),
		Specialization:  ptr(models.Specialization("CARDIOLOGY")),
		Qualification:   ptr("MBBS, MD"),
		LicenseNumber:   ptr("MH-12345"),
		ExperienceYears: ptr(12),
		ConsultationFee: ptr(500.0),
	}
}

func TestDoctorPatchValidate(t *testing.T) {
	tests := []struct {
		name   string
		full   bool
		base   func() models.DoctorPatch
		modify func(*models.DoctorPatch)
		want   map[string][]string
	}{
		{name: "ok", full: true},
		{name: "empty_patch_ok", base: func() models.DoctorPatch { return models.DoctorPatch{} }},
		{
			name: "missing_required_on_create",
			full: true,
			base: func() models.DoctorPatch { return models.DoctorPatch{} },
			want: map[string][]string{
				"first_name":       {models.MsgRequired},
				"last_name":        {models.MsgRequired},
				"email":            {models.MsgRequired},
				"phone":            {models.MsgRequired},
				"specialization":   {models.MsgRequired},
				"qualification":    {models.MsgRequired},
				"license_number":   {models.MsgRequired},
				"experience_years": {models.MsgRequired},
				"consultation_fee": {models.MsgRequired},
			},
		},
		{name: "blank_email", modify: func(d *models.DoctorPatch) { d.Email = ptr(" ") }, want: msg("email", models.MsgBlank)},
		{name: "email_no_tld", full: true, modify: func(d *models.DoctorPatch) { d.Email = ptr("ravi@clinic") }, want: msg("email", msgBadEmail)},
		{name: "phone_not_e164", full: true, modify: func(d *models.DoctorPatch) { d.Phone = ptr("09812345678") }, want: msg("phone", msgBadPhone)},
		{name: "date_of_birth_absent_ok", full: true, modify: func(d *models.DoctorPatch) { d.DateOfBirth = nil }},
		{name: "zero_date_of_birth_ok", full: true, modify: func(d *models.DoctorPatch) { d.DateOfBirth = &models.Date{} }},
		{name: "future_date_of_birth", full: true, modify: func(d *models.DoctorPatch) { d.DateOfBirth = ptr(models.NewDate(2024, time.June, 16)) }, want: msg("date_of_birth", msgFuture)},
		{name: "age_over_150", full: true, modify: func(d *models.DoctorPatch) { d.DateOfBirth = ptr(models.NewDate(1800, time.January, 1)) }, want: msg("date_of_birth", msgAge)},
		{name: "gender_empty_ok", full: true, modify: func(d *models.DoctorPatch) { d.Gender = ptr(models.Gender("")) }},
		{name: "gender_invalid", full: true, modify: func(d *models.DoctorPatch) { d.Gender = ptr(models.Gender("Z")) }, want: f("gender")},
		{name: "specialization_invalid", full: true, modify: func(d *models.DoctorPatch) { d.Specialization = ptr(models.Specialization("cardiology")) }, want: f("specialization")},
		{name: "specialization_empty", modify: func(d *models.DoctorPatch) { d.Specialization = ptr(models.Specialization("")) }, want: f("specialization")},
		{name: "qualification_too_long", full: true, modify: func(d *models.DoctorPatch) { d.Qualification = ptr(strings.Repeat("q", 201)) }, want: msg("qualification", tooLong(200))},
		{name: "license_number_too_long", full: true, modify: func(d *models.DoctorPatch) { d.LicenseNumber = ptr(strings.Repeat("L", 51)) }, want: msg("license_number", tooLong(50))},
		{name: "license_number_blank", full: true, modify: func(d *models.DoctorPatch) { d.LicenseNumber = ptr("  ") }, want: msg("license_number", models.MsgBlank)},
		{name: "experience_zero_ok", full: true, modify: func(d *models.DoctorPatch) { d.ExperienceYears = ptr(0) }},
		{name: "experience_80_ok", full: true, modify: func(d *models.DoctorPatch) { d.ExperienceYears = ptr(80) }},
		{name: "experience_negative", full: true, modify: func(d *models.DoctorPatch) { d.ExperienceYears = ptr(-1) }, want: msg("experience_years", msgExperience)},
		{name: "experience_over_80", full: true, modify: func(d *models.DoctorPatch) { d.ExperienceYears = ptr(81) }, want: msg("experience_years", msgExperience)},
		{name: "fee_zero_ok", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(0.0) }},
		{name: "fee_two_decimals_ok", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(19.99) }},
		{name: "fee_max_ok", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(99_999_999.99) }},
		{name: "fee_negative", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(-0.01) }, want: msg("consultation_fee", msgFeeNegative)},
		{name: "fee_over_max", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(100_000_000.0) }, want: msg("consultation_fee", msgFeeMax)},
		{name: "fee_three_decimals", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(10.005) }, want: msg("consultation_fee", msgFeeDecimals)},
		{name: "fee_five_decimals", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(10.00001) }, want: msg("consultation_fee", msgFeeDecimals)},
		{name: "fee_nan", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(math.NaN()) }, want: msg("consultation_fee", msgFeeNegative)},
		{name: "fee_infinite", full: true, modify: func(d *models.DoctorPatch) { d.ConsultationFee = ptr(math.Inf(1)) }, want: msg("consultation_fee", msgFeeNegative)},
		{name: "bio_too_long", modify: func(d *models.DoctorPatch) { d.Bio = ptr(strings.Repeat("b", 5001)) }, want: msg("bio", tooLong(5000))},
		{name: "clinic_address_too_long", modify: func(d *models.DoctorPatch) { d.ClinicAddress = ptr(strings.Repeat("c", 501)) }, want: msg("clinic_address", tooLong(500))},
		{name: "languages_spoken_too_long", modify: func(d *models.DoctorPatch) { d.LanguagesSpoken = ptr(strings.Repeat("l", 201)) }, want: msg("languages_spoken", tooLong(200))},
		{name: "available_days_too_long", modify: func(d *models.DoctorPatch) { d.AvailableDays = ptr(strings.Repeat("d", 101)) }, want: msg("available_days", tooLong(100))},
		{
			name: "all_failing_fields_at_once",
			full: true,
			modify: func(d *models.DoctorPatch) {
				d.Email = ptr("not-an-email")
				d.ExperienceYears = ptr(-3)
				d.ConsultationFee = ptr(1.234)
				d.Specialization = nil
			},
			want: map[string][]string{
				"email":            {msgBadEmail},
				"experience_years": {msgExperience},
				"consultation_fee": {msgFeeDecimals},
				"specialization":   {models.MsgRequired},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDoctor()
			if tt.base != nil {
				d = tt.base()
			}
			if tt.modify != nil {
				tt.modify(&d)
			}
			checkInvalid(t, validateDoctor(&d, tt.full), tt.want)
		})
	}
}

func TestDoctorPatchValidateNormalizes(t *testing.T) {
	d := validDoctor()
	d.LicenseNumber = ptr("  mh-12345x ")
	d.Email = ptr(" Ravi.Kumar@Clinic.IN")
	d.Phone = ptr("+91 98123-45678")
	checkInvalid(t, validateDoctor(&d, true), nil)
	if got := *d.LicenseNumber; got != "MH-12345X" {
		t.Errorf("license_number = %q, want upper-cased %q", got, "MH-12345X")
	}
	if got := *d.Email; got != "ravi.kumar@clinic.in" {
		t.Errorf("email = %q, want lower-cased %q", got, "ravi.kumar@clinic.in")
	}
	if got := *d.Phone; got != "+919812345678" {
		t.Errorf("phone = %q, want %q", got, "+919812345678")
	}
}

func TestMappingInputValidate(t *testing.T) {
	valid := func() models.MappingInput {
		return models.MappingInput{PatientID: ptr(int64(1)), DoctorID: ptr(int64(2)), Reason: ptr("Follow-up")}
	}
	tests := []struct {
		name   string
		modify func(*models.MappingInput)
		want   map[string][]string
	}{
		{name: "ok"},
		{name: "status_completed_ok", modify: func(m *models.MappingInput) { m.Status = ptr(models.StatusCompleted) }},
		{name: "status_empty_ok", modify: func(m *models.MappingInput) { m.Status = ptr(models.MappingStatus("")) }},
		{
			name:   "missing_patient_and_doctor",
			modify: func(m *models.MappingInput) { m.PatientID, m.DoctorID = nil, nil },
			want:   map[string][]string{"patient": {models.MsgRequired}, "doctor": {models.MsgRequired}},
		},
		{name: "patient_zero", modify: func(m *models.MappingInput) { m.PatientID = ptr(int64(0)) }, want: msg("patient", msgInvalidPK)},
		{name: "doctor_negative", modify: func(m *models.MappingInput) { m.DoctorID = ptr(int64(-4)) }, want: msg("doctor", msgInvalidPK)},
		{name: "reason_too_long", modify: func(m *models.MappingInput) { m.Reason = ptr(strings.Repeat("r", 2001)) }, want: msg("reason", tooLong(2000))},
		{name: "notes_too_long", modify: func(m *models.MappingInput) { m.Notes = ptr(strings.Repeat("n", 5001)) }, want: msg("notes", tooLong(5000))},
		{name: "status_lower_case", modify: func(m *models.MappingInput) { m.Status = ptr(models.MappingStatus("active")) }, want: msg("status", `"active" is not a valid choice; use one of ACTIVE, INACTIVE, COMPLETED.`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			if tt.modify != nil {
				tt.modify(&m)
			}
			checkInvalid(t, m.Validate(), tt.want)
		})
	}
}

func TestMappingPatchValidate(t *testing.T) {
	tests := []struct {
		name  string
		patch models.MappingPatch
		want  map[string][]string
	}{
		{name: "empty_ok"},
		{name: "clear_reason_ok", patch: models.MappingPatch{Reason: ptr("")}},
		{name: "status_inactive_ok", patch: models.MappingPatch{Status: ptr(models.StatusInactive)}},
		{name: "status_blank", patch: models.MappingPatch{Status: ptr(models.MappingStatus(""))}, want: msg("status", models.MsgBlank)},
		{name: "status_invalid", patch: models.MappingPatch{Status: ptr(models.MappingStatus("DONE"))}, want: f("status")},
		{name: "notes_too_long", patch: models.MappingPatch{Notes: ptr(strings.Repeat("n", 5001))}, want: msg("notes", tooLong(5000))},
		{
			name:  "all_failing_fields_at_once",
			patch: models.MappingPatch{Reason: ptr(strings.Repeat("r", 2001)), Status: ptr(models.MappingStatus("x"))},
			want:  f("reason", "status"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, tt.patch.Validate(), tt.want)
		})
	}
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ann@example.com", true},
		{"ann.lee+tag@mail.example.co.in", true},
		{"o'brien@example.ie", true},
		{"A <a@b.com>", false},
		{"<a@b.com>", false},
		{"a@b", false},
		{"a @b.com", false},
		{"a@b .com", false},
		{"", false},
		{"@example.com", false},
		{"ann@", false},
		{".ann@example.com", false},
		{"ann.@example.com", false},
		{"ann@-example.com", false},
		{"ann@example-.com", false},
		{`"a b"@example.com`, false},
		{"ann@[127.0.0.1]", false},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63), false}, // 256 chars: over 254
	}
	for _, tt := range tests {
		if got := models.ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidPhone(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+919876543210", true},
		{"+14155552671", true},
		{"+12345678", true},
		{"+123456789012345", true},
		{"919876543210", false},
		{"+1234567", false},
		{"+1234567890123456", false},
		{"+91 9876543210", false},
		{"+91abcdefghij", false},
		{"+0123456789", false},
		{"", false},
		{"+", false},
	}
	for _, tt := range tests {
		if got := models.ValidPhone(tt.in); got != tt.want {
			t.Errorf("ValidPhone(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+91 98765-43210", "+919876543210"},
		{"+1 (415) 555.2671", "+14155552671"},
		{"+44\t20 7946 0958", "+442079460958"},
		{"+919876543210", "+919876543210"},
		{"+91/9876543210", "+91/9876543210"},
	}
	for _, tt := range tests {
		if got := models.NormalizePhone(tt.in); got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPatientPatchApply(t *testing.T) {
	base := func() models.Patient {
		return models.Patient{
			FirstName:   "Ann",
			LastName:    "Lee",
			Email:       ptr("ann@example.com"),
			Phone:       "+919876543210",
			DateOfBirth: models.NewDate(1990, time.March, 4),
			Gender:      models.GenderFemale,
			BloodGroup:  ptr(models.BloodOPos),
			IsActive:    true,
		}
	}
	tests := []struct {
		name  string
		patch models.PatientPatch
		want  []string
		check func(*testing.T, *models.Patient)
	}{
		{name: "empty_patch_no_change"},
		{
			name: "unchanged_values_no_change",
			patch: models.PatientPatch{
				FirstName: ptr("Ann"), Email: ptr("ann@example.com"), DateOfBirth: ptr(models.NewDate(1990, time.March, 4)),
				Gender: ptr(models.GenderFemale), BloodGroup: ptr(models.BloodOPos), IsActive: ptr(true), City: ptr(""),
			},
		},
		{
			name:  "changed_required_fields",
			patch: models.PatientPatch{FirstName: ptr("Ann"), LastName: ptr("Li"), Phone: ptr("+14155552671")},
			want:  []string{"last_name", "phone"},
			check: func(t *testing.T, p *models.Patient) {
				if p.LastName != "Li" || p.Phone != "+14155552671" || p.FirstName != "Ann" {
					t.Errorf("patient = %q %q %q", p.FirstName, p.LastName, p.Phone)
				}
			},
		},
		{
			name:  "empty_string_clears_optional",
			patch: models.PatientPatch{Email: ptr(""), BloodGroup: ptr(models.BloodGroup(""))},
			want:  []string{"email", "blood_group"},
			check: func(t *testing.T, p *models.Patient) {
				if p.Email != nil || p.BloodGroup != nil {
					t.Errorf("email = %v, blood_group = %v, want both nil", p.Email, p.BloodGroup)
				}
			},
		},
		{
			name:  "optional_set_from_nil",
			patch: models.PatientPatch{City: ptr("Pune")},
			want:  []string{"city"},
			check: func(t *testing.T, p *models.Patient) {
				if p.City == nil || *p.City != "Pune" {
					t.Errorf("city = %v, want Pune", p.City)
				}
			},
		},
		{
			name:  "optional_changed",
			patch: models.PatientPatch{Email: ptr("ann.lee@example.com"), BloodGroup: ptr(models.BloodABNeg)},
			want:  []string{"email", "blood_group"},
			check: func(t *testing.T, p *models.Patient) {
				if *p.Email != "ann.lee@example.com" || *p.BloodGroup != models.BloodABNeg {
					t.Errorf("email = %q, blood_group = %q", *p.Email, *p.BloodGroup)
				}
			},
		},
		{
			name:  "date_gender_active_changed",
			patch: models.PatientPatch{DateOfBirth: ptr(models.NewDate(1991, time.March, 4)), Gender: ptr(models.GenderOther), IsActive: ptr(false)},
			want:  []string{"date_of_birth", "gender", "is_active"},
			check: func(t *testing.T, p *models.Patient) {
				if p.DateOfBirth.String() != "1991-03-04" || p.Gender != models.GenderOther || p.IsActive {
					t.Errorf("dob = %s, gender = %q, active = %v", p.DateOfBirth, p.Gender, p.IsActive)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			got := tt.patch.Apply(&p)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("changed = %q, want %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, &p)
			}
		})
	}
}

func TestPatientPatchApplyCopiesValues(t *testing.T) {
	city := "Pune"
	in := models.PatientPatch{City: &city}
	var p models.Patient
	in.Apply(&p)
	city = "Mumbai"
	if p.City == nil || *p.City != "Pune" {
		t.Fatalf("patient city = %v after the patch's string changed; Apply must copy", p.City)
	}
}

func TestDoctorPatchApply(t *testing.T) {
	base := func() models.Doctor {
		return models.Doctor{
			FirstName: "Ravi", LicenseNumber: "MH-1", Specialization: "CARDIOLOGY", ExperienceYears: 5,
			ConsultationFee: 500, Gender: ptr(models.GenderMale), Bio: ptr("Cardiologist"),
		}
	}
	tests := []struct {
		name  string
		patch models.DoctorPatch
		want  []string
		check func(*testing.T, *models.Doctor)
	}{
		{name: "empty_patch_no_change"},
		{
			name: "unchanged_values_no_change",
			patch: models.DoctorPatch{
				FirstName: ptr("Ravi"), ConsultationFee: ptr(500.0), ExperienceYears: ptr(5),
				Gender: ptr(models.GenderMale), Specialization: ptr(models.Specialization("CARDIOLOGY")), Bio: ptr("Cardiologist"),
			},
		},
		{
			name:  "fee_and_experience_changed",
			patch: models.DoctorPatch{ConsultationFee: ptr(750.5), ExperienceYears: ptr(6)},
			want:  []string{"experience_years", "consultation_fee"},
			check: func(t *testing.T, d *models.Doctor) {
				if d.ConsultationFee != 750.5 || d.ExperienceYears != 6 {
					t.Errorf("fee = %v, experience = %d", d.ConsultationFee, d.ExperienceYears)
				}
			},
		},
		{
			name:  "empty_string_clears_optional",
			patch: models.DoctorPatch{Bio: ptr(""), Gender: ptr(models.Gender(""))},
			want:  []string{"gender", "bio"},
			check: func(t *testing.T, d *models.Doctor) {
				if d.Bio != nil || d.Gender != nil {
					t.Errorf("bio = %v, gender = %v, want nil", d.Bio, d.Gender)
				}
			},
		},
		{
			name:  "date_of_birth_set",
			patch: models.DoctorPatch{DateOfBirth: ptr(models.NewDate(1980, time.May, 1)), LicenseNumber: ptr("MH-2")},
			want:  []string{"date_of_birth", "license_number"},
			check: func(t *testing.T, d *models.Doctor) {
				if d.DateOfBirth == nil || d.DateOfBirth.String() != "1980-05-01" || d.LicenseNumber != "MH-2" {
					t.Errorf("dob = %v, license = %q", d.DateOfBirth, d.LicenseNumber)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			got := tt.patch.Apply(&d)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("changed = %q, want %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, &d)
			}
		})
	}
}

func TestMappingPatchApply(t *testing.T) {
	tests := []struct {
		name  string
		patch models.MappingPatch
		want  []string
	}{
		{name: "empty_patch_no_change"},
		{name: "unchanged_values_no_change", patch: models.MappingPatch{Reason: ptr("Check-up"), Status: ptr(models.StatusActive), Notes: ptr("")}},
		{name: "status_changed", patch: models.MappingPatch{Status: ptr(models.StatusCompleted)}, want: []string{"status"}},
		{name: "empty_string_clears_reason", patch: models.MappingPatch{Reason: ptr(""), Notes: ptr("Fasting")}, want: []string{"reason", "notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := models.Mapping{Reason: ptr("Check-up"), Status: models.StatusActive}
			got := tt.patch.Apply(&m)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("changed = %q, want %q", got, tt.want)
			}
			if tt.patch.Reason != nil && *tt.patch.Reason == "" && m.Reason != nil {
				t.Errorf("reason = %q, want nil", *m.Reason)
			}
			if tt.patch.Status != nil && m.Status != *tt.patch.Status {
				t.Errorf("status = %q, want %q", m.Status, *tt.patch.Status)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	t.Run("zero_value_no_error", func(t *testing.T) {
		var fe models.FieldErrors
		if err := fe.Err(); err != nil {
			t.Fatalf("Err() = %v, want nil", err)
		}
	})
	t.Run("collects_every_message", func(t *testing.T) {
		var fe models.FieldErrors
		fe.Add("name", "first")
		fe.Add("name", "second")
		fe.Add("email", "third")
		err := fe.Err()
		checkInvalid(t, err, map[string][]string{"name": {"first", "second"}, "email": {"third"}})
		const want = "BAD_USER_INPUT: Validation failed.; email: third; name: first, second"
		if err.Error() != want {
			t.Errorf("Error() = %q, want %q", err.Error(), want)
		}
	})
}

func TestError(t *testing.T) {
	cause := errors.New("dial tcp: refused")
	tests := []struct {
		name     string
		err      error
		wantCode models.Code
		wantText string
	}{
		{"not_found", models.NotFound("Patient"), models.CodeNotFound, "NOT_FOUND: Patient not found."},
		{"forbidden", models.Forbidden("Only the creator may change this doctor."), models.CodeForbidden, "FORBIDDEN: Only the creator may change this doctor."},
		{"unauthenticated_default_message", models.Unauthenticated(""), models.CodeUnauthenticated, "UNAUTHENTICATED: Authentication credentials were not provided."},
		{"invalid_field", models.InvalidField("email", "taken"), models.CodeInvalid, "BAD_USER_INPUT: Validation failed.; email: taken"},
		{"unavailable_has_cause", models.Unavailable(cause), models.CodeUnavailable, "SERVICE_UNAVAILABLE: The service is temporarily unavailable; try again shortly.: dial tcp: refused"},
		{"wrapped_keeps_code", fmt.Errorf("store: %w", models.NotFound("Doctor")), models.CodeNotFound, "store: NOT_FOUND: Doctor not found."},
		{"plain_error_internal", errors.New("boom"), models.CodeInternal, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := models.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := tt.err.Error(); got != tt.wantText {
				t.Errorf("Error() = %q, want %q", got, tt.wantText)
			}
		})
	}
	t.Run("unwrap_cause", func(t *testing.T) {
		if !errors.Is(models.Unavailable(cause), cause) {
			t.Fatal("errors.Is(Unavailable(cause), cause) = false")
		}
	})
}

// validatePatient validates p as a whole input (full) or as a patch.
func validatePatient(p *models.PatientPatch, full bool) error {
	if full {
		return (*models.PatientInput)(p).Validate(today)
	}
	return p.Validate(today)
}

// validateDoctor validates d as a whole input (full) or as a patch.
func validateDoctor(d *models.DoctorPatch, full bool) error {
	if full {
		return (*models.DoctorInput)(d).Validate(today)
	}
	return d.Validate(today)
}
