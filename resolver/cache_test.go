package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

// fakeClock replaces the cache's clock so expiry is tested without
// sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cachedClient is a client with a cache of entries on a fake clock.
func cachedClient(t *testing.T, entries int, opts ...Option) (*Resolver, *fakeClock) {
	t.Helper()
	r := newClient(t, append([]Option{WithCache(entries)}, opts...)...)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	r.cache.now = clk.now
	return r, clk
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wantWire checks how many queries the zone has seen so far: the way to
// tell a cache hit from a miss from the outside.
func wantWire(t *testing.T, z *resolvertest.Zone, n int64, when string) {
	t.Helper()
	if got := z.Queries(); got != n {
		t.Fatalf("%s: zone saw %d queries, want %d", when, got, n)
	}
}

func wantTXT(t *testing.T, r *Resolver, name string, want ...string) {
	t.Helper()
	got, _, err := r.LookupTXT(ctxT(t), name)
	if err != nil {
		t.Fatalf("LookupTXT(%s): %v", name, err)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("LookupTXT(%s) = %q, want %q", name, got, want)
	}
}

func TestWithCacheRejectsNonPositive(t *testing.T) {
	for _, n := range []int{0, -1} {
		r, err := New(WithNameservers("127.0.0.1"), WithCache(n))
		if err == nil || r != nil {
			t.Errorf("WithCache(%d): got %v, %v; want an error", n, r, err)
			continue
		}
		if !strings.Contains(err.Error(), "WithCache") || !strings.HasPrefix(err.Error(), "resolver: ") {
			t.Errorf("WithCache(%d): unhelpful error %q", n, err)
		}
	}
	r, err := New(WithNameservers("127.0.0.1"), WithCache(1))
	if err != nil || r.cache == nil {
		t.Fatalf("WithCache(1): %v, cache %v", err, r.cache)
	}
}

func TestCachePositiveTTLIsTheSmallest(t *testing.T) {
	z, s := serve(t,
		`example.com. 300 TXT "long"`,
		`example.com. 60 TXT "short"`,
	)
	r, clk := cachedClient(t, 100, WithNameservers(s.Addr))

	wantTXT(t, r, "example.com", "long", "short")
	wantWire(t, z, 1, "first query")
	clk.advance(59 * time.Second)
	wantTXT(t, r, "example.com", "long", "short")
	wantWire(t, z, 1, "59s later")
	clk.advance(time.Second)
	wantTXT(t, r, "example.com", "long", "short")
	wantWire(t, z, 2, "60s later, at the smaller TTL")
	// Stored again, for another 60s.
	clk.advance(59 * time.Second)
	wantTXT(t, r, "example.com", "long", "short")
	wantWire(t, z, 2, "59s after the refresh")

	st := r.Stats()
	if st.Queries != 2 || st.CacheMisses != 2 || st.CacheHits != 2 || st.CacheEntries != 1 || st.Collapsed != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestCacheTTLIncludesCNAMEs(t *testing.T) {
	z, s := serve(t,
		`alias.example. 30 CNAME mid.example.`,
		`mid.example. 200 CNAME target.example.`,
		`target.example. 300 A 192.0.2.1`,
	)
	r, clk := cachedClient(t, 100, WithNameservers(s.Addr))
	lookup := func() {
		t.Helper()
		addrs, _, err := r.LookupNetIP(ctxT(t), "ip4", "alias.example")
		if err != nil || len(addrs) != 1 || addrs[0].String() != "192.0.2.1" {
			t.Fatalf("got %v, %v", addrs, err)
		}
	}
	lookup()
	wantWire(t, z, 1, "first query")
	clk.advance(29 * time.Second)
	lookup()
	wantWire(t, z, 1, "29s later")
	clk.advance(time.Second)
	lookup()
	wantWire(t, z, 2, "at the CNAME's TTL of 30s, below the A record's")
}

func TestCacheKey(t *testing.T) {
	z, s := serve(t, `example.com. 300 TXT "hello"`, `example.com. 300 A 192.0.2.1`)
	r, _ := cachedClient(t, 100, WithNameservers(s.Addr))
	wantTXT(t, r, "example.com", "hello")
	wantTXT(t, r, "EXAMPLE.Com.", "hello")
	wantTXT(t, r, "example.com.", "hello")
	wantWire(t, z, 1, "same name, other spellings")
	if _, _, err := r.LookupNetIP(ctxT(t), "ip4", "example.com"); err != nil {
		t.Fatal(err)
	}
	wantWire(t, z, 2, "same name, other type")
	if st := r.Stats(); st.CacheEntries != 2 || st.CacheHits != 2 || st.CacheMisses != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestCacheSharesResponse(t *testing.T) {
	_, s := serve(t, `example.com. 300 TXT "hello"`)
	r, _ := cachedClient(t, 100, WithNameservers(s.Addr))
	a, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || b.Server != s.Addr || len(b.Answer) != 1 {
		t.Errorf("cached Response %p %+v, first %p", b, b, a)
	}
}

const soaRR = `example.com. 3600 SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 120`

func TestCacheNegative(t *testing.T) {
	tests := []struct {
		name    string
		records []string
		query   string
		qtype   uint16
		kind    error
		rcode   int
		ttl     time.Duration
	}{
		{"NXDOMAIN, MINIMUM below SOA TTL", []string{soaRR}, "missing.example.com", dns.TypeTXT,
			ErrNotFound, dns.RcodeNameError, 120 * time.Second},
		{"NODATA, MINIMUM below SOA TTL", []string{soaRR, `www.example.com. A 192.0.2.1`}, "www.example.com", dns.TypeTXT,
			ErrNoData, dns.RcodeSuccess, 120 * time.Second},
		{"NXDOMAIN, SOA TTL below MINIMUM",
			[]string{`example.com. 45 SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 600`},
			"missing.example.com", dns.TypeTXT, ErrNotFound, dns.RcodeNameError, 45 * time.Second},
		{"NODATA at the apex", []string{soaRR}, "example.com", dns.TypeMX,
			ErrNoData, dns.RcodeSuccess, 120 * time.Second},
		{"NXDOMAIN at the end of a CNAME", []string{soaRR, `alias.example.com. 300 CNAME gone.example.com.`},
			"alias.example.com", dns.TypeA, ErrNotFound, dns.RcodeNameError, 120 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, s := serve(t, tt.records...)
			r, clk := cachedClient(t, 100, WithNameservers(s.Addr))
			check := func(wire int64, when string) {
				t.Helper()
				resp, err := r.Query(ctxT(t), tt.query, tt.qtype)
				e := asError(t, err, tt.kind)
				if e.Rcode != tt.rcode || resp == nil || resp.Msg == nil || len(resp.Answer) != 0 {
					t.Fatalf("%s: Rcode %d, Response %+v", when, e.Rcode, resp)
				}
				wantWire(t, z, wire, when)
			}
			check(1, "first query")
			if st := r.Stats(); st.CacheEntries != 1 {
				t.Fatalf("denial not stored: %+v", st)
			}
			clk.advance(tt.ttl - time.Second)
			check(1, "just before the negative TTL")
			clk.advance(time.Second)
			check(2, "at the negative TTL")
		})
	}
}

// Without an SOA a denial has no negative TTL (RFC 2308 section 5), so
// it must not be cached at all.
func TestCacheNegativeWithoutSOANotCached(t *testing.T) {
	z, s := serve(t, `www.example.com. 300 A 192.0.2.1`)
	r, _ := cachedClient(t, 100, WithNameservers(s.Addr))
	for i := range 2 {
		resp, err := r.Query(ctxT(t), "missing.example.com", dns.TypeA)
		asError(t, err, ErrNotFound)
		if len(resp.Msg.Ns) != 0 {
			t.Fatalf("denial carries %v: the test needs a zone without SOA", resp.Msg.Ns)
		}
		_, err = r.Query(ctxT(t), "www.example.com", dns.TypeTXT)
		asError(t, err, ErrNoData)
		wantWire(t, z, int64(2*(i+1)), fmt.Sprintf("round %d", i+1))
	}
	if st := r.Stats(); st.CacheEntries != 0 || st.CacheHits != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestCacheZeroTTLNotCached(t *testing.T) {
	z, s := serve(t,
		`zero.example. 0 TXT "now"`,
		`example. 3600 SOA ns.example. hostmaster.example. 1 3600 600 86400 0`,
	)
	r, _ := cachedClient(t, 100, WithNameservers(s.Addr))
	for range 2 {
		wantTXT(t, r, "zero.example", "now")
		_, _, err := r.LookupTXT(ctxT(t), "missing.example")
		asError(t, err, ErrNotFound)
	}
	wantWire(t, z, 4, "TTL 0 and MINIMUM 0")
	if st := r.Stats(); st.CacheEntries != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestCacheTTLCappedAtADay(t *testing.T) {
	z, s := serve(t,
		`example. 604800 TXT "a week"`,
		`example. 172800 SOA ns.example. hostmaster.example. 1 3600 600 86400 172800`,
	)
	r, clk := cachedClient(t, 100, WithNameservers(s.Addr))
	both := func() {
		t.Helper()
		wantTXT(t, r, "example", "a week")
		_, _, err := r.LookupTXT(ctxT(t), "missing.example")
		asError(t, err, ErrNotFound)
	}
	both()
	wantWire(t, z, 2, "first queries")
	clk.advance(24*time.Hour - time.Second)
	both()
	wantWire(t, z, 2, "just under a day")
	clk.advance(time.Second)
	both()
	wantWire(t, z, 4, "a day, although the zone says more")
}

func TestCacheKeepsAuthentic(t *testing.T) {
	for _, was := range []bool{true, false} {
		t.Run(fmt.Sprint("authentic=", was), func(t *testing.T) {
			z, s := serve(t, soaRR, `example.com. 300 TXT "hello"`)
			z.SetAuthentic(was)
			r, clk := cachedClient(t, 100, WithNameservers(s.Addr))
			check := func(want bool, when string) {
				t.Helper()
				if _, auth, err := r.LookupTXT(ctxT(t), "example.com"); err != nil || auth != want {
					t.Errorf("%s: answer authentic %v, %v; want %v", when, auth, err, want)
				}
				_, auth, err := r.LookupTXT(ctxT(t), "missing.example.com")
				asError(t, err, ErrNotFound)
				if auth != want {
					t.Errorf("%s: denial authentic %v, want %v", when, auth, want)
				}
			}
			check(was, "fresh")
			z.SetAuthentic(!was)
			check(was, "cached, after the zone flipped")
			wantWire(t, z, 2, "cached")
			clk.advance(5 * time.Minute)
			check(!was, "expired")
		})
	}
}

func TestCacheFailuresNotCached(t *testing.T) {
	tests := []struct {
		name  string
		fault resolvertest.Fault
		kind  error
		rcode int
	}{
		{"SERVFAIL", resolvertest.FaultServFail, ErrTemporary, dns.RcodeServerFailure},
		{"REFUSED", resolvertest.FaultRefused, ErrPermanent, dns.RcodeRefused},
		{"timeout", resolvertest.FaultTimeout, ErrTemporary, NoRcode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, s := serve(t, soaRR, `example.com. 300 TXT "hello"`)
			z.SetFault("example.com", dns.TypeTXT, tt.fault)
			r, _ := cachedClient(t, 100, WithNameservers(s.Addr), WithTimeout(200*time.Millisecond))
			for i := range 2 {
				resp, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
				e := asError(t, err, tt.kind)
				if resp != nil || e.Rcode != tt.rcode {
					t.Fatalf("Response %v, Rcode %d", resp, e.Rcode)
				}
				if tt.fault == resolvertest.FaultTimeout && !e.Timeout() {
					t.Errorf("%v is not a timeout", err)
				}
				wantWire(t, z, int64(i+1), "failures go to the wire every time")
			}
			if st := r.Stats(); st.CacheEntries != 0 || st.CacheHits != 0 || st.CacheMisses != 2 {
				t.Errorf("Stats = %+v", st)
			}
			z.SetFault("example.com", dns.TypeTXT, resolvertest.FaultNone)
			wantTXT(t, r, "example.com", "hello")
			wantTXT(t, r, "example.com", "hello")
			wantWire(t, z, 3, "the answer after the fault is cached")
		})
	}
}

func TestCacheLRU(t *testing.T) {
	z, s := serve(t, `a.example. 300 TXT "a"`, `b.example. 300 TXT "b"`, `c.example. 300 TXT "c"`)
	r, _ := cachedClient(t, 2, WithNameservers(s.Addr))
	steps := []struct {
		name string
		wire int64 // zone's query count after the lookup
	}{
		{"a", 1}, {"b", 2},
		{"a", 2}, // hit: a is now the most recently used
		{"c", 3}, // evicts b, not a
		{"a", 3},
		{"b", 4}, // evicted; evicts c
		{"a", 4},
		{"c", 5}, // evicted; evicts b
		{"a", 5},
	}
	for i, st := range steps {
		wantTXT(t, r, st.name+".example", st.name)
		wantWire(t, z, st.wire, fmt.Sprintf("step %d (%s)", i, st.name))
		if n := r.Stats().CacheEntries; n > 2 {
			t.Fatalf("step %d: %d entries in a cache of 2", i, n)
		}
	}
	if st := r.Stats(); st.CacheEntries != 2 || st.CacheHits != 4 || st.CacheMisses != 5 {
		t.Errorf("Stats = %+v", st)
	}
}

// An expired entry is dropped when it is looked at, so it does not count
// among the entries any more.
func TestCacheExpiredEntryDropped(t *testing.T) {
	_, s := serve(t, `a.example. 10 TXT "a"`, `b.example. 300 TXT "b"`)
	r, clk := cachedClient(t, 10, WithNameservers(s.Addr))
	wantTXT(t, r, "a.example", "a")
	wantTXT(t, r, "b.example", "b")
	clk.advance(time.Minute)
	z := s.Zone
	z.SetFault("a.example", 0, resolvertest.FaultServFail)
	_, _, err := r.LookupTXT(ctxT(t), "a.example")
	asError(t, err, ErrTemporary) // not the stale answer
	if n := r.Stats().CacheEntries; n != 1 {
		t.Errorf("CacheEntries = %d, want 1 (b only)", n)
	}
}

// gatedProxy forwards UDP queries to upstream, but only once opened, so
// a test controls how long a query is on the wire.
type gatedProxy struct {
	addr    string
	arrived atomic.Int64
	gate    chan struct{}
	once    sync.Once
}

func (p *gatedProxy) open() { p.once.Do(func() { close(p.gate) }) }

func startGatedProxy(t *testing.T, upstream string) *gatedProxy {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &gatedProxy{addr: pc.LocalAddr().String(), gate: make(chan struct{})}
	started := make(chan struct{})
	srv := &dns.Server{
		PacketConn:        pc,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			p.arrived.Add(1)
			<-p.gate
			c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
			resp, _, err := c.Exchange(req, upstream)
			if err != nil {
				return
			}
			_ = w.WriteMsg(resp)
		}),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.open()
		_ = srv.Shutdown()
		<-errc
	})
	return p
}

