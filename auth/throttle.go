package auth

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcare/models"
)

// Counter counts attempts per key in fixed windows, shared by every node:
// database.RateLimitStore, or RedisCounter when REDIS_URL is set.
type Counter interface {
	Hit(ctx context.Context, key string, window time.Duration) (count int64, reset time.Time, err error)
}

// Rate is at most N attempts per Window.
type Rate struct {
	N      int64
	Window time.Duration
}

// ParseRate reads "10/15m".
func ParseRate(s string) (Rate, error) {
	n, w, ok := strings.Cut(s, "/")
	var r Rate
	if _, err := fmt.Sscan(n, &r.N); !ok || err != nil || r.N < 1 {
		return r, fmt.Errorf("%q is not a rate like 10/15m", s)
	}
	d, err := time.ParseDuration(w)
	if err != nil || d <= 0 {
		return r, fmt.Errorf("%q is not a rate like 10/15m", s)
	}
	r.Window = d
	return r, nil
}

// Throttle limits sign-in and registration attempts by account and by
// client address. It is called once per attempt inside Service, so every
// transport (and every alias of a mutation) is counted alike.
type Throttle struct {
	Counter   Counter
	LoginAcct Rate // attempts per account (email), known or not
	LoginIP   Rate // attempts per client address
	Register  Rate // registrations per client address
}

// DefaultThrottle returns the default limits over c: 10 sign-ins per
// account and 50 per address in 15 minutes, 10 registrations per address
// an hour.
func DefaultThrottle(c Counter) *Throttle {
	return &Throttle{
		Counter:   c,
		LoginAcct: Rate{10, 15 * time.Minute},
		LoginIP:   Rate{50, 15 * time.Minute},
		Register:  Rate{10, time.Hour},
	}
}

// check counts one attempt against each key and fails with RateLimited
// when any is past its rate.
func (t *Throttle) check(ctx context.Context, keys map[string]Rate) error {
	if t == nil || t.Counter == nil {
		return nil
	}
	var worst time.Time
	for key, r := range keys {
		if r.N <= 0 {
			continue
		}
		n, reset, err := t.Counter.Hit(ctx, key, r.Window)
		if err != nil {
			return err
		}
		if n > r.N && reset.After(worst) {
			worst = reset
		}
	}
	if worst.IsZero() {
		return nil
	}
	return models.RateLimited(time.Duration(math.Ceil(time.Until(worst).Seconds())) * time.Second)
}

func (t *Throttle) login(ctx context.Context, email string) error {
	if t == nil {
		return nil
	}
	ip := models.RequestInfoFrom(ctx).IP
	return t.check(ctx, map[string]Rate{"login:acct:" + email: t.LoginAcct, "login:ip:" + ip: t.LoginIP})
}

func (t *Throttle) register(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.check(ctx, map[string]Rate{"register:ip:" + models.RequestInfoFrom(ctx).IP: t.Register})
}

// RedisCounter keeps the counters in Redis (INCR with an expiry), for
// deployments that already run it.
type RedisCounter struct{ Client *redis.Client }

// Hit implements Counter.
func (r RedisCounter) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	win := time.Now().UnixNano() / int64(window)
	reset := time.Unix(0, (win+1)*int64(window))
	k := fmt.Sprintf("hc:rl:%s:%d", key, win)
	pipe := r.Client.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.PExpireAt(ctx, k, reset.Add(time.Second))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, reset, models.Unavailable(err)
	}
	return incr.Val(), reset, nil
}
