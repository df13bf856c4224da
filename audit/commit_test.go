package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"healthcare/audit"
	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/internal/apptest"
	"healthcare/models"
)

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var errBadRow = errors.New("bad row")

// writes records the statements of a committer: the rows of each call, in
// the order of the calls. Each call waits for gate (when set), and fails
// when a row is "bad".
type writes struct {
	gate     chan struct{}
	mu       sync.Mutex
	calls    [][]string
	inFlight atomic.Int32
	maxIn    atomic.Int32
}

func newWrites() *writes { return &writes{gate: make(chan struct{})} }

func (w *writes) write(rows [][]byte) error {
	n := w.inFlight.Add(1)
	defer w.inFlight.Add(-1)
	for {
		m := w.maxIn.Load()
		if n <= m || w.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	call := make([]string, len(rows))
	for i, r := range rows {
		call[i] = string(r)
	}
	w.mu.Lock()
	w.calls = append(w.calls, call)
	w.mu.Unlock()
	<-w.gate
	if slices.Contains(call, "bad") {
		return errBadRow
	}
	return nil
}

func (w *writes) release() { close(w.gate) }

// snapshot returns the rows of each call so far.
func (w *writes) snapshot() [][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

func (w *writes) count() int { return len(w.snapshot()) }

func rowsOf(words ...string) [][]byte {
	out := make([][]byte, len(words))
	for i, s := range words {
		out[i] = []byte(s)
	}
	return out
}

// submitter runs submits in goroutines and collects their outcome.
type submitter struct {
	c    *audit.Committer
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs map[string]error
	done atomic.Int32
}

func newSubmitter(c *audit.Committer) *submitter {
	return &submitter{c: c, errs: map[string]error{}}
}

// goSubmit submits rows (named by the first) from a new goroutine.
func (s *submitter) goSubmit(ctx context.Context, rows ...string) {
	s.wg.Go(func() {
		err := s.c.Submit(ctx, rowsOf(rows...)...)
		s.mu.Lock()
		s.errs[rows[0]] = err
		s.mu.Unlock()
		s.done.Add(1)
	})
}

// queue submits rows from a new goroutine and waits until they are queued
// behind a busy writer: successive calls queue in their order.
func (s *submitter) queue(t *testing.T, rows ...string) {
	t.Helper()
	before := s.c.Depth()
	s.goSubmit(context.Background(), rows...)
	waitFor(t, "the submit to queue", func() bool { return s.c.Depth() == before+1 })
}

func (s *submitter) wait() map[string]error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs
}

func TestCommitter(t *testing.T) {
	// busy returns a committer whose one writer is busy writing "a" until
	// w.release.
	busy := func(t *testing.T, maxRows int) (*writes, *audit.Committer, *submitter) {
		w := newWrites()
		c := audit.NewCommitter(1, maxRows, w.write)
		s := newSubmitter(c)
		s.goSubmit(context.Background(), "a")
		waitFor(t, "the first write", func() bool { return w.count() == 1 })
		return w, c, s
	}

	t.Run("alone_writes_at_once", func(t *testing.T) {
		w := newWrites()
		w.release()
		c := audit.NewCommitter(2, 10, w.write)
		if err := c.Submit(context.Background(), rowsOf("x", "y")...); err != nil {
			t.Fatal(err)
		}
		if got := w.snapshot(); len(got) != 1 || !slices.Equal(got[0], []string{"x", "y"}) {
			t.Fatalf("calls %v", got)
		}
		if err := c.Submit(context.Background()); err != nil || w.count() != 1 {
			t.Fatalf("no rows: %v, %d calls", err, w.count())
		}
	})

	t.Run("concurrent_submits_share_one_statement", func(t *testing.T) {
		w, c, s := busy(t, 100)
		var want []string
		for i := range 10 {
			row := fmt.Sprint("r", i)
			want = append(want, row)
			s.goSubmit(context.Background(), row)
		}
		waitFor(t, "10 queued submits", func() bool { return c.Depth() == 10 })
		time.Sleep(10 * time.Millisecond)
		if n := s.done.Load(); n != 0 {
			t.Fatalf("%d submits returned before their statement was written", n)
		}
		w.release()
		for row, err := range s.wait() {
			if err != nil {
				t.Errorf("%s: %v", row, err)
			}
		}
		calls := w.snapshot()
		if len(calls) != 2 {
			t.Fatalf("%d statements for 11 submits, want 2: %v", len(calls), calls)
		}
		slices.Sort(calls[1])
		if !slices.Equal(calls[1], want) {
			t.Fatalf("shared statement %v, want %v", calls[1], want)
		}
	})

	t.Run("statements_hold_at_most_max_rows", func(t *testing.T) {
		w, _, s := busy(t, 3)
		s.queue(t, "r1")
		s.queue(t, "r2")
		s.queue(t, "r3", "r3b")
		s.queue(t, "r4", "r4b", "r4c", "r4d", "r4e") // more than fit: alone
		s.queue(t, "r5")
		w.release()
		for row, err := range s.wait() {
			if err != nil {
				t.Errorf("%s: %v", row, err)
			}
		}
		got := fmt.Sprint(w.snapshot())
		if want := "[[a] [r1 r2] [r3 r3b] [r4 r4b r4c r4d r4e] [r5]]"; got != want {
			t.Fatalf("statements %s, want %s", got, want)
		}
	})

	t.Run("failed_shared_statement_retried_alone", func(t *testing.T) {
		w, _, s := busy(t, 100)
		s.queue(t, "x")
		s.queue(t, "bad")
		s.queue(t, "y", "y2")
		w.release()
		errs := s.wait()
		if errs["a"] != nil || errs["x"] != nil || errs["y"] != nil || !errors.Is(errs["bad"], errBadRow) {
			t.Fatalf("outcomes %v", errs)
		}
		got := fmt.Sprint(w.snapshot())
		if want := "[[a] [x bad y y2] [x] [bad] [y y2]]"; got != want {
			t.Fatalf("statements %s, want %s", got, want)
		}
	})

	t.Run("failed_lone_statement_not_retried", func(t *testing.T) {
		w := newWrites()
		w.release()
		c := audit.NewCommitter(1, 10, w.write)
		if err := c.Submit(context.Background(), rowsOf("bad")...); !errors.Is(err, errBadRow) {
			t.Fatalf("got %v", err)
		}
		if n := w.count(); n != 1 {
			t.Fatalf("%d statements", n)
		}
	})

	t.Run("cancelled_ctx_returns_its_error", func(t *testing.T) {
		w, c, s := busy(t, 100)
		ctx, cancel := context.WithCancel(context.Background())
		returned := make(chan error, 1)
		go func() { returned <- c.Submit(ctx, rowsOf("late")...) }()
		waitFor(t, "the submit to queue", func() bool { return c.Depth() == 1 })
		cancel()
		select {
		case err := <-returned:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a cancelled submit still waits for the busy writer")
		}
		// Its rows were queued: they are still written.
		w.release()
		s.wait()
		waitFor(t, "the queued rows to be written", func() bool {
			return slices.ContainsFunc(w.snapshot(), func(call []string) bool { return slices.Contains(call, "late") })
		})
		ctx, cancel = context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		if err := c.Submit(ctx, rowsOf("expired")...); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("expired ctx: %v", err)
		}
	})

	t.Run("at_most_max_writers", func(t *testing.T) {
		w := newWrites()
		c := audit.NewCommitter(2, 100, w.write)
		s := newSubmitter(c)
		const n = 40
		for i := range n {
			s.goSubmit(context.Background(), fmt.Sprint("r", i))
		}
		waitFor(t, "two busy writers and the rest queued", func() bool {
			return w.inFlight.Load() == 2 && c.Depth() == n-2
		})
		time.Sleep(20 * time.Millisecond)
		if m := w.maxIn.Load(); m != 2 {
			t.Fatalf("%d statements at once, want 2", m)
		}
		w.release()
		for row, err := range s.wait() {
			if err != nil {
				t.Errorf("%s: %v", row, err)
			}
		}
		waitFor(t, "the writers to finish", func() bool { return w.inFlight.Load() == 0 })
		if m := w.maxIn.Load(); m != 2 {
			t.Fatalf("%d statements at once, want 2", m)
		}
		var all []string
		for _, call := range w.snapshot() {
			all = append(all, call...)
		}
		if len(all) != n || len(slices.Compact(slices.Sorted(slices.Values(all)))) != n {
			t.Fatalf("rows written %v", all)
		}
		// Two alone, then the queue in one.
		if calls := w.count(); calls != 3 {
			t.Fatalf("%d statements for %d submits behind 2 busy writers, want 3", calls, n)
		}
	})
}

