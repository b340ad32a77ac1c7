package redisstore

// The Redis rate-limit store against a real Redis: the Lua script
// computes what ratelimit.Step (and so Exim's formula, held to it in
// package ratelimit) computes, records expire by ratelimit.KeepFor, and
// two clients, as two instances would be, share one limit without
// losing updates.

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRateLimitScriptMatchesStep(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	c := testClient(t, addr, prefix)
	rs := NewRateLimit(c, prefix)
	// The reference keeps records forever: Redis expires them by its
	// own clock, which stands still while the events' clock jumps
	// hours, so Memory's expiry (on the events' clock) would differ for
	// counts below 1, the case KeepFor does not cover.
	ref := map[string]*ratelimit.State{}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	gaps := []time.Duration{0, time.Microsecond, time.Millisecond, time.Second, 20 * time.Minute, 5 * time.Hour, -time.Minute}
	counts := []float64{0, 1, 1, 1, 3, 1500}
	modes := []ratelimit.Mode{ratelimit.Leaky, ratelimit.Leaky, ratelimit.Strict, ratelimit.Readonly}
	now := t0
	for i := range 400 {
		key := []string{"a", "b", "c"}[rng.IntN(3)]
		now = now.Add(gaps[rng.IntN(len(gaps))])
		ev := ratelimit.Event{Now: now, Count: counts[rng.IntN(len(counts))], Period: time.Hour, Limit: []float64{0, 2, 5, 4000}[rng.IntN(4)],
			Mode: modes[rng.IntN(len(modes))]}
		if ev.Mode == ratelimit.Readonly {
			ev.Count = 0
		}
		want, next := ratelimit.Step(ref[key], ev)
		if next != nil {
			ref[key] = next
		}
		got, err := rs.Apply(ctx, key, ev)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if math.Abs(got.Rate-want.Rate) > 1e-12*math.Max(1, want.Rate) || got.Over != want.Over {
			t.Fatalf("event %d %+v on %s: Redis %+v, Step %+v", i, ev, key, got, want)
		}
	}
}

func TestRateLimitExpiry(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	c := testClient(t, addr, prefix)
	rs := NewRateLimit(c, prefix)
	ctx := context.Background()
	ev := ratelimit.Event{Now: t0, Count: 1, Period: time.Minute, Limit: 10}
	for range 6 {
		ev.Now = ev.Now.Add(time.Millisecond)
		if _, err := rs.Apply(ctx, "k", ev); err != nil {
			t.Fatal(err)
		}
	}
	rate, _ := c.HGet(ctx, prefix+"ratelimit:k", "r").Float64()
	keep := ratelimit.KeepFor(rate, time.Minute)
	if ttl := c.PTTL(ctx, prefix+"ratelimit:k").Val(); ttl > keep+time.Millisecond || ttl < keep-5*time.Second { // ms: Redis's unit
		t.Errorf("PTTL %v, want KeepFor(%g) = %v", ttl, rate, keep)
	}
	// Over the limit in leaky mode nothing is written: no record for a
	// key that has never been under it.
	ev.Limit = 0
	if res, err := rs.Apply(ctx, "never", ev); err != nil || !res.Over {
		t.Fatalf("%+v %v", res, err)
	}
	if n := c.Exists(ctx, prefix+"ratelimit:never").Val(); n != 0 {
		t.Errorf("a refused event was recorded")
	}
}

// Two clients, as two MTA instances: one client IP's fast burst,
// alternating between them, gets exactly the limit through.
func TestRateLimitSharedBetweenClients(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	l1 := &ratelimit.Limiter{Store: NewRateLimit(testClient(t, addr, prefix), prefix)}
	l2 := &ratelimit.Limiter{Store: NewRateLimit(testClient(t, addr, prefix), prefix)}
	r, _ := ratelimit.ParseRule("10 / 1h")
	ctx := context.Background()
	passed := [2]int{}
	for i := range 30 {
		l := []*ratelimit.Limiter{l1, l2}[i%2]
		d, err := l.Check(ctx, r, "192.0.2.7", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Over {
			passed[i%2]++
		}
	}
	// Within the test's few milliseconds the hour-long average decays by
	// far less than one event.
	if passed[0]+passed[1] != 10 || passed[0] == 0 || passed[1] == 0 {
		t.Errorf("passed %v, want 10 in all, from both", passed)
	}
}

// Concurrent events from two clients on one key are all recorded (the
// script is atomic): at one instant, strict, n events give a rate of n.
func TestRateLimitAtomicAcrossClients(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	stores := []*RateLimit{NewRateLimit(testClient(t, addr, prefix), prefix), NewRateLimit(testClient(t, addr, prefix), prefix)}
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for range 25 {
				if _, err := stores[g%2].Apply(ctx, "k", ratelimit.Event{Now: t0, Count: 1, Period: time.Hour, Limit: 1e9, Mode: ratelimit.Strict}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	res, err := stores[0].Apply(ctx, "k", ratelimit.Event{Now: t0, Period: time.Hour, Limit: 1e9, Mode: ratelimit.Readonly})
	if err != nil || res.Rate < 399.5 || res.Rate > 400.5 {
		t.Errorf("rate %g %v after 400 events", res.Rate, err)
	}
}
