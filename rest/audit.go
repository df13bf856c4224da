package rest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"healthcare/auth"
	"healthcare/models"
)

// auditEventJSON is an audit event as the API shows it: fields as a list of
// names, hash null until the sealer has chained the event.
type auditEventJSON struct {
	ID         int64              `json:"id"`
	OccurredAt time.Time          `json:"occurred_at"`
	UserID     *int64             `json:"user_id"`
	Action     models.AuditAction `json:"action"`
	RecordType string             `json:"record_type"`
	RecordID   *int64             `json:"record_id"`
	Records    []models.AuditRef  `json:"records"`
	Fields     []string           `json:"fields"`
	IP         string             `json:"ip"`
	UserAgent  string             `json:"user_agent"`
	RequestID  string             `json:"request_id"`
	Hash       *string            `json:"hash"`
}

func auditEventOut(e *models.AuditEvent) auditEventJSON {
	return auditEventJSON{
		ID: e.ID, OccurredAt: e.OccurredAt, UserID: e.UserID, Action: e.Action, RecordType: e.RecordType,
		RecordID: e.RecordID, Records: refsOrEmpty(e.RecordRefs()), Fields: e.FieldList(), IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		Hash: e.Hash,
	}
}

func refsOrEmpty(refs []models.AuditRef) []models.AuditRef {
	if refs == nil {
		return []models.AuditRef{}
	}
	return refs
}

// listAudit is GET /audit/: the audit trail, newest first, filtered and
// paged. The store lets only superusers read it (403 for anyone else).
func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	v, err := auth.RequireViewer(r.Context())
	if err != nil {
		return err
	}
	q := newQuery(r)
	f := models.AuditFilter{
		UserID:     q.id("user_id"),
		RecordType: lowerChoice(q, "record_type", models.AuditRecordTypes),
		RecordID:   q.id("record_id"),
		Since:      timestamp(q, "since"),
		Until:      timestamp(q, "until"),
	}
	if a := lowerChoice(q, "action", models.AuditActions); a != "" {
		f.Action = &a
	}
	p := q.pagination()
	if err := q.err(); err != nil {
		return err
	}
	pg, err := h.trail.List(r.Context(), v, f, p.request())
	if err != nil {
		return err
	}
	data, err := pageOf(r, p, pg, auditEventOut)
	if err != nil {
		return err
	}
	return h.writeData(w, r, http.StatusOK, "Audit events retrieved successfully", data)
}

// lowerChoice reads one of choices, spelled in lower case ("login_failed"),
// in any letter case.
func lowerChoice[T ~string](q *query, name string, choices []T) T {
	s := q.get(name)
	if s == "" {
		return ""
	}
	v := T(strings.ToLower(s))
	if !slices.Contains(choices, v) {
		names := make([]string, len(choices))
		for i, c := range choices {
			names[i] = string(c)
		}
		q.fe.Add(name, models.ChoiceMessage(s, names))
		return ""
	}
	return v
}

// timestamp reads an RFC 3339 date and time. A "+" of the offset that
// arrives as a space (an unencoded query string) is taken as the "+".
func timestamp(q *query, name string) *time.Time {
	s := q.get(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, strings.ReplaceAll(s, " ", "+"))
	if err != nil {
		q.fe.Add(name, "Enter a valid date and time in RFC 3339 format, e.g. 2026-01-31T09:00:00Z.")
		return nil
	}
	return &t
}
