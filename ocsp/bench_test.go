package ocsp

import (
	"testing"

	xocsp "golang.org/x/crypto/ocsp"
)

// BenchmarkStaple is the per-handshake cost: stat the files, check the
// dates of the cached response.
func BenchmarkStaple(b *testing.B) {
	p := newPKI(b)
	f := writeTemp(b, b.TempDir(), "a.der", mkResp(b, p.a, p.ca1, respOpts{}))
	s, err := NewStapler(StaplerConfig{Certificates: p.certs(), Files: f, Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if s.Staple(0) == nil {
			b.Fatal("not stapled")
		}
	}
}

// BenchmarkVerifyStaple is the client's check of one staple.
func BenchmarkVerifyStaple(b *testing.B) {
	p := newPKI(b)
	der := mkResp(b, p.a, p.ca1, respOpts{})
	f := &Fetcher{Now: fixedNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Verify(der, p.a.cert, p.ca1.cert); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseResponseForCert is the peer for BenchmarkVerifyStaple:
// x/crypto/ocsp's parse and signature check alone, on the same response,
// without the issuer/serial matching, signer and date rules added here.
func BenchmarkParseResponseForCert(b *testing.B) {
	p := newPKI(b)
	der := mkResp(b, p.a, p.ca1, respOpts{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := xocsp.ParseResponseForCert(der, p.a.cert, p.ca1.cert); err != nil {
			b.Fatal(err)
		}
	}
}
