package dkim

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSignVerifies(t *testing.T) {
	k := signTestKeys()
	dns := signTestDNS{}.
		add(t, "rsa", "example.com", k.rsa2048.Public()).
		add(t, "rsa1024", "example.com", k.rsa1024.Public()).
		add(t, "ed", "example.com", k.ed.Public())
	keys := []struct {
		sel, pem string
		alg      string
	}{
		{"rsa", signPEM(t, k.rsa2048, false), "rsa-sha256"},
		{"rsa", signPEM(t, k.rsa2048, true), "rsa-sha256"},
		{"rsa1024", signPEM(t, k.rsa1024, true), "rsa-sha256"},
		{"ed", signPEM(t, k.ed, false), "ed25519-sha256"},
	}
	bodies := map[string]string{"test": signTestBody, "empty": "", "noeol": "no line end", "big": signBigBody(200 << 10),
		"lf": "bare\nLF\n\n", "cr": "a\rb\r\n \r\n"}
	for _, key := range keys {
		for _, canon := range []string{"", "relaxed", "simple", "relaxed/simple", "simple/relaxed"} {
			for bn, body := range bodies {
				name := fmt.Sprintf("%s/%s/%q/%s", key.sel, key.alg, canon, bn)
				t.Run(name, func(t *testing.T) {
					s := signMust(t, SignerConfig{Canon: canon,
						Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: key.sel, PrivateKey: key.pem}}}}})
					signed, res := signDo(t, s, signTestMessage(body))
					if len(res.Signatures) != 1 || res.Signatures[0].Algorithm != key.alg {
						t.Fatalf("%+v", res.Signatures)
					}
					wantC := canon
					switch canon {
					case "":
						wantC = "relaxed/relaxed"
					case "relaxed", "simple":
						wantC = canon + "/" + canon
					}
					if res.Signatures[0].Canon != wantC || !bytes.Contains(res.Header, []byte("c="+wantC+";")) {
						t.Fatalf("canon %q: %s", wantC, res.Header)
					}
					signVerifyBoth(t, dns, signed, 1)
				})
			}
		}
	}
}

