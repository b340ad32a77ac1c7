package ocsp

import (
	"crypto/tls"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/hostlist"
)

var testIP = netip.MustParseAddr("127.0.0.1")

// stapling serves cert with staple (nil: none) and returns the address.
func stapling(t *testing.T, cert tls.Certificate, staple []byte) string {
	cert.OCSPStaple = staple
	return startTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}, Time: fixedNow})
}

func TestClientStatuses(t *testing.T) {
	p := newPKI(t)
	chain := p.a.tlsCert(p.ca1)
	other := mkCert(t, p.ca1, certOpts{serial: 77, name: "a.test"})
	cases := []struct {
		name       string
		staple     []byte
		status     Status
		err        error // with OCSP only requested it is recorded, not returned
		errText    string
		mustRefuse bool
	}{
		{"good", mkResp(t, p.a, p.ca1, respOpts{}), Verified, nil, "", false},
		{"none", nil, NotResponded, nil, "", true},
		{"revoked", mkResp(t, p.a, p.ca1, respOpts{status: Revoked}), Failed, ErrRevoked, "Server certificate revoked", true},
		{"unknown", mkResp(t, p.a, p.ca1, respOpts{status: Unknown}), Failed, ErrUnknownStatus, "Server certificate has unknown status", true},
		{"expired", mkResp(t, p.a, p.ca1, respOpts{thisUpdate: testNow.Add(-48 * time.Hour), nextUpdate: testNow.Add(-time.Hour)}), Failed, ErrOutOfDate, "Server certificate status is out-of-date", true},
		{"no nextUpdate (Exim accepts)", mkResp(t, p.a, p.ca1, respOpts{noNext: true}), Verified, nil, "", false},
		{"other certificate", mkResp(t, other, p.ca1, respOpts{}), Failed, ErrUnverifiable, "", true},
		{"other issuer", mkResp(t, p.a, p.ca2, respOpts{}), Failed, ErrUnverifiable, "", true},
		{"garbage", []byte{0x30, 0x03, 1, 2, 3}, Failed, ErrParse, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := stapling(t, chain, c.staple)
			for _, mode := range []string{"require", "request"} {
				cl := &Client{} // requests from every host
				if mode == "require" {
					cl = &Client{RequestHosts: hostlist.MustParse(""), RequireHosts: hostlist.MustParse("a.test")}
				}
				cl.Now = fixedNow
				s := cl.Session("a.test", testIP)
				_, herr := dialTLS(t, addr, s.Config(clientConfig("a.test", p.ca1)))
				if s.Status() != c.status {
					t.Errorf("%s: status %v, want %v", mode, s.Status(), c.status)
				}
				want := c.err
				if mode == "require" && c.staple == nil {
					want = ErrNotReceived
				}
				if want != nil && !errors.Is(s.Err(), want) {
					t.Errorf("%s: Err() = %v, want %v", mode, s.Err(), want)
				}
				if c.errText != "" && s.Err().Error() != c.errText {
					t.Errorf("%s: error text %q, want %q", mode, s.Err(), c.errText)
				}
				switch {
				case mode == "require" && c.mustRefuse:
					if !errors.Is(herr, want) {
						t.Errorf("require: handshake error %v, want %v", herr, want)
					}
				case herr != nil:
					t.Errorf("%s: handshake failed: %v", mode, herr)
				}
			}
		})
	}
}

func TestClientNotRequested(t *testing.T) {
	p := newPKI(t)
	addr := stapling(t, p.a.tlsCert(p.ca1), mkResp(t, p.a, p.ca1, respOpts{status: Revoked}))
	cl := &Client{RequestHosts: hostlist.MustParse("!a.test : *")}
	s := cl.Session("a.test", testIP)
	if _, err := dialTLS(t, addr, s.Config(clientConfig("a.test", p.ca1))); err != nil {
		t.Fatal(err)
	}
	if s.Requested || s.Status() != NotRequested {
		t.Errorf("requested %v status %v", s.Requested, s.Status())
	}
}

// The issuer may come only from the staple: an intermediate that signed
// the response and is carried in it, with the server sending just the
// leaf.
func TestClientIssuerInStaple(t *testing.T) {
	root := mkCert(t, nil, certOpts{serial: 1, ca: true, name: "Root"})
	inter := mkCert(t, root, certOpts{serial: 2, ca: true, name: "Intermediate"})
	leaf := mkCert(t, inter, certOpts{serial: 10, name: "a.test"})
	staple := mkResp(t, leaf, inter, respOpts{signer: inter})
	addr := stapling(t, leaf.tlsCert(), staple)
	cl := &Client{RequestHosts: hostlist.MustParse(""), RequireHosts: hostlist.MustParse("*"), Now: fixedNow}
	s := cl.Session("a.test", testIP)
	cfg := s.Config(&tls.Config{ServerName: "a.test", InsecureSkipVerify: true})
	if _, err := dialTLS(t, addr, cfg); err != nil {
		t.Fatal(err)
	}
	if s.Status() != Verified || s.Response() == nil {
		t.Errorf("status %v err %v", s.Status(), s.Err())
	}
}

// TestClientZero: the zero Client is Exim's default configuration,
// hosts_request_ocsp "*" and no hosts_require_ocsp.
func TestClientZero(t *testing.T) {
	var cl Client
	if s := cl.Session("mx.test", testIP); !s.Requested || s.Required || s.Status() != NotResponded {
		t.Errorf("zero Client: requested %v required %v status %v", s.Requested, s.Required, s.Status())
	}
	if s := cl.Session("", netip.Addr{}); !s.Requested {
		t.Error("zero Client: no request without a name or address")
	}
	// An empty list is not the default: it asks no host.
	cl.RequestHosts = hostlist.MustParse("")
	if s := cl.Session("mx.test", testIP); s.Requested || s.Status() != NotRequested {
		t.Errorf("empty RequestHosts: requested %v status %v", s.Requested, s.Status())
	}
}

func TestClientDANE(t *testing.T) {
	// Exim's default "*", whether left nil or written out, gives way to
	// DANERequestDefault.
	for _, req := range []*hostlist.List{nil, hostlist.MustParse(DefaultRequestHosts), hostlist.MustParse(" * ")} {
		cl := &Client{RequestHosts: req}
		for bits, want := range map[int]bool{0: true, 4: true, 8: false, 12: false, 1: false} {
			if got := cl.SessionDANE("mx.test", testIP, bits).Requested; got != want {
				t.Errorf("RequestHosts %q, usage bits %d: requested %v, want %v", req, bits, got, want)
			}
		}
	}
	// A request list other than "*" is used as it is.
	for _, req := range []string{"mx.test", "* : mx.test", ""} {
		cl := &Client{RequestHosts: hostlist.MustParse(req)}
		if got, want := cl.SessionDANE("mx.test", testIP, 8).Requested, req != ""; got != want {
			t.Errorf("RequestHosts %q under DANE: requested %v, want %v", req, got, want)
		}
	}
	// Required hosts are requested whatever the usage.
	cl := &Client{RequireHosts: hostlist.MustParse("mx.test")}
	if s := cl.SessionDANE("mx.test", testIP, 8); !s.Requested || !s.Required {
		t.Errorf("required host: %+v", s)
	}
	if DANERequestDefault(2) {
		t.Error("DANERequestDefault(2)")
	}
}

func TestStatusStrings(t *testing.T) {
	if Verified.String() != "4" || NotRequested.String() != "0" || Revoked.String() != "revoked" {
		t.Error("strings")
	}
}
