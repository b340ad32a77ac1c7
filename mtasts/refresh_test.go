package mtasts

import (
	"context"
	"testing"
	"time"
)

// RefreshEvery refetches a policy that is due without any Get, and
// returns when its context ends.
func TestRefreshEvery(t *testing.T) {
	e := newCacheEnv(t, "1")
	e.get()
	e.clock.advance(25 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.c.RefreshEvery(ctx, time.Millisecond); close(done) }()
	// Wait until the refreshed policy is in the cache (the fetch seen
	// by the server is not enough: it may still be in flight).
	refreshed := func() bool {
		e.c.mu.Lock()
		defer e.c.mu.Unlock()
		en := e.c.entries["example.com"]
		return en != nil && en.fetched.Equal(e.clock.Now())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !refreshed() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RefreshEvery did not return after cancel")
	}
	if n := e.ps.hitCount(host); n < 2 {
		t.Fatalf("%d fetches: the due policy was not refreshed", n)
	}
	// Refreshed now: nothing more is due at the same clock.
	n := e.ps.hitCount(host)
	e.c.Refresh(context.Background())
	if e.ps.hitCount(host) != n {
		t.Errorf("refreshed again although just fetched")
	}
}
