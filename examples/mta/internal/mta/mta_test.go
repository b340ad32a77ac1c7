package mta

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/mailpolicy/mailpolicy/bmi"
	"github.com/mailpolicy/mailpolicy/dcc"
	"github.com/mailpolicy/mailpolicy/dcc/dcctest"
	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/maildir"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/proxyproto"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/miekg/dns"
)

// syncBuffer is a log destination shared by session goroutines.
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

var dkimKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

// testZone: sender.test publishes SPF (127.0.0.1 and 192.0.2.10), an
// Ed25519 DKIM key and DMARC p=reject; fail.test has "-all".
func testZone(t testing.TB) *resolvertest.Server {
	z := resolvertest.NewZone()
	pub := base64.StdEncoding.EncodeToString(dkimKey.Public().(ed25519.PublicKey))
	z.MustAdd(t,
		`sender.test. TXT "v=spf1 ip4:127.0.0.1 ip4:192.0.2.10 -all"`,
		`sel._domainkey.sender.test. TXT "v=DKIM1; k=ed25519; p=`+pub+`"`,
		`_dmarc.sender.test. TXT "v=DMARC1; p=reject"`,
		`fail.test. TXT "v=spf1 -all"`,
		`tempfail.test. TXT "v=spf1 -all"`,
	)
	z.SetRcode("_dmarc.tempfail.test", 0, dns.RcodeServerFailure)
	return resolvertest.Start(t, z)
}

type testServer struct {
	srv  *Server
	addr string
	dir  string
	logs *syncBuffer
	bus  *events.Bus
	done chan error
}

// start runs a server on 127.0.0.1:0 with a temporary maildir and the
// test zone; mod adjusts the configuration.
func start(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, ln, mod)
}