type result struct {
	resp *Response
	err  error
}

func TestCacheCollapsesConcurrentQueries(t *testing.T) {
	z, s := serve(t, `example.com. 300 TXT "hello"`)
	p := startGatedProxy(t, s.Addr)
	r := newClient(t, WithNameservers(p.addr), WithCache(100), WithTimeout(10*time.Second))

	const n = 20
	results := make(chan result, n)
	for range n {
		go func() {
			resp, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
			results <- result{resp, err}
		}()
	}
	// The first query is held at the proxy, so every other one must join
	// it rather than send its own.
	waitFor(t, "the other queries to join the first", func() bool { return r.Stats().Collapsed == n-1 })
	p.open()
	for range n {
		res := <-results
		if res.err != nil || len(res.resp.Answer) != 1 {
			t.Errorf("got %+v, %v", res.resp, res.err)
		}
	}
	if got := p.arrived.Load(); got != 1 {
		t.Errorf("%d queries on the wire, want 1", got)
	}
	wantWire(t, z, 1, "collapsed")
	st := r.Stats()
	if st.Queries != 1 || st.CacheMisses != 1 || st.Collapsed != n-1 || st.CacheHits != 0 || st.CacheEntries != 1 {
		t.Errorf("Stats = %+v", st)
	}
	wantTXT(t, r, "example.com", "hello")
	if st := r.Stats(); st.CacheHits != 1 {
		t.Errorf("Stats after another query = %+v", st)
	}
}

