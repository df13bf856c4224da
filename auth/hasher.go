package auth

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"healthcare/models"
)

// Hasher bounds the password hashing the server does at once. Each argon2id
// run takes argonMemoryKiB of memory and a core for tens of milliseconds:
// unbounded, a burst of sign-ins (or of wrong current passwords) takes all
// the memory there is. At most Workers hashes run at once; up to Queue more
// requests wait, each at most MaxWait; past that a request is refused at
// once with Unavailable and a Retry-After, never queued without bound.
type Hasher struct {
	slots   chan struct{}
	waiting atomic.Int64
	refused atomic.Uint64 // requests answered errBusy (for metrics)
	queue   int64
	maxWait time.Duration
}

// NewHasher returns a pool of workers concurrent hashes (0: one per CPU)
// with a queue of queue waiting requests (0: 16 per worker).
func NewHasher(workers, queue int) *Hasher {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if queue <= 0 {
		queue = 16 * workers
	}
	return &Hasher{slots: make(chan struct{}, workers), queue: int64(queue), maxWait: 5 * time.Second}
}

// errBusy is the answer when the pool and its queue are full.
var errBusy = &models.Error{Code: models.CodeUnavailable, RetryAfter: 2 * time.Second,
	Message: "The server is busy checking passwords; try again in a few seconds."}

// do runs f in a slot of the pool.
func (h *Hasher) do(ctx context.Context, f func()) error {
	if h == nil {
		f()
		return nil
	}
	select {
	case h.slots <- struct{}{}:
	default:
		if h.waiting.Add(1) > h.queue {
			h.waiting.Add(-1)
			h.refused.Add(1)
			return errBusy
		}
		t := time.NewTimer(h.maxWait)
		select {
		case h.slots <- struct{}{}:
			h.waiting.Add(-1)
			t.Stop()
		case <-t.C:
			h.waiting.Add(-1)
			h.refused.Add(1)
			return errBusy
		case <-ctx.Done():
			h.waiting.Add(-1)
			t.Stop()
			return ctx.Err()
		}
	}
	defer func() { <-h.slots }()
	f()
	return nil
}

// Hash hashes pw in the pool.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	var hash string
	var err error
	if e := h.do(ctx, func() { hash, err = HashPassword(pw) }); e != nil {
		return "", e
	}
	return hash, err
}

// Check checks pw against hash in the pool.
func (h *Hasher) Check(ctx context.Context, hash, pw string) (bool, error) {
	var ok bool
	var err error
	if e := h.do(ctx, func() { ok, err = CheckPassword(hash, pw) }); e != nil {
		return false, e
	}
	return ok, err
}

// Waiting returns how many requests wait for a slot (for metrics).
func (h *Hasher) Waiting() int { return int(h.waiting.Load()) }

// Busy returns how many hashes run now (for metrics).
func (h *Hasher) Busy() int { return len(h.slots) }
