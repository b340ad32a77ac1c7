package mta

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dsninfo"
	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/remote"
	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/ocsp"
	"github.com/mailpolicy/mailpolicy/prdr"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/smtp"
	"github.com/mailpolicy/mailpolicy/srs"
)

// fakeSMTP is a scripted remote SMTP server: PRDR, STARTTLS, per-RCPT
// replies and per-recipient data decisions. It listens on one port on
// several loopback addresses (127.0.0.2, ...), so that MX hosts can be
// told apart.
type fakeSMTP struct {
	t      *testing.T
	port   int
	banner []string // whole lines; default "220 fake.test ESMTP"
	noPRDR bool
	cert   *tls.Certificate // STARTTLS offered when set
	// rcpt returns the whole reply line for a RCPT (""→ 250).
	rcpt   func(addr string) string
	decide prdr.DecideFunc // nil: accept all
	stall  chan struct{}   // when set, the banner waits for it to close

	// dsn, utf8: offer DSN (RFC 3461) and SMTPUTF8 (RFC 6531).
	dsn, utf8 bool

	mu    sync.Mutex
	msgs  []fakeMsg
	conns int
	// Sessions busy now and the most at once, in all and by the
	// address the client connected to (one per domain in the tests).
	// A session is busy from its connection, or from a later MAIL on
	// it, until the reply to its data is about to be written: the
	// courier holds a delivery slot at least that long, so the count
	// never exceeds the deliveries running. (Open connections would:
	// one kept for reuse is not a delivery.)
	open, peak     int
	openAt, peakAt map[string]int
	trans          []string
	lns            []net.Listener
	wg             sync.WaitGroup
}

type fakeMsg struct {
	from  string
	rcpts []string // accepted by the data decision
	data  string
	tls   bool
	prdr  bool
	// The parameters of MAIL and of each accepted RCPT.
	mail  smtp.MailParams
	rcptp map[string]smtp.RcptParams
}

// startFake listens on each ip with the same port.
func startFake(t *testing.T, f *fakeSMTP, ips ...string) *fakeSMTP {
	t.Helper()
	f.t = t
	for _, ip := range ips {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(f.port)))
		if err != nil {
			t.Fatal(err)
		}
		if f.port == 0 {
			f.port = ln.Addr().(*net.TCPAddr).Port
		}
		f.lns = append(f.lns, ln)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				f.wg.Add(1)
				go func() {
					defer f.wg.Done()
					f.serve(c)
				}()
			}
		}()
	}
	t.Cleanup(f.close)
	return f
}

func (f *fakeSMTP) close() {
	f.mu.Lock()
	lns := f.lns
	f.lns = nil
	f.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	f.wg.Wait()
}

func (f *fakeSMTP) messages() []fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMsg(nil), f.msgs...)
}

func (f *fakeSMTP) transcript() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.trans, "\n")
}

func (f *fakeSMTP) log(s string) {
	f.mu.Lock()
	f.trans = append(f.trans, s)
	f.mu.Unlock()
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	at, _, _ := net.SplitHostPort(c.LocalAddr().String())
	f.mu.Lock()
	f.conns++
	if f.openAt == nil {
		f.openAt, f.peakAt = map[string]int{}, map[string]int{}
	}
	f.mu.Unlock()
	busy := false
	setBusy := func(b bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case b && !busy:
			f.open++
			f.openAt[at]++
			f.peak, f.peakAt[at] = max(f.peak, f.open), max(f.peakAt[at], f.openAt[at])
		case !b && busy:
			f.open--
			f.openAt[at]--
		}
		busy = b
	}
	setBusy(true)
	defer setBusy(false)
	if f.stall != nil {
		<-f.stall
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	tp := textproto.NewConn(c)
	w := func(lines ...string) {
		for _, l := range lines {
			fmt.Fprintf(c, "%s\r\n", l)
		}
	}
	banner := f.banner
	if banner == nil {
		banner = []string{"220 fake.test ESMTP"}
	}
	w(banner...)
	var (
		from, tlsOn, usePRDR = "", false, false
		rcpts                []string
		mailp                smtp.MailParams
		rcptp                map[string]smtp.RcptParams
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		f.log("C: " + line)
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-fake.test Hello " + arg, "250-SIZE 1000000", "250-ENHANCEDSTATUSCODES"}
			if !f.noPRDR {
				lines = append(lines, "250-PRDR")
			}
			if f.dsn {
				lines = append(lines, "250-DSN")
			}
			if f.utf8 {
				lines = append(lines, "250-8BITMIME", "250-SMTPUTF8")
			}
			if f.cert != nil && !tlsOn {
				lines = append(lines, "250-STARTTLS")
			}
			w(append(lines, "250 HELP")...)
		case "HELO":
			w("250 fake.test")
		case "STARTTLS":
			w("220 2.0.0 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
			if err := tc.Handshake(); err != nil {
				f.log("TLS: " + err.Error())
				return
			}
			c, tlsOn = tc, true
			tp = textproto.NewConn(c)
		case "MAIL":
			p, _ := smtp.ParsePath(strings.TrimPrefix(strings.TrimPrefix(arg, "FROM:"), "from:"), smtp.WithUTF8(f.utf8))
			from, rcpts, rcptp = p.Mailbox, nil, map[string]smtp.RcptParams{}
			mp, _ := smtp.ParseMailParams(p.Params)
			usePRDR, mailp = mp.PRDR, mp
			setBusy(true)
			w("250 2.1.0 OK")
		case "RCPT":
			p, _ := smtp.ParsePath(strings.TrimPrefix(arg, "TO:"), smtp.WithUTF8(f.utf8))
			a := p.Mailbox
			rep := ""
			if f.rcpt != nil {
				rep = f.rcpt(a)
			}
			if rep == "" {
				rcpts = append(rcpts, a)
				rcptp[a], _ = smtp.ParseRcptParams(p.Params)
				rep = "250 2.1.5 OK"
			}
			w(rep)
		case "DATA":
			w("354 go ahead")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			decide := f.decide
			if decide == nil {
				decide = func(int, string) prdr.Decision { return prdr.Decision{} }
			}
			var b bytes.Buffer
			out, _ := prdr.Respond(&b, &prdr.Transaction{Requested: usePRDR, Recipients: rcpts, MessageID: "FAKE1"}, decide)
			if out != nil && len(out.Accepted()) > 0 {
				f.mu.Lock()
				f.msgs = append(f.msgs, fakeMsg{from: from, rcpts: out.Accepted(), data: string(data), tls: tlsOn, prdr: usePRDR, mail: mailp, rcptp: rcptp})
				f.mu.Unlock()
			}
			setBusy(false)
			c.Write(b.Bytes())
		case "QUIT":
			w("221 bye")
			return
		default:
			w("250 OK")
		}
	}
}