// Failures are not cached but are shared by the queries that waited for
// them: they asked the same question at the same time.
func TestCacheCollapsedFailureShared(t *testing.T) {
	z, s := serve(t, `example.com. 300 TXT "hello"`)
	z.SetFault("example.com", dns.TypeTXT, resolvertest.FaultServFail)
	p := startGatedProxy(t, s.Addr)
	r := newClient(t, WithNameservers(p.addr), WithCache(100), WithTimeout(10*time.Second))
	const n = 5
	results := make(chan result, n)
	for range n {
		go func() {
			resp, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
			results <- result{resp, err}
		}()
	}
	waitFor(t, "the other queries to join the first", func() bool { return r.Stats().Collapsed == n-1 })
	p.open()
	for range n {
		res := <-results
		if e := asError(t, res.err, ErrTemporary); e.Rcode != dns.RcodeServerFailure || res.resp != nil {
			t.Errorf("got %+v, %v", res.resp, res.err)
		}
	}
	wantWire(t, z, 1, "one SERVFAIL for all")
	if st := r.Stats(); st.CacheEntries != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestCacheDifferentQuestionsNotCollapsed(t *testing.T) {
	_, s := serve(t, `example.com. 300 TXT "hello"`, `example.com. 300 MX 10 mx.example.com.`)
	p := startGatedProxy(t, s.Addr)
	r := newClient(t, WithNameservers(p.addr), WithCache(100), WithTimeout(10*time.Second))
	done := make(chan error, 3)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"example.com", dns.TypeTXT}, {"example.com", dns.TypeMX}, {"other.example.com", dns.TypeTXT}} {
		go func() {
			_, err := r.Query(ctxT(t), q.name, q.qtype)
			done <- err
		}()
	}
	waitFor(t, "three queries on the wire", func() bool { return p.arrived.Load() == 3 })
	p.open()
	for range 3 {
		<-done
	}
	if st := r.Stats(); st.Collapsed != 0 || st.CacheMisses != 3 {
		t.Errorf("Stats = %+v", st)
	}
}