// TestSignHashes: sha1 and sha512 (go-msgauth verifies neither, so
// Verify is the oracle), and Ed25519 with them.
func TestSignHashes(t *testing.T) {
	k := signTestKeys()
	dns := signTestDNS{}.add(t, "rsa", "example.com", k.rsa2048.Public()).add(t, "ed", "example.com", k.ed.Public())
	for _, h := range []string{"sha1", "sha512"} {
		s := signMust(t, SignerConfig{Hash: h, Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{
			{Selector: "rsa", PrivateKey: signPEM(t, k.rsa2048, false)}, {Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
		signed, res := signDo(t, s, signTestMessage(signTestBody))
		if res.Signatures[0].Algorithm != "rsa-"+h || res.Signatures[1].Algorithm != "ed25519-"+h {
			t.Fatalf("%+v", res.Signatures)
		}
		signVerifyOurs(t, dns, signed, 2)
	}
}

func TestSignMultiple(t *testing.T) {
	k := signTestKeys()
	dns := signTestDNS{}
	var domains []SignDomain
	for _, d := range []string{"example.com", "example.net"} {
		dns.add(t, "rsa", d, k.rsa2048.Public()).add(t, "ed", d, k.ed.Public())
		domains = append(domains, SignDomain{Domain: d, Selectors: []SignSelector{
			{Selector: "rsa", PrivateKey: signPEM(t, k.rsa2048, false)},
			{Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}})
	}
	s := signMust(t, SignerConfig{Domains: domains})
	var hashes, written int
	s.sBodyHash = func(h hash.Hash) hash.Hash { hashes++; return &signCountHash{Hash: h, n: &written} }
	body := signBigBody(100 << 10)
	signed, res := signDo(t, s, signTestMessage(body))
	if hashes != 1 || written != len(body) {
		t.Fatalf("body hashes %d, octets hashed %d (body %d): want one hash over the body once", hashes, written, len(body))
	}
	var got []string
	for _, si := range res.Signatures {
		got = append(got, si.Domain+"/"+si.Selector+"/"+si.Algorithm)
	}
	if want := "example.com/rsa/rsa-sha256 example.com/ed/ed25519-sha256 example.net/rsa/rsa-sha256 example.net/ed/ed25519-sha256"; strings.Join(got, " ") != want {
		t.Fatalf("signatures %q, want %q", got, want)
	}
	if n := bytes.Count(res.Header, []byte("DKIM-Signature:")); n != 4 {
		t.Fatalf("%d fields", n)
	}
	signVerifyBoth(t, dns, signed, 4)
}

type signCountHash struct {
	hash.Hash
	n *int
}

func (h *signCountHash) Write(b []byte) (int, error) { *h.n += len(b); return h.Hash.Write(b) }

func TestSignIdentityTimestamps(t *testing.T) {
	k := signTestKeys()
	dns := signTestDNS{}.add(t, "ed", "example.com", k.ed.Public())
	now := time.Now().Truncate(time.Second)
	s := signMust(t, SignerConfig{Identity: "alice@mail.example.com", Timestamps: 48 * time.Hour,
		Now:     func() time.Time { return now },
		Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
	signed, res := signDo(t, s, signTestMessage(signTestBody))
	vs := signVerifyBoth(t, dns, signed, 1)
	v := vs[0]
	if v.Identifier != "alice@mail.example.com" || !v.Time.Equal(now) || !v.Expiration.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("i=%q t=%v x=%v\n%s", v.Identifier, v.Time, v.Expiration, res.Header)
	}
	// Without Timestamps: neither tag.
	s = signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
	_, res = signDo(t, s, signTestMessage(signTestBody))
	if bytes.Contains(res.Header, []byte(" t=")) || bytes.Contains(res.Header, []byte(" x=")) || bytes.Contains(res.Header, []byte(" i=")) {
		t.Fatalf("t=/x=/i= without options: %s", res.Header)
	}
	// An identity needing quoted-printable.
	s = signMust(t, SignerConfig{Identity: "a;b=c@example.com",
		Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
	signed, res = signDo(t, s, signTestMessage(signTestBody))
	if !bytes.Contains(res.Header, []byte("i=a=3Bb=3Dc@example.com;")) {
		t.Fatalf("%s", res.Header)
	}
	signVerifyOurs(t, dns, signed, 1)
}

func TestSignOversign(t *testing.T) {
	k := signTestKeys()
	dns := signTestDNS{}.add(t, "rsa", "example.com", k.rsa2048.Public())
	sel := []SignSelector{{Selector: "rsa", PrivateKey: signPEM(t, k.rsa2048, false)}}
	msg := signTestMessage(signTestBody)
	added := func(signed []byte) []byte { // a second Subject on top of the original header
		i := bytes.Index(signed, []byte("Received:"))
		return append(append(append([]byte(nil), signed[:i]...), "Subject: forged\r\n"...), signed[i:]...)
	}
	msgauthPass := func(m []byte) bool {
		vs, err := msgauthVerify(dns, m)
		return err == nil && len(vs) == 1 && vs[0].Err == nil
	}

	// Oversigned: every Subject and Comments instance and one more;
	// adding a Subject anywhere breaks the signature.
	s := signMust(t, SignerConfig{SignHeaders: OversignHeaders + ":=Comments", Domains: []SignDomain{{Domain: "example.com", Selectors: sel}}})
	signed, res := signDo(t, s, msg)
	signVerifyBoth(t, dns, signed, 1)
	h := strings.Join(res.Signatures[0].Headers, ":")
	if !strings.HasPrefix(h, "Content-Type:MIME-Version:Comments:Comments:Message-ID:Date:Subject:To:From:") ||
		signCount(res.Signatures[0].Headers, "Subject") != 2 || signCount(res.Signatures[0].Headers, "Comments") != 2 ||
		signCount(res.Signatures[0].Headers, "From") != 2 || signCount(res.Signatures[0].Headers, "Sender") != 1 {
		t.Fatalf("h=%s", h)
	}
	if msgauthPass(added(signed)) {
		t.Fatal("oversigned signature still verifies with a Subject added")
	}

	// Exim's default list: plain names. An added Subject above the
	// signed one does not change which instance is signed (the last).
	s = signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: sel}}})
	signed, _ = signDo(t, s, msg)
	if !msgauthPass(added(signed)) {
		t.Fatal("default list: signature broken by a Subject above the signed one")
	}
}

func TestSignSkip(t *testing.T) {
	k := signTestKeys()
	for _, no := range []string{"", "0", "false", " false "} {
		s := signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "a", PrivateKey: no}}}}})
		res, err := s.Sign(context.Background(), strings.NewReader("From: a@example.com\r\n\r\nbody\r\n"))
		if err != nil || res.Header != nil || len(res.Signatures) != 0 || res.Err != nil ||
			len(res.Skipped) != 1 || res.Skipped[0].Domain != "example.com" || res.Skipped[0].Selector != "a" {
			t.Fatalf("%q: %+v %v", no, res, err)
		}
	}
	dns := signTestDNS{}.add(t, "ed", "example.com", k.ed.Public())
	s := signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{
		{Selector: "off", PrivateKey: "0"}, {Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
	signed, res := signDo(t, s, signTestMessage(signTestBody))
	if len(res.Signatures) != 1 || len(res.Skipped) != 1 || res.Skipped[0].Selector != "off" {
		t.Fatalf("%+v", res)
	}
	signVerifyBoth(t, dns, signed, 1)
}

func TestSignKeyRotation(t *testing.T) {
	k := signTestKeys()
	dns := signTestDNS{}.add(t, "sel", "example.com", k.rsa2048.Public())
	path := filepath.Join(t.TempDir(), "dkim.pem")
	write := func(text string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Add(-time.Hour)
	write(signPEM(t, k.rsa2048, true), t0)
	s := signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "sel", PrivateKey: path}}}}})
	msg := signTestMessage(signTestBody)
	signed, _ := signDo(t, s, msg)
	signVerifyBoth(t, dns, signed, 1)

	// Same-type key, new file content: the next Sign uses it.
	write(signPEM(t, k.rsa2048b, true), t0.Add(time.Second))
	signed, _ = signDo(t, s, msg)
	if _, err := msgauthVerify(dns, signed); err != nil {
		t.Fatal(err)
	}
	if vs, _ := msgauthVerify(dns, signed); vs[0].Err == nil {
		t.Fatal("still signed with the old key")
	}
	signVerifyBoth(t, signTestDNS{}.add(t, "sel", "example.com", k.rsa2048b.Public()), signed, 1)

	// Renamed over (atomic rotation), another key type.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(signPEM(t, k.ed, false)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	signed, res := signDo(t, s, msg)
	if res.Signatures[0].Algorithm != "ed25519-sha256" {
		t.Fatalf("%+v", res.Signatures)
	}
	signVerifyBoth(t, signTestDNS{}.add(t, "sel", "example.com", k.ed.Public()), signed, 1)
}

