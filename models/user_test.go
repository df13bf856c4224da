package models_test

import (
	"slices"
	"strings"
	"testing"

	"healthcare/models"
)

const (
	pwShort    = "This password is too short. It must contain at least 8 characters."
	pwLong     = "This password is too long. It must contain at most 256 characters."
	pwNumeric  = "This password is entirely numeric."
	pwCommon   = "This password is too common."
	pwSimName  = "The password is too similar to the name."
	pwSimEmail = "The password is too similar to the email address."
	pwMismatch = "Passwords do not match."

	// strongPassword is in no list and like no name used here.
	strongPassword = "Zx9!vQ27#mLp"
)

func TestPasswordProblems(t *testing.T) {
	margaretha := map[string]string{"name": "Margaretha Quintessa", "email address": "mq@example.com"}
	tests := []struct {
		name  string
		pw    string
		attrs map[string]string
		want  []string
	}{
		{name: "strong_ok", pw: strongPassword, attrs: margaretha},
		{name: "no_attributes_ok", pw: strongPassword},
		{name: "exactly_8_characters_ok", pw: "Ab3$xyzQ"},
		{name: "too_short", pw: "Ab3$xyz", want: []string{pwShort}},
		{name: "too_short_counts_characters_not_bytes", pw: "ééééééé", want: []string{pwShort}},
		{name: "256_characters_ok", pw: strings.Repeat("Zx9!vQ27", 32)},
		{name: "too_long", pw: strings.Repeat("Zx9!vQ27", 32) + "a", want: []string{pwLong}},
		{name: "entirely_numeric", pw: "83920174", want: []string{pwNumeric}},
		{name: "digits_and_letter_not_numeric", pw: "83920174a"},
		{name: "too_common", pw: "password123", want: []string{pwCommon}},
		{name: "too_common_qwerty123", pw: "qwerty123", want: []string{pwCommon}},
		{name: "too_common_ignores_case_and_spaces", pw: " PassWord123 ", want: []string{pwCommon}},
		{name: "numeric_and_common", pw: "12345678", want: []string{pwNumeric, pwCommon}},
		{name: "short_numeric_and_common", pw: "123456", want: []string{pwShort, pwNumeric, pwCommon}},
		{name: "too_similar_to_name_part", pw: "quintessa", attrs: margaretha, want: []string{pwSimName}},
		{name: "too_similar_to_name_ignores_case", pw: "MARGARETHA", attrs: margaretha, want: []string{pwSimName}},
		// Django uses quick_ratio, which compares multisets of characters:
		// the reversed part is as similar as the part itself.
		{name: "too_similar_to_name_reversed", pw: "assetniuq", attrs: margaretha, want: []string{pwSimName}},
		{name: "too_similar_to_email_part", pw: "quintessa", attrs: map[string]string{"name": "Ann Lee", "email address": "quintessa@example.com"}, want: []string{pwSimEmail}},
		{name: "too_similar_to_name_and_email", pw: "quintessa", attrs: map[string]string{"name": "Quintessa", "email address": "quintessa@example.com"}, want: []string{pwSimName, pwSimEmail}},
		// 7 of 10 characters shared: 2*7/20 = 0.7, Django's threshold, is too similar.
		{name: "similarity_at_threshold", pw: "abcdefgxyz", attrs: map[string]string{"name": "abcdefghij"}, want: []string{pwSimName}},
		{name: "similarity_below_threshold_ok", pw: "abcdefwxyz", attrs: map[string]string{"name": "abcdefghij"}},
		{name: "unrelated_label_ignored", pw: "quintessa", attrs: map[string]string{"username": "quintessa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := models.PasswordProblems(tt.pw, tt.attrs)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("PasswordProblems(%q) = %q, want %q", tt.pw, got, tt.want)
			}
		})
	}
}

