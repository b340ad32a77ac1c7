package tlsconf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// testNow is the tests' clock: certificates, responses, the stapler
// and the clients all use it.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

type testCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// sharedRSAKey saves generating a 2048-bit key per test.
func sharedRSAKey(t testing.TB) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

type certOpts struct {
	name    string // CN and, for leaves, the DNS name
	serial  int64
	ca      bool
	rsa     bool
	ocspURL string
}

func mkCert(t testing.TB, parent *testCert, o certOpts) *testCert {
	t.Helper()
	var key crypto.Signer
	if o.rsa {
		key = sharedRSAKey(t)
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(o.serial),
		Subject:      pkix.Name{CommonName: o.name},
		NotBefore:    testNow.Add(-30 * 24 * time.Hour),
		NotAfter:     testNow.Add(60 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if o.rsa {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if o.ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{o.name}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if o.ocspURL != "" {
		tmpl.OCSPServer = []string{o.ocspURL}
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: c, key: key}
}

// pki is a root, an intermediate, and two leaves the intermediate
// issued: mx.example (ECDSA) and mail.other.example (RSA).
type pki struct {
	root, inter, mx, other *testCert
	pool                   *x509.CertPool
}

func newPKI(t testing.TB, ocspURL string) *pki {
	t.Helper()
	p := &pki{}
	p.root = mkCert(t, nil, certOpts{name: "Test Root", serial: 1, ca: true})
	p.inter = mkCert(t, p.root, certOpts{name: "Test Intermediate", serial: 2, ca: true})
	p.mx = mkCert(t, p.inter, certOpts{name: "mx.example", serial: 100, ocspURL: ocspURL})
	p.other = mkCert(t, p.inter, certOpts{name: "mail.other.example", serial: 200, rsa: true, ocspURL: ocspURL})
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.root.cert)
	return p
}

func certPEM(cs ...*testCert) []byte {
	var b []byte
	for _, c := range cs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})...)
	}
	return b
}

// keyPEM encodes c's key: SEC 1 for ECDSA, PKCS #8 for RSA (two of the
// three forms New reads), or PKCS #1 with pkcs1.
func keyPEM(t testing.TB, c *testCert, pkcs1 bool) []byte {
	t.Helper()
	switch k := c.key.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	case *rsa.PrivateKey:
		if pkcs1 {
			return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	t.Fatalf("key type %T", c.key)
	return nil
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// files writes the usual layout: mx.pem (leaf, chain) with its key in
// mx.key, other.pem holding leaf, chain and key.
type layout struct {
	dir                     string
	mxCert, mxKey, otherPEM string
}

func writeLayout(t testing.TB, p *pki) layout {
	t.Helper()
	d := t.TempDir()
	return layout{
		dir:      d,
		mxCert:   writeFile(t, d, "mx.pem", certPEM(p.mx, p.inter)),
		mxKey:    writeFile(t, d, "mx.key", keyPEM(t, p.mx, false)),
		otherPEM: writeFile(t, d, "other.pem", append(certPEM(p.other, p.inter), keyPEM(t, p.other, false)...)),
	}
}

func (l layout) config() Config {
	return Config{
		Certificates: []string{l.mxCert, l.otherPEM},
		PrivateKeys:  []string{l.mxKey}, // short list: other.pem has its key
		Now:          fixedNow,
	}
}

type respOpts struct {
	status     int
	thisUpdate time.Time
	nextUpdate time.Time
}

// mkResp signs a response about cert by issuer (CreateResponse).
func mkResp(t testing.TB, cert, issuer *testCert, o respOpts) []byte {
	t.Helper()
	der, err := mkRespErr(cert.cert.SerialNumber, issuer, o)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mkRespErr(serial *big.Int, issuer *testCert, o respOpts) ([]byte, error) {
	if o.thisUpdate.IsZero() {
		o.thisUpdate = testNow.Add(-time.Hour)
	}
	if o.nextUpdate.IsZero() {
		o.nextUpdate = testNow.Add(24 * time.Hour)
	}
	return xocsp.CreateResponse(issuer.cert, issuer.cert, xocsp.Response{
		Status:       o.status,
		SerialNumber: serial,
		ThisUpdate:   o.thisUpdate,
		NextUpdate:   o.nextUpdate,
	}, issuer.key)
}

func pemResp(ders ...[]byte) []byte {
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: d})...)
	}
	return b
}

// dial does a real handshake on 127.0.0.1 against cfg. serverName ""
// sends no SNI. roots nil skips the client's verification (for no SNI
// or a name no certificate has; the test checks the certificate
// itself). maxVersion 0 is the default.
func dial(t testing.TB, cfg *tls.Config, roots *x509.CertPool, serverName string, maxVersion uint16) (client, server tls.ConnectionState) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type result struct {
		cs  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		sc := tls.Server(c, cfg)
		err = sc.HandshakeContext(ctx)
		done <- result{sc.ConnectionState(), err}
	}()

	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cc := tls.Client(raw, &tls.Config{
		ServerName:         serverName,
		RootCAs:            roots,
		Time:               fixedNow,
		MaxVersion:         maxVersion,
		InsecureSkipVerify: roots == nil,
	})
	if err := cc.HandshakeContext(ctx); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("server handshake: %v", r.err)
	}
	return cc.ConnectionState(), r.cs
}

// logs collects Logf lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.lines {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