// waitFor polls cond for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// evRecorder keeps the outbound events.
type evRecorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *evRecorder) handler(ctx context.Context, ev *events.Event) (string, error) {
	if ev.Inbound {
		return "", nil
	}
	r.mu.Lock()
	r.evs = append(r.evs, *ev)
	r.mu.Unlock()
	return "", nil
}

func (r *evRecorder) all() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

func (r *evRecorder) names() []string {
	var out []string
	for _, e := range r.all() {
		out = append(out, string(e.Name))
	}
	return out
}

func (r *evRecorder) find(n events.Name) (events.Event, bool) {
	for _, e := range r.all() {
		if e.Name == n {
			return e, true
		}
	}
	return events.Event{}, false
}

type outEnv struct {
	ts   *testServer
	zone *resolvertest.Zone
	rec  *evRecorder
}

// startOut runs our MTA with a spool, relaying for 127.0.0.1, remote
// port port and a zone of its own.
func startOut(t *testing.T, port int, records []string, mod func(*Config)) *outEnv {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, records...)
	ns := resolvertest.Start(t, z)
	spool := t.TempDir()
	o := &outEnv{zone: z, rec: &evRecorder{}}
	o.ts = start(t, func(c *Config) {
		c.Resolver = nsResolver(t, ns.Addr)
		c.Spool = spool
		c.SMTPPort = port
		c.SMTPTimeout = 5 * time.Second
		c.RetryInterval = 100 * time.Millisecond
		c.RelayFrom = hostlist.MustParse("127.0.0.1")
		if mod != nil {
			mod(c)
		}
	})
	o.ts.bus.Subscribe(nil, o.rec.handler)
	return o
}

func (o *outEnv) send(t *testing.T, from string, to []string, msg string) (int, string) {
	c := dial(t, o.ts.addr)
	c.ok("EHLO client.test", 250)
	code, text := c.send(from, to, msg)
	c.ok("QUIT", 221)
	return code, text
}

var remoteZone = []string{
	"remote.test. MX 10 mx.remote.test.",
	"mx.remote.test. A 127.0.0.2",
}