func TestRegisterInputValidate(t *testing.T) {
	valid := func() models.RegisterInput {
		return models.RegisterInput{
			Name: "Margaretha Quintessa", Email: "mq@example.com",
			Password: strongPassword, PasswordConfirm: strongPassword,
		}
	}
	tests := []struct {
		name   string
		modify func(*models.RegisterInput)
		want   map[string][]string
	}{
		{name: "ok"},
		{name: "blank_name", modify: func(r *models.RegisterInput) { r.Name = "  " }, want: msg("name", models.MsgBlank)},
		{name: "name_too_long", modify: func(r *models.RegisterInput) { r.Name = strings.Repeat("n", 151) }, want: msg("name", tooLong(150))},
		{name: "blank_email", modify: func(r *models.RegisterInput) { r.Email = "" }, want: msg("email", models.MsgBlank)},
		{name: "email_display_name", modify: func(r *models.RegisterInput) { r.Email = "Margaretha <mq@example.com>" }, want: msg("email", msgBadEmail)},
		{name: "blank_password", modify: func(r *models.RegisterInput) { r.Password = "" }, want: map[string][]string{
			"password":         {models.MsgBlank},
			"password_confirm": {pwMismatch},
		}},
		{name: "blank_password_confirm", modify: func(r *models.RegisterInput) { r.PasswordConfirm = "" }, want: msg("password_confirm", models.MsgBlank)},
		{name: "password_mismatch", modify: func(r *models.RegisterInput) { r.PasswordConfirm = strongPassword + "x" }, want: msg("password_confirm", pwMismatch)},
		{name: "password_mismatch_same_length", modify: func(r *models.RegisterInput) { r.PasswordConfirm = "Zx9!vQ27#mLP" }, want: msg("password_confirm", pwMismatch)},
		{name: "password_too_similar_to_name", modify: func(r *models.RegisterInput) {
			r.Password, r.PasswordConfirm = "quintessa", "quintessa"
		}, want: msg("password", pwSimName)},
		{name: "password_too_similar_to_email", modify: func(r *models.RegisterInput) {
			r.Email = "Quintessa.Q@Example.com"
			r.Name = "Ann Lee"
			r.Password, r.PasswordConfirm = "quintessa", "quintessa"
		}, want: msg("password", pwSimEmail)},
		{name: "password_every_problem_reported", modify: func(r *models.RegisterInput) {
			r.Password, r.PasswordConfirm = "123456", "123456"
		}, want: msg("password", pwShort, pwNumeric, pwCommon)},
		{
			name: "all_failing_fields_at_once",
			modify: func(r *models.RegisterInput) {
				*r = models.RegisterInput{Name: "", Email: "mq@example", Password: "password123", PasswordConfirm: "password12"}
			},
			want: map[string][]string{
				"name":             {models.MsgBlank},
				"email":            {msgBadEmail},
				"password":         {pwCommon},
				"password_confirm": {pwMismatch},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			if tt.modify != nil {
				tt.modify(&in)
			}
			checkInvalid(t, in.Validate(), tt.want)
		})
	}
}

func TestRegisterInputValidateNormalizes(t *testing.T) {
	in := models.RegisterInput{
		Name: "  Margaretha Quintessa ", Email: " MQ@Example.COM ",
		Password: " " + strongPassword, PasswordConfirm: " " + strongPassword,
	}
	checkInvalid(t, in.Validate(), nil)
	if in.Name != "Margaretha Quintessa" {
		t.Errorf("name = %q, want trimmed", in.Name)
	}
	if in.Email != "mq@example.com" {
		t.Errorf("email = %q, want lower-cased and trimmed", in.Email)
	}
	if in.Password != " "+strongPassword {
		t.Errorf("password = %q, must not be altered", in.Password)
	}
}

func TestLoginInputValidate(t *testing.T) {
	tests := []struct {
		name string
		in   models.LoginInput
		want map[string][]string
	}{
		{name: "ok", in: models.LoginInput{Email: "ann@example.com", Password: "x"}},
		{name: "blank_email", in: models.LoginInput{Email: "  ", Password: "x"}, want: msg("email", models.MsgBlank)},
		{name: "blank_password", in: models.LoginInput{Email: "ann@example.com"}, want: msg("password", models.MsgBlank)},
		{name: "both_blank", in: models.LoginInput{}, want: map[string][]string{"email": {models.MsgBlank}, "password": {models.MsgBlank}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, tt.in.Validate(), tt.want)
		})
	}
	t.Run("email_normalized", func(t *testing.T) {
		in := models.LoginInput{Email: " Ann@Example.COM ", Password: " pw "}
		checkInvalid(t, in.Validate(), nil)
		if in.Email != "ann@example.com" || in.Password != " pw " {
			t.Errorf("email = %q, password = %q; want email normalized, password untouched", in.Email, in.Password)
		}
	})
}

// TestPasswordProblemsNonASCIIName pins Django's word split: Python's \W is
// Unicode-aware, so "Margaretha Müller" has the parts "margaretha" and
// "müller"; RE2's \W is ASCII-only and splits "müller" into "m" and "ller".
func TestPasswordProblemsNonASCIIName(t *testing.T) {
	attrs := map[string]string{"name": "Margaretha Müller", "email address": "mm@example.com"}
	if got := models.PasswordProblems("müller123", attrs); !slices.Equal(got, []string{pwSimName}) {
		t.Fatalf("PasswordProblems = %q, want %q", got, []string{pwSimName})
	}
}

// TestPasswordProblemsNonASCIIDigits pins Django's NumericPasswordValidator,
// which uses str.isdigit: any Unicode decimal digit counts.
func TestPasswordProblemsNonASCIIDigits(t *testing.T) {
	if got := models.PasswordProblems("١٢٣٤٥٦٧٨٩", nil); !slices.Equal(got, []string{pwNumeric}) {
		t.Fatalf("PasswordProblems = %q, want %q", got, []string{pwNumeric})
	}
}