func TestSignStrict(t *testing.T) {
	k := signTestKeys()
	for _, strict := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "dkim.pem")
		if err := os.WriteFile(path, []byte(signPEM(t, k.ed, false)), 0o600); err != nil {
			t.Fatal(err)
		}
		s := signMust(t, SignerConfig{Strict: strict, Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{
			{Selector: "good", PrivateKey: signPEM(t, k.rsa2048, false)}, {Selector: "file", PrivateKey: path}}}}})
		// The file goes bad after start.
		if err := os.WriteFile(path, []byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
		res, err := s.Sign(context.Background(), bytes.NewReader(signTestMessage(signTestBody)))
		var se *SignError
		if strict {
			if !errors.As(err, &se) || se.Selector != "file" || res.Header != nil {
				t.Fatalf("strict: %+v %v", res, err)
			}
		} else {
			if err != nil || res.Header != nil || !errors.As(res.Err, &se) || se.Selector != "file" {
				t.Fatalf("non-strict: %+v %v", res, err)
			}
		}
		// The file removed.
		os.Remove(path)
		res, err = s.Sign(context.Background(), bytes.NewReader(signTestMessage(signTestBody)))
		if strict != (err != nil) || (!strict && (res.Err == nil || !errors.Is(res.Err, os.ErrNotExist))) {
			t.Fatalf("strict=%v, file gone: %+v %v", strict, res, err)
		}
	}
}

