package dkim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// wantResult is one expected result.
type wantResult struct {
	domain, alg string
	status      Status
	reason      Reason
	bits        int // 0: not checked
}

// verifyCase is one message of the verification table. oracle says
// whether go-msgauth's dkim.Verify agrees on pass/fail for every
// signature (dkim_msgauth_test.go checks it); when it does not, why.
type verifyCase struct {
	name   string
	msg    []byte
	opts   []Option // the runner adds WithResolver
	want   []wantResult
	oracle string // "" when go-msgauth must agree
}

const testBody = "Hello Bob,\r\n\r\nThis is  a   test \t message. \r\n  Indented.\r\n\r\n\r\n"

// shortKey is a 512-bit RSA key, which Go generates only with
// GODEBUG=rsa1024min=0 (set for the calling test).
func shortKey(t *testing.T) *rsa.PrivateKey {
	t.Setenv("GODEBUG", "rsa1024min=0")
	k, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// baseDNS is the key records every table case may use, under
// example.com: selectors name what is published there.
func baseDNS(t *testing.T) *testDNS {
	k := testKeys()
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&k.rsa2048.PublicKey))
	d := newTestDNS().
		add("rsa1024._domainkey.example.com", keyRecord(t, k.rsa1024.Public(), "")).
		add("rsa2048._domainkey.example.com", keyRecord(t, k.rsa2048.Public(), "")).
		add("ed._domainkey.example.com", keyRecord(t, k.ed.Public(), "")).
		add("short._domainkey.example.com", keyRecord(t, shortKey(t).Public(), "")).
		add("revoked._domainkey.example.com", "v=DKIM1; k=rsa; p=").
		add("sha1only._domainkey.example.com", keyRecord(t, k.rsa2048.Public(), "h=sha1; ")).
		add("edkey._domainkey.example.com", keyRecord(t, k.ed.Public(), "")).
		add("strict._domainkey.example.com", keyRecord(t, k.rsa2048.Public(), "t=s; ")).
		add("pkcs1._domainkey.example.com", "v=DKIM1; p="+pkcs1).
		add("multi._domainkey.example.com", "v=spf1 -all", keyRecord(t, k.rsa2048.Public(), "")).
		add("badder._domainkey.example.com", "v=DKIM1; p=AAAA").
		add("badb64._domainkey.example.com", "v=DKIM1; p=@@@@").
		add("service._domainkey.example.com", keyRecord(t, k.rsa2048.Public(), "s=other; ")).
		add("rsa2048._domainkey.example.org", keyRecord(t, k.rsa2048.Public(), ""))
	d.servfail["servfail._domainkey.example.com"] = true
	return d
}

