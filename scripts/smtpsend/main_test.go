package main

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDataBlock(t *testing.T) {
	got := string(dataBlock([]byte("A: b\n\n.starts with a dot\r\nlast line")))
	want := "A: b\r\n\r\n..starts with a dot\r\nlast line\r\n.\r\n"
	if got != want {
		t.Errorf("dataBlock = %q, want %q", got, want)
	}
}

// sink is a minimal SMTP server that records, per connection, the
// recipients of the messages it accepted, and refuses RCPT for
// addresses starting with "no".
type sink struct {
	ln    net.Listener
	mu    sync.Mutex
	conns [][]string
	wg    sync.WaitGroup
}

func startSink(t *testing.T) *sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, nil)
			i := len(s.conns) - 1
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c, i)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *sink) serve(c net.Conn, i int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	c.Write([]byte("220 sink\r\n"))
	var rcpt string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "RCPT TO:<NO"):
			c.Write([]byte("550 no\r\n"))
		case strings.HasPrefix(cmd, "RCPT TO:"):
			rcpt = strings.Trim(strings.TrimSpace(line)[8:], "<>")
			c.Write([]byte("250 ok\r\n"))
		case cmd == "DATA":
			c.Write([]byte("354 go\r\n"))
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.mu.Lock()
			s.conns[i] = append(s.conns[i], rcpt)
			s.mu.Unlock()
			c.Write([]byte("250 queued\r\n"))
		case cmd == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

func newJob(addr string, rcpts []string, total int64, keep bool) *job {
	return &job{
		dialer: &net.Dialer{Timeout: 5 * time.Second}, addr: addr, ehlo: "t", from: "a@x.test",
		rcpts: rcpts, data: dataBlock([]byte("Subject: t\n\nhi\n")), total: total,
		timeout: 5 * time.Second, keep: keep,
	}
}

// Without -d every message has its own connection; recipients rotate.
func TestOneConnectionPerMessage(t *testing.T) {
	s := startSink(t)
	j := newJob(s.ln.Addr().String(), []string{"a@d1.test", "b@d2.test"}, 4, false)
	j.session()
	if j.sent.Load() != 4 || j.failed.Load() != 0 {
		t.Fatalf("sent %d failed %d", j.sent.Load(), j.failed.Load())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := []string{"a@d1.test", "b@d2.test", "a@d1.test", "b@d2.test"}
	if len(s.conns) != 4 {
		t.Fatalf("%d connections, want 4", len(s.conns))
	}
	for i, c := range s.conns {
		if len(c) != 1 || c[0] != want[i] {
			t.Errorf("connection %d carried %v, want [%s]", i, c, want[i])
		}
	}
}

// With -d one session keeps its connection, and a refused recipient
// fails that message only.
func TestKeepConnection(t *testing.T) {
	s := startSink(t)
	j := newJob(s.ln.Addr().String(), []string{"a@d1.test", "no@d2.test"}, 4, true)
	j.session()
	if j.sent.Load() != 2 || j.failed.Load() != 2 {
		t.Fatalf("sent %d failed %d, want 2 and 2", j.sent.Load(), j.failed.Load())
	}
	if e := j.firstErr.Load(); e == nil || !strings.Contains((*e).Error(), "550") {
		t.Errorf("first error %v, want the 550", e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) != 1 || len(s.conns[0]) != 2 {
		t.Errorf("connections %v, want one carrying 2 messages", s.conns)
	}
}
