package redisstore

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		in, network, addr string
		db                int
		tls               bool
	}{
		{"127.0.0.1:6379", "tcp", "127.0.0.1:6379", 0, false},
		{"[::1]:6379", "tcp", "[::1]:6379", 0, false},
		{"redis.example:6380", "tcp", "redis.example:6380", 0, false},
		{"/tmp/redis.sock", "unix", "/tmp/redis.sock", 0, false},
		{"redis://127.0.0.1:6379/0", "tcp", "127.0.0.1:6379", 0, false},
		{"redis://user:pw@10.0.0.1:6390/3", "tcp", "10.0.0.1:6390", 3, false},
		{"rediss://redis.example:6380/1", "tcp", "redis.example:6380", 1, true},
		{"unix:///run/redis.sock?db=2", "unix", "/run/redis.sock", 2, false},
	} {
		o, err := Options(tc.in, time.Second)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if o.Network != tc.network && !(tc.network == "tcp" && o.Network == "") || o.Addr != tc.addr || o.DB != tc.db || (o.TLSConfig != nil) != tc.tls {
			t.Errorf("%s: network %q addr %q db %d tls %v", tc.in, o.Network, o.Addr, o.DB, o.TLSConfig != nil)
		}
		if o.ReadTimeout != time.Second || o.DialTimeout != time.Second || !o.ContextTimeoutEnabled || o.DialerRetries != 1 {
			t.Errorf("%s: timeouts %+v", tc.in, o)
		}
	}
	for _, a := range []string{"", "localhost", ":6379", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:70000", "redis.sock",
		"redis://127.0.0.1:6379/x", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/0?dial_timeout=x"} {
		if _, err := Options(a, time.Second); err == nil {
			t.Errorf("%q accepted", a)
		}
	}
	if _, err := Options("127.0.0.1:6379", 0); err == nil {
		t.Error("zero timeout accepted")
	}
}

// A server that accepts and never answers: every operation ends in an
// error within the timeout, and later ones too (the pool gives its
// slots back).
func TestSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	c, err := Open(ln.Addr().String(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := NewSRS(c, "p:", 200*time.Millisecond)
	for i := range 12 { // more than the pool's connections per CPU
		start := time.Now()
		if _, _, err := s.Get("K", time.Now()); err == nil {
			t.Fatalf("Get %d from a silent server succeeded", i)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Get %d took %s", i, d)
		}
	}
	if err := s.Put("K", "a@b.test", time.Now().Add(time.Hour)); err == nil {
		t.Error("Put to a silent server succeeded")
	}
}

func TestRefusedAndClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := Open(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSRS(c, "p:", time.Second)
	if _, _, err := s.Get("K", time.Now()); err == nil || !strings.HasPrefix(err.Error(), "redis: ") {
		t.Errorf("Get with nothing listening: %v", err)
	}
	c.Close()
	if _, _, err := s.Get("K", time.Now()); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := s.Put("K", strings.Repeat("x", maxSRSValue+1), time.Now().Add(time.Hour)); err == nil {
		t.Error("oversized value accepted")
	}
}

// LogTo routes go-redis's lines to the given logger at debug level.
func TestLogTo(t *testing.T) {
	var buf syncBuf
	LogTo(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer LogTo(slog.New(slog.DiscardHandler))
	c, _ := Open("127.0.0.1:1", 200*time.Millisecond)
	defer c.Close()
	NewSRS(c, "p:", 200*time.Millisecond).Get("K", time.Now())
	if s := buf.String(); !strings.Contains(s, "level=DEBUG") || !strings.Contains(s, "redis: ") || !strings.Contains(s, "dial") {
		t.Errorf("logged %q", s)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Whatever the address, Options returns options or an error, never a
// panic, and accepted options name somewhere to connect.
func FuzzOptions(f *testing.F) {
	for _, s := range []string{"127.0.0.1:6379", "/tmp/r.sock", "redis://u:p@h:1/2", "rediss://h:6380/0?dial_timeout=1s",
		"unix:///r.sock?db=3", "redis://[::1]:6379", "redis://h:1/0?pool_size=x", "://", "redis:/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		o, err := Options(addr, time.Second)
		if err != nil {
			return
		}
		if o.Addr == "" || o.ReadTimeout != time.Second {
			t.Fatalf("%q: %+v", addr, o)
		}
	})
}
