//go:build interop

package ocsp

// Interop tests against the openssl command: its OCSP responder feeds
// our Fetcher, its s_client reads our staple, and its s_server staples
// for our client. Run with
//
//	go test -race -count=1 -tags interop ./ocsp
//
// The tests skip when openssl is not installed, unless
// MAILPOLICY_INTEROP_REQUIRED is non-empty, when they fail instead.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

func needOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		peertest.Unavailable(t, "openssl", "%v", err)
	}
	return p
}

// freePort returns a loopback port nothing listens on (just now).
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for the command's writes and the
// test's reads.
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

// startOpenSSL runs openssl with args for at most a minute, killed when
// the test ends, and waits until it is ready: until its output contains
// ready or, when ready is "", until addr accepts a connection. (The
// OCSP responder serves one connection at a time and stalls on a probe
// that sends nothing, hence the marker.)
func startOpenSSL(t *testing.T, bin, addr, ready string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ready != "" {
			if strings.Contains(out.String(), ready) {
				return out
			}
		} else if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return out
		}
		select {
		case <-done:
			t.Fatalf("openssl %s exited: %s", strings.Join(args, " "), out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("openssl %s not listening: %s", strings.Join(args, " "), out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	return writeTemp(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func writeKey(t *testing.T, dir, name string, c *testCert) string {
	der, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "PRIVATE KEY", der)
}

// realResp is a response dated around the real clock, which openssl uses.
func realResp(t *testing.T, cert, issuer *testCert, st CertStatus) []byte {
	now := time.Now()
	return mkResp(t, cert, issuer, respOpts{status: st, thisUpdate: now.Add(-time.Hour), nextUpdate: now.Add(time.Hour)})
}

func TestInteropOpenSSLResponder(t *testing.T) {
	bin := needOpenSSL(t)
	dir := t.TempDir()
	ca := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Interop CA", notBefore: time.Now().Add(-time.Hour), notAfter: time.Now().Add(48 * time.Hour)})
	caPEM := writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.cert.Raw)
	caKey := writeKey(t, dir, "ca.key", ca)
	exp := time.Now().Add(24 * time.Hour).UTC().Format("060102150405Z")
	rev := time.Now().Add(-time.Hour).UTC().Format("060102150405Z")
	index := fmt.Sprintf("V\t%s\t\t0A\tunknown\t/CN=good.test\nR\t%s\t%s\t0B\tunknown\t/CN=revoked.test\n", exp, exp, rev)
	idx := writeTemp(t, dir, "index.txt", []byte(index))
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// OpenSSL 3.0 takes a bare port number (and listens on every
	// interface); later versions take host:port.
	portArg := addr
	if help, _ := exec.Command(bin, "ocsp", "-help").CombinedOutput(); strings.Contains(string(help), "-port nonneg") || strings.Contains(string(help), "-port int") {
		portArg = fmt.Sprint(port)
	}
	startOpenSSL(t, bin, addr, "waiting for OCSP client connections", "ocsp", "-index", idx, "-port", portArg, "-rsigner", caPEM, "-rkey", caKey, "-CA", caPEM, "-ndays", "1", "-nrequest", "20")
	f := &Fetcher{}
	for serial, want := range map[int64]CertStatus{10: Good, 11: Revoked, 12: Unknown} {
		leaf := mkCert(t, ca, certOpts{serial: serial, ocspURL: "http://" + addr})
		got, err := f.Fetch(context.Background(), leaf.cert, ca.cert, "")
		if err != nil {
			t.Fatalf("serial %d: %v", serial, err)
		}
		if got.Status != want {
			t.Errorf("serial %d: %v, want %v", serial, got.Status, want)
		}
		if got.NextUpdate.IsZero() {
			t.Errorf("serial %d: no nextUpdate", serial)
		}
	}
	// A URL too long for GET: POST.
	leaf := mkCert(t, ca, certOpts{serial: 11})
	got, err := f.Fetch(context.Background(), leaf.cert, ca.cert, "http://"+addr+"/"+strings.Repeat("x", 300))
	if err != nil || got.Status != Revoked {
		t.Errorf("POST: %v", err)
	}
}

func TestInteropSClientSeesStaple(t *testing.T) {
	bin := needOpenSSL(t)
	p := newPKI(t)
	f := writeTemp(t, t.TempDir(), "a.der", realResp(t, p.a, p.ca1, Good))
	s, err := NewStapler(StaplerConfig{Certificates: p.certs()[:1], Files: f})
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, &tls.Config{GetCertificate: s.GetCertificate})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "s_client", "-connect", addr, "-servername", "a.test", "-status")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "OCSP Response Status: successful") {
		t.Errorf("s_client did not see the staple:\n%s", out)
	}
	if !strings.Contains(string(out), "Cert Status: good") {
		t.Errorf("s_client: no good status:\n%s", out)
	}
}

func TestInteropClientAgainstSServer(t *testing.T) {
	bin := needOpenSSL(t)
	if out, _ := exec.Command(bin, "s_server", "-help").CombinedOutput(); !strings.Contains(string(out), "-status_file") {
		t.Skip("openssl s_server has no -status_file")
	}
	p := newPKI(t)
	for _, c := range []struct {
		status CertStatus
		want   error
	}{{Good, nil}, {Revoked, ErrRevoked}, {Unknown, ErrUnknownStatus}} {
		t.Run(c.status.String(), func(t *testing.T) {
			dir := t.TempDir()
			cert := writePEM(t, dir, "a.pem", "CERTIFICATE", p.a.cert.Raw)
			key := writeKey(t, dir, "a.key", p.a)
			status := writeTemp(t, dir, "status.der", realResp(t, p.a, p.ca1, c.status))
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			startOpenSSL(t, bin, addr, "", "s_server", "-accept", addr, "-cert", cert, "-key", key,
				"-cert_chain", writePEM(t, dir, "ca.pem", "CERTIFICATE", p.ca1.cert.Raw), "-status_file", status, "-quiet")
			cl := &Client{RequestHosts: hostlist.MustParse(""), RequireHosts: hostlist.MustParse("*")}
			s := cl.Session("a.test", testIP)
			cfg := clientConfig("a.test", p.ca1)
			cfg.Time = nil
			_, err := dialTLS(t, addr, s.Config(cfg))
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("handshake: %v, want %v (status %v, %v)", err, c.want, s.Status(), s.Err())
			}
			wantStatus := Verified
			if c.want != nil {
				wantStatus = Failed
			}
			if s.Status() != wantStatus {
				t.Errorf("status %v, want %v", s.Status(), wantStatus)
			}
		})
	}
}
