package signing

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/dkim"
)

// TestSignVerifies signs with each canonicalization and both key
// types, and has two verifiers check the signature over DNS: package
// dkim and go-msgauth (which shares no code with it).
func TestSignVerifies(t *testing.T) {
	testKeys(t)
	dir := t.TempDir()
	env := newDNS(t)
	keys := map[string]crypto.Signer{"rsa": rsaKey, "ed": edKey}
	for sel, k := range keys {
		publish(t, env.zone, sel, "example.com", k)
	}
	for _, canon := range []string{"", "relaxed", "simple", "relaxed/simple", "simple/relaxed"} {
		for _, sel := range []string{"rsa", "ed"} {
			t.Run(sel+"/"+canon, func(t *testing.T) {
				s := mustNew(t, Domain{Domain: "example.com", Canon: canon,
					Selectors: []Selector{{Selector: sel, PrivateKey: keyFile(t, dir, sel, keys[sel])}}})
				msg := message("alice@example.com")
				o := s.Apply(context.Background(), sec(msg))
				if o.Err != nil || o.Defer || o.Header == nil {
					t.Fatalf("Apply: %+v", o)
				}
				if o.FromDomain != "example.com" || o.Domain != "example.com" || len(o.Signatures) != 1 {
					t.Fatalf("outcome: %+v", o)
				}
				wantAlg := map[string]string{"rsa": "rsa-sha256", "ed": "ed25519-sha256"}[sel]
				wantCanon := map[string]string{"": "relaxed/relaxed", "relaxed": "relaxed/relaxed", "simple": "simple/simple"}[canon]
				if wantCanon == "" {
					wantCanon = canon
				}
				if si := o.Signatures[0]; si.Algorithm != wantAlg || si.Canon != wantCanon || si.Selector != sel {
					t.Errorf("signature %+v, want %s %s", si, wantAlg, wantCanon)
				}
				signed := append(append([]byte(nil), o.Header...), msg...)

				rs := env.verifyOurs(t, signed)
				if len(rs) != 1 || rs[0].Status != dkim.StatusPass || rs[0].Domain != "example.com" || rs[0].Selector != sel {
					t.Errorf("dkim.Verify: %+v", rs)
				}
				vs := env.verifyMsgauth(t, signed)
				if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.com" {
					t.Errorf("go-msgauth: %+v", vs)
				}
				// The signature covers the body: one changed octet
				// fails both.
				tampered := bytes.Replace(signed, []byte("Hello Bob"), []byte("Hello Bib"), 1)
				if rs := env.verifyOurs(t, tampered); rs[0].Status != dkim.StatusFail {
					t.Errorf("tampered body: dkim.Verify %v", rs[0].Status)
				}
				if vs := env.verifyMsgauth(t, tampered); vs[0].Err == nil {
					t.Error("tampered body: go-msgauth passes")
				}
			})
		}
	}
}

// TestDualSigning: one domain, an RSA and an Ed25519 selector, two
// signatures that both pass; and LF line ends sign the same as CRLF.
func TestDualSigning(t *testing.T) {
	testKeys(t)
	dir := t.TempDir()
	env := newDNS(t)
	publish(t, env.zone, "r", "example.com", rsaKey)
	publish(t, env.zone, "e", "example.com", edKey)
	s := mustNew(t, Domain{Domain: "Example.COM.", Selectors: []Selector{
		{Selector: "r", PrivateKey: keyFile(t, dir, "r", rsaKey)},
		{Selector: "e", PrivateKey: keyFile(t, dir, "e", edKey)},
		{Selector: "off", PrivateKey: "false"},
	}})
	msg := bytes.ReplaceAll(message("alice@example.com"), []byte("\r\n"), []byte("\n"))
	h, ok, err := s.Sign(context.Background(), sec(msg))
	if err != nil || !ok {
		t.Fatalf("Sign: %v %v", ok, err)
	}
	if n := strings.Count(h, "DKIM-Signature:"); n != 2 {
		t.Fatalf("%d signatures:\n%s", n, h)
	}
	signed := append([]byte(h), msg...)
	rs := env.verifyOurs(t, signed)
	pass := map[string]bool{}
	for _, r := range rs {
		pass[r.Selector] = r.Status == dkim.StatusPass
	}
	if !pass["r"] || !pass["e"] || len(rs) != 2 {
		t.Errorf("dkim.Verify: %+v", rs)
	}
	for _, v := range env.verifyMsgauth(t, signed) {
		if v.Err != nil {
			t.Errorf("go-msgauth: %v", v.Err)
		}
	}
}

