package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/srsredis"
)

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rawClient speaks SMTP line by line to the server run started.
type rawClient struct {
	t *testing.T
	c *textproto.Conn
}

// dialRun waits for run's listener and reads the banner.
func dialRun(t *testing.T, addr string) *rawClient {
	t.Helper()
	var conn net.Conn
	var err error
	for range 100 {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, c: textproto.NewConn(conn)}
	if _, _, err := c.c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	return c
}

// ok sends one line and wants a reply with code.
func (c *rawClient) ok(line string, code int) {
	c.t.Helper()
	if err := c.c.PrintfLine("%s", line); err != nil {
		c.t.Fatal(err)
	}
	if got, msg, err := c.c.ReadResponse(code); err != nil {
		c.t.Fatalf("%q: %d %s: %v", line, got, msg, err)
	}
}

func TestFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "-dmarc-enforce") {
		t.Errorf("-h: %d %q", code, out.String())
	}
	if code := run(context.Background(), []string{"-maildir", "x"}, &out, &errb); code != exitUsage {
		t.Errorf("missing -domains: %d", code)
	}
	o, _, ok := parseFlags([]string{"-domains", "Example.COM, example.org", "-maildir", "/tmp/x", "-optin", "a@example.com=strict:x",
		"-proxy-required", "10.0.0.0/8", "-dccifd", "127.0.0.1:1234", "-spamd", "127.0.0.1:783"}, &out, &errb)
	if !ok || len(o.cfg.Domains) != 2 || o.cfg.OptIn["a@example.com"] != "strict:x" || o.cfg.DCC.Address.Addr != "127.0.0.1:1234" || o.cfg.Scanner == nil {
		t.Errorf("parse: %+v %s", o, errb.String())
	}
}

func TestRunSignal(t *testing.T) {
	dir := t.TempDir()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb syncBuffer
	go func() {
		done <- run(ctx, []string{"-listen", addr, "-hostname", "mx.example", "-domains", "example.com", "-maildir", dir,
			"-dmarc-history", filepath.Join(dir, "hist"), "-event-exec", "cat >/dev/null"}, &out, &errb)
	}()
	c := dialRun(t, addr)
	c.ok("EHLO client.test", 250)
	c.ok("QUIT", 221)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}
}

func TestWebhookEvents(t *testing.T) {
	got := make(chan string, 10)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev events.Event
		b, _ := io.ReadAll(r.Body)
		if err := ev.UnmarshalJSON(b); err == nil {
			got <- string(ev.Name)
		}
	}))
	defer hs.Close()
	dir := t.TempDir()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb syncBuffer
	go func() {
		done <- run(ctx, []string{"-listen", addr, "-hostname", "mx.example", "-domains", "example.com", "-maildir", dir,
			"-event-webhook", hs.URL}, &out, &errb)
	}()
	c := dialRun(t, addr)
	c.ok("EHLO client.test", 250)
	c.ok("DATA", 503)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.ok("DATA", 354)
	c.ok("Subject: w\r\n\r\nx\r\n.", 250)
	c.ok("QUIT", 221)
	want := []string{"smtp:fail:protocol", "msg:delivery", "msg:complete"}
	for _, w := range want {
		select {
		case n := <-got:
			if n != w {
				t.Errorf("event %q, want %q", n, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event", w)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

func TestOutboundFlags(t *testing.T) {
	var out, errb bytes.Buffer
	o, _, ok := parseFlags([]string{"-domains", "example.com", "-maildir", "/tmp/x", "-spool", "/tmp/s", "-relay-from", "127.0.0.1",
		"-smtp-port", "2525", "-forward", "a@example.com=b@other.test", "-srs-secret", "k", "-srs-domain", "srs.example.com",
		"-dane-require", "*.secure.test", "-ocsp-require", "*"}, &out, &errb)
	if !ok || o.cfg.SMTPPort != 2525 || o.cfg.Forwards["a@example.com"] != "b@other.test" || o.cfg.SRS == nil ||
		o.cfg.SRSDomain != "srs.example.com" || o.cfg.OCSP == nil || o.cfg.RelayFrom == nil {
		t.Errorf("parse: %+v %s", o, errb.String())
	}
	if _, code, ok := parseFlags([]string{"-domains", "example.com", "-maildir", "/tmp/x", "-forward", "a@example.com=b@other.test"}, &out, &errb); ok || code != exitUsage {
		t.Error("-forward without -spool accepted")
	}
}

func TestLimitFlags(t *testing.T) {
	var out, errb bytes.Buffer
	o, _, ok := parseFlags([]string{"-domains", "example.com", "-maildir", "/tmp/x", "-max-sessions", "5", "-max-sessions-per-host", "-1",
		"-data-timeout", "1m", "-max-data-memory", "50000000"}, &out, &errb)
	if !ok || o.cfg.MaxSessions != 5 || o.cfg.MaxSessionsPerHost != -1 || o.cfg.DataTimeout != time.Minute || o.cfg.MaxDataMemory != 50000000 {
		t.Errorf("parse: %+v %s", o, errb.String())
	}
}

func TestSRSRedisFlags(t *testing.T) {
	var out, errb bytes.Buffer
	base := []string{"-domains", "example.com", "-maildir", "/tmp/x", "-srs-secret", "k"}
	o, _, ok := parseFlags(append(base, "-srs-redis", "127.0.0.1:6379", "-srs-redis-timeout", "3s", "-srs-redis-prefix", "x:"), &out, &errb)
	if !ok || o.srsStore == nil {
		t.Fatalf("parse: %+v %s", o, errb.String())
	}
	if _, addr, prefix, timeout := o.srsStore.Settings(); addr != "127.0.0.1:6379" || timeout != 3*time.Second || prefix != "x:" {
		t.Fatalf("parse: %+v %s", o, errb.String())
	}
	o, _, ok = parseFlags(append(base, "-srs-redis", "/run/redis.sock"), &out, &errb)
	if network, _, prefix, timeout := o.srsStore.Settings(); !ok || network != "unix" || prefix != srsredis.DefaultPrefix || timeout != 2*time.Second {
		t.Fatalf("defaults: %+v %s", o, errb.String())
	}
	for _, args := range [][]string{
		{"-domains", "example.com", "-maildir", "/tmp/x", "-srs-redis", "127.0.0.1:6379"}, // no -srs-secret
		append(base, "-srs-redis", "nonsense"),
		append(base, "-srs-redis", "127.0.0.1:6379", "-srs-redis-timeout", "0s"),
	} {
		if _, code, ok := parseFlags(args, &out, &errb); ok || code != exitUsage {
			t.Errorf("%q accepted", args)
		}
	}
}
