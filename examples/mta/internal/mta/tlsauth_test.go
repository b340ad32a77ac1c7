package mta

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
	"github.com/mailpolicy/mailpolicy/hostlist"
)

// startTLS upgrades the client after a 220 to STARTTLS.
func (c *client) startTLS(serverName string) *tls.ConnectionState {
	c.t.Helper()
	tc := tls.Client(c.c, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.c, c.tp = tc, textproto.NewConn(tc)
	cs := tc.ConnectionState()
	return &cs
}

// inboundTLS is a server TLS configuration for mx.example.
func inboundTLS(t *testing.T) *tls.Config {
	cert, _ := selfSigned(t, "mx.example")
	return &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
}

// usersFile writes a users file with alice:secret (bcrypt) and
// bob:hunter2 (argon2id) and loads it.
func usersFile(t *testing.T) *auth.Users {
	t.Helper()
	a, err := auth.HashPassword("secret", auth.KindBcrypt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.HashPassword("hunter2", auth.KindArgon2id)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("alice:"+a+"\nbob:"+b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := auth.LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func TestSTARTTLSInbound(t *testing.T) {
	ts := start(t, func(c *Config) { c.InboundTLS = inboundTLS(t) })
	c := dial(t, ts.addr)
	if ehlo := c.ok("EHLO client.test", 250); !strings.Contains(ehlo, "\nSTARTTLS") {
		t.Fatalf("STARTTLS not offered: %q", ehlo)
	}
	c.ok("STARTTLS extra", 501)
	c.ok("STARTTLS", 220)
	cs := c.startTLS("mx.example")
	// The session starts over: MAIL needs a new EHLO (RFC 3207 §4.2).
	c.ok("MAIL FROM:<a@sender.test>", 503)
	if ehlo := c.ok("EHLO client.test", 250); strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("STARTTLS offered again under TLS: %q", ehlo)
	}
	c.ok("STARTTLS", 503)
	if code, msg := c.send("a@sender.test", []string{"bob@example.com"}, "Subject: tls\n\nx\n"); code != 250 {
		t.Fatalf("over TLS: %d %s", code, msg)
	}
	c.ok("QUIT", 221)
	f := ts.files(t, "")
	if len(f) != 1 {
		t.Fatalf("%d files", len(f))
	}
	rcvd := headerOf(f[0], "Received")
	want := "with ESMTPS (" + strings.ReplaceAll(tls.VersionName(cs.Version), " ", "") + ") tls " + tls.CipherSuiteName(cs.CipherSuite)
	if !strings.Contains(rcvd, want) || !strings.Contains(want, "(TLS1.") {
		t.Errorf("Received %q lacks %q", rcvd, want)
	}
}

// Commands pipelined after STARTTLS in clear text are dropped, never
// run inside the TLS session (CVE-2011-0411).
func TestSTARTTLSInjection(t *testing.T) {
	ts := start(t, func(c *Config) { c.InboundTLS = inboundTLS(t) })
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	io.WriteString(c.c, "STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<evil@sender.test>\r\n")
	c.expect(220)
	c.startTLS("mx.example")
	// Had the injected commands run, the first reply under TLS would be
	// theirs, and a second MAIL would see 503.
	if ehlo := c.ok("EHLO client.test", 250); !strings.Contains(ehlo, "Hello client.test") {
		t.Errorf("first reply under TLS: %q", ehlo)
	}
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if strings.Contains(ts.logs.String(), "evil@sender.test") {
		t.Error("the injected command was run")
	}
}

func TestSTARTTLSAdvertiseHosts(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.InboundTLS = inboundTLS(t)
		c.TLSAdvertise = hostlist.MustParse("192.0.2.0/24")
	})
	c := dial(t, ts.addr)
	if ehlo := c.ok("EHLO client.test", 250); strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("STARTTLS offered outside tls_advertise_hosts: %q", ehlo)
	}
	c.ok("STARTTLS", 503)
}

// authRecorder collects auth:fail events.
type authRecorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *authRecorder) handler(_ context.Context, ev *events.Event) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, *ev)
	return "", nil
}

func (r *authRecorder) all() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