// TestChooseDomain: exact match, else the nearest configured parent;
// never a mere suffix; IDNs in either form.
func TestChooseDomain(t *testing.T) {
	testKeys(t)
	dir := t.TempDir()
	key := keyFile(t, dir, "ed", edKey)
	s := mustNew(t,
		Domain{Domain: "example.com", Selectors: []Selector{{Selector: "a", PrivateKey: key}}},
		Domain{Domain: "sub.example.com", Selectors: []Selector{{Selector: "b", PrivateKey: key}}},
		Domain{Domain: "bücher.example", Selectors: []Selector{{Selector: "c", PrivateKey: key}}},
	)
	for _, c := range []struct{ from, want string }{
		{"example.com", "example.com"},
		{"EXAMPLE.com.", "example.com"},
		{"news.example.com", "example.com"},
		{"sub.example.com", "sub.example.com"},
		{"deep.sub.example.com", "sub.example.com"},
		{"x.deep.other.example.com", "example.com"},
		{"notexample.com", ""},
		{"example.org", ""},
		{"com", ""},
		{"", ""},
		{"xn--bcher-kva.example", "bücher.example"},
		{"Shop.BÜCHER.example", "bücher.example"},
	} {
		got := s.For(c.from)
		var want *dkim.Signer
		if c.want != "" {
			want = s.For(c.want)
			if want == nil {
				t.Fatalf("For(%q) is nil", c.want)
			}
		}
		if got != want {
			t.Errorf("For(%q): not the signer of %q", c.from, c.want)
		}
	}
	// Different signers, each with its own d=.
	if s.For("example.com") == s.For("sub.example.com") {
		t.Error("one signer for two domains")
	}
	for from, wantD := range map[string]string{
		"ann@news.example.com":           "example.com",
		"ann@deep.sub.example.com":       "sub.example.com",
		"ann@shop.xn--bcher-kva.example": "xn--bcher-kva.example",
	} {
		o := s.Apply(context.Background(), sec(message(from)))
		if o.Domain != wantD || len(o.Signatures) != 1 || o.Signatures[0].Domain != wantD {
			t.Errorf("From %s: %+v, want d=%s", from, o, wantD)
		}
	}
	if o := s.Apply(context.Background(), sec(message("ann@example.org"))); o.Header != nil || o.Domain != "" || o.FromDomain != "example.org" {
		t.Errorf("foreign From signed: %+v", o)
	}
	var none *Signers
	if none.For("example.com") != nil {
		t.Error("nil Signers has a signer")
	}
	if h, ok, err := none.Sign(context.Background(), sec(message("a@example.com"))); h != "" || ok || err != nil {
		t.Errorf("nil Signers signed: %q %v %v", h, ok, err)
	}
}

// TestNoFromNotSigned: no From, several, none readable, or several
// domains: unsigned, no error, and the reason.
func TestNoFromNotSigned(t *testing.T) {
	testKeys(t)
	s := mustNew(t, Domain{Domain: "example.com", Strict: true,
		Selectors: []Selector{{Selector: "ed", PrivateKey: keyFile(t, t.TempDir(), "ed", edKey)}}})
	for _, c := range []struct{ hdr, want string }{
		{"To: b@remote.test\r\nSubject: x\r\n", NoFromField},
		{"From: a@example.com\r\nFrom: b@example.com\r\n", SeveralFromFields},
		{"From: a@example.com\r\nfrom: a@example.com\r\n", SeveralFromFields},
		{"From: undisclosed:;\r\n", FromNoAddress},
		{"From: a@example.com, b@other.test\r\n", FromSeveralDomain},
		{"From: <a@example.com\r\n", FromUnreadable},
		{"From: a@[192.0.2.1]\r\n", FromUnreadable},
		{"From: a@example.com\r\nbroken line\r\n", HeaderMalformed},
	} {
		msg := []byte(c.hdr + "\r\nbody\r\n")
		o := s.Apply(context.Background(), sec(msg))
		if o.Header != nil || o.Err != nil || o.Defer || o.FromDomain != "" || o.NoFrom != c.want {
			t.Errorf("%q: %+v, want unsigned because %q", c.hdr, o, c.want)
		}
		if h, ok, err := s.Sign(context.Background(), sec(msg)); h != "" || ok || err != nil {
			t.Errorf("%q: Sign %q %v %v", c.hdr, h, ok, err)
		}
	}
	// Two addresses of one domain, an encoded display name in an
	// unknown charset: signed.
	for _, hdr := range []string{
		"From: a@example.com, b@EXAMPLE.com\r\n",
		"From: =?x-unknown?q?Al=E9?= <a@example.com>\r\n",
	} {
		if o := s.Apply(context.Background(), sec([]byte(hdr+"\r\nbody\r\n"))); o.Header == nil || o.Domain != "example.com" {
			t.Errorf("%q: %+v, want signed", hdr, o)
		}
	}
}

