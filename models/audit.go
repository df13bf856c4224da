package models

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
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
	AuditImport      AuditAction = "import"
	AuditLogin       AuditAction = "login"
	AuditLoginFailed AuditAction = "login_failed"
	AuditLogout      AuditAction = "logout"
	AuditTokenReuse  AuditAction = "token_reuse"
	// AuditSignOutAll ends every session of an account.
	AuditSignOutAll           AuditAction = "signout_all"
	AuditPasswordChanged      AuditAction = "password_changed"
	AuditPasswordChangeFailed AuditAction = "password_change_failed"
	AuditPasswordReset        AuditAction = "password_reset"
	AuditAccountActivated     AuditAction = "account_activated"
	AuditAccountDeactivated   AuditAction = "account_deactivated"
	AuditSuperuserGranted     AuditAction = "superuser_granted"
	AuditSuperuserRevoked     AuditAction = "superuser_revoked"
	AuditAccountCreated       AuditAction = "account_created"
)

// AuditActions lists every AuditAction.
var AuditActions = []AuditAction{
	AuditRead, AuditCreate, AuditUpdate, AuditDelete, AuditImport, AuditLogin, AuditLoginFailed, AuditLogout,
	AuditTokenReuse, AuditSignOutAll, AuditPasswordChanged, AuditPasswordChangeFailed, AuditPasswordReset,
	AuditAccountActivated, AuditAccountDeactivated, AuditSuperuserGranted, AuditSuperuserRevoked, AuditAccountCreated,
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
	// AuditDoctor events are imports only: the doctor directory is not
	// health data and is not otherwise audited.
	AuditDoctor = "doctor"
)

// AuditRecordTypes lists the record types.
var AuditRecordTypes = []string{AuditPatient, AuditMapping, AuditUser, AuditDoctor}

// AuditRef names one audited record.
type AuditRef struct {
	Type string `json:"type"` // AuditPatient, AuditMapping or AuditUser
	ID   int64  `json:"id"`
}

// AuditEntry is an event as the stores and the auth service describe it:
// who did what to which records. The audit trail adds when and from where.
type AuditEntry struct {
	UserID int64 // 0: no known account (a failed sign-in with an unknown email)
	Action AuditAction
	Fields []string // the names of the changed fields (changes only)
	Refs   []AuditRef
}

// AuditEvent is one entry of the append-only audit trail: who did what to
// which records, when and from where. It holds ids and field names, never
// values. One event covers one operation: a list read by one request is
// one event naming every record it showed (Records). Seq, PrevHash and Hash
// are NULL until the sealer chains the event: Hash covers the event's
// columns and the previous event's hash, so an edited row breaks its own
// hash and a deleted one breaks the next event's PrevHash.
type AuditEvent struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`

	ID         int64       `bun:"id,pk,autoincrement" json:"id"`
	OccurredAt time.Time   `bun:"occurred_at,notnull" json:"occurred_at"`
	UserID     *int64      `bun:"user_id" json:"user_id"`
	Action     AuditAction `bun:"action,notnull" json:"action"`
	// RecordType and RecordID name the record of an event about one record;
	// for an event about several, RecordType is the first one's type and
	// RecordID is NULL. Records names them all.
	RecordType string  `bun:"record_type,notnull" json:"record_type"`
	RecordID   *int64  `bun:"record_id" json:"record_id"`
	Records    Records `bun:"records,notnull" json:"records"`
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

// RequestInfo is where a request came from, worked out once per request
// from trusted sources only (web.RequestInfo): the audit trail records it,
// the throttle keys on its address, links and cookies use its scheme and
// host.
type RequestInfo struct {
	IP        string
	UserAgent string
	RequestID string
	// Scheme ("http" or "https") and Host are how the client reached us.
	Scheme string
	Host   string
}

// Secure reports whether the client reached us over TLS.
func (i RequestInfo) Secure() bool { return i.Scheme == "https" }

// BaseURL is scheme://host.
func (i RequestInfo) BaseURL() string { return i.Scheme + "://" + i.Host }

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

// Records is the records an audit event names, stored as compact JSON
// ({"patient":[1,2],"mapping":[7]}; types in AuditRecordTypes order, ids in
// the order they were read) so both databases can search it. Events written
// before it existed hold "" and name their one record in RecordType and
// RecordID.
type Records string

// RecordsOf returns the Records of refs, each record once.
func RecordsOf(refs []AuditRef) Records {
	if len(refs) == 0 {
		return ""
	}
	b := make([]byte, 0, 16+len(refs)*8)
	b = append(b, '{')
	seen := make(map[AuditRef]struct{}, len(refs))
	first := true
	for _, typ := range AuditRecordTypes {
		n := 0
		for _, r := range refs {
			if r.Type != typ {
				continue
			}
			if _, dup := seen[r]; dup {
				continue
			}
			seen[r] = struct{}{}
			if n == 0 {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, '"')
				b = append(b, typ...)
				b = append(b, `":[`...)
			} else {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, r.ID, 10)
			n++
		}
		if n > 0 {
			b = append(b, ']')
		}
	}
	b = append(b, '}')
	return Records(b)
}

// Refs returns the records r names, in the order they were written.
func (r Records) Refs() []AuditRef {
	var m map[string][]int64
	if r == "" || json.Unmarshal([]byte(r), &m) != nil {
		return nil
	}
	var out []AuditRef
	for _, typ := range AuditRecordTypes {
		for _, id := range m[typ] {
			out = append(out, AuditRef{Type: typ, ID: id})
		}
	}
	return out
}

// RecordRefs returns every record e names: Records, or for an older event
// its RecordType and RecordID.
func (e *AuditEvent) RecordRefs() []AuditRef {
	if e.Records != "" {
		return e.Records.Refs()
	}
	if e.RecordID != nil {
		return []AuditRef{{Type: e.RecordType, ID: *e.RecordID}}
	}
	return nil
}
