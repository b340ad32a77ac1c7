package events_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailpolicy/mailpolicy/events"
)

// settleGoroutines waits until the number of goroutines is at most n.
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d > %d\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func closeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type recorder struct {
	mu     sync.Mutex
	bodies []events.Event
	hits   atomic.Int64
}

func (r *recorder) add(t *testing.T, req *http.Request) {
	b, err := io.ReadAll(req.Body)
	assert.NoError(t, err)
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	var ev events.Event
	assert.NoError(t, json.Unmarshal(b, &ev))
	r.mu.Lock()
	r.bodies = append(r.bodies, ev)
	r.mu.Unlock()
}

func TestWebhookSuccess(t *testing.T) {
	base := runtime.NumGoroutine()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		assert.Equal(t, "Bearer x", r.Header.Get("Authorization"))
		rec.add(t, r)
	}))
	wh := &events.Webhook{URL: srv.URL, Header: http.Header{"Authorization": {"Bearer x"}}}
	var b events.Bus
	b.Subscribe(nil, wh.Handler())
	for i, n := range events.Names() {
		d := b.Raise(context.Background(), &events.Event{Name: n, HostPort: i})
		assert.False(t, d.Acted, "a webhook never vetoes")
	}
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, uint64(19), wh.Sent())
	assert.Equal(t, uint64(0), wh.Failed())
	assert.Equal(t, uint64(0), wh.Dropped())
	require.Len(t, rec.bodies, 19)
	for i, ev := range rec.bodies {
		assert.Equal(t, events.Names()[i], ev.Name, "sent in order")
		assert.Equal(t, i, ev.HostPort)
		assert.False(t, ev.Time.IsZero())
	}

	// After Close: dropped, not blocking, no panic.
	_, err := wh.Handler()(context.Background(), &events.Event{Name: events.TCPClose})
	assert.NoError(t, err)
	assert.Equal(t, uint64(1), wh.Dropped())
	assert.NoError(t, wh.Close(closeCtx(t)), "second Close")

	srv.Close()
	http.DefaultClient.CloseIdleConnections()
	settleGoroutines(t, base)
}

func TestWebhookRetry(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	wh := &events.Webhook{URL: srv.URL, Backoff: time.Millisecond, Client: srv.Client()}
	_, _ = wh.Handler()(context.Background(), &events.Event{Name: events.MsgDelivery})
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, int64(2), hits.Load(), "500 then 200: retried once")
	assert.Equal(t, uint64(1), wh.Sent())
	assert.Equal(t, uint64(0), wh.Failed())
}

func TestWebhookNoRetryOn4xx(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	wh := &events.Webhook{URL: srv.URL, Backoff: time.Millisecond, Client: srv.Client()}
	h := wh.Handler()
	_, _ = h(context.Background(), &events.Event{Name: events.MsgDelivery})
	_, _ = h(context.Background(), &events.Event{Name: events.MsgDefer})
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, int64(2), hits.Load(), "one attempt each")
	assert.Equal(t, uint64(2), wh.Failed())
	assert.Equal(t, uint64(0), wh.Sent())
}

func TestWebhookRetriesExhausted(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	wh := &events.Webhook{URL: srv.URL, Backoff: time.Millisecond, MaxRetries: 2, Client: srv.Client()}
	_, _ = wh.Handler()(context.Background(), &events.Event{Name: events.MsgDelivery})
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, int64(3), hits.Load(), "1 + MaxRetries attempts")
	assert.Equal(t, uint64(1), wh.Failed())

	hits.Store(0)
	wh = &events.Webhook{URL: srv.URL, MaxRetries: -1, Client: srv.Client()}
	_, _ = wh.Handler()(context.Background(), &events.Event{Name: events.MsgDelivery})
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, int64(1), hits.Load(), "negative MaxRetries: no retry")
}

func TestWebhookServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	wh := &events.Webhook{URL: url, Backoff: time.Millisecond, Timeout: time.Second}
	_, err := wh.Handler()(context.Background(), &events.Event{Name: events.TCPClose})
	assert.NoError(t, err)
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, uint64(1), wh.Failed())
	assert.Equal(t, uint64(0), wh.Sent())
}

func TestWebhookQueueFull(t *testing.T) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
	}))
	wh := &events.Webhook{URL: srv.URL, QueueSize: 2, Client: srv.Client()}
	h := wh.Handler()
	start := time.Now()
	for range 50 {
		_, err := h(context.Background(), &events.Event{Name: events.MsgDelivery})
		assert.NoError(t, err)
	}
	assert.Less(t, time.Since(start), 2*time.Second, "the handler never blocks")
	// The worker holds at most one event in flight, the queue two.
	assert.GreaterOrEqual(t, wh.Dropped(), uint64(47))
	close(release)
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, uint64(50), wh.Sent()+wh.Dropped(), "every event accounted for")
	assert.Equal(t, uint64(hits.Load()), wh.Sent())
	srv.Close()
	settleGoroutines(t, base)
}

func TestWebhookCloseDeadline(t *testing.T) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	wh := &events.Webhook{URL: srv.URL, Client: srv.Client()}
	for range 5 {
		_, _ = wh.Handler()(context.Background(), &events.Event{Name: events.MsgDelivery})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := wh.Close(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, uint64(5), wh.Dropped(), "in flight and queued events dropped")
	close(release)
	srv.Close()
	settleGoroutines(t, base)
}

func TestWebhookStartContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	wh := &events.Webhook{URL: srv.URL, Client: srv.Client()}
	ctx, cancel := context.WithCancel(context.Background())
	wh.Start(ctx)
	wh.Start(ctx) // no-op
	_, _ = wh.Handler()(context.Background(), &events.Event{Name: events.MsgDelivery})
	require.NoError(t, wh.Close(closeCtx(t)))
	cancel()
	assert.Equal(t, uint64(1), wh.Sent())

	// Close without any event: nothing started.
	idle := &events.Webhook{URL: srv.URL}
	assert.NoError(t, idle.Close(context.Background()))
}

func TestWebhookConcurrent(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	wh := &events.Webhook{URL: srv.URL, Client: srv.Client(), QueueSize: 10000}
	var b events.Bus
	b.Subscribe(events.Prefix("msg:"), wh.Handler())
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				b.Raise(context.Background(), &events.Event{Name: events.MsgComplete})
			}
		}()
	}
	wg.Wait()
	require.NoError(t, wh.Close(closeCtx(t)))
	assert.Equal(t, uint64(400), wh.Sent())
	assert.Equal(t, int64(400), hits.Load())
}
