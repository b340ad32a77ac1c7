package queue

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateCourier is a Courier for the runner's tests: each Deliver
// announces itself on entered and waits for its destination's gate (or
// ctx), then sets every recipient to what result says. It counts the
// deliveries running at once, in all and per destination.
type gateCourier struct {
	entered chan *Delivery
	gate    func(dest string) <-chan struct{}
	result  func(r *Recipient)

	mu       sync.Mutex
	running  map[string]int
	total    int
	maxDest  map[string]int
	maxTotal int
	calls    map[string]int
}

func newGate() *gateCourier {
	return &gateCourier{entered: make(chan *Delivery, 1000), running: map[string]int{}, maxDest: map[string]int{}, calls: map[string]int{}}
}

func (g *gateCourier) Destination(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return strings.ToLower(d)
}

func (g *gateCourier) Deliver(ctx context.Context, d *Delivery) {
	g.mu.Lock()
	g.running[d.Destination]++
	g.total++
	g.calls[d.Destination]++
	g.maxDest[d.Destination] = max(g.maxDest[d.Destination], g.running[d.Destination])
	g.maxTotal = max(g.maxTotal, g.total)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running[d.Destination]--
		g.total--
		g.mu.Unlock()
	}()
	for _, r := range d.Rcpts {
		if g.Destination(r.Addr) != d.Destination {
			panic("recipient of another destination: " + r.Addr)
		}
	}
	g.entered <- d
	if g.gate != nil {
		select {
		case <-g.gate(d.Destination):
		case <-ctx.Done():
			for _, r := range d.Rcpts {
				r.Message = "delivery interrupted"
			}
			return
		}
	}
	for _, r := range d.Rcpts {
		if g.result != nil {
			g.result(r)
		} else {
			r.State = Delivered
		}
	}
}

func (g *gateCourier) stats() (maxTotal int, maxDest map[string]int, calls map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	md, c := map[string]int{}, map[string]int{}
	for k, v := range g.maxDest {
		md[k] = v
	}
	for k, v := range g.calls {
		c[k] = v
	}
	return g.maxTotal, md, c
}