// TestStrictBrokenKey: a key file broken after start defers the
// message with Strict, and sends it unsigned (with the reason)
// without; a rotated key signs at the next Sign.
func TestStrictBrokenKey(t *testing.T) {
	testKeys(t)
	dir := t.TempDir()
	env := newDNS(t)
	strictKey := keyFile(t, dir, "strict", rsaKey)
	laxKey := keyFile(t, dir, "lax", rsaKey)
	s := mustNew(t,
		Domain{Domain: "strict.test", Strict: true, Selectors: []Selector{{Selector: "s", PrivateKey: strictKey}}},
		Domain{Domain: "lax.test", Selectors: []Selector{{Selector: "s", PrivateKey: laxKey}}},
	)
	for _, p := range []string{strictKey, laxKey} {
		if err := os.WriteFile(p, []byte("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o := s.Apply(context.Background(), sec(message("a@strict.test")))
	var se *dkim.SignError
	if !o.Defer || o.Header != nil || !errors.As(o.Err, &se) || se.Domain != "strict.test" || se.Selector != "s" {
		t.Errorf("strict: %+v", o)
	}
	if h, ok, err := s.Sign(context.Background(), sec(message("a@strict.test"))); h != "" || ok || !errors.As(err, &se) {
		t.Errorf("strict Sign: %q %v %v", h, ok, err)
	}
	o = s.Apply(context.Background(), sec(message("a@lax.test")))
	if o.Defer || o.Header != nil || !errors.As(o.Err, &se) || se.Domain != "lax.test" {
		t.Errorf("lax: %+v", o)
	}
	if h, ok, err := s.Sign(context.Background(), sec(message("a@lax.test"))); h != "" || ok || err != nil {
		t.Errorf("lax Sign: %q %v %v", h, ok, err)
	}

	// Rotation: a new key in the same file, its record published.
	keyFile(t, dir, "strict", rsaKey2)
	publish(t, env.zone, "s", "strict.test", rsaKey2)
	msg := message("a@strict.test")
	h, ok, err := s.Sign(context.Background(), sec(msg))
	if err != nil || !ok {
		t.Fatalf("after rotation: %v %v", ok, err)
	}
	if rs := env.verifyOurs(t, append([]byte(h), msg...)); len(rs) != 1 || rs[0].Status != dkim.StatusPass {
		t.Errorf("after rotation: %+v", rs)
	}
}

// TestContextEnded: signing stops when ctx is done, and the message
// must wait (even without Strict).
func TestContextEnded(t *testing.T) {
	testKeys(t)
	s := mustNew(t, Domain{Domain: "example.com", Selectors: []Selector{{Selector: "ed", PrivateKey: keyFile(t, t.TempDir(), "ed", edKey)}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if o := s.Apply(ctx, sec(message("a@example.com"))); !o.Defer || !errors.Is(o.Err, context.Canceled) {
		t.Errorf("Apply after cancel: %+v", o)
	}
}

// TestOptionsPassed: identity, timestamps and the header list reach
// the signatures.
func TestOptionsPassed(t *testing.T) {
	testKeys(t)
	env := newDNS(t)
	publish(t, env.zone, "ed", "example.com", edKey)
	s := mustNew(t, Domain{Domain: "example.com", Identity: "@news.example.com", Timestamps: time.Hour,
		SignHeaders: "+From:Subject:=Comments", Hash: "sha256",
		Selectors: []Selector{{Selector: "ed", PrivateKey: keyFile(t, t.TempDir(), "ed", edKey)}}})
	msg := message("a@news.example.com")
	o := s.Apply(context.Background(), sec(msg))
	if o.Header == nil {
		t.Fatalf("unsigned: %+v", o)
	}
	// +From: oversigned (the one From and one absent); no Comments
	// in the message, so "=Comments" lists none.
	if got := strings.ToLower(strings.Join(o.Signatures[0].Headers, ":")); strings.Count(got, "from") != 2 ||
		!strings.Contains(got, "subject") || strings.Contains(got, "comments") {
		t.Errorf("h= %s", got)
	}
	tags := tagsOf(string(o.Header))
	ts, _ := strconv.ParseInt(tags["t"], 10, 64)
	xs, _ := strconv.ParseInt(tags["x"], 10, 64)
	if tags["i"] != "@news.example.com" || ts == 0 || xs-ts != 3600 {
		t.Errorf("tags %q", tags)
	}
	rs := env.verifyOurs(t, append(append([]byte(nil), o.Header...), msg...))
	if len(rs) != 1 || rs[0].Status != dkim.StatusPass || rs[0].Identifier != "@news.example.com" {
		t.Errorf("dkim.Verify: %+v", rs)
	}
}

// tagsOf reads the tags of one DKIM-Signature field.
func tagsOf(field string) map[string]string {
	_, v, _ := strings.Cut(field, ":")
	v = strings.NewReplacer("\r", "", "\n", "", "\t", "", " ", "").Replace(v)
	out := map[string]string{}
	for _, t := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(t, "="); ok {
			out[k] = val
		}
	}
	return out
}
