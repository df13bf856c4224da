package models

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// AuditAction is what an audit event records. The database and REST spell
// it in lower case ("login_failed"); GraphQL in upper case (LOGIN_FAILED).
type AuditAction string

// Audit actions.
const (
	AuditRead        AuditAction = "read"
	AuditCreate      AuditAction = "create"
	AuditUpdate      AuditAction = "update"
	AuditDelete      AuditAction = "delete"
	AuditLogin       AuditAction = "login"
	AuditLoginFailed AuditAction = "login_failed"
	AuditLogout      AuditAction = "logout"
	AuditTokenReuse  AuditAction = "token_reuse"
	// AuditImport records a row written by import-django.
	AuditImport AuditAction = "import"
)

// AuditActions lists every AuditAction.
var AuditActions = []AuditAction{
	AuditRead, AuditCreate, AuditUpdate, AuditDelete, AuditLogin, AuditLoginFailed, AuditLogout, AuditTokenReuse,
	AuditImport,
}

// IsValid reports whether a is one of AuditActions.
func (a AuditAction) IsValid() bool { return slices.Contains(AuditActions, a) }

// MarshalGQL writes a as a GraphQL enum value.
func (a AuditAction) MarshalGQL(w io.Writer) { writeGQL(w, strings.ToUpper(string(a))) }

// UnmarshalGQL reads a GraphQL enum value.
func (a *AuditAction) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("AuditAction must be a string")
	}
	if !AuditAction(strings.ToLower(s)).IsValid() || s != strings.ToUpper(s) {
		return fmt.Errorf("%q is not a valid AuditAction", s)
	}
	*a = AuditAction(strings.ToLower(s))
	return nil
}

// The record types an audit event can be about.
const (
	AuditPatient = "patient"
	AuditMapping = "mapping"
	AuditUser    = "user"
)

// AuditRecordTypes lists the record types.
var AuditRecordTypes = []string{AuditPatient, AuditMapping, AuditUser}

// AuditEvent is one entry of the append-only audit trail: who did what to
// which record, when and from where. It holds ids and field names, never
// values. Seq, PrevHash and Hash are NULL until the sealer chains the event
// (database.AuditStore.Seal): Hash covers the event's columns and the
// previous event's hash, so an edited row breaks its own hash and a deleted
// one breaks the next event's PrevHash.
type AuditEvent struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`

	ID         int64       `bun:"id,pk,autoincrement" json:"id"`
	OccurredAt time.Time   `bun:"occurred_at,notnull" json:"occurred_at"`
	UserID     *int64      `bun:"user_id" json:"user_id"`
	Action     AuditAction `bun:"action,notnull" json:"action"`
	RecordType string      `bun:"record_type,notnull" json:"record_type"`
	RecordID   *int64      `bun:"record_id" json:"record_id"`
	// Fields is the comma-separated names of the changed columns; see FieldList.
	Fields    string `bun:"fields,notnull" json:"-"`
	IP        string `bun:"ip,notnull" json:"ip"`
	UserAgent string `bun:"user_agent,notnull" json:"user_agent"`
	RequestID string `bun:"request_id,notnull" json:"request_id"`
	// Seq is the event's position in the chain, set when it is sealed. It
	// is not the id: on PostgreSQL ids are taken at insert time but become
	// visible at commit, so id order is not the order events can be sealed in.
	Seq      *int64  `bun:"seq" json:"seq"`
	PrevHash *string `bun:"prev_hash" json:"prev_hash"`
	Hash     *string `bun:"hash" json:"hash"`
}

// FieldList returns the names of the changed fields, empty for none.
func (e *AuditEvent) FieldList() []string {
	if e.Fields == "" {
		return []string{}
	}
	return strings.Split(e.Fields, ",")
}

// AuditFilter selects audit events; every set field must match.
type AuditFilter struct {
	UserID     *int64
	RecordType string
	RecordID   *int64
	Action     *AuditAction
	Since      *time.Time // occurred at or after
	Until      *time.Time // occurred before
}

// Validate checks the record type, the action and the time range.
func (f AuditFilter) Validate() error {
	var fe FieldErrors
	if f.RecordType != "" && !slices.Contains(AuditRecordTypes, f.RecordType) {
		fe.Add("record_type", "must be one of "+strings.Join(AuditRecordTypes, ", "))
	}
	if f.Action != nil && !f.Action.IsValid() {
		fe.Add("action", "is not a valid action")
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		fe.Add("until", "must not be before since")
	}
	return fe.Err()
}

// RequestInfo is where a request came from, as the audit trail records it.
type RequestInfo struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying info.
func WithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFrom returns the RequestInfo of ctx; the zero value outside a
// request (the command line).
func RequestInfoFrom(ctx context.Context) RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return info
}
