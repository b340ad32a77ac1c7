package dkim

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzParseSignature feeds arbitrary DKIM-Signature values to the
// tag parser and signature checks. Nothing may panic, and a signature
// that comes back valid must have what verification relies on.
func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{
		validSig,
		validSig + "; i=a@example.com; l=10; q=dns/txt; t=1; x=2; z=From:a|To:b",
		" v = 1 ;\r\n\ta=ed25519-sha256; d=a.b; s=c; h=from; bh=AAAA;\r\n b=AA\r\n AA ;",
		"v=1;;a=rsa-sha256", "a=rsa-sha1; v=2", "", ";", "=", "b=\r\n", "v=1; a=rsa-sha256; b=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		s := parseSignature(value)
		if s.keyType != "" && s.algorithm() == "-" {
			t.Fatal("half an algorithm")
		}
		if s.err != nil {
			if s.err.Reason != ReasonSignatureTag && s.err.Reason != ReasonVersion {
				t.Fatalf("reason %q", s.err.Reason)
			}
			_ = s.err.Error()
			return
		}
		if s.keyType == "" || s.domain == "" || s.selector == "" || len(s.headers) == 0 || len(s.sig) == 0 || len(s.bodyHash) == 0 {
			t.Fatalf("valid but incomplete: %+v", s)
		}
		if s.bStart > s.bEnd || s.bEnd > len(value) {
			t.Fatalf("b= span %d:%d of %d", s.bStart, s.bEnd, len(value))
		}
		if strings.ContainsAny(s.domain+s.selector, " \t\r\n;") {
			t.Fatalf("d=%q s=%q", s.domain, s.selector)
		}
		if _, err := decodeBase64(value[s.bStart:s.bEnd]); err != nil {
			t.Fatalf("b= span %q: %v", value[s.bStart:s.bEnd], err)
		}
	})
}

// FuzzParseKey feeds arbitrary key records to the key parser.
func FuzzParseKey(f *testing.F) {
	k := testKeys()
	f.Add(keyRecord(f, k.rsa1024.Public(), "h=sha256; s=email; t=s; "))
	f.Add(keyRecord(f, k.ed.Public(), ""))
	f.Add("v=DKIM1; p=")
	f.Add("p=AAAA; k=rsa")
	f.Fuzz(func(t *testing.T, txt string) {
		key, err := parseKey(txt)
		if (key == nil) == (err == nil) {
			t.Fatalf("key %v err %v", key, err)
		}
		if key != nil && (key.bits <= 0 || (key.rsa == nil) == (key.ed == nil)) {
			t.Fatalf("%+v", key)
		}
		_ = isKeyCandidate(txt)
	})
}

// FuzzVerify verifies arbitrary messages against a fixed in-memory
// zone. Nothing may panic; the only error is a read error (here, a
// header over the limit); every result must be well-formed.
func FuzzVerify(f *testing.F) {
	dns := hostileDNS(f)
	f.Add(hostileSigned(f, testBody), false)
	f.Add(hostileSigned(f, ""), true)
	f.Add(bytes.ReplaceAll(hostileSigned(f, "a\r\n\r\nb  c\r\n"), []byte("\r\n"), []byte("\n")), false)
	f.Add([]byte("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from; bh=AAAA; b=AAAA; l=3\r\nFrom: a\r\n\r\nbody"), false)
	f.Add([]byte("From: a\r\n"), false)
	f.Fuzz(func(t *testing.T, msg []byte, minimal bool) {
		got, err := Verify(context.Background(), bytes.NewReader(msg), WithResolver(dns), WithMinimal(minimal), WithHashes("sha256", "sha1", "sha512"))
		if err != nil {
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if n := bytes.Count(bytes.ToLower(msg), []byte("dkim-signature")); len(got) > n {
			t.Fatalf("%d results for %d signature fields", len(got), n)
		}
		passed := false
		for _, r := range got {
			checkStatus(t, r)
			if minimal && passed && r.Status != StatusNone {
				t.Fatalf("verified after a pass with Minimal: %+v", got)
			}
			passed = passed || r.Status == StatusPass
		}
	})
}
