package mta

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/smtpd"
	"github.com/mailpolicy/mailpolicy/hostlist"
)

// dialFrom connects to addr from the loopback address src (127.0.0.2 is
// a second client IP on Linux) and reads the first reply line.
func dialFrom(t *testing.T, src, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("first reply: %v", err)
	}
	return c, r, line
}

// refused checks a 421 at connect followed by the close.
func refused(t *testing.T, r *bufio.Reader, line, want string) {
	t.Helper()
	if !strings.HasPrefix(line, "421 4.3.2 mx.example ") || !strings.Contains(line, want) {
		t.Errorf("got %q, want 421 %s", line, want)
	}
	if rest, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("connection not closed after 421: %q %v", rest, err)
	}
}

func TestLimitMaxSessions(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxSessions = 3 })
	var open []*client
	for i := 0; i < 3; i++ {
		open = append(open, dial(t, ts.addr))
	}
	_, r, line := dialFrom(t, "127.0.0.1", ts.addr)
	refused(t, r, line, "Too many concurrent SMTP connections;")
	// The sessions already open are not disturbed.
	for _, c := range open {
		c.ok("NOOP", 250)
	}
	// A slot that frees up is usable again.
	open[0].ok("QUIT", 221)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, r, line := dialFrom(t, "127.0.0.1", ts.addr)
		if strings.HasPrefix(line, "220 ") {
			break
		}
		refused(t, r, line, "Too many")
		if time.Now().After(deadline) {
			t.Fatal("slot not freed after QUIT")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLimitPerHost(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxSessions = 50; c.MaxSessionsPerHost = 2 })
	dial(t, ts.addr)
	dial(t, ts.addr)
	_, r, line := dialFrom(t, "127.0.0.1", ts.addr)
	refused(t, r, line, "Too many concurrent SMTP connections from this IP address")
	// Another client address has slots of its own.
	for i := 0; i < 2; i++ {
		if _, _, line := dialFrom(t, "127.0.0.2", ts.addr); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("127.0.0.2: %q", line)
		}
	}
	_, r, line = dialFrom(t, "127.0.0.2", ts.addr)
	refused(t, r, line, "from this IP address")
}

// Behind a proxy the real client is the PROXY source: two clients behind
// one proxy address are counted apart, one client through it is counted
// as itself.
func TestLimitPerHostProxied(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxSessions = 50
		c.MaxSessionsPerHost = 2
		c.ProxyOptional = hostlist.MustParse("127.0.0.1")
		c.ProxyTimeout = 200 * time.Millisecond
	})
	via := func(src string) (*bufio.Reader, string) {
		t.Helper()
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		conn.Write(proxyHeader(t, src))
		r := bufio.NewReader(conn)
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return r, line
	}
	for _, src := range []string{"192.0.2.10:1", "192.0.2.10:2", "192.0.2.11:1", "192.0.2.11:2"} {
		if _, line := via(src); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("%s: %q", src, line)
		}
	}
	// The proxy's own address is a client with no session yet.
	if _, _, line := dialFrom(t, "127.0.0.1", ts.addr); !strings.HasPrefix(line, "220 ") {
		t.Fatalf("direct: %q", line)
	}
	r, line := via("192.0.2.10:3")
	refused(t, r, line, "from this IP address")
}

func TestLimitDataTimeout(t *testing.T) {
	ts := start(t, func(c *Config) { c.ReadTimeout = 400 * time.Millisecond; c.DataTimeout = 1500 * time.Millisecond })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.ok("DATA", 354)
	begin := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// One line well within each ReadTimeout, for ever.
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := fmt.Fprintf(c.c, "X-Drip-%d: x\r\n", i); err != nil {
				return
			}
		}
	}()
	msg := c.expect(421)
	took := time.Since(begin)
	if !strings.Contains(msg, "4.4.2") || !strings.Contains(msg, "time limit") {
		t.Errorf("reply %q", msg)
	}
	if took < 1400*time.Millisecond || took > 10*time.Second {
		t.Errorf("cut after %v, want about 1.5s", took)
	}
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("connection still open")
	}
	if n := len(ts.files(t, "")); n != 0 {
		t.Errorf("%d files", n)
	}
	waitBudget(t, ts.srv, 0)
}

