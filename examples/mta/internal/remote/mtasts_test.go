package remote

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
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/queue"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/retry"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// testCA issues the certificates of the MX hosts and policy hosts.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

func (ca *testCA) issue(t *testing.T, name string) *tls.Certificate {
	return ca.issueAt(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), name)
}

func (ca *testCA) issueAt(t *testing.T, from, until time.Time, name string) *tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: from, NotAfter: until, DNSNames: []string{name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// syncBuf is the log of the courier.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stsEnv is a Courier with MTA-STS and TLS reporting over a real DNS
// zone, an HTTPS policy server and the test CA.
type stsEnv struct {
	t        *testing.T
	ca       *testCA
	zone     *resolvertest.Zone
	q        *Courier
	rec      *tlsrpt.Recorder
	ev       evLog
	log      syncBuf
	mu       sync.Mutex
	policies map[string]string // by policy host
	hosts    map[string]bool   // MX hosts with their address
}

func newSTSEnv(t *testing.T) *stsEnv {
	t.Helper()
	e := &stsEnv{t: t, ca: newTestCA(t, "test CA"), zone: resolvertest.NewZone(), policies: map[string]string{}, hosts: map[string]bool{}}
	ns := resolvertest.Start(t, e.zone)
	r, err := resolver.New(resolver.WithNameservers(ns.Addr), resolver.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		body, ok := e.policies[strings.Split(r.Host, ":")[0]]
		e.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}))
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return e.ca.issue(t, h.ServerName), nil }}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	fetcher := &mtasts.Fetcher{RootCAs: e.ca.pool, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	e.rec = tlsrpt.NewRecorder()
	e.q = &Courier{Resolver: r, Hostname: "mx.example", SMTPTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&e.log, nil)), Bus: e.ev.bus(),
		TLSConfig: &tls.Config{RootCAs: e.ca.pool}, TLSReports: e.rec,
		MTASTS: &mtasts.Cache{Resolver: r, Fetcher: fetcher}}
	return e
}

// domain publishes domain with MX hosts on 127.0.0.1 and, when body is
// not "", an MTA-STS record and policy.
func (e *stsEnv) domain(domain, body string, mxs ...string) {
	for i, mx := range mxs {
		e.zone.MustAdd(e.t, domain+". MX "+strconv.Itoa(10*(i+1))+" "+mx+".")
		if !e.hosts[mx] {
			e.zone.MustAdd(e.t, mx+". A 127.0.0.1")
			e.hosts[mx] = true
		}
	}
	if body != "" {
		e.zone.MustAdd(e.t, `_mta-sts.`+domain+`. TXT "v=STSv1; id=1"`)
		e.mu.Lock()
		e.policies["mta-sts."+domain] = body
		e.mu.Unlock()
	}
}

func (e *stsEnv) send(id, rcpt string) *queue.Recipient {
	e.t.Helper()
	env := envelope(id, "a@example.com", rcpt)
	e.q.Deliver(context.Background(), delivery(env, spoolFile(e.t, []byte("Subject: sts\r\n\r\nbody\r\n"))))
	return env.Rcpts[0]
}

// report is what the recorder holds for policyDomain: per policy type,
// the successes, failures and failure result types.
func (e *stsEnv) report(policyDomain string) map[tlsrpt.PolicyType]string {
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := map[tlsrpt.PolicyType]string{}
	for _, rep := range e.rec.Reports(day, day.Add(24*time.Hour), tlsrpt.Organization{Name: "t", Contact: "t@example"}) {
		if rep.PolicyDomain() != policyDomain {
			continue
		}
		for _, p := range rep.Policies {
			s := "ok=" + strconv.FormatInt(p.Summary.TotalSuccessfulSessionCount, 10) + " failed=" + strconv.FormatInt(p.Summary.TotalFailureSessionCount, 10)
			for _, f := range p.FailureDetails {
				s += " " + string(f.ResultType)
			}
			out[p.Policy.Type] = s
		}
	}
	return out
}

func hostDefers(l *evLog) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.evs {
		if ev.Name == events.MsgHostDefer {
			out = append(out, ev.Data)
		}
	}
	return out
}

// eventPolicies gives the TLSPolicy of each event named name.
func eventPolicies(l *evLog, name events.Name) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.evs {
		if ev.Name == name {
			out = append(out, ev.TLSPolicy)
		}
	}
	return out
}

func hasMAIL(p *peer) bool {
	for n := 1; n <= p.connCount(); n++ {
		for _, c := range p.commands(n) {
			if strings.HasPrefix(c, "MAIL") {
				return true
			}
		}
	}
	return false
}

