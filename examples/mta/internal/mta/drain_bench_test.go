package mta

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// The drain benchmark of issue 15: N messages spooled for 20 domains,
// each domain's MX a peer that answers every reply 100 ms late, and the
// time until the queue is empty.

// latencyPeer is a real SMTP server on 127.0.0.1 that sleeps delay
// before each reply (the greeting too) and accepts everything. It
// offers PIPELINING and CHUNKING; a pipelined command still waits its
// own delay, as a slow server's would.
type latencyPeer struct {
	delay time.Duration
	ln    net.Listener
	wg    sync.WaitGroup

	msgs     atomic.Int64 // messages accepted
	conns    atomic.Int64 // connections accepted
	sessions atomic.Int64 // open now
	peak     atomic.Int64 // most sessions open at once
}

func startLatencyPeer(tb testing.TB, delay time.Duration) *latencyPeer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &latencyPeer{delay: delay, ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *latencyPeer) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *latencyPeer) serve(c net.Conn) {
	defer c.Close()
	p.conns.Add(1)
	n := p.sessions.Add(1)
	defer p.sessions.Add(-1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		time.Sleep(p.delay)
		for _, l := range lines {
			bw.WriteString(l + "\r\n")
		}
		return bw.Flush() == nil
	}
	if !reply("220 slow.test ESMTP") {
		return
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if !reply("250-slow.test", "250-PIPELINING", "250-8BITMIME", "250-SIZE 100000000", "250-CHUNKING", "250 ENHANCEDSTATUSCODES") {
				return
			}
		case "DATA":
			if !reply("354 go ahead") {
				return
			}
			if _, err := io.Copy(io.Discard, smtp.NewDataReader(br)); err != nil {
				return
			}
			p.msgs.Add(1)
			if !reply("250 2.0.0 OK queued") {
				return
			}
		case "BDAT":
			f := strings.Fields(arg)
			var size int64
			if len(f) == 0 {
				return
			}
			fmt.Sscan(f[0], &size)
			if _, err := io.CopyN(io.Discard, br, size); err != nil {
				return
			}
			last := len(f) > 1 && strings.EqualFold(f[1], "LAST")
			if last {
				p.msgs.Add(1)
			}
			if !reply("250 2.0.0 " + map[bool]string{true: "OK queued", false: "chunk OK"}[last]) {
				return
			}
		case "QUIT":
			reply("221 bye")
			return
		default:
			if !reply("250 OK") {
				return
			}
		}
	}
}

// drainEnv is a server with a spool whose 20 domains d00.test ...
// d19.test all have the latency peer as their MX.
type drainEnv struct {
	srv   *Server
	spool string
	peer  *latencyPeer
}

func newDrainEnv(tb testing.TB, delay time.Duration, mod func(*Config)) *drainEnv {
	tb.Helper()
	p := startLatencyPeer(tb, delay)
	z := resolvertest.NewZone()
	for i := range 20 {
		z.MustAdd(tb, fmt.Sprintf("d%02d.test. MX 10 mx.d%02d.test.", i, i), fmt.Sprintf("mx.d%02d.test. A 127.0.0.1", i))
	}
	ns := resolvertest.Start(tb, z)
	e := &drainEnv{spool: tb.TempDir(), peer: p}
	cfg := Config{
		Hostname: "mx.example", Domains: []string{"example.com"}, Maildir: tb.TempDir(),
		Resolver: nsResolver(tb, ns.Addr), Spool: e.spool, SMTPPort: p.port(),
		SMTPTimeout: time.Minute, RetryInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.srv = srv
	return e
}

// fill spools n messages, message i to a recipient in domain i%20.
func (e *drainEnv) fill(tb testing.TB, n int) {
	tb.Helper()
	sp := e.srv.Queue().Spool
	body := "From: alice@example.com\r\nTo: bob\r\nSubject: drain\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n", 32)
	for i := range n {
		if _, err := sp.Enqueue(queue.NewID(), "alice@example.com", []string{fmt.Sprintf("bob%d@d%02d.test", i, i%20)}, []byte(body)); err != nil {
			tb.Fatal(err)
		}
	}
}

func (e *drainEnv) queued() int {
	envs, _ := filepath.Glob(filepath.Join(e.spool, "*.env"))
	return len(envs)
}

func benchDrain(b *testing.B, n int, mod func(*Config)) {
	e := newDrainEnv(b, 100*time.Millisecond, mod)
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		e.fill(b, n)
		before := e.peer.msgs.Load()
		b.StartTimer()
		t0 := time.Now()
		e.srv.Queue().RunOnce(context.Background(), false)
		total += time.Since(t0)
		b.StopTimer()
		if left := e.queued(); left != 0 {
			b.Fatalf("%d messages left in the queue", left)
		}
		if got := e.peer.msgs.Load() - before; got != int64(n) {
			b.Fatalf("peer got %d messages, want %d", got, n)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/drain")
	b.ReportMetric(float64(e.peer.conns.Load())/float64(b.N), "conns/drain")
	b.ReportMetric(float64(e.peer.peak.Load()), "peak-sessions")
}

// BenchmarkDrain200: 200 messages, 20 domains, 100 ms per reply.
func BenchmarkDrain200(b *testing.B) { benchDrain(b, 200, nil) }

// BenchmarkDrain1000: the same with 1000 messages.
func BenchmarkDrain1000(b *testing.B) { benchDrain(b, 1000, nil) }

// BenchmarkDrain200OneAtATime is the old way on today's code: one
// delivery at a time, one connection per message (limits 1/1,
// connection_max_messages 1).
func BenchmarkDrain200OneAtATime(b *testing.B) {
	benchDrain(b, 200, func(c *Config) {
		c.MaxDeliveries, c.MaxDeliveriesPerDestination, c.ConnectionMaxMessages = 1, 1, 1
	})
}
