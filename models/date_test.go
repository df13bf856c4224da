package models_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"healthcare/models"
)

func TestParseDate(t *testing.T) {
	t.Run("ok_leap_day", func(t *testing.T) {
		d, err := models.ParseDate("2024-02-29")
		if err != nil {
			t.Fatal(err)
		}
		if y, m, day := d.Date(); y != 2024 || m != time.February || day != 29 {
			t.Fatalf("ParseDate = %d-%d-%d", y, m, day)
		}
		if d.Location() != time.UTC || d.Hour() != 0 {
			t.Errorf("ParseDate = %v, want UTC midnight", d.Time)
		}
		if d.String() != "2024-02-29" {
			t.Errorf("String() = %q", d.String())
		}
	})
	for _, tc := range []struct{ name, in string }{
		{"feb_29_common_year", "2023-02-29"},
		{"month_13", "2024-13-01"},
		{"month_0", "2024-00-10"},
		{"two_digit_year", "24-01-01"},
		{"slashes", "2024/01/01"},
		{"unpadded", "2024-1-5"},
		{"timestamp", "2024-01-01T00:00:00Z"},
		{"leading_space", " 2024-01-01"},
		{"empty", ""},
	} {
		bad := tc.in
		t.Run("rejects_"+tc.name, func(t *testing.T) {
			_, err := models.ParseDate(bad)
			if err == nil {
				t.Fatalf("ParseDate(%q) = nil error", bad)
			}
			if want := `invalid date "` + bad + `", use YYYY-MM-DD`; err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestDateOf(t *testing.T) {
	// 23:30 on Jan 1 in New York is already Jan 2 in UTC; the date is the zone's own.
	ny := time.FixedZone("EST", -5*3600)
	d := models.DateOf(time.Date(2024, time.January, 1, 23, 30, 0, 0, ny))
	if d.String() != "2024-01-01" || d.Location() != time.UTC || d.Hour() != 0 {
		t.Fatalf("DateOf = %v, want 2024-01-01 UTC midnight", d.Time)
	}
}

func TestDateJSON(t *testing.T) {
	t.Run("round_trip", func(t *testing.T) {
		in := models.NewDate(1990, time.March, 4)
		b, err := json.Marshal(in)
		if err != nil || string(b) != `"1990-03-04"` {
			t.Fatalf("Marshal = %s, %v", b, err)
		}
		var out models.Date
		if err := json.Unmarshal(b, &out); err != nil || !out.Equal(in.Time) {
			t.Fatalf("Unmarshal(%s) = %v, %v", b, out, err)
		}
	})
	t.Run("in_patch_and_null", func(t *testing.T) {
		var p models.PatientPatch
		if err := json.Unmarshal([]byte(`{"date_of_birth":"2000-02-29"}`), &p); err != nil {
			t.Fatal(err)
		}
		if p.DateOfBirth == nil || p.DateOfBirth.String() != "2000-02-29" {
			t.Fatalf("date_of_birth = %v", p.DateOfBirth)
		}
		if err := json.Unmarshal([]byte(`{"date_of_birth":null}`), &p); err != nil || p.DateOfBirth != nil {
			t.Fatalf("null: date_of_birth = %v, %v; want nil", p.DateOfBirth, err)
		}
	})
	for _, tt := range []struct{ name, in, want string }{
		{"rejects_number", `20240229`, "date must be a string"},
		{"rejects_bad_date", `"2024-02-30"`, `invalid date "2024-02-30", use YYYY-MM-DD`},
		{"rejects_timestamp", `"2024-02-01T10:00:00Z"`, `invalid date "2024-02-01T10:00:00Z", use YYYY-MM-DD`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d models.Date
			err := d.UnmarshalJSON([]byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("UnmarshalJSON(%s) = %v, want %q", tt.in, err, tt.want)
			}
			if !d.IsZero() {
				t.Errorf("date set to %v on error", d)
			}
		})
	}
}

func TestDateGQL(t *testing.T) {
	var b bytes.Buffer
	models.NewDate(2001, time.December, 9).MarshalGQL(&b)
	if b.String() != `"2001-12-09"` {
		t.Fatalf("MarshalGQL wrote %s", b.String())
	}
	t.Run("ok", func(t *testing.T) {
		var d models.Date
		if err := d.UnmarshalGQL("2001-12-09"); err != nil || d.String() != "2001-12-09" {
			t.Fatalf("UnmarshalGQL = %v, %v", d, err)
		}
	})
	for _, tt := range []struct {
		name string
		in   any
	}{{"rejects_non_string", 20011209}, {"rejects_bad_date", "09/12/2001"}, {"rejects_nil", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			var d models.Date
			err := d.UnmarshalGQL(tt.in)
			var e *models.Error
			if !errors.As(err, &e) || e.Code != models.CodeInvalid || e.Message != "Enter a date in YYYY-MM-DD form." {
				t.Fatalf("UnmarshalGQL(%#v) = %v, want Invalid *Error", tt.in, err)
			}
		})
	}
}

func TestDateValue(t *testing.T) {
	if v, err := (models.Date{}).Value(); err != nil || v != nil {
		t.Errorf("zero Value() = %#v, %v; want nil (NULL)", v, err)
	}
	if v, err := models.NewDate(2024, time.February, 29).Value(); err != nil || v != "2024-02-29" {
		t.Errorf("Value() = %#v, %v; want \"2024-02-29\"", v, err)
	}
}

func TestDateScan(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name string
		src  any
		want string // "" for the zero Date
	}{
		{"time_utc", time.Date(2024, time.February, 29, 0, 0, 0, 0, time.UTC), "2024-02-29"},
		// PostgreSQL's driver may hand back a date as midnight in some zone:
		// the calendar date is kept, not shifted to UTC.
		{"time_other_zone", time.Date(2024, time.March, 1, 0, 0, 0, 0, ist), "2024-03-01"},
		{"string", "2024-02-29", "2024-02-29"},
		{"string_sqlite_timestamp", "2024-02-29T00:00:00Z", "2024-02-29"},
		{"string_with_time", "2024-02-29 00:00:00+00:00", "2024-02-29"},
		{"bytes", []byte("1999-12-31"), "1999-12-31"},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := models.NewDate(1970, time.January, 1) // a non-zero start, so nil must reset it
			if err := d.Scan(tt.src); err != nil {
				t.Fatalf("Scan(%#v) = %v", tt.src, err)
			}
			if tt.want == "" {
				if !d.IsZero() {
					t.Fatalf("Scan(nil) = %v, want zero", d)
				}
				return
			}
			if d.String() != tt.want || d.Location() != time.UTC || d.Hour() != 0 {
				t.Fatalf("Scan(%#v) = %v, want %s UTC midnight", tt.src, d.Time, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		src  any
	}{{"rejects_int", int64(20240229)}, {"rejects_short_string", "2024-02"}, {"rejects_garbage", "abcd-ef-gh"}, {"rejects_bad_day", []byte("2023-02-29")}} {
		t.Run(tt.name, func(t *testing.T) {
			var d models.Date
			if err := d.Scan(tt.src); err == nil {
				t.Fatalf("Scan(%#v) = nil error, date %v", tt.src, d)
			}
		})
	}
}

func TestDateAge(t *testing.T) {
	tests := []struct {
		name        string
		born, today models.Date
		want        int
	}{
		{"born_today", models.NewDate(2024, 6, 15), models.NewDate(2024, 6, 15), 0},
		{"day_before_birthday", models.NewDate(2000, 6, 15), models.NewDate(2024, 6, 14), 23},
		{"on_birthday", models.NewDate(2000, 6, 15), models.NewDate(2024, 6, 15), 24},
		{"day_after_birthday", models.NewDate(2000, 6, 15), models.NewDate(2024, 6, 16), 24},
		{"month_before_birthday_later_day", models.NewDate(2000, 6, 15), models.NewDate(2024, 5, 20), 23},
		{"new_years_day_after_dec_31_birth", models.NewDate(2023, 12, 31), models.NewDate(2024, 1, 1), 0},
		{"leap_day_birth_feb_28_common_year", models.NewDate(2000, 2, 29), models.NewDate(2023, 2, 28), 22},
		{"leap_day_birth_mar_1_common_year", models.NewDate(2000, 2, 29), models.NewDate(2023, 3, 1), 23},
		{"leap_day_birth_feb_28_leap_year", models.NewDate(2000, 2, 29), models.NewDate(2024, 2, 28), 23},
		{"leap_day_birth_feb_29_leap_year", models.NewDate(2000, 2, 29), models.NewDate(2024, 2, 29), 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.born.Age(tt.today); got != tt.want {
				t.Fatalf("%s.Age(%s) = %d, want %d", tt.born, tt.today, got, tt.want)
			}
		})
	}
}

func TestMoneyScan(t *testing.T) {
	tests := []struct {
		name string
		src  any
		want models.Money
	}{
		{"float64", 12.5, 12.5},
		{"int64_from_sqlite", int64(500), 500},
		{"bytes_numeric_from_postgres", []byte("1234.56"), 1234.56},
		{"string", "0.10", 0.1},
		{"nil", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := models.Money(99) // non-zero start, so nil must reset it
			if err := m.Scan(tt.src); err != nil || m != tt.want {
				t.Fatalf("Scan(%#v) = %v, %v; want %v", tt.src, m, err, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		src  any
	}{{"rejects_bad_text", "12,50"}, {"rejects_bool", true}} {
		t.Run(tt.name, func(t *testing.T) {
			var m models.Money
			if err := m.Scan(tt.src); err == nil {
				t.Fatalf("Scan(%#v) = nil error", tt.src)
			}
		})
	}
	t.Run("value", func(t *testing.T) {
		if v, err := models.Money(19.99).Value(); err != nil || v != 19.99 {
			t.Fatalf("Value() = %#v, %v", v, err)
		}
	})
}
