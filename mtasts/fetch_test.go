package mtasts

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fetchErr fetches domain and returns the *FetchError, failing the
// test when there is none.
func fetchErr(t *testing.T, f *Fetcher, domain string) *FetchError {
	t.Helper()
	p, err := f.Fetch(context.Background(), domain)
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("Fetch(%s) = %+v, %v; want a *FetchError", domain, p, err)
	}
	if fe.Domain != domain || fe.URL != "https://mta-sts."+domain+"/.well-known/mta-sts.txt" {
		t.Errorf("FetchError names %q %q", fe.Domain, fe.URL)
	}
	return fe
}

func TestFetch(t *testing.T) {
	ca := newCA(t, "test CA")
	ps := startPolicyServer(t)
	f := ps.fetcher(ca)
	ps.policy("mta-sts.example.com", ca.issue(t, "mta-sts.example.com"), enforceBody)
	p, err := f.Fetch(context.Background(), "Example.COM.")
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeEnforce || p.MaxAge != 7*24*time.Hour || len(p.MX) != 2 || !p.Match("mx1.example.com") {
		t.Errorf("policy %+v", p)
	}

	// A parameter on the media type is fine, and a wildcard certificate.
	ps.set("mta-sts.charset.test", ptr(ca.issue(t, "*.charset.test")), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "Text/Plain; charset=utf-8")
		w.Write([]byte(enforceBody))
	})
	if _, err := f.Fetch(context.Background(), "charset.test"); err != nil {
		t.Errorf("text/plain; charset=utf-8: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFetchRefusals(t *testing.T) {
	ca := newCA(t, "test CA")
	ps := startPolicyServer(t)
	f := ps.fetcher(ca)
	serve := func(host string, h http.HandlerFunc) {
		ps.set(host, ptr(ca.issue(t, host)), h)
	}
	withType := func(ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			} else {
				w.Header()["Content-Type"] = nil // no sniffing
			}
			w.Write([]byte(body))
		}
	}
	serve("mta-sts.html.test", withType("text/html", enforceBody))
	serve("mta-sts.notype.test", withType("", enforceBody))
	serve("mta-sts.badtype.test", withType("text/plain;;", enforceBody))
	serve("mta-sts.octets.test", withType("application/octet-stream", enforceBody))
	for d, ct := range map[string]string{"html.test": "text/html", "notype.test": "", "badtype.test": "text/plain;;", "octets.test": "application/octet-stream"} {
		fe := fetchErr(t, f, d)
		if fe.Reason != ReasonContentType || fe.ContentType != ct || fe.StatusCode != 200 {
			t.Errorf("%s: %+v", d, fe)
		}
	}

	for _, code := range []int{301, 302, 307, 308} {
		host := "mta-sts.redirect" + strconv.Itoa(code) + ".test"
		serve(host, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://mta-sts.example.com/.well-known/mta-sts.txt", code)
		})
		ps.policy("mta-sts.example.com", ca.issue(t, "mta-sts.example.com"), enforceBody)
		before := ps.hitCount("mta-sts.example.com")
		fe := fetchErr(t, f, strings.TrimPrefix(host, "mta-sts."))
		if fe.Reason != ReasonRedirect || fe.StatusCode != code || fe.Location != "https://mta-sts.example.com/.well-known/mta-sts.txt" {
			t.Errorf("%d: %+v", code, fe)
		}
		if ps.hitCount("mta-sts.example.com") != before {
			t.Errorf("%d: the redirect was followed", code)
		}
	}

	for _, code := range []int{204, 404, 500, 503} {
		host := "mta-sts.status" + strconv.Itoa(code) + ".test"
		serve(host, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(code)
			if code != 204 {
				w.Write([]byte(enforceBody))
			}
		})
		fe := fetchErr(t, f, strings.TrimPrefix(host, "mta-sts."))
		if fe.Reason != ReasonStatus || fe.StatusCode != code {
			t.Errorf("%d: %+v", code, fe)
		}
	}

	serve("mta-sts.invalid.test", withType("text/plain", "version: STSv1\nmode: enforce\nmax_age: 86400\n"))
	fe := fetchErr(t, f, "invalid.test")
	var se *SyntaxError
	if fe.Reason != ReasonPolicy || !errors.As(fe, &se) || se.Msg != "no mx (required unless the mode is none)" {
		t.Errorf("invalid policy: %+v", fe)
	}
}

