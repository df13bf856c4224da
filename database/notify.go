package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// Change kinds.
const (
	ChangePatient = "patient"
	ChangeMapping = "mapping"
	ChangeUser    = "user"    // an account's flags or password changed
	ChangeSession = "session" // a session was revoked
	ChangeDoctor  = "doctor"  // Owner is the account that wrote it
)

// Change operations.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Change is what a committed write tells every server node: which record
// changed and whose it is, never its values (listeners read what they may
// see through the stores).
type Change struct {
	Kind string `json:"k"`
	Op   string `json:"o,omitempty"`
	ID   int64  `json:"i,omitempty"`
	// Owner is the account a patient or mapping belongs to, the account a
	// user or session change is about.
	Owner int64 `json:"u,omitempty"`
	// PatientID is a mapping's patient.
	PatientID int64 `json:"p,omitempty"`
	// Key is a session id.
	Key string `json:"s,omitempty"`
}

// notifyChannel is the PostgreSQL channel changes travel on.
const notifyChannel = "healthcare_changes"

// maxNotifyPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxNotifyPayload = 7000

// Notifier carries Changes to every server node: to this node's listeners
// as soon as the writing transaction commits, and on PostgreSQL to the
// other nodes through LISTEN/NOTIFY (the notification is sent in the
// writing transaction, so it is delivered if and only if it commits). On
// SQLite there is one node, and delivery is in-process only.
//
// Listeners must be quick (they run on the writer's goroutine, or the
// listener's): evict a cache entry, hand an event to a channel.
type Notifier struct {
	pg   bool
	node string // this process, to skip its own notifications

	mu     sync.RWMutex
	subs   map[int]func(Change)
	resets map[int]func()
	next   int

	// connected reports whether this node hears the others (always on
	// SQLite). While it does not, caches that rely on it must not be used.
	connected atomic.Bool
}

// NewNotifier returns a notifier for a database of the given kind. On
// PostgreSQL it hears other nodes only while Listen runs.
func NewNotifier(postgres bool) *Notifier {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	n := &Notifier{pg: postgres, node: hex.EncodeToString(b), subs: map[int]func(Change){}, resets: map[int]func(){}}
	n.connected.Store(!postgres)
	return n
}

// Subscribe calls fn with every Change from now on, until cancel is called.
// onReset, if not nil, is called when changes may have been missed (the
// connection to the database was lost and is back): drop whatever the
// changes were keeping fresh.
func (n *Notifier) Subscribe(fn func(Change), onReset func()) (cancel func()) {
	n.mu.Lock()
	id := n.next
	n.next++
	n.subs[id] = fn
	if onReset != nil {
		n.resets[id] = onReset
	}
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		delete(n.subs, id)
		delete(n.resets, id)
		n.mu.Unlock()
	}
}

// Connected reports whether changes made on other nodes reach this one now.
func (n *Notifier) Connected() bool { return n != nil && n.connected.Load() }

func (n *Notifier) deliver(cs []Change) {
	n.mu.RLock()
	subs := make([]func(Change), 0, len(n.subs))
	for _, f := range n.subs {
		subs = append(subs, f)
	}
	n.mu.RUnlock()
	for _, c := range cs {
		for _, f := range subs {
			f(c)
		}
	}
}

func (n *Notifier) reset() {
	n.mu.RLock()
	fs := make([]func(), 0, len(n.resets))
	for _, f := range n.resets {
		fs = append(fs, f)
	}
	n.mu.RUnlock()
	for _, f := range fs {
		f()
	}
}

// send notifies the other nodes of cs in db (a transaction: they hear of
// them when it commits). Only PostgreSQL has other nodes.
func (n *Notifier) send(ctx context.Context, db bun.IDB, cs []Change) error {
	if n == nil || !n.pg || len(cs) == 0 {
		return nil
	}
	for _, p := range n.payloads(cs) {
		if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", notifyChannel, p); err != nil {
			return err
		}
	}
	return nil
}

// deliverLocal hands cs to this node's listeners.
func (n *Notifier) deliverLocal(cs []Change) {
	if n == nil || len(cs) == 0 {
		return
	}
	n.deliver(cs)
}

// notification is the payload of one NOTIFY.
type notification struct {
	Node    string   `json:"n"`
	Changes []Change `json:"c"`
}

// payloads splits cs into NOTIFY payloads under the size limit.
func (n *Notifier) payloads(cs []Change) []string {
	var out []string
	for len(cs) > 0 {
		k := len(cs)
		for {
			b, _ := json.Marshal(notification{Node: n.node, Changes: cs[:k]})
			if len(b) <= maxNotifyPayload || k == 1 {
				out = append(out, string(b))
				break
			}
			k /= 2
		}
		cs = cs[k:]
	}
	return out
}

// Listen hears the other nodes' changes on PostgreSQL until ctx ends, on a
// connection of db's pool that it keeps for itself, reconnecting after a
// lost connection (and calling every onReset then, since changes may have
// been missed). On SQLite it returns at once.
func (n *Notifier) Listen(ctx context.Context, db *bun.DB, log *slog.Logger) {
	if !n.pg {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := n.listenOnce(ctx, db)
		n.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("change notifications: connection lost; caches bypassed until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (n *Notifier) listenOnce(ctx context.Context, db *bun.DB) error {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		pc, ok := PgxConn(driverConn)
		if !ok {
			return errors.New("change notifications need the pgx driver")
		}
		if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
		// Anything cached while this node was deaf may be stale.
		n.reset()
		n.connected.Store(true)
		defer func() {
			// The connection goes back to the pool: stop listening on it
			// (a broken one is dropped by the pool anyway).
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			_, _ = pc.Exec(cctx, "UNLISTEN *")
		}()
		for {
			msg, err := pc.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			var note notification
			if json.Unmarshal([]byte(msg.Payload), &note) != nil || note.Node == n.node {
				continue
			}
			n.deliver(note.Changes)
		}
	})
}
