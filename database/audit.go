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
	"strings"
	"time"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// AuditStore keeps the append-only audit trail. The stores and the auth
// service append to it; nothing updates or deletes an event (only the sealer
// fills in the chain columns of events that have none yet), and only
// superusers read it.
//
// Appending is cheap on purpose: a request only INSERTs its events (one
// statement for a whole list) and never reads the chain, so requests do not
// queue behind each other. The sealer (Seal, RunSealer) later chains the
// unsealed events in one transaction, on PostgreSQL under an advisory lock
// so one node at a time does it: each event gets the next position (seq),
// the previous event's hash, and hash = SHA-256 of both and its columns.
// Verify recomputes the chain: an edited event breaks its own hash, a
// deleted one breaks the next event's prev_hash and leaves a gap in seq.
type AuditStore struct {
	db *bun.DB
	// off disables appending; only tests set it, to measure what auditing costs.
	off bool
}

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
// request's origin from ctx, in one INSERT on db (a transaction, when the
// event must commit or fail with a change). No refs, no statement.
func (a *AuditStore) record(ctx context.Context, db bun.IDB, userID int64, action models.AuditAction, fields []string, refs ...auditRef) error {
	if a.off || len(refs) == 0 {
		return nil
	}
	info := models.RequestInfoFrom(ctx)
	t := now()
	var uid *int64
	if userID != 0 {
		uid = &userID
	}
	fs := strings.Join(fields, ",")
	evs := make([]models.AuditEvent, 0, len(refs))
	seen := make(map[auditRef]struct{}, len(refs))
	for _, r := range refs {
		if _, dup := seen[r]; dup {
			continue
		}
		seen[r] = struct{}{}
		id := r.id
		evs = append(evs, models.AuditEvent{
			OccurredAt: t, UserID: uid, Action: action, RecordType: r.typ, RecordID: &id, Fields: fs,
			IP: info.IP, UserAgent: info.UserAgent, RequestID: info.RequestID,
		})
	}
	// RETURNING NULL: nothing to read back, so PostgreSQL sends no rows.
	if _, err := db.NewInsert().Model(&evs).Returning("NULL").Exec(ctx); err != nil {
		return fmt.Errorf("append audit events: %w", translate(err))
	}
	return nil
}

// RecordAuth appends an authentication event (login, login_failed, logout,
// token_reuse) about the account userID; 0 means no known account (a failed
// sign-in with an unknown email: the email itself is not recorded).
func (a *AuditStore) RecordAuth(ctx context.Context, action models.AuditAction, userID int64) error {
	if a.off {
		return nil
	}
	info := models.RequestInfoFrom(ctx)
	ev := &models.AuditEvent{
		OccurredAt: now(), Action: action, RecordType: models.AuditUser,
		IP: info.IP, UserAgent: info.UserAgent, RequestID: info.RequestID,
	}
	if userID != 0 {
		ev.UserID, ev.RecordID = &userID, &userID
	}
	if _, err := a.db.NewInsert().Model(ev).Returning("NULL").Exec(ctx); err != nil {
		return fmt.Errorf("append audit event: %w", translate(err))
	}
	return nil
}

// List returns one page of the audit events matching f, newest first.
// Only superusers may read the trail: anyone else is Forbidden.
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

// genesisHash is the prev_hash of the first event of the chain.
var genesisHash = strings.Repeat("0", 64)

// sealLockKey is the PostgreSQL advisory lock that serializes sealers.
var sealLockKey = func() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("healthcare audit seal"))
	return int64(h.Sum64() >> 1)
}()

