package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/auth"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
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

// buildFrom builds the server as run would from a command line (with
// a temporary maildir unless args name one).
func buildFrom(t *testing.T, args ...string) *app {
	t.Helper()
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s, _, err := config.ParseArgs(fs, append([]string{"-maildir", t.TempDir()}, args...))
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	a, err := build(s, io.Discard)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	t.Cleanup(a.close)
	return a
}

// usageError runs the command line and wants exit 2 with msg on stderr.
func usageError(t *testing.T, msg string, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), msg) {
		t.Errorf("%q: exit %d, stderr %q; want 2 and %q", args, code, errb.String(), msg)
	}
}

func TestFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), "-dmarc-enforce") || !strings.Contains(out.String(), "queue COMMAND") {
		t.Errorf("-h: %d %q", code, out.String())
	}
	usageError(t, "-domains", "-domains", "")
	usageError(t, `unexpected argument "frob"`, "frob")
	c := buildFrom(t, "-domains", "Example.COM,example.org", "-optin", "a@example.com=strict:x",
		"-proxy-required", "10.0.0.0/8", "-dccifd", "127.0.0.1:1234", "-spamd", "127.0.0.1:783").srv.Config()
	if len(c.Domains) != 2 || c.Domains[0] != "example.com" || c.OptIn["a@example.com"] != "strict:x" || c.DCC.Address.Addr != "127.0.0.1:1234" ||
		c.Scanner == nil || c.ProxyRequired == nil || c.ProxyOptional != nil {
		t.Errorf("built: %+v", c)
	}
}

// A configuration file and flags over it, as an operator runs it.
func TestConfigFileAndPrintConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mta.toml")
	os.WriteFile(file, []byte("domains = [\"file.test\"]\nmax_size = 5000\nmaildir = \""+filepath.Join(dir, "md")+"\"\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-config", file, "-max-size", "6000", "-print-config"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `domains = ["file.test"]`) || !strings.Contains(out.String(), "max_size = 6000") {
		t.Errorf("effective configuration:\n%s", out.String())
	}
	os.WriteFile(file, []byte("max_size = -1\n"), 0o600)
	usageError(t, "mta.toml: max_size:", "-config", file)
	os.WriteFile(file, []byte("bogus = 1\n"), 0o600)
	usageError(t, "mta.toml: bogus: unknown key", "-config", file)
}

func TestPasswd(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"passwd", "-kind", "bcrypt"}, strings.NewReader("s3cret\n"), &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "$2a$") {
		t.Fatalf("passwd: %d %q %s", code, out.String(), errb.String())
	}
	users := filepath.Join(t.TempDir(), "users")
	os.WriteFile(users, []byte("alice:"+strings.TrimSpace(out.String())+"\n"), 0o600)
	u, err := auth.LoadUsers(users)
	if err != nil || !u.Verify("alice", "s3cret") || u.Verify("alice", "other") {
		t.Errorf("the printed hash does not verify: %v", err)
	}
	if code := run(context.Background(), []string{"passwd"}, strings.NewReader(""), &out, &errb); code != exitUsage {
		t.Errorf("empty password: exit %d", code)
	}
}

// running is run in the background with args; stop cancels it and
// returns its exit code and output.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan int
	out    syncBuffer
	errb   syncBuffer
}

func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- run(ctx, args, nil, &r.out, &r.errb) }()
	return r
}

// stop ends the run and wants exit 0 within ten seconds.
func (r *running) stop() {
	r.t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		if code != exitOK {
			r.t.Errorf("exit %d: %s", code, r.errb.String())
		}
	case <-time.After(10 * time.Second):
		r.t.Fatal("run did not return")
	}
}

func TestRunSignal(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	r := startRun(t, "-listen", addr, "-hostname", "mx.example", "-domains", "example.com", "-maildir", dir,
		"-dmarc-history", filepath.Join(dir, "hist"), "-event-exec", "cat >/dev/null")
	c := dialRun(t, addr)
	c.ok("EHLO client.test", 250)
	c.ok("QUIT", 221)
	r.stop()
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
	addr := freeAddr(t)
	r := startRun(t, "-listen", addr, "-hostname", "mx.example", "-domains", "example.com", "-maildir", t.TempDir(),
		"-event-webhook", hs.URL)
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
	r.stop()
}

func TestOutboundFlags(t *testing.T) {
	c := buildFrom(t, "-domains", "example.com", "-spool", t.TempDir(), "-relay-from", "127.0.0.1",
		"-smtp-port", "2525", "-forward", "a@example.com=b@other.test", "-srs-secret", "k", "-srs-domain", "srs.example.com",
		"-dane-require", "*.secure.test", "-ocsp-require", "*").srv.Config()
	if c.SMTPPort != 2525 || c.Forwards["a@example.com"] != "b@other.test" || c.SRS == nil ||
		c.SRSDomain != "srs.example.com" || c.OCSP == nil || c.OCSP.RequestHosts != nil || c.RelayFrom == nil {
		t.Errorf("built: %+v", c)
	}
	usageError(t, "spool", "-domains", "example.com", "-forward", "a@example.com=b@other.test", "-srs-secret", "k")
	usageError(t, "srs_secret", "-domains", "example.com", "-spool", "/tmp/s", "-srs-redis", "127.0.0.1:6379")
}