const enforcePolicy = "version: STSv1\nmode: enforce\nmx: mx1.sts.test\nmx: *.pool.sts.test\nmax_age: 86400\n"

// Under an enforced policy, the MX host's certificate must be valid for
// its name and chained to a trusted root; anything else defers the host
// before MAIL, and the failure goes to the TLS report with its type.
func TestMTASTSEnforceCertificates(t *testing.T) {
	other := newTestCA(t, "untrusted CA")
	for _, tc := range []struct {
		name     string
		cert     func(ca *testCA) *tls.Certificate
		starttls string
		result   tlsrpt.ResultType // "": delivered
		message  string
	}{
		{name: "valid", cert: func(ca *testCA) *tls.Certificate { return ca.issue(t, "mx1.sts.test") }},
		{name: "untrusted", cert: func(*testCA) *tls.Certificate { return other.issue(t, "mx1.sts.test") },
			result: tlsrpt.ResultCertificateNotTrusted, message: "MTA-STS error: certificate of mx1.sts.test not valid: x509: certificate signed by unknown authority"},
		{name: "wrong name", cert: func(ca *testCA) *tls.Certificate { return ca.issue(t, "mx2.sts.test") },
			result: tlsrpt.ResultCertificateHostMismatch, message: "MTA-STS error: certificate of mx1.sts.test not valid: x509: certificate is valid for mx2.sts.test, not mx1.sts.test"},
		{name: "expired", cert: func(ca *testCA) *tls.Certificate {
			return ca.issueAt(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), "mx1.sts.test")
		}, result: tlsrpt.ResultCertificateExpired, message: "MTA-STS error: certificate of mx1.sts.test not valid: x509: certificate has expired or is not yet valid: current time "},
		{name: "no STARTTLS", result: tlsrpt.ResultSTARTTLSNotSupported, message: "MTA-STS error: STARTTLS not offered by mx1.sts.test"},
		{name: "STARTTLS refused", cert: func(ca *testCA) *tls.Certificate { return ca.issue(t, "mx1.sts.test") }, starttls: "454 4.7.0 TLS not available",
			result: tlsrpt.ResultSTARTTLSNotSupported, message: "MTA-STS error: SMTP error from remote mail server after STARTTLS: 454 4.7.0 TLS not available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &peer{starttls: tc.starttls}
			e := newSTSEnv(t)
			if tc.cert != nil {
				p.cert = tc.cert(e.ca)
			}
			startPeer(t, p)
			e.q.SMTPPort = p.port()
			db, err := retry.Open(filepath.Join(t.TempDir(), "retry"), retry.Options{Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			e.q.Retry = db
			e.domain("sts.test", enforcePolicy, "mx1.sts.test")
			r := e.send("m1", "bob@sts.test")
			rep := e.report("sts.test")[tlsrpt.PolicySTS]
			if tc.result == "" {
				ms := p.messages()
				if r.State != queue.Delivered || len(ms) != 1 || !ms[0].tls || rep != "ok=1 failed=0" {
					t.Fatalf("%+v, %d messages, report %q", r, len(ms), rep)
				}
				if !strings.Contains(e.log.String(), "tls_policy=mta-sts(enforce)") {
					t.Errorf("log:\n%s", e.log.String())
				}
				if got := eventPolicies(&e.ev, events.MsgDelivery); len(got) != 1 || got[0] != "mta-sts(enforce)" {
					t.Errorf("msg:delivery tls_out_policy %q", got)
				}
				return
			}
			if r.State != queue.Pending || !strings.HasPrefix(r.Message, tc.message) {
				t.Errorf("recipient %+v, want message %q", r, tc.message)
			}
			if len(p.messages()) != 0 || hasMAIL(p) {
				t.Errorf("MAIL sent: %v", p.commands(1))
			}
			if want := "ok=0 failed=1 " + string(tc.result); rep != want {
				t.Errorf("report %q, want %q", rep, want)
			}
			if d := hostDefers(&e.ev); len(d) != 1 || d[0] != r.Message {
				t.Errorf("msg:host:defer %q", d)
			}
			if got := eventPolicies(&e.ev, events.MsgHostDefer); len(got) != 1 || got[0] != "mta-sts(enforce)" {
				t.Errorf("msg:host:defer tls_out_policy %q", got)
			}
			if !strings.Contains(e.log.String(), `msg="host deferred" id=m1 host=mx1.sts.test ip=127.0.0.1 tls_policy=mta-sts(enforce)`) {
				t.Errorf("log:\n%s", e.log.String())
			}
			// The policy refused the host; the host did not fail.
			if db.Len() != 0 {
				t.Errorf("%d retry records", db.Len())
			}
		})
	}
}