// Bodies past the limit are refused, whether announced by
// Content-Length or streamed without one, and a body that trickles is
// cut off by the timeout.
func TestFetchHostileBodies(t *testing.T) {
	ca := newCA(t, "test CA")
	ps := startPolicyServer(t)
	f := ps.fetcher(ca)
	serve := func(host string, h http.HandlerFunc) {
		ps.set(host, ptr(ca.issue(t, host)), h)
	}
	pad := func(n int) string {
		// A valid policy padded with an extension field to n bytes.
		s := enforceBody + "pad: "
		return s + strings.Repeat("x", n-len(s)-1) + "\n"
	}
	var written atomic.Int64 // the handler may still be writing when the test reads it
	serve("mta-sts.announced.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(10<<20))
		w.Write([]byte(enforceBody))
	})
	serve("mta-sts.streamed.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		chunk := []byte(strings.Repeat("x: y\n", 1000))
		for range 2000 { // 10 MB
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	serve("mta-sts.exact.test", withBody(pad(DefaultMaxSize)))
	serve("mta-sts.over.test", withBody(pad(DefaultMaxSize+1)))
	for _, d := range []string{"announced.test", "streamed.test", "over.test"} {
		if fe := fetchErr(t, f, d); fe.Reason != ReasonTooLarge {
			t.Errorf("%s: %+v", d, fe)
		}
	}
	if written.Load() >= 10<<20 {
		t.Errorf("the whole 10 MB body was sent: the fetch read on past the limit")
	}
	if p, err := f.Fetch(context.Background(), "exact.test"); err != nil || p.Mode != ModeEnforce {
		t.Errorf("a body of exactly %d bytes: %v", DefaultMaxSize, err)
	}
	small := ps.fetcher(ca)
	small.MaxSize = int64(len(enforceBody)) - 1
	if fe := fetchErr(t, small, "exact.test"); fe.Reason != ReasonTooLarge {
		t.Errorf("MaxSize %d: %+v", small.MaxSize, fe)
	}

	// Slow: headers, part of a body, then nothing until the test ends.
	// Slow headers: nothing at all. (Not until the request's context
	// ends: a handler returning early would end the body or send a
	// bare 200, and the test would be of something else.)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) }) // before the server's Close
	serve("mta-sts.slow.test", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("version: STSv1\n"))
		w.(http.Flusher).Flush()
		<-hold
	})
	serve("mta-sts.silent.test", func(w http.ResponseWriter, r *http.Request) {
		<-hold
	})
	slow := ps.fetcher(ca)
	slow.Timeout = 200 * time.Millisecond
	for _, d := range []string{"slow.test", "silent.test"} {
		fe := fetchErr(t, slow, d)
		if fe.Reason != ReasonTimeout || !errors.Is(fe, context.DeadlineExceeded) && !isTimeout(fe.Err) {
			t.Errorf("%s: %+v", d, fe)
		}
	}
	// The caller's context bounds it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, "slow.test"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func withBody(body string) http.HandlerFunc { return textPlain(body) }

