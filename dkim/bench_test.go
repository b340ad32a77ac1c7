package dkim

import (
	"bytes"
	"context"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// BenchmarkVerify measures Verify and go-msgauth's
// msgauth.VerifyWithOptions on the same messages with a 100 KB body. Both
// look keys up in the same in-memory map (no DNS, no allocation), so
// only parsing,
// canonicalization, hashing and public-key work are measured.
//
//   - 1sig: rsa-sha256 (2048-bit key) relaxed/relaxed. One body hash.
//   - 3sig: that, rsa-sha256 (1024) simple/simple and ed25519-sha256
//     relaxed/relaxed. Verify hashes the body twice (relaxed+sha256
//     serves two signatures); go-msgauth three times, once per
//     signature, in goroutines fed through pipes.
func BenchmarkVerify(b *testing.B) {
	k := testKeys()
	dns := newTestDNS().
		add("rsa2048._domainkey.example.com", keyRecord(b, k.rsa2048.Public(), "")).
		add("rsa1024._domainkey.example.com", keyRecord(b, k.rsa1024.Public(), "")).
		add("ed._domainkey.example.com", keyRecord(b, k.ed.Public(), ""))
	msg := testMessage(bigBody(100 << 10))
	one := testSign(b, msg, testSigner{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "relaxed/relaxed", bodyLen: -1})
	three := testSign(b, one, testSigner{alg: "rsa-sha256", key: k.rsa1024, domain: "example.com", selector: "rsa1024", canon: "simple/simple", bodyLen: -1})
	three = testSign(b, three, testSigner{alg: "ed25519-sha256", key: k.ed, domain: "example.com", selector: "ed", canon: "relaxed/relaxed", bodyLen: -1})

	opts := WithResolver(dns)
	mopts := &msgauth.VerifyOptions{LookupTXT: dns.msgauthLookup}
	for _, c := range []struct {
		name string
		msg  []byte
		sigs int
	}{{"1sig", one, 1}, {"3sig", three, 3}} {
		// Everything must pass before anything is timed.
		v, err := newVerifier(testConfig(opts))
		if err != nil {
			b.Fatal(err)
		}
		got, err := v.verify(context.Background(), bytes.NewReader(c.msg))
		if err != nil || len(got) != c.sigs {
			b.Fatalf("%s: %v %v", c.name, got, err)
		}
		for _, r := range got {
			if r.Status != StatusPass {
				b.Fatalf("%s: %+v", c.name, r)
			}
		}
		if want := min(c.sigs, 2); len(v.bodyHashes) != want {
			b.Fatalf("%s: %d body hashes, want %d", c.name, len(v.bodyHashes), want)
		}
		b.Run(c.name+"/ours", func(b *testing.B) {
			b.SetBytes(int64(len(c.msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(context.Background(), bytes.NewReader(c.msg), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
		vs, err := msgauth.VerifyWithOptions(bytes.NewReader(c.msg), mopts)
		if err != nil || len(vs) != c.sigs {
			b.Fatalf("%s: go-msgauth: %v %v", c.name, vs, err)
		}
		for _, v := range vs {
			if v.Err != nil {
				b.Fatalf("%s: go-msgauth: %v", c.name, v.Err)
			}
		}
		b.Run(c.name+"/go-msgauth", func(b *testing.B) {
			b.SetBytes(int64(len(c.msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := msgauth.VerifyWithOptions(bytes.NewReader(c.msg), mopts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