func TestSignHeaderTooLarge(t *testing.T) {
	k := signTestKeys()
	for _, strict := range []bool{false, true} {
		s := signMust(t, SignerConfig{Strict: strict, Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
		big := "From: a@example.com\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\nbody\r\n"
		res, err := s.Sign(context.Background(), strings.NewReader(big))
		if strict != (err != nil) || !errors.Is(res.Err, ErrHeaderTooLarge) {
			t.Fatalf("strict=%v: %+v %v", strict, res, err)
		}
	}
}

type signFailReader struct{ r *strings.Reader }

func (f *signFailReader) Read(p []byte) (int, error) {
	if f.r.Len() == 0 {
		return 0, errors.New("disk on fire")
	}
	return f.r.Read(p[:min(len(p), 100)])
}

func TestSignReadErrors(t *testing.T) {
	k := signTestKeys()
	s := signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "ed", PrivateKey: signPEM(t, k.ed, false)}}}}})
	_, err := s.Sign(context.Background(), &signFailReader{strings.NewReader(string(signTestMessage(signBigBody(10000))))})
	var se *SignError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sign(ctx, bytes.NewReader(signTestMessage(""))); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
	// No body at all, no empty line: still signs.
	dns := signTestDNS{}.add(t, "ed", "example.com", k.ed.Public())
	signed, _ := signDo(t, s, []byte("From: a@example.com\r\nSubject: x\r\n"))
	signVerifyOurs(t, dns, signed, 1)
}

func TestSignConfigErrors(t *testing.T) {
	k := signTestKeys()
	good := []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "s", PrivateKey: signPEM(t, k.ed, false)}}}}
	for _, c := range []struct {
		field string
		c     SignerConfig
	}{
		{"Domains", SignerConfig{}},
		{"Domains", SignerConfig{Domains: []SignDomain{{Domain: "exa mple.com", Selectors: good[0].Selectors}}}},
		{"Domains", SignerConfig{Domains: []SignDomain{{Domain: "bücher.example", Selectors: good[0].Selectors}}}},
		{"Selector", SignerConfig{Domains: []SignDomain{{Domain: "example.com"}}}},
		{"Selector", SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "a;b", PrivateKey: "0"}}}}}},
		{"Canon", SignerConfig{Domains: good, Canon: "nofws"}},
		{"Canon", SignerConfig{Domains: good, Canon: "relaxed/"}},
		{"Hash", SignerConfig{Domains: good, Hash: "md5"}},
		{"Identity", SignerConfig{Domains: good, Identity: "alice@example.org"}},
		{"Identity", SignerConfig{Domains: good, Identity: "no-at"}},
		{"Timestamps", SignerConfig{Domains: good, Timestamps: -time.Second}},
		{"SignHeaders", SignerConfig{Domains: good, SignHeaders: "Subject:To"}},
		{"SignHeaders", SignerConfig{Domains: good, SignHeaders: "From:Bad Name"}},
		{"PrivateKey", SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "s", PrivateKey: "garbage"}}}}}},
		{"PrivateKey", SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "s", PrivateKey: "/nonexistent/key.pem"}}}}}},
	} {
		_, err := NewSigner(c.c)
		var ce *SignConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%+v: %v, want a %s error", c.c, err, c.field)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("key text in the error: %v", err)
		}
	}
	if _, err := NewSigner(SignerConfig{Domains: good, Identity: "@sub.example.com", SignHeaders: " from : =to:+Subject "}); err != nil {
		t.Fatal(err)
	}
}

