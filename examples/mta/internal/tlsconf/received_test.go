package tlsconf

import (
	"crypto/tls"
	"testing"
)

func TestReceivedTLS12(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	s, err := New(l.config())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sni   string
		suite uint16
		want  string
	}{
		{"mx.example", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			"(TLS1.2) tls TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{"mail.other.example", tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			"(TLS1.2) tls TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
	} {
		cfg := s.TLSConfig()
		cfg.CipherSuites = []uint16{tc.suite}
		c, sv := dial(t, cfg, p.pool, tc.sni, tls.VersionTLS12)
		if got := Received(&sv); got != tc.want {
			t.Errorf("server side: %q, want %q", got, tc.want)
		}
		if got := Received(&c); got != tc.want {
			t.Errorf("client side: %q, want %q", got, tc.want)
		}
	}
}

func TestReceivedTLS13(t *testing.T) {
	p := newPKI(t, "")
	l := writeLayout(t, p)
	s, err := New(l.config())
	if err != nil {
		t.Fatal(err)
	}
	// Go does not let TLS 1.3 suites be configured; it picks by
	// hardware, so every possible outcome is spelled out.
	want := map[uint16]string{
		tls.TLS_AES_128_GCM_SHA256:       "(TLS1.3) tls TLS_AES_128_GCM_SHA256",
		tls.TLS_AES_256_GCM_SHA384:       "(TLS1.3) tls TLS_AES_256_GCM_SHA384",
		tls.TLS_CHACHA20_POLY1305_SHA256: "(TLS1.3) tls TLS_CHACHA20_POLY1305_SHA256",
	}
	_, sv := dial(t, s.TLSConfig(), p.pool, "mx.example", 0)
	w, ok := want[sv.CipherSuite]
	if !ok {
		t.Fatalf("unexpected TLS 1.3 suite %#04x", sv.CipherSuite)
	}
	if got := Received(&sv); got != w {
		t.Errorf("Received = %q, want %q", got, w)
	}
}

func TestVersionAndCipherNames(t *testing.T) {
	for v, want := range map[uint16]string{
		tls.VersionTLS13: "TLS1.3", tls.VersionTLS12: "TLS1.2", tls.VersionTLS11: "TLS1.1",
		tls.VersionTLS10: "TLS1", 0x0300: "SSL3", 0x7f1c: "0x7F1C",
	} {
		if got := VersionName(v); got != want {
			t.Errorf("VersionName(%#04x) = %q, want %q", v, got, want)
		}
	}
	if got := CipherName(0x1234); got != "0x1234" {
		t.Errorf("unknown suite: %q", got)
	}
	if got := Received(nil); got != "" {
		t.Errorf("Received(nil) = %q", got)
	}
	// Whatever the numbers, the header stays 7-bit printable.
	for i := 0; i <= 0xffff; i++ {
		cs := &tls.ConnectionState{Version: uint16(i), CipherSuite: uint16(i)}
		for _, r := range Received(cs) {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("Received for %#04x has %q", i, r)
			}
		}
	}
}