// verifyCases is the table of messages signed by testSign.
func verifyCases(t *testing.T) []verifyCase {
	k := testKeys()
	msg := testMessage(testBody)
	sig := func(alg, sel, canon string) testSigner {
		s := testSigner{alg: alg, domain: "example.com", selector: sel, canon: canon, bodyLen: -1}
		switch {
		case strings.HasPrefix(alg, "ed25519"):
			s.key = k.ed
		case sel == "rsa1024":
			s.key = k.rsa1024
		default:
			s.key = k.rsa2048
		}
		return s
	}
	sign := func(m []byte, sigs ...testSigner) []byte {
		for _, s := range sigs {
			m = testSign(t, m, s)
		}
		return m
	}
	with := func(s testSigner, f func(*testSigner)) testSigner { f(&s); return s }
	pass := func(alg string, bits int) wantResult { return wantResult{"example.com", alg, StatusPass, "", bits} }
	rr := sig("rsa-sha256", "rsa2048", "relaxed/relaxed")
	ed := sig("ed25519-sha256", "ed", "relaxed/relaxed")
	odd := []byte(strings.Replace(string(msg), "Subject:", "X-Odd :  a \t b  \r\nSubject:", 1))
	signed := sign(msg, rr)
	now := time.Now()

	return []verifyCase{
		{name: "rsa-sha256 relaxed/relaxed", msg: signed, want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "rsa-sha256 simple/simple", msg: sign(msg, sig("rsa-sha256", "rsa2048", "simple/simple")), want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "rsa-sha256 1024 relaxed/simple", msg: sign(msg, sig("rsa-sha256", "rsa1024", "relaxed/simple")), want: []wantResult{pass("rsa-sha256", 1024)}},
		{name: "relaxed header with odd whitespace", msg: sign(odd, with(rr, func(s *testSigner) { s.headers = "from:x-odd:subject" })), want: []wantResult{pass("rsa-sha256", 0)}},
		{name: "ed25519-sha256", msg: sign(msg, ed), want: []wantResult{pass("ed25519-sha256", 256)}},
		{name: "ed25519-sha256 simple/simple", msg: sign(msg, sig("ed25519-sha256", "ed", "")), want: []wantResult{pass("ed25519-sha256", 256)}},
		{name: "rsa-sha1 dropped by default", msg: sign(msg, sig("rsa-sha1", "rsa2048", "relaxed/relaxed")), want: nil},
		{name: "rsa-sha1 verified with sha1 in Hashes", msg: sign(msg, sig("rsa-sha1", "rsa2048", "relaxed/relaxed")),
			opts: []Option{WithHashes("sha256", "sha1")}, want: []wantResult{pass("rsa-sha1", 2048)},
			oracle: "go-msgauth refuses rsa-sha1 (RFC 8301)"},
		{name: "rsa-sha512", msg: sign(msg, sig("rsa-sha512", "rsa2048", "relaxed/relaxed")), want: []wantResult{pass("rsa-sha512", 2048)},
			oracle: "go-msgauth knows only sha256; Exim also verifies sha512"},
		{name: "body modified", msg: bytes.Replace(signed, []byte("test"), []byte("tEst"), 1),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonBodyHashMismatch, 2048}}},
		{name: "body whitespace changed (relaxed)", msg: bytes.Replace(signed, []byte("a   test"), []byte("a test"), 1),
			want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "signed header modified", msg: bytes.Replace(signed, []byte("Subject: Hello"), []byte("Subject: Jello"), 1),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonSignatureIncorrect, 2048}}},
		{name: "unsigned header added", msg: bytes.Replace(signed, []byte("Date:"), []byte("X-Spam: no\r\nDate:"), 1),
			want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "signed header added below (bottom-up selection)", msg: bytes.Replace(signed, []byte("Date:"), []byte("Subject: new\r\nDate:"), 1),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonSignatureIncorrect, 2048}}},
		{name: "key too short", msg: sign(msg, sig("rsa-sha256", "short", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonPubkeyTooShort, 512}}},
		{name: "missing key", msg: sign(msg, sig("rsa-sha256", "nokey", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonPubkeyUnavailable, 0}}},
		{name: "SERVFAIL", msg: sign(msg, sig("rsa-sha256", "servfail", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonPubkeyUnavailable, 0}}},
		{name: "revoked key", msg: sign(msg, sig("rsa-sha256", "revoked", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonPubkeyDNSSyntax, 0}}},
		{name: "key not DER", msg: sign(msg, sig("rsa-sha256", "badder", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonPubkeyDERSyntax, 0}}},
		{name: "key not base64", msg: sign(msg, sig("rsa-sha256", "badb64", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonPubkeyDNSSyntax, 0}}},
		{name: "key PKCS#1 RSAPublicKey", msg: sign(msg, sig("rsa-sha256", "pkcs1", "relaxed/relaxed")), want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "SPF record before key record", msg: sign(msg, sig("rsa-sha256", "multi", "relaxed/relaxed")), want: []wantResult{pass("rsa-sha256", 2048)},
			oracle: "go-msgauth refuses several TXT records; like Exim we take the first that is not another v= record"},
		{name: "key h=sha1 only", msg: sign(msg, sig("rsa-sha256", "sha1only", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, "", 2048}}},
		{name: "key type mismatch", msg: sign(msg, sig("rsa-sha256", "edkey", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, "", 256}}},
		{name: "key s= not email", msg: sign(msg, sig("rsa-sha256", "service", "relaxed/relaxed")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, "", 2048}}},
		{name: "key t=s, i= in a subdomain", msg: sign(msg, with(sig("rsa-sha256", "strict", "relaxed/relaxed"), func(s *testSigner) { s.ident = "a@mail.example.com" })),
			want:   []wantResult{{"example.com", "rsa-sha256", StatusFail, "", 2048}},
			oracle: "go-msgauth does not enforce the key's t=s flag"},
		{name: "key t=s, i= in d=", msg: sign(msg, with(sig("rsa-sha256", "strict", "relaxed/relaxed"), func(s *testSigner) { s.ident = "a@example.com" })),
			want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "i= domain in other case", msg: sign(msg, with(rr, func(s *testSigner) { s.ident = "a@EXAMPLE.com" })),
			want: []wantResult{pass("rsa-sha256", 2048)}, oracle: "go-msgauth compares i= with d= case-sensitively; domain names are not"},
		{name: "i= in a subdomain", msg: sign(msg, with(rr, func(s *testSigner) { s.ident = "alice@mail.example.com" })), want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "i= outside d=", msg: sign(msg, with(rr, func(s *testSigner) { s.ident = "alice@example.org" })),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonSignatureTag, 0}}},
		{name: "h= without From", msg: sign(msg, with(rr, func(s *testSigner) { s.headers = "to:subject" })),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonSignatureTag, 0}}},
		{name: "v=2", msg: sign(msg, with(rr, func(s *testSigner) { s.version = "2" })),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonVersion, 0}}},
		{name: "expired x= (past)", msg: sign(msg, with(rr, func(s *testSigner) { s.extra = "t=1000000000; x=1000000100; " })),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonExpired, 0}}},
		{name: "x= in the future", msg: sign(msg, with(rr, func(s *testSigner) {
			s.extra = fmt.Sprintf("t=%d; x=%d; ", now.Unix(), now.Add(time.Hour).Unix())
		})), want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "x= passed according to Now", msg: sign(msg, with(rr, func(s *testSigner) {
			s.extra = fmt.Sprintf("t=%d; x=%d; ", now.Unix(), now.Add(time.Hour).Unix())
		})), opts: []Option{WithClock(func() time.Time { return now.Add(2 * time.Hour) })},
			want:   []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonExpired, 0}},
			oracle: "go-msgauth compares x= with the wall clock"},
		{name: "x= before t=", msg: sign(msg, with(rr, func(s *testSigner) { s.extra = "t=1000000100; x=1000000000; " })),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonSignatureTag, 0}}},
		{name: "l= covers the original body, text appended", msg: func() []byte {
			m := sign(msg, with(rr, func(s *testSigner) { s.bodyLen = -2 }))
			return append(m, "-- \r\nAppended by a list\r\n"...)
		}(), want: []wantResult{pass("rsa-sha256", 2048)},
			oracle: "go-msgauth refuses every signature with l="},
		{name: "l= shorter than the body", msg: sign(msg, with(sig("rsa-sha256", "rsa2048", "simple/simple"), func(s *testSigner) { s.bodyLen = 12 })),
			want: []wantResult{pass("rsa-sha256", 2048)}, oracle: "go-msgauth refuses every signature with l="},
		{name: "l= longer than the body", msg: sign(msg, with(rr, func(s *testSigner) { s.bodyLen = 100000 })),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonBodyHashMismatch, 2048}}},
		{name: "bare LF line ends", msg: bytes.ReplaceAll(sign(msg, sig("rsa-sha256", "rsa2048", "simple/simple")), []byte("\r\n"), []byte("\n")),
			want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "no signature", msg: msg},
		{name: "unknown algorithm dropped", msg: bytes.Replace(signed, []byte("a=rsa-sha256"), []byte("a=rsa-sha384"), 1), want: nil},
		{name: "malformed tag list", msg: append([]byte("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from;; bh=AAAA; b=AAAA\r\n"), msg...),
			want: []wantResult{{"example.com", "rsa-sha256", StatusInvalid, ReasonSignatureTag, 0}}},
		{name: "ed25519 first whatever the message order", msg: sign(msg, ed, rr),
			want: []wantResult{pass("ed25519-sha256", 256), pass("rsa-sha256", 2048)}},
		{name: "KeyTypes rsa drops ed25519", msg: sign(msg, ed, rr), opts: []Option{WithKeyTypes("rsa")},
			want: []wantResult{pass("rsa-sha256", 2048)}, oracle: "go-msgauth has no key type filter (it passes the ed25519 signature)"},
		{name: "KeyTypes rsa then ed25519", msg: sign(msg, rr, ed), opts: []Option{WithKeyTypes("rsa", "ed25519")},
			want: []wantResult{pass("rsa-sha256", 2048), pass("ed25519-sha256", 256)}},
		{name: "hash preference, sha1 dropped", msg: sign(msg, sig("rsa-sha512", "rsa2048", "simple/simple"), sig("rsa-sha1", "rsa2048", "simple/simple"), sig("rsa-sha256", "rsa2048", "simple/simple")),
			opts:   []Option{WithHashes("sha512", "sha256")},
			want:   []wantResult{pass("rsa-sha512", 2048), pass("rsa-sha256", 2048)},
			oracle: "go-msgauth knows only sha256"},
		{name: "Minimal: second signature not verified", msg: sign(msg, rr, ed), opts: []Option{WithMinimal(true)},
			want: []wantResult{pass("ed25519-sha256", 256), {"example.com", "rsa-sha256", StatusNone, "", 0}}, oracle: "go-msgauth verifies every signature"},
		{name: "Minimal: verifies until the first pass", msg: sign(msg, sig("ed25519-sha256", "nokey", "relaxed/relaxed"), rr, sig("rsa-sha256", "rsa1024", "simple/simple")), opts: []Option{WithMinimal(true)},
			want:   []wantResult{{"example.com", "ed25519-sha256", StatusInvalid, ReasonPubkeyUnavailable, 0}, pass("rsa-sha256", 1024), {"example.com", "rsa-sha256", StatusNone, "", 0}},
			oracle: "go-msgauth verifies every signature"},
		{name: "MaxSignatures 2 of 3", msg: sign(msg, rr, sig("rsa-sha256", "rsa1024", "simple/simple"), ed), opts: []Option{WithMaxSignatures(2)},
			want:   []wantResult{pass("ed25519-sha256", 256), pass("rsa-sha256", 1024), {"example.com", "rsa-sha256", StatusNone, "", 0}},
			oracle: "go-msgauth verifies every signature"},
		{name: "other domain", msg: sign(msg, with(rr, func(s *testSigner) { s.domain = "example.org" })),
			want: []wantResult{{"example.org", "rsa-sha256", StatusPass, "", 2048}}},
	}
}