// startOn is start on a listener of the caller's.
func startOn(t testing.TB, ln net.Listener, mod func(*Config)) *testServer {
	t.Helper()
	ns := testZone(t)
	ts := &testServer{dir: t.TempDir(), logs: &syncBuffer{}, bus: &events.Bus{Timeout: -1}, done: make(chan error, 1)}
	cfg := Config{
		Hostname:    "mx.example",
		Domains:     []string{"example.com", "example.org"},
		Maildir:     ts.dir,
		Resolver:    nsResolver(t, ns.Addr),
		Bus:         ts.bus,
		ReadTimeout: 10 * time.Second,
		Logger:      slog.New(slog.NewTextHandler(ts.logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.addr = srv, ln.Addr().String()
	go func() { ts.done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

// client is a raw SMTP client.
type client struct {
	t  *testing.T
	c  net.Conn
	tp *textproto.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, c, true)
}

func newClient(t *testing.T, c net.Conn, banner bool) *client {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	cl := &client{t: t, c: c, tp: textproto.NewConn(c)}
	t.Cleanup(func() { c.Close() })
	if banner {
		cl.expect(220)
	}
	return cl
}

// read reads one reply.
func (c *client) read() (int, string) {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	return code, msg
}

func (c *client) expect(want int) string {
	c.t.Helper()
	code, msg := c.read()
	if code != want {
		c.t.Fatalf("got %d %q, want %d", code, msg, want)
	}
	return msg
}

// cmd sends one line and returns the reply.
func (c *client) cmd(line string) (int, string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

func (c *client) ok(line string, want int) string {
	c.t.Helper()
	code, msg := c.cmd(line)
	if code != want {
		c.t.Fatalf("%q: got %d %q, want %d", line, code, msg, want)
	}
	return msg
}

// send runs a whole transaction and returns the end-of-data reply.
func (c *client) send(from string, to []string, msg string) (int, string) {
	c.t.Helper()
	c.ok("MAIL FROM:<"+from+">", 250)
	for _, r := range to {
		c.ok("RCPT TO:<"+r+">", 250)
	}
	c.ok("DATA", 354)
	io.WriteString(c.c, strings.ReplaceAll(msg, "\n", "\r\n")+".\r\n")
	return c.read()
}

// files returns the contents of the messages in folder's new/ ("" inbox).
func (ts *testServer) files(t *testing.T, folder string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(ts.dir, folder, "new"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(ts.dir, folder, "new", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// headerOf returns the unfolded field name: of a stored message.
func headerOf(msg, name string) string {
	hdr, _, _ := strings.Cut(msg, "\n\n")
	var out []string
	for _, f := range strings.Split(strings.ReplaceAll(hdr, "\n\t", " "), "\n") {
		if k, v, ok := strings.Cut(f, ":"); ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return strings.Join(out, "\n")
}

func signed(t *testing.T, msg string) string {
	t.Helper()
	var b bytes.Buffer
	err := dkim.Sign(&b, strings.NewReader(strings.ReplaceAll(msg, "\n", "\r\n")), &dkim.SignOptions{
		Domain: "sender.test", Selector: "sel", Signer: dkimKey, Hash: crypto.SHA256,
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

const plainMsg = "From: Alice <alice@sender.test>\nTo: bob@example.com\nSubject: hello\n\nHello Bob.\n"

func TestSPFDKIMDMARCPass(t *testing.T) {
	ts := start(t, func(c *Config) { c.SPFLocalhostPass = false })
	c := dial(t, ts.addr)
	ehlo := c.ok("EHLO client.test", 250)
	for _, kw := range []string{"PIPELINING", "8BITMIME", "SIZE", "PRDR", "ENHANCEDSTATUSCODES"} {
		if !strings.Contains(ehlo, kw) {
			t.Errorf("EHLO reply %q lacks %s", ehlo, kw)
		}
	}
	code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg))
	if code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	c.ok("QUIT", 221)
	files := ts.files(t, "")
	if len(files) != 1 {
		t.Fatalf("%d files delivered", len(files))
	}
	f := files[0]
	for name, want := range map[string]string{
		"Received":               "from client.test ([127.0.0.1]) by mx.example with ESMTP (mailpolicy) (envelope-from <alice@sender.test>) id ",
		"Received-SPF":           "pass (mx.example: domain of sender.test designates 127.0.0.1 as permitted sender)",
		"Authentication-Results": "mx.example;",
		"Envelope-to":            "bob@example.com",
		"Return-path":            "<alice@sender.test>",
	} {
		if got := headerOf(f, name); !strings.Contains(got, want) {
			t.Errorf("%s: %q lacks %q", name, got, want)
		}
	}
	if got := headerOf(f, "Received"); !strings.Contains(got, "for <bob@example.com>;") {
		t.Errorf("Received: %q lacks the for clause", got)
	}
	ar := headerOf(f, "Authentication-Results")
	for _, w := range []string{"spf=pass smtp.mailfrom=sender.test", "dkim=pass ", "header.d=sender.test header.s=sel", "dmarc=pass header.from=sender.test"} {
		if !strings.Contains(ar, w) {
			t.Errorf("Authentication-Results %q lacks %q", ar, w)
		}
	}
	if !strings.Contains(f, "\n\nHello Bob.\n") || strings.Contains(f, "\r") {
		t.Errorf("stored message:\n%s", f)
	}
}

// TestForgedAuthResultsRemoved: incoming Authentication-Results fields
// claiming our hostname go (RFC 8601 §5), whatever their case or
// shape; other servers' stay; ours is added.
func TestForgedAuthResultsRemoved(t *testing.T) {
	ts := start(t, func(c *Config) { c.SPFLocalhostPass = false })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	msg := "Authentication-Results: MX.EXAMPLE; dkim=pass header.d=bank.test\n" +
		"Authentication-Results: other.test; spf=pass smtp.mailfrom=sender.test\n" +
		"Authentication-Results: (forged)\n\tmx.example; dmarc=pass header.from=bank.test\n" + plainMsg
	if code, text := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, msg)); code != 250 {
		t.Fatalf("end of data: %d %s", code, text)
	}
	c.ok("QUIT", 221)
	files := ts.files(t, "")
	if len(files) != 1 {
		t.Fatalf("%d files delivered", len(files))
	}
	ar := strings.Split(headerOf(files[0], "Authentication-Results"), "\n")
	if len(ar) != 2 || !strings.HasPrefix(ar[0], "mx.example; iprev=fail smtp.remote-ip=127.0.0.1; spf=pass") || !strings.Contains(ar[0], "dkim=pass") ||
		ar[1] != "other.test; spf=pass smtp.mailfrom=sender.test" || strings.Contains(files[0], "bank.test") {
		t.Errorf("Authentication-Results fields %q in\n%s", ar, files[0])
	}
	if !strings.HasSuffix(files[0], "\n\nHello Bob.\n") {
		t.Errorf("body changed:\n%s", files[0])
	}
}

func TestSPFFail(t *testing.T) {
	ts := start(t, func(c *Config) { c.SPFLocalhostPass = false })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, _ := c.send("someone@fail.test", []string{"bob@example.com"}, "Subject: x\n\nbody\n"); code != 250 {
		t.Fatalf("code %d", code)
	}
	f := ts.files(t, "")
	if len(f) != 1 || !strings.HasPrefix(headerOf(f[0], "Received-SPF"), "fail ") {
		t.Fatalf("files %q", f)
	}
	if ar := headerOf(f[0], "Authentication-Results"); !strings.Contains(ar, "spf=fail") {
		t.Errorf("AR %q", ar)
	}
}

func TestDMARCEnforce(t *testing.T) {
	ts := start(t, func(c *Config) { c.SPFLocalhostPass = false; c.DMARCEnforce = true })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	// From: sender.test (p=reject), no signature, SPF for another domain.
	code, msg := c.send("x@fail.test", []string{"bob@example.com"}, plainMsg)
	if code != 550 || !strings.Contains(msg, "5.7.1") || !strings.Contains(msg, "DMARC") {
		t.Fatalf("got %d %q, want 550 DMARC", code, msg)
	}
	// The signed one passes.
	if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatalf("signed: %d %q", code, msg)
	}
	// A DNS failure for the DMARC record defers.
	code, msg = c.send("x@tempfail.test", []string{"bob@example.com"}, "From: x@tempfail.test\nSubject: t\n\nx\n")
	if code != 451 {
		t.Errorf("temperror: got %d %q, want 451", code, msg)
	}
	if n := len(ts.files(t, "")); n != 1 {
		t.Errorf("%d files", n)
	}
}

func TestDMARCHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	ts := start(t, func(c *Config) {
		h, err := dmarc.OpenHistory(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		c.History = h
	})
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg))
	c.ok("QUIT", 221)
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "from sender.test") || !strings.Contains(string(b), "reporter mx.example") {
		t.Errorf("history:\n%s", b)
	}
}

func TestRecipientsAndErrors(t *testing.T) {
	ts := start(t, func(c *Config) { c.Users = []string{"bob"}; c.MaxErrors = 20 })
	var mu sync.Mutex
	var got []events.Event
	ts.bus.Subscribe(events.Prefix("smtp:fail:"), func(_ context.Context, ev *events.Event) (string, error) {
		mu.Lock()
		got = append(got, *ev)
		mu.Unlock()
		return "", nil
	})
	c := dial(t, ts.addr)
	c.ok("MAIL FROM:<a@sender.test>", 503) // before EHLO
	c.ok("EHLO", 501)
	c.ok("EHLO client.test", 250)
	c.ok("RCPT TO:<bob@example.com>", 503) // before MAIL
	c.ok("DATA", 503)
	c.ok("MAIL FROM:a@sender.test", 501)
	c.ok("MAIL FROM:<a@@sender.test>", 501)
	c.ok("MAIL FROM:<a@sender.test> FOO=BAR", 555)
	c.ok("BLAH", 500)
	c.ok("VRFY bob", 252)
	c.ok("NOOP", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	c.ok("MAIL FROM:<a@sender.test>", 503) // nested
	c.ok("DATA", 503)                      // no recipient yet
	if msg := c.ok("RCPT TO:<nobody@example.com>", 550); !strings.Contains(msg, "5.1.1") {
		t.Errorf("unknown user: %q", msg)
	}
	if msg := c.ok("RCPT TO:<bob@elsewhere.test>", 550); !strings.Contains(msg, "5.7.1") {
		t.Errorf("relay: %q", msg)
	}
	c.ok("RCPT TO:<BOB@Example.ORG>", 250)
	c.ok("RCPT TO:<postmaster>", 250)
	c.ok("RSET", 250)
	c.ok("RSET x", 501)
	c.ok("QUIT", 221)

	mu.Lock()
	defer mu.Unlock()
	var proto, syn int
	for _, ev := range got {
		switch ev.Name {
		case events.SMTPFailProtocol:
			proto++
		case events.SMTPFailSyntax:
			syn++
		}
		if !ev.Inbound || ev.HostAddress != netip.MustParseAddr("127.0.0.1") || ev.Data == "" {
			t.Errorf("event %+v", ev)
		}
	}
	if proto != 5 || syn != 5 {
		t.Errorf("events: %d protocol, %d syntax (want 5, 5): %+v", proto, syn, got)
	}
}

func TestTooManyErrors(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxErrors = 3 })
	c := dial(t, ts.addr)
	c.ok("X", 500)
	c.ok("Y", 500)
	code, msg := c.cmd("Z")
	if code != 500 {
		t.Fatalf("%d", code)
	}
	if code, msg = c.read(); code != 421 {
		t.Fatalf("got %d %q, want 421", code, msg)
	}
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("connection still open")
	}
}

func TestSizeLimit(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxSize = 1000 })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test> SIZE=5000", 552)
	code, msg := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: big\n\n"+strings.Repeat(strings.Repeat("x", 70)+"\n", 50))
	if code != 552 || !strings.Contains(msg, "5.3.4") {
		t.Fatalf("got %d %q", code, msg)
	}
	// A line over 998 characters.
	code, _ = c.send("a@sender.test", []string{"bob@example.com"}, "Subject: long\n\n"+strings.Repeat("y", 999)+"\n")
	if code != 554 {
		t.Fatalf("long line: %d", code)
	}
	// The session goes on.
	if code, _ := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: small\n\nok\n"); code != 250 {
		t.Fatalf("small: %d", code)
	}
	if n := len(ts.files(t, "")); n != 1 {
		t.Errorf("%d files", n)
	}
}

