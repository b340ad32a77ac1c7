package dmarc

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

// dkimWant is one expected result.
type dkimWant struct {
	domain, alg, status, reason string
	bits                        int // 0: not checked
}

// dkimCase is one message of the verification table. oracle says
// whether go-msgauth's dkim.Verify agrees on pass/fail for every
// signature (dkim_msgauth_test.go checks it); when it does not, why.
type dkimCase struct {
	name   string
	msg    []byte
	opts   []Option // the runner adds WithResolver
	want   []dkimWant
	oracle string // "" when go-msgauth must agree
}

const dkimTestBody = "Hello Bob,\r\n\r\nThis is  a   test \t message. \r\n  Indented.\r\n\r\n\r\n"

// dkimShortKey is a 512-bit RSA key, which Go generates only with
// GODEBUG=rsa1024min=0 (set for the calling test).
func dkimShortKey(t *testing.T) *rsa.PrivateKey {
	t.Setenv("GODEBUG", "rsa1024min=0")
	k, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dkimBaseDNS is the key records every table case may use, under
// example.com: selectors name what is published there.
func dkimBaseDNS(t *testing.T) *dkimTestDNS {
	k := dkimTestKeys()
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&k.rsa2048.PublicKey))
	d := newDKIMTestDNS().
		add("rsa1024._domainkey.example.com", dkimKeyRecord(t, k.rsa1024.Public(), "")).
		add("rsa2048._domainkey.example.com", dkimKeyRecord(t, k.rsa2048.Public(), "")).
		add("ed._domainkey.example.com", dkimKeyRecord(t, k.ed.Public(), "")).
		add("short._domainkey.example.com", dkimKeyRecord(t, dkimShortKey(t).Public(), "")).
		add("revoked._domainkey.example.com", "v=DKIM1; k=rsa; p=").
		add("sha1only._domainkey.example.com", dkimKeyRecord(t, k.rsa2048.Public(), "h=sha1; ")).
		add("edkey._domainkey.example.com", dkimKeyRecord(t, k.ed.Public(), "")).
		add("strict._domainkey.example.com", dkimKeyRecord(t, k.rsa2048.Public(), "t=s; ")).
		add("pkcs1._domainkey.example.com", "v=DKIM1; p="+pkcs1).
		add("multi._domainkey.example.com", "v=spf1 -all", dkimKeyRecord(t, k.rsa2048.Public(), "")).
		add("badder._domainkey.example.com", "v=DKIM1; p=AAAA").
		add("badb64._domainkey.example.com", "v=DKIM1; p=@@@@").
		add("service._domainkey.example.com", dkimKeyRecord(t, k.rsa2048.Public(), "s=other; ")).
		add("rsa2048._domainkey.example.org", dkimKeyRecord(t, k.rsa2048.Public(), ""))
	d.servfail["servfail._domainkey.example.com"] = true
	return d
}