func testRunner(t *testing.T, c Courier) *Runner {
	t.Helper()
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Runner{Spool: sp, Courier: c, RetryInterval: time.Minute, RetryMaxAge: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func enqueue(t *testing.T, sp *Spool, rcpts ...string) string {
	t.Helper()
	id, err := sp.Enqueue(NewID(), "a@example.com", rcpts, []byte("Subject: x\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitEnter(t *testing.T, g *gateCourier) *Delivery {
	t.Helper()
	select {
	case d := <-g.entered:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery started")
		return nil
	}
}

// The limits hold: never more than MaxDeliveries running, never more
// than MaxPerDestination to one destination; and both are reached.
func TestRunnerLimits(t *testing.T) {
	g := newGate()
	release := make(chan struct{})
	g.gate = func(string) <-chan struct{} { return release }
	r := testRunner(t, g)
	r.MaxDeliveries, r.MaxPerDestination = 5, 2
	const n = 30
	for i := range n {
		enqueue(t, r.Spool, fmt.Sprintf("u%d@d%d.test", i, i%4))
	}
	done := make(chan time.Time)
	go func() { done <- r.RunOnce(context.Background(), false) }()
	// Every slot fills before any delivery ends; then they end one at
	// a time (each release is taken by one delivery).
	for range 5 {
		waitEnter(t, g)
	}
	go func() {
		for range n {
			release <- struct{}{}
		}
	}()
	for range n - 5 {
		waitEnter(t, g)
	}
	if next := <-done; !next.IsZero() {
		t.Errorf("next %v with everything delivered", next)
	}
	maxTotal, maxDest, calls := g.stats()
	if maxTotal != 5 {
		t.Errorf("at most %d at once, want 5", maxTotal)
	}
	// Five slots over four destinations: one had two at once.
	if len(maxDest) != 4 || max(maxDest["d0.test"], maxDest["d1.test"], maxDest["d2.test"], maxDest["d3.test"]) != 2 {
		t.Errorf("per destination at most %v", maxDest)
	}
	for d, m := range maxDest {
		if m > 2 {
			t.Errorf("%s: %d at once, limit 2", d, m)
		}
		if calls[d] != n/4 && calls[d] != n/4+1 {
			t.Errorf("%s: %d deliveries", d, calls[d])
		}
	}
	if envs, _, _ := r.Spool.List(); len(envs) != 0 {
		t.Errorf("%d messages left", len(envs))
	}
}

// A destination that hangs holds its own slots only: the other
// destination's messages are all delivered meanwhile. Stop then ends
// the hung deliveries as deferrals, the waiting ones never start, and
// nothing of the runner is left running.
func TestRunnerDeadDestination(t *testing.T) {
	g := newGate()
	never := make(chan struct{})
	open := make(chan struct{})
	close(open)
	g.gate = func(d string) <-chan struct{} {
		if d == "dead.test" {
			return never
		}
		return open
	}
	r := testRunner(t, g)
	r.MaxDeliveries, r.MaxPerDestination = 4, 2
	var dead, live []string
	for i := range 5 {
		dead = append(dead, enqueue(t, r.Spool, fmt.Sprintf("d%d@dead.test", i)))
	}
	for i := range 5 {
		live = append(live, enqueue(t, r.Spool, fmt.Sprintf("l%d@live.test", i)))
	}
	goroutines := runtime.NumGoroutine()
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	deadSeen, liveSeen := 0, 0
	for liveSeen < 5 || deadSeen < 2 {
		d := waitEnter(t, g)
		if d.Destination == "dead.test" {
			deadSeen++
		} else {
			liveSeen++
		}
	}
	// The live ones complete while two dead ones hang.
	deadline := time.Now().Add(10 * time.Second)
	for {
		envs, _, _ := r.Spool.List()
		if len(envs) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages left, want the 5 dead ones", len(envs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, id := range live {
		if _, err := r.Spool.Load(id); err == nil {
			t.Errorf("live message %s still queued", id)
		}
	}
	r.Stop()
	_, _, calls := g.stats()
	if calls["dead.test"] != 2 {
		t.Errorf("%d deliveries to the dead destination, want 2 (the limit; the rest waited)", calls["dead.test"])
	}
	for _, id := range dead {
		env, err := r.Spool.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		if rc := env.Rcpts[0]; rc.State != Pending || env.Attempts != 0 || env.Next.After(time.Now()) {
			t.Errorf("after Stop: %s %+v attempts %d next %v", id, rc, env.Attempts, env.Next)
		}
	}
	// Stop waited for every goroutine it started. (A unit's goroutine
	// has called wg.Done in its last deferred call and may not have
	// exited yet: give it a moment, as a leak would not go away.)
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Stop, %d before Start:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
}

// The domains of one message are delivered at the same time, each by
// a Deliver call of its own, and the results are merged into the
// envelope, saved once.
func TestRunnerMessageDomainsInParallel(t *testing.T) {
	g := newGate()
	release := make(chan struct{})
	g.gate = func(string) <-chan struct{} { return release }
	g.result = func(rc *Recipient) {
		switch {
		case strings.HasSuffix(strings.ToLower(rc.Addr), "@a.test"):
			rc.State = Delivered
		case strings.HasSuffix(rc.Addr, "@b.test"):
			rc.State, rc.Message, rc.Status = Failed, "550 no", "5.1.1"
		default:
			rc.Message = "451 later"
		}
	}
	r := testRunner(t, g)
	id := enqueue(t, r.Spool, "x@a.test", "y@b.test", "z@c.test", "w@A.test")
	done := make(chan struct{})
	go func() {
		r.Process(context.Background(), id, false)
		close(done)
	}()
	seen := map[string]int{}
	for range 3 { // all three running before any ends
		d := waitEnter(t, g)
		seen[d.Destination] = len(d.Rcpts)
	}
	if seen["a.test"] != 2 || seen["b.test"] != 1 || seen["c.test"] != 1 {
		t.Errorf("units %v", seen)
	}
	close(release)
	<-done
	env, err := r.Spool.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, rc := range env.Rcpts {
		got += rc.Addr + "=" + rc.State + " "
	}
	if got != "x@a.test=delivered y@b.test=failed z@c.test=pending w@A.test=delivered " || env.Attempts != 1 || !env.Next.After(time.Now()) {
		t.Errorf("envelope %s attempts %d next %v", got, env.Attempts, env.Next)
	}
	if env.Rcpts[2].Message != "451 later" || !env.Rcpts[1].Bounced {
		t.Errorf("recipients %+v %+v", env.Rcpts[1], env.Rcpts[2])
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		iv   time.Duration
		n    int
		want time.Duration
	}{
		{15 * time.Minute, 1, 15 * time.Minute},
		{15 * time.Minute, 2, 30 * time.Minute},
		{15 * time.Minute, 3, time.Hour},
		{15 * time.Minute, 40, time.Hour},
		{2 * time.Hour, 5, 2 * time.Hour},
	} {
		if got := Backoff(tc.iv, tc.n); got != tc.want {
			t.Errorf("Backoff(%v, %d) = %v, want %v", tc.iv, tc.n, got, tc.want)
		}
	}
}