// An MX host the enforced policy does not name is not connected to;
// the next one is used, or, when none is left, the message waits.
func TestMTASTSEnforceMXHosts(t *testing.T) {
	e := newSTSEnv(t)
	p := startPeer(t, &peer{cert: e.ca.issue(t, "mx1.sts.test")})
	e.q.SMTPPort = p.port()
	e.domain("nomatch.test", "version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n", "mx1.sts.test")
	r := e.send("m1", "bob@nomatch.test")
	want := "MTA-STS error: mx1.sts.test is not an MX host of the policy of nomatch.test"
	if r.State != queue.Pending || r.Message != want || p.connCount() != 0 {
		t.Fatalf("%+v, %d connections", r, p.connCount())
	}
	if got := e.ev.names(); got != "msg:host:defer msg:defer" {
		t.Errorf("events %q", got)
	}
	if rep := e.report("nomatch.test")[tlsrpt.PolicySTS]; rep != "ok=0 failed=1 validation-failure" {
		t.Errorf("report %q", rep)
	}

	e.domain("second.test", "version: STSv1\nmode: enforce\nmx: mx1.sts.test\nmax_age: 86400\n", "mx0.second.test", "mx1.sts.test")
	if r := e.send("m2", "bob@second.test"); r.State != queue.Delivered || r.Host != "mx1.sts.test" || p.connCount() != 1 {
		t.Fatalf("%+v, %d connections", r, p.connCount())
	}
	if rep := e.report("second.test")[tlsrpt.PolicySTS]; rep != "ok=1 failed=1 validation-failure" {
		t.Errorf("report %q", rep)
	}
}

// Testing mode delivers as without a policy and reports what enforce
// would have refused.
func TestMTASTSTesting(t *testing.T) {
	other := newTestCA(t, "untrusted CA")
	e := newSTSEnv(t)
	p := startPeer(t, &peer{cert: other.issue(t, "mx1.sts.test")})
	e.q.SMTPPort = p.port()
	e.domain("testing.test", "version: STSv1\nmode: testing\nmx: mx1.sts.test\nmax_age: 86400\n", "mx1.sts.test")
	e.domain("testing2.test", "version: STSv1\nmode: testing\nmx: mx.elsewhere.test\nmax_age: 86400\n", "mx1.sts.test")
	for _, tc := range []struct{ domain, result string }{
		{"testing.test", "certificate-not-trusted"},
		{"testing2.test", "validation-failure"},
	} {
		if r := e.send("m-"+tc.domain, "bob@"+tc.domain); r.State != queue.Delivered {
			t.Fatalf("%s: %+v", tc.domain, r)
		}
		if rep := e.report(tc.domain)[tlsrpt.PolicySTS]; rep != "ok=0 failed=1 "+tc.result {
			t.Errorf("%s: report %q", tc.domain, rep)
		}
	}
	if ms := p.messages(); len(ms) != 2 || !ms[0].tls || !ms[1].tls {
		t.Errorf("messages %+v", ms)
	}
	if !strings.Contains(e.log.String(), "tls_policy=mta-sts(testing)") {
		t.Errorf("log:\n%s", e.log.String())
	}
	if got := eventPolicies(&e.ev, events.MsgDelivery); len(got) != 2 || got[0] != "mta-sts(testing)" || got[1] != "mta-sts(testing)" {
		t.Errorf("msg:delivery tls_out_policy %q", got)
	}

	// Without STARTTLS: delivered in clear text, reported.
	plain := startPeer(t, &peer{addr: "127.0.0.2:" + strconv.Itoa(p.port())})
	e.zone.MustAdd(t, "clear.test. MX 10 mx.clear.test.", "mx.clear.test. A 127.0.0.2", `_mta-sts.clear.test. TXT "v=STSv1; id=1"`)
	e.mu.Lock()
	e.policies["mta-sts.clear.test"] = "version: STSv1\nmode: testing\nmx: mx.clear.test\nmax_age: 86400\n"
	e.mu.Unlock()
	if r := e.send("m3", "bob@clear.test"); r.State != queue.Delivered || len(plain.messages()) != 1 || plain.messages()[0].tls {
		t.Fatalf("%+v", r)
	}
	if rep := e.report("clear.test")[tlsrpt.PolicySTS]; rep != "ok=0 failed=1 starttls-not-supported" {
		t.Errorf("report %q", rep)
	}
}

