package auth_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"healthcare/auth"
)

// TestRedisCounter: with REDIS_URL the throttle's counters live in Redis;
// concurrent hits from any number of processes are all counted, per window.
func TestRedisCounter(t *testing.T) {
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set")
		}
		t.Skip("set TEST_REDIS_URL to test the Redis counter")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	// Two clients stand for two server processes.
	a, b := auth.RedisCounter{Client: redis.NewClient(opts)}, auth.RedisCounter{Client: redis.NewClient(opts)}
	defer a.Client.Close()
	defer b.Client.Close()
	ctx := context.Background()
	key := fmt.Sprintf("test:%d", time.Now().UnixNano())
	var wg sync.WaitGroup
	for i := range 20 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			if _, _, err := c.Hit(ctx, key, time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, reset, err := a.Hit(ctx, key, time.Hour)
	if err != nil || n != 21 {
		t.Fatalf("count %d (%v), want 21", n, err)
	}
	if d := time.Until(reset); d <= 0 || d > time.Hour {
		t.Fatalf("reset in %v", d)
	}
	ttl, err := a.Client.PTTL(ctx, fmt.Sprintf("hc:rl:%s:%d", key, time.Now().UnixNano()/int64(time.Hour))).Result()
	if err != nil || ttl <= 0 {
		t.Fatalf("counter has no expiry: %v %v", ttl, err)
	}
	// Each key counts alone.
	other := fmt.Sprintf("other:%d", time.Now().UnixNano())
	for i := 1; i <= 3; i++ {
		n, _, err := b.Hit(ctx, other, time.Minute)
		if err != nil || n != int64(i) {
			t.Fatalf("hit %d: %d %v", i, n, err)
		}
	}
}
