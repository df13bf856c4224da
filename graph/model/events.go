package model

import "healthcare/models"

// Node is any object with a global id (the GraphQL interface Node): User,
// Patient, Doctor, Mapping and AuditEvent, as the models package defines
// them. It is empty because those types live in models and know nothing of
// GraphQL; the executor tells them apart by their Go type.
type Node interface{}

// MappingEvent is one change to an assignment, for mappingChanged. The
// assignment itself (the mapping field) is read when the event is sent.
type MappingEvent struct {
	Op        ChangeOp
	MappingID int64
	PatientID int64
	// Viewer is the subscriber as it was checked when the change arrived:
	// the one the assignment is read as. Not a GraphQL field.
	Viewer models.Viewer `json:"-"`
}

// PatientEvent is one change to a patient, for patientChanged.
type PatientEvent struct {
	Op        ChangeOp
	PatientID int64
	// Viewer is the subscriber the patient is read as. Not a GraphQL field.
	Viewer models.Viewer `json:"-"`
}