func TestDotUnstuffing(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	code, _ := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: dots\n\n..leading dot\n...\n. \nend\n")
	if code != 250 {
		t.Fatal(code)
	}
	f := ts.files(t, "")
	if len(f) != 1 || !strings.HasSuffix(f[0], "\n\n.leading dot\n..\n \nend\n") {
		t.Fatalf("stored: %q", f)
	}
}

func TestPipelining(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	io.WriteString(c.c, "EHLO client.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<no@relay.test>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n")
	for _, want := range []int{250, 250, 250, 550, 250, 354} {
		c.expect(want)
	}
	io.WriteString(c.c, "Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
	c.expect(250)
	c.expect(221)
	files := ts.files(t, "")
	if len(files) != 2 {
		t.Fatalf("%d files", len(files))
	}
	var to []string
	for _, f := range files {
		to = append(to, headerOf(f, "Envelope-to"))
		if strings.Contains(headerOf(f, "Received"), " for <") {
			t.Errorf("Received has a for clause with two recipients")
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"bob@example.com", "carol@example.org"}) {
		t.Errorf("Envelope-to %q", to)
	}
}

func proxyHeader(t *testing.T, src string) []byte {
	h := &proxyproto.Header{Version: 2, Command: proxyproto.Proxy, Transport: proxyproto.TCP4,
		Source: netip.MustParseAddrPort(src), Destination: netip.MustParseAddrPort("192.0.2.1:25")}
	b, err := h.Format(2)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProxyV2(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.SPFLocalhostPass = false
		c.ProxyOptional = hostlist.MustParse("127.0.0.1")
	})
	for _, tc := range []struct{ src, spf string }{
		{"192.0.2.10:4567", "pass"},
		{"198.51.100.7:4567", "fail"},
	} {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(proxyHeader(t, tc.src))
		c := newClient(t, conn, true)
		c.ok("EHLO client.test", 250)
		if code, _ := c.send("alice@sender.test", []string{"bob@example.com"}, "Subject: proxied\n\nx\n"); code != 250 {
			t.Fatal(code)
		}
		c.ok("QUIT", 221)
		ip := strings.Split(tc.src, ":")[0]
		var found bool
		for _, f := range ts.files(t, "") {
			if strings.Contains(headerOf(f, "Received"), "(["+ip+"]) (via proxy [127.0.0.1])") {
				found = true
				if got := headerOf(f, "Received-SPF"); !strings.HasPrefix(got, tc.spf+" ") || !strings.Contains(got, ip) {
					t.Errorf("%s: Received-SPF %q", ip, got)
				}
			}
		}
		if !found {
			t.Errorf("no message from %s", ip)
		}
	}
	// Without a header the real address is used.
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("QUIT", 221)
}

