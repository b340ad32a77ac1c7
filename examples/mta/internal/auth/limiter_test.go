package auth

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// clock is an injected clock for the Limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	ip1 = netip.MustParseAddr("192.0.2.1")
	ip2 = netip.MustParseAddr("192.0.2.2")
)

func TestLimiterZeroValueDefaults(t *testing.T) {
	c := newClock()
	l := Limiter{Now: c.Now}
	for i := 0; i < DefaultMaxFailures; i++ {
		assert.True(t, l.Allowed(ip1), "after %d failures", i)
		l.Failed(ip1)
	}
	assert.False(t, l.Allowed(ip1), "5 failures: refused")
	assert.True(t, l.Allowed(ip2), "others unaffected")

	c.Advance(DefaultWindow - time.Second)
	assert.False(t, l.Allowed(ip1), "still within 5 minutes")
	c.Advance(time.Second)
	assert.True(t, l.Allowed(ip1), "the failures are 5 minutes old")
	assert.Equal(t, 0, l.Len(), "an entry with nothing left is dropped")

	var real Limiter // Now nil: the wall clock
	real.Failed(ip1)
	assert.True(t, real.Allowed(ip1))
	assert.Equal(t, 1, real.Len())
}

func TestLimiterSlidingWindow(t *testing.T) {
	c := newClock()
	l := &Limiter{MaxFailures: 3, Window: time.Minute, Now: c.Now}
	l.Failed(ip1) // t=0
	c.Advance(30 * time.Second)
	l.Failed(ip1) // t=30
	c.Advance(20 * time.Second)
	l.Failed(ip1) // t=50
	assert.False(t, l.Allowed(ip1))
	c.Advance(10 * time.Second) // t=60: the first has aged out
	assert.True(t, l.Allowed(ip1))
	l.Failed(ip1) // t=60: three again within the minute
	assert.False(t, l.Allowed(ip1))
	c.Advance(31 * time.Second) // t=91: only 50 and 60 left
	assert.True(t, l.Allowed(ip1))
}

func TestLimiterSucceededClears(t *testing.T) {
	c := newClock()
	l := &Limiter{MaxFailures: 2, Now: c.Now}
	l.Failed(ip1)
	l.Failed(ip1)
	l.Failed(ip2)
	assert.False(t, l.Allowed(ip1))
	l.Succeeded(ip1)
	assert.True(t, l.Allowed(ip1))
	l.Failed(ip1)
	assert.True(t, l.Allowed(ip1), "counting starts again from zero")
	assert.Equal(t, 2, l.Len())
	l.Succeeded(netip.MustParseAddr("198.51.100.9")) // unknown: no-op
	assert.Equal(t, 2, l.Len())
}

func TestLimiterGrouping(t *testing.T) {
	c := newClock()
	l := &Limiter{MaxFailures: 2, Now: c.Now}

	// IPv6: one /64 is one client.
	l.Failed(netip.MustParseAddr("2001:db8:1:2::1"))
	l.Failed(netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:ffff"))
	assert.False(t, l.Allowed(netip.MustParseAddr("2001:db8:1:2::abcd")))
	assert.True(t, l.Allowed(netip.MustParseAddr("2001:db8:1:3::1")), "the next /64 is another client")

	// Zones do not split a client.
	l.Failed(netip.MustParseAddr("fe80::1%eth0"))
	l.Failed(netip.MustParseAddr("fe80::2%eth1"))
	assert.False(t, l.Allowed(netip.MustParseAddr("fe80::3")))

	// IPv4: per address, and an IPv4-mapped IPv6 address is the same client.
	l.Failed(netip.MustParseAddr("203.0.113.5"))
	l.Failed(netip.MustParseAddr("::ffff:203.0.113.5"))
	assert.False(t, l.Allowed(netip.MustParseAddr("203.0.113.5")))
	assert.True(t, l.Allowed(netip.MustParseAddr("203.0.113.6")))

	// An unknown address is one client.
	l.Failed(netip.Addr{})
	l.Failed(netip.Addr{})
	assert.False(t, l.Allowed(netip.Addr{}))
	assert.Equal(t, 4, l.Len())
}

func TestLimiterEviction(t *testing.T) {
	c := newClock()
	l := &Limiter{MaxFailures: 1, MaxEntries: 3, Now: c.Now}
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}) }
	for i := 1; i <= 3; i++ {
		l.Failed(addr(i))
		c.Advance(time.Second)
	}
	l.Failed(addr(1)) // 1 is now the most recent
	c.Advance(time.Second)
	l.Failed(addr(4)) // evicts the oldest: 2
	assert.Equal(t, 3, l.Len())
	assert.True(t, l.Allowed(addr(2)), "evicted")
	for _, i := range []int{1, 3, 4} {
		assert.False(t, l.Allowed(addr(i)), "kept %d", i)
	}
	for i := 5; i < 100; i++ {
		l.Failed(addr(i))
	}
	assert.Equal(t, 3, l.Len(), "never more than MaxEntries")

	var z Limiter
	z.Now = c.Now
	for i := 0; i < DefaultMaxEntries+50; i++ {
		z.Failed(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	assert.Equal(t, DefaultMaxEntries, z.Len())
}

func TestLimiterExpiredEntriesDropped(t *testing.T) {
	c := newClock()
	l := &Limiter{Window: time.Minute, Now: c.Now}
	for i := 1; i <= 10; i++ {
		l.Failed(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	assert.Equal(t, 10, l.Len())
	c.Advance(time.Minute)
	l.Failed(ip1)
	assert.Equal(t, 1, l.Len(), "clients whose failures all expired are forgotten on the next failure")
}

func TestLimiterConcurrent(t *testing.T) {
	c := newClock()
	l := &Limiter{MaxFailures: 2000, Now: c.Now}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := netip.MustParseAddr(fmt.Sprintf("2001:db8:0:%x::1", g))
			for i := 0; i < 200; i++ {
				l.Failed(a)
				l.Allowed(a)
				l.Failed(ip1)
				if i%50 == 0 {
					l.Succeeded(ip2)
					c.Advance(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 9, l.Len())
	assert.True(t, l.Allowed(ip2))
	// 8 goroutines × 200 failures of ip1: exactly 1600 counted, so a
	// limit of 1600 is reached, 1601 is not.
	l.MaxFailures = 1601
	assert.True(t, l.Allowed(ip1))
	l.MaxFailures = 1600
	assert.False(t, l.Allowed(ip1))
}
