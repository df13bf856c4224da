package database_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"healthcare/database"
	"healthcare/database/dbtest"
	"healthcare/models"
)

// readLog records where the replica's reads went.
type readLog struct {
	mu       sync.Mutex
	reasons  []string
	fellBack int
}

func (l *readLog) read(_ bool, reason string) {
	l.mu.Lock()
	l.reasons = append(l.reasons, reason)
	l.mu.Unlock()
}

func (l *readLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reasons
	l.reasons = nil
	return out
}

// TestReplicaRouting: plain reads go to the replica; a writer's reads, a
// superuser's and reads inside a transaction stay on the primary; a
// replica that fails a read never fails it. (The replica here is a second
// pool on the same database; .ci/replica runs against a real standby.)
func TestReplicaRouting(t *testing.T) {
	if !slices.Contains(dbtest.Kinds(t), dbtest.Postgres) {
		t.Skip("a read replica needs PostgreSQL (TEST_DATABASE_URL)")
	}
	ctx := context.Background()
	url := dbtest.URL(t)
	db, err := database.Open(ctx, database.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := database.NewNotifier(true)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go n.Listen(lctx, db, nil)
	for deadline := time.Now().Add(5 * time.Second); !n.Connected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("notifier never connected")
		}
	}
	r, err := database.OpenReplica(ctx, url, 4, db, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Up() || r.LagBytes() != 0 {
		t.Fatalf("replica up=%v lag=%d", r.Up(), r.LagBytes())
	}
	log := &readLog{}
	r.OnRead = log.read
	r.OnFallback = func() { log.mu.Lock(); log.fellBack++; log.mu.Unlock() }
	r.SetWindow(300 * time.Millisecond)
	s := database.New(db, database.Options{Notifier: n, Replica: r})
	alice, bob := mustUser(t, s, "alice@example.com"), mustUser(t, s, "bob@example.com")

	p, err := s.Patients.Create(ctx, alice, patientIn("Asha"))
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	if _, err := s.Patients.Get(ctx, alice, p.ID); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 1 || got[0] != database.ReadRecentWriter {
		t.Fatalf("a writer's read went %v, want the primary (recent_writer)", got)
	}
	if _, err := s.Patients.List(ctx, bob, models.PatientFilter{}, models.PageRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 1 || got[0] != database.ReadReplica {
		t.Fatalf("another account's read went %v, want the replica", got)
	}
	if _, err := s.Doctors.List(ctx, models.Viewer{UserID: alice.UserID, Superuser: true}, models.DoctorFilter{}, models.PageRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 1 || got[0] != database.ReadSuperuser {
		t.Fatalf("a superuser's read went %v", got)
	}
	time.Sleep(350 * time.Millisecond) // the window passes
	got, err := s.Patients.Get(ctx, alice, p.ID)
	if err != nil || got.FirstName != "Asha" {
		t.Fatalf("get: %v %v", got, err)
	}
	if got := log.take(); len(got) != 1 || got[0] != database.ReadReplica {
		t.Fatalf("after the window the read went %v, want the replica", got)
	}
	_ = s.InTx(ctx, func(tx *database.Store) error {
		_, err := tx.Patients.Get(ctx, alice, p.ID)
		return err
	})
	if got := log.take(); len(got) != 1 || got[0] != database.ReadInTx {
		t.Fatalf("a read in a transaction went %v", got)
	}
	// A doctor written by bob makes bob a writer too.
	if _, err := s.Doctors.Create(ctx, bob, doctorIn(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Doctors.List(ctx, bob, models.DoctorFilter{}, models.PageRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 1 || got[0] != database.ReadRecentWriter {
		t.Fatalf("a doctor's writer read from %v", got)
	}
	// A replica that fails: the read is answered from the primary.
	r.DB().Close()
	time.Sleep(350 * time.Millisecond)
	page, err := s.Patients.List(ctx, alice, models.PatientFilter{}, models.PageRequest{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("a read the replica failed: %v %v", page, err)
	}
	if log.fellBack != 1 {
		t.Fatalf("fallbacks %d, want 1", log.fellBack)
	}
}
