package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// eventRow is a row of audit_events as stored.
type eventRow struct {
	ID         int64     `bun:"id"`
	OccurredAt time.Time `bun:"occurred_at"`
	UserID     *int64    `bun:"user_id"`
	Action     string    `bun:"action"`
	RecordType string    `bun:"record_type"`
	RecordID   *int64    `bun:"record_id"`
	Records    string    `bun:"records"`
	Fields     string    `bun:"fields"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
	RequestID  string    `bun:"request_id"`
}

func readEvent(t testing.TB, db bun.IDB, id int64) eventRow {
	t.Helper()
	var r eventRow
	if err := db.NewSelect().Table("audit_events").Column("id", "occurred_at", "user_id", "action", "record_type", "record_id",
		"records", "fields", "ip", "user_agent", "request_id").Where("id = ?", id).Scan(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func linkHash(t testing.TB, db bun.IDB, eventID int64) string {
	t.Helper()
	var h string
	if err := db.NewSelect().Table("audit_chain").Column("hash").Where("event_id = ?", eventID).Scan(context.Background(), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

var genesis = strings.Repeat("0", 64)

// v1Hash is the chain hash of an event as the trail computed it before
// events named their records in records: written out again here, so that
// the chains sealed then keep verifying whatever becomes of chainHash.
func v1Hash(prev string, seq int64, e eventRow) string {
	var b []byte
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
	str(e.Action)
	str(e.RecordType)
	opt(e.RecordID)
	str(e.Fields)
	str(e.IP)
	str(e.UserAgent)
	str(e.RequestID)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// insertV1 writes an event as the trail wrote them before records existed
// (records empty), about the patient id, and returns its id.
func insertV1(t testing.TB, db bun.IDB, userID, patientID int64, reqID string) int64 {
	t.Helper()
	var id int64
	err := db.NewRaw(`INSERT INTO audit_events (occurred_at, user_id, action, record_type, record_id, records, fields, ip, user_agent, request_id)
		VALUES (?, ?, 'read', 'patient', ?, '', '', '198.51.100.1', 'old/1.0', ?) RETURNING id`,
		time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour), userID, patientID, reqID).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAuditChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice := mustUser(t, s, "alice@example.com")

		// Before the upgrade: one event sealed by the trail of then (its
		// link written as it was), one written but not yet sealed.
		old := readEvent(t, db, insertV1(t, db, alice.UserID, 41, "v1-sealed"))
		oldHash := v1Hash(genesis, 1, old)
		if _, err := db.ExecContext(ctx, `INSERT INTO audit_chain (event_id, seq, hash) VALUES (?, 1, ?)`, old.ID, oldHash); err != nil {
			t.Fatal(err)
		}
		pending := readEvent(t, db, insertV1(t, db, alice.UserID, 42, "v1-pending"))
		for i := range 5 {
			if _, err := s.Patients.Create(reqCtx(fmt.Sprint("c", i)), alice, patientIn(fmt.Sprintf("Ann%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		verify := func(t *testing.T) *audit.Report {
			t.Helper()
			r, err := trail.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		t.Run("seal_and_verify_ok", func(t *testing.T) {
			n, err := trail.Seal(ctx)
			if err != nil || n != 6 {
				t.Fatalf("sealed %d: %v", n, err)
			}
			// The older event is chained as it would have been before.
			if got, want := linkHash(t, db, pending.ID), v1Hash(oldHash, 2, pending); got != want {
				t.Fatalf("older event's hash %s, want %s", got, want)
			}
			if _, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{}); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if !r.OK() || r.Sealed != 8 || r.HeadSeq != 8 || r.Unsealed != 0 {
				t.Fatalf("report %+v", r)
			}
			var last int64
			if err := db.NewSelect().Table("audit_events").ColumnExpr("max(id)").Scan(ctx, &last); err != nil {
				t.Fatal(err)
			}
			if r.HeadHash != linkHash(t, db, last) {
				t.Fatalf("head hash %s is not the last link's", r.HeadHash)
			}
			if n, _ := trail.Seal(ctx); n != 0 {
				t.Fatalf("sealed again: %d", n)
			}
			// List shows each sealed event's link.
			root := mustSuperuser(t, s, "root@example.com")
			evs := listAll(t, trail, root, models.AuditFilter{})
			if len(evs) != 8 || *evs[0].Hash != r.HeadHash || *evs[0].Seq != 8 || *evs[1].Hash != *evs[0].PrevHash ||
				*evs[7].Hash != oldHash || *evs[7].PrevHash != genesis {
				t.Fatalf("listed links %+v", evs)
			}
		})
		t.Run("concurrent_appends_and_seals", func(t *testing.T) {
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					for range 10 {
						if _, err := s.Patients.List(reqCtx(fmt.Sprint("w", i)), alice, models.PatientFilter{}, models.PageRequest{First: ptr(3)}); err != nil {
							t.Error(err)
							return
						}
					}
				})
				wg.Go(func() {
					if _, err := trail.Seal(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if r := verify(t); !r.OK() || r.Sealed != 8+8*10 {
				t.Fatalf("report %+v", r)
			}
		})
		// The chain takes events in id order.
		var rows []eventRow
		if err := db.NewSelect().Table("audit_events").Column("id", "fields", "user_id", "records", "record_id").OrderExpr("id").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		if rows[0].ID != old.ID || rows[1].ID != pending.ID || rows[2].Records == "" {
			t.Fatalf("rows %+v", rows[:3])
		}
		// tamper runs stmt on the event (or link) id, expects Verify to
		// report it altered, then undoes it with undo.
		tamper := func(t *testing.T, id int64, stmt, undo string, args, undoArgs []any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, stmt, append(args, id)...); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if r.OK() || r.BadID != id || !strings.Contains(r.Problem, "altered") {
				t.Fatalf("%s: report %+v", stmt, r)
			}
			if _, err := db.ExecContext(ctx, undo, append(undoArgs, id)...); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); !r.OK() {
				t.Fatalf("restored: %+v", r)
			}
		}
		t.Run("edited_row_detected", func(t *testing.T) {
			const setFields = `UPDATE audit_events SET fields = ? WHERE id = ?`
			tamper(t, rows[3].ID, setFields, setFields, []any{"first_name"}, []any{rows[3].Fields})
			// Another column, and the user id made NULL.
			const setUser = `UPDATE audit_events SET user_id = ? WHERE id = ?`
			tamper(t, rows[7].ID, setUser, setUser, []any{nil}, []any{*rows[7].UserID})
		})
		t.Run("edited_records_detected", func(t *testing.T) {
			const setRecords = `UPDATE audit_events SET records = ? WHERE id = ?`
			v2 := rows[4]
			tamper(t, v2.ID, setRecords, setRecords, []any{`{"patient":[999]}`}, []any{v2.Records})
			// Emptied, so that it would hash as an older event.
			tamper(t, v2.ID, setRecords, setRecords, []any{""}, []any{v2.Records})
		})
		t.Run("edited_v1_row_detected", func(t *testing.T) {
			const setRecordID = `UPDATE audit_events SET record_id = ? WHERE id = ?`
			tamper(t, old.ID, setRecordID, setRecordID, []any{999}, []any{*old.RecordID})
			tamper(t, pending.ID, setRecordID, setRecordID, []any{nil}, []any{*pending.RecordID})
			// Given records, so that it would hash as a newer event.
			const setRecords = `UPDATE audit_events SET records = ? WHERE id = ?`
			tamper(t, pending.ID, setRecords, setRecords, []any{`{"patient":[42]}`}, []any{""})
		})
		t.Run("edited_link_detected", func(t *testing.T) {
			const setHash = `UPDATE audit_chain SET hash = ? WHERE event_id = ?`
			tamper(t, rows[4].ID, setHash, setHash, []any{strings.Repeat("f", 64)}, []any{linkHash(t, db, rows[4].ID)})
			tamper(t, old.ID, setHash, setHash, []any{strings.Repeat("e", 64)}, []any{oldHash})
		})
		t.Run("deleted_row_detected", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_events WHERE id = ?`, rows[5].ID); err != nil {
				t.Fatal(err)
			}
			r := verify(t)
			if r.OK() || r.BadID != rows[5].ID || !strings.Contains(r.Problem, "deleted") || r.Sealed != 5 {
				t.Fatalf("report %+v", r)
			}
			// Its link deleted too: the gap in positions shows.
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain WHERE event_id = ?`, rows[5].ID); err != nil {
				t.Fatal(err)
			}
			r = verify(t)
			if r.OK() || r.BadID != rows[6].ID || !strings.Contains(r.Problem, "deleted") || r.Sealed != 5 {
				t.Fatalf("report %+v", r)
			}
		})
		t.Run("unlinked_row_detected", func(t *testing.T) {
			// Removing a link to have the event chained anew is seen
			// (the gap in positions), and the event, left behind the
			// chain's head, is not sealed again.
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain WHERE event_id = ?`, rows[1].ID); err != nil {
				t.Fatal(err)
			}
			if r := verify(t); r.OK() || r.BadID != rows[2].ID {
				t.Fatalf("report %+v", r)
			}
			n, err := db.NewSelect().Table("audit_chain").Where("event_id = ?", rows[1].ID).Count(ctx)
			if err != nil || n != 0 {
				t.Fatalf("relinked: %d %v", n, err)
			}
		})
		t.Run("unchained_row_detected", func(t *testing.T) {
			// A fresh database: an event inserted behind the trail's back
			// before the head.
			kind := dbtest.SQLite
			if database.IsPostgres(db) {
				kind = dbtest.Postgres
			}
			db := dbtest.Open(t, kind)
			trail := audit.New(db, nil)
			a := insertV1(t, db, 1, 1, "a")
			b := insertV1(t, db, 1, 2, "b")
			if n, err := trail.Seal(ctx); err != nil || n != 2 {
				t.Fatalf("sealed %d: %v", n, err)
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain WHERE event_id = ?`, b); err != nil {
				t.Fatal(err)
			}
			// The head is a again, so b is chained anew: the chain verifies.
			if r, err := trail.Verify(ctx); err != nil || !r.OK() || r.Sealed != 2 {
				t.Fatalf("report %+v %v", r, err)
			}
			// With a's link gone too, and the chain started over by hand
			// after b, a is left behind the head.
			if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain`); err != nil {
				t.Fatal(err)
			}
			bRow := readEvent(t, db, b)
			if _, err := db.ExecContext(ctx, `INSERT INTO audit_chain (event_id, seq, hash) VALUES (?, 1, ?)`, b, v1Hash(genesis, 1, bRow)); err != nil {
				t.Fatal(err)
			}
			r, err := trail.Verify(ctx)
			if err != nil || r.OK() || r.BadID != a || !strings.Contains(r.Problem, "not on the chain") {
				t.Fatalf("report %+v %v", r, err)
			}
		})
	})
}

