package resolver

import (
	"sync"
	"testing"
)

func TestDefault(t *testing.T) {
	// Concurrent first calls must all get the one Resolver.
	const n = 8
	got := make([]*Resolver, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = Default() })
	}
	wg.Wait()
	r := Default()
	if r == nil {
		t.Fatal("Default() = nil")
	}
	for i, g := range got {
		if g != r {
			t.Fatalf("call %d got %p, later call %p: not shared", i, g, r)
		}
	}
	if Default() != Default() {
		t.Fatal("Default() returns different Resolvers")
	}
	// What the doc promises: servers from resolv.conf (or the loopback
	// fallback), the default timeout, and no cache.
	if len(r.servers) == 0 || r.timeout != DefaultTimeout || r.retries != defaultRetries ||
		r.udpSize != defaultUDPSize || r.cache != nil || r.trustAD {
		t.Errorf("Default() = %+v", r)
	}
	for _, s := range r.servers {
		if _, err := parseServer(s); err != nil {
			t.Errorf("server %q: %v", s, err)
		}
	}
}
