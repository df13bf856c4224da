package audit

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"healthcare/models"
)

// columnList is the column list the VALUES of encode fill.
const columnList = "(occurred_at, user_id, action, record_type, record_id, records, fields, ip, user_agent, request_id)"

// Column sizes: text a client controls is cut to them (web.RequestInfo
// cleans it already; clean keeps a row writable whatever the caller).
const (
	maxIP        = 64
	maxUserAgent = 512
	maxRequestID = 128
)

// encode renders one event as the VALUES tuple of an INSERT, with values
// quoted by the dialect as Bun quotes them. Building the text by hand costs
// a fraction of Bun's per-row reflection, and an event is written on every
// read. A zero user id is NULL; record_id is set for an event about one
// record only (Records names them all).
func encode(d schema.Dialect, t time.Time, e models.AuditEntry, info models.RequestInfo) []byte {
	records := models.RecordsOf(e.Refs)
	fields := strings.Join(e.Fields, ",")
	b := make([]byte, 0, 128+len(records)+len(fields)+len(info.UserAgent)+len(info.RequestID))
	b = append(b, '(')
	b = d.AppendTime(b, t)
	b = append(b, ", "...)
	b = appendID(b, e.UserID)
	b = append(b, ", "...)
	b = d.AppendString(b, string(e.Action))
	b = append(b, ", "...)
	typ, id := "", int64(0)
	if len(e.Refs) > 0 {
		typ = e.Refs[0].Type
	}
	if refs := records.Refs(); len(refs) == 1 {
		id = refs[0].ID
	}
	b = d.AppendString(b, typ)
	b = append(b, ", "...)
	b = appendID(b, id)
	for _, v := range []string{string(records), fields, clean(info.IP, maxIP), clean(info.UserAgent, maxUserAgent), clean(info.RequestID, maxRequestID)} {
		b = append(b, ", "...)
		b = d.AppendString(b, v)
	}
	return append(b, ')')
}

// clean makes s valid UTF-8 without NUL bytes (which no database text
// column takes) and cuts it to at most n bytes.
func clean(s string, n int) string {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	}
	return cut(s, n)
}

// cut shortens s to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// appendID appends id, or NULL for 0.
func appendID(b []byte, id int64) []byte {
	if id == 0 {
		return append(b, "NULL"...)
	}
	return strconv.AppendInt(b, id, 10)
}

// insertRows writes rows (tuples of encode) in one INSERT.
func insertRows(ctx context.Context, db bun.IDB, rows ...[]byte) error {
	n := len("INSERT INTO audit_events  VALUES ") + len(columnList)
	for _, r := range rows {
		n += len(r) + 2
	}
	q := make([]byte, 0, n)
	q = append(q, "INSERT INTO audit_events "...)
	q = append(q, columnList...)
	q = append(q, " VALUES "...)
	for i, r := range rows {
		if i > 0 {
			q = append(q, ", "...)
		}
		q = append(q, r...)
	}
	// No arguments: Bun passes the text through as it is.
	_, err := db.ExecContext(ctx, string(q))
	return err
}