// leaderGone starts a leader query with ctx, waits until it is on the
// wire and a follower with a live context has joined it, then runs end
// (which makes the leader give up) and checks that the follower gets the
// answer anyway, by asking again.
func leaderGone(t *testing.T, ctx context.Context, end func(), leaderCause error) {
	t.Helper()
	z, s := serve(t, `example.com. 300 TXT "hello"`)
	p := startGatedProxy(t, s.Addr)
	r := newClient(t, WithNameservers(p.addr), WithCache(100), WithTimeout(10*time.Second))

	leader := make(chan error, 1)
	go func() {
		_, err := r.Query(ctx, "example.com", dns.TypeTXT)
		leader <- err
	}()
	waitFor(t, "the leader on the wire", func() bool { return p.arrived.Load() == 1 })
	follower := make(chan result, 1)
	go func() {
		resp, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
		follower <- result{resp, err}
	}()
	waitFor(t, "the follower to join", func() bool { return r.Stats().Collapsed == 1 })
	end()
	err := <-leader
	asError(t, err, ErrTemporary)
	if !errors.Is(err, leaderCause) {
		t.Fatalf("leader: %v, want %v", err, leaderCause)
	}
	// The follower asks for itself: a second query reaches the proxy.
	waitFor(t, "the follower's own query", func() bool { return p.arrived.Load() == 2 })
	p.open()
	res := <-follower
	if res.err != nil || len(res.resp.Answer) != 1 {
		t.Fatalf("follower: %+v, %v", res.resp, res.err)
	}
	if st := r.Stats(); st.CacheMisses != 2 || st.CacheEntries != 1 {
		t.Errorf("Stats = %+v", st)
	}
	if z.Queries() == 0 {
		t.Error("nothing reached the zone")
	}
}

