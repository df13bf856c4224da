// Package audit keeps the append-only audit trail: who read or changed
// which records, when and from where, for every read and change of patient
// data and every sign-in and account change.
//
// The stores call Trail.Record through the narrow database.Auditor
// interface, once per operation. A read's event joins its request's Batch
// (Begin, Middleware), written once per request by group commit before the
// answer goes out; a change's event is written in the change's own
// transaction. Nothing updates or deletes an event: a sealer later chains
// new events into a hash chain (Seal, RunSealer), which Verify recomputes.
// Only superusers read the trail (List).
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"healthcare/database"
	"healthcare/models"
)

// Trail is the audit trail over one database.
type Trail struct {
	db  *bun.DB
	log *slog.Logger
	// off disables appending; only the benchmark that measures what
	// auditing costs sets it (SetOff).
	off bool
	// grace overrides sealGrace; only tests set it.
	grace time.Duration
	// commits writes reads' events, many requests to a statement.
	commits *committer
	// obs hears commits and seals (metrics); nil: no one.
	obs Observer
}

var _ database.Auditor = (*Trail)(nil)

// New returns the trail kept in db.
func New(db *bun.DB, log *slog.Logger) *Trail {
	if log == nil {
		log = slog.Default()
	}
	t := &Trail{db: db, log: log}
	writers := 1 // SQLite has one writer at a time; more would only wait for its lock
	if database.IsPostgres(db) {
		// A batch starts as soon as it forms instead of waiting for the
		// previous flush; concurrent commits share WAL flushes anyway.
		writers = 2
	}
	t.commits = newCommitter(writers, appendBatchRows, t.insert)
	return t
}

// SetOff turns appending off or on (only to measure what auditing costs).
func (t *Trail) SetOff(off bool) { t.off = off }

// SetSealGrace replaces how long the sealer waits for a missing id (tests).
func (t *Trail) SetSealGrace(d time.Duration) { t.grace = d }

// appendTimeout bounds one group INSERT. It does not use a request's context:
// the INSERT carries other requests' events, which one client's leaving
// must not cancel.
const appendTimeout = 30 * time.Second

// appendBatchRows bounds the events of one group INSERT.
const appendBatchRows = 500

// Record implements database.Auditor: it appends e, with the request's
// origin (models.RequestInfoFrom) and the time. With tx the event is one
// INSERT in tx. Without, a read joins the request's Batch when there is one
// (written when the batch is flushed, before the answer); any other event,
// or a read outside a batch, is written by group commit before Record
// returns.
func (t *Trail) Record(ctx context.Context, tx bun.IDB, e models.AuditEntry) error {
	if t.off {
		return nil
	}
	if tx != nil {
		row := encode(tx.Dialect(), now(), e, models.RequestInfoFrom(ctx))
		if err := insertRows(ctx, tx, row); err != nil {
			return fmt.Errorf("append audit event: %w", database.Translate(err))
		}
		return nil
	}
	if b, ok := ctx.Value(batchKey{}).(*Batch); ok && b.t == t && e.Action == models.AuditRead {
		b.add(e)
		return nil
	}
	row := encode(t.db.Dialect(), now(), e, models.RequestInfoFrom(ctx))
	return t.commits.submit(ctx, row)
}

// insert writes rows (VALUES tuples of encode) in one statement: the
// committer's write.
func (t *Trail) insert(rows [][]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	defer cancel()
	start := time.Now()
	err := insertRows(ctx, t.db, rows...)
	t.committed(len(rows), start, err)
	if err != nil {
		return fmt.Errorf("append audit events: %w", database.Translate(err))
	}
	return nil
}

// now is an event's time: UTC, in the microseconds both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Batch gathers the read events of one request, so that the request writes
// one event per kind of read, naming every record it read, instead of one
// per store call. Begin starts it; Flush writes it (by group commit, with
// other requests' batches) and must return before the answer is sent.
type Batch struct {
	t       *Trail
	mu      sync.Mutex
	entries []models.AuditEntry
}

type batchKey struct{}

// Begin returns ctx carrying a new batch for the request's reads.
func (t *Trail) Begin(ctx context.Context) (context.Context, *Batch) {
	b := &Batch{t: t}
	return context.WithValue(ctx, batchKey{}, b), b
}

