package main

// Black-box tests of "policycheck dane" against an in-process DNS server
// (AD set as a validating resolver would) and an in-process SMTP server
// with STARTTLS on loopback.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

var daneNames = []string{
	"tls_out_dane", "tls_out_tlsa_usage", "tls_out_cv", "dane_host", "dane_port",
	"dane_address", "dane_address_dnssec", "dane_required", "dane_tlsa_state",
	"dane_tlsa_base", "dane_tlsa_records", "dane_action", "dane_message",
	"dane_event", "dane_verified", "dane_match_usage", "dane_match_depth",
	"dane_match_name", "dane_error",
}

// daneCert is a self-signed server certificate for mx.example.com.
func daneCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.example.com"},
		DNSNames:     []string{"mx.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, sum[:]
}

// daneSMTP serves SMTP on loopback, offering STARTTLS when cert is set.
func daneSMTP(t *testing.T, cert *tls.Certificate) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				r := bufio.NewReader(c)
				c.Write([]byte("220 test ESMTP\r\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO") && cert != nil:
						c.Write([]byte("250-test\r\n250 STARTTLS\r\n"))
					case strings.HasPrefix(cmd, "EHLO"):
						c.Write([]byte("250 test\r\n"))
					case cmd == "STARTTLS" && cert != nil:
						c.Write([]byte("220 go ahead\r\n"))
						tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
						if tc.Handshake() != nil {
							return
						}
						c, r = tc, bufio.NewReader(tc)
					case cmd == "QUIT":
						c.Write([]byte("221 bye\r\n"))
						return
					default:
						c.Write([]byte("500 what\r\n"))
					}
				}
			}(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// daneDNS serves the zone for port; secure sets AD.
func daneDNS(t *testing.T, port int, spki []byte, secure bool) string {
	t.Helper()
	z := resolvertest.NewZone()
	p := strconv.Itoa(port)
	z.MustAdd(t,
		"mx.example.com. 300 IN A 127.0.0.1",
		"_"+p+"._tcp.mx.example.com. 300 IN TLSA 3 1 1 "+hex.EncodeToString(spki),
		"bad.example.com. 300 IN A 127.0.0.1",
		"_"+p+"._tcp.bad.example.com. 300 IN TLSA 3 1 1 "+strings.Repeat("00", 32),
		"plain.example.com. 300 IN A 127.0.0.1",
	)
	z.SetAuthentic(secure)
	return resolvertest.Start(t, z).Addr
}

func daneCheck(t *testing.T, args ...string) map[string]string {
	t.Helper()
	code, out, errOut := policycheck(t, append([]string{"dane", "-timeout", "2s"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(daneNames) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(daneNames), out)
	}
	vars := map[string]string{}
	for i, l := range lines {
		name, value, _ := strings.Cut(l, "=")
		if name != daneNames[i] {
			t.Fatalf("line %d is %q, want %s", i, l, daneNames[i])
		}
		vars[name] = value
	}
	return vars
}

func TestDANECommand(t *testing.T) {
	cert, spki := daneCert(t)
	tlsPort := daneSMTP(t, &cert)
	plainPort := daneSMTP(t, nil)
	tests := []struct {
		name   string
		port   int
		secure bool
		args   []string
		want   map[string]string
	}{
		{"verified", tlsPort, true, []string{"-host", "mx.example.com"}, map[string]string{
			"tls_out_dane": "yes", "tls_out_tlsa_usage": "8", "tls_out_cv": "dane", "dane_action": "dane",
			"dane_tlsa_state": "secure", "dane_verified": "yes", "dane_match_usage": "3", "dane_match_depth": "0",
			"dane_address": "127.0.0.1", "dane_address_dnssec": "yes", "dane_error": "", "dane_event": "",
		}},
		{"mismatch", tlsPort, true, []string{"-host", "bad.example.com"}, map[string]string{
			"tls_out_dane": "no", "tls_out_tlsa_usage": "8", "tls_out_cv": "no", "dane_action": "dane",
			"dane_verified": "no", "dane_match_depth": "-1", "dane_event": "validation-failure",
		}},
		{"no STARTTLS", plainPort, true, []string{"-host", "mx.example.com"}, map[string]string{
			"tls_out_dane": "no", "dane_action": "dane", "dane_event": "starttls-not-supported",
		}},
		{"no TLSA, try", tlsPort, true, []string{"-host", "plain.example.com"}, map[string]string{
			"tls_out_dane": "no", "tls_out_tlsa_usage": "0", "tls_out_cv": "no", "dane_action": "no-dane",
			"dane_tlsa_state": "none", "dane_error": "",
		}},
		{"no TLSA, require", tlsPort, true, []string{"-host", "plain.example.com", "-require"}, map[string]string{
			"dane_action": "fail", "dane_required": "yes", "dane_event": "dane-required", "dane_message": "DANE error: tlsa lookup FAIL",
		}},
		{"insecure, require", tlsPort, false, []string{"-host", "mx.example.com", "-require"}, map[string]string{
			"dane_action": "fail", "dane_address_dnssec": "no", "dane_event": "dane-required",
			"dane_message": "DANE error: mx.example.com lookup not DNSSEC",
		}},
		{"insecure, try", tlsPort, false, []string{"-host", "mx.example.com", "-connect", "127.0.0.1"}, map[string]string{
			"dane_action": "no-dane", "tls_out_dane": "no", "tls_out_cv": "no", "dane_error": "",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := daneDNS(t, tc.port, spki, tc.secure)
			vars := daneCheck(t, append([]string{"-nameserver", ns, "-port", strconv.Itoa(tc.port)}, tc.args...)...)
			for k, v := range tc.want {
				if vars[k] != v {
					t.Errorf("%s=%q, want %q", k, vars[k], v)
				}
			}
		})
	}
}

func TestDANECommandJSONAndUsage(t *testing.T) {
	cert, spki := daneCert(t)
	port := daneSMTP(t, &cert)
	ns := daneDNS(t, port, spki, true)
	code, out, _ := policycheck(t, "dane", "-json", "-nameserver", ns, "-port", strconv.Itoa(port), "-host", "mx.example.com")
	if code != 0 || !strings.HasPrefix(out, `{"tls_out_dane":"yes","tls_out_tlsa_usage":"8",`) {
		t.Errorf("exit %d, %s", code, out)
	}
	for _, args := range [][]string{
		{"dane"},
		{"dane", "-host", "x", "-port", "0"},
		{"dane", "-host", "x", "-connect", "nope"},
		{"dane", "-host", "x", "extra"},
		{"dane", "-host", "x", "-timeout", "0s"},
	} {
		if code, _, _ := policycheck(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := policycheck(t, "dane", "-h"); code != 0 || !strings.Contains(out, "-host") {
		t.Errorf("-h: exit %d %s", code, out)
	}
}
