package database

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"healthcare/models"
)

// AuditStore keeps the append-only audit trail. The stores and the auth
// service append to it; nothing updates or deletes an event, and only
// superusers read it.
//
// The trail is two insert-only tables. audit_events holds the events;
// audit_chain holds, for each sealed event, its position (seq) and hash =
// SHA-256 of the previous link's hash, seq and the event's columns. Appending
// never reads the chain, so requests do not queue behind each other; the
// sealer (Seal, RunSealer) later chains new events in id order, in one
// transaction per batch, on PostgreSQL under an advisory lock so one node at
// a time does it. Verify recomputes the chain: an edited event (or link)
// breaks its hash, a deleted one leaves its link without an event (or, with
// its link deleted too, a gap in seq).
//
// A read's events are written by group commit (see appendRead): concurrent
// requests share one INSERT and one commit, and each request returns only
// once its events are committed. A change's events are written in the
// change's own transaction.
type AuditStore struct {
	db *bun.DB
	// off disables appending; only tests set it, to measure what auditing costs.
	off bool
	// grace overrides sealGrace; only tests set it.
	grace time.Duration

	// The group commit queue of read events: pending waits for a writer;
	// writers is how many INSERTs are at work (each takes pending when it
	// is done).
	mu      sync.Mutex
	pending []*appendReq
	writers int
}

