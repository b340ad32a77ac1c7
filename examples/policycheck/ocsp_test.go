package main

// Black-box tests of ocsp-fetch against an in-process OCSP responder on
// 127.0.0.1. The binary runs with the real clock, so the certificates
// and responses are dated around time.Now.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/ocsp"
	xocsp "golang.org/x/crypto/ocsp"
)

type ocspTestCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func ocspMkCert(t *testing.T, parent *ocspTestCert, serial int64, ca bool, aia string) *ocspTestCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "policycheck test " + big.NewInt(serial).String()},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	}
	if aia != "" {
		tmpl.OCSPServer = []string{aia}
	}
	signer, signKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ocspTestCert{cert: c, key: key}
}

// ocspResponder answers for ca: serial 10 good, 11 revoked, others
// unknown.
func ocspResponder(t *testing.T, ca *ocspTestCert) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Method == http.MethodPost {
			body, _ = io.ReadAll(r.Body)
		} else {
			s, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"))
			body, _ = base64.StdEncoding.DecodeString(s)
		}
		req, err := xocsp.ParseRequest(body)
		if err != nil {
			w.Write(xocsp.MalformedRequestErrorResponse)
			return
		}
		status := xocsp.Unknown
		switch req.SerialNumber.Int64() {
		case 10:
			status = xocsp.Good
		case 11:
			status = xocsp.Revoked
		}
		der, err := xocsp.CreateResponse(ca.cert, ca.cert, xocsp.Response{
			Status: status, SerialNumber: req.SerialNumber,
			ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
			RevokedAt: time.Now().Add(-time.Hour),
		}, ca.key)
		if err != nil {
			t.Error(err)
			return
		}
		w.Write(der)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ocspWritePEM(t *testing.T, dir, name string, c *x509.Certificate) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOCSPFetchSubcommand(t *testing.T) {
	dir := t.TempDir()
	ca := ocspMkCert(t, nil, 1, true, "")
	srv := ocspResponder(t, ca)
	issuer := ocspWritePEM(t, dir, "ca.pem", ca.cert)
	for serial, want := range map[int64]string{10: "good", 11: "revoked", 12: "unknown"} {
		leaf := ocspMkCert(t, ca, serial, false, srv.URL)
		cert := ocspWritePEM(t, dir, "leaf.pem", leaf.cert)
		out := filepath.Join(dir, "ocsp.der")
		code, stdout, stderr := policycheck(t, "ocsp-fetch", "-cert", cert, "-issuer", issuer, "-out", out)
		if code != 0 {
			t.Fatalf("serial %d: exit %d: %s", serial, code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 4 || lines[0] != "ocsp_status="+want ||
			!strings.HasPrefix(lines[1], "ocsp_this_update=20") ||
			!strings.HasPrefix(lines[2], "ocsp_next_update=20") ||
			lines[3] != "ocsp_responder="+srv.URL {
			t.Errorf("serial %d: output %q", serial, stdout)
		}
		der, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := (&ocsp.Fetcher{}).Verify(der, leaf.cert, ca.cert); err != nil || r.Status.String() != want {
			t.Errorf("serial %d: written file: %v", serial, err)
		}
	}
	// -url overrides the AIA URL; -pem writes PEM; -json.
	leaf := ocspMkCert(t, ca, 10, false, "")
	cert := ocspWritePEM(t, dir, "noaia.pem", leaf.cert)
	out := filepath.Join(dir, "ocsp.pem")
	code, stdout, stderr := policycheck(t, "ocsp-fetch", "-cert", cert, "-issuer", issuer, "-out", out, "-url", srv.URL, "-pem", "-json")
	if code != 0 || !strings.HasPrefix(stdout, `{"ocsp_status":"good",`) {
		t.Errorf("-url -pem -json: exit %d %q %s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "-----BEGIN OCSP RESPONSE-----") {
		t.Errorf("-pem: file %q", b)
	}
}

func TestOCSPFetchUsage(t *testing.T) {
	dir := t.TempDir()
	ca := ocspMkCert(t, nil, 1, true, "")
	issuer := ocspWritePEM(t, dir, "ca.pem", ca.cert)
	noAIA := ocspWritePEM(t, dir, "leaf.pem", ocspMkCert(t, ca, 10, false, "").cert)
	out := filepath.Join(dir, "o")
	for _, args := range [][]string{
		{},
		{"-cert", noAIA, "-issuer", issuer},
		{"-cert", noAIA, "-issuer", issuer, "-out", out}, // no URL anywhere
		{"-cert", filepath.Join(dir, "missing"), "-issuer", issuer, "-out", out, "-url", "http://127.0.0.1:1"},
		{"-cert", noAIA, "-issuer", issuer, "-out", out, "-timeout", "0s", "-url", "http://127.0.0.1:1"},
		{"-cert", noAIA, "-issuer", issuer, "-out", out, "extra"},
		{"-bogus"},
	} {
		code, _, stderr := policycheck(t, append([]string{"ocsp-fetch"}, args...)...)
		if code != 2 || !strings.Contains(stderr, "usage:") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
	if code, stdout, _ := policycheck(t, "ocsp-fetch", "-h"); code != 0 || !strings.Contains(stdout, "-issuer") {
		t.Errorf("-h: exit %d", code)
	}
	// A responder that is not there: not a usage error, not an OCSP result.
	code, _, stderr := policycheck(t, "ocsp-fetch", "-cert", noAIA, "-issuer", issuer, "-out", out, "-url", "http://127.0.0.1:1", "-timeout", "2s")
	if code != 1 || stderr == "" {
		t.Errorf("unreachable responder: exit %d %q", code, stderr)
	}
}
