package ocsp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSleep records the waits and lets the test drive Run.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
	after func(n int) // called after each wait is recorded
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	n := len(f.waits)
	f.mu.Unlock()
	if f.after != nil {
		f.after(n)
	}
	return ctx.Err()
}

func TestRefresherSchedule(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	rs, srv := startResponder(t, ca)
	rs.set(10, Good)
	// Valid from an hour ago for 25 h: renew at thisUpdate+12h30m, 11h30m on.
	leaf := mkCert(t, ca, certOpts{serial: 10, ocspURL: srv.URL})
	path := filepath.Join(t.TempDir(), "ocsp.der")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs := &fakeSleep{after: func(n int) {
		if n == 3 {
			cancel()
		}
	}}
	var updates int
	r := &Refresher{
		Fetcher: &Fetcher{Client: srv.Client(), Now: fixedNow},
		Cert:    leaf.cert, Issuer: ca.cert, Path: path,
		Sleep: fs.sleep, Jitter: func() float64 { return 0.5 }, Now: fixedNow,
		OnUpdate: func(*Fetched) { updates++ },
	}
	if err := r.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if updates != 3 {
		t.Errorf("%d updates, want 3", updates)
	}
	for i, w := range fs.waits {
		if w != 11*time.Hour+30*time.Minute {
			t.Errorf("wait %d: %v, want 11h30m", i, w)
		}
	}
	der, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetcher.Verify(der, leaf.cert, ca.cert); err != nil {
		t.Errorf("written file: %v", err)
	}
	// A restart finds the fresh file and waits before fetching.
	fs2 := &fakeSleep{after: func(int) {}}
	ctx2, cancel2 := context.WithCancel(context.Background())
	fs2.after = func(int) { cancel2() }
	r.Sleep = fs2.sleep
	r.Run(ctx2)
	if len(fs2.waits) != 1 || fs2.waits[0] != 11*time.Hour+30*time.Minute {
		t.Errorf("restart waits %v", fs2.waits)
	}
}

func TestRefresherBackoff(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	leaf := mkCert(t, ca, certOpts{serial: 10})
	// A responder URL nothing listens on.
	_, srv := startResponder(t, ca)
	url := srv.URL
	srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	fs := &fakeSleep{after: func(n int) {
		if n == 6 {
			cancel()
		}
	}}
	var logged int
	r := &Refresher{
		Cert: leaf.cert, Issuer: ca.cert, Responder: url,
		Path:       filepath.Join(t.TempDir(), "ocsp.der"),
		MinBackoff: time.Second, MaxBackoff: 10 * time.Second,
		Sleep: fs.sleep, Jitter: func() float64 { return 0.5 },
		Logf: func(string, ...any) { logged++ },
	}
	if err := r.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for i, w := range fs.waits {
		if w != want[i]*time.Second {
			t.Errorf("backoff %d: %v, want %v", i, w, want[i]*time.Second)
		}
	}
	if logged == 0 {
		t.Error("failures not logged")
	}
	// Jitter spreads waits within ±10 %.
	r.Jitter = func() float64 { return 0 }
	fs.waits, fs.after = nil, func(n int) {
		if n == 1 {
			cancel()
		}
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	r.Run(ctx)
	if fs.waits[0] != 900*time.Millisecond {
		t.Errorf("jittered wait %v", fs.waits[0])
	}
}

// Run with real timers returns promptly on cancel and leaves no
// goroutine of this package behind.
func TestRefresherNoLeak(t *testing.T) {
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Test CA"})
	rs, srv := startResponder(t, ca)
	rs.set(10, Good)
	leaf := mkCert(t, ca, certOpts{serial: 10, ocspURL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	updated := make(chan struct{}, 1)
	r := &Refresher{
		Fetcher: &Fetcher{Client: srv.Client(), Now: fixedNow},
		Cert:    leaf.cert, Issuer: ca.cert, Now: fixedNow,
		Path: filepath.Join(t.TempDir(), "ocsp.der"),
		OnUpdate: func(*Fetched) {
			select {
			case updated <- struct{}{}:
			default:
			}
		},
	}
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-updated:
	case <-time.After(10 * time.Second):
		t.Fatal("no update")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	srv.Client().CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "mailpolicy/ocsp.(*Refresher)") && !strings.Contains(stacks, "mailpolicy/ocsp.sleepCtx") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refresher goroutine left:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
