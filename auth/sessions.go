package auth

import (
	"context"
	"sync"
	"time"

	"healthcare/database"
)

// sessionCache keeps the state of recently used sessions (with their
// accounts), so that a request with a valid token costs no query. It is
// kept fresh by the Changes every node publishes (database.Notifier): a
// revoked session, or any change to its account (deactivated, demoted, a
// new password, every session revoked), evicts the entries at once on the
// node that made the change and, on PostgreSQL, as soon as the others hear
// of it (milliseconds). While a node cannot hear the others, it does not
// use the cache at all; entries also expire after maxAge.
type sessionCache struct {
	notifier *database.Notifier
	maxAge   time.Duration
	max      int

	mu      sync.Mutex
	entries map[string]cacheEntry
	// gen counts evictions: a load that began before one may have read
	// what the eviction was about, so it is not kept.
	gen uint64
}

type cacheEntry struct {
	state  *database.SessionState
	loaded time.Time
}

func newSessionCache(n *database.Notifier, maxAge time.Duration) *sessionCache {
	c := &sessionCache{notifier: n, maxAge: maxAge, max: 100_000, entries: map[string]cacheEntry{}}
	if n != nil {
		n.Subscribe(c.changed, c.clear)
	}
	return c
}

// usable reports whether cached entries may be trusted now.
func (c *sessionCache) usable() bool { return c != nil && c.notifier.Connected() && c.maxAge > 0 }

// get returns the state of session id, from the cache or the database.
func (c *sessionCache) get(ctx context.Context, s *database.Store, id string) (*database.SessionState, error) {
	if !c.usable() {
		return s.Sessions.State(ctx, id)
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.loaded) < c.maxAge {
		return e.state, nil
	}
	st, err := s.Sessions.State(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen && c.usable() {
		if len(c.entries) >= c.max {
			c.entries = map[string]cacheEntry{}
		}
		c.entries[id] = cacheEntry{state: st, loaded: now}
	}
	c.mu.Unlock()
	return st, nil
}

// changed evicts what ch makes stale.
func (c *sessionCache) changed(ch database.Change) {
	switch ch.Kind {
	case database.ChangeSession, database.ChangeUser:
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if ch.Kind == database.ChangeSession {
		delete(c.entries, ch.Key)
		return
	}
	for id, e := range c.entries {
		if e.state.User.ID == ch.ID {
			delete(c.entries, id)
		}
	}
}

// clear drops everything (changes may have been missed).
func (c *sessionCache) clear() {
	c.mu.Lock()
	c.gen++
	c.entries = map[string]cacheEntry{}
	c.mu.Unlock()
}
