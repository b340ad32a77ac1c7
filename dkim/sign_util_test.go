package dkim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// Test keys for signing, made once.
type signTestKeySet struct {
	rsa1024, rsa2048, rsa2048b *rsa.PrivateKey
	ed, ed2                    ed25519.PrivateKey
}

var signTestKeys = sync.OnceValue(func() *signTestKeySet {
	gen := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	_, ed2, _ := ed25519.GenerateKey(rand.Reader)
	return &signTestKeySet{rsa1024: gen(1024), rsa2048: gen(2048), rsa2048b: gen(2048), ed: ed, ed2: ed2}
})

// signPEM is a key as PKCS #8 PEM ("PRIVATE KEY"), or PKCS #1 for RSA
// when pkcs1.
func signPEM(tb testing.TB, k crypto.Signer, pkcs1 bool) string {
	tb.Helper()
	if r, ok := k.(*rsa.PrivateKey); ok && pkcs1 {
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(r)}))
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// signTestDNS holds key records for both verifiers.
type signTestDNS map[string]string

func (d signTestDNS) add(tb testing.TB, selector, domain string, pub crypto.PublicKey) signTestDNS {
	tb.Helper()
	var rec string
	switch p := pub.(type) {
	case ed25519.PublicKey:
		rec = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(p)
	default:
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			tb.Fatal(err)
		}
		rec = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	d[selector+"._domainkey."+domain] = rec
	return d
}

func (d signTestDNS) LookupTXT(_ context.Context, name string) ([]string, bool, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if r, ok := d[name]; ok {
		return []string{r}, false, nil
	}
	return nil, false, &signNotFound{name}
}

func (d signTestDNS) msgauth(name string) ([]string, error) {
	r, _, err := d.LookupTXT(context.Background(), name)
	return r, err
}

type signNotFound struct{ name string }

func (e *signNotFound) Error() string  { return "no such host " + e.name }
func (e *signNotFound) NotFound() bool { return true }

// signTestMessage is a message with repeated fields and a body of
// both simple and relaxed trouble (trailing space, tabs, empty lines
// at the end).
func signTestMessage(body string) []byte {
	return []byte("Received: from a by b; Tue, 1 Dec 2026 10:00:00 +0000\r\n" +
		"From: Alice <alice@example.com>\r\n" +
		"To: bob@example.org,\r\n carol@example.org\r\n" +
		"Subject:  Hello\t there \r\n" +
		"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n" +
		"Message-ID: <1@example.com>\r\n" +
		"Comments: one\r\n" +
		"Comments: two\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" + body)
}

const signTestBody = "Hello Bob,  \r\n\tthis is  a test.\r\n\r\n-- \r\nAlice\r\n\r\n\r\n"

// signBigBody is about n bytes of ordinary text lines.
func signBigBody(n int) string {
	var b strings.Builder
	line := "The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
	for b.Len() < n {
		b.WriteString(line)
	}
	return b.String()
}

// signMust makes a signer or fails.
func signMust(tb testing.TB, c SignerConfig) *Signer {
	tb.Helper()
	s, err := NewSigner(c)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// signDo signs msg and returns the signed message, checking the
// fields' form: CRLF line ends only, lines at most 78 octets,
// continuation lines starting with TAB, 7-bit.
func signDo(tb testing.TB, s *Signer, msg []byte) ([]byte, SignResult) {
	tb.Helper()
	res, err := s.Sign(context.Background(), bytes.NewReader(msg))
	if err != nil {
		tb.Fatal(err)
	}
	if res.Err != nil {
		tb.Fatal(res.Err)
	}
	signCheckForm(tb, res.Header)
	return append(append([]byte(nil), res.Header...), msg...), res
}

func signCheckForm(tb testing.TB, h []byte) {
	tb.Helper()
	if len(h) > 0 && !bytes.HasSuffix(h, []byte("\r\n")) {
		tb.Fatalf("header does not end CRLF: %q", h)
	}
	for _, c := range h {
		if c >= 0x80 || c == 0 {
			tb.Fatalf("8-bit or NUL octet in %q", h)
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(h), "\r\n"), "\r\n")
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			tb.Fatalf("bare CR or LF in %q", l)
		}
		// Over 78 only for one unbreakable tag (a long d=) alone on
		// its line; never over 998.
		if len(l) > 998 || (len(l) > signFoldCol && (!strings.HasPrefix(l, "\t") || strings.Contains(l, " "))) {
			tb.Fatalf("line of %d octets: %q", len(l), l)
		}
		if !strings.HasPrefix(l, "DKIM-Signature:") && !strings.HasPrefix(l, "\t") {
			tb.Fatalf("line neither a field start nor a continuation: %q", l)
		}
	}
}

// signVerifyBoth verifies msg with go-msgauth and with Verify; every
// signature must pass both.
func signVerifyBoth(tb testing.TB, dns signTestDNS, msg []byte, want int) []*msgauth.Verification {
	tb.Helper()
	vs, err := msgauth.VerifyWithOptions(bytes.NewReader(msg), &msgauth.VerifyOptions{LookupTXT: dns.msgauth})
	if err != nil {
		tb.Fatal(err)
	}
	if len(vs) != want {
		tb.Fatalf("go-msgauth: %d signatures, want %d", len(vs), want)
	}
	for _, v := range vs {
		if v.Err != nil {
			tb.Fatalf("go-msgauth: d=%s: %v\n%s", v.Domain, v.Err, msg[:min(len(msg), 2000)])
		}
	}
	signVerifyOurs(tb, dns, msg, want)
	return vs
}

func signVerifyOurs(tb testing.TB, dns signTestDNS, msg []byte, want int) {
	tb.Helper()
	rs, err := Verify(context.Background(), bytes.NewReader(msg), WithResolver(dns), WithHashes("sha256", "sha1", "sha512"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(rs) != want {
		tb.Fatalf("Verify: %d results, want %d", len(rs), want)
	}
	for _, r := range rs {
		if r.Status != StatusPass {
			tb.Fatalf("Verify: %+v", r)
		}
	}
}

func msgauthVerify(dns signTestDNS, msg []byte) ([]*msgauth.Verification, error) {
	return msgauth.VerifyWithOptions(bytes.NewReader(msg), &msgauth.VerifyOptions{LookupTXT: dns.msgauth})
}

func signB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