func TestRelayDenied(t *testing.T) {
	ts := start(t, nil)
	c := dial(t, ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if code, msg := c.cmd("RCPT TO:<bob@remote.test>"); code != 550 || !strings.Contains(msg, "5.7.1") {
		t.Fatalf("relay without -relay-from: %d %s", code, msg)
	}
	// With a spool but a client outside -relay-from: refused too.
	o := startOut(t, 25, remoteZone, func(c *Config) { c.RelayFrom = hostlist.MustParse("192.0.2.0/24") })
	c = dial(t, o.ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if code, msg := c.cmd("RCPT TO:<bob@remote.test>"); code != 550 || !strings.Contains(msg, "5.7.1") {
		t.Fatalf("relay from a host outside -relay-from: %d %s", code, msg)
	}
	c.ok("RCPT TO:<bob@example.com>", 250)
}

func TestRelayDeliveryAndEvents(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	if code, msg := o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: hi\n\n..dot\nbody\n"); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
	m := f.messages()[0]
	if m.from != "a@sender.test" || m.rcpts[0] != "bob@remote.test" || !strings.Contains(m.data, "\n.dot\nbody\n") || !strings.Contains(m.data, "by mx.example with ESMTP") {
		t.Errorf("message: %+v", m)
	}
	waitFor(t, 5*time.Second, "msg:complete", func() bool { _, ok := o.rec.find(events.MsgComplete); return ok })
	want := []string{"tcp:connect", "smtp:connect", "smtp:ehlo", "tcp:close", "msg:delivery", "msg:complete"}
	if got := o.rec.names(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events %q, want %q (Exim 4.96's order)", got, want)
	}
	tc, _ := o.rec.find(events.TCPConnect)
	if tc.Host != "mx.remote.test" || tc.HostAddress.String() != "127.0.0.2" || tc.HostPort != f.port || tc.Domain != "remote.test" || tc.LocalPart != "bob" || tc.MessageID == "" {
		t.Errorf("tcp:connect fields: %+v", tc)
	}
	sc, _ := o.rec.find(events.SMTPConnect)
	if sc.Data != "220 fake.test ESMTP" {
		t.Errorf("smtp:connect data %q", sc.Data)
	}
	eh, _ := o.rec.find(events.SMTPEHLO)
	if !strings.HasPrefix(eh.Data, "250-fake.test Hello mx.example\n") || !strings.HasSuffix(eh.Data, "\n250 HELP") {
		t.Errorf("smtp:ehlo data %q", eh.Data)
	}
	if d, _ := o.rec.find(events.MsgDelivery); !strings.HasPrefix(d.Data, "250") || !d.SendingIP.IsValid() || d.SendingPort == 0 {
		t.Errorf("msg:delivery: %+v", d)
	}
	// The spool is empty.
	waitFor(t, 5*time.Second, "empty spool", func() bool {
		left, _ := filepath.Glob(filepath.Join(o.ts.srv.Config().Spool, "*.*")) // not the receive dir, tmp
		return len(left) == 0
	})
}

func TestSpoolSurvivesRestart(t *testing.T) {
	stall := make(chan struct{})
	f := startFake(t, &fakeSMTP{stall: stall}, "127.0.0.2")
	spool := t.TempDir()
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.Spool = spool })
	if code, _ := o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: restart\n\nx\n"); code != 250 {
		t.Fatal(code)
	}
	waitFor(t, 5*time.Second, "a connection", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.conns > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.ts.srv.Shutdown(ctx)
	if envs, _ := filepath.Glob(filepath.Join(spool, "*.env")); len(envs) != 1 {
		t.Fatalf("spool after shutdown: %v", envs)
	}
	close(stall)
	startOut(t, f.port, remoteZone, func(c *Config) { c.Spool = spool })
	waitFor(t, 10*time.Second, "delivery after restart", func() bool { return len(f.messages()) == 1 })
}

func TestMXPreferenceAndFallback(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	zone := []string{
		"remote.test. MX 20 mx2.remote.test.",
		"remote.test. MX 10 mx1.remote.test.",
		"mx1.remote.test. A 127.0.0.3", // nothing listens: refused
		"mx2.remote.test. A 127.0.0.2",
	}
	o := startOut(t, f.port, zone, nil)
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: mx\n\nx\n")
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
	waitFor(t, 5*time.Second, "msg:complete", func() bool { _, ok := o.rec.find(events.MsgComplete); return ok })
	want := "tcp:connect msg:host:defer tcp:connect smtp:connect smtp:ehlo tcp:close msg:delivery msg:complete"
	if got := strings.Join(o.rec.names(), " "); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	evs := o.rec.all()
	if evs[0].Host != "mx1.remote.test" || evs[2].Host != "mx2.remote.test" {
		t.Errorf("hosts tried: %s, %s", evs[0].Host, evs[2].Host)
	}
	if hd := evs[1]; hd.Data != "Connection refused" || hd.DeferErrno != 111 {
		t.Errorf("msg:host:defer: %q errno %d", hd.Data, hd.DeferErrno)
	}
}

func TestRetryAfter4xx(t *testing.T) {
	var mu sync.Mutex
	n := 0
	f := startFake(t, &fakeSMTP{rcpt: func(string) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			return "451 4.3.0 try again later"
		}
		return ""
	}}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: retry\n\nx\n")
	waitFor(t, 10*time.Second, "delivery on retry", func() bool { return len(f.messages()) == 1 })
	e, ok := o.rec.find(events.MsgRcptDefer)
	if !ok || e.Data != "SMTP error from remote mail server after RCPT TO:<bob@remote.test>: 451 4.3.0 try again later" ||
		e.DeferErrno != events.RcptDeferErrno(451, true) {
		t.Errorf("msg:rcpt:defer: %+v", e)
	}
	if _, ok := o.rec.find(events.MsgRcptHostDefer); !ok {
		t.Error("no msg:rcpt:host:defer")
	}
}

