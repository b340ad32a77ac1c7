package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
)

// One rate-limit check against Redis (EVALSHA of the script), from
// parallel goroutines as sessions would.
func BenchmarkRateLimitApply(b *testing.B) {
	addr := redisAddr(b)
	prefix := testPrefix(b)
	st := NewRateLimit(testClient(b, addr, prefix), prefix)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Apply(ctx, "192.0.2.1", ratelimit.Event{Now: time.Now(), Count: 1, Period: time.Hour, Limit: 1e12}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// One SRS alias lookup (GET), sequential: the latency an RCPT waits.
func BenchmarkSRSGet(b *testing.B) {
	addr := redisAddr(b)
	prefix := testPrefix(b)
	s := NewSRS(testClient(b, addr, prefix), prefix, 2*time.Second)
	if err := s.Put("K", "a-long-local-part@a-long-domain.sender.test", time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.Get("K", time.Now()); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