// checkResults compares results with the expectations and checks
// invariants every result must hold.
func checkResults(t *testing.T, got []Result, want []wantResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Domain != w.domain || g.Algorithm != w.alg || g.Status != w.status || g.Reason != w.reason || (w.bits != 0 && g.KeyBits != w.bits) {
			t.Errorf("result %d: got %s %s %s/%q bits %d (%v), want %s %s %s/%q bits %d",
				i, g.Domain, g.Algorithm, g.Status, g.Reason, g.KeyBits, g.Err, w.domain, w.alg, w.status, w.reason, w.bits)
		}
		if (g.Err == nil) != (g.Status == StatusPass) {
			t.Errorf("result %d: status %s with Err %v", i, g.Status, g.Err)
		}
		var de *Error
		if g.Err != nil && (!errors.As(g.Err, &de) || de.Reason != g.Reason) {
			t.Errorf("result %d: Err %#v does not carry reason %q", i, g.Err, g.Reason)
		}
	}
}

// TestVerify runs the table through the real DNS client and the
// in-process DNS server.
func TestVerify(t *testing.T) {
	dns := baseDNS(t)
	srv := dns.serve(t)
	for _, c := range verifyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			opts := append([]Option{WithResolver(nsResolver(t, srv.Addr, time.Second))}, c.opts...)
			got, err := Verify(context.Background(), bytes.NewReader(c.msg), opts...)
			if err != nil {
				t.Fatal(err)
			}
			checkResults(t, got, c.want)
		})
	}
}