// waitBudget waits until the data memory in use is want (sessions give it
// back when their transaction ends, which the client may see first only
// when the connection is cut).
func waitBudget(t *testing.T, srv *Server, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.SMTP().DataMemoryInUse() != want {
		if time.Now().After(deadline) {
			t.Fatalf("data memory in use %d, want %d", srv.SMTP().DataMemoryInUse(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// bigBody is n octets of 900-character lines.
func bigBody(n int) string {
	line := strings.Repeat("m", 898) + "\r\n"
	return strings.Repeat(line, n/len(line))
}

// Messages go to files as they arrive: what the memory budget holds
// per message is its write buffer and header copy, however large the
// body; a message that finds the budget exhausted gets 452 at DATA,
// before it is sent, and the others are delivered whole.
func TestLimitDataMemory(t *testing.T) {
	const perMsg = 36 << 10 // the write buffer (32 KiB) and the first header buffer (4 KiB)
	ts := start(t, func(c *Config) {
		c.MaxSize = 4 << 20
		c.MaxHeaderSize = 16 << 10
		c.MaxDataMemory = 2 * perMsg // room for two messages at once
		c.MaxSessions = 10
	})
	// stall sends all but the end of a message of body octets.
	stall := func(name string, body int) *client {
		c := dial(t, ts.addr)
		c.ok("EHLO "+name+".test", 250)
		c.ok("MAIL FROM:<"+name+"@sender.test>", 250)
		c.ok("RCPT TO:<bob@example.com>", 250)
		c.ok("DATA", 354)
		io.WriteString(c.c, "Subject: "+name+"\r\n\r\n"+bigBody(body))
		return c
	}
	// The session may still be writing what it read; the reservation
	// is made before the first octet, so it is exact at once.
	settle := func(want int64) {
		deadline := time.Now().Add(10 * time.Second)
		for ts.srv.SMTP().DataMemoryInUse() != want {
			if time.Now().After(deadline) {
				t.Fatalf("data memory in use %d, want %d", ts.srv.SMTP().DataMemoryInUse(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// A holds 3 MB of a message: its share stays one message's buffers.
	a := stall("a", 3_000_000)
	settle(perMsg)
	// C, small, gets through while A holds its share.
	cl := dial(t, ts.addr)
	cl.ok("EHLO c.test", 250)
	if code, msg := cl.send("c@sender.test", []string{"bob@example.com"}, "Subject: c\n\nsmall\n"); code != 250 {
		t.Fatalf("C: %d %q", code, msg)
	}
	settle(perMsg)
	d := stall("d", 1_000_000)
	settle(2 * perMsg)

	// B finds the budget taken: 452 at DATA, before any data.
	b := dial(t, ts.addr)
	b.ok("EHLO b.test", 250)
	b.ok("MAIL FROM:<b@sender.test> SIZE=900000", 250)
	b.ok("RCPT TO:<bob@example.com>", 250)
	if msg := b.ok("DATA", 452); !strings.Contains(msg, "4.3.1 Insufficient system storage") {
		t.Fatalf("B: %q, want 452 4.3.1", msg)
	}
	// A and D finish and are delivered whole.
	io.WriteString(a.c, ".\r\n")
	a.expect(250)
	io.WriteString(d.c, ".\r\n")
	d.expect(250)
	files := ts.files(t, "")
	if len(files) != 3 {
		t.Fatalf("%d files, want A, C and D", len(files))
	}
	for _, f := range files {
		if strings.Contains(f, "Subject: a") && !strings.HasSuffix(f, "\n\n"+strings.ReplaceAll(bigBody(3_000_000), "\r\n", "\n")) {
			t.Error("A's message is damaged")
		}
	}
	// B's transaction goes on once there is room.
	b.ok("RSET", 250)
	if code, msg := b.send("b@sender.test", []string{"bob@example.com"}, "Subject: b2\n\nsmall\n"); code != 250 {
		t.Errorf("B again: %d %q", code, msg)
	}
	waitBudget(t, ts.srv, 0)
}

// Every way a transaction ends gives its memory back.
func TestLimitDataMemoryNoLeak(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxSize = 200_000
		c.MaxHeaderSize = 16 << 10
		c.MaxDataMemory = smtpd.MinDataMemory(16 << 10)
		c.ReadTimeout = 300 * time.Millisecond
		c.Spool = t.TempDir()
		c.RelayFrom = hostlist.MustParse("127.0.0.1")
		c.SMTPPort = 1 // nothing listens: the queued copies just wait
	})
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	for i := 0; i < 20; i++ {
		for _, m := range []struct {
			msg  string
			want int
		}{
			{"Subject: ok\n\nfine\n", 250},
			{"Subject: big\n\n" + strings.ReplaceAll(bigBody(250_000), "\r\n", "\n"), 552},
			{"Subject: long\n\n" + strings.Repeat("l", 1200) + "\n", 554},
			{"Subject: bare\r\rx\n", 554},
			{"Subject: large\n\n" + strings.ReplaceAll(bigBody(150_000), "\r\n", "\n"), 250},
		} {
			if code, msg := c.send("a@sender.test", []string{"bob@example.com", "carol@example.org", "x@remote.test"}, m.msg); code != m.want {
				t.Fatalf("%.20q: %d %q, want %d", m.msg, code, msg, m.want)
			}
		}
	}
	if got := ts.srv.SMTP().DataMemoryInUse(); got != 0 {
		t.Errorf("after the transactions %d bytes still reserved", got)
	}
	// Sessions cut off in DATA: by the client, and by the read timeout.
	for _, cut := range []func(*client){
		func(c *client) { c.c.Close() },
		func(c *client) { c.expect(421) },
	} {
		c := dial(t, ts.addr)
		c.ok("EHLO client.test", 250)
		c.ok("MAIL FROM:<a@sender.test>", 250)
		c.ok("RCPT TO:<bob@example.com>", 250)
		c.ok("DATA", 354)
		io.WriteString(c.c, "Subject: cut\r\n\r\n"+bigBody(100_000))
		cut(c)
		waitBudget(t, ts.srv, 0)
	}
}

func TestLimitDataMemoryBelowOneMessage(t *testing.T) {
	if _, err := New(Config{Hostname: "mx.example", Domains: []string{"example.com"}, Maildir: t.TempDir(), MaxHeaderSize: 1000, MaxDataMemory: smtpd.MinDataMemory(1000) - 1}); err == nil {
		t.Error("a data memory limit below one message's buffers is accepted")
	}
}

// What was good stays good: many idle sessions cost little and are all
// served.
func TestLimitsIdleSessions(t *testing.T) {
	const n = 1000
	ts := start(t, func(c *Config) { c.MaxSessions = 2 * n; c.MaxSessionsPerHost = -1 })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, 0, n)
	readers := make([]*bufio.Reader, 0, n)
	for i := 0; i < n; i++ {
		c, r, line := dialFrom(t, "127.0.0.1", ts.addr)
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("session %d: %q", i, line)
		}
		conns, readers = append(conns, c), append(readers, r)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	t.Logf("%d idle sessions: %.1f MiB heap+stack (both ends)", n, float64(grew)/(1<<20))
	if grew > 100<<20 {
		t.Errorf("%d idle sessions take %d MiB", n, grew>>20)
	}
	for i, c := range conns {
		io.WriteString(c, "NOOP\r\n")
		if line, err := readers[i].ReadString('\n'); err != nil || !strings.HasPrefix(line, "250 ") {
			t.Fatalf("session %d: %q %v", i, line, err)
		}
	}
}

// A slowloris holding 200 connections, each dripping a byte at a time
// inside DATA, does not keep a normal client from delivering.
func TestLimitsSlowloris(t *testing.T) {
	const n = 200
	ts := start(t, func(c *Config) { c.MaxSessions = n + 10; c.MaxSessionsPerHost = -1 })
	ctx, cancel := context.WithCancel(context.Background())
	var wg, inData sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i := 0; i < n; i++ {
		c, r, line := dialFrom(t, "127.0.0.1", ts.addr)
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("slow %d: %q", i, line)
		}
		io.WriteString(c, "EHLO slow.test\r\nMAIL FROM:<s@sender.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
		wg.Add(1)
		inData.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 4; k++ {
				if _, err := r.ReadString('\n'); err != nil {
					inData.Done()
					return
				}
			}
			inData.Done()
			drip := []byte("X-Slow: a header that takes its time\r\n")
			for k := 0; ; k++ {
				select {
				case <-ctx.Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write(drip[k%len(drip) : k%len(drip)+1]); err != nil {
					return
				}
			}
		}()
	}
	inData.Wait()
	time.Sleep(500 * time.Millisecond) // let them drip a while
	begin := time.Now()
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, msg := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: normal\n\nthrough\n"); code != 250 {
		t.Fatalf("normal client: %d %q", code, msg)
	}
	took := time.Since(begin)
	t.Logf("normal message accepted in %v beside %d slow sessions", took, n)
	if took > 10*time.Second {
		t.Errorf("normal message took %v", took)
	}
	if f := ts.files(t, ""); len(f) != 1 || !strings.Contains(f[0], "through") {
		t.Errorf("files %q", f)
	}
}