// add merges e into the batch: reads by the same account are one event.
func (b *Batch) add(e models.AuditEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.entries {
		x := &b.entries[i]
		if x.UserID == e.UserID && x.Action == e.Action && len(x.Fields) == 0 && len(e.Fields) == 0 {
			x.Refs = append(x.Refs, e.Refs...)
			return
		}
	}
	e.Refs = append([]models.AuditRef(nil), e.Refs...)
	b.entries = append(b.entries, e)
}

// Flush writes what the batch gathered and empties it; it returns once the
// events are durable. ctx gives the request's origin.
func (b *Batch) Flush(ctx context.Context) error {
	b.mu.Lock()
	entries := b.entries
	b.entries = nil
	b.mu.Unlock()
	if len(entries) == 0 {
		return nil
	}
	info := models.RequestInfoFrom(ctx)
	t := now()
	rows := make([][]byte, len(entries))
	for i, e := range entries {
		rows[i] = encode(b.t.db.Dialect(), t, e, info)
	}
	return b.t.commits.submit(ctx, rows...)
}

// Middleware gives each request a Batch and flushes it before any byte of
// the answer is written (and again before any later byte, should the
// handler read more records after it began to answer), so no answer leaves
// before the reads it shows are recorded. If a flush fails before the
// answer began, the answer is replaced by fail's (a 503 in the adapter's
// own format, with only the headers the request started with) and the
// handler's output is dropped; if it fails later, the connection is cut
// (http.ErrAbortHandler), so the client sees a broken answer, never a
// complete one with unrecorded data.
func (t *Trail) Middleware(fail func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, b := t.Begin(r.Context())
			r = r.WithContext(ctx)
			fw := &flushWriter{ResponseWriter: w, b: b, r: r, fail: fail, header: w.Header().Clone()}
			next.ServeHTTP(fw, r)
			if fw.failed {
				return
			}
			if err := b.Flush(ctx); err != nil {
				if !fw.started {
					fw.abort(err)
					return
				}
				t.log.ErrorContext(ctx, "audit: reads after the answer was sent could not be recorded", "err", err)
				panic(http.ErrAbortHandler)
			}
		})
	}
}

// flushWriter flushes its batch before anything reaches the client.
type flushWriter struct {
	http.ResponseWriter
	b       *Batch
	r       *http.Request
	fail    func(http.ResponseWriter, *http.Request, error)
	header  http.Header // the headers before the handler set any
	started bool        // the answer's status went out
	failed  bool        // fail answered instead
}

// flush writes what the batch holds; it reports whether the handler's
// output may go on.
func (f *flushWriter) flush() bool {
	if f.failed {
		return false
	}
	if err := f.b.Flush(f.r.Context()); err != nil {
		if f.started {
			panic(http.ErrAbortHandler)
		}
		f.abort(err)
		return false
	}
	return true
}

// abort answers with fail, without the headers the handler set.
func (f *flushWriter) abort(err error) {
	f.failed = true
	h := f.ResponseWriter.Header()
	for k := range h {
		delete(h, k)
	}
	for k, v := range f.header {
		h[k] = v
	}
	f.fail(f.ResponseWriter, f.r, err)
}

func (f *flushWriter) WriteHeader(code int) {
	if f.flush() {
		f.started = true
		f.ResponseWriter.WriteHeader(code)
	}
}

func (f *flushWriter) Write(p []byte) (int, error) {
	if !f.flush() {
		return len(p), nil // dropped: the failure answer went out instead
	}
	f.started = true
	return f.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (f *flushWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// Flush implements http.Flusher.
func (f *flushWriter) Flush() {
	if f.flush() {
		if fl, ok := f.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
	}
}

// Imports records the rows an import writes: per batch and record type,
// "import" events naming every row (at most importEventRecords each),
// written in the batch's transaction, the run named in their request id.
// It is the writer import-django takes (djangoimport.Auditor).
type Imports struct {
	Trail *Trail
	Run   string
}

// importEventRecords bounds the records one import event names.
const importEventRecords = 1000

// RecordImport records ids, of records of type recordType, as imported.
func (im Imports) RecordImport(ctx context.Context, db bun.IDB, recordType string, ids []int64) error {
	ctx = models.WithRequestInfo(ctx, models.RequestInfo{UserAgent: "healthcare import-django", RequestID: im.Run})
	for len(ids) > 0 {
		n := min(len(ids), importEventRecords)
		refs := make([]models.AuditRef, n)
		for i, id := range ids[:n] {
			refs[i] = models.AuditRef{Type: recordType, ID: id}
		}
		if err := im.Trail.Record(ctx, db, models.AuditEntry{Action: models.AuditImport, Refs: refs}); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
