package resolver

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNoGoroutineLeak runs many queries that are cancelled at every stage
// and checks the goroutine count comes back down: a leak per cancelled
// query would take a busy mail server down slowly.
func TestNoGoroutineLeak(t *testing.T) {
	z, s := serve(t, `fast.example. A 192.0.2.1`)
	z.SetTimeout("slow.example", 0)
	c := newClient(t, WithNameservers(s.Addr, silentServer(t)), WithTimeout(time.Minute))

	// The servers' own goroutines are running by now and stay; anything
	// the queries start must be gone once they return.
	before := runtime.NumGoroutine()

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			switch i % 4 {
			case 0:
				cancel() // before sending
			case 1:
				time.AfterFunc(time.Duration(i%7)*time.Millisecond, cancel) // while waiting
			case 2:
				// a normal answer; cancelled afterwards by the defer
			case 3:
				var stop context.CancelFunc
				ctx, stop = context.WithTimeout(ctx, 5*time.Millisecond)
				defer stop()
			}
			name := "slow.example"
			if i%4 == 2 {
				name = "fast.example"
			}
			_, _ = c.Query(ctx, name, dns.TypeA)
		})
	}
	wg.Wait()

	after := runtime.NumGoroutine()
	// Goroutines that context.AfterFunc started for cancellations may
	// still be finishing; give them a moment.
	for deadline := time.Now().Add(5 * time.Second); after > before && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
