package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// stsCA is a test CA: its certificate as a PEM file for -cafile, and
// server certificates it issues.
type stsCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newSTSCA(t *testing.T, name string) *stsCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &stsCA{cert: cert, key: key, file: file}
}

func (ca *stsCA) issue(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// stsServer serves policies by host name over TLS on loopback, each
// host with its certificate; it returns the server's address.
func stsServer(t *testing.T, certs map[string]*tls.Certificate, bodies map[string]string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[strings.Split(r.Host, ":")[0]]
		if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}))
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return certs[h.ServerName], nil }}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// stsFixture: enforce.test (enforce, MX mx1 matching and mx.other.test
// not), testing.test, none.test, nopolicy.test (no record),
// badcert.test (a certificate from another CA).
func stsFixture(t *testing.T) (ns, connect, cafile string) {
	t.Helper()
	ca, other := newSTSCA(t, "test CA"), newSTSCA(t, "other CA")
	z := resolvertest.NewZone()
	z.MustAdd(t,
		`_mta-sts.enforce.test. TXT "v=STSv1; id=e1;"`,
		"enforce.test. MX 10 mx1.enforce.test.", "enforce.test. MX 20 mx.other.test.",
		`_mta-sts.testing.test. TXT "v=STSv1; id=t1;"`,
		"testing.test. MX 10 mx.testing.test.", "testing.test. MX 20 mx.elsewhere.test.",
		`_mta-sts.none.test. TXT "v=STSv1; id=n1;"`, "none.test. MX 10 mx.none.test.",
		"nopolicy.test. MX 10 mx.nopolicy.test.",
		`_mta-sts.badcert.test. TXT "v=STSv1; id=b1;"`, "badcert.test. MX 10 mx.badcert.test.",
		"nomx.test. A 192.0.2.1",
	)
	srvDNS := resolvertest.Start(t, z)
	certs := map[string]*tls.Certificate{
		"mta-sts.enforce.test": ca.issue(t, "mta-sts.enforce.test"),
		"mta-sts.testing.test": ca.issue(t, "mta-sts.testing.test"),
		"mta-sts.none.test":    ca.issue(t, "mta-sts.none.test"),
		"mta-sts.badcert.test": other.issue(t, "mta-sts.badcert.test"),
	}
	bodies := map[string]string{
		"mta-sts.enforce.test": "version: STSv1\r\nmode: enforce\r\nmx: mx1.enforce.test\r\nmx: *.mx.enforce.test\r\nmax_age: 86400\r\n",
		"mta-sts.testing.test": "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 604800\n",
		"mta-sts.none.test":    "version: STSv1\nmode: none\nmax_age: 100\n",
		"mta-sts.badcert.test": "version: STSv1\nmode: enforce\nmx: mx.badcert.test\nmax_age: 100\n",
	}
	return srvDNS.Addr, stsServer(t, certs, bodies), ca.file
}

// vars parses name=value lines.
func vars(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("line %q", l)
		}
		m[k] = v
	}
	return m
}

