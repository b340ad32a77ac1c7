package reports

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// Run reports at once what is due, then waits for the next boundary
// plus the delay, reports again when the clock says so, and returns
// when its context ends, leaving no goroutine behind.
func TestRunSchedule(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	base := runtime.NumGoroutine() // the DNS server's included
	e.r.MaxDelay = 0               // the default bound, through Jitter
	var asked time.Duration
	e.r.Jitter = func(max time.Duration) time.Duration { asked = max; return 90 * time.Second }
	e.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.r.Run(ctx) }()

	wait := <-e.clock.waits
	if want := mar3.Add(90 * time.Second).Sub(mar2.Add(3 * time.Minute)); wait != want {
		t.Fatalf("first wait %v, want %v", wait, want)
	}
	if asked != DefaultMaxDelay {
		t.Fatalf("jitter bound %v", asked)
	}
	if n := len(e.box.all()); n != 1 {
		t.Fatalf("%d reports at the start", n)
	}
	e.add(entry("a.test", mar2.Add(time.Hour), "192.0.2.2", "mailto:dmarc@a.test"))
	e.clock.set(mar3.Add(90 * time.Second))
	e.clock.fire <- mar3.Add(90 * time.Second)
	if wait := <-e.clock.waits; wait != day {
		t.Fatalf("second wait %v", wait)
	}
	got := e.box.all()
	if len(got) != 2 || feedback(t, got[1]).Metadata.DateRange.Begin != mar2.Unix() {
		t.Fatalf("%d reports after the boundary", len(got))
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// A run that left something to retry is followed by another after
// Retry, not a day later.
func TestRunRetriesSooner(t *testing.T) {
	e := newDMARCEnv(t, mar2.Add(3*time.Minute))
	e.box.fail = func(string) bool { return true }
	e.add(entry("a.test", mar1.Add(time.Hour), "192.0.2.1", "mailto:dmarc@a.test"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.r.Run(ctx) }()
	if wait := <-e.clock.waits; wait != DefaultRetry {
		t.Fatalf("wait %v after a failed run, want %v", wait, DefaultRetry)
	}
	e.box.mu.Lock()
	e.box.fail = nil
	e.box.mu.Unlock()
	e.clock.set(mar2.Add(time.Hour + 3*time.Minute))
	e.clock.fire <- e.clock.Now()
	if wait := <-e.clock.waits; wait <= DefaultRetry {
		t.Fatalf("wait %v after a good run", wait)
	}
	if n := len(e.box.all()); n != 1 {
		t.Fatalf("%d reports", n)
	}
	cancel()
	<-done
}
