package mta

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/dkim"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/signing"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// Keys for the signing tests: RSA 2048 generation is slow under -race,
// so one set for the package (a second RSA key for rotation).
var (
	dsKeysOnce    sync.Once
	dsRSA, dsRSA2 *rsa.PrivateKey
	dsEd          ed25519.PrivateKey
)

func dsKeys() {
	dsKeysOnce.Do(func() {
		var err error
		if dsRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if dsRSA2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if _, dsEd, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

// dsKeyFile writes k to path as a PKCS #8 PEM file.
func dsKeyFile(t testing.TB, path string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dsPublish adds the key record of k at selector._domainkey.domain,
// split into strings of at most 255 octets.
func dsPublish(t testing.TB, z *resolvertest.Zone, selector, domain string, k crypto.Signer) {
	t.Helper()
	var rec string
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		rec = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		rec = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	var parts []string
	for len(rec) > 255 {
		parts, rec = append(parts, rec[:255]), rec[255:]
	}
	parts = append(parts, rec)
	z.AddRR(&dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(selector + "._domainkey." + domain), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: parts})
}

// dsVerify checks msg (as a peer received it) with dkim.Verify
// against the keys in z and returns the status per "d/s".
func dsVerify(t testing.TB, z *resolvertest.Zone, msg string) map[string]string {
	t.Helper()
	srv := resolvertest.Start(t, z)
	rs, err := dkim.Verify(context.Background(), strings.NewReader(msg), dkim.WithResolver(nsResolver(t, srv.Addr)))
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	out := map[string]string{}
	for _, r := range rs {
		out[r.Domain+"/"+r.Selector] = r.Status.String()
		if r.Status != dkim.StatusPass {
			t.Logf("d=%s s=%s: %s %s %v", r.Domain, r.Selector, r.Status, r.Reason, r.Err)
		}
	}
	return out
}

// dsSigners signs for example.com with an RSA ("r") and an Ed25519
// ("e") selector; the key files are under dir.
func dsSigners(t testing.TB, dir string, strict bool) *signing.Signers {
	t.Helper()
	dsKeys()
	s, err := signing.New([]signing.Domain{{Domain: "example.com", Strict: strict, Selectors: []signing.Selector{
		{Selector: "r", PrivateKey: dsKeyFile(t, filepath.Join(dir, "r.pem"), dsRSA)},
		{Selector: "e", PrivateKey: dsKeyFile(t, filepath.Join(dir, "e.pem"), dsEd)},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var mailSizeRE = regexp.MustCompile(`C: MAIL FROM:<[^>]*> .*SIZE=(\d+)`)

// TestDKIMSignRelay: a relayed message From a local domain reaches the
// peer with an RSA and an Ed25519 signature that verify (SIZE= counts
// them); one From a foreign domain goes unsigned.
func TestDKIMSignRelay(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.DKIMSign = dsSigners(t, t.TempDir(), false) })
	keys := resolvertest.NewZone()
	dsPublish(t, keys, "r", "example.com", dsRSA)
	dsPublish(t, keys, "e", "example.com", dsEd)

	body := "From: Alice <alice@example.com>\nTo: bob@remote.test\nSubject: signed\n\nHello,  Bob.\n"
	if code, msg := o.send(t, "alice@example.com", []string{"bob@remote.test"}, body); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "delivery", func() bool { return len(f.messages()) == 1 })
	m := f.messages()[0]
	if !strings.HasPrefix(m.data, "DKIM-Signature:") || strings.Count(m.data, "DKIM-Signature:") != 2 {
		t.Fatalf("not two signatures in front:\n%s", m.data)
	}
	got := dsVerify(t, keys, m.data)
	if got["example.com/r"] != "pass" || got["example.com/e"] != "pass" || len(got) != 2 {
		t.Errorf("verification %v, want both pass\n%s", got, m.data)
	}
	sz := mailSizeRE.FindStringSubmatch(f.transcript())
	if sz == nil {
		t.Fatalf("no SIZE= in MAIL:\n%s", f.transcript())
	}
	if n, _ := strconv.Atoi(sz[1]); n != len(strings.ReplaceAll(m.data, "\n", "\r\n")) {
		t.Errorf("SIZE=%d, message as sent is %d octets", n, len(strings.ReplaceAll(m.data, "\n", "\r\n")))
	}
	if !strings.Contains(o.ts.logs.String(), "DKIM: signed") {
		t.Errorf("no log line for the signature:\n%s", o.ts.logs.String())
	}

	foreign := "From: x@other.test\nTo: bob@remote.test\nSubject: foreign\n\nx\n"
	o.send(t, "x@other.test", []string{"bob@remote.test"}, foreign)
	waitFor(t, 10*time.Second, "second delivery", func() bool { return len(f.messages()) == 2 })
	if d := f.messages()[1].data; strings.Contains(d, "DKIM-Signature:") {
		t.Errorf("foreign From signed:\n%s", d)
	}
}

// TestDKIMSignStrictDefers: with Strict, a key file broken after start
// defers the message without connecting; once a new key is in the
// file, the retry signs with it (signing is per attempt).
func TestDKIMSignStrictDefers(t *testing.T) {
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	dir := t.TempDir()
	signers := dsSigners(t, dir, true)
	o := startOut(t, f.port, remoteZone, func(c *Config) { c.DKIMSign = signers })
	if err := os.WriteFile(filepath.Join(dir, "r.pem"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, msg := o.send(t, "alice@example.com", []string{"bob@remote.test"}, "From: alice@example.com\nSubject: strict\n\nx\n"); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "the deferral", func() bool { return strings.Contains(o.ts.logs.String(), "DKIM: signing failed: ") })
	f.mu.Lock()
	conns := f.conns
	f.mu.Unlock()
	if conns != 0 || len(f.messages()) != 0 {
		t.Fatalf("%d connections, %d messages while signing fails", conns, len(f.messages()))
	}
	if !regexp.MustCompile(`msg=deferred .*reason="DKIM: signing failed: dkim: Sign: d=example.com s=r: private key`).MatchString(o.ts.logs.String()) {
		t.Errorf("deferral not logged with its reason:\n%s", o.ts.logs.String())
	}

	dsKeyFile(t, filepath.Join(dir, "r.pem"), dsRSA2)
	waitFor(t, 10*time.Second, "delivery on retry", func() bool { return len(f.messages()) == 1 })
	keys := resolvertest.NewZone()
	dsPublish(t, keys, "r", "example.com", dsRSA2)
	dsPublish(t, keys, "e", "example.com", dsEd)
	if got := dsVerify(t, keys, f.messages()[0].data); got["example.com/r"] != "pass" || got["example.com/e"] != "pass" {
		t.Errorf("after the key change: %v", got)
	}
}

// TestDKIMSignBounce: a bounce we send to a remote sender is From
// Mailer-Daemon@<our host name>, a host under a signing domain: signed
// with d=example.com.
func TestDKIMSignBounce(t *testing.T) {
	f := startFake(t, &fakeSMTP{rcpt: func(a string) string {
		if strings.HasPrefix(a, "nobody@") {
			return "550 5.1.1 no such user"
		}
		return ""
	}}, "127.0.0.2")
	zone := append([]string{"sender.test. MX 10 mx.remote.test."}, remoteZone...)
	o := startOut(t, f.port, zone, func(c *Config) {
		c.Hostname = "mx.example.com"
		c.DKIMSign = dsSigners(t, t.TempDir(), false)
	})
	o.send(t, "carol@sender.test", []string{"nobody@remote.test"}, "From: carol@sender.test\nSubject: bounce me\n\nx\n")
	waitFor(t, 10*time.Second, "the bounce at the sender's MX", func() bool { return len(f.messages()) == 1 })
	m := f.messages()[0]
	if m.from != "" || m.rcpts[0] != "carol@sender.test" {
		t.Fatalf("not the bounce: from %q to %v", m.from, m.rcpts)
	}
	if from := headerOf(m.data, "From"); !strings.Contains(from, "@mx.example.com") {
		t.Errorf("bounce From %q", from)
	}
	keys := resolvertest.NewZone()
	dsPublish(t, keys, "r", "example.com", dsRSA)
	dsPublish(t, keys, "e", "example.com", dsEd)
	if got := dsVerify(t, keys, m.data); got["example.com/r"] != "pass" || got["example.com/e"] != "pass" {
		t.Errorf("bounce signatures %v\n%s", got, m.data)
	}
}
