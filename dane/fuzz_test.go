package dane

import (
	"crypto/x509"
	"testing"
	"time"
)

// FuzzVerify feeds random TLSA records (presentation text and raw
// fields) and certificate bytes to the parser and verifier: they must
// never panic, and a verified result must name a usable record.
func FuzzVerify(f *testing.F) {
	p := newPKI(f, nil, "mx.example.com")
	ee := spkiSHA256(p.leaf)
	f.Add("3 1 1 00", uint8(3), uint8(1), uint8(1), ee.Data, p.leaf.Raw)
	f.Add("2 0 0 00", uint8(2), uint8(0), uint8(0), p.root.Raw, p.inter.Raw)
	f.Add("2 1 0 00", uint8(2), uint8(1), uint8(0), p.inter.RawSubjectPublicKeyInfo, []byte{})
	f.Add("1 1 1 ff", uint8(1), uint8(1), uint8(1), ee.Data, []byte{0x30, 0x00})
	f.Add("x", uint8(3), uint8(9), uint8(2), make([]byte, 64), p.leaf.Raw)
	now := time.Now()
	f.Fuzz(func(t *testing.T, text string, usage, selector, mtype uint8, data, certDER []byte) {
		recs := []TLSA{{usage, selector, mtype, data}}
		if r, err := ParseTLSA(text); err == nil {
			if r.String() == "" {
				t.Fatal("empty String")
			}
			recs = append(recs, r)
		}
		chain := []*x509.Certificate{p.leaf, p.inter, p.root}
		if c, err := x509.ParseCertificate(certDER); err == nil {
			chain = []*x509.Certificate{c, p.inter}
		} else if len(certDER)%2 == 1 {
			chain = []*x509.Certificate{p.leaf}
		}
		v, err := verifyAt(recs, chain, []string{"mx.example.com"}, now)
		if v == nil {
			t.Fatal("nil verification")
		}
		if (err == nil) != v.Verified {
			t.Fatalf("err %v but Verified=%v", err, v.Verified)
		}
		if v.Verified && (v.Record == nil || !v.Record.Usable()) {
			t.Fatalf("verified by unusable record %+v", v.Record)
		}
	})
}