func TestProxyRequiredMissing(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.ProxyRequired = hostlist.MustParse("*")
		c.ProxyTimeout = 300 * time.Millisecond
	})
	c := dial(t, ts.addr) // header read times out, then the banner
	if code, msg := c.cmd("EHLO client.test"); code != 503 || msg != "Command refused, required Proxy negotiation failed" {
		t.Fatalf("got %d %q", code, msg)
	}
	c.ok("MAIL FROM:<a@sender.test>", 503)
	c.ok("QUIT", 221)
}

// stubScanner refuses "spam*" recipients and sends "junk*" to "Junk".
var stubScanner = bmi.ScannerFunc(func(_ context.Context, m *bmi.Message) (bmi.Verdicts, error) {
	var vs bmi.Verdicts
	for _, r := range m.Recipients {
		v := bmi.Verdict{Recipients: []string{r.Address}}
		switch {
		case strings.HasPrefix(r.Address, "spam"):
			v.Destination = bmi.None
		case strings.HasPrefix(r.Address, "junk"):
			v.Destination, v.AltLocation = bmi.Alternate, "Junk/../x y"
		}
		vs = append(vs, v)
	}
	return vs, nil
})

func TestPRDR(t *testing.T) {
	ts := start(t, func(c *Config) { c.Scanner = stubScanner })
	to := []string{"bob@example.com", "spam1@example.com", "junk1@example.org"}
	res, err := prdr.Send(context.Background(), ts.addr, "a@sender.test", to, strings.NewReader("Subject: prdr\n\nbody\n"), prdr.WithHelo("client.test"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Offered || !res.Requested || !res.Data.PRDR {
		t.Fatalf("PRDR not used: %+v", res)
	}
	want := []prdr.Status{prdr.Delivered, prdr.Failed, prdr.Delivered}
	for i, o := range res.Recipients {
		if o.Status != want[i] {
			t.Errorf("%s: %s %q, want %s", o.Recipient, o.Status, o.Message, want[i])
		}
	}
	if f := res.Data.Final.String(); !strings.Contains(f, "accepted for some recipients") {
		t.Errorf("final %q", f)
	}
	inbox, junk := ts.files(t, ""), ts.files(t, ".Junk____x_y")
	if len(inbox) != 1 || headerOf(inbox[0], "Envelope-to") != "bob@example.com" {
		t.Errorf("inbox %q", inbox)
	}
	if len(junk) != 1 || headerOf(junk[0], "Envelope-to") != "junk1@example.org" {
		t.Errorf("junk %q", junk)
	}
	if !strings.Contains(ts.logs.String(), "prdr=true") {
		t.Errorf("log does not show PRDR")
	}

	// Without PRDR (one recipient) a refusal is the only reply.
	res, err = prdr.Send(context.Background(), ts.addr, "a@sender.test", []string{"spam2@example.com"}, strings.NewReader("Subject: x\n\nbody\n"))
	if err != nil || res.Recipients[0].Status != prdr.Failed || res.Data.PRDR {
		t.Errorf("single spam recipient: %v %+v", err, res.Recipients)
	}
}

func TestPRDRRawReplies(t *testing.T) {
	ts := start(t, func(c *Config) { c.Scanner = stubScanner })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if msg := c.ok("MAIL FROM:<a@sender.test> PRDR", 250); !strings.Contains(msg, "PRDR") {
		t.Errorf("MAIL reply %q", msg)
	}
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.ok("RCPT TO:<spam@example.com>", 250)
	c.ok("DATA", 354)
	io.WriteString(c.c, "Subject: x\r\n\r\nbody\r\n.\r\n")
	c.expect(353)
	if msg := c.expect(250); !strings.Contains(msg, "bob@example.com") {
		t.Errorf("per-recipient %q", msg)
	}
	c.expect(550)
	c.expect(250)
}

func TestDCC(t *testing.T) {
	d := dcctest.StartTCP(t, dcctest.Fixed(dcctest.Reply('A', "A", "X-DCC-test-Metrics: host 1; bulk Body=many\n")))
	ts := start(t, func(c *Config) { c.DCC = &dcc.Client{Address: d.Address} })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	if code, _ := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: dcc\n\nx\n"); code != 250 {
		t.Fatal(code)
	}
	f := ts.files(t, "")
	if len(f) != 1 || !strings.Contains(headerOf(f[0], "X-DCC-test-Metrics"), "bulk Body=many") {
		t.Errorf("files %q", f)
	}
	// Per-recipient greylisting: without PRDR the whole message is
	// deferred and nothing delivered, with PRDR only that recipient.
	d2 := dcctest.StartTCP(t, dcctest.Fixed(dcctest.Reply('A', "AG", "")))
	ts2 := start(t, func(c *Config) { c.DCC = &dcc.Client{Address: d2.Address} })
	c2 := dial(t, ts2.addr)
	c2.ok("EHLO client.test", 250)
	if code, msg := c2.send("a@sender.test", []string{"bob@example.com", "carol@example.com"}, "Subject: g\n\nx\n"); code != 451 {
		t.Errorf("greylist without PRDR: %d %q", code, msg)
	}
	if n := len(ts2.files(t, "")); n != 0 {
		t.Errorf("%d files after a deferral", n)
	}
	res, err := prdr.Send(context.Background(), ts2.addr, "a@sender.test", []string{"bob@example.com", "carol@example.com"}, strings.NewReader("Subject: g\n\nx\n"))
	if err != nil || !res.Data.PRDR || res.Recipients[0].Status != prdr.Delivered || res.Recipients[1].Status != prdr.Deferred {
		t.Errorf("greylist with PRDR: %v %+v", err, res)
	}
	if n := len(ts2.files(t, "")); n != 1 {
		t.Errorf("%d files after PRDR", n)
	}

	// A dccifd that cannot be reached defers the message.
	d.Close()
	if code, _ := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: dcc\n\nx\n"); code != 451 {
		t.Errorf("dcc down: %d, want 451", code)
	}
}