func TestSignParseKeyForms(t *testing.T) {
	k := signTestKeys()
	seed := k.ed.Seed()
	for name, text := range map[string]string{
		"pkcs8 ed":    signPEM(t, k.ed, false),
		"pkcs8 rsa":   signPEM(t, k.rsa1024, false),
		"pkcs1 rsa":   signPEM(t, k.rsa1024, true),
		"seed b64":    signB64(seed),
		"full b64":    signB64(k.ed),
		"params+key":  "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + signPEM(t, k.ed, false),
		"b64 wrapped": signB64(seed)[:20] + "\n" + signB64(seed)[20:] + "\n",
	} {
		key, err := signParseKey([]byte(text))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !key.signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(map[bool]crypto.PublicKey{true: k.ed.Public(), false: k.rsa1024.Public()}[key.keyType == "ed25519"]) {
			t.Errorf("%s: wrong key", name)
		}
	}
	bad := append([]byte(nil), k.ed...)
	bad[40] ^= 1
	for name, text := range map[string]string{"empty": "", "junk": "junk", "b64 16": signB64(seed[:16]),
		"mismatched full": signB64(bad), "cert only": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"bad der": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := signParseKey([]byte(text)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestSignFolding: long h= lists, long domains and an identity fold
// within 78 columns, and the result still verifies.
func TestSignFolding(t *testing.T) {
	k := signTestKeys()
	d := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + ".example.com"
	sel := strings.Repeat("s", 50)
	dns := signTestDNS{}.add(t, sel, d, k.rsa2048.Public())
	var names []string
	for i := range 60 {
		names = append(names, fmt.Sprintf("X-Header-Number-%d", i))
	}
	for _, canon := range []string{"simple", "relaxed"} {
		s := signMust(t, SignerConfig{Canon: canon, Identity: strings.Repeat("l", 60) + "@" + d, Timestamps: time.Hour,
			SignHeaders: "From:" + strings.Join(names, ":"),
			Domains:     []SignDomain{{Domain: d, Selectors: []SignSelector{{Selector: sel, PrivateKey: signPEM(t, k.rsa2048, false)}}}}})
		signed, res := signDo(t, s, signTestMessage(signTestBody))
		if bytes.Count(res.Header, []byte("\r\n")) < 10 {
			t.Fatalf("not folded: %s", res.Header)
		}
		signVerifyBoth(t, dns, signed, 1)
	}
}

// TestSignConcurrent: one Signer, many goroutines (run with -race).
func TestSignConcurrent(t *testing.T) {
	k := signTestKeys()
	path := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(path, []byte(signPEM(t, k.ed, false)), 0o600)
	s := signMust(t, SignerConfig{Domains: []SignDomain{{Domain: "example.com", Selectors: []SignSelector{{Selector: "ed", PrivateKey: path}}}}})
	dns := signTestDNS{}.add(t, "ed", "example.com", k.ed.Public())
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			res, err := s.Sign(context.Background(), bytes.NewReader(signTestMessage(signTestBody)))
			if err == nil {
				err = res.Err
			}
			if err == nil {
				signed := append(res.Header, signTestMessage(signTestBody)...)
				_, err = Verify(context.Background(), bytes.NewReader(signed), WithResolver(dns))
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func signCount(names []string, name string) int {
	n := 0
	for _, x := range names {
		if strings.EqualFold(x, name) {
			n++
		}
	}
	return n
}
