package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Webhook is a sink that POSTs every event it handles, as the JSON of
// Event.MarshalJSON with Content-Type application/json, to URL. Its
// Handler only queues the event and never blocks; one background
// goroutine sends them in order. Set the fields before the first use.
//
// A 2xx reply is success. A network error, a 5xx, 408 or 429 reply is
// retried MaxRetries times, waiting Backoff, then twice as long each
// time; any other reply (4xx, 3xx, ...) gives up at once. An event
// given up is counted by Failed; one that found the queue full, or came
// after Close, by Dropped.
type Webhook struct {
	URL    string
	Client *http.Client // nil: http.DefaultClient
	Header http.Header  // added to every request (e.g. Authorization)

	QueueSize  int           // events waiting to be sent; 0: 1000
	MaxRetries int           // retries after the first attempt; 0: 3, negative: none
	Backoff    time.Duration // wait before the first retry, doubled each time; 0: 500ms
	Timeout    time.Duration // per HTTP attempt; 0: 10s

	once    sync.Once
	mu      sync.RWMutex // guards closed and sending on queue
	closed  bool
	started bool
	queue   chan []byte
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	sent, failed, dropped atomic.Uint64
}

// Sent returns the number of events delivered (2xx).
func (w *Webhook) Sent() uint64 { return w.sent.Load() }

// Failed returns the number of events given up after a permanent error
// or the last retry.
func (w *Webhook) Failed() uint64 { return w.failed.Load() }

// Dropped returns the number of events not queued (queue full, after
// Close, or not marshalable) or left in the queue when Close gave up.
func (w *Webhook) Dropped() uint64 { return w.dropped.Load() }

func (w *Webhook) init() {
	w.once.Do(func() {
		n := w.QueueSize
		if n <= 0 {
			n = 1000
		}
		w.queue = make(chan []byte, n)
		w.done = make(chan struct{})
	})
}

// Start starts the sending goroutine, which stops (abandoning what is
// queued) when ctx is done; without Start it is started, with a
// background context, by the first event. Start after the first call
// does nothing.
func (w *Webhook) Start(ctx context.Context) {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.startLocked(ctx)
}

func (w *Webhook) startLocked(ctx context.Context) {
	if w.started || w.closed {
		return
	}
	w.started = true
	w.ctx, w.cancel = context.WithCancel(ctx)
	go w.run()
}

// Handler returns the Handler that queues events. It returns "" and a
// nil error, even when the event is dropped (see Dropped).
func (w *Webhook) Handler() Handler {
	return func(_ context.Context, ev *Event) (string, error) {
		w.enqueue(ev)
		return "", nil
	}
}

func (w *Webhook) enqueue(ev *Event) {
	w.init()
	body, err := ev.MarshalJSON()
	if err != nil {
		w.dropped.Add(1)
		return
	}
	w.mu.RLock()
	if !w.started && !w.closed {
		w.mu.RUnlock()
		w.mu.Lock()
		w.startLocked(context.Background())
		w.mu.Unlock()
		w.mu.RLock()
	}
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- body:
	default:
		w.dropped.Add(1)
	}
}

// Close stops accepting events and waits until the queued ones are
// sent or given up, or ctx is done; then it stops the in-flight
// request and the sending goroutine, counts what is left as Dropped,
// and returns ctx.Err(). The goroutine has exited when Close returns.
// Calling Close again returns nil at once.
func (w *Webhook) Close(ctx context.Context) error {
	w.init()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	started := w.started
	close(w.queue)
	w.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-w.done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-w.done
		return ctx.Err()
	}
}

func (w *Webhook) run() {
	defer close(w.done)
	for body := range w.queue {
		if w.ctx.Err() != nil {
			w.dropped.Add(1)
			continue
		}
		if w.deliver(body) {
			w.sent.Add(1)
		} else if w.ctx.Err() != nil {
			w.dropped.Add(1)
		} else {
			w.failed.Add(1)
		}
	}
}

// errPermanent marks a reply not worth retrying.
var errPermanent = errors.New("permanent")

func (w *Webhook) deliver(body []byte) bool {
	retries := w.MaxRetries
	if retries == 0 {
		retries = 3
	} else if retries < 0 {
		retries = 0
	}
	backoff := w.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		err := w.post(body)
		if err == nil {
			return true
		}
		if errors.Is(err, errPermanent) || attempt >= retries {
			return false
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
			return false
		}
		backoff *= 2
	}
}

func (w *Webhook) post(body []byte) error {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(w.ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	for k, vs := range w.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 500, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return fmt.Errorf("HTTP %d", c)
	default:
		return fmt.Errorf("%w: HTTP %d", errPermanent, c)
	}
}