func TestMTASTS(t *testing.T) {
	ns, connect, cafile := stsFixture(t)
	base := []string{"mta-sts", "-nameserver", ns, "-connect", connect, "-cafile", cafile}
	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"enforce.test"}, map[string]string{
			"mta_sts_domain": "enforce.test", "mta_sts_result": "policy", "mta_sts_id": "e1", "mta_sts_mode": "enforce",
			"mta_sts_max_age": "86400", "mta_sts_mx": "mx1.enforce.test *.mx.enforce.test", "mta_sts_error": "",
			"mx_count": "2", "mx_1": "mx1.enforce.test", "mx_1_match": "yes", "mx_1_verdict": "allowed",
			"mx_2": "mx.other.test", "mx_2_match": "no", "mx_2_verdict": "refused"}},
		{[]string{"enforce.test", "a.mx.enforce.test", "a.b.mx.enforce.test", "MX1.Enforce.Test."}, map[string]string{
			"mx_count": "3", "mx_1_match": "yes", "mx_2_match": "no", "mx_2_verdict": "refused", "mx_3_match": "yes"}},
		{[]string{"testing.test"}, map[string]string{
			"mta_sts_result": "policy", "mta_sts_mode": "testing", "mta_sts_max_age": "604800", "mta_sts_id": "t1",
			"mx_1": "mx.testing.test", "mx_1_verdict": "deliver", "mx_2": "mx.elsewhere.test", "mx_2_match": "no", "mx_2_verdict": "report"}},
		{[]string{"none.test"}, map[string]string{
			"mta_sts_result": "policy", "mta_sts_mode": "none", "mta_sts_mx": "", "mx_1_match": "no", "mx_1_verdict": "deliver"}},
		{[]string{"nopolicy.test"}, map[string]string{
			"mta_sts_result": "no-record", "mta_sts_id": "", "mta_sts_mode": "", "mx_1": "mx.nopolicy.test", "mx_1_verdict": "deliver"}},
		{[]string{"badcert.test"}, map[string]string{
			"mta_sts_result": "webpki-invalid", "mta_sts_id": "b1", "mta_sts_mode": "", "mx_1_verdict": "deliver"}},
		{[]string{"nomx.test"}, map[string]string{"mta_sts_result": "no-record", "mx_count": "1", "mx_1": "nomx.test"}},
	} {
		code, stdout, stderr := runCLI(t, append(base, tc.args...)...)
		if code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", tc.args, code, stderr)
			continue
		}
		got := vars(t, stdout)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: %s=%q, want %q\n%s", tc.args, k, got[k], v, stdout)
			}
		}
	}
	// The fetch error is said.
	_, stdout, _ := runCLI(t, append(base, "badcert.test")...)
	if e := vars(t, stdout)["mta_sts_error"]; !strings.Contains(e, "certificate signed by unknown authority") {
		t.Errorf("badcert error: %q", e)
	}
	// Without -cafile the system roots do not know the test CA.
	_, stdout, _ = runCLI(t, "mta-sts", "-nameserver", ns, "-connect", connect, "enforce.test")
	if r := vars(t, stdout)["mta_sts_result"]; r != "webpki-invalid" {
		t.Errorf("without -cafile: %s", r)
	}
}

// The binary, with -json: one object in the text form's order.
func TestMTASTSBinaryJSON(t *testing.T) {
	ns, connect, cafile := stsFixture(t)
	out, err := exec.Command(binPath, "mta-sts", "-json", "-nameserver", ns, "-connect", connect, "-cafile", cafile, "enforce.test").Output()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if m["mta_sts_mode"] != "enforce" || m["mx_2_verdict"] != "refused" || !strings.HasPrefix(string(out), `{"mta_sts_domain":"enforce.test","mta_sts_result":"policy"`) {
		t.Errorf("%s", out)
	}
}

func TestMTASTSUsage(t *testing.T) {
	const u = "usage: policycheck mta-sts [flags] DOMAIN [MX...]"
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"mta-sts"}, "policycheck mta-sts: missing DOMAIN, the policy domain"},
		{[]string{"mta-sts", "-cafile", "/nonexistent/ca.pem", "a.test"}, "policycheck mta-sts: -cafile: open /nonexistent/ca.pem: no such file or directory"},
		{[]string{"mta-sts", "-cafile", notPEM, "a.test"}, "policycheck mta-sts: -cafile: no PEM certificate in " + notPEM},
		{[]string{"mta-sts", "-connect", "nowhere", "a.test"}, "policycheck mta-sts: -connect: address nowhere: missing port in address"},
		{[]string{"mta-sts", "a.test", "-json"}, `policycheck mta-sts: unexpected argument "-json" (flags must come before other arguments)`},
		{[]string{"mta-sts", "-timeout", "0", "a.test"}, "policycheck mta-sts: -timeout: must be positive, not 0s"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || stdout != "" || first != tc.msg || !strings.Contains(stderr, u) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
	if code, stdout, _ := runCLI(t, "help", "mta-sts"); code != 0 || !strings.Contains(stdout, "-connect host:port") {
		t.Errorf("help: %d %q", code, stdout)
	}
}