// readBounce waits for one message in the maildir and parses it.
func readBounce(t *testing.T, ts *testServer) (*dsninfo.Report, string) {
	t.Helper()
	var files []string
	waitFor(t, 10*time.Second, "bounce", func() bool { files = ts.files(t, ""); return len(files) > 0 })
	rep, err := dsninfo.Parse(strings.NewReader(files[0]))
	if err != nil {
		t.Fatalf("bounce does not parse: %v\n%s", err, files[0])
	}
	return rep, files[0]
}

func TestBounceOn5xx(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(a string) string {
		if strings.HasPrefix(a, "nobody") {
			return "550 5.1.1 no such user"
		}
		return ""
	}}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "alice@example.com", []string{"nobody@remote.test"}, "Subject: bounce me\n\nx\n")
	rep, raw := readBounce(t, o.ts)
	if headerOf(raw, "Return-path") != "<>" {
		t.Errorf("bounce Return-path %q", headerOf(raw, "Return-path"))
	}
	if rep.ReportingMTA != "mx.example" || len(rep.Recipients) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	r := rep.Recipients[0]
	if r.Action != dsninfo.Failed || r.Status != "5.1.1" || r.RemoteMTA != "mx.remote.test" || r.RemoteIP.String() != "127.0.0.2" ||
		r.RemotePort != f.port || !strings.Contains(r.DiagnosticCode.Value, "550 5.1.1 no such user") || r.Greeting != "220 fake.test ESMTP" {
		t.Errorf("recipient block: %+v", r)
	}
	if !strings.Contains(string(rep.Original), "Subject: bounce me") || strings.Contains(string(rep.Original), "\nx\n") {
		t.Errorf("RET=HDRS part: %q", rep.Original)
	}
	if e, ok := o.rec.find(events.MsgFailDelivery); !ok || e.Data != "SMTP error from remote mail server after RCPT TO:<nobody@remote.test>: 550 5.1.1 no such user" {
		t.Errorf("msg:fail:delivery: %+v", e)
	}
}

func TestRetryMaxAgeAndDelayWarning(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(string) string { return "452 4.2.2 mailbox full" }}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) {
		c.RetryMaxAge = 1500 * time.Millisecond
		c.DelayWarning = 300 * time.Millisecond
	})
	o.send(t, "alice@example.com", []string{"full@remote.test"}, "Subject: full\n\nx\n")
	var files []string
	waitFor(t, 15*time.Second, "delay warning and bounce", func() bool { files = o.ts.files(t, ""); return len(files) >= 2 })
	var actions []string
	for _, m := range files {
		rep, err := dsninfo.Parse(strings.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Recipients[0]
		actions = append(actions, string(r.Action))
		if r.Action == dsninfo.Delayed && r.WillRetryUntil.IsZero() {
			t.Errorf("delay DSN without Will-Retry-Until: %+v", r)
		}
		if r.Action == dsninfo.Failed && !strings.Contains(r.Diagnostic, "retry timeout exceeded") {
			t.Errorf("failure diagnostic %q", r.Diagnostic)
		}
	}
	if strings.Join(actions, " ") != "delayed failed" && strings.Join(actions, " ") != "failed delayed" {
		t.Errorf("DSN actions %v", actions)
	}
}

func TestNoBounceOfBounce(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(string) string { return "550 5.1.1 no" }}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "", []string{"x@remote.test"}, "Subject: a bounce\n\nx\n")
	waitFor(t, 10*time.Second, "failure", func() bool { _, ok := o.rec.find(events.MsgComplete); return ok })
	time.Sleep(200 * time.Millisecond)
	if n := len(o.ts.files(t, "")); n != 0 {
		t.Errorf("%d messages in the maildir", n)
	}
	if !strings.Contains(o.ts.logs.String(), "bounce of a bounce discarded") {
		t.Error("no log line")
	}
}

func TestPRDRMixed(t *testing.T) {
	f := startFake(t, &fakeSMTP{decide: func(i int, r string) prdr.Decision {
		if strings.HasPrefix(r, "reject") {
			return prdr.Decision{Verdict: prdr.Permanent, Enhanced: "5.7.1", Text: "content refused"}
		}
		return prdr.Decision{}
	}}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "alice@example.com", []string{"ok@remote.test", "reject@remote.test"}, "Subject: prdr\n\nx\n")
	rep, _ := readBounce(t, o.ts)
	ms := f.messages()
	if len(ms) != 1 || !ms[0].prdr || len(ms[0].rcpts) != 1 || ms[0].rcpts[0] != "ok@remote.test" {
		t.Fatalf("remote got %+v", ms)
	}
	r := rep.Recipients[0]
	if len(rep.Recipients) != 1 || r.FinalRecipient.Value != "reject@remote.test" || r.Status != "5.7.1" || !strings.Contains(r.Diagnostic, "PRDR error after DATA: 550 5.7.1 content refused") {
		t.Errorf("bounce: %+v", rep.Recipients)
	}
}

// selfSigned returns a certificate for name and the SHA-256 of its
// SubjectPublicKeyInfo (TLSA 3 1 1).
func selfSigned(t *testing.T, name string) (*tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, hex.EncodeToString(sum[:])
}