// dkimCases is the table of messages signed by dkimTestSign.
func dkimCases(t *testing.T) []dkimCase {
	k := dkimTestKeys()
	msg := dkimTestMessage(dkimTestBody)
	sig := func(alg, sel, canon string) dkimTestSigner {
		s := dkimTestSigner{alg: alg, domain: "example.com", selector: sel, canon: canon, bodyLen: -1}
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
	sign := func(m []byte, sigs ...dkimTestSigner) []byte {
		for _, s := range sigs {
			m = dkimTestSign(t, m, s)
		}
		return m
	}
	with := func(s dkimTestSigner, f func(*dkimTestSigner)) dkimTestSigner { f(&s); return s }
	pass := func(alg string, bits int) dkimWant { return dkimWant{"example.com", alg, "pass", "", bits} }
	rr := sig("rsa-sha256", "rsa2048", "relaxed/relaxed")
	ed := sig("ed25519-sha256", "ed", "relaxed/relaxed")
	odd := []byte(strings.Replace(string(msg), "Subject:", "X-Odd :  a \t b  \r\nSubject:", 1))
	signed := sign(msg, rr)
	now := time.Now()

	return []dkimCase{
		{name: "rsa-sha256 relaxed/relaxed", msg: signed, want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "rsa-sha256 simple/simple", msg: sign(msg, sig("rsa-sha256", "rsa2048", "simple/simple")), want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "rsa-sha256 1024 relaxed/simple", msg: sign(msg, sig("rsa-sha256", "rsa1024", "relaxed/simple")), want: []dkimWant{pass("rsa-sha256", 1024)}},
		{name: "relaxed header with odd whitespace", msg: sign(odd, with(rr, func(s *dkimTestSigner) { s.headers = "from:x-odd:subject" })), want: []dkimWant{pass("rsa-sha256", 0)}},
		{name: "ed25519-sha256", msg: sign(msg, ed), want: []dkimWant{pass("ed25519-sha256", 256)}},
		{name: "ed25519-sha256 simple/simple", msg: sign(msg, sig("ed25519-sha256", "ed", "")), want: []dkimWant{pass("ed25519-sha256", 256)}},
		{name: "rsa-sha1 dropped by default", msg: sign(msg, sig("rsa-sha1", "rsa2048", "relaxed/relaxed")), want: nil},
		{name: "rsa-sha1 verified with sha1 in Hashes", msg: sign(msg, sig("rsa-sha1", "rsa2048", "relaxed/relaxed")),
			opts: []Option{WithDKIMHashes("sha256", "sha1")}, want: []dkimWant{pass("rsa-sha1", 2048)},
			oracle: "go-msgauth refuses rsa-sha1 (RFC 8301)"},
		{name: "rsa-sha512", msg: sign(msg, sig("rsa-sha512", "rsa2048", "relaxed/relaxed")), want: []dkimWant{pass("rsa-sha512", 2048)},
			oracle: "go-msgauth knows only sha256; Exim also verifies sha512"},
		{name: "body modified", msg: bytes.Replace(signed, []byte("test"), []byte("tEst"), 1),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", DKIMReasonBodyHashMismatch, 2048}}},
		{name: "body whitespace changed (relaxed)", msg: bytes.Replace(signed, []byte("a   test"), []byte("a test"), 1),
			want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "signed header modified", msg: bytes.Replace(signed, []byte("Subject: Hello"), []byte("Subject: Jello"), 1),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", DKIMReasonSignatureIncorrect, 2048}}},
		{name: "unsigned header added", msg: bytes.Replace(signed, []byte("Date:"), []byte("X-Spam: no\r\nDate:"), 1),
			want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "signed header added below (bottom-up selection)", msg: bytes.Replace(signed, []byte("Date:"), []byte("Subject: new\r\nDate:"), 1),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", DKIMReasonSignatureIncorrect, 2048}}},
		{name: "key too short", msg: sign(msg, sig("rsa-sha256", "short", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", DKIMReasonPubkeyTooShort, 512}}},
		{name: "missing key", msg: sign(msg, sig("rsa-sha256", "nokey", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonPubkeyUnavailable, 0}}},
		{name: "SERVFAIL", msg: sign(msg, sig("rsa-sha256", "servfail", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonPubkeyUnavailable, 0}}},
		{name: "revoked key", msg: sign(msg, sig("rsa-sha256", "revoked", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonPubkeyDNSSyntax, 0}}},
		{name: "key not DER", msg: sign(msg, sig("rsa-sha256", "badder", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonPubkeyDERSyntax, 0}}},
		{name: "key not base64", msg: sign(msg, sig("rsa-sha256", "badb64", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonPubkeyDNSSyntax, 0}}},
		{name: "key PKCS#1 RSAPublicKey", msg: sign(msg, sig("rsa-sha256", "pkcs1", "relaxed/relaxed")), want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "SPF record before key record", msg: sign(msg, sig("rsa-sha256", "multi", "relaxed/relaxed")), want: []dkimWant{pass("rsa-sha256", 2048)},
			oracle: "go-msgauth refuses several TXT records; like Exim we take the first that is not another v= record"},
		{name: "key h=sha1 only", msg: sign(msg, sig("rsa-sha256", "sha1only", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", "", 2048}}},
		{name: "key type mismatch", msg: sign(msg, sig("rsa-sha256", "edkey", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", "", 256}}},
		{name: "key s= not email", msg: sign(msg, sig("rsa-sha256", "service", "relaxed/relaxed")),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", "", 2048}}},
		{name: "key t=s, i= in a subdomain", msg: sign(msg, with(sig("rsa-sha256", "strict", "relaxed/relaxed"), func(s *dkimTestSigner) { s.ident = "a@mail.example.com" })),
			want:   []dkimWant{{"example.com", "rsa-sha256", "fail", "", 2048}},
			oracle: "go-msgauth does not enforce the key's t=s flag"},
		{name: "key t=s, i= in d=", msg: sign(msg, with(sig("rsa-sha256", "strict", "relaxed/relaxed"), func(s *dkimTestSigner) { s.ident = "a@example.com" })),
			want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "i= domain in other case", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.ident = "a@EXAMPLE.com" })),
			want: []dkimWant{pass("rsa-sha256", 2048)}, oracle: "go-msgauth compares i= with d= case-sensitively; domain names are not"},
		{name: "i= in a subdomain", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.ident = "alice@mail.example.com" })), want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "i= outside d=", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.ident = "alice@example.org" })),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonSignatureTag, 0}}},
		{name: "h= without From", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.headers = "to:subject" })),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonSignatureTag, 0}}},
		{name: "v=2", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.version = "2" })),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonVersion, 0}}},
		{name: "expired x= (past)", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.extra = "t=1000000000; x=1000000100; " })),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonExpired, 0}}},
		{name: "x= in the future", msg: sign(msg, with(rr, func(s *dkimTestSigner) {
			s.extra = fmt.Sprintf("t=%d; x=%d; ", now.Unix(), now.Add(time.Hour).Unix())
		})), want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "x= passed according to Now", msg: sign(msg, with(rr, func(s *dkimTestSigner) {
			s.extra = fmt.Sprintf("t=%d; x=%d; ", now.Unix(), now.Add(time.Hour).Unix())
		})), opts: []Option{WithClock(func() time.Time { return now.Add(2 * time.Hour) })},
			want:   []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonExpired, 0}},
			oracle: "go-msgauth compares x= with the wall clock"},
		{name: "x= before t=", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.extra = "t=1000000100; x=1000000000; " })),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonSignatureTag, 0}}},
		{name: "l= covers the original body, text appended", msg: func() []byte {
			m := sign(msg, with(rr, func(s *dkimTestSigner) { s.bodyLen = -2 }))
			return append(m, "-- \r\nAppended by a list\r\n"...)
		}(), want: []dkimWant{pass("rsa-sha256", 2048)},
			oracle: "go-msgauth refuses every signature with l="},
		{name: "l= shorter than the body", msg: sign(msg, with(sig("rsa-sha256", "rsa2048", "simple/simple"), func(s *dkimTestSigner) { s.bodyLen = 12 })),
			want: []dkimWant{pass("rsa-sha256", 2048)}, oracle: "go-msgauth refuses every signature with l="},
		{name: "l= longer than the body", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.bodyLen = 100000 })),
			want: []dkimWant{{"example.com", "rsa-sha256", "fail", DKIMReasonBodyHashMismatch, 2048}}},
		{name: "bare LF line ends", msg: bytes.ReplaceAll(sign(msg, sig("rsa-sha256", "rsa2048", "simple/simple")), []byte("\r\n"), []byte("\n")),
			want: []dkimWant{pass("rsa-sha256", 2048)}},
		{name: "no signature", msg: msg},
		{name: "unknown algorithm dropped", msg: bytes.Replace(signed, []byte("a=rsa-sha256"), []byte("a=rsa-sha384"), 1), want: nil},
		{name: "malformed tag list", msg: append([]byte("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from;; bh=AAAA; b=AAAA\r\n"), msg...),
			want: []dkimWant{{"example.com", "rsa-sha256", "invalid", DKIMReasonSignatureTag, 0}}},
		{name: "ed25519 first whatever the message order", msg: sign(msg, ed, rr),
			want: []dkimWant{pass("ed25519-sha256", 256), pass("rsa-sha256", 2048)}},
		{name: "KeyTypes rsa drops ed25519", msg: sign(msg, ed, rr), opts: []Option{WithDKIMKeyTypes("rsa")},
			want: []dkimWant{pass("rsa-sha256", 2048)}, oracle: "go-msgauth has no key type filter (it passes the ed25519 signature)"},
		{name: "KeyTypes rsa then ed25519", msg: sign(msg, rr, ed), opts: []Option{WithDKIMKeyTypes("rsa", "ed25519")},
			want: []dkimWant{pass("rsa-sha256", 2048), pass("ed25519-sha256", 256)}},
		{name: "hash preference, sha1 dropped", msg: sign(msg, sig("rsa-sha512", "rsa2048", "simple/simple"), sig("rsa-sha1", "rsa2048", "simple/simple"), sig("rsa-sha256", "rsa2048", "simple/simple")),
			opts:   []Option{WithDKIMHashes("sha512", "sha256")},
			want:   []dkimWant{pass("rsa-sha512", 2048), pass("rsa-sha256", 2048)},
			oracle: "go-msgauth knows only sha256"},
		{name: "Minimal: second signature not verified", msg: sign(msg, rr, ed), opts: []Option{WithDKIMMinimal(true)},
			want: []dkimWant{pass("ed25519-sha256", 256), {"example.com", "rsa-sha256", "none", "", 0}}, oracle: "go-msgauth verifies every signature"},
		{name: "Minimal: verifies until the first pass", msg: sign(msg, sig("ed25519-sha256", "nokey", "relaxed/relaxed"), rr, sig("rsa-sha256", "rsa1024", "simple/simple")), opts: []Option{WithDKIMMinimal(true)},
			want:   []dkimWant{{"example.com", "ed25519-sha256", "invalid", DKIMReasonPubkeyUnavailable, 0}, pass("rsa-sha256", 1024), {"example.com", "rsa-sha256", "none", "", 0}},
			oracle: "go-msgauth verifies every signature"},
		{name: "MaxSignatures 2 of 3", msg: sign(msg, rr, sig("rsa-sha256", "rsa1024", "simple/simple"), ed), opts: []Option{WithDKIMMaxSignatures(2)},
			want:   []dkimWant{pass("ed25519-sha256", 256), pass("rsa-sha256", 1024), {"example.com", "rsa-sha256", "none", "", 0}},
			oracle: "go-msgauth verifies every signature"},
		{name: "other domain", msg: sign(msg, with(rr, func(s *dkimTestSigner) { s.domain = "example.org" })),
			want: []dkimWant{{"example.org", "rsa-sha256", "pass", "", 2048}}},
	}
}

