//go:build interop

// Inbound TLS with OCSP stapling against real clients: openssl s_client
// -starttls smtp -status shows our staple and verifies it, and a
// private Exim 4.96 with hosts_require_ocsp = * delivers to us with a
// good staple and refuses without one.

package mta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/tlsconf"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"golang.org/x/crypto/ocsp"
)

// ocspPKI is a CA, a leaf for mx.example and OCSP responses for it, as
// files.
type ocspPKI struct {
	dir, caFile, certFile, keyFile string
	ca, leaf                       *x509.Certificate
	caKey                          crypto.Signer
}

func newOCSPPKI(t *testing.T, dir string) *ocspPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test OCSP CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "mx.example"}, DNSNames: []string{"mx.example"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		OCSPServer: []string{"http://127.0.0.1:1/"}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	p := &ocspPKI{dir: dir, ca: ca, leaf: leaf, caKey: caKey,
		caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "mx.pem"), keyFile: filepath.Join(dir, "mx.key")}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name string, blocks ...*pem.Block) {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(p.caFile, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	write(p.certFile, &pem.Block{Type: "CERTIFICATE", Bytes: leafDER}, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	write(p.keyFile, &pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	return p
}

// response writes a DER OCSP response for the leaf, valid from this to
// next, and returns its file.
func (p *ocspPKI) response(t *testing.T, name string, this, next time.Time) string {
	t.Helper()
	der, err := ocsp.CreateResponse(p.ca, p.ca, ocsp.Response{Status: ocsp.Good, SerialNumber: p.leaf.SerialNumber,
		ThisUpdate: this, NextUpdate: next}, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, der, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// startOCSPServer runs the MTA with the leaf and the OCSP file (DER).
func startOCSPServer(t *testing.T, p *ocspPKI, ocspFile string) *testServer {
	t.Helper()
	tc, err := tlsconf.New(tlsconf.Config{Certificates: []string{p.certFile}, PrivateKeys: []string{p.keyFile}, OCSPFiles: "DER " + ocspFile})
	if err != nil {
		t.Fatal(err)
	}
	return start(t, func(c *Config) { c.InboundTLS = tc.TLSConfig() })
}

func sClient(t *testing.T, p *ocspPKI, addr string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		peertest.Unavailable(t, "openssl", "not installed")
	}
	cmd := exec.Command("openssl", "s_client", "-starttls", "smtp", "-connect", addr, "-servername", "mx.example",
		"-status", "-CAfile", p.caFile, "-verify_return_error")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestInteropOpenSSLStaple(t *testing.T) {
	p := newOCSPPKI(t, t.TempDir())
	now := time.Now()
	good := p.response(t, "good.der", now.Add(-time.Minute), now.Add(time.Hour))
	ts := startOCSPServer(t, p, good)
	out := sClient(t, p, ts.addr)
	for _, want := range []string{"OCSP Response Status: successful", "Cert Status: good", "Verify return code: 0 (ok)"} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl s_client lacks %q:\n%s", want, out)
		}
	}
	// An expired response is not stapled; the handshake still works.
	expired := p.response(t, "expired.der", now.Add(-3*time.Hour), now.Add(-2*time.Hour))
	ts2 := startOCSPServer(t, p, expired)
	out = sClient(t, p, ts2.addr)
	if !strings.Contains(out, "OCSP response: no response sent") || !strings.Contains(out, "Verify return code: 0 (ok)") {
		t.Errorf("expired staple:\n%s", out)
	}
}

// eximClient is a private Exim 4.96 that routes every address to
// 127.0.0.1:port and requires a stapled OCSP response it can verify
// against our CA.
func eximClient(t *testing.T, p *ocspPKI, port int) (submit func(rcpt string) string, mainlog func() string) {
	t.Helper()
	exim, err := exec.LookPath("exim4")
	if err != nil {
		peertest.Unavailable(t, "Exim", "no exim4 in PATH")
	}
	eu, err := user.Lookup("Debian-exim")
	if err != nil || os.Geteuid() != 0 {
		peertest.Unavailable(t, "Exim", "needs root and the Debian-exim user")
	}
	dir, err := os.MkdirTemp("", "mta-ocsp-exim-") // Debian-exim must traverse it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range []string{"spool", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o750)
		if out, err := exec.Command("chown", "-R", eu.Uid+":"+eu.Gid, filepath.Join(dir, d)).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	ca := filepath.Join(dir, "ca.pem")
	b, _ := os.ReadFile(p.caFile)
	os.WriteFile(ca, b, 0o644)
	conf := "primary_hostname = client.test\n" +
		"spool_directory = " + dir + "/spool\n" +
		"log_file_path = " + dir + "/log/%slog\n" +
		"log_selector = +all -arguments\n" +
		"exim_user = Debian-exim\nexim_group = Debian-exim\nkeep_environment =\n" +
		"host_lookup =\nrfc1413_hosts =\n" +
		"begin routers\nto_mta:\n  driver = manualroute\n  route_list = * 127.0.0.1\n  transport = to_mta\n  self = send\n" +
		"begin transports\nto_mta:\n  driver = smtp\n  port = " + strconv.Itoa(port) + "\n" +
		"  hosts_require_tls = *\n  hosts_require_ocsp = *\n  tls_verify_certificates = " + ca + "\n" +
		"  tls_verify_hosts = *\n  tls_verify_cert_hostnames =\n  tls_sni = mx.example\n" +
		"begin retry\n* * F,1h,10m\n"
	confPath := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	submit = func(rcpt string) string {
		cmd := exec.Command(exim, "-C", confPath, "-odf", "-f", "sender@client.test", rcpt)
		cmd.Stdin = strings.NewReader("From: sender@client.test\nSubject: ocsp\n\nbody\n")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	mainlog = func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "log", "mainlog"))
		return string(b)
	}
	return submit, mainlog
}

func TestInteropEximRequiresOCSP(t *testing.T) {
	p := newOCSPPKI(t, t.TempDir())
	now := time.Now()
	good := p.response(t, "good.der", now.Add(-time.Minute), now.Add(time.Hour))
	ts := startOCSPServer(t, p, good)
	port := portOf(t, ts.addr)
	submit, mainlog := eximClient(t, p, port)
	out := submit("bob@example.com")
	if f := ts.files(t, ""); len(f) != 1 || !strings.Contains(headerOf(f[0], "Received"), "with ESMTPS (TLS1.") {
		t.Fatalf("with a good staple: %d messages; exim said %q\nmainlog:\n%s", len(f), out, mainlog())
	}
	if log := mainlog(); !strings.Contains(log, "=> bob@example.com") || !strings.Contains(log, "CV=yes") {
		t.Errorf("Exim's log lacks a verified delivery:\n%s", log)
	}
	t.Logf("Exim with a good staple: %s", lastLine(mainlog(), "=> bob@example.com"))

	// Without a staple (the response expired) Exim must not deliver.
	expired := p.response(t, "expired.der", now.Add(-3*time.Hour), now.Add(-2*time.Hour))
	ts2 := startOCSPServer(t, p, expired)
	submit2, mainlog2 := eximClient(t, p, portOf(t, ts2.addr))
	out = submit2("carol@example.com")
	if f := ts2.files(t, ""); len(f) != 0 {
		t.Errorf("delivered without a staple: %d messages", len(f))
	}
	log := mainlog2()
	if strings.Contains(log, "=> carol@example.com") || !strings.Contains(log, "== carol@example.com") {
		t.Errorf("Exim did not defer without a staple (%q):\n%s", out, log)
	}
	t.Logf("Exim without a staple: %s", lastLine(log, "== carol@example.com"))
}

func lastLine(log, prefix string) string {
	var l string
	for _, s := range strings.Split(log, "\n") {
		if strings.Contains(s, prefix) {
			l = s
		}
	}
	return l
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	if err != nil || n == 0 {
		t.Fatalf("address %q", addr)
	}
	return n
}