// TestVerifyBodyHashedOnce shows that the body is hashed once per
// distinct (canonicalization, hash, l=): four signatures, two of which
// share relaxed/sha256 and one of which repeats simple/sha256, need
// three body hashes, each fed the canonical body exactly once. The two
// signatures by the same d= and s= share one key lookup.
func TestVerifyBodyHashedOnce(t *testing.T) {
	k := testKeys()
	body := strings.Repeat("Line with  spaces \t and tabs.\r\n", 2000) + "\r\n\r\n"
	msg := testMessage(body)
	for _, s := range []testSigner{
		{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "relaxed/relaxed", bodyLen: -1},
		{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "simple/simple", bodyLen: -1},
		{alg: "ed25519-sha256", key: k.ed, domain: "example.com", selector: "ed", canon: "relaxed/relaxed", bodyLen: -1},
		{alg: "rsa-sha256", key: k.rsa1024, domain: "example.com", selector: "rsa1024", canon: "relaxed/simple", bodyLen: -1},
	} {
		msg = testSign(t, msg, s)
	}
	v, err := newVerifier(testConfig(WithResolver(baseDNS(t))))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.verify(context.Background(), bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Status != StatusPass {
			t.Fatalf("%+v", r)
		}
	}
	if len(v.bodyHashes) != 2 {
		t.Errorf("%d body hashes for 4 signatures, want 2 (relaxed/sha256, simple/sha256)", len(v.bodyHashes))
	}
	for _, h := range v.bodyHashes {
		want := len(refSimpleBody(body))
		if h.relaxed {
			want = len(refRelaxedBody(body))
		}
		if h.hashed != int64(want) {
			t.Errorf("relaxed=%v %s: %d octets hashed, want %d (the canonical body once)", h.relaxed, h.hashName, h.hashed, want)
		}
	}
	if v.lookups != 3 {
		t.Errorf("%d key lookups, want 3 (rsa2048 shared)", v.lookups)
	}
}

