package tlsconf

import (
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
)

// FuzzNew writes arbitrary certificate, key and OCSP file contents and
// loads them: New must return a Server or a *ConfigError, never panic,
// and a loaded Server must answer a ClientHello.
func FuzzNew(f *testing.F) {
	p := newPKI(f, "")
	chain := certPEM(p.mx, p.inter)
	key := keyPEM(f, p.mx, false)
	resp := mkResp(f, p.mx, p.inter, respOpts{})
	f.Add(chain, key, resp, false)
	f.Add(append(chain, key...), []byte(nil), pemResp(resp, resp), true)
	f.Add(chain, keyPEM(f, p.other, true), []byte("junk"), true)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n"), key, []byte{}, false)
	f.Fuzz(func(t *testing.T, certData, keyData, ocspData []byte, asPEM bool) {
		d := t.TempDir()
		cfg := Config{
			Certificates: []string{writeFile(t, d, "cert.pem", certData)},
			OCSPFiles:    filepath.Join(d, "resp"),
			Now:          fixedNow,
		}
		if asPEM {
			cfg.OCSPFiles = "PEM " + cfg.OCSPFiles
		}
		if keyData != nil {
			cfg.PrivateKeys = []string{writeFile(t, d, "key.pem", keyData)}
		}
		writeFile(t, d, "resp", ocspData)
		s, err := New(cfg)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			return
		}
		c, err := s.TLSConfig().GetCertificate(&tls.ClientHelloInfo{ServerName: "mx.example"})
		if err != nil || c == nil || c.PrivateKey == nil {
			t.Fatalf("GetCertificate: %v, %v", c, err)
		}
	})
}