// insertRawEvent writes an event on db (a transaction) as a change would,
// and returns its id.
func insertRawEvent(t *testing.T, db bun.IDB) int64 {
	t.Helper()
	var id int64
	err := db.NewRaw(`INSERT INTO audit_events (occurred_at, action, record_type, records, fields, ip, user_agent, request_id)
		VALUES (?, 'login', 'user', '', '', '', '', 'raw') RETURNING id`, time.Now().UTC()).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAuditSealCommitOrder: on PostgreSQL an event can commit after one with
// a higher id. The sealer waits for it and chains both in id order; it
// passes an id that never commits (a rollback) once the grace is over; and
// an event that commits after it was passed is reported by Verify.
func TestAuditSealCommitOrder(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("PostgreSQL only: SQLite commits one writer at a time, in id order")
	}
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.Postgres)
	trail := apptest.New(t, db, apptest.Options{}).Audit
	logout := func(t *testing.T) {
		t.Helper()
		if err := trail.Record(ctx, nil, models.AuditEntry{Action: models.AuditLogout}); err != nil {
			t.Fatal(err)
		}
	}
	seal := func(t *testing.T, want int) {
		t.Helper()
		if n, err := trail.Seal(ctx); err != nil || n != want {
			t.Fatalf("sealed %d, want %d: %v", n, want, err)
		}
	}
	verify := func(t *testing.T) *audit.Report {
		t.Helper()
		r, err := trail.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("late_commit_waited_for", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		late := insertRawEvent(t, tx)
		logout(t)
		seal(t, 0)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		seal(t, 2)
		r := verify(t)
		if !r.OK() || r.Sealed != 2 {
			t.Fatalf("report %+v", r)
		}
		var first int64
		if err := db.NewSelect().Table("audit_chain").Column("event_id").Where("seq = 1").Scan(ctx, &first); err != nil || first != late {
			t.Fatalf("position 1 is %d, want the late event %d: %v", first, late, err)
		}
	})
	t.Run("rollback_passed_after_grace", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		insertRawEvent(t, tx)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		logout(t)
		seal(t, 0)
		trail.SetSealGrace(time.Nanosecond)
		defer trail.SetSealGrace(0)
		seal(t, 1)
		if r := verify(t); !r.OK() || r.Sealed != 3 || r.Unsealed != 0 {
			t.Fatalf("report %+v", r)
		}
	})
	t.Run("commit_after_grace_reported", func(t *testing.T) {
		trail.SetSealGrace(time.Nanosecond)
		defer trail.SetSealGrace(0)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		late := insertRawEvent(t, tx)
		logout(t)
		seal(t, 1)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		r := verify(t)
		if r.OK() || r.BadID != late || !strings.Contains(r.Problem, "not on the chain") {
			t.Fatalf("report %+v", r)
		}
	})
}