// checkDKIMResults compares results with the expectations and checks
// invariants every result must hold.
func checkDKIMResults(t *testing.T, got []DKIMResult, want []dkimWant) {
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
		if (g.Err == nil) != (g.Status == DKIMStatusPass) {
			t.Errorf("result %d: status %s with Err %v", i, g.Status, g.Err)
		}
		var de *DKIMError
		if g.Err != nil && (!errors.As(g.Err, &de) || de.Reason != g.Reason) {
			t.Errorf("result %d: Err %#v does not carry reason %q", i, g.Err, g.Reason)
		}
		ar := g.ARResult()
		if open, close := strings.IndexByte(ar, '('), strings.IndexByte(ar, ')'); open >= 0 && close > open {
			ar = ar[:open] + ar[close+1:] // Exim's comments contain ";"
		}
		if strings.ContainsAny(ar, "\r;()") {
			t.Errorf("result %d: AR %q", i, g.ARResult())
		}
	}
}

// TestVerifyDKIM runs the table through the real DNS client and the
// in-process DNS server.
func TestVerifyDKIM(t *testing.T) {
	dns := dkimBaseDNS(t)
	srv := dns.serve(t)
	for _, c := range dkimCases(t) {
		t.Run(c.name, func(t *testing.T) {
			opts := append([]Option{WithResolver(nsResolver(t, srv.Addr, time.Second))}, c.opts...)
			got, err := VerifyDKIM(context.Background(), bytes.NewReader(c.msg), opts...)
			if err != nil {
				t.Fatal(err)
			}
			checkDKIMResults(t, got, c.want)
		})
	}
}

