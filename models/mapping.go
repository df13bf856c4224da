package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Mapping assigns a doctor to a patient. A viewer sees a mapping exactly when
// they see its patient; a (patient, doctor) pair is mapped at most once.
type Mapping struct {
	bun.BaseModel `bun:"table:mappings,alias:m"`

	ID        int64         `bun:"id,pk,autoincrement" json:"id"`
	PatientID int64         `bun:"patient_id,notnull" json:"patient"`
	DoctorID  int64         `bun:"doctor_id,notnull" json:"doctor"`
	Reason    *string       `bun:"reason" json:"reason"`
	Notes     *string       `bun:"notes" json:"notes"`
	Status    MappingStatus `bun:"status,notnull" json:"status"`
	CreatedBy int64         `bun:"created_by,notnull" json:"-"`
	CreatedAt time.Time     `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time     `bun:"updated_at,notnull" json:"updated_at"`

	// Patient and Doctor are loaded by the list queries that join them.
	Patient *Patient `bun:"rel:belongs-to,join:patient_id=id" json:"-"`
	Doctor  *Doctor  `bun:"rel:belongs-to,join:doctor_id=id" json:"-"`
}

// MappingInput creates a mapping.
type MappingInput struct {
	PatientID *int64         `json:"patient"`
	DoctorID  *int64         `json:"doctor"`
	Reason    *string        `json:"reason"`
	Notes     *string        `json:"notes"`
	Status    *MappingStatus `json:"status"`
	// Unreadable holds the fields a transport could not decode.
	Unreadable FieldErrors `json:"-"`
}

// Validate checks the input against MappingEntity, normalizing in place.
func (in *MappingInput) Validate() error { return validate(MappingEntity, in, true, Date{}) }

// MappingPatch changes a mapping's reason, notes or status; the patient and
// doctor of a mapping never change (delete it and create another).
type MappingPatch struct {
	Reason *string        `json:"reason"`
	Notes  *string        `json:"notes"`
	Status *MappingStatus `json:"status"`
	// Unreadable holds the fields a transport could not decode.
	Unreadable FieldErrors `json:"-"`
}

// Validate checks the present fields against MappingEntity.
func (in *MappingPatch) Validate() error {
	return validate(MappingEntity, in, false, Date{}, "patient", "doctor")
}

// Patch is the part of in that a patch could change too.
func (in *MappingInput) Patch() *MappingPatch {
	return &MappingPatch{Reason: in.Reason, Notes: in.Notes, Status: in.Status}
}

// Apply sets the present fields on m and returns the changed column names.
func (in *MappingPatch) Apply(m *Mapping) []string {
	var ch changes
	setOpt(&ch, "reason", &m.Reason, in.Reason)
	setOpt(&ch, "notes", &m.Notes, in.Notes)
	setVal(&ch, "status", &m.Status, in.Status)
	return ch
}

// MappingFilter selects mappings. Search matches a case-insensitive substring
// of the patient's or the doctor's full name.
type MappingFilter struct {
	PatientID *int64
	DoctorID  *int64
	Status    *MappingStatus
	Search    string
}
