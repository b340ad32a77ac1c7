package remote

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/smtp"
)

// peer is a real SMTP server on 127.0.0.1 for the courier's tests: it
// accepts everything unless told otherwise, and records what it saw.
type peer struct {
	t    testing.TB
	addr string // where to listen ("": 127.0.0.1, any port)
	ln   net.Listener
	wg   sync.WaitGroup

	// hold, when set, keeps each new session before its greeting
	// until it is closed; reached gets a value for each session held.
	hold    chan struct{}
	reached chan struct{}
	// greeting replaces "220 peer.test ESMTP".
	greeting string
	// rcpt returns the reply line to a RCPT ("": 250).
	rcpt func(addr string) string
	// hangUp: after answering RSET, the server closes the connection
	// (as one whose idle timeout is shorter than ours).
	hangUp bool
	// ext are more EHLO keywords (PIPELINING, CHUNKING: both served).
	ext []string
	// cert, when set, makes the server offer STARTTLS and present it;
	// starttls replaces the 220 reply to STARTTLS (a refusal).
	cert     *tls.Certificate
	starttls string

	mu       sync.Mutex
	conns    int
	sessions map[int][]string // commands per connection
	msgs     []peerMsg
}

type peerMsg struct {
	conn      int
	tls       bool // received over TLS
	pipelined bool // RCPT was sent before MAIL's reply
	bdat      bool
	from      string
	rcpts     []string
	size      int64
	head      string // the first 4 KiB
}

func startPeer(t testing.TB, p *peer) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", cmp.Or(p.addr, "127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	p.t, p.ln, p.sessions = t, ln, map[int][]string{}
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
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *peer) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *peer) messages() []peerMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]peerMsg(nil), p.msgs...)
}

func (p *peer) connCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns
}

// commands is what connection n sent, one verb (and argument) a line.
func (p *peer) commands(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sessions[n]...)
}

func (p *peer) serve(c net.Conn) {
	defer c.Close()
	p.mu.Lock()
	p.conns++
	n := p.conns
	p.mu.Unlock()
	if p.hold != nil {
		if p.reached != nil {
			p.reached <- struct{}{}
		}
		<-p.hold
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	w := func(lines ...string) {
		for _, l := range lines {
			fmt.Fprintf(c, "%s\r\n", l)
		}
	}
	g := p.greeting
	if g == "" {
		g = "220 peer.test ESMTP"
	}
	w(g)
	if !strings.HasPrefix(g, "220") {
		return
	}
	var m peerMsg
	tlsOn := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		p.mu.Lock()
		p.sessions[n] = append(p.sessions[n], line)
		p.mu.Unlock()
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-peer.test", "250-SIZE 100000000", "250-8BITMIME"}
			if p.cert != nil && !tlsOn {
				lines = append(lines, "250-STARTTLS")
			}
			for _, e := range p.ext {
				lines = append(lines, "250-"+e)
			}
			w(append(lines, "250 ENHANCEDSTATUSCODES")...)
		case "STARTTLS":
			if p.starttls != "" || p.cert == nil || tlsOn {
				w(cmp.Or(p.starttls, "503 5.5.1 no TLS here"))
				continue
			}
			w("220 2.0.0 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*p.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, br, tlsOn = tc, bufio.NewReader(tc), true
		case "MAIL":
			path, _ := smtp.ParsePath(strings.TrimPrefix(arg, "FROM:"))
			m = peerMsg{conn: n, from: path.Mailbox, pipelined: br.Buffered() > 0, tls: tlsOn}
			w("250 2.1.0 OK")
		case "RCPT":
			path, _ := smtp.ParsePath(strings.TrimPrefix(arg, "TO:"))
			rep := ""
			if p.rcpt != nil {
				rep = p.rcpt(path.Mailbox)
			}
			if rep == "" {
				m.rcpts = append(m.rcpts, path.Mailbox)
				rep = "250 2.1.5 OK"
			}
			w(rep)
		case "DATA":
			if len(m.rcpts) == 0 {
				w("554 5.5.1 no valid recipients")
				continue
			}
			w("354 go ahead")
			var head strings.Builder
			dr := smtp.NewDataReader(br)
			io.CopyN(&head, dr, 4096)
			rest, err := io.Copy(io.Discard, dr)
			if err != nil {
				return
			}
			m.size, m.head = int64(head.Len())+rest, head.String()
			p.mu.Lock()
			p.msgs = append(p.msgs, m)
			p.mu.Unlock()
			w("250 2.0.0 OK queued")
		case "BDAT":
			f := strings.Fields(arg)
			var size int64
			fmt.Sscan(f[0], &size)
			var head strings.Builder
			io.CopyN(&head, br, min(size, max(0, 4096-int64(len(m.head)))))
			rest, err := io.CopyN(io.Discard, br, size-int64(head.Len()))
			if err != nil {
				return
			}
			m.head += head.String()
			m.size += int64(head.Len()) + rest
			if len(f) > 1 && strings.EqualFold(f[1], "LAST") {
				m.bdat = true
				p.mu.Lock()
				p.msgs = append(p.msgs, m)
				p.mu.Unlock()
				w("250 2.0.0 OK queued")
			} else {
				w("250 2.0.0 chunk OK")
			}
		case "RSET":
			m = peerMsg{}
			w("250 2.0.0 OK")
			if p.hangUp {
				return
			}
		case "QUIT":
			w("221 bye")
			return
		default:
			w("250 OK")
		}
	}
}

