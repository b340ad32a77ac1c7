package signing

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
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// RSA 2048 generation is slow under -race: one key pair per kind for
// the whole package, plus a second RSA key for rotation.
var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	rsaKey2  *rsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaKey2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

// keyFile writes k as a PKCS #8 PEM file in dir and returns its path.
func keyFile(t testing.TB, dir, name string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keyRecord is the DKIM key record of k's public key.
func keyRecord(t testing.TB, k crypto.Signer) string {
	t.Helper()
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// publish adds selector._domainkey.domain TXT with k's record, in
// strings of at most 255 octets.
func publish(t testing.TB, z *resolvertest.Zone, selector, domain string, k crypto.Signer) {
	t.Helper()
	rec := keyRecord(t, k)
	var parts []string
	for len(rec) > 255 {
		parts, rec = append(parts, rec[:255]), rec[255:]
	}
	parts = append(parts, rec)
	z.AddRR(&dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(selector + "._domainkey." + domain), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: parts})
}

// dnsEnv is a zone on loopback and a resolver asking it.
type dnsEnv struct {
	zone *resolvertest.Zone
	res  *resolver.Resolver
}

func newDNS(t testing.TB) *dnsEnv {
	t.Helper()
	z := resolvertest.NewZone()
	srv := resolvertest.Start(t, z)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return &dnsEnv{zone: z, res: r}
}

// verifyOurs checks signed with package dkim and returns the results.
func (e *dnsEnv) verifyOurs(t testing.TB, signed []byte) []dkim.Result {
	t.Helper()
	rs, err := dkim.Verify(context.Background(), bytes.NewReader(signed), dkim.WithResolver(e.res))
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	return rs
}

// verifyMsgauth checks signed with go-msgauth, whose key lookups go
// to the same zone.
func (e *dnsEnv) verifyMsgauth(t testing.TB, signed []byte) []*msgauth.Verification {
	t.Helper()
	vs, err := msgauth.VerifyWithOptions(bytes.NewReader(signed), &msgauth.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			txt, _, err := e.res.LookupTXT(context.Background(), name)
			return txt, err
		},
	})
	if err != nil {
		t.Fatalf("go-msgauth Verify: %v", err)
	}
	return vs
}

// message is a small message From from, with CRLF line ends.
func message(from string) []byte {
	return []byte(strings.ReplaceAll("From: Alice <"+from+">\nTo: bob@remote.test\nSubject: Hello  there\n"+
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <1@example.com>\n\nHello Bob,\n\n  spaces   and\ttabs \n\n\n", "\n", "\r\n"))
}

func mustNew(t testing.TB, domains ...Domain) *Signers {
	t.Helper()
	s, err := New(domains)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sec is msg as the courier gives it: a section of the spool file.
func sec(msg []byte) *io.SectionReader {
	return io.NewSectionReader(bytes.NewReader(msg), 0, int64(len(msg)))
}
