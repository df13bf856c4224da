package auth

import "context"

// The names of the throttling limits, as Throttle.OnLimit hears them.
const (
	LimitPair     = "account_network" // failures per account and client network: refused
	LimitNetwork  = "network"         // failures per client network: refused
	LimitAccount  = "account"         // failures per account from anywhere: slowed down
	LimitRegister = "register"        // registrations per client network: refused
)

func (t *Throttle) limited(ctx context.Context, limit string) {
	if t.OnLimit != nil {
		t.OnLimit(ctx, limit)
	}
}

// Workers returns how many hashes may run at once.
func (h *Hasher) Workers() int { return cap(h.slots) }

// QueueLimit returns how many requests may wait for a slot.
func (h *Hasher) QueueLimit() int { return int(h.queue) }

// Refused returns how many requests were refused because the pool and its
// queue were full, or their wait ran out (for metrics).
func (h *Hasher) Refused() uint64 { return h.refused.Load() }
