package tlsconf

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestKeyForms(t *testing.T) {
	p := newPKI(t, "")
	d := t.TempDir()
	// RSA as PKCS #1, in a separate file; ECDSA in its certificate file.
	otherCert := writeFile(t, d, "other.pem", certPEM(p.other, p.inter))
	otherKey := writeFile(t, d, "other.key", keyPEM(t, p.other, true))
	mx := writeFile(t, d, "mx.pem", append(append(
		pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
		keyPEM(t, p.mx, false)...), certPEM(p.mx, p.inter)...))
	s, err := New(Config{
		Certificates: []string{otherCert, mx},
		PrivateKeys:  []string{otherKey, ""},
		Now:          fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cs, _ := dial(t, s.TLSConfig(), nil, "", tls.VersionTLS12); cs.PeerCertificates[0].Subject.CommonName != "mail.other.example" {
		t.Errorf("no SNI: got %q, want the first, mail.other.example", cs.PeerCertificates[0].Subject.CommonName)
	}
	if cs, _ := dial(t, s.TLSConfig(), p.pool, "mx.example", 0); cs.PeerCertificates[0].Subject.CommonName != "mx.example" {
		t.Error("mx.example not served")
	}
}

func TestNewErrors(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	d := l.dir
	badPEM := writeFile(t, d, "bad.pem", []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"))
	noPEM := writeFile(t, d, "nopem.pem", []byte("hello\n"))
	badKey := writeFile(t, d, "bad.key", []byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"))
	encKey := writeFile(t, d, "enc.key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))
	otherKey := writeFile(t, d, "other.key", keyPEM(t, p.other, false))
	certOnly := writeFile(t, d, "mx-only.pem", certPEM(p.mx, p.inter))
	leafOnly := writeFile(t, d, "leaf-only.pem", certPEM(p.mx))
	unreadable := writeFile(t, d, "unreadable.pem", certPEM(p.mx, p.inter))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	_, rootErr := os.ReadFile(unreadable) // root reads anything

	for _, tc := range []struct {
		name         string
		edit         func(*Config)
		option, file string
		text         string
	}{
		{"no certificates", func(c *Config) { c.Certificates = nil }, "tls_certificate", "", "no certificate"},
		{"missing certificate", func(c *Config) { c.Certificates[0] = d + "/absent.pem" }, "tls_certificate", d + "/absent.pem", "no such file"},
		{"bad certificate PEM", func(c *Config) { c.Certificates[0] = badPEM }, "tls_certificate", badPEM, "PEM block 1"},
		{"no PEM at all", func(c *Config) { c.Certificates[0] = noPEM }, "tls_certificate", noPEM, "no PEM CERTIFICATE"},
		{"missing key", func(c *Config) { c.PrivateKeys[0] = d + "/absent.key" }, "tls_privatekey", d + "/absent.key", "no such file"},
		{"bad key PEM", func(c *Config) { c.PrivateKeys[0] = badKey }, "tls_privatekey", badKey, "not a PKCS"},
		{"encrypted key", func(c *Config) { c.PrivateKeys[0] = encKey }, "tls_privatekey", encKey, "encrypted"},
		{"key mismatch", func(c *Config) { c.PrivateKeys[0] = otherKey }, "tls_privatekey", otherKey, "does not match"},
		{"key not in certificate file", func(c *Config) { c.Certificates[1] = certOnly }, "tls_privatekey", certOnly, "tls_privatekey unset"},
		{"too many keys", func(c *Config) { c.PrivateKeys = []string{l.mxKey, otherKey, otherKey} }, "tls_privatekey", "", "3 key files for 2"},
		{"bad OCSP list", func(c *Config) { c.OCSPFiles = "a.der : : b.der" }, "tls_ocsp_file", "", "empty file name"},
		{"OCSP file is a directory", func(c *Config) { c.OCSPFiles = d }, "tls_ocsp_file", d, "directory"},
		{"OCSP without issuer in chain", func(c *Config) {
			c.Certificates[0] = leafOnly
			c.OCSPFiles = d + "/mx.ocsp"
		}, "tls_certificate", leafOnly, "issuer"},
		{"refresh without responder URL", func(c *Config) {
			c.OCSPFiles = d + "/mx.ocsp"
			c.Refresh = true
		}, "tls_certificate", l.mxCert, "no OCSP responder URL"},
		{"certificate is a directory", func(c *Config) { c.Certificates[0] = d }, "tls_certificate", d, "is a directory"},
		{"key is a directory", func(c *Config) { c.PrivateKeys[0] = d }, "tls_privatekey", d, "is a directory"},
		{"unreadable certificate", func(c *Config) { c.Certificates[0] = unreadable }, "tls_certificate", unreadable, "permission denied"},
	} {
		if tc.name == "unreadable certificate" && rootErr == nil {
			continue // running as root: mode 0 is readable
		}
		t.Run(tc.name, func(t *testing.T) {
			cfg := l.config()
			tc.edit(&cfg)
			_, err := New(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *ConfigError", err, err)
			}
			if ce.Option != tc.option || ce.File != tc.file {
				t.Errorf("error names %s %q, want %s %q", ce.Option, ce.File, tc.option, tc.file)
			}
			if !strings.HasPrefix(err.Error(), tc.option) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q: want it to start with %s and say %q", err, tc.option, tc.text)
			}
		})
	}
}

// Refresh with the Responder override needs no AIA URL.
func TestResponderOverride(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	cfg := l.config()
	cfg.OCSPFiles = l.dir + "/mx.ocsp"
	cfg.Refresh = true
	cfg.Responder = "http://127.0.0.1:1/"
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredCertificateLogged(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	cfg := l.config()
	var lg logs
	cfg.Logf = lg.logf
	cfg.Now = func() time.Time { return p.mx.cert.NotAfter.Add(time.Hour) }
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if !lg.contains(`tls_certificate "` + l.mxCert + `": not valid now`) {
		t.Errorf("expired certificate not logged: %q", lg.lines)
	}
}

// Exim ignores tls_ocsp_file elements beyond the certificates; New
// accepts them but says so.
func TestSurplusOCSPFileLogged(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	cfg := l.config()
	cfg.OCSPFiles = l.dir + "/a : " + l.dir + "/b : " + l.dir + "/c"
	var lg logs
	cfg.Logf = lg.logf
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if !lg.contains("3 files for 2 certificates") {
		t.Errorf("surplus not logged: %q", lg.lines)
	}
}
