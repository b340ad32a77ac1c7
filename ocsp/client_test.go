package ocsp

import (
	"crypto/tls"
	"errors"
	"net/netip"
	"testing"
	"time"
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
				cl, err := NewClient("*", "")
				if mode == "require" {
					cl, err = NewClient("", "a.test")
				}
				if err != nil {
					t.Fatal(err)
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
	cl, err := NewClient("!a.test : *", "")
	if err != nil {
		t.Fatal(err)
	}
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
	cl, _ := NewClient("", "*")
	cl.Now = fixedNow
	s := cl.Session("a.test", testIP)
	cfg := s.Config(&tls.Config{ServerName: "a.test", InsecureSkipVerify: true})
	if _, err := dialTLS(t, addr, cfg); err != nil {
		t.Fatal(err)
	}
	if s.Status() != Verified || s.Response() == nil {
		t.Errorf("status %v err %v", s.Status(), s.Err())
	}
}

func TestClientDANE(t *testing.T) {
	cl, _ := NewClient(DefaultRequestHosts, "")
	for bits, want := range map[int]bool{0: true, 4: true, 8: false, 12: false, 1: false} {
		if got := cl.SessionDANE("mx.test", testIP, bits).Requested; got != want {
			t.Errorf("usage bits %d: requested %v, want %v", bits, got, want)
		}
	}
	// A request list other than "*" is used as it is.
	cl, _ = NewClient("mx.test", "")
	if !cl.SessionDANE("mx.test", testIP, 8).Requested {
		t.Error("explicit list ignored under DANE")
	}
	// Required hosts are requested whatever the usage.
	cl, _ = NewClient("*", "mx.test")
	if s := cl.SessionDANE("mx.test", testIP, 8); !s.Requested || !s.Required {
		t.Errorf("required host: %+v", s)
	}
	if DANERequestDefault(2) {
		t.Error("DANERequestDefault(2)")
	}
	if _, err := NewClient("net-lsearch;/x", ""); err == nil {
		t.Error("bad host list accepted")
	}
}

func TestStatusStrings(t *testing.T) {
	if Verified.String() != "4" || NotRequested.String() != "0" || Revoked.String() != "revoked" {
		t.Error("strings")
	}
}
