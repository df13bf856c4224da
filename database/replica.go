package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"healthcare/models"
)

// Replica is a streaming standby of the primary that answers the reads
// which may be a moment stale: the plain reads of patients, doctors and
// mappings (Get, List, ByIDs, ForPatient). Everything else stays on the
// primary: writes, reads inside a transaction, accounts, sessions and
// tokens, the audit trail, and every read by an account that wrote in the
// last Window (a writer's next reads see its writes: read-your-writes),
// or by a superuser.
//
// Recent writers are known from the Changes every node publishes
// (Notifier), so a write on one node sends the writer's reads to the
// primary on every node; while a node cannot hear the others, or for a
// Window after it hears them again, all its reads go to the primary.
//
// A replica that does not answer never fails a read: the read is run again
// on the primary, the replica is set aside until Watch finds it answering
// again, and the change is logged.
type Replica struct {
	db       *bun.DB
	primary  *bun.DB
	notifier *Notifier
	log      *slog.Logger
	window   time.Duration

	mu         sync.Mutex
	writers    map[int64]time.Time // account -> when it last wrote
	blindUntil time.Time           // changes may have been missed until then

	up  atomic.Bool
	lag atomic.Int64 // bytes of WAL not yet replayed; -1 unknown

	// OnRead, if set, is told where each read that could go to the
	// replica went, and why (metrics).
	OnRead func(replica bool, reason string)
	// OnFallback, if set, is told of each read the replica failed and the
	// primary answered (metrics).
	OnFallback func()
}

// Reasons a read went where it went (Replica.OnRead).
const (
	ReadReplica       = "replica"             // to the replica
	ReadInTx          = "transaction"         // inside a transaction: the primary
	ReadRecentWriter  = "recent_writer"       // the account wrote lately: the primary
	ReadSuperuser     = "superuser"           // staff edit anyone's records: the primary
	ReadNotifications = "notifications_down"  // this node may have missed writes: the primary
	ReadReplicaDown   = "replica_unavailable" // the replica does not answer: the primary
)

// DefaultReplicaWindow is how long after its last write an account reads
// from the primary. A standby on the same network replays within
// milliseconds; the window covers a slow one too.
const DefaultReplicaWindow = 5 * time.Second

// OpenReplica connects to the standby at rawURL (a postgres:// URL), with
// a pool of at most maxConns connections (0: the primary's default). It
// does not fail when the standby is down: Watch brings it in once it
// answers. Its connections are named healthcare-replica in
// pg_stat_activity unless the URL names them.
func OpenReplica(ctx context.Context, rawURL string, maxConns int, primary *bun.DB, n *Notifier, log *slog.Logger) (*Replica, error) {
	if log == nil {
		log = slog.Default()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("replica: unparseable database URL")
	}
	q := u.Query()
	if q.Get("application_name") == "" {
		q.Set("application_name", "healthcare-replica")
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "2") // a down standby costs a read 2 s, once
	}
	u.RawQuery = q.Encode()
	if maxConns <= 0 {
		maxConns = primary.DB.Stats().MaxOpenConnections
	}
	db, err := openPGPool(u.String(), maxConns)
	if err != nil {
		return nil, fmt.Errorf("open replica: %w", err)
	}
	r := &Replica{db: db, primary: primary, notifier: n, log: log, window: DefaultReplicaWindow, writers: map[int64]time.Time{}}
	r.lag.Store(-1)
	if n != nil {
		n.Subscribe(r.changed, r.reset)
	}
	r.check(ctx)
	if !r.up.Load() {
		log.Warn("read replica does not answer: reads go to the primary until it does", "url", RedactURL(rawURL))
	}
	return r, nil
}

// DB returns the replica's handle.
func (r *Replica) DB() *bun.DB { return r.db }

// Close closes the replica's connections.
func (r *Replica) Close() error { return r.db.Close() }

// Up reports whether reads go to the replica now.
func (r *Replica) Up() bool { return r.up.Load() }

// LagBytes returns how much WAL the replica had yet to replay at the last
// check (-1: unknown).
func (r *Replica) LagBytes() int64 { return r.lag.Load() }

// SetWindow replaces DefaultReplicaWindow (tests), shortening a blind
// window already begun.
func (r *Replica) SetWindow(d time.Duration) {
	r.mu.Lock()
	r.window = d
	if until := time.Now().Add(d); r.blindUntil.After(until) {
		r.blindUntil = until
	}
	r.mu.Unlock()
}

