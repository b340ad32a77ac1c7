package mtasts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// testCA is a certificate authority of the test's own, trusted only
// through Fetcher.RootCAs.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial atomic.Int64

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue is a server certificate for names, valid from an hour ago for
// a day.
func (ca *testCA) issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	return ca.issueAt(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), names...)
}

func (ca *testCA) issueAt(t testing.TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// policyServer is an HTTPS server on loopback answering for several
// mta-sts.<domain> names: the certificate by SNI, the handler by Host.
type policyServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	certs    map[string]*tls.Certificate
	handlers map[string]http.HandlerFunc
	hits     map[string]int
}

func startPolicyServer(t testing.TB) *policyServer {
	t.Helper()
	ps := &policyServer{certs: map[string]*tls.Certificate{}, handlers: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	ps.srv = httptest.NewUnstartedServer(http.HandlerFunc(ps.serve))
	ps.srv.TLS = &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		if c := ps.certs[strings.ToLower(hello.ServerName)]; c != nil {
			return c, nil
		}
		return ps.certs["*"], nil
	}}
	ps.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	ps.srv.StartTLS()
	t.Cleanup(ps.srv.Close)
	return ps
}

// set makes host answer with cert (nil: the default one, see def) and h.
func (ps *policyServer) set(host string, cert *tls.Certificate, h http.HandlerFunc) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if cert != nil {
		ps.certs[host] = cert
	}
	ps.handlers[host] = h
}

// policy makes host serve body as text/plain with cert.
func (ps *policyServer) policy(host string, cert tls.Certificate, body string) {
	ps.set(host, &cert, textPlain(body))
}

func textPlain(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != WellKnownPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(body))
	}
}

func (ps *policyServer) serve(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ps.mu.Lock()
	h := ps.handlers[host]
	ps.hits[host]++
	ps.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (ps *policyServer) hitCount(host string) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.hits[host]
}

// fetcher is a Fetcher trusting ca whose every connection goes to the
// server, whatever the name.
func (ps *policyServer) fetcher(ca *testCA) *Fetcher {
	addr := ps.srv.Listener.Addr().String()
	return &Fetcher{RootCAs: ca.pool, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// dnsFor serves zone lines and returns a resolver asking it.
func dnsFor(t testing.TB, lines ...string) (*resolvertest.Zone, *resolver.Resolver) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t, lines...)
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(2*time.Second), resolver.WithRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	return z, r
}

// swapResolver asks whichever resolver was set last: a test changes
// a domain's TXT record by pointing it at another zone.
type swapResolver struct {
	r atomic.Pointer[resolver.Resolver]
}

func (s *swapResolver) LookupTXT(ctx context.Context, name string) ([]string, bool, error) {
	return s.r.Load().LookupTXT(ctx, name)
}

// clock is a settable time for the cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const enforceBody = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mail.example.com\r\nmax_age: 604800\r\n"
