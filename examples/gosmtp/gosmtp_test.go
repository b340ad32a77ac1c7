package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/proxyproto"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/srs"
)

type delivery struct {
	from string
	to   []string
	msg  []byte
}

type fixture struct {
	addr string
	key  ed25519.PrivateKey
	rw   *srs.Rewriter

	mu  sync.Mutex
	got []delivery
}

func (f *fixture) deliveries() []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivery(nil), f.got...)
}

// proxyHost is the loopback address the server treats as a proxy that
// must send a PROXY header (-proxy-required).
const proxyHost = "127.0.0.2"

// start runs the server on 127.0.0.1 with DNS from a resolvertest zone,
// the way main wires it, with deliveries collected by the fixture.
func start(t *testing.T) *fixture {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	zone := resolvertest.MustParseZone(t, fmt.Sprintf(`
$ORIGIN test.
$TTL 300
good                TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.good         TXT "v=DMARC1; p=reject"
sel._domainkey.good TXT "v=DKIM1; k=ed25519; p=%s"
other               TXT "v=spf1 ip4:127.0.0.1 -all"
fail                TXT "v=spf1 -all"
proxied             TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.proxied      TXT "v=DMARC1; p=reject"
`, base64.StdEncoding.EncodeToString(pub)))
	dns := resolvertest.Start(t, zone)
	res, err := resolver.New(resolver.WithNameservers(dns.Addr), resolver.WithCache(100))
	if err != nil {
		t.Fatal(err)
	}
	rw, err := srs.New(srs.Config{Domain: "fwd.test", Secrets: []string{"test secret"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{key: key, rw: rw}
	be := &Backend{
		Hostname: "mx.test",
		Resolver: res,
		SRS:      rw,
		Forward:  map[string]string{"fwd@mx.test": "alice@elsewhere.test"},
		Deliver: func(from string, to []string, msg []byte) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.got = append(f.got, delivery{from, to, msg})
			return nil
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := proxyproto.NewListener(ln, proxyproto.Config{
		Required: hostlist.MustParse(proxyHost), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(be)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(proxyListener{pl, "mx.test"}) }()
	t.Cleanup(func() { srv.Close(); <-done })
	f.addr = ln.Addr().String()
	return f
}

// dial connects from 127.0.0.1, or from proxyHost.
func (f *fixture) dial(t *testing.T, fromProxy bool) net.Conn {
	t.Helper()
	var d net.Dialer
	if fromProxy {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(proxyHost)}
	}
	c, err := d.Dial("tcp", f.addr)
	if err != nil {
		if fromProxy {
			t.Skipf("cannot connect from %s: %v", proxyHost, err)
		}
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// send runs one transaction with go-smtp's client; an error names the
// command that failed.
func send(conn net.Conn, from string, to []string, msg []byte) error {
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("MAIL: %w", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return fmt.Errorf("RCPT: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}

// wantRefused checks that err is code at command cmd, with text in the reply.
func wantRefused(t *testing.T, err error, cmd string, code int, text string) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), cmd+":") || se.Code != code || !strings.Contains(se.Message, text) {
		t.Fatalf("got %v, want %d at %s containing %q", err, code, cmd, text)
	}
}

func message(from string) []byte {
	return []byte("From: " + from + "\r\nTo: bob@mx.test\r\nSubject: test\r\n" +
		"Date: Mon, 2 Jan 2006 15:04:05 +0000\r\nMessage-ID: <1@client.test>\r\n\r\nHello.\r\n")
}

func (f *fixture) sign(t *testing.T, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := dkim.Sign(&b, bytes.NewReader(msg), &dkim.SignOptions{Domain: "good.test", Selector: "sel", Signer: f.key}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func header(t *testing.T, msg []byte) mail.Header {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header
}

func TestPassStoredWithHeaders(t *testing.T) {
	f := start(t)
	msg := f.sign(t, message("Alice <alice@good.test>"))
	if err := send(f.dial(t, false), "alice@good.test", []string{"bob@mx.test"}, msg); err != nil {
		t.Fatal(err)
	}
	got := f.deliveries()
	if len(got) != 1 || got[0].from != "alice@good.test" || strings.Join(got[0].to, ",") != "bob@mx.test" {
		t.Fatalf("deliveries %+v", got)
	}
	if !bytes.HasSuffix(got[0].msg, msg) {
		t.Error("stored message does not end with the message sent")
	}
	h := header(t, got[0].msg)
	if spf := h.Get("Received-SPF"); !strings.HasPrefix(spf, "pass ") || !strings.Contains(spf, "client-ip=127.0.0.1;") ||
		!strings.Contains(spf, "envelope-from=alice@good.test;") || !strings.Contains(spf, "receiver=mx.test;") {
		t.Errorf("Received-SPF: %s", spf)
	}
	ar := h.Get("Authentication-Results")
	for _, want := range []string{"mx.test;", "spf=pass smtp.mailfrom=good.test", "dkim=pass header.d=good.test header.s=sel header.a=ed25519-sha256", "dmarc=pass header.from=good.test"} {
		if !strings.Contains(ar, want) {
			t.Errorf("Authentication-Results: %s\nmissing %q", ar, want)
		}
	}
}

func TestSPFFailRefusedAtMAIL(t *testing.T) {
	f := start(t)
	err := send(f.dial(t, false), "mallory@fail.test", []string{"bob@mx.test"}, message("mallory@fail.test"))
	wantRefused(t, err, "MAIL", 550, "Reason: mechanism")
	// Without a PROXY header 127.0.0.1 is not proxied.test's client either.
	err = send(f.dial(t, false), "bob@proxied.test", []string{"bob@mx.test"}, message("bob@proxied.test"))
	wantRefused(t, err, "MAIL", 550, "Reason: mechanism")
	if got := f.deliveries(); len(got) != 0 {
		t.Errorf("delivered %+v", got)
	}
}

func TestDMARCRejectRefusedAtDATA(t *testing.T) {
	f := start(t)
	// SPF passes for other.test (not aligned with good.test) and the
	// good.test signature breaks: the body changed after signing.
	msg := bytes.Replace(f.sign(t, message("CEO <ceo@good.test>")), []byte("Hello."), []byte("Pay me."), 1)
	err := send(f.dial(t, false), "bounce@other.test", []string{"bob@mx.test"}, msg)
	wantRefused(t, err, "DATA", 550, "DMARC policy for good.test")
	if got := f.deliveries(); len(got) != 0 {
		t.Errorf("delivered %+v", got)
	}
}

func TestProxyHeaderGivesClientToSPF(t *testing.T) {
	f := start(t)
	conn := f.dial(t, true)
	if _, err := conn.Write([]byte("PROXY TCP4 192.0.2.10 127.0.0.1 40000 25\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := send(conn, "bob@proxied.test", []string{"bob@mx.test"}, message("bob@proxied.test")); err != nil {
		t.Fatal(err)
	}
	got := f.deliveries()
	if len(got) != 1 {
		t.Fatalf("deliveries %+v", got)
	}
	h := header(t, got[0].msg)
	if spf := h.Get("Received-SPF"); !strings.HasPrefix(spf, "pass ") || !strings.Contains(spf, "client-ip=192.0.2.10;") {
		t.Errorf("Received-SPF: %s", spf)
	}
	if ar := h.Get("Authentication-Results"); !strings.Contains(ar, "dmarc=pass header.from=proxied.test") {
		t.Errorf("Authentication-Results: %s", ar)
	}
}

func TestProxyRequiredWithoutHeaderGets503(t *testing.T) {
	f := start(t)
	c := textproto.NewConn(f.dial(t, true))
	defer c.Close()
	// The client waits for the banner; the server waits for the header
	// until proxyproto's timeout, then answers as Exim does.
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"EHLO client.test", "HELO client.test", "MAIL FROM:<alice@good.test>", "NOOP", "RSET", "quit-ish"} {
		id, err := c.Cmd("%s", cmd)
		if err != nil {
			t.Fatal(err)
		}
		c.StartResponse(id)
		code, msg, err := c.ReadResponse(503)
		c.EndResponse(id)
		if err != nil || "503 "+msg != proxyproto.RefusedReply {
			t.Errorf("%s: %d %s (%v), want %s", cmd, code, msg, err, proxyproto.RefusedReply)
		}
	}
	id, _ := c.Cmd("QUIT")
	c.StartResponse(id)
	if _, _, err := c.ReadResponse(221); err != nil {
		t.Errorf("QUIT: %v", err)
	}
	c.EndResponse(id)
	if line, err := c.ReadLine(); err == nil {
		t.Errorf("after QUIT: %q, want the connection closed", line)
	}
}

func TestForwardGetsSRSSender(t *testing.T) {
	f := start(t)
	msg := f.sign(t, message("Alice <alice@good.test>"))
	if err := send(f.dial(t, false), "alice@good.test", []string{"bob@mx.test", "FWD@mx.test"}, msg); err != nil {
		t.Fatal(err)
	}
	var fwd, local []delivery
	for _, d := range f.deliveries() {
		if strings.Join(d.to, ",") == "alice@elsewhere.test" {
			fwd = append(fwd, d)
		} else {
			local = append(local, d)
		}
	}
	if len(local) != 1 || local[0].from != "alice@good.test" || strings.Join(local[0].to, ",") != "bob@mx.test" {
		t.Errorf("local deliveries %+v", local)
	}
	if len(fwd) != 1 || !strings.HasPrefix(fwd[0].from, "SRS0=") || !strings.HasSuffix(fwd[0].from, "@fwd.test") {
		t.Fatalf("forwarded %+v", fwd)
	}
	if orig, err := f.rw.Reverse(fwd[0].from); err != nil || orig != "alice@good.test" {
		t.Errorf("Reverse(%s) = %q, %v", fwd[0].from, orig, err)
	}
	if h := header(t, fwd[0].msg); !strings.Contains(h.Get("Authentication-Results"), "dmarc=pass") {
		t.Errorf("forwarded message lacks the verdict: %s", h.Get("Authentication-Results"))
	}
	// A bounce (null sender) is forwarded with its null sender.
	if err := send(f.dial(t, false), "", []string{"fwd@mx.test"}, msg); err != nil {
		t.Fatal(err)
	}
	if got := f.deliveries(); len(got) != 3 || got[2].from != "" || strings.Join(got[2].to, ",") != "alice@elsewhere.test" {
		t.Errorf("bounce forwarded as %+v", got[len(got)-1])
	}
}
