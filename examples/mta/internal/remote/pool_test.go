package remote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
)

// events of the courier, in order.
type evLog struct {
	mu  sync.Mutex
	evs []events.Event
}

func (l *evLog) bus() *events.Bus {
	b := &events.Bus{Timeout: -1}
	b.Subscribe(nil, func(_ context.Context, ev *events.Event) (string, error) {
		l.mu.Lock()
		l.evs = append(l.evs, *ev)
		l.mu.Unlock()
		return "", nil
	})
	return b
}

func (l *evLog) names() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.evs {
		out = append(out, string(e.Name))
	}
	return strings.Join(out, " ")
}

func (l *evLog) count(n events.Name) int {
	c := 0
	for _, name := range strings.Fields(l.names()) {
		if name == string(n) {
			c++
		}
	}
	return c
}

// sendN delivers n messages to rcpt one after the other, each told
// that more wait (waiting) or not.
func sendN(t *testing.T, q *Courier, n int, waiting func(i int) bool) {
	t.Helper()
	msg := []byte("From: a@example.com\r\nSubject: reuse\r\n\r\nbody\r\n")
	for i := range n {
		env := envelope(fmt.Sprintf("m%d", i), "a@example.com", fmt.Sprintf("r%d@remote.test", i))
		d := delivery(env, spoolFile(t, msg))
		d.Waiting = func() bool { return waiting(i) }
		q.Deliver(context.Background(), d)
		if env.Rcpts[0].State != queue.Delivered {
			t.Fatalf("message %d: %+v", i, env.Rcpts[0])
		}
	}
}

// Five messages to one host, the next one always waiting: one
// connection, RSET between them, QUIT after the last (nothing waits).
func TestReuseOneConnection(t *testing.T) {
	p := startPeer(t, &peer{})
	q := courierFor(t, p.port(), "remote.test")
	var l evLog
	q.Bus = l.bus()
	sendN(t, q, 5, func(i int) bool { return i < 4 })
	if n := p.connCount(); n != 1 {
		t.Fatalf("%d connections for 5 messages", n)
	}
	var verbs []string
	for _, c := range p.commands(1) {
		v, _, _ := strings.Cut(c, " ")
		verbs = append(verbs, v)
	}
	want := "EHLO" + strings.Repeat(" MAIL RCPT DATA RSET", 4) + " MAIL RCPT DATA QUIT"
	if got := strings.Join(verbs, " "); got != want {
		t.Errorf("commands %q, want %q", got, want)
	}
	if len(p.messages()) != 5 {
		t.Errorf("%d messages", len(p.messages()))
	}
	// Connection events once, delivery events per message.
	if l.count(events.TCPConnect) != 1 || l.count(events.SMTPConnect) != 1 || l.count(events.SMTPEHLO) != 1 ||
		l.count(events.TCPClose) != 1 || l.count(events.MsgDelivery) != 5 {
		t.Errorf("events %s", l.names())
	}
	if !strings.HasPrefix(l.names(), "tcp:connect smtp:connect smtp:ehlo msg:delivery msg:delivery") ||
		!strings.HasSuffix(l.names(), "tcp:close msg:delivery") {
		t.Errorf("event order %s", l.names())
	}
	l.mu.Lock()
	for _, e := range l.evs {
		if e.Name == events.MsgDelivery && (!e.SendingIP.IsValid() || e.SendingPort == 0 || e.Host != "mx.remote.test") {
			t.Errorf("msg:delivery %+v", e)
		}
		if e.Name == events.TCPClose && e.MessageID != "m4" {
			t.Errorf("tcp:close with message %q, want the last one's", e.MessageID)
		}
	}
	l.mu.Unlock()
}

// connection_max_messages = 2: five messages take three connections.
func TestReuseMaxMessages(t *testing.T) {
	p := startPeer(t, &peer{})
	q := courierFor(t, p.port(), "remote.test")
	q.ConnectionMaxMessages = 2
	sendN(t, q, 5, func(int) bool { return true })
	q.CloseIdle()
	if n := p.connCount(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
	for c, want := range map[int]int{1: 2, 2: 2, 3: 1} {
		cmds := p.commands(c)
		if n := strings.Count(strings.Join(cmds, "\n"), "MAIL FROM"); n != want {
			t.Errorf("connection %d carried %d messages, want %d: %q", c, n, want, cmds)
		}
		if last := cmds[len(cmds)-1]; last != "QUIT" {
			t.Errorf("connection %d ended with %q", c, last)
		}
	}
}

// Nothing waiting: no connection is kept (Exim's and Postfix's on
// demand reuse), each message QUITs.
func TestReuseOnlyWhenWaiting(t *testing.T) {
	p := startPeer(t, &peer{})
	q := courierFor(t, p.port(), "remote.test")
	var l evLog
	q.Bus = l.bus()
	sendN(t, q, 3, func(int) bool { return false })
	if n := p.connCount(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
	want := strings.TrimSpace(strings.Repeat("tcp:connect smtp:connect smtp:ehlo tcp:close msg:delivery ", 3))
	if got := l.names(); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
}

// A kept connection closes itself after ConnectionIdleTimeout, with
// QUIT and tcp:close.
func TestReuseIdleTimeout(t *testing.T) {
	p := startPeer(t, &peer{})
	q := courierFor(t, p.port(), "remote.test")
	q.ConnectionIdleTimeout = 20 * time.Millisecond
	var l evLog
	q.Bus = l.bus()
	sendN(t, q, 1, func(int) bool { return true })
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(p.commands(1), "QUIT") || l.count(events.TCPClose) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("kept connection not closed: %q, events %s", p.commands(1), l.names())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if cmds := p.commands(1); cmds[len(cmds)-2] != "RSET" {
		t.Errorf("commands %q", cmds)
	}
	// Taken by nobody, it is gone: the next message connects anew.
	sendN(t, q, 1, func(int) bool { return false })
	if n := p.connCount(); n != 2 {
		t.Errorf("%d connections", n)
	}
}

// A kept connection the server dropped meanwhile costs the message
// nothing: it goes on a new connection.
func TestReuseStaleConnection(t *testing.T) {
	p := startPeer(t, &peer{hangUp: true})
	q := courierFor(t, p.port(), "remote.test")
	var l evLog
	q.Bus = l.bus()
	sendN(t, q, 2, func(i int) bool { return i == 0 })
	if n := p.connCount(); n != 2 || len(p.messages()) != 2 {
		t.Fatalf("%d connections, %d messages", n, len(p.messages()))
	}
	if l.count(events.MsgHostDefer) != 0 || l.count(events.TCPConnect) != 2 || l.count(events.TCPClose) != 2 {
		t.Errorf("events %s", l.names())
	}
}

// Different hosts never share a connection, even at one address.
func TestReuseKeyedByHost(t *testing.T) {
	p := startPeer(t, &peer{})
	q := courierFor(t, p.port(), "one.test", "two.test")
	msg := []byte("Subject: k\r\n\r\nbody\r\n")
	for _, rcpt := range []string{"a@one.test", "b@two.test"} {
		env := envelope("k", "a@example.com", rcpt)
		d := delivery(env, spoolFile(t, msg))
		d.Waiting = func() bool { return true }
		q.Deliver(context.Background(), d)
	}
	q.CloseIdle()
	if n := p.connCount(); n != 2 {
		t.Errorf("%d connections for two hosts", n)
	}
}