// auditRow is an event as it is written: models.AuditEvent without the
// chain's columns, which live in audit_chain.
type auditRow struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`
	ID            int64              `bun:"id,pk,autoincrement"`
	OccurredAt    time.Time          `bun:"occurred_at,notnull"`
	UserID        *int64             `bun:"user_id"`
	Action        models.AuditAction `bun:"action,notnull"`
	RecordType    string             `bun:"record_type,notnull"`
	RecordID      *int64             `bun:"record_id"`
	Fields        string             `bun:"fields,notnull"`
	IP            string             `bun:"ip,notnull"`
	UserAgent     string             `bun:"user_agent,notnull"`
	RequestID     string             `bun:"request_id,notnull"`
}

// event returns r as the model the chain hashes and the API shows.
func (r *auditRow) event() *models.AuditEvent {
	return &models.AuditEvent{
		ID: r.ID, OccurredAt: r.OccurredAt, UserID: r.UserID, Action: r.Action, RecordType: r.RecordType,
		RecordID: r.RecordID, Fields: r.Fields, IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
	}
}

// chainLink is one row of audit_chain: the event EventID at position Seq.
// Links follow event ids (the sealer chains in id order), so the previous
// link is the previous row by event_id, and its hash is not stored twice.
type chainLink struct {
	bun.BaseModel `bun:"table:audit_chain,alias:ac"`
	EventID       int64  `bun:"event_id,pk"`
	Seq           int64  `bun:"seq,notnull"`
	Hash          string `bun:"hash,notnull"`
}

// eventColumns are the columns of audit_events, qualified, for queries
// that read events with their link.
const eventColumns = "ae.id, ae.occurred_at, ae.user_id, ae.action, ae.record_type, ae.record_id, ae.fields, ae.ip, ae.user_agent, ae.request_id"

// auditRef names one audited record.
type auditRef struct {
	typ string
	id  int64
}

func patientRefs(ps []*models.Patient) []auditRef {
	refs := make([]auditRef, len(ps))
	for i, p := range ps {
		refs[i] = auditRef{models.AuditPatient, p.ID}
	}
	return refs
}

// mappingRefs names the mappings and, when withPatients, the patients
// joined to them: reading a mapping with its patient reads the patient.
func mappingRefs(ms []*models.Mapping, withPatients bool) []auditRef {
	refs := make([]auditRef, 0, 2*len(ms))
	for _, m := range ms {
		refs = append(refs, auditRef{models.AuditMapping, m.ID})
		if withPatients && m.Patient != nil {
			refs = append(refs, auditRef{models.AuditPatient, m.Patient.ID})
		}
	}
	return refs
}

// record appends one event per distinct record of refs, by userID, with the
// request's origin from ctx. Inside a transaction (db is a bun.Tx: a change)
// the events are one INSERT in it, committed or rolled back with the change.
// Otherwise (a read) they go through the group commit of appendRead. Either
// way record returns only once the events are written: the caller must not
// answer with the records if it fails. No refs, no statement.
func (a *AuditStore) record(ctx context.Context, db bun.IDB, userID int64, action models.AuditAction, fields []string, refs ...auditRef) error {
	if a.off || len(refs) == 0 {
		return nil
	}
	distinct := make([]auditRef, 0, len(refs))
	seen := make(map[auditRef]struct{}, len(refs))
	for _, r := range refs {
		if _, dup := seen[r]; !dup {
			seen[r] = struct{}{}
			distinct = append(distinct, r)
		}
	}
	vals := eventTuples(db.Dialect(), now(), userID, action, strings.Join(fields, ","), models.RequestInfoFrom(ctx), distinct)
	if tx, ok := db.(bun.Tx); ok {
		if err := insertEvents(ctx, tx, vals); err != nil {
			return fmt.Errorf("append audit events: %w", translate(err))
		}
		return nil
	}
	return a.appendRead(ctx, vals, len(distinct))
}

// RecordAuth appends an authentication event (login, login_failed, logout,
// token_reuse) about the account userID; 0 means no known account (a failed
// sign-in with an unknown email: the email itself is not recorded). It
// returns once the event is committed.
func (a *AuditStore) RecordAuth(ctx context.Context, action models.AuditAction, userID int64) error {
	if a.off {
		return nil
	}
	ref := auditRef{models.AuditUser, userID}
	vals := eventTuples(a.db.Dialect(), now(), userID, action, "", models.RequestInfoFrom(ctx), []auditRef{ref})
	return a.appendRead(ctx, vals, 1)
}

// eventColumnList is the column list the VALUES of eventTuples fill.
const eventColumnList = "(occurred_at, user_id, action, fields, ip, user_agent, request_id, record_type, record_id)"

// eventTuples renders the events of one request, one per ref, as the
// VALUES tuples of an INSERT (comma-separated), with values quoted by the
// dialect as Bun quotes them. Building the text by hand, with what the
// events share rendered once, costs a fraction of Bun's per-row reflection,
// and the audit INSERT runs on every read. A zero user or record id is NULL.
func eventTuples(d schema.Dialect, t time.Time, userID int64, action models.AuditAction, fields string, info models.RequestInfo, refs []auditRef) []byte {
	head := make([]byte, 0, 96+len(info.UserAgent)+len(info.RequestID)+len(fields))
	head = append(head, '(')
	head = d.AppendTime(head, t)
	head = append(head, ", "...)
	head = appendID(head, userID)
	for _, v := range []string{string(action), fields, info.IP, info.UserAgent, info.RequestID} {
		head = append(head, ", "...)
		head = d.AppendString(head, v)
	}
	head = append(head, ", "...)
	b := make([]byte, 0, len(refs)*(len(head)+32))
	for i, r := range refs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, head...)
		b = d.AppendString(b, r.typ)
		b = append(b, ", "...)
		b = appendID(b, r.id)
		b = append(b, ')')
	}
	return b
}

// appendID appends id, or NULL for 0.
func appendID(b []byte, id int64) []byte {
	if id == 0 {
		return append(b, "NULL"...)
	}
	return strconv.AppendInt(b, id, 10)
}

// insertEvents writes the VALUES tuples of eventTuples, joined by commas,
// in one INSERT.
func insertEvents(ctx context.Context, db bun.IDB, vals ...[]byte) error {
	n := len("INSERT INTO audit_events  VALUES ") + len(eventColumnList)
	for _, v := range vals {
		n += len(v) + 2
	}
	q := make([]byte, 0, n)
	q = append(q, "INSERT INTO audit_events "...)
	q = append(q, eventColumnList...)
	q = append(q, " VALUES "...)
	for i, v := range vals {
		if i > 0 {
			q = append(q, ", "...)
		}
		q = append(q, v...)
	}
	// No arguments: Bun passes the text through as it is.
	_, err := db.ExecContext(ctx, string(q))
	return err
}

// Group commit. On PostgreSQL each commit waits for its WAL flush, and on
// SQLite each one takes the single write lock: one INSERT and commit per
// request makes concurrent reads wait on each other's commits. So reads hand
// their events to a queue; a writer takes everything queued (up to
// appendBatchRows rows) and writes it as one INSERT, which commits on its
// own, then tells each request how it went. Alone, a request writes its own
// events at once (it is the writer: no hand-off, no added latency); under
// load, the requests that arrive while INSERTs are committing share the
// next one. A request returns only after the INSERT carrying its events has
// committed, so no read is answered before its audit event is durable.
//
// SQLite has one writer at a time (more would only wait for its lock, and
// its busy handler sleeps). PostgreSQL gets two, so that a batch starts as
// soon as it forms instead of waiting for the previous flush: concurrent
// commits share WAL flushes there anyway. More would hold more of the pool's
// connections while they wait for the disk.

// appendBatchRows bounds the rows of one group INSERT.
const appendBatchRows = 1000

// maxWriters is how many group INSERTs may be at work at once.
func (a *AuditStore) maxWriters() int {
	if IsPostgres(a.db) {
		return 2
	}
	return 1
}

// appendTimeout bounds one group INSERT. It does not use a request's context:
// the INSERT carries other requests' events, which one client's leaving
// must not cancel.
const appendTimeout = 30 * time.Second

// appendReq is one request's events waiting for the group INSERT.
type appendReq struct {
	vals []byte     // VALUES tuples (eventTuples)
	rows int        // how many
	done chan error // receives the outcome once, buffered
}

// appendRead writes the n events of vals by group commit and returns when
// they are committed (or failed). If ctx ends first it returns ctx's error:
// the events may still be written, but the caller answers with an error.
func (a *AuditStore) appendRead(ctx context.Context, vals []byte, n int) error {
	req := &appendReq{vals: vals, rows: n, done: make(chan error, 1)}
	a.mu.Lock()
	a.pending = append(a.pending, req)
	lead := a.writers < a.maxWriters()
	var batch []*appendReq
	if lead {
		// A writer is free: this request writes, taking what is queued
		// (itself, and whatever came in meanwhile) in the same critical
		// section, so it never waits for anyone else's INSERT.
		a.writers++
		batch = a.takeLocked()
	}
	a.mu.Unlock()
	if lead {
		a.write(batch)
		a.handOff()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takeLocked removes the next batch from the queue: at least one request,
// then as many as fit in appendBatchRows rows. a.mu must be held.
func (a *AuditStore) takeLocked() []*appendReq {
	n, rows := 0, 0
	for n < len(a.pending) && (n == 0 || rows+a.pending[n].rows <= appendBatchRows) {
		rows += a.pending[n].rows
		n++
	}
	batch := a.pending[:n:n]
	a.pending = a.pending[n:]
	if len(a.pending) == 0 {
		a.pending = nil
	}
	return batch
}

// handOff, called by a writer after its INSERT, leaves the writer's role
// if nothing is queued, or passes the queue to a goroutine that writes it:
// the request that wrote returns at once instead of writing for others.
func (a *AuditStore) handOff() {
	a.mu.Lock()
	if len(a.pending) == 0 {
		a.writers--
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	go a.drain()
}

// drain writes queued batches until the queue is empty.
func (a *AuditStore) drain() {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.writers--
			a.mu.Unlock()
			return
		}
		batch := a.takeLocked()
		a.mu.Unlock()
		a.write(batch)
	}
}

// write INSERTs the events of batch in one statement and reports the
// outcome to each request. If a shared INSERT fails, each request's events
// are tried alone, so that one request's bad row (or a passing failure)
// does not fail the others.
func (a *AuditStore) write(batch []*appendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
	defer cancel()
	vals := make([][]byte, len(batch))
	for i, r := range batch {
		vals[i] = r.vals
	}
	err := insertEvents(ctx, a.db, vals...)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.done <- wrapAppend(insertEvents(ctx, a.db, r.vals))
		}
		return
	}
	err = wrapAppend(err)
	for _, r := range batch {
		r.done <- err
	}
}

func wrapAppend(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("append audit events: %w", translate(err))
}

// List returns one page of the audit events matching f, newest first, each
// with its hash once sealed. Only superusers may read the trail: anyone
// else is Forbidden.
func (a *AuditStore) List(ctx context.Context, v models.Viewer, f models.AuditFilter, pr models.PageRequest) (*models.Page[*models.AuditEvent], error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if !v.Superuser {
		return nil, models.Forbidden("Only superusers can read the audit trail.")
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return list[*models.AuditEvent](ctx, a.db, pr, "ae.id", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.ColumnExpr(eventColumns).ColumnExpr("ac.seq, ac.hash").
			ColumnExpr("CASE WHEN ac.seq IS NOT NULL THEN coalesce((SELECT acp.hash FROM audit_chain AS acp WHERE acp.event_id < ae.id ORDER BY acp.event_id DESC LIMIT 1), ?) END AS prev_hash", genesisHash).
			Join("LEFT JOIN audit_chain AS ac ON ac.event_id = ae.id")
		if f.UserID != nil {
			q = q.Where("ae.user_id = ?", *f.UserID)
		}
		if f.RecordType != "" {
			q = q.Where("ae.record_type = ?", f.RecordType)
		}
		if f.RecordID != nil {
			q = q.Where("ae.record_id = ?", *f.RecordID)
		}
		if f.Action != nil {
			q = q.Where("ae.action = ?", *f.Action)
			if *f.Action != models.AuditRead {
				// Implied, but said so that both planners see the partial
				// index audit_events_action_idx applies.
				q = q.Where("ae.action <> ?", models.AuditRead)
			}
		}
		if f.Since != nil {
			q = q.Where("ae.occurred_at >= ?", f.Since.UTC())
		}
		if f.Until != nil {
			q = q.Where("ae.occurred_at < ?", f.Until.UTC())
		}
		return q
	})
}

// sealBatchSize bounds the events one sealing transaction chains.
const sealBatchSize = 1000

// sealGrace is how long the sealer waits for a missing id. The chain takes
// events in id order, but on PostgreSQL ids are taken at INSERT and become
// visible at commit, so the sealer can see event n+1 before event n (or
// never: an id whose transaction rolled back stays unused). It stops at such
// a gap until the event after it is sealGrace old, then passes it. Any
// transaction that writes an event ends within a minute (requests time out
// after REQUEST_TIMEOUT, 30 s by default, and the group INSERT after
// appendTimeout), and the event after the gap took its id after the missing
// one, so twice that is enough for the missing event to have committed if
// it ever will. An event that commits later still is left off the chain,
// and Verify reports it. SQLite needs no grace: its sealer holds the write
// lock, so nothing is in flight, and a gap there is a rollback.
const sealGrace = 2 * time.Minute

// genesisHash is the prev_hash of the first event of the chain.
var genesisHash = strings.Repeat("0", 64)

// sealLockKey is the PostgreSQL advisory lock that serializes sealers.
var sealLockKey = func() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("healthcare audit seal"))
	return int64(h.Sum64() >> 1)
}()

// Seal chains the events written after the chain's last one, in id order,
// and returns how many it chained. On PostgreSQL concurrent sealers (one per
// node) take turns under an advisory lock; on SQLite the write transaction
// does the same.
func (a *AuditStore) Seal(ctx context.Context) (int, error) {
	total := 0
	for {
		n, full, err := a.sealBatch(ctx)
		total += n
		if err != nil || !full {
			return total, err
		}
	}
}

// sealBatch chains up to sealBatchSize events; full reports that it read
// as many, so there may be more.
func (a *AuditStore) sealBatch(ctx context.Context) (n int, full bool, err error) {
	err = a.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		grace := time.Duration(0)
		if IsPostgres(tx) {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", sealLockKey); err != nil {
				return err
			}
			grace = sealGrace
			if a.grace != 0 {
				grace = a.grace
			}
		}
		head, err := chainHead(ctx, tx)
		if err != nil {
			return err
		}
		var evs []auditRow
		if err := tx.NewSelect().Model(&evs).Where("ae.id > ?", head.EventID).
			OrderExpr("ae.id").Limit(sealBatchSize).Scan(ctx); err != nil {
			return err
		}
		full = len(evs) == sealBatchSize
		cutoff := time.Now().Add(-grace)
		links := make([]chainLink, 0, len(evs))
		seq, prev, next := head.Seq, head.Hash, head.EventID+1
		for i := range evs {
			e := &evs[i]
			if e.ID != next && grace > 0 && e.OccurredAt.After(cutoff) {
				// Events before it may still commit: wait for them.
				full = false
				break
			}
			seq++
			h := chainHash(prev, seq, e.event())
			links = append(links, chainLink{Seq: seq, EventID: e.ID, Hash: h})
			prev, next = h, e.ID+1
		}
		if len(links) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, linkInsert(tx.Dialect(), links)); err != nil {
			return err
		}
		n = len(links)
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("seal audit events: %w", translate(err))
	}
	return n, full, nil
}

// linkInsert is the INSERT of links, written by hand as eventTuples is.
func linkInsert(d schema.Dialect, links []chainLink) string {
	b := make([]byte, 0, 64+len(links)*96)
	b = append(b, "INSERT INTO audit_chain (event_id, seq, hash) VALUES "...)
	for i, l := range links {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '(')
		b = strconv.AppendInt(b, l.EventID, 10)
		b = append(b, ", "...)
		b = strconv.AppendInt(b, l.Seq, 10)
		b = append(b, ", "...)
		b = d.AppendString(b, l.Hash)
		b = append(b, ')')
	}
	return string(b)
}

// chainHead returns the chain's last link, or a zero link with the genesis
// hash when the chain is empty.
func chainHead(ctx context.Context, db bun.IDB) (chainLink, error) {
	var head chainLink
	err := db.NewSelect().Model(&head).OrderExpr("ac.event_id DESC").Limit(1).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return chainLink{Hash: genesisHash}, nil
	case err != nil:
		return chainLink{}, err
	}
	return head, nil
}

// chainHash is the hash of an event at position seq after prev: SHA-256 of
// a length-prefixed encoding of prev and every column the event was written
// with, so no two different events encode alike. Times count in
// microseconds, which both databases keep exactly.
func chainHash(prev string, seq int64, e *models.AuditEvent) string {
	b := make([]byte, 0, 256+len(e.UserAgent)+len(e.Fields))
	str := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(n int64) { b = binary.BigEndian.AppendUint64(b, uint64(n)) }
	opt := func(p *int64) {
		if p == nil {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		num(*p)
	}
	str("healthcare audit v1")
	str(prev)
	num(seq)
	num(e.ID)
	num(e.OccurredAt.UnixMicro())
	opt(e.UserID)
	str(string(e.Action))
	str(e.RecordType)
	opt(e.RecordID)
	str(e.Fields)
	str(e.IP)
	str(e.UserAgent)
	str(e.RequestID)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AuditReport is what Verify found.
type AuditReport struct {
	Sealed   int    // events checked along the chain
	Unsealed int    // events after the chain's head, written after the seal Verify ran first
	HeadSeq  int64  // position of the last sealed event
	HeadHash string // its hash: keep it elsewhere to detect a truncated tail
	// BadID is the first event at which the chain breaks (0: none), and
	// Problem says how.
	BadID   int64
	Problem string
}

// OK reports whether the chain verified.
func (r *AuditReport) OK() bool { return r.Problem == "" }

// verifyBatchSize is how many links Verify reads per query.
const verifyBatchSize = 5000

// Verify seals what it can, then walks the whole chain in order,
// recomputing every hash, and reports the first event where it breaks: one
// whose columns (or link) were edited, or that follows an edited or removed
// link (the hash no longer matches), one that was deleted (its link names no
// event; with the link deleted too, a gap in seq). Gaps in ids prove
// nothing (sequences skip on rollback); gaps in seq do, since only the
// sealer assigns it. Last, an event that is not on the chain although later
// events are is reported too: it was inserted behind the application's back,
// or committed after the sealer stopped waiting for it (see sealGrace).
//
// A chain without a secret proves that rows were not changed by hand; it
// cannot stop someone who rewrites every later hash too, nor show that the
// newest events were cut off: compare HeadSeq and HeadHash with a copy kept
// outside the database (the sealer logs them).
func (a *AuditStore) Verify(ctx context.Context) (*AuditReport, error) {
	if _, err := a.Seal(ctx); err != nil {
		return nil, err
	}
	r := &AuditReport{HeadHash: genesisHash}
	var headEvent int64
	for {
		var links []chainLink
		if err := a.db.NewSelect().Model(&links).Where("ac.event_id > ?", headEvent).
			OrderExpr("ac.event_id").Limit(verifyBatchSize).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read audit chain: %w", translate(err))
		}
		if len(links) == 0 {
			break
		}
		var rows []auditRow
		if err := a.db.NewSelect().Model(&rows).Where("ae.id >= ? AND ae.id <= ?", links[0].EventID, links[len(links)-1].EventID).
			Scan(ctx); err != nil {
			return nil, fmt.Errorf("read audit events: %w", translate(err))
		}
		events := make(map[int64]*auditRow, len(rows))
		for i := range rows {
			events[rows[i].ID] = &rows[i]
		}
		for _, l := range links {
			want := r.HeadSeq + 1
			e, ok := events[l.EventID]
			switch {
			case l.Seq != want:
				r.BadID, r.Problem = l.EventID, fmt.Sprintf("events at positions %d to %d, before event %d, are missing: deleted", want, l.Seq-1, l.EventID)
			case !ok:
				r.BadID, r.Problem = l.EventID, fmt.Sprintf("event %d (position %d) is missing: deleted", l.EventID, l.Seq)
			case l.Hash != chainHash(r.HeadHash, l.Seq, e.event()):
				r.BadID, r.Problem = l.EventID, fmt.Sprintf("event %d (position %d) was altered: its hash does not match its columns and the previous hash", l.EventID, l.Seq)
			}
			if r.BadID != 0 {
				return r, nil
			}
			r.Sealed++
			r.HeadSeq, r.HeadHash, headEvent = l.Seq, l.Hash, l.EventID
		}
		if len(links) < verifyBatchSize {
			break
		}
	}
	unchained := func() *bun.SelectQuery {
		return a.db.NewSelect().Model((*auditRow)(nil)).
			Where("NOT EXISTS (SELECT 1 FROM audit_chain AS ac WHERE ac.event_id = ae.id)")
	}
	var left []int64
	if err := unchained().Column("ae.id").Where("ae.id < ?", headEvent).OrderExpr("ae.id").Limit(1).Scan(ctx, &left); err != nil {
		return nil, fmt.Errorf("find unchained audit events: %w", translate(err))
	}
	if len(left) > 0 {
		r.BadID, r.Problem = left[0], fmt.Sprintf("event %d is not on the chain though later events are: inserted behind the application's back, or committed after the sealer stopped waiting for it", left[0])
		return r, nil
	}
	n, err := unchained().Where("ae.id > ?", headEvent).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count unsealed audit events: %w", translate(err))
	}
	r.Unsealed = int(n)
	return r, nil
}

// RunSealer seals the trail every interval until ctx ends, then once more
// (with a few seconds of grace) so a clean shutdown leaves nothing unsealed.
// Each seal that chains events logs the chain's head at debug level.
func (a *AuditStore) RunSealer(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	seal := func(ctx context.Context) {
		n, err := a.Seal(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "audit seal failed", "err", err)
			}
			return
		}
		if n > 0 && log.Enabled(ctx, slog.LevelDebug) {
			if head, err := chainHead(ctx, a.db); err == nil {
				log.DebugContext(ctx, "audit events sealed", "count", n, "head_seq", head.Seq, "head_hash", head.Hash)
			}
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			seal(final)
			cancel()
			return
		case <-t.C:
			seal(ctx)
		}
	}
}

// Existing returns which of the ids of records of type typ (patient or
// mapping) still exist, for linking events to their records. Superusers
// only, like the trail itself; it reads no record data, so it records no
// read event.
func (a *AuditStore) Existing(ctx context.Context, v models.Viewer, typ string, ids []int64) (map[int64]bool, error) {
	if err := requireViewer(v); err != nil {
		return nil, err
	}
	if !v.Superuser {
		return nil, models.Forbidden("Only superusers may read the audit trail.")
	}
	table := map[string]string{models.AuditPatient: "patients", models.AuditMapping: "mappings"}[typ]
	out := make(map[int64]bool, len(ids))
	if table == "" || len(ids) == 0 {
		return out, nil
	}
	var found []int64
	if err := a.db.NewSelect().Table(table).Column("id").Where("id IN (?)", bun.In(ids)).Scan(ctx, &found); err != nil {
		return nil, translate(err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}
