package dane

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

// The benchmarks compare Verify with a whole TLS 1.3 handshake on
// loopback with the same certificates (see BENCHMARKS.md, "## dane").

func benchState(b *testing.B) (*pki, tls.ConnectionState) {
	p := newPKI(b, nil, "mx.example.com")
	return p, tls.ConnectionState{PeerCertificates: []*x509.Certificate{p.leaf, p.inter, p.root}}
}

func BenchmarkVerifyEE(b *testing.B) {
	p, cs := benchState(b)
	set := &TLSASet{Host: "mx.example.com", State: StateSecure, Records: []TLSA{spkiSHA256(p.leaf)}}
	names := []string{"mx.example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(set, cs, names); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyTA(b *testing.B) {
	p, cs := benchState(b)
	set := &TLSASet{Host: "mx.example.com", State: StateSecure, Records: []TLSA{taRecord(p.root)}}
	names := []string{"mx.example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(set, cs, names); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshakeTLS13 is one TCP connect plus a full TLS 1.3
// handshake (ECDHE, no resumption) on loopback, verified with DANE-EE.
func BenchmarkHandshakeTLS13(b *testing.B) {
	p := newPKI(b, nil, "mx.example.com")
	addr := serveTLS(b, p.tlsCert(p.leaf, p.inter, p.root))
	set := &TLSASet{Host: "mx.example.com", State: StateSecure, Records: []TLSA{spkiSHA256(p.leaf)}}
	cfg := ClientConfig(&tls.Config{MinVersion: tls.VersionTLS13, ClientSessionCache: nil}, set, []string{"mx.example.com"})
	d := &net.Dialer{Timeout: 5 * time.Second}
	b.ReportAllocs()
	for b.Loop() {
		c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkVerifyTAIntermediate is DANE-TA matching the intermediate:
// one signature check instead of two.
func BenchmarkVerifyTAIntermediate(b *testing.B) {
	p, cs := benchState(b)
	set := &TLSASet{Host: "mx.example.com", State: StateSecure, Records: []TLSA{taRecord(p.inter)}}
	names := []string{"mx.example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(set, cs, names); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTACached is VerifyTA on a set from NewTLSASet (as from
// LookupTLSA), which remembers the signatures it verified: the cost of
// the second and later connections to the same host with the same chain.
func BenchmarkVerifyTACached(b *testing.B) {
	p, cs := benchState(b)
	set := NewTLSASet("mx.example.com", 25, taRecord(p.root))
	names := []string{"mx.example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(set, cs, names); err != nil {
			b.Fatal(err)
		}
	}
}