func TestAUTH(t *testing.T) {
	rec := &authRecorder{}
	spool := t.TempDir()
	ts := start(t, func(c *Config) {
		c.InboundTLS = inboundTLS(t)
		c.AuthUsers = usersFile(t)
		c.Spool = spool
		c.AuthLimiter = &auth.Limiter{MaxFailures: 3, Window: time.Hour}
	})
	ts.bus.Subscribe(events.Only(events.AuthFail), rec.handler)
	c := dial(t, ts.addr)
	if ehlo := c.ok("EHLO client.test", 250); strings.Contains(ehlo, "AUTH") {
		t.Errorf("AUTH offered in clear text: %q", ehlo)
	}
	c.ok("AUTH PLAIN "+plain("alice", "secret"), 538)
	c.ok("STARTTLS", 220)
	c.startTLS("mx.example")
	if ehlo := c.ok("EHLO client.test", 250); !strings.Contains(ehlo, "\nAUTH PLAIN LOGIN") {
		t.Fatalf("AUTH not offered over TLS: %q", ehlo)
	}
	// Relaying is refused before AUTH.
	c.ok("MAIL FROM:<alice@example.com>", 250)
	c.ok("RCPT TO:<x@remote.test>", 550)
	c.ok("AUTH PLAIN "+plain("alice", "secret"), 503) // not during a transaction
	c.ok("RSET", 250)
	c.ok("AUTH CRAM-MD5", 504)
	c.ok("AUTH PLAIN "+plain("alice", "wrong"), 535)
	// LOGIN, two steps, the good password.
	if msg := c.ok("AUTH LOGIN", 334); msg != "VXNlcm5hbWU6" {
		t.Errorf("LOGIN challenge %q", msg)
	}
	c.ok(base64.StdEncoding.EncodeToString([]byte("bob")), 334)
	c.ok(base64.StdEncoding.EncodeToString([]byte("hunter2")), 235)
	c.ok("AUTH PLAIN "+plain("alice", "secret"), 503) // already authenticated
	// Authenticated: relaying is allowed, and the AUTH= sender kept.
	c.ok("MAIL FROM:<bob@example.com> AUTH=bob@example.com", 250)
	c.ok("RCPT TO:<x@remote.test>", 250)
	c.ok("RCPT TO:<carol@example.com>", 250)
	c.ok("DATA", 354)
	io.WriteString(c.c, "From: bob@example.com\r\nSubject: sub\r\n\r\nhi\r\n.\r\n")
	c.expect(250)
	c.ok("QUIT", 221)

	// carol's copy (the relayed one may already have come back as a
	// DSN to bob: remote.test has no hosts here).
	var f []string
	for _, m := range ts.files(t, "") {
		if headerOf(m, "Envelope-to") == "carol@example.com" {
			f = append(f, m)
		}
	}
	if len(f) != 1 {
		t.Fatalf("%d local copies for carol", len(f))
	}
	ar := headerOf(f[0], "Authentication-Results")
	if ar != "mx.example; auth=pass (LOGIN) smtp.auth=bob smtp.mailfrom=bob@example.com" {
		t.Errorf("Authentication-Results %q", ar)
	}
	if r := headerOf(f[0], "Received"); !strings.Contains(r, "with ESMTPSA (") {
		t.Errorf("Received %q", r)
	}
	// One log line for the message, with Exim's "<=" fields.
	if !regexp.MustCompile(`msg=message .*id=\S+ from=bob@example.com helo=client.test ip=127.0.0.1 proto=ESMTPSA tls=TLS1\.3:TLS_\S+ auth=login:bob size=\d+ rcpts=2 delivered=1 queued=1 refused=0`).MatchString(ts.logs.String()) {
		t.Errorf("no message line in the log:\n%s", ts.logs.String())
	}
	// Two failures raised auth:fail with the reply sent.
	evs := rec.all()
	if len(evs) != 2 || evs[0].Authenticator != "CRAM-MD5" || !strings.HasPrefix(evs[0].Data, "504 ") ||
		evs[1].Authenticator != "PLAIN" || evs[1].Data != "535 5.7.8 Authentication credentials invalid" || !evs[1].Inbound {
		t.Errorf("auth:fail events %+v", evs)
	}
}

// Wrong passwords count against the client; past the limit no password
// is checked at all.
func TestAUTHRateLimited(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.InboundTLS = inboundTLS(t)
		c.AuthUsers = usersFile(t)
		c.AuthLimiter = &auth.Limiter{MaxFailures: 2, Window: time.Hour}
	})
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("STARTTLS", 220)
	c.startTLS("mx.example")
	c.ok("EHLO client.test", 250)
	c.ok("AUTH PLAIN "+plain("alice", "x"), 535)
	c.ok("AUTH PLAIN "+plain("alice", "y"), 535)
	c.ok("AUTH PLAIN "+plain("alice", "secret"), 454)
	// Another connection of the same client is limited too.
	c2 := dial(t, ts.addr)
	c2.ok("EHLO client.test", 250)
	c2.ok("STARTTLS", 220)
	c2.startTLS("mx.example")
	c2.ok("EHLO client.test", 250)
	c2.ok("AUTH PLAIN "+plain("alice", "secret"), 454)
	c2.ok("AUTH LOGIN", 454)
}

// A cancelled exchange is not a wrong password: it is not counted.
func TestAUTHCancelNotCounted(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.InboundTLS = inboundTLS(t)
		c.AuthUsers = usersFile(t)
		c.AuthLimiter = &auth.Limiter{MaxFailures: 2, Window: time.Hour}
	})
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("STARTTLS", 220)
	c.startTLS("mx.example")
	c.ok("EHLO client.test", 250)
	for range 3 {
		c.ok("AUTH LOGIN", 334)
		c.ok("*", 501)
	}
	c.ok("AUTH PLAIN", 334)
	c.ok(plain("alice", "secret"), 235)
}

// Implicit TLS (submissions): the handshake first, then the banner.
func TestSubmissionsImplicitTLS(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.InboundTLS = inboundTLS(t)
		c.AuthUsers = usersFile(t)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeTLS(ln)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "mx.example", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, conn, true)
	if ehlo := c.ok("EHLO client.test", 250); !strings.Contains(ehlo, "AUTH PLAIN LOGIN") || strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO on submissions: %q", ehlo)
	}
	c.ok("AUTH PLAIN "+plain("alice", "secret"), 235)
	if code, msg := c.send("alice@example.com", []string{"bob@example.com"}, "From: alice@example.com\nSubject: s\n\nx\n"); code != 250 {
		t.Fatalf("%d %s", code, msg)
	}
	c.ok("QUIT", 221)
	// A client that speaks clear text to the TLS port gets nothing.
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	io.WriteString(raw, "EHLO client.test\r\n")
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(raw); strings.Contains(string(b), "220") {
		t.Errorf("clear text answered on the TLS port: %q", b)
	}
	if f := ts.files(t, ""); len(f) != 1 || !strings.Contains(headerOf(f[0], "Received"), "with ESMTPSA (TLS1.3) tls TLS_") {
		t.Errorf("submissions delivery: %d files %q", len(f), f)
	}
}