func TestCacheLeaderCancelledDoesNotFailFollower(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leaderGone(t, ctx, cancel, context.Canceled)
}

func TestCacheLeaderDeadlineDoesNotFailFollower(t *testing.T) {
	// The leader's own deadline, far shorter than the resolver's
	// timeout, runs out while the follower's context is live.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	leaderGone(t, ctx, func() { <-ctx.Done() }, context.DeadlineExceeded)
}

func TestCacheFollowerCancelled(t *testing.T) {
	_, s := serve(t, `example.com. 300 TXT "hello"`)
	p := startGatedProxy(t, s.Addr)
	r := newClient(t, WithNameservers(p.addr), WithCache(100), WithTimeout(10*time.Second))
	leader := make(chan error, 1)
	go func() {
		_, err := r.Query(ctxT(t), "example.com", dns.TypeTXT)
		leader <- err
	}()
	waitFor(t, "the leader on the wire", func() bool { return p.arrived.Load() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	follower := make(chan error, 1)
	go func() {
		_, err := r.Query(ctx, "example.com", dns.TypeTXT)
		follower <- err
	}()
	waitFor(t, "the follower to join", func() bool { return r.Stats().Collapsed == 1 })
	cancel()
	// The follower gives up at once although the leader is still waiting.
	err := <-follower
	asError(t, err, ErrTemporary)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("follower: %v", err)
	}
	p.open()
	if err := <-leader; err != nil {
		t.Errorf("leader: %v", err)
	}
}

// The Resolver's own timeout (WithTimeout) running out is an answer like
// SERVFAIL, shared by every query waiting for it: a follower must not
// start over and wait a whole timeout more, and a silent server must not
// be asked once per waiting query in turn.
func TestCacheResolverTimeoutSharedWithFollowers(t *testing.T) {
	const timeout = time.Second
	z, s := serve(t, `example.com. 300 TXT "hello"`)
	z.SetFault("example.com", dns.TypeTXT, resolvertest.FaultTimeout)
	r := newClient(t, WithNameservers(s.Addr), WithCache(100), WithTimeout(timeout))
	const n = 4
	errs := make(chan error, n)
	start := time.Now()
	q := func() {
		_, err := r.Query(context.Background(), "example.com", dns.TypeTXT)
		errs <- err
	}
	go q()
	waitFor(t, "the leader's query", func() bool { return z.Queries() == 1 })
	for range n - 1 {
		go q()
	}
	waitFor(t, "followers", func() bool { return r.Stats().Collapsed == n-1 })
	for range n {
		err := <-errs
		if e := asError(t, err, ErrTemporary); !e.Timeout() {
			t.Errorf("%v: not a timeout", err)
		}
	}
	if elapsed := time.Since(start); elapsed >= 2*timeout {
		t.Errorf("queries took %v together, want about one timeout (%v)", elapsed, timeout)
	}
	wantWire(t, z, 1, "one query for all")
}

func TestStatsWithoutCache(t *testing.T) {
	z, s := serve(t, `example.com. 300 TXT "hello"`)
	z.SetFault("flaky.example.com", 0, resolvertest.FaultServFail)
	r := newClient(t, WithNameservers(s.Addr), WithRetries(2))
	wantTXT(t, r, "example.com", "hello")
	wantTXT(t, r, "example.com", "hello")
	_, _, err := r.LookupTXT(ctxT(t), "flaky.example.com")
	asError(t, err, ErrTemporary)
	wantWire(t, z, 5, "no cache; three attempts at the SERVFAIL")
	// Retries are not counted as queries.
	if st := r.Stats(); st != (Stats{Queries: 3}) {
		t.Errorf("Stats = %+v, want 3 queries and nothing else", st)
	}
}

// TestCacheConcurrent is for the race detector: many queries for a few
// names through a cache too small for them, with expiry.
func TestCacheConcurrent(t *testing.T) {
	var records []string
	for i := range 8 {
		records = append(records, fmt.Sprintf(`n%d.example. %d TXT "%d"`, i, 1+i, i))
	}
	records = append(records, `example. 60 SOA ns.example. hostmaster.example. 1 3600 600 86400 5`)
	_, s := serve(t, records...)
	r, clk := cachedClient(t, 3, WithNameservers(s.Addr))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				name := fmt.Sprintf("n%d.example", (g+i)%10) // n8, n9: NXDOMAIN
				txt, _, err := r.LookupTXT(ctxT(t), name)
				if (g+i)%10 >= 8 {
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("%s: %v", name, err)
					}
				} else if err != nil || len(txt) != 1 {
					t.Errorf("%s: %q, %v", name, txt, err)
				}
				if i%10 == 0 {
					clk.advance(time.Second)
				}
				_ = r.Stats()
			}
		})
	}
	wg.Wait()
	st := r.Stats()
	if st.CacheEntries > 3 || st.CacheHits+st.CacheMisses+st.Collapsed < 400 {
		t.Errorf("Stats = %+v", st)
	}
}