// courierFor is a Courier whose DNS (a zone of its own) sends every
// domain of domains to one MX on 127.0.0.1, at port.
func courierFor(t testing.TB, port int, domains ...string) *Courier {
	t.Helper()
	z := resolvertest.NewZone()
	for _, d := range domains {
		z.MustAdd(t, d+". MX 10 mx."+d+".", "mx."+d+". A 127.0.0.1")
	}
	ns := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(ns.Addr), resolver.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return &Courier{Resolver: r, Hostname: "mx.example", SMTPPort: port, SMTPTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// spoolFile writes msg to a file and opens it as the runner does.
func spoolFile(t testing.TB, msg []byte) *io.SectionReader {
	t.Helper()
	name := t.TempDir() + "/m.msg"
	if err := os.WriteFile(name, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	return io.NewSectionReader(f, 0, fi.Size())
}

// chunked is an io.ReaderAt that refuses a read of more than max bytes
// at once and counts what was read: whoever wants the whole message at
// once (io.ReadAll, os.ReadFile's growing buffer) fails.
type chunked struct {
	r    io.ReaderAt
	max  int
	mu   sync.Mutex
	read int64
	big  int // largest read asked for
}

var errBigRead = errors.New("read larger than the bound")

func (c *chunked) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.big = max(c.big, len(p))
	c.mu.Unlock()
	if len(p) > c.max {
		return 0, &fs.PathError{Op: "read", Path: "spool", Err: errBigRead}
	}
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	c.read += int64(n)
	c.mu.Unlock()
	return n, err
}

func envelope(id, from string, rcpts ...string) *queue.Envelope {
	env := &queue.Envelope{ID: id, From: from, Arrival: time.Now()}
	for _, r := range rcpts {
		env.Rcpts = append(env.Rcpts, &queue.Recipient{Addr: r, State: queue.Pending})
	}
	return env
}

// delivery is the unit of work the runner would make of env's pending
// recipients (one destination in these tests).
func delivery(env *queue.Envelope, msg *io.SectionReader) *queue.Delivery {
	d := &queue.Delivery{Env: env, Msg: msg, Waiting: func() bool { return false }}
	for _, r := range env.Rcpts {
		if r.State == queue.Pending {
			d.Rcpts = append(d.Rcpts, r)
		}
	}
	return d
}

var _ = context.Background

func ipOf(t testing.TB, s string) netip.Addr {
	t.Helper()
	ip, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return ip
}