func TestSTARTTLS(t *testing.T) {
	cert, _ := selfSigned(t, "mx.remote.test")
	f := startFake(t, &fakeSMTP{cert: cert}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: tls\n\nx\n")
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
	if !f.messages()[0].tls {
		t.Error("not over TLS")
	}
	waitFor(t, 5*time.Second, "msg:complete", func() bool { _, ok := o.rec.find(events.MsgComplete); return ok })
	want := "tcp:connect smtp:connect smtp:ehlo tls:cert smtp:ehlo tcp:close msg:delivery msg:complete"
	if got := strings.Join(o.rec.names(), " "); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if e, _ := o.rec.find(events.TLSCert); e.Data != "0" || e.PeerCert == nil || e.DANE {
		t.Errorf("tls:cert: %+v", e)
	}
}

func TestDANE(t *testing.T) {
	cert, spki := selfSigned(t, "mx.remote.test")
	for _, tc := range []struct {
		name  string
		hash  string
		match bool
	}{{"match", spki, true}, {"mismatch", strings.Repeat("ab", 32), false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, &fakeSMTP{cert: cert}, "127.0.0.2")
			zone := append([]string{fmt.Sprintf("_%d._tcp.mx.remote.test. TLSA 3 1 1 %s", f.port, tc.hash)}, remoteZone...)
			o := startOut(t, f.port, zone, func(c *Config) { c.RetryInterval = time.Hour })
			o.zone.SetAuthentic(true)
			o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: dane\n\nx\n")
			if tc.match {
				waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
				waitFor(t, 5*time.Second, "msg:delivery", func() bool { _, ok := o.rec.find(events.MsgDelivery); return ok })
				d, _ := o.rec.find(events.MsgDelivery)
				if !d.DANE || !d.DNSSEC {
					t.Errorf("msg:delivery DANE=%v DNSSEC=%v", d.DANE, d.DNSSEC)
				}
				return
			}
			waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
			if len(f.messages()) != 0 {
				t.Error("delivered despite the TLSA mismatch")
			}
			if e, ok := o.rec.find(events.DANEFail); !ok || e.Data != "validation-failure" {
				t.Errorf("dane:fail: %+v", e)
			}
			// tls:cert comes before DANE's verification, as in Exim.
			want := "tcp:connect smtp:connect smtp:ehlo tls:cert dane:fail tcp:close msg:host:defer msg:defer"
			if got := strings.Join(o.rec.names(), " "); got != want {
				t.Errorf("events %q, want %q", got, want)
			}
			if envs, _ := filepath.Glob(filepath.Join(o.ts.srv.Config().Spool, "*.env")); len(envs) != 1 {
				t.Errorf("not deferred: %v", envs)
			}
		})
	}
}

func TestDANERequiredWithoutDNSSEC(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.DANERequire = hostlist.MustParse("*") })
	o.send(t, "alice@example.com", []string{"bob@remote.test"}, "Subject: dane\n\nx\n")
	rep, _ := readBounce(t, o.ts)
	if r := rep.Recipients[0]; r.Action != dsninfo.Failed || !strings.Contains(r.Diagnostic, "DANE") {
		t.Errorf("bounce: %+v", r)
	}
	if e, ok := o.rec.find(events.DANEFail); !ok || e.Data != "dane-required" {
		t.Errorf("dane:fail: %+v", e)
	}
	if len(f.messages()) != 0 || f.conns != 0 {
		t.Error("connected without DANE")
	}
}

func TestOCSPRequiredWithoutStaple(t *testing.T) {
	cert, _ := selfSigned(t, "mx.remote.test")
	f := startFake(t, &fakeSMTP{cert: cert}, "127.0.0.2")
	oc := &ocsp.Client{RequestHosts: hostlist.MustParse("*"), RequireHosts: hostlist.MustParse("*")}
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.OCSP = oc; c.RetryInterval = time.Hour })
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: ocsp\n\nx\n")
	waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
	if len(f.messages()) != 0 {
		t.Error("delivered without the required staple")
	}
	if e, _ := o.rec.find(events.MsgDefer); !strings.Contains(e.Data, ocsp.ErrNotReceived.Error()) {
		t.Errorf("msg:defer data %q", e.Data)
	}
}

func TestTCPConnectVeto(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.RetryInterval = time.Hour })
	o.ts.bus.Subscribe(events.Only(events.TCPConnect), func(context.Context, *events.Event) (string, error) { return "vetoed", nil })
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: veto\n\nx\n")
	waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
	if got := strings.Join(o.rec.names(), " "); got != "tcp:connect msg:host:defer msg:defer" {
		t.Errorf("events %q", got)
	}
	if e, _ := o.rec.find(events.MsgDefer); e.DeferErrno != remote.ErrnoEvent || e.Data != "" {
		t.Errorf("msg:defer: errno %d data %q", e.DeferErrno, e.Data)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns != 0 {
		t.Error("connected despite the veto")
	}
}