func TestHeaderInjection(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO evil.test\rX-Injected: helo", 500)
	// Only CRLF ends a command line: one with a bare LF is refused whole.
	io.WriteString(c.c, "EHLO evil.test\nX-Injected: lf\r\n")
	c.expect(500)
	c.ok("EHLO evil.test", 250)
	c.ok("MAIL FROM:<a\rX-Injected: x@sender.test>", 500)
	c.ok("MAIL FROM:<\"a\rX-Injected\"@sender.test>", 500)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	c.ok("RCPT TO:<bob@example.com\r>", 500)
	c.ok("RCPT TO:<bob@example.com>", 250)
	c.ok("DATA", 354)
	io.WriteString(c.c, "Subject: x\r\n\r\nbody\r\n.\r\n")
	c.expect(250)
	f := ts.files(t, "")
	if len(f) != 1 || strings.Contains(f[0], "X-Injected") {
		t.Fatalf("files %q", f)
	}
	hdr, _, _ := strings.Cut(f[0], "\n\n")
	for _, l := range strings.Split(hdr, "\n") {
		if k, _, ok := strings.Cut(l, ":"); !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, " ") && (!ok || strings.ContainsAny(k, " \t")) {
			t.Errorf("bad header line %q", l)
		}
	}
}

func TestReadTimeout(t *testing.T) {
	ts := start(t, func(c *Config) { c.ReadTimeout = 300 * time.Millisecond })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	time.Sleep(600 * time.Millisecond)
	if msg := c.expect(421); !strings.Contains(msg, "timeout") {
		t.Errorf("%q", msg)
	}
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("connection still open")
	}
}