// Without a policy (no record, mode none, a fetch that failed) delivery
// is as before; the sessions are reported as no-policy-found, a failed
// fetch as sts-policy-fetch-error.
func TestMTASTSNoPolicy(t *testing.T) {
	other := newTestCA(t, "untrusted CA")
	e := newSTSEnv(t)
	p := startPeer(t, &peer{cert: other.issue(t, "mx1.sts.test")})
	e.q.SMTPPort = p.port()
	e.domain("plain.test", "", "mx1.sts.test")
	e.domain("none.test", "version: STSv1\nmode: none\nmax_age: 86400\n", "mx1.sts.test")
	e.domain("broken.test", "", "mx1.sts.test")
	e.zone.MustAdd(t, `_mta-sts.broken.test. TXT "v=STSv1; id=1"`) // the policy host answers 404
	for _, d := range []string{"plain.test", "none.test", "broken.test"} {
		if r := e.send("m-"+d, "bob@"+d); r.State != queue.Delivered {
			t.Fatalf("%s: %+v", d, r)
		}
		if rep := e.report(d)[tlsrpt.PolicyNone]; rep != "ok=1 failed=0" {
			t.Errorf("%s: report %q", d, rep)
		}
	}
	if rep := e.report("broken.test")[tlsrpt.PolicySTS]; rep != "ok=0 failed=1 sts-policy-fetch-error" {
		t.Errorf("fetch failure: report %q", rep)
	}
	if !strings.Contains(e.log.String(), "tls_policy=none") || !strings.Contains(e.log.String(), `msg="mta-sts policy fetch failed"`) {
		t.Errorf("log:\n%s", e.log.String())
	}
}

// RFC 8461 §2: when DANE applies to the MX host, DANE decides: an
// enforced policy whose PKIX check would fail, or that does not name
// the host, does not stop a DANE-verified delivery.
func TestDANEWinsOverMTASTS(t *testing.T) {
	other := newTestCA(t, "untrusted CA")
	e := newSTSEnv(t)
	cert := other.issue(t, "mx1.sts.test")
	p := startPeer(t, &peer{cert: cert})
	e.q.SMTPPort = p.port()
	e.zone.SetAuthentic(true)
	sum := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)
	e.zone.MustAdd(t, "_"+strconv.Itoa(p.port())+"._tcp.mx1.sts.test. TLSA 3 1 1 "+hex.EncodeToString(sum[:]))
	e.domain("dane.test", enforcePolicy, "mx1.sts.test")
	e.domain("dane2.test", "version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n", "mx1.sts.test")
	for _, d := range []string{"dane.test", "dane2.test"} {
		if r := e.send("m-"+d, "bob@"+d); r.State != queue.Delivered {
			t.Fatalf("%s: %+v", d, r)
		}
	}
	if rep := e.report("mx1.sts.test")[tlsrpt.PolicyTLSA]; rep != "ok=2 failed=0" {
		t.Errorf("tlsa report %q", rep)
	}
	if len(e.report("dane.test")) != 0 {
		t.Errorf("sts sessions reported: %v", e.report("dane.test"))
	}
	if strings.Count(e.log.String(), "dane=true tls=true tls_policy=dane") != 2 {
		t.Errorf("log:\n%s", e.log.String())
	}
}

// A connection kept from a delivery without policy (its certificate
// never verified) is not handed to a domain whose policy is enforced.
func TestMTASTSKeptConnection(t *testing.T) {
	other := newTestCA(t, "untrusted CA")
	e := newSTSEnv(t)
	p := startPeer(t, &peer{cert: other.issue(t, "mx.pool.sts.test")})
	e.q.SMTPPort = p.port()
	e.domain("open.test", "", "mx.pool.sts.test")
	e.domain("strict.test", enforcePolicy, "mx.pool.sts.test")
	env := envelope("m1", "a@example.com", "bob@open.test")
	d := delivery(env, spoolFile(t, []byte("Subject: x\r\n\r\nbody\r\n")))
	d.Waiting = func() bool { return true }
	e.q.Deliver(context.Background(), d)
	if env.Rcpts[0].State != queue.Delivered {
		t.Fatalf("%+v", env.Rcpts[0])
	}
	r := e.send("m2", "bob@strict.test")
	if r.State != queue.Pending || !strings.HasPrefix(r.Message, "MTA-STS error: certificate of mx.pool.sts.test not valid") || p.connCount() != 2 || len(p.messages()) != 1 {
		t.Fatalf("%+v, %d connections, %d messages", r, p.connCount(), len(p.messages()))
	}
	e.q.CloseIdle()
}
