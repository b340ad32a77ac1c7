package proxyproto

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

// serve starts a Listener on loopback and calls handle for every
// connection in its own goroutine; it returns the address.
func serve(t *testing.T, cfg Config, handle func(*Conn)) string {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewListener(inner, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*Conn))
			}()
		}
	}()
	return inner.Addr().String()
}

func dial(t *testing.T, addr, send string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if send != "" {
		if _, err := io.WriteString(c, send); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, s)
	}
	return strings.TrimRight(s, "\r\n")
}

// echoInfo writes the client address and the first application line.
func echoInfo(c *Conn) {
	info, err := c.Proxy()
	if err != nil {
		io.WriteString(c, "FAILED "+c.RemoteAddr().String()+"\r\n")
		return
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	io.WriteString(c, c.RemoteAddr().String()+" "+info.ExternalAddress.String()+" "+
		strings.TrimRight(line, "\r\n")+"\r\n")
}

var loopback = hostlist.MustParse("127.0.0.1")

func TestListenerRequiredV1(t *testing.T) {
	addr := serve(t, Config{Required: loopback}, echoInfo)
	c := dial(t, addr, "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO x\r\n")
	if got, want := readLine(t, c), "192.0.2.1:56324 198.51.100.2 EHLO x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestListenerRequiredV2WithTLVs(t *testing.T) {
	done := make(chan *Info, 1)
	addr := serve(t, Config{Required: loopback}, func(c *Conn) {
		info, err := c.Proxy()
		if err != nil {
			t.Error(err)
		}
		done <- info
		buf := make([]byte, 4)
		io.ReadFull(c, buf)
		c.Write(buf)
	})
	h := &Header{Version: 2, Command: Proxy, Transport: TCP6,
		Source:      netip.MustParseAddrPort("[2001:db8::1]:1234"),
		Destination: netip.MustParseAddrPort("[2001:db8::2]:465"),
		TLVs: []TLV{{TypeCRC32C, make([]byte, 4)}, {TypeAuthority, []byte("mx.example")},
			{TypeSSL, []byte{1, 0, 0, 0, 0, 0x21, 0, 7, 'T', 'L', 'S', 'v', '1', '.', '3'}}}}
	b, err := h.Format(2)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr, string(b)+"DATA")
	info := <-done
	if info.Client != h.Source || !info.ProxySession || info.ExternalPort != 465 || info.LocalAddress.String() != "127.0.0.1" {
		t.Errorf("info %+v", info)
	}
	if a, _ := info.Header.Authority(); a != "mx.example" {
		t.Errorf("authority %q", a)
	}
	if s, ok := info.Header.SSL(); !ok || s.Version != "TLSv1.3" || s.Client != ClientSSL {
		t.Errorf("ssl %+v", s)
	}
	if _, ok := info.Header.CRC32C(); !ok {
		t.Error("no CRC32C")
	}
	buf := make([]byte, 4)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "DATA" {
		t.Errorf("payload %q %v", buf, err)
	}
}

// A host outside both lists gets no PROXY processing: its header is
// application data and its real address stays.
func TestListenerUntrustedHeaderIsData(t *testing.T) {
	addr := serve(t, Config{Required: hostlist.MustParse("192.0.2.0/24")}, echoInfo)
	c := dial(t, addr, "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n")
	got := readLine(t, c)
	if !strings.HasPrefix(got, "127.0.0.1:") || !strings.HasSuffix(got, " invalid IP PROXY TCP4 192.0.2.1 198.51.100.2 56324 25") {
		t.Errorf("got %q", got)
	}
}

func TestListenerFailureQuitOnly(t *testing.T) {
	addr := serve(t, Config{Required: loopback}, func(c *Conn) {
		info, err := c.Proxy()
		if !errors.Is(err, ErrNegotiationFailed) || !info.Failed || info.Client.IsValid() {
			t.Errorf("info %+v err %v", info, err)
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrNegotiationFailed) {
			t.Errorf("Read after failure: %v", err)
		}
		if a := c.RemoteAddr(); a.Network() != "proxy-failed" {
			t.Errorf("RemoteAddr %v", a)
		}
		io.WriteString(c, "220 mx.test ESMTP\r\n")
		if err := RefuseCommands(context.Background(), c.NetConn(), "mx.test"); err != nil {
			t.Errorf("RefuseCommands: %v", err)
		}
	})
	c := dial(t, addr, "PROXY TCP4 192.0.2.1 198.51.100.2 056324 25\r\n")
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "EHLO client\r\nMAIL FROM:<a@b>\r\nquit\r\n")
	for _, want := range []string{"220 mx.test ESMTP", RefusedReply, RefusedReply, "221 mx.test closing connection"} {
		got, err := br.ReadString('\n')
		if strings.TrimRight(got, "\r\n") != want {
			t.Errorf("got %q (%v), want %q", got, err, want)
		}
	}
}