// TestVerifyDKIMBodyHashedOnce shows that the body is hashed once per
// distinct (canonicalization, hash, l=): four signatures, two of which
// share relaxed/sha256 and one of which repeats simple/sha256, need
// three body hashes, each fed the canonical body exactly once. The two
// signatures by the same d= and s= share one key lookup.
func TestVerifyDKIMBodyHashedOnce(t *testing.T) {
	k := dkimTestKeys()
	body := strings.Repeat("Line with  spaces \t and tabs.\r\n", 2000) + "\r\n\r\n"
	msg := dkimTestMessage(body)
	for _, s := range []dkimTestSigner{
		{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "relaxed/relaxed", bodyLen: -1},
		{alg: "rsa-sha256", key: k.rsa2048, domain: "example.com", selector: "rsa2048", canon: "simple/simple", bodyLen: -1},
		{alg: "ed25519-sha256", key: k.ed, domain: "example.com", selector: "ed", canon: "relaxed/relaxed", bodyLen: -1},
		{alg: "rsa-sha256", key: k.rsa1024, domain: "example.com", selector: "rsa1024", canon: "relaxed/simple", bodyLen: -1},
	} {
		msg = dkimTestSign(t, msg, s)
	}
	v, err := newDKIMVerifier(dkimConfig(WithResolver(dkimBaseDNS(t))))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.verify(context.Background(), bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Status != DKIMStatusPass {
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

// dkimConfig returns the config VerifyDKIM builds from opts.
func dkimConfig(opts ...Option) *config {
	c := &config{}
	c.init(opts)
	return c
}

func TestVerifyDKIMOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opt    Option
		option string
	}{
		{WithDKIMHashes("sha2"), "WithDKIMHashes"},
		{WithDKIMHashes("sha256", "md5"), "WithDKIMHashes"},
		{WithDKIMKeyTypes("dsa"), "WithDKIMKeyTypes"},
		{WithDKIMMinKeyBits("ecdsa", 256), "WithDKIMMinKeyBits"},
		{WithDKIMMinKeyBits("rsa", -1), "WithDKIMMinKeyBits"},
		{WithDKIMMaxSignatures(-1), "WithDKIMMaxSignatures"},
	} {
		_, err := VerifyDKIM(context.Background(), strings.NewReader("From: a@b.example\r\n\r\n"), WithResolver(newDKIMTestDNS()), c.opt)
		var oe *DKIMOptionError
		if !errors.As(err, &oe) || oe.Option != c.option {
			t.Errorf("%s: err %v, want a DKIMOptionError for it", c.option, err)
			continue
		}
		t.Log(err)
	}
	if _, err := newDKIMVerifier(dkimConfig(WithDKIMHashes(" SHA256 ", "sha1", "sha256"), WithResolver(newDKIMTestDNS()))); err != nil {
		t.Errorf("case and spaces: %v", err)
	}
}

func TestVerifyDKIMMinKeyBits(t *testing.T) {
	k := dkimTestKeys()
	msg := dkimTestSign(t, dkimTestMessage(dkimTestBody), dkimTestSigner{alg: "rsa-sha256", key: k.rsa1024, domain: "example.com", selector: "rsa1024", bodyLen: -1})
	got, err := VerifyDKIM(context.Background(), bytes.NewReader(msg), WithResolver(dkimBaseDNS(t)), WithDKIMMinKeyBits("rsa", 2048))
	if err != nil {
		t.Fatal(err)
	}
	checkDKIMResults(t, got, []dkimWant{{"example.com", "rsa-sha256", "fail", DKIMReasonPubkeyTooShort, 1024}})
	if ar := got[0].ARResult(); ar != "dkim=fail (public key too short: 1024 bits)\n\t\t header.d=example.com header.s=rsa1024 header.a=rsa-sha256" {
		t.Errorf("AR %q", ar)
	}
}

// TestVerifyDKIMContext: a cancelled context makes lookups fail, which
// is pubkey_unavailable, not an error of VerifyDKIM.
func TestVerifyDKIMContext(t *testing.T) {
	msg := dkimTestSign(t, dkimTestMessage(dkimTestBody), dkimTestSigner{alg: "ed25519-sha256", key: dkimTestKeys().ed, domain: "example.com", selector: "ed", bodyLen: -1})
	srv := dkimBaseDNS(t).serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := VerifyDKIM(ctx, bytes.NewReader(msg), WithResolver(nsResolver(t, srv.Addr, 0)))
	if err != nil {
		t.Fatal(err)
	}
	checkDKIMResults(t, got, []dkimWant{{"example.com", "ed25519-sha256", "invalid", DKIMReasonPubkeyUnavailable, 0}})
	if !errors.Is(got[0].Err, context.Canceled) {
		t.Errorf("Err %v does not wrap context.Canceled", got[0].Err)
	}
}
