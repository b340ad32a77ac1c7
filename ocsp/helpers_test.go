package ocsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// testNow is the tests' fixed "now".
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

type testCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// tlsCert returns the certificate with chain for a tls.Config.
func (c *testCert) tlsCert(chain ...*testCert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{c.cert.Raw}, PrivateKey: c.key, Leaf: c.cert}
	for _, x := range chain {
		tc.Certificate = append(tc.Certificate, x.cert.Raw)
	}
	return tc
}

type certOpts struct {
	serial    int64
	ca        bool
	ocspSign  bool
	ocspURL   string
	notBefore time.Time
	notAfter  time.Time
	name      string
}

// mkCert makes a certificate; parent nil means self-signed.
func mkCert(t testing.TB, parent *testCert, o certOpts) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = testNow.Add(-365 * 24 * time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = testNow.Add(365 * 24 * time.Hour)
	}
	if o.name == "" {
		o.name = "mx.example.test"
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(o.serial),
		Subject:      pkix.Name{CommonName: o.name},
		NotBefore:    o.notBefore,
		NotAfter:     o.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if o.ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{o.name}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if o.ocspSign {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	}
	if o.ocspURL != "" {
		tmpl.OCSPServer = []string{o.ocspURL}
	}
	signer, signKey := tmpl, crypto.Signer(key)
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

type respOpts struct {
	status     CertStatus
	thisUpdate time.Time
	nextUpdate time.Time
	noNext     bool
	signer     *testCert // delegated responder; nil: the issuer
	serial     *big.Int  // default: the certificate's
}

// mkResp makes a DER response about cert from issuer.
func mkResp(t testing.TB, cert, issuer *testCert, o respOpts) []byte {
	t.Helper()
	if o.thisUpdate.IsZero() {
		o.thisUpdate = testNow.Add(-time.Hour)
	}
	if o.nextUpdate.IsZero() && !o.noNext {
		o.nextUpdate = testNow.Add(24 * time.Hour)
	}
	tmpl := xocsp.Response{
		Status:       int(o.status),
		SerialNumber: cert.cert.SerialNumber,
		ThisUpdate:   o.thisUpdate,
		NextUpdate:   o.nextUpdate,
	}
	if o.serial != nil {
		tmpl.SerialNumber = o.serial
	}
	if o.status == Revoked {
		tmpl.RevokedAt = testNow.Add(-48 * time.Hour)
		tmpl.RevocationReason = xocsp.KeyCompromise
	}
	signer := issuer
	if o.signer != nil {
		signer = o.signer
		tmpl.Certificate = o.signer.cert
	}
	der, err := xocsp.CreateResponse(issuer.cert, signer.cert, tmpl, signer.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// writeTemp writes data to a new file in dir.
func writeTemp(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// responder is an in-process OCSP responder on 127.0.0.1.
type responder struct {
	issuer *testCert
	mu     sync.Mutex
	status map[string]CertStatus // serial (decimal) → status
	resp   respOpts
	gets   int
	posts  int
}

func startResponder(t testing.TB, issuer *testCert) (*responder, *httptest.Server) {
	r := &responder{issuer: issuer, status: map[string]CertStatus{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *responder) set(serial int64, s CertStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[big.NewInt(serial).String()] = s
}

func (r *responder) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	var body []byte
	switch hr.Method {
	case http.MethodGet:
		b, err := decodeGETPath(hr.URL.EscapedPath())
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = b
	case http.MethodPost:
		b := make([]byte, 0, 512)
		buf := make([]byte, 512)
		for {
			n, err := hr.Body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		body = b
	}
	req, err := xocsp.ParseRequest(body)
	if err != nil {
		w.Write(xocsp.MalformedRequestErrorResponse)
		return
	}
	r.mu.Lock()
	if hr.Method == http.MethodGet {
		r.gets++
	} else {
		r.posts++
	}
	st, ok := r.status[req.SerialNumber.String()]
	o := r.resp
	r.mu.Unlock()
	if !ok {
		st = Unknown
	}
	o.status = st
	o.serial = req.SerialNumber
	fake := &testCert{cert: &x509.Certificate{SerialNumber: req.SerialNumber}}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(mkRespT(o, fake, r.issuer))
}

// mkRespT is mkResp without a testing.TB, for the handler.
func mkRespT(o respOpts, cert, issuer *testCert) []byte {
	var ft fatalT
	return mkResp(&ft, cert, issuer, o)
}

type fatalT struct{ testing.TB }

func (fatalT) Helper()        {}
func (fatalT) Fatal(a ...any) { panic(a) }

func decodeGETPath(p string) ([]byte, error) {
	s := strings.TrimPrefix(p, "/")
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return base64.StdEncoding.DecodeString(s)
}

func pemResp(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: der})
}
