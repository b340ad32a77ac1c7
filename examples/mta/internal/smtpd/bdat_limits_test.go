package smtpd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// bdatConn is a raw client of a Server started by startLimits.
type bdatConn struct {
	t  *testing.T
	c  net.Conn
	tp *textproto.Conn
}

// startLimits serves cfg (a paramBackend, the test's hostname and a
// quiet logger added) on 127.0.0.1 and returns the server and a dial
// function that says EHLO.
func startLimits(t *testing.T, cfg Config) (*Server, func() *bdatConn) {
	t.Helper()
	cfg.Hostname, cfg.Backend = "mx.example", &paramBackend{}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return srv, func() *bdatConn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		t.Cleanup(func() { c.Close() })
		b := &bdatConn{t: t, c: c, tp: textproto.NewConn(c)}
		b.expect(220)
		b.cmd("EHLO client.test", 250)
		return b
	}
}

func (b *bdatConn) expect(code int) string {
	b.t.Helper()
	got, msg, err := b.tp.ReadResponse(0)
	if got != code {
		b.t.Fatalf("got %d %q (%v), want %d", got, msg, err, code)
	}
	return msg
}

func (b *bdatConn) cmd(line string, code int) string {
	b.t.Helper()
	if _, err := io.WriteString(b.c, line+"\r\n"); err != nil {
		b.t.Fatal(err)
	}
	return b.expect(code)
}

// chunk sends "BDAT n" and data, which may be shorter than n.
func (b *bdatConn) chunk(n int, data string) {
	b.t.Helper()
	if _, err := fmt.Fprintf(b.c, "BDAT %d\r\n%s", n, data); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bdatConn) begin() {
	b.t.Helper()
	b.cmd("MAIL FROM:<a@sender.test>", 250)
	b.cmd("RCPT TO:<b@example.com>", 250)
}

// waitMemory waits for the sessions to give their data memory back.
func waitMemory(t *testing.T, srv *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.DataMemoryInUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("data memory in use: %d", srv.DataMemoryInUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// When the budget has no room for a first chunk, the chunk is read
// and dropped with 452; one cut short by the read timeout ends the
// session, as its octets must never be read as commands.
func TestBDATNoMemory(t *testing.T) {
	const max = 1000
	// Room for exactly two messages' first buffers.
	_, dial := startLimits(t, Config{MaxSize: max, MaxHeaderSize: 1024, MaxDataMemory: 2 * (dataWriteBuf + headerInitial), ReadTimeout: 300 * time.Millisecond})
	for range 2 {
		h := dial()
		h.begin()
		h.chunk(6, "held\r\n")
		h.expect(250)
	}
	c := dial()
	c.begin()
	c.chunk(10, "RSET\r\nNOOP")
	if msg := c.expect(452); !strings.Contains(msg, "4.3.1") {
		t.Errorf("452 %q", msg)
	}
	c.cmd("NOOP", 250) // the chunk's RSET did not run: no 250 for it
	c.begin()
	c.chunk(100, "RSET\r\n")
	if msg := c.expect(421); !strings.Contains(msg, "timeout") {
		t.Errorf("chunk cut short: 421 %q", msg)
	}
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("session goes on after a chunk cut short")
	}
}

// A BDAT transfer has DataTimeout as a whole, between chunks too, and
// its deadline ends with it: after RSET later commands are not cut.
func TestBDATDataTimeout(t *testing.T) {
	_, dial := startLimits(t, Config{ReadTimeout: 10 * time.Second, DataTimeout: 300 * time.Millisecond})
	c := dial()
	c.begin()
	c.chunk(5, "abc\r\n")
	c.expect(250)
	c.cmd("RSET", 250)
	time.Sleep(600 * time.Millisecond)
	c.cmd("NOOP", 250)
	c.begin()
	c.chunk(7, "x: y\r\n\r")
	c.expect(250)
	c.chunk(3, "\nz\r")
	c.expect(250)
	c.chunk(1, "\n")
	c.expect(250)
	// Past the transfer's time limit the server waits for no more.
	time.Sleep(600 * time.Millisecond)
	if msg := c.expect(421); !strings.Contains(msg, "4.4.2") || !strings.Contains(msg, "time limit") {
		t.Errorf("421 %q", msg)
	}
}

// A chunk without a transaction is read and dropped within DataTimeout
// too, however steadily it drips.
func TestBDATDiscardDataTimeout(t *testing.T) {
	srv, dial := startLimits(t, Config{ReadTimeout: 10 * time.Second, DataTimeout: 300 * time.Millisecond})
	c := dial()
	c.chunk(1<<30, "")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := io.WriteString(c.c, "MAIL FROM:<x@y>\r\n"); err != nil {
				return
			}
		}
	}()
	if msg := c.expect(421); !strings.Contains(msg, "time limit") {
		t.Errorf("421 %q", msg)
	}
	waitMemory(t, srv)
}

// The size limit ends the transfer at the chunk that passes it, also
// when the message is already doomed by a bare LF (which alone would
// wait for LAST), so a refused message cannot keep the server reading.
func TestBDATSizeAfterBareLF(t *testing.T) {
	srv, dial := startLimits(t, Config{MaxSize: 2000})
	c := dial()
	c.begin()
	c.chunk(8, "bare\nlf\n")
	c.expect(250)
	big := strings.Repeat("y\r\n", 700)
	c.chunk(len(big), big)
	if msg := c.expect(552); !strings.Contains(msg, "5.3.4") {
		t.Errorf("552 %q", msg)
	}
	c.chunk(0, "")
	c.expect(503) // the transaction is over
	// A message of MaxSize octets without its final CRLF has no room
	// for it: too big, not a memory shortage.
	c.begin()
	line := strings.Repeat("z", 900) + "\r\n"
	exact := line + line + strings.Repeat("z", 2000-2*len(line))
	fmt.Fprintf(c.c, "BDAT %d LAST\r\n%s", len(exact), exact)
	if msg := c.expect(552); !strings.Contains(msg, "5.3.4") {
		t.Errorf("MaxSize without the final CRLF: %q", msg)
	}
	waitMemory(t, srv)
}
