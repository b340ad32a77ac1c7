package dkim

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// go-msgauth (github.com/emersion/go-msgauth/dkim) is the reference
// implementation: it signs the messages below, its Verify must agree
// with Verify on pass/fail for every signature of every message in
// both tables (except where a case documents why not), and it is the
// peer in BenchmarkVerify.

// msgauthSign signs msg with go-msgauth.
func msgauthSign(tb testing.TB, msg []byte, o msgauth.SignOptions) []byte {
	tb.Helper()
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	var b bytes.Buffer
	if err := msgauth.Sign(&b, bytes.NewReader(msg), &o); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// msgauthCases is the table of messages signed by go-msgauth; it
// adds the key records it needs to dns.
func msgauthCases(t *testing.T, dns *testDNS) []verifyCase {
	k := testKeys()
	msg := testMessage(testBody)
	rr := msgauth.SignOptions{Domain: "example.com", Selector: "rsa2048", Signer: k.rsa2048,
		HeaderCanonicalization: msgauth.CanonicalizationRelaxed, BodyCanonicalization: msgauth.CanonicalizationRelaxed}
	ss := msgauth.SignOptions{Domain: "example.com", Selector: "rsa1024", Signer: k.rsa1024,
		HeaderCanonicalization: msgauth.CanonicalizationSimple, BodyCanonicalization: msgauth.CanonicalizationSimple}
	ed := msgauth.SignOptions{Domain: "example.com", Selector: "ed", Signer: k.ed,
		HeaderCanonicalization: msgauth.CanonicalizationRelaxed, BodyCanonicalization: msgauth.CanonicalizationRelaxed}
	sign := func(m []byte, opts ...msgauth.SignOptions) []byte {
		for _, o := range opts {
			m = msgauthSign(t, m, o)
		}
		return m
	}
	pass := func(alg string, bits int) wantResult { return wantResult{"example.com", alg, StatusPass, "", bits} }
	signed := sign(msg, rr)

	short := shortKey(t)
	dns.add("short512._domainkey.example.com", keyRecord(t, short.Public(), ""))
	shortOpts := rr
	shortOpts.Selector, shortOpts.Signer = "short512", short

	edSR := ed
	edSR.HeaderCanonicalization, edSR.BodyCanonicalization = msgauth.CanonicalizationSimple, msgauth.CanonicalizationRelaxed
	edSR.HeaderKeys = []string{"From", "Subject", "Date"}
	ident := rr
	ident.Identifier, ident.Expiration = "alice@example.com", time.Now().Add(time.Hour)

	big := testMessage(bigBody(100 << 10))

	return []verifyCase{
		{name: "go-msgauth rsa-sha256 relaxed", msg: signed, want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "go-msgauth rsa-sha256 simple 1024", msg: sign(msg, ss), want: []wantResult{pass("rsa-sha256", 1024)}},
		{name: "go-msgauth ed25519-sha256 relaxed", msg: sign(msg, ed), want: []wantResult{pass("ed25519-sha256", 256)}},
		{name: "go-msgauth ed25519-sha256 simple/relaxed", msg: sign(msg, edSR), want: []wantResult{pass("ed25519-sha256", 256)}},
		{name: "go-msgauth i= and x=", msg: sign(msg, ident), want: []wantResult{pass("rsa-sha256", 2048)}},
		{name: "go-msgauth body modified", msg: bytes.Replace(signed, []byte("Indented"), []byte("indented"), 1),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonBodyHashMismatch, 2048}}},
		{name: "go-msgauth body truncated", msg: bytes.TrimSuffix(bytes.TrimSuffix(signed, []byte("\r\n\r\n\r\n")), []byte("Indented.")),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonBodyHashMismatch, 2048}}},
		{name: "go-msgauth header modified", msg: bytes.Replace(signed, []byte("bob@example.net"), []byte("eve@example.net"), 1),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonSignatureIncorrect, 2048}}},
		{name: "go-msgauth 512-bit key", msg: sign(msg, shortOpts),
			want: []wantResult{{"example.com", "rsa-sha256", StatusFail, ReasonPubkeyTooShort, 512}}},
		{name: "go-msgauth three signatures", msg: sign(msg, rr, ss, ed),
			want: []wantResult{pass("ed25519-sha256", 256), pass("rsa-sha256", 1024), pass("rsa-sha256", 2048)}},
		{name: "go-msgauth three signatures, KeyTypes rsa", msg: sign(msg, rr, ss, ed), opts: []Option{WithKeyTypes("rsa")},
			want: []wantResult{pass("rsa-sha256", 1024), pass("rsa-sha256", 2048)}, oracle: "go-msgauth has no key type filter"},
		{name: "go-msgauth three signatures, Minimal", msg: sign(msg, rr, ss, ed), opts: []Option{WithMinimal(true)},
			want:   []wantResult{pass("ed25519-sha256", 256), {"example.com", "rsa-sha256", StatusNone, "", 0}, {"example.com", "rsa-sha256", StatusNone, "", 0}},
			oracle: "go-msgauth verifies every signature"},
		{name: "go-msgauth bare LF", msg: bytes.ReplaceAll(sign(msg, rr, ss), []byte("\r\n"), []byte("\n")),
			want: []wantResult{pass("rsa-sha256", 1024), pass("rsa-sha256", 2048)}},
		{name: "go-msgauth 100 KB body", msg: sign(big, rr, ss, ed),
			want: []wantResult{pass("ed25519-sha256", 256), pass("rsa-sha256", 1024), pass("rsa-sha256", 2048)}},
	}
}

