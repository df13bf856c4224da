package auth

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcare/models"
)

// Counter counts attempts per key in fixed windows, shared by every node:
// database.RateLimitStore, or RedisCounter when REDIS_URL is set.
type Counter interface {
	// Hit counts one attempt and returns the count so far in the window.
	Hit(ctx context.Context, key string, window time.Duration) (count int64, reset time.Time, err error)
	// Peek returns the count so far without counting.
	Peek(ctx context.Context, key string, window time.Duration) (count int64, reset time.Time, err error)
	// Undo takes one counted attempt back.
	Undo(ctx context.Context, key string, window time.Duration) error
}

// Rate is at most N attempts per Window; N = 0 turns the limit off.
type Rate struct {
	N      int64
	Window time.Duration
}

// ParseRate reads "10/15m"; "0" or "off" turn the limit off.
func ParseRate(s string) (Rate, error) {
	if s = strings.TrimSpace(s); s == "0" || strings.EqualFold(s, "off") {
		return Rate{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	var r Rate
	if _, err := fmt.Sscan(n, &r.N); !ok || err != nil || r.N < 1 {
		return r, fmt.Errorf("%q is not a rate like 10/15m (or off)", s)
	}
	d, err := time.ParseDuration(w)
	if err != nil || d <= 0 {
		return r, fmt.Errorf("%q is not a rate like 10/15m (or off)", s)
	}
	r.Window = d
	return r, nil
}

// String writes r as ParseRate reads it.
func (r Rate) String() string {
	if r.N == 0 {
		return "off"
	}
	return fmt.Sprintf("%d/%s", r.N, ShortDuration(r.Window))
}

// ShortDuration writes d as time.ParseDuration reads it, without the zero
// units time.Duration.String adds: 15m, 1h, 168h.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Throttle limits credential checks (signing in, and the current-password
// check of a password change, through any API or the console) and
// registrations, following the OWASP authentication cheat sheet:
//
//   - Only failures count: a successful check takes its attempt back.
//   - Failures are counted per account and client network together
//     (Pair): an attacker hammering an account locks out their own network
//     only, so the owner signing in from anywhere else still gets through.
//   - Failures per client network, whatever the account (Network), stop
//     one source from trying many accounts.
//   - Failures per account from anywhere (Account, a larger budget) do not
//     lock anything: past it, every further check of that account is slowed
//     down, up to MaxDelay, which makes a distributed guessing attack slow
//     without handing attackers a way to lock the owner out.
//   - Registrations per network (Register); a registration refused for a
//     taken email counts as a failure of that network too, so probing which
//     emails have accounts costs the same budget as guessing passwords.
//
// A client network is the client's IPv4 address, or the /64 of its IPv6
// address (one subscriber's allocation). It is called once per attempt
// inside Service, so every transport (and every alias of a mutation) is
// counted alike.
type Throttle struct {
	Counter  Counter
	Pair     Rate // failures per (account, network)
	Network  Rate // failures per network
	Account  Rate // failures per account before checks slow down
	Register Rate // registrations per network
	// MaxDelay bounds the slowdown past Account.
	MaxDelay time.Duration
	// OnLimit, if set, is told of every attempt a limit refused or slowed
	// down, by the limit's name (LimitPair, LimitNetwork, LimitAccount,
	// LimitRegister), for metrics.
	OnLimit func(ctx context.Context, limit string)
}

// DefaultThrottle returns the default limits over c: 10 failures per
// account and network and 50 per network in 15 minutes, a slowdown past
// 100 failures of one account in 15 minutes, 10 registrations per network
// an hour.
func DefaultThrottle(c Counter) *Throttle {
	return &Throttle{
		Counter:  c,
		Pair:     Rate{10, 15 * time.Minute},
		Network:  Rate{50, 15 * time.Minute},
		Account:  Rate{100, 15 * time.Minute},
		Register: Rate{10, time.Hour},
		MaxDelay: 5 * time.Second,
	}
}

// Network returns the throttling key of a client address: the address for
// IPv4, its /64 for IPv6 (anything unparsable as it is).
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

func (t *Throttle) on() bool { return t != nil && t.Counter != nil }

// refuse returns RateLimited until reset.
func refuse(reset time.Time) error {
	return models.RateLimited(time.Duration(math.Ceil(time.Until(reset).Seconds())) * time.Second)
}

// attempt counts one credential check of the account email from the
// request's network. It refuses with RateLimited when the pair's or the
// network's budget is spent, and waits first when the account's is. The
// caller must call done with the outcome: a success takes the attempt back.
func (t *Throttle) attempt(ctx context.Context, email string) (done func(ok bool), err error) {
	nop := func(bool) {}
	if !t.on() {
		return nop, nil
	}
	net := Network(models.RequestInfoFrom(ctx).IP)
	type hit struct {
		key   string
		rate  Rate
		limit string
		slow  bool // past it: slow down, do not refuse
	}
	hits := []hit{
		{"auth:pair:" + email + "|" + net, t.Pair, LimitPair, false},
		{netKey(net), t.Network, LimitNetwork, false},
		{"auth:acct:" + email, t.Account, LimitAccount, true},
	}
	var counted []hit
	undo := func() {
		// Taking back is best effort: a failure only means the attempt
		// stays counted.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, h := range counted {
			_ = t.Counter.Undo(bg, h.key, h.rate.Window)
		}
	}
	var delay time.Duration
	for _, h := range hits {
		if h.rate.N <= 0 {
			continue
		}
		n, reset, err := t.Counter.Hit(ctx, h.key, h.rate.Window)
		if err != nil {
			return nop, err
		}
		counted = append(counted, h)
		if n <= h.rate.N {
			continue
		}
		t.limited(ctx, h.limit)
		if !h.slow {
			return nop, refuse(reset)
		}
		// The account's budget: slow down, do not lock.
		delay = min(t.MaxDelay, time.Duration(n-h.rate.N)*200*time.Millisecond)
	}
	if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nop, ctx.Err()
		}
	}
	return func(ok bool) {
		if ok {
			undo()
		}
	}, nil
}