// TestAuditGroupCommit: concurrent reads share INSERTs, yet each returns
// only once its own event is committed; a read whose event cannot be
// written fails (it is never served unaudited) without failing the reads
// it shared an INSERT with.
func TestAuditGroupCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		app := apptest.New(t, db, apptest.Options{})
		s, trail := app.Store, app.Audit
		alice := mustUser(t, s, "alice@example.com")
		for i := range 5 {
			if _, err := s.Patients.Create(ctx, alice, patientIn(fmt.Sprintf("Ann%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		// Events of the request "poison" cannot be written.
		trigger := []string{`CREATE TRIGGER audit_poison BEFORE INSERT ON audit_events
			WHEN NEW.request_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned event'); END`}
		if database.IsPostgres(db) {
			trigger = []string{`CREATE FUNCTION audit_poison() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.request_id = 'poison' THEN RAISE EXCEPTION 'poisoned event'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER audit_poison BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_poison()`}
		}
		for _, q := range trigger {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		inserts := &insertCounter{}
		db.AddQueryHook(inserts)
		const workers, rounds = 16, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					id := fmt.Sprintf("g%d-%d", w, i)
					if w == 0 && i%3 == 0 {
						id = "poison"
					}
					page, err := s.Patients.List(reqCtx(id), alice, models.PatientFilter{}, models.PageRequest{First: ptr(5)})
					if id == "poison" {
						if err == nil || page != nil {
							errs <- fmt.Errorf("poisoned read served: %v", err)
						}
						continue
					}
					if err != nil {
						errs <- err
						continue
					}
					// Committed before List returned: visible at once.
					var recs []string
					if err := db.NewSelect().Table("audit_events").Column("records").Where("request_id = ?", id).Scan(ctx, &recs); err != nil {
						errs <- err
					} else if len(recs) != 1 || strings.Count(recs[0], ",") != 4 {
						errs <- fmt.Errorf("%s: events %q right after the read", id, recs)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n, err := db.NewSelect().Table("audit_events").Where("action = 'read'").Count(ctx)
		if want := int64(workers*rounds - 4); err != nil || n != want {
			t.Fatalf("%d read events, want %d: %v", n, want, err)
		}
		t.Logf("%d read events in %d INSERTs (the 4 poisoned ones each tried again alone)", n, inserts.n.Load())
		// On PostgreSQL the failed INSERTs left unused ids: gaps the sealer
		// would wait sealGrace for, though nothing is in flight any more.
		trail.SetSealGrace(time.Nanosecond)
		if r, err := trail.Verify(ctx); err != nil || !r.OK() || r.Sealed != int(n)+5 {
			t.Fatalf("verify %+v %v", r, err)
		}
	})
}

// insertCounter counts the INSERTs into audit_events.
type insertCounter struct{ n atomic.Int64 }

func (c *insertCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *insertCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.HasPrefix(e.Query, "INSERT INTO audit_events ") {
		c.n.Add(1)
	}
}

// BenchmarkAuditAppend measures the append path of a read: encoding a
// 20-record event and writing it by group commit, from 4 goroutines per
// CPU at once (concurrent requests). events/insert is how many events an
// INSERT carried.
func BenchmarkAuditAppend(b *testing.B) {
	for _, k := range dbtest.Kinds(b) {
		b.Run(string(k), func(b *testing.B) {
			db := dbtest.Open(b, k)
			inserts := &insertCounter{}
			db.AddQueryHook(inserts)
			trail := audit.New(db, nil)
			e := models.AuditEntry{UserID: 1, Action: models.AuditRead}
			for i := range 20 {
				e.Refs = append(e.Refs, models.AuditRef{Type: models.AuditPatient, ID: int64(1000 + i)})
			}
			ctx := reqCtx("bench-0123456789abcdef")
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := trail.Record(ctx, nil, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if n := inserts.n.Load(); n > 0 {
				b.ReportMetric(float64(b.N)/float64(n), "events/insert")
			}
		})
	}
}