// testConfig returns the config Verify builds from opts.
func testConfig(opts ...Option) *config {
	c := &config{}
	c.init(opts)
	return c
}

func TestVerifyOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opt    Option
		option string
	}{
		{WithHashes("sha2"), "WithHashes"},
		{WithHashes("sha256", "md5"), "WithHashes"},
		{WithKeyTypes("dsa"), "WithKeyTypes"},
		{WithMinKeyBits("ecdsa", 256), "WithMinKeyBits"},
		{WithMinKeyBits("rsa", -1), "WithMinKeyBits"},
		{WithMaxSignatures(-1), "WithMaxSignatures"},
	} {
		_, err := Verify(context.Background(), strings.NewReader("From: a@b.example\r\n\r\n"), WithResolver(newTestDNS()), c.opt)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%s: err %v, want a OptionError for it", c.option, err)
			continue
		}
		t.Log(err)
	}
	if _, err := newVerifier(testConfig(WithHashes(" SHA256 ", "sha1", "sha256"), WithResolver(newTestDNS()))); err != nil {
		t.Errorf("case and spaces: %v", err)
	}
}

func TestVerifyMinKeyBits(t *testing.T) {
	k := testKeys()
	msg := testSign(t, testMessage(testBody), testSigner{alg: "rsa-sha256", key: k.rsa1024, domain: "example.com", selector: "rsa1024", bodyLen: -1})
	got, err := Verify(context.Background(), bytes.NewReader(msg), WithResolver(baseDNS(t)), WithMinKeyBits("rsa", 2048))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, got, []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonPubkeyTooShort, 1024}})
}

// TestVerifyContext: a cancelled context makes lookups fail, which
// is pubkey_unavailable, not an error of Verify.
func TestVerifyContext(t *testing.T) {
	msg := testSign(t, testMessage(testBody), testSigner{alg: "ed25519-sha256", key: testKeys().ed, domain: "example.com", selector: "ed", bodyLen: -1})
	srv := baseDNS(t).serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := Verify(ctx, bytes.NewReader(msg), WithResolver(nsResolver(t, srv.Addr, 0)))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, got, []wantResult{{"example.com", "ed25519-sha256", StatusInvalid, ReasonPubkeyUnavailable, 0}})
	if !errors.Is(got[0].Err, context.Canceled) {
		t.Errorf("Err %v does not wrap context.Canceled", got[0].Err)
	}
}