func TestListenerOptional(t *testing.T) {
	addr := serve(t, Config{Optional: loopback, Timeout: 300 * time.Millisecond}, echoInfo)
	c := dial(t, addr, "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nHELO a\r\n")
	if got := readLine(t, c); got != "192.0.2.1:56324 198.51.100.2 HELO a" {
		t.Errorf("with header: %q", got)
	}
	c = dial(t, addr, "PRXY\r\n")
	if got := readLine(t, c); !strings.HasSuffix(got, " invalid IP PRXY") || !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("without header: %q", got)
	}
	// Silent optional peer: no header after Timeout, then data flows.
	c = dial(t, addr, "")
	time.Sleep(400 * time.Millisecond)
	io.WriteString(c, "late\r\n")
	if got := readLine(t, c); !strings.HasSuffix(got, " invalid IP late") {
		t.Errorf("silent: %q", got)
	}
}

// The caller's read deadline survives the header read, and the header
// timeout does not leak into later reads.
func TestListenerDeadlines(t *testing.T) {
	res := make(chan error, 2)
	addr := serve(t, Config{Required: loopback, Timeout: 200 * time.Millisecond}, func(c *Conn) {
		if _, err := c.Proxy(); err != nil {
			res <- err
			return
		}
		// The 200ms header deadline must be gone: data comes at 400ms.
		buf := make([]byte, 1)
		_, err := c.Read(buf)
		res <- err
		// Caller deadline set after the handshake works as usual.
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err = c.Read(buf)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			res <- errors.New("deadline not applied: " + errString(err))
			return
		}
		res <- nil
	})
	c := dial(t, addr, "PROXY UNKNOWN\r\n")
	time.Sleep(400 * time.Millisecond)
	io.WriteString(c, "x")
	for range 2 {
		if err := <-res; err != nil {
			t.Error(err)
		}
	}

	// A deadline set before the handshake is restored afterwards.
	got := make(chan error, 1)
	addr = serve(t, Config{Required: loopback, Timeout: time.Second}, func(c *Conn) {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		start := time.Now()
		if _, err := c.Proxy(); err != nil {
			got <- err
			return
		}
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 900*time.Millisecond {
			got <- errors.New("caller deadline lost: " + errString(err))
			return
		}
		got <- nil
	})
	dial(t, addr, "PROXY UNKNOWN\r\n")
	if err := <-got; err != nil {
		t.Error(err)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestListenerContextCancel(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, Config{Required: loopback, Timeout: 10 * time.Second}, func(c *Conn) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.Handshake(ctx)
		got <- err
	})
	dial(t, addr, "PROXY TCP4 ")
	select {
	case err := <-got:
		if !errors.Is(err, ErrNegotiationFailed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("context did not abort the header read")
	}
}

// Slowloris: many peers connect and send nothing. Accept keeps going,
// a good client is served at once, and each idle connection is failed
// and closed when the header timeout expires.
func TestListenerSlowloris(t *testing.T) {
	const idle = 300
	const timeout = 300 * time.Millisecond
	var failed atomic.Int32
	addr := serve(t, Config{Required: loopback, Timeout: timeout}, func(c *Conn) {
		if _, err := c.Proxy(); err != nil {
			failed.Add(1)
			return // closes
		}
		io.WriteString(c, "250 "+c.RemoteAddr().String()+"\r\n")
	})
	start := time.Now()
	conns := make([]net.Conn, idle)
	for i := range conns {
		conns[i] = dial(t, addr, "")
	}
	good := dial(t, addr, "PROXY TCP4 203.0.113.9 198.51.100.2 1111 25\r\n")
	if got := readLine(t, good); got != "250 203.0.113.9:1111" {
		t.Errorf("good client got %q", got)
	}
	if d := time.Since(start); d >= timeout+200*time.Millisecond {
		t.Logf("good client served after %v (dialing %d idle peers took most of it)", d, idle)
	}
	var wg sync.WaitGroup
	var closed atomic.Int32
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
				closed.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if int(closed.Load()) != idle {
		t.Errorf("%d of %d idle connections closed by the server", closed.Load(), idle)
	}
	if elapsed > timeout+3*time.Second {
		t.Errorf("idle connections closed after %v, timeout %v", elapsed, timeout)
	}
	t.Logf("%d idle peers failed and closed within %v (timeout %v)", failed.Load(), elapsed.Round(time.Millisecond), timeout)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestReplyFor(t *testing.T) {
	for line, quit := range map[string]bool{"QUIT": true, "quit": true, "Quit now": true, "QUITX": false, "EHLO x": false, "HELO": false, "": false} {
		r, q := ReplyFor(line, "mx")
		if q != quit || (!quit && r != RefusedReply) || (quit && r != "221 mx closing connection") {
			t.Errorf("%q: %q %v", line, r, q)
		}
	}
}
