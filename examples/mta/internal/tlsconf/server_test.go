package tlsconf

import (
	"bytes"
	"crypto/tls"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

func TestSNIPicksCertificate(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	s, err := New(l.config())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sni, want string
		verify    bool
	}{
		{"mx.example", "mx.example", true},
		{"mail.other.example", "mail.other.example", true},
		{"MAIL.Other.Example", "mail.other.example", true},
		{"", "mx.example", false},                // no SNI: the first
		{"unknown.example", "mx.example", false}, // no match: the first
	} {
		roots := p.pool
		if !tc.verify {
			roots = nil
		}
		cs, _ := dial(t, s.TLSConfig(), roots, tc.sni, 0)
		if got := cs.PeerCertificates[0].Subject.CommonName; got != tc.want {
			t.Errorf("SNI %q: got certificate %q, want %q", tc.sni, got, tc.want)
		}
		if len(cs.PeerCertificates) != 2 || !cs.PeerCertificates[1].Equal(p.inter.cert) {
			t.Errorf("SNI %q: chain not sent: %d certificates", tc.sni, len(cs.PeerCertificates))
		}
	}
}

func TestMinVersion(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	s, err := New(l.config())
	if err != nil {
		t.Fatal(err)
	}
	if v := s.TLSConfig().MinVersion; v != tls.VersionTLS12 {
		t.Errorf("default MinVersion %#x, want TLS 1.2", v)
	}
	cfg := l.config()
	cfg.MinVersion = tls.VersionTLS13
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v := s.TLSConfig().MinVersion; v != tls.VersionTLS13 {
		t.Errorf("MinVersion %#x, want TLS 1.3", v)
	}
	// TLSConfig hands out copies.
	a := s.TLSConfig()
	a.MinVersion = tls.VersionTLS10
	if s.TLSConfig().MinVersion != tls.VersionTLS13 {
		t.Error("changing one TLSConfig changed the next")
	}
	cfg.MinVersion = 0x0200
	if _, err := New(cfg); err == nil {
		t.Error("MinVersion 0x0200 accepted")
	}
}

func TestStapleFromFiles(t *testing.T) {
	p := newPKI(t, "")
	mxGood := mkResp(t, p.mx, p.inter, respOpts{})
	otherGood := mkResp(t, p.other, p.inter, respOpts{})
	otherExpired := mkResp(t, p.other, p.inter, respOpts{
		thisUpdate: testNow.Add(-72 * time.Hour), nextUpdate: testNow.Add(-48 * time.Hour)})
	mxRevoked := mkResp(t, p.mx, p.inter, respOpts{status: xocsp.Revoked})

	for _, tc := range []struct {
		name      string
		files     func(dir string) string
		wantMX    []byte
		wantOther []byte
	}{
		{"DER without prefix", func(d string) string {
			return writeFile(t, d, "mx.ocsp.der", mxGood)
		}, mxGood, nil},
		{"DER prefix", func(d string) string {
			return "DER " + writeFile(t, d, "mx.ocsp.der", mxGood) + " : " + writeFile(t, d, "other.ocsp.der", otherGood)
		}, mxGood, otherGood},
		{"PEM prefix, several responses", func(d string) string {
			// other's file: one for mx first, one expired, then the good one.
			return writeFile(t, d, "mx.ocsp.der", mxGood) + " : PEM " +
				writeFile(t, d, "other.ocsp.pem", pemResp(mxGood, otherExpired, otherGood))
		}, mxGood, otherGood},
		{"expired only", func(d string) string {
			return writeFile(t, d, "mx.ocsp.der", mxGood) + " : PEM " + writeFile(t, d, "other.ocsp.pem", pemResp(otherExpired))
		}, mxGood, nil},
		{"revoked not stapled", func(d string) string {
			return writeFile(t, d, "mx.ocsp.der", mxRevoked)
		}, nil, nil},
		{"missing file", func(d string) string {
			return d + "/absent.der : PEM " + d + "/absent.pem"
		}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := writeLayout(t, p)
			cfg := l.config()
			cfg.OCSPFiles = tc.files(l.dir)
			var lg logs
			cfg.Logf = lg.logf
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				sni  string
				want []byte
			}{{"mx.example", tc.wantMX}, {"mail.other.example", tc.wantOther}} {
				for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
					cs, _ := dial(t, s.TLSConfig(), p.pool, c.sni, v)
					if !bytes.Equal(cs.OCSPResponse, c.want) {
						t.Errorf("%s, %s: staple %d bytes, want %d (%v)", c.sni, VersionName(v),
							len(cs.OCSPResponse), len(c.want), lg.lines)
					}
				}
			}
		})
	}
}

// A file that appears after New is stapled at the next handshake.
func TestStapleFileAppears(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	cfg := l.config()
	cfg.OCSPFiles = l.dir + "/mx.ocsp.der"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cs, _ := dial(t, s.TLSConfig(), p.pool, "mx.example", 0); cs.OCSPResponse != nil {
		t.Fatal("stapled before the file exists")
	}
	good := mkResp(t, p.mx, p.inter, respOpts{})
	writeFile(t, l.dir, "mx.ocsp.der", good)
	if cs, _ := dial(t, s.TLSConfig(), p.pool, "mx.example", 0); !bytes.Equal(cs.OCSPResponse, good) {
		t.Fatal("new file not stapled")
	}
}