func TestGracefulShutdown(t *testing.T) {
	ts := start(t, nil)
	idle := dial(t, ts.addr)
	idle.ok("EHLO client.test", 250)
	busy := dial(t, ts.addr)
	busy.ok("EHLO client.test", 250)
	busy.ok("MAIL FROM:<a@sender.test>", 250)
	busy.ok("RCPT TO:<bob@example.com>", 250)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	idle.expect(421)
	// The transaction in progress may finish.
	busy.ok("DATA", 354)
	io.WriteString(busy.c, "Subject: x\r\n\r\nbody\r\n.\r\n")
	busy.expect(250)
	busy.ok("NOOP", 421)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	ts.done <- ErrServerClosed // for the cleanup
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Error("still accepting")
	}
	if n := len(ts.files(t, "")); n != 1 {
		t.Errorf("%d files", n)
	}
}

func TestShutdownDeadline(t *testing.T) {
	ts := start(t, nil)
	busy := dial(t, ts.addr)
	busy.ok("EHLO client.test", 250)
	busy.ok("MAIL FROM:<a@sender.test>", 250)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := busy.tp.ReadLine(); err == nil {
		t.Error("connection still open")
	}
}

func TestAddressSyntax(t *testing.T) {
	for _, tc := range []struct {
		in, addr string
		ok       bool
	}{
		{"<a@b.c>", "a@b.c", true},
		{" <a@b.c> SIZE=1", "a@b.c", true},
		{"<>", "", true},
		{"<@x.y,@z.w:a@b.c>", "a@b.c", true},
		{"<\"a b\"@b.c>", "\"a b\"@b.c", true},
		{"<a@[192.0.2.1]>", "a@[192.0.2.1]", true},
		{"<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]", true},
		{"<a@[ipv6:2001:db8::1]>", "a@[ipv6:2001:db8::1]", true}, // the tag is case-insensitive (RFC 5234 §2.3)
		{"a@b.c", "", false},
		{"<a@b.c", "", false},
		{"<a@b.c>x", "", false},
		{"<a..b@c>", "", false},
		{"<a@-b.c>", "", false},
		{"<a b@c.d>", "", false},
		{"<a@b\x00.c>", "", false},
	} {
		p, err := smtp.ParsePath(tc.in)
		if (err == nil) != tc.ok || p.Mailbox != tc.addr {
			t.Errorf("smtp.ParsePath(%q) = %q %v", tc.in, p.Mailbox, err)
		}
	}
	if maildir.FolderName("spam") != ".spam" || maildir.FolderName("../..") != ".Junk" || maildir.FolderName("a.b/c") != ".a_b_c" {
		t.Error("folderName")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	ts := start(t, func(c *Config) { c.ReadTimeout = 200 * time.Millisecond })
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		c := dial(t, ts.addr)
		c.ok("EHLO client.test", 250)
		c.send("a@sender.test", []string{"bob@example.com"}, "Subject: g\n\nx\n")
		switch i % 3 {
		case 0:
			c.ok("QUIT", 221)
		case 1:
			c.c.Close() // abrupt
		case 2:
			io.WriteString(c.c, "MAIL FROM:<a@sender.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\npartial") // then silence: timeout
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