// changed notes the account a change was made for as a recent writer.
func (r *Replica) changed(c Change) {
	if c.Owner == 0 {
		return
	}
	r.mu.Lock()
	r.writers[c.Owner] = time.Now()
	r.mu.Unlock()
}

// reset sends every read to the primary for a window: changes may have
// been missed while this node was not hearing them.
func (r *Replica) reset() {
	r.mu.Lock()
	r.blindUntil = time.Now().Add(r.window)
	r.mu.Unlock()
}

// route decides where a read by v (outside a transaction) goes.
func (r *Replica) route(v models.Viewer) (bool, string) {
	switch {
	case v.Superuser:
		return false, ReadSuperuser
	case !r.up.Load():
		return false, ReadReplicaDown
	case !r.notifier.Connected():
		return false, ReadNotifications
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Before(r.blindUntil) {
		return false, ReadNotifications
	}
	if t, ok := r.writers[v.UserID]; ok && now.Sub(t) < r.window {
		return false, ReadRecentWriter
	}
	return true, ReadReplica
}

func (r *Replica) count(replica bool, reason string) {
	if r.OnRead != nil {
		r.OnRead(replica, reason)
	}
}

// failed sets the replica aside after err (a failed read) if err says it
// cannot be reached; other errors (a query cancelled by the standby's
// recovery) only send that read to the primary.
func (r *Replica) failed(ctx context.Context, err error) {
	if r.OnFallback != nil {
		r.OnFallback()
	}
	var me *models.Error
	if (errors.As(err, &me) && me.Code == models.CodeUnavailable) || isConnError(err) {
		if r.up.Swap(false) {
			r.log.WarnContext(ctx, "read replica failed: reads go to the primary until it answers again", "err", err)
		}
		return
	}
	r.log.WarnContext(ctx, "read replica failed a read: answered from the primary", "err", err)
}

// Watch checks the replica every interval until ctx ends: whether it
// answers (bringing it back after a failure) and how far it lags. It also
// forgets writers older than the window.
func (r *Replica) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.check(ctx)
		r.mu.Lock()
		for id, at := range r.writers {
			if time.Since(at) >= r.window {
				delete(r.writers, id)
			}
		}
		r.mu.Unlock()
	}
}

// check asks the replica where its replay stands, and the primary how far
// that is behind its WAL.
func (r *Replica) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var replay sql.NullString
	err := r.db.QueryRowContext(ctx, "SELECT pg_last_wal_replay_lsn()::text").Scan(&replay)
	if err != nil {
		r.lag.Store(-1)
		if r.up.Swap(false) {
			r.log.Warn("read replica does not answer: reads go to the primary until it does", "err", err)
		}
		return
	}
	if !r.up.Swap(true) {
		r.log.Info("read replica answers: stale-tolerant reads go to it")
	}
	if !replay.Valid { // not a standby (a primary named as its own replica)
		r.lag.Store(0)
		return
	}
	var lag int64
	if err := r.primary.QueryRowContext(ctx, "SELECT GREATEST(0, pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn))::bigint", replay.String).Scan(&lag); err != nil {
		r.lag.Store(-1)
		return
	}
	r.lag.Store(lag)
}

// readAt runs read on the primary, or, for a plain read (stale: nothing
// will be written on the strength of it), where readVia sends it.
func (s *Store) readAt(ctx context.Context, v models.Viewer, stale bool, read func(db bun.IDB) error) error {
	if !stale {
		return read(s.db)
	}
	return s.readVia(ctx, v, read)
}

// readVia runs read on the database a read by v may use: the replica when
// Options.Replica is set and route allows it, else the primary (or the
// transaction). A read the replica fails (for any reason but no rows, or
// the caller's leaving) runs again on the primary, so a replica never
// fails a read. read must return the database's errors as they are, and
// may run twice.
func (s *Store) readVia(ctx context.Context, v models.Viewer, read func(db bun.IDB) error) error {
	r := s.opts.Replica
	if r == nil {
		return read(s.db)
	}
	if s.tx != nil {
		r.count(false, ReadInTx)
		return read(s.db)
	}
	ok, reason := r.route(v)
	r.count(ok, reason)
	if !ok {
		return read(s.db)
	}
	err := read(r.db)
	if err == nil || errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
		return err
	}
	var me *models.Error
	if errors.As(err, &me) && me.Code != models.CodeUnavailable {
		return err // the request's fault (an unknown order), not the replica's
	}
	r.failed(ctx, err)
	return read(s.db)
}
