package djangoimport

import (
	"slices"
	"testing"
	"time"

	"healthcare/models"
)

// TestUnreadableFieldsReportedOnce: a value the import cannot read (a date
// that is not a date, a number that is not a number) is reported with one
// message, not with "This field is required." from validation on top.
func TestUnreadableFieldsReportedOnce(t *testing.T) {
	today := models.DateOf(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	ts := "2026-01-01 00:00:00"
	patient := []any{int64(9), "Asha", "Rao", "asha@example.com", "+919876543210", "not-a-date", "F", "O+",
		"", "", "", "", "", "", "", "", "", "", "", true, ts, ts, int64(1)}
	_, p, err := convertPatient(patient, today, func(s string) (*string, error) { return &s, nil })
	if err != nil {
		t.Fatal(err)
	}
	if p == nil || !slices.Equal(p.Fields["date_of_birth"], []string{"Enter a valid date."}) {
		t.Fatalf("patient problem: %+v", p)
	}
	doctor := []any{int64(9), "Ravi", "Kumar", "ravi@example.com", "+919876543220", nil, "M", "CARDIOLOGY", "MBBS", "MH-9",
		"many", "", "", "", "", "", "", "lots", "", "", "", "", true, ts, ts, int64(1)}
	_, p, _ = convertDoctor(doctor, today)
	if p == nil || !slices.Equal(p.Fields["experience_years"], []string{"A valid integer is required."}) ||
		!slices.Equal(p.Fields["consultation_fee"], []string{"A valid number is required."}) {
		t.Fatalf("doctor problem: %+v", p)
	}
}