// TestVerifyMsgauthSigned runs the go-msgauth table through the
// in-process DNS server.
func TestVerifyMsgauthSigned(t *testing.T) {
	dns := baseDNS(t)
	cases := msgauthCases(t, dns)
	srv := dns.serve(t)
	for _, c := range cases {
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

// TestVerifyOracle compares pass/fail with go-msgauth's Verify,
// signature by signature, on every message of both tables. A signature
// Verify drops counts as not passing. Where a case says why the two
// differ, the difference must show (so the note stays true).
func TestVerifyOracle(t *testing.T) {
	dns := baseDNS(t)
	cases := append(verifyCases(t), msgauthCases(t, dns)...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := newVerifier(testConfig(append([]Option{WithResolver(dns)}, c.opts...)...))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := v.verify(context.Background(), bytes.NewReader(c.msg))
			if err != nil {
				t.Fatal(err)
			}
			passed := map[int]bool{}
			for i, r := range ours {
				passed[v.sigs[i].ordinal] = r.Status == StatusPass
			}
			theirs, err := msgauth.VerifyWithOptions(bytes.NewReader(c.msg), &msgauth.VerifyOptions{LookupTXT: dns.msgauthLookup})
			if err != nil {
				t.Fatalf("go-msgauth: %v", err)
			}
			var diffs []string
			for j, vf := range theirs {
				if (vf.Err == nil) != passed[j] {
					diffs = append(diffs, fmt.Sprintf("signature %d: go-msgauth err=%v, ours pass=%v", j, vf.Err, passed[j]))
				}
			}
			for j := len(theirs); j < len(theirs)+len(ours); j++ {
				if passed[j] {
					diffs = append(diffs, fmt.Sprintf("signature %d: go-msgauth did not see it, ours passed", j))
				}
			}
			switch {
			case c.oracle == "" && len(diffs) > 0:
				t.Errorf("go-msgauth disagrees: %s", strings.Join(diffs, "; "))
			case c.oracle != "" && len(diffs) == 0:
				t.Errorf("documented difference (%s) did not show", c.oracle)
			case c.oracle != "":
				t.Logf("expected difference (%s): %s", c.oracle, strings.Join(diffs, "; "))
			}
		})
	}
}

// FuzzMsgauthBody signs random bodies with go-msgauth (Ed25519, so
// signing is cheap) in both body canonicalizations and checks that
// Verify computes the same body hash: any difference in streaming
// canonicalization shows as bodyhash_mismatch. Lone CRs are left out:
// go-msgauth's relaxed canonicalization treats them as line ends, which
// RFC 6376 does not.
func FuzzMsgauthBody(f *testing.F) {
	for _, s := range []string{"", "\r\n", "a", "a \r\n\r\n", " \t x  y \t\r\n\n\nz", "\n\n", "x\n \n\t\n", testBody} {
		f.Add(s)
	}
	k := testKeys()
	dns := newTestDNS().add("ed._domainkey.example.com", keyRecord(f, k.ed.Public(), ""))
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "\r", "")
		msg := testMessage(body)
		for _, canon := range []msgauth.Canonicalization{msgauth.CanonicalizationSimple, msgauth.CanonicalizationRelaxed} {
			signed := msgauthSign(t, msg, msgauth.SignOptions{Domain: "example.com", Selector: "ed", Signer: k.ed,
				HeaderCanonicalization: canon, BodyCanonicalization: canon})
			got, err := Verify(context.Background(), bytes.NewReader(signed), WithResolver(dns))
			if err != nil || len(got) != 1 || got[0].Status != StatusPass {
				t.Fatalf("%s body %q: %+v %v", canon, body, got, err)
			}
		}
	})
}
