package mta

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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/events"
	"github.com/mailpolicy/mailpolicy/mtasts"
	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// stsCA is a test CA for the MX hosts and the policy host.
type stsCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newSTSCA(t *testing.T, name string) *stsCA {
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
	return &stsCA{cert, key, pool}
}

func (ca *stsCA) issue(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// stsPolicyHost serves body as remote.test's policy over HTTPS with a
// certificate from ca, and returns a Fetcher that reaches it for
// mta-sts.remote.test.
func stsPolicyHost(t *testing.T, ca *stsCA, body string) *mtasts.Fetcher {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "mta-sts.remote.test" || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*ca.issue(t, "mta-sts.remote.test")}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	return &mtasts.Fetcher{RootCAs: ca.pool, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// stsReport is what rec holds for remote.test's MTA-STS policy:
// successes, failures and their result types.
func stsReport(rec *tlsrpt.Recorder) (ok, failed int64, results []string) {
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, rep := range rec.Reports(day, day.Add(24*time.Hour), tlsrpt.Organization{Name: "mx.example", Contact: "tls@mx.example"}) {
		for _, p := range rep.Policies {
			if p.Policy.Domain == "remote.test" && p.Policy.Type == tlsrpt.PolicySTS {
				ok, failed = ok+p.Summary.TotalSuccessfulSessionCount, failed+p.Summary.TotalFailureSessionCount
				for _, f := range p.FailureDetails {
					results = append(results, string(f.ResultType))
				}
			}
		}
	}
	return ok, failed, results
}

// The MTA end to end under remote.test's enforced MTA-STS policy: an
// MX host whose certificate is not from a trusted CA gets nothing, not
// even in clear text (the message stays queued, deferred); one with a
// certificate valid for its name gets the message over TLS. Both are
// in the TLS report.
func TestMTASTSEnforcedEndToEnd(t *testing.T) {
	ca, other := newSTSCA(t, "test CA"), newSTSCA(t, "untrusted CA")
	zone := append([]string{`_mta-sts.remote.test. TXT "v=STSv1; id=20240101;"`}, remoteZone...)
	const policy = "version: STSv1\r\nmode: enforce\r\nmx: mx.remote.test\r\nmax_age: 86400\r\n"
	for _, tc := range []struct {
		name string
		ca   *stsCA
	}{{"untrusted certificate", other}, {"valid certificate", ca}} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, &fakeSMTP{cert: tc.ca.issue(t, "mx.remote.test")}, "127.0.0.2")
			rec := tlsrpt.NewRecorder()
			o := startOut(t, f.port, zone, func(c *Config) {
				c.RetryInterval = time.Hour
				c.TLSConfig = &tls.Config{RootCAs: ca.pool}
				c.MTASTS = &mtasts.Cache{Resolver: c.Resolver, Fetcher: stsPolicyHost(t, ca, policy)}
				c.TLSReports = rec
			})
			if code, msg := o.send(t, "a@sender.test", []string{"bob@remote.test"}, "Subject: sts\n\nsecret\n"); code != 250 {
				t.Fatalf("DATA: %d %s", code, msg)
			}
			if tc.ca == ca {
				waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
				if m := f.messages()[0]; !m.tls || !strings.Contains(m.data, "secret") {
					t.Errorf("message %+v", m)
				}
				waitFor(t, 5*time.Second, "msg:complete", func() bool { _, ok := o.rec.find(events.MsgComplete); return ok })
				if ok, failed, _ := stsReport(rec); ok != 1 || failed != 0 {
					t.Errorf("TLS report: %d successes, %d failures", ok, failed)
				}
				return
			}
			waitFor(t, 10*time.Second, "msg:defer", func() bool { _, ok := o.rec.find(events.MsgDefer); return ok })
			if len(f.messages()) != 0 || strings.Contains(f.transcript(), "MAIL FROM") {
				t.Errorf("sent despite the policy:\n%s", f.transcript())
			}
			hd, _ := o.rec.find(events.MsgHostDefer)
			if !strings.HasPrefix(hd.Data, "MTA-STS error: certificate of mx.remote.test not valid: x509: certificate signed by unknown authority") {
				t.Errorf("msg:host:defer data %q", hd.Data)
			}
			want := "tcp:connect smtp:connect smtp:ehlo tls:cert tcp:close msg:host:defer msg:defer"
			if got := strings.Join(o.rec.names(), " "); got != want {
				t.Errorf("events %q, want %q", got, want)
			}
			if envs, _ := filepath.Glob(filepath.Join(o.ts.srv.Config().Spool, "*.env")); len(envs) != 1 {
				t.Errorf("not queued: %v", envs)
			}
			if ok, failed, results := stsReport(rec); ok != 0 || failed != 1 || strings.Join(results, " ") != "certificate-not-trusted" {
				t.Errorf("TLS report: %d successes, %d failures %v", ok, failed, results)
			}
		})
	}
}
