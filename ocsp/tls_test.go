package ocsp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// startTLS serves TLS handshakes with cfg on 127.0.0.1 until the test
// ends; each connection is closed after its handshake.
func startTLS(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					// Let the client finish reading the handshake.
					tc.Read(make([]byte, 1))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dialTLS handshakes with addr and returns the connection state.
func dialTLS(t testing.TB, addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState(), nil
}

func clientConfig(name string, roots ...*testCert) *tls.Config {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r.cert)
	}
	return &tls.Config{ServerName: name, RootCAs: pool, Time: fixedNow}
}

// pki is two CAs issuing certificates with the same serial number.
type pki struct {
	ca1, ca2 *testCert
	a, b     *testCert // a.test from ca1, b.test from ca2, both serial 10
}

func newPKI(t testing.TB) *pki {
	p := &pki{
		ca1: mkCert(t, nil, certOpts{serial: 1, ca: true, name: "CA one"}),
		ca2: mkCert(t, nil, certOpts{serial: 1, ca: true, name: "CA two"}),
	}
	p.a = mkCert(t, p.ca1, certOpts{serial: 10, name: "a.test"})
	p.b = mkCert(t, p.ca2, certOpts{serial: 10, name: "b.test"})
	return p
}

func (p *pki) certs() []tls.Certificate {
	return []tls.Certificate{p.a.tlsCert(p.ca1), p.b.tlsCert(p.ca2)}
}

type logRec struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRec) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, format)
	_ = args
}

func TestStaplerPicksBySerialAndIssuer(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	ra := mkResp(t, p.a, p.ca1, respOpts{})
	rb := mkResp(t, p.b, p.ca2, respOpts{})
	// One PEM file with b's response first, then a's: a serial-only
	// match would staple rb for a.
	both := append(pemResp(rb), pemResp(ra)...)
	f := writeTemp(t, dir, "both.pem", both)
	s, err := NewStapler(StaplerConfig{Certificates: p.certs(), Files: "PEM " + f, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, &tls.Config{GetCertificate: s.GetCertificate, Time: fixedNow})
	for name, want := range map[string][]byte{"a.test": ra, "b.test": rb} {
		cs, err := dialTLS(t, addr, clientConfig(name, p.ca1, p.ca2))
		if err != nil {
			t.Fatal(name, err)
		}
		if !bytes.Equal(cs.OCSPResponse, want) {
			t.Errorf("%s: wrong staple (%d bytes)", name, len(cs.OCSPResponse))
		}
	}
}

func TestStaplerPositionalDER(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	fa := writeTemp(t, dir, "a.der", mkResp(t, p.a, p.ca1, respOpts{}))
	fb := writeTemp(t, dir, "b.pem", pemResp(mkResp(t, p.b, p.ca2, respOpts{})))
	s, err := NewStapler(StaplerConfig{Certificates: p.certs(), Files: fa + " : PEM " + fb, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if s.Staple(0) == nil || s.Staple(1) == nil {
		t.Error("not stapled")
	}
}

func TestStaplerRejects(t *testing.T) {
	p := newPKI(t)
	ra := mkResp(t, p.a, p.ca1, respOpts{})
	cases := []struct {
		name   string
		resp   []byte
		noNext bool // AcceptMissingNextUpdate
		ok     bool
	}{
		{"good", ra, false, true},
		{"expired", mkResp(t, p.a, p.ca1, respOpts{thisUpdate: testNow.Add(-48 * time.Hour), nextUpdate: testNow.Add(-10 * time.Minute)}), false, false},
		{"future", mkResp(t, p.a, p.ca1, respOpts{thisUpdate: testNow.Add(10 * time.Minute)}), false, false},
		{"revoked", mkResp(t, p.a, p.ca1, respOpts{status: Revoked}), false, false},
		{"unknown", mkResp(t, p.a, p.ca1, respOpts{status: Unknown}), false, false},
		{"wrong issuer", mkResp(t, p.a, p.ca2, respOpts{}), false, false},
		{"no nextUpdate", mkResp(t, p.a, p.ca1, respOpts{noNext: true}), false, false},
		{"no nextUpdate, Exim rule", mkResp(t, p.a, p.ca1, respOpts{noNext: true}), true, true},
		{"signer expires before nextUpdate", mkResp(t, p.a, p.ca1, respOpts{signer: mkCert(t, p.ca1, certOpts{serial: 30, ocspSign: true, notAfter: testNow.Add(time.Hour)})}), false, false},
		{"delegated signer", mkResp(t, p.a, p.ca1, respOpts{signer: mkCert(t, p.ca1, certOpts{serial: 31, ocspSign: true})}), false, true},
		{"garbage", []byte("not ocsp"), false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := writeTemp(t, t.TempDir(), "r.der", c.resp)
			var log logRec
			s, err := NewStapler(StaplerConfig{Certificates: p.certs()[:1], Files: f, Now: fixedNow, Logf: log.logf, AcceptMissingNextUpdate: c.noNext})
			if err != nil {
				t.Fatal(err)
			}
			addr := startTLS(t, &tls.Config{GetCertificate: s.GetCertificate, Time: fixedNow})
			cs, err := dialTLS(t, addr, clientConfig("a.test", p.ca1))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cs.OCSPResponse) > 0; got != c.ok {
				t.Errorf("stapled = %v, want %v", got, c.ok)
			}
			if !c.ok && len(log.lines) == 0 {
				t.Error("no reason logged")
			}
		})
	}
}

func TestStaplerMissingFile(t *testing.T) {
	p := newPKI(t)
	var log logRec
	s, err := NewStapler(StaplerConfig{Certificates: p.certs(), Files: "/nonexistent/ocsp.der", Logf: log.logf, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if s.Staple(0) != nil || s.Staple(1) != nil {
		t.Error("stapled without a file")
	}
	if len(log.lines) == 0 {
		t.Error("nothing logged")
	}
	if _, err := NewStapler(StaplerConfig{}); err == nil {
		t.Error("no certificates: no error")
	}
}

// The file is replaced (atomically, by rename) while handshakes run:
// every handshake staples one whole response, and the new one is seen.
func TestStaplerAtomicReplace(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	r1 := mkResp(t, p.a, p.ca1, respOpts{thisUpdate: testNow.Add(-2 * time.Hour)})
	r2 := mkResp(t, p.a, p.ca1, respOpts{thisUpdate: testNow.Add(-time.Hour)})
	f := writeTemp(t, dir, "a.der", r1)
	s, err := NewStapler(StaplerConfig{Certificates: p.certs(), Files: f, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, &tls.Config{GetCertificate: s.GetCertificate, Time: fixedNow})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := r1
			if i%2 == 1 {
				r = r2
			}
			if err := WriteFile(f, r, false); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var hwg sync.WaitGroup
	errc := make(chan error, 100)
	for w := 0; w < 4; w++ {
		hwg.Add(1)
		go func() {
			defer hwg.Done()
			for i := 0; i < 15; i++ {
				cs, err := dialTLS(t, addr, clientConfig("a.test", p.ca1))
				if err != nil {
					errc <- err
					return
				}
				if !bytes.Equal(cs.OCSPResponse, r1) && !bytes.Equal(cs.OCSPResponse, r2) {
					errc <- errors.New("staple is neither response")
					return
				}
			}
		}()
	}
	hwg.Wait()
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	// After the writer stops, the file's content is what is stapled.
	if err := WriteFile(f, r2, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Staple(0), r2) {
		t.Error("new file not picked up")
	}
}