// netKey is the counter of a client network's failures.
func netKey(net string) string { return "auth:net:" + net }

// register counts one registration from the request's network, refusing
// past Register, or while the network's failure budget is spent.
func (t *Throttle) register(ctx context.Context) error {
	if !t.on() {
		return nil
	}
	net := Network(models.RequestInfoFrom(ctx).IP)
	if t.Network.N > 0 {
		n, reset, err := t.Counter.Peek(ctx, netKey(net), t.Network.Window)
		if err != nil {
			return err
		}
		if n >= t.Network.N {
			t.limited(ctx, LimitNetwork)
			return refuse(reset)
		}
	}
	if t.Register.N <= 0 {
		return nil
	}
	n, reset, err := t.Counter.Hit(ctx, "register:net:"+net, t.Register.Window)
	if err != nil {
		return err
	}
	if n > t.Register.N {
		t.limited(ctx, LimitRegister)
		return refuse(reset)
	}
	return nil
}

// failed counts a failure of the request's network that no credential
// check made (a registration refused for a taken email).
func (t *Throttle) failed(ctx context.Context) {
	if !t.on() || t.Network.N <= 0 {
		return
	}
	net := Network(models.RequestInfoFrom(ctx).IP)
	_, _, _ = t.Counter.Hit(ctx, netKey(net), t.Network.Window)
}

// RedisCounter keeps the counters in Redis (INCR with an expiry), for
// deployments that already run it.
type RedisCounter struct{ Client *redis.Client }

func redisKey(key string, window time.Duration) (string, time.Time) {
	win := time.Now().UnixNano() / int64(window)
	return fmt.Sprintf("hc:rl:%s:%d", key, win), time.Unix(0, (win+1)*int64(window))
}

// Hit implements Counter.
func (r RedisCounter) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	k, reset := redisKey(key, window)
	pipe := r.Client.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.PExpireAt(ctx, k, reset.Add(time.Second))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, reset, models.Unavailable(err)
	}
	return incr.Val(), reset, nil
}

// Peek implements Counter.
func (r RedisCounter) Peek(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	k, reset := redisKey(key, window)
	n, err := r.Client.Get(ctx, k).Int64()
	if err == redis.Nil {
		return 0, reset, nil
	}
	if err != nil {
		return 0, reset, models.Unavailable(err)
	}
	return n, reset, nil
}

// undoScript decrements a counter that still exists and is above zero
// (one that expired meanwhile stays gone).
var undoScript = redis.NewScript(`if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then return redis.call('DECR', KEYS[1]) end return 0`)

// Undo implements Counter.
func (r RedisCounter) Undo(ctx context.Context, key string, window time.Duration) error {
	k, _ := redisKey(key, window)
	if err := undoScript.Run(ctx, r.Client, []string{k}).Err(); err != nil {
		return models.Unavailable(err)
	}
	return nil
}
