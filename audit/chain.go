package audit

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
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"healthcare/database"
	"healthcare/models"
)

// The trail is two insert-only tables. audit_events holds the events;
// audit_chain holds, for each sealed event, its position (seq) and hash =
// SHA-256 of the previous link's hash, seq and the event's columns.
// Appending never reads the chain, so requests do not queue behind each
// other; the sealer (Seal, RunSealer) later chains new events in id order,
// in one transaction per batch, on PostgreSQL under an advisory lock so one
// node at a time does it. Verify recomputes the chain: an edited event (or
// link) breaks its hash, a deleted one leaves its link without an event
// (or, with its link deleted too, a gap in seq).

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
	Records       models.Records     `bun:"records,notnull"`
	Fields        string             `bun:"fields,notnull"`
	IP            string             `bun:"ip,notnull"`
	UserAgent     string             `bun:"user_agent,notnull"`
	RequestID     string             `bun:"request_id,notnull"`
}

// event returns r as the model the chain hashes and the API shows.
func (r *auditRow) event() *models.AuditEvent {
	return &models.AuditEvent{
		ID: r.ID, OccurredAt: r.OccurredAt, UserID: r.UserID, Action: r.Action, RecordType: r.RecordType,
		RecordID: r.RecordID, Records: r.Records, Fields: r.Fields, IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID,
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
const eventColumns = "ae.id, ae.occurred_at, ae.user_id, ae.action, ae.record_type, ae.record_id, ae.records, ae.fields, ae.ip, ae.user_agent, ae.request_id"

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
func (a *Trail) Seal(ctx context.Context) (int, error) {
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
func (a *Trail) sealBatch(ctx context.Context) (n int, full bool, err error) {
	err = a.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		grace := time.Duration(0)
		if database.IsPostgres(tx) {
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
		return 0, false, fmt.Errorf("seal audit events: %w", database.Translate(err))
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
// microseconds, which both databases keep exactly. Events that name their
// records in Records (v2) hash it too; older ones (v1, Records empty) hash
// as they always did, so they still verify.
func chainHash(prev string, seq int64, e *models.AuditEvent) string {
	b := make([]byte, 0, 256+len(e.UserAgent)+len(e.Fields)+len(e.Records))
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
	if e.Records == "" {
		str("healthcare audit v1")
	} else {
		str("healthcare audit v2")
	}
	str(prev)
	num(seq)
	num(e.ID)
	num(e.OccurredAt.UnixMicro())
	opt(e.UserID)
	str(string(e.Action))
	str(e.RecordType)
	opt(e.RecordID)
	if e.Records != "" {
		str(string(e.Records))
	}
	str(e.Fields)
	str(e.IP)
	str(e.UserAgent)
	str(e.RequestID)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Report is what Verify found.
type Report struct {
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
func (r *Report) OK() bool { return r.Problem == "" }

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
func (a *Trail) Verify(ctx context.Context) (*Report, error) {
	if _, err := a.Seal(ctx); err != nil {
		return nil, err
	}
	r := &Report{HeadHash: genesisHash}
	var headEvent int64
	for {
		var links []chainLink
		if err := a.db.NewSelect().Model(&links).Where("ac.event_id > ?", headEvent).
			OrderExpr("ac.event_id").Limit(verifyBatchSize).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read audit chain: %w", database.Translate(err))
		}
		if len(links) == 0 {
			break
		}
		var rows []auditRow
		if err := a.db.NewSelect().Model(&rows).Where("ae.id >= ? AND ae.id <= ?", links[0].EventID, links[len(links)-1].EventID).
			Scan(ctx); err != nil {
			return nil, fmt.Errorf("read audit events: %w", database.Translate(err))
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
		return nil, fmt.Errorf("find unchained audit events: %w", database.Translate(err))
	}
	if len(left) > 0 {
		r.BadID, r.Problem = left[0], fmt.Sprintf("event %d is not on the chain though later events are: inserted behind the application's back, or committed after the sealer stopped waiting for it", left[0])
		return r, nil
	}
	n, err := unchained().Where("ae.id > ?", headEvent).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count unsealed audit events: %w", database.Translate(err))
	}
	r.Unsealed = int(n)
	return r, nil
}

// RunSealer seals the trail every interval until ctx ends, then once more
// (with a few seconds of grace) so a clean shutdown leaves nothing unsealed.
// Each seal that chains events logs the chain's head at debug level.
func (a *Trail) RunSealer(ctx context.Context, every time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	seal := func(ctx context.Context) {
		start := time.Now()
		n, err := a.Seal(ctx)
		a.sealed(n, start, err)
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