func TestLimitFlags(t *testing.T) {
	c := buildFrom(t, "-max-sessions", "5", "-max-sessions-per-host", "-1", "-data-timeout", "1m", "-max-data-memory", "50000000").srv.Config()
	if c.MaxSessions != 5 || c.MaxSessionsPerHost != -1 || c.DataTimeout != time.Minute || c.MaxDataMemory != 50000000 {
		t.Errorf("built: %+v", c)
	}
	usageError(t, "-max-data-memory: 100 is below", "-max-size", "1000000", "-max-data-memory", "100")
}

// The MTA fails closed: a loopback SPF pass must be asked for, since a
// PROXY list that misses the balancer makes every client 127.0.0.1.
func TestSPFLocalhostPassFlagOptIn(t *testing.T) {
	if buildFrom(t).srv.Config().SPFLocalhostPass {
		t.Error("SPF localhost pass on by default")
	}
	if !buildFrom(t, "-spf-localhost-pass").srv.Config().SPFLocalhostPass {
		t.Error("-spf-localhost-pass ignored")
	}
}

// With nothing but a free port the built-in defaults serve: a test
// domain into ./Maildir, and the greeting says how to send it mail.
func TestRunDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	addr := freeAddr(t)
	r := startRun(t, "-listen", addr)
	c := dialRun(t, addr)
	c.ok("HELO me", 250)
	c.ok("MAIL FROM:<>", 250)
	c.ok("RCPT TO:<postmaster@example.test>", 250)
	c.ok("DATA", 354)
	c.ok("Subject: hello\r\n\r\nhi\r\n.", 250)
	c.ok("QUIT", 221)
	r.stop()
	if out := r.out.String(); !strings.Contains(out, "RCPT TO:<postmaster@example.test>") || !strings.Contains(out, "./Maildir/new/") {
		t.Errorf("greeting:\n%s", out)
	}
	if files, _ := filepath.Glob("Maildir/new/*"); len(files) != 1 {
		t.Errorf("%d messages in ./Maildir/new", len(files))
	}
}

// writeCert writes a self-signed certificate and key for name as PEM
// files and returns their paths.
func writeCert(t *testing.T, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The listeners the settings name all serve: SMTP with STARTTLS, the
// implicit-TLS submissions port with AUTH, and the metrics page, which
// counts what happened on the other two.
func TestRunListeners(t *testing.T) {
	cert, key := writeCert(t, "mx.example")
	hash, err := auth.HashPassword("pw", auth.KindBcrypt)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users")
	os.WriteFile(users, []byte("alice:"+hash+"\n"), 0o600)
	smtpAddr, subAddr, metricsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	r := startRun(t, "-listen", smtpAddr, "-submissions-listen", subAddr, "-metrics-listen", metricsAddr,
		"-hostname", "mx.example", "-domains", "example.com", "-maildir", t.TempDir(),
		"-tls-certificate", cert, "-tls-privatekey", key, "-auth-users-file", users)
	c := dialRun(t, smtpAddr)
	c.ok("EHLO client.test", 250)
	c.ok("STARTTLS", 220) // the certificate is there, so STARTTLS is offered

	var conn *tls.Conn
	for range 100 {
		if conn, err = tls.Dial("tcp", subAddr, &tls.Config{InsecureSkipVerify: true}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	tc := &rawClient{t: t, c: textproto.NewConn(conn)}
	if _, _, err := tc.c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	tc.ok("EHLO client.test", 250)
	tc.ok("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00alice\x00pw")), 235)
	tc.ok("QUIT", 221)
	conn.Close()

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`mta_connections_total{listener="submissions"} 1`, `mta_auth_attempts_total{mechanism="plain",result="pass"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	r.stop()
	// The metrics listener is closed with the server.
	if _, err := http.Get("http://" + metricsAddr + "/healthz"); err == nil {
		t.Error("metrics still served after shutdown")
	}
}

// [[dkim]] entries become the courier's signers; a bad key is an error
// at start naming the dkim key.
func TestDKIMSettingsBuilt(t *testing.T) {
	_, key := writeCert(t, "unused") // an EC key: dkim wants RSA or Ed25519
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	kb, _ := x509.MarshalPKCS8PrivateKey(priv)
	good := filepath.Join(t.TempDir(), "ed.pem")
	os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	a := buildFrom(t, "-domains", "example.com", "-dkim-domain", "example.com", "-dkim-selector", "ed", "-dkim-private-key", good)
	if s := a.srv.Config().DKIMSign; s == nil || s.For("news.example.com") == nil || s.For("other.test") != nil {
		t.Errorf("signers %+v", s)
	}
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s, _, err := config.ParseArgs(fs, []string{"-maildir", t.TempDir(), "-dkim-domain", "example.com", "-dkim-selector", "ec", "-dkim-private-key", key})
	if err == nil {
		err = s.Validate()
	}
	if err == nil {
		_, err = build(s, io.Discard)
	}
	if err == nil || !strings.Contains(err.Error(), "dkim") {
		t.Errorf("an EC key for DKIM: %v", err)
	}
}
