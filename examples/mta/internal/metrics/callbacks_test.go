package metrics_test

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

func fixedDNS() resolver.Stats {
	return resolver.Stats{Queries: 7, CacheHits: 5, CacheMisses: 7, Collapsed: 2, CacheEntries: 4}
}

func TestQueueFuncIsReadAtEachScrape(t *testing.T) {
	m := metrics.New()
	if _, ok := scrape(t, m)["mta_queue_messages"]; ok {
		t.Error("queue series present before a queue func was set")
	}
	var n atomic.Int64
	var calls atomic.Int64
	n.Store(4)
	m.SetQueueFunc(func() (int, time.Duration) {
		calls.Add(1)
		return int(n.Load()), time.Duration(n.Load()) * time.Minute
	})
	f := scrape(t, m)
	if got := f.mustValue(t, "mta_queue_messages"); got != 4 {
		t.Errorf("queue messages = %v, want 4", got)
	}
	if got := f.mustValue(t, "mta_queue_oldest_age_seconds"); got != 240 {
		t.Errorf("queue oldest = %v, want 240", got)
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("queue func called %d times in one scrape, want 1", c)
	}
	n.Store(9)
	if got := scrape(t, m).mustValue(t, "mta_queue_messages"); got != 9 {
		t.Errorf("queue messages after change = %v, want 9", got)
	}
	m.SetQueueFunc(func() (int, time.Duration) { return 0, -time.Second })
	if got := scrape(t, m).mustValue(t, "mta_queue_oldest_age_seconds"); got != 0 {
		t.Errorf("negative age exported as %v, want 0", got)
	}
	m.SetQueueFunc(nil)
	if _, ok := scrape(t, m)["mta_queue_messages"]; ok {
		t.Error("queue series present after SetQueueFunc(nil)")
	}
}

func TestDNSFuncExportsStats(t *testing.T) {
	m := metrics.New()
	m.SetDNSFunc(fixedDNS)
	f := scrape(t, m)
	for name, want := range map[string]float64{
		"mta_dns_queries_total":      7,
		"mta_dns_cache_hits_total":   5,
		"mta_dns_cache_misses_total": 7,
		"mta_dns_collapsed_total":    2,
		"mta_dns_cache_entries":      4,
	} {
		if got := f.mustValue(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if typ := f["mta_dns_queries_total"].GetType().String(); typ != "COUNTER" {
		t.Errorf("mta_dns_queries_total is a %s", typ)
	}
}

// A real resolver with a cache against a DNS server on loopback: the
// method value r.Stats plugs in as it is and the figures move.
func TestDNSFuncWithRealResolver(t *testing.T) {
	srv := resolvertest.Start(t, resolvertest.MustParseZone(t, "mx.example. 300 IN A 192.0.2.25\n"))
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithCache(100))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.SetDNSFunc(r.Stats)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for range 3 {
		addrs, _, err := r.LookupNetIP(ctx, "ip4", "mx.example.")
		if err != nil {
			t.Fatal(err)
		}
		if len(addrs) != 1 || addrs[0] != netip.MustParseAddr("192.0.2.25") {
			t.Fatalf("lookup = %v", addrs)
		}
	}
	f := scrape(t, m)
	if got := f.mustValue(t, "mta_dns_queries_total"); got != 1 {
		t.Errorf("queries = %v, want 1 (the other two from cache)", got)
	}
	if got := f.mustValue(t, "mta_dns_cache_hits_total"); got != 2 {
		t.Errorf("cache hits = %v, want 2", got)
	}
}

func TestPanickingCallbackCostsOnlyItsSeries(t *testing.T) {
	m := metrics.New()
	m.Message("accepted", "")
	m.SetQueueFunc(func() (int, time.Duration) { panic("queue runner bug") })
	m.SetDNSFunc(fixedDNS)
	f := scrape(t, m)
	if _, ok := f["mta_queue_messages"]; ok {
		t.Error("queue series present although the callback panicked")
	}
	f.mustValue(t, "mta_dns_queries_total")
	f.mustValue(t, "mta_messages_total", "outcome", "accepted", "reason", "none")
}