func TestSMTPConnectVeto(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.RetryInterval = time.Hour })
	o.ts.bus.Subscribe(events.Only(events.SMTPConnect), func(context.Context, *events.Event) (string, error) { return "vetoed by test", nil })
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: veto\n\nx\n")
	waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
	if got := strings.Join(o.rec.names(), " "); got != "tcp:connect smtp:connect tcp:close msg:host:defer msg:defer" {
		t.Errorf("events %q", got)
	}
	e, _ := o.rec.find(events.MsgDefer)
	if e.Data != "deferred by smtp:connect event expansion: vetoed by test" || e.DeferErrno != remote.ErrnoExpandFail {
		t.Errorf("msg:defer: %q %d", e.Data, e.DeferErrno)
	}
	waitFor(t, 5*time.Second, "QUIT", func() bool { return strings.Contains(f.transcript(), "C: QUIT") })
	if strings.Contains(f.transcript(), "EHLO") {
		t.Errorf("EHLO after the veto: %s", f.transcript())
	}
}

func TestSRSForwardAndBounceBack(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	rw, err := srs.New(srs.Config{Domain: "example.org", Secrets: []string{"s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	zone := append([]string{"sender.test. MX 10 mx.remote.test."}, remoteZone...)
	o := startOut(t, f.port, zone, func(c *Config) {
		c.RelayFrom = nil // forwarding and SRS bounces need no relay permission
		c.SRS, c.SRSDomain = rw, "example.org"
		c.Forwards = map[string]string{"fwd@example.com": "bob@remote.test"}
	})
	o.send(t, "alice@sender.test", []string{"fwd@example.com"}, "Subject: forward\n\nx\n")
	waitFor(t, 10*time.Second, "forwarded copy", func() bool { return len(f.messages()) == 1 })
	m := f.messages()[0]
	if !strings.HasPrefix(m.from, "SRS0=") || !strings.HasSuffix(m.from, "=sender.test=alice@example.org") || m.rcpts[0] != "bob@remote.test" {
		t.Fatalf("forwarded copy: from %q to %v", m.from, m.rcpts)
	}
	// The remote bounces to the SRS address: it goes back to alice.
	if code, msg := o.send(t, "", []string{m.from}, "Subject: bounce\n\nx\n"); code != 250 {
		t.Fatalf("bounce to SRS: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "bounce relayed", func() bool { return len(f.messages()) == 2 })
	if b := f.messages()[1]; b.from != "" || b.rcpts[0] != "alice@sender.test" {
		t.Errorf("bounce went %q → %v", b.from, b.rcpts)
	}
	// A forged hash is refused.
	c := dial(t, o.ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<>", 250)
	forged := "SRS0=AAAA" + m.from[9:]
	if code, msg := c.cmd("RCPT TO:<" + forged + ">"); code != 550 || !strings.Contains(msg, "5.7.1") {
		t.Errorf("forged SRS: %d %s", code, msg)
	}
	// Still no relaying for others.
	if code, _ := c.cmd("RCPT TO:<x@remote.test>"); code != 550 {
		t.Errorf("relay: %d", code)
	}
}

func TestNoMXFallsBackToAddress(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, []string{"plain.test. A 127.0.0.2"}, nil)
	o.send(t, "a@sender.test", []string{"bob@plain.test"}, "Subject: a\n\nx\n")
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
	waitFor(t, 5*time.Second, "msg:delivery", func() bool { _, ok := o.rec.find(events.MsgDelivery); return ok })
	if e, _ := o.rec.find(events.MsgDelivery); e.Host != "plain.test" {
		t.Errorf("host %q", e.Host)
	}
	// A domain that does not exist fails at once (bounce to the local sender).
	o.send(t, "alice@example.com", []string{"bob@nxdomain.test"}, "Subject: b\n\nx\n")
	rep, _ := readBounce(t, o.ts)
	if r := rep.Recipients[0]; r.Action != dsninfo.Failed || !strings.Contains(r.Diagnostic, "Unrouteable") {
		t.Errorf("bounce: %+v", r)
	}
}

func TestQueueRunnerStops(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(string) string { return "451 4.3.0 later" }}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: a\n\nx\n")
	waitFor(t, 10*time.Second, "a retry", func() bool {
		n := 0
		for _, e := range o.rec.all() {
			if e.Name == events.MsgRcptDefer {
				n++
			}
		}
		return n >= 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.ts.srv.Shutdown(ctx)
	// No goroutine of the queue or of an outbound session is left.
	deadline := time.Now().Add(3 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "main.(*queue)") && !strings.Contains(stacks, "main.(*remoteSession)") &&
			!strings.Contains(stacks, "mailpolicy/smtp.(*Client)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue goroutines left after Shutdown:\n%s", stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failingStore is a database-mode Store that is down.
type failingStore struct{}

func (failingStore) Put(string, string, time.Time) error { return errors.New("store down") }
func (failingStore) Get(string, time.Time) (string, bool, error) {
	return "", false, errors.New("store down")
}

// TestSRSForwardStoreDown: when the SRS rewrite needs the Store and the
// Store fails, the forwarded copy is deferred (451), not sent with the
// unrewritten sender.
func TestSRSForwardStoreDown(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	rw, err := srs.New(srs.Config{Domain: "example.org", Secrets: []string{"s3cret"}, Store: failingStore{}})
	if err != nil {
		t.Fatal(err)
	}
	zone := append([]string{"sender.test. MX 10 mx.remote.test."}, remoteZone...)
	o := startOut(t, f.port, zone, func(c *Config) {
		c.RelayFrom = nil
		c.SRS, c.SRSDomain = rw, "example.org"
		c.Forwards = map[string]string{"fwd@example.com": "bob@remote.test"}
	})
	// A sender long enough that the SRS0 local part passes 64 octets,
	// so the rewrite goes through the Store.
	long := strings.Repeat("a", 50) + "@" + strings.Repeat("b", 30) + ".sender.test"
	if code, msg := o.send(t, long, []string{"fwd@example.com"}, "Subject: forward\n\nx\n"); code != 451 {
		t.Fatalf("DATA with the store down: %d %s, want 451", code, msg)
	}
	// A short sender needs no Store and is forwarded as usual.
	if code, msg := o.send(t, "alice@sender.test", []string{"fwd@example.com"}, "Subject: forward\n\nx\n"); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "forwarded copy", func() bool { return len(f.messages()) == 1 })
	if m := f.messages()[0]; !strings.HasPrefix(m.from, "SRS0=") {
		t.Errorf("forwarded with sender %q", m.from)
	}
}

// TestRemoteLongLine: a server sending a reply line without end cannot
// make the queue runner buffer it; the host is deferred.
func TestRemoteLongLine(t *testing.T) {
	f := startFake(t, &fakeSMTP{banner: []string{"220 " + strings.Repeat("x", 200<<10)}}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, nil)
	o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: long\n\nx\n")
	waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
	e, _ := o.rec.find(events.MsgDefer)
	if !strings.Contains(e.Data, smtp.ErrLineTooLong.Error()) {
		t.Errorf("msg:defer data %q does not name the long line", e.Data)
	}
	if len(f.messages()) != 0 {
		t.Error("delivered despite the broken banner")
	}
}

// A null MX (RFC 7505) fails at once, while a stray "." beside a real
// exchange is only skipped.
func TestNullMX(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, []string{
		"nomail.test. MX 0 .",
		"nomail.test. A 127.0.0.2", // must not be used as the implicit MX
		"stray.test. MX 0 .",
		"stray.test. MX 10 mx.remote.test.",
		"mx.remote.test. A 127.0.0.2",
	}, nil)
	o.send(t, "alice@example.com", []string{"bob@nomail.test"}, "Subject: a\n\nx\n")
	rep, _ := readBounce(t, o.ts)
	if r := rep.Recipients[0]; r.Action != dsninfo.Failed || !strings.Contains(r.Diagnostic, "null MX") {
		t.Errorf("bounce: %+v", r)
	}
	if n := len(f.messages()); n != 0 {
		t.Fatalf("%d messages reached the domain's A record", n)
	}
	o.send(t, "a@sender.test", []string{"carol@stray.test"}, "Subject: b\n\nx\n")
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
}

// connCount is the number of connections accepted so far.
func (f *fakeSMTP) connCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// peaks are the most sessions busy at once, in all and per address.
func (f *fakeSMTP) peaks() (int, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for k, v := range f.peakAt {
		m[k] = v
	}
	return f.peak, m
}

// twoDomains: remote.test's MX is 127.0.0.2, live.test's 127.0.0.3.
var twoDomains = append([]string{"live.test. MX 10 mx.live.test.", "mx.live.test. A 127.0.0.3"}, remoteZone...)

// The peer never sees more sessions at once than the limits allow: two
// per domain, three in all; and the limits are reached.
func TestOutboundConcurrencyLimits(t *testing.T) {
	stall := make(chan struct{})
	f := startFake(t, &fakeSMTP{stall: stall}, "127.0.0.2", "127.0.0.3")
	o := startOut(t, f.port, twoDomains, func(c *Config) { c.MaxDeliveries, c.MaxDeliveriesPerDestination = 3, 2 })
	for i := range 4 {
		o.send(t, "a@sender.test", []string{fmt.Sprintf("r%d@remote.test", i)}, "Subject: r\n\nx\n")
		o.send(t, "a@sender.test", []string{fmt.Sprintf("l%d@live.test", i)}, "Subject: l\n\nx\n")
	}
	// Held at the greeting, the sessions pile up to the limit.
	waitFor(t, 10*time.Second, "three sessions", func() bool { return f.connCount() == 3 })
	close(stall)
	waitFor(t, 20*time.Second, "every delivery", func() bool { return len(f.messages()) == 8 })
	peak, at := f.peaks()
	if peak != 3 || at["127.0.0.2"] > 2 || at["127.0.0.3"] > 2 || at["127.0.0.2"]+at["127.0.0.3"] < 3 {
		t.Errorf("most sessions at once: %d in all, %v per domain; limits 3 and 2", peak, at)
	}
}

// A host that hangs does not hold up another domain's mail, not even
// the other recipient of a message it shares.
func TestOutboundDeadHostDoesNotDelayOthers(t *testing.T) {
	stall := make(chan struct{})
	dead := startFake(t, &fakeSMTP{stall: stall}, "127.0.0.2")
	live := startFake(t, &fakeSMTP{port: dead.port}, "127.0.0.3")
	t.Cleanup(func() { close(stall) }) // before the fakes' cleanups
	o := startOut(t, dead.port, twoDomains, func(c *Config) { c.RetryInterval = time.Hour })
	for i := range 3 {
		o.send(t, "a@sender.test", []string{fmt.Sprintf("r%d@remote.test", i)}, "Subject: r\n\nx\n")
	}
	waitFor(t, 10*time.Second, "the dead host's sessions", func() bool { return dead.connCount() == 3 })
	o.send(t, "a@sender.test", []string{"both@remote.test", "both@live.test"}, "Subject: both\n\nx\n")
	for i := range 3 {
		o.send(t, "a@sender.test", []string{fmt.Sprintf("l%d@live.test", i)}, "Subject: l\n\nx\n")
	}
	waitFor(t, 10*time.Second, "the live domain's mail", func() bool { return len(live.messages()) == 4 })
	if n := len(dead.messages()); n != 0 {
		t.Errorf("the stalled host got %d messages", n)
	}
	if n := dead.connCount(); n != 4 {
		t.Errorf("%d sessions at the stalled host, want 4", n)
	}
}

// A host that fails is skipped by the next message, without a
// connection, until its retry time; the record is in the spool's
// db/retry; a flush (force, Exim's -qff) connects again.
func TestOutboundHostRetry(t *testing.T) {
	f := startFake(t, &fakeSMTP{banner: []string{"421 4.3.2 busy"}}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.RetryInterval = time.Hour })
	o.send(t, "a@sender.test", []string{"one@remote.test"}, "Subject: 1\n\nx\n")
	waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
	spool := o.ts.srv.Config().Spool
	if _, err := os.Stat(filepath.Join(spool, "db", "retry")); err != nil {
		t.Fatalf("no retry database: %v", err)
	}
	o.send(t, "a@sender.test", []string{"two@remote.test"}, "Subject: 2\n\nx\n")
	waitFor(t, 10*time.Second, "the second message's attempt", func() bool {
		return strings.Contains(o.ts.logs.String(), "host retry time not reached")
	})
	waitFor(t, 10*time.Second, "its deferral", func() bool {
		envs, _, _ := o.ts.srv.Queue().Spool.List()
		for _, e := range envs {
			if e.Rcpts[0].Addr == "two@remote.test" && e.Attempts == 1 {
				if e.Rcpts[0].Message != remote.RetryTimeNotReached {
					t.Fatalf("second message: %+v", e.Rcpts[0])
				}
				return true
			}
		}
		return false
	})
	if n := f.connCount(); n != 1 {
		t.Fatalf("%d connections: the second message did not skip the host", n)
	}
	o.ts.srv.Queue().RunOnce(context.Background(), true)
	if n := f.connCount(); n != 3 {
		t.Errorf("%d connections after a forced run, want 3", n)
	}
}

// Messages waiting for a host take the connection of the one before:
// with one delivery per domain at a time, three messages held behind a
// slow greeting go out on one connection, RSET between them.
func TestOutboundConnectionReuse(t *testing.T) {
	stall := make(chan struct{})
	f := startFake(t, &fakeSMTP{stall: stall}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.MaxDeliveriesPerDestination = 1 })
	for i := range 3 {
		o.send(t, "a@sender.test", []string{fmt.Sprintf("r%d@remote.test", i)}, "Subject: reuse\n\nx\n")
	}
	waitFor(t, 10*time.Second, "the first session", func() bool { return f.connCount() == 1 })
	// The other two are spooled and wait for the destination.
	waitFor(t, 10*time.Second, "three queued", func() bool {
		envs, _, _ := o.ts.srv.Queue().Spool.List()
		return len(envs) == 3
	})
	close(stall)
	waitFor(t, 10*time.Second, "three deliveries", func() bool { return len(f.messages()) == 3 })
	waitFor(t, 10*time.Second, "QUIT", func() bool { return strings.Contains(f.transcript(), "C: QUIT") })
	if n := f.connCount(); n != 1 {
		t.Errorf("%d connections for three waiting messages", n)
	}
	if n := strings.Count(f.transcript(), "C: RSET"); n != 2 {
		t.Errorf("%d RSETs:\n%s", n, f.transcript())
	}
	waitFor(t, 5*time.Second, "msg:complete x3", func() bool { return strings.Count(strings.Join(o.rec.names(), " "), "msg:complete") == 3 })
	names := strings.Join(o.rec.names(), " ")
	if strings.Count(names, "tcp:connect") != 1 || strings.Count(names, "tcp:close") != 1 || strings.Count(names, "msg:delivery") != 3 {
		t.Errorf("events %s", names)
	}
}