// The certificate must chain to a trusted root, name mta-sts.<domain>
// and be valid now; a server that does not speak TLS fails the same way.
func TestFetchCertificates(t *testing.T) {
	ca := newCA(t, "test CA")
	other := newCA(t, "untrusted CA")
	ps := startPolicyServer(t)
	f := ps.fetcher(ca)
	ps.policy("mta-sts.untrusted.test", other.issue(t, "mta-sts.untrusted.test"), enforceBody)
	ps.policy("mta-sts.wrongname.test", ca.issue(t, "www.wrongname.test", "wrongname.test"), enforceBody)
	ps.policy("mta-sts.deep.test", ca.issue(t, "*.test"), enforceBody) // a wildcard covers one label
	ps.policy("mta-sts.wild.test", ca.issue(t, "*.wild.test"), enforceBody)
	ps.policy("mta-sts.expired.test", ca.issueAt(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour), "mta-sts.expired.test"), enforceBody)
	ps.policy("mta-sts.future.test", ca.issueAt(t, time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour), "mta-sts.future.test"), enforceBody)

	check := func(d string, ok func(error) bool) {
		t.Helper()
		fe := fetchErr(t, f, d)
		if fe.Reason != ReasonTLS || !ok(fe) {
			t.Errorf("%s: %+v (%v)", d, fe, fe.Err)
		}
	}
	check("untrusted.test", func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) })
	check("wrongname.test", func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) })
	check("expired.test", func(err error) bool {
		var e x509.CertificateInvalidError
		return errors.As(err, &e) && e.Reason == x509.Expired
	})
	check("future.test", func(err error) bool {
		var e x509.CertificateInvalidError
		return errors.As(err, &e) && e.Reason == x509.Expired
	})
	check("deep.test", func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) })
	if _, err := f.Fetch(context.Background(), "wild.test"); err != nil {
		t.Errorf("*.wild.test for mta-sts.wild.test: %v", err)
	}

	// The clock the certificates are checked at is the Fetcher's.
	ps.policy("mta-sts.clock.test", ca.issue(t, "mta-sts.clock.test"), enforceBody)
	late := ps.fetcher(ca)
	late.Now = func() time.Time { return time.Now().Add(72 * time.Hour) }
	if fe := fetchErr(t, late, "clock.test"); fe.Reason != ReasonTLS {
		t.Errorf("certificate checked three days later: %+v", fe)
	}

	// Without RootCAs the system roots do not know the test CA.
	sys := ps.fetcher(ca)
	sys.RootCAs = nil
	if fe := fetchErr(t, sys, "clock.test"); fe.Reason != ReasonTLS {
		t.Errorf("system roots: %+v", fe)
	}
}

func TestFetchNetwork(t *testing.T) {
	// A port nobody listens on: take one and close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	f := &Fetcher{DialContext: dial}
	if fe := fetchErr(t, f, "refused.test"); fe.Reason != ReasonNetwork {
		t.Errorf("connection refused: %+v", fe)
	}

	// Servers that do not speak TLS on the HTTPS port: plain HTTP
	// (net/http names it, as a failure to reach the policy), or bytes
	// that are no TLS record.
	for reply, want := range map[string]FetchReason{
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + enforceBody: ReasonNetwork,
		"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09":                          ReasonTLS,
	} {
		plain, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := plain.Accept()
				if err != nil {
					return
				}
				c.Write([]byte(reply))
				c.Close()
			}
		}()
		f = &Fetcher{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, plain.Addr().String())
		}}
		if fe := fetchErr(t, f, "plain.test"); fe.Reason != want {
			t.Errorf("%.10q: %+v (%v), want %v", reply, fe, fe.Err, want)
		}
		plain.Close()
	}

	// An invalid domain is refused before anything is dialled.
	dialled := false
	f = &Fetcher{DialContext: func(context.Context, string, string) (net.Conn, error) {
		dialled = true
		return nil, errors.New("no")
	}}
	for _, d := range []string{"", "a/b.test", "a.test:443", "evil.test/x?", "-a.test", "a b.test"} {
		if _, err := f.Fetch(context.Background(), d); !errors.Is(err, ErrInvalidDomain) {
			t.Errorf("Fetch(%q): %v", d, err)
		}
	}
	if dialled {
		t.Error("an invalid domain was dialled")
	}
}
