package remote

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/retry"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A host that failed is skipped by the next message without a
// connection ("retry time not reached for any host"), tried again at
// its time (the interval doubled after a second failure), and cleared
// by a success; a forced delivery ignores the record.
func TestRetryDatabase(t *testing.T) {
	p := startPeer(t, &peer{greeting: "421 4.3.2 too busy"})
	q := courierFor(t, p.port(), "remote.test")
	var l evLog
	q.Bus = l.bus()
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "db", "retry")
	db, err := retry.Open(path, retry.Options{Interval: 15 * time.Minute, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	q.Retry = db
	msg := []byte("Subject: r\r\n\r\nbody\r\n")
	send := func(force bool) *queue.Recipient {
		env := envelope("r", "a@example.com", "bob@remote.test")
		d := delivery(env, spoolFile(t, msg))
		d.Force = force
		q.Deliver(context.Background(), d)
		return env.Rcpts[0]
	}
	key := retry.Key("mx.remote.test", ipOf(t, "127.0.0.1"), p.port())

	if r := send(false); r.State != queue.Pending || p.connCount() != 1 {
		t.Fatalf("first: %+v, %d connections", r, p.connCount())
	}
	rec, ok := db.Due(key)
	if ok || rec.Next.Sub(clock.now()) != 15*time.Minute || rec.Message != "SMTP error from remote mail server after initial connection: 421 4.3.2 too busy" {
		t.Fatalf("record %+v due %v", rec, ok)
	}
	connects := l.count(events.TCPConnect)
	if r := send(false); r.State != queue.Pending || r.Message != RetryTimeNotReached || p.connCount() != 1 || l.count(events.TCPConnect) != connects {
		t.Fatalf("within the retry time: %+v, %d connections, events %s", r, p.connCount(), l.names())
	}
	// A forced delivery tries, and fails again: 30 minutes now.
	if r := send(true); p.connCount() != 2 || r.Message == RetryTimeNotReached {
		t.Fatalf("forced: %+v, %d connections", r, p.connCount())
	}
	if rec, _ := db.Due(key); rec.Failures != 2 || rec.Next.Sub(clock.now()) != 30*time.Minute {
		t.Fatalf("after the second failure %+v", rec)
	}
	// Reopened (a restart), the record holds.
	db2, err := retry.Open(path, retry.Options{Interval: 15 * time.Minute, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	q.Retry = db2
	clock.add(29 * time.Minute)
	if send(false); p.connCount() != 2 {
		t.Fatalf("tried before its time after a restart: %d connections", p.connCount())
	}
	// At its time the host is tried again, works, and is cleared.
	clock.add(time.Minute)
	p.mu.Lock()
	p.greeting = ""
	p.mu.Unlock()
	if r := send(false); r.State != queue.Delivered || p.connCount() != 3 {
		t.Fatalf("at the retry time: %+v, %d connections", r, p.connCount())
	}
	if db2.Len() != 0 {
		t.Errorf("%d records after a success", db2.Len())
	}
}

// What is not the host's failure leaves no record: a refused
// recipient, a tcp:connect veto.
func TestRetryNotForRecipientOrPolicy(t *testing.T) {
	p := startPeer(t, &peer{rcpt: func(string) string { return "451 4.3.0 later" }})
	q := courierFor(t, p.port(), "remote.test")
	db, _ := retry.Open(filepath.Join(t.TempDir(), "retry"), retry.Options{})
	q.Retry = db
	env := envelope("n", "a@example.com", "bob@remote.test")
	q.Deliver(context.Background(), delivery(env, spoolFile(t, []byte("Subject: n\r\n\r\nx\r\n"))))
	if env.Rcpts[0].State != queue.Pending || db.Len() != 0 {
		t.Errorf("4xx RCPT: %+v, %d records", env.Rcpts[0], db.Len())
	}
	q.Bus = &events.Bus{Timeout: -1}
	q.Bus.Subscribe(events.Only(events.TCPConnect), func(context.Context, *events.Event) (string, error) { return "no", nil })
	env = envelope("v", "a@example.com", "bob@remote.test")
	q.Deliver(context.Background(), delivery(env, spoolFile(t, []byte("Subject: v\r\n\r\nx\r\n"))))
	if db.Len() != 0 {
		t.Errorf("a vetoed connection left %d records", db.Len())
	}
}