// sealRow is what sealing writes to one event.
type sealRow struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`
	ID            int64  `bun:"id,pk"`
	Seq           int64  `bun:"seq"`
	PrevHash      string `bun:"prev_hash"`
	Hash          string `bun:"hash"`
}

// Seal chains the events that have no hash yet, in id order, after the
// last sealed one, and returns how many it sealed. On PostgreSQL concurrent
// sealers (one per node) take turns under an advisory lock; on SQLite the
// write transaction does the same.
func (a *AuditStore) Seal(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := a.sealBatch(ctx)
		total += n
		if err != nil || n < sealBatchSize {
			return total, err
		}
	}
}

func (a *AuditStore) sealBatch(ctx context.Context) (int, error) {
	var n int
	err := a.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if IsPostgres(tx) {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", sealLockKey); err != nil {
				return err
			}
		}
		seq, prev, err := chainHead(ctx, tx)
		if err != nil {
			return err
		}
		var evs []*models.AuditEvent
		if err := tx.NewSelect().Model(&evs).Where("ae.hash IS NULL").OrderExpr("ae.id").Limit(sealBatchSize).Scan(ctx); err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		rows := make([]sealRow, len(evs))
		for i, e := range evs {
			seq++
			h := chainHash(prev, seq, e)
			rows[i] = sealRow{ID: e.ID, Seq: seq, PrevHash: prev, Hash: h}
			prev = h
		}
		if _, err := tx.NewUpdate().Model(&rows).Column("seq", "prev_hash", "hash").Bulk().Exec(ctx); err != nil {
			return err
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal audit events: %w", translate(err))
	}
	return n, nil
}

// chainHead returns the position and hash of the last sealed event, or 0
// and the genesis hash when none is.
func chainHead(ctx context.Context, db bun.IDB) (int64, string, error) {
	var head models.AuditEvent
	err := db.NewSelect().Model(&head).Column("seq", "hash").Where("ae.seq IS NOT NULL").
		OrderExpr("ae.seq DESC").Limit(1).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, genesisHash, nil
	case err != nil:
		return 0, "", err
	}
	h := ""
	if head.Hash != nil {
		h = *head.Hash
	}
	return *head.Seq, h, nil
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
	Unsealed int    // events written after the seal Verify ran first
	HeadSeq  int64  // position of the last sealed event
	HeadHash string // its hash: keep it elsewhere to detect a truncated tail
	// BadID is the first event at which the chain breaks (0: none), and
	// Problem says how.
	BadID   int64
	Problem string
}

// OK reports whether the chain verified.
func (r *AuditReport) OK() bool { return r.Problem == "" }

// verifyBatchSize is how many events Verify reads per query.
const verifyBatchSize = 5000

// Verify seals what is unsealed, then walks the whole chain in order,
// recomputing every hash, and reports the first event where it breaks: one
// whose columns were edited (its hash no longer matches), or one whose
// predecessor was deleted or edited (a gap in seq, or a prev_hash that is
// not the previous event's hash). Gaps in ids prove nothing (sequences skip
// on rollback); gaps in seq do, since only the sealer assigns it.
//
// A chain without a secret proves that rows were not changed by hand; it
// cannot stop someone who rewrites every later hash too, nor show that the
// newest events were cut off: compare HeadSeq and HeadHash with a copy kept
// outside the database (the sealer logs them).
func (a *AuditStore) Verify(ctx context.Context) (*AuditReport, error) {
	if _, err := a.Seal(ctx); err != nil {
		return nil, err
	}
	r := &AuditReport{}
	prev := genesisHash
	for {
		var evs []*models.AuditEvent
		if err := a.db.NewSelect().Model(&evs).Where("ae.seq > ?", r.HeadSeq).
			OrderExpr("ae.seq").Limit(verifyBatchSize).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read audit events: %w", translate(err))
		}
		for _, e := range evs {
			want := r.HeadSeq + 1
			switch {
			case e.Hash == nil || *e.Hash != chainHash(deref(e.PrevHash), *e.Seq, e):
				r.BadID, r.Problem = e.ID, fmt.Sprintf("event %d (position %d) was altered: its hash does not match its columns", e.ID, *e.Seq)
			case *e.Seq != want:
				r.BadID, r.Problem = e.ID, fmt.Sprintf("events at positions %d to %d, before event %d, are missing: deleted", want, *e.Seq-1, e.ID)
			case deref(e.PrevHash) != prev:
				r.BadID, r.Problem = e.ID, fmt.Sprintf("event %d (position %d) does not follow the previous event: an event before it was deleted or altered", e.ID, *e.Seq)
			}
			if r.BadID != 0 {
				return r, nil
			}
			r.Sealed++
			r.HeadSeq, r.HeadHash, prev = *e.Seq, *e.Hash, *e.Hash
		}
		if len(evs) < verifyBatchSize {
			break
		}
	}
	n, err := a.db.NewSelect().Model((*models.AuditEvent)(nil)).Where("ae.hash IS NULL").Count(ctx)
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
			seq, h, err := chainHead(ctx, a.db)
			if err == nil {
				log.DebugContext(ctx, "audit events sealed", "count", n, "head_seq", seq, "head_hash", h)
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

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