// TestAuditOddText: the events' text (written by hand, not by Bun) comes
// back exactly as sent, whatever it holds, and chains; text longer than
// its column is cut at a character boundary.
func TestAuditOddText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice := mustUser(t, s, "alice@example.com")
		root := mustSuperuser(t, s, "root@example.com")
		p, err := s.Patients.Create(ctx, alice, patientIn("Ann"))
		if err != nil {
			t.Fatal(err)
		}
		odd := `it's "odd" ? ?? $1 \ '' -- ; 日本 ` + "\t\u00e9"
		rctx := models.WithRequestInfo(ctx, models.RequestInfo{IP: "::1", UserAgent: odd, RequestID: "odd?'"})
		if _, err := s.Patients.Get(rctx, alice, p.ID); err != nil {
			t.Fatal(err)
		}
		evs := auditOf(t, trail, root, "odd?'")
		if len(evs) != 1 || evs[0].UserAgent != odd || evs[0].IP != "::1" {
			t.Fatalf("events %+v", evs)
		}
		// 1 + 2×300 bytes: byte 512 is the middle of an é.
		long := "x" + strings.Repeat("é", 300)
		rctx = models.WithRequestInfo(ctx, models.RequestInfo{IP: strings.Repeat("1", 100), UserAgent: long, RequestID: strings.Repeat("r", 200)})
		if _, err := s.Patients.Get(rctx, alice, p.ID); err != nil {
			t.Fatal(err)
		}
		evs = auditOf(t, trail, root, strings.Repeat("r", 128))
		if len(evs) != 1 || evs[0].UserAgent != long[:511] || !utf8.ValidString(evs[0].UserAgent) || evs[0].IP != strings.Repeat("1", 64) {
			t.Fatalf("events %+v", evs)
		}
		if r, err := trail.Verify(ctx); err != nil || !r.OK() || r.Sealed != 3 {
			t.Fatalf("verify %+v %v", r, err)
		}
	})
}
