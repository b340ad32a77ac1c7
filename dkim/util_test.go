package dkim

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// Test fixtures for the DKIM tests: keys, key records, DNS data served
// both in memory and by resolvertest, and a small signer written
// independently of the verifier (for what go-msgauth cannot sign:
// rsa-sha1, sha512, l=, bad versions, missing tags).

type testKeySet struct {
	rsa1024, rsa2048 *rsa.PrivateKey
	ed               ed25519.PrivateKey
}

// testKeys generates the keys once per test binary.
var testKeys = sync.OnceValue(func() *testKeySet {
	k := &testKeySet{}
	var err error
	if k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		panic(err)
	}
	if k.rsa2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// keyRecord is the TXT record publishing pub; extra tags go after
// k= (e.g. "h=sha1; ").
func keyRecord(tb testing.TB, pub crypto.PublicKey, extra string) string {
	tb.Helper()
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			tb.Fatal(err)
		}
		return "v=DKIM1; k=rsa; " + extra + "p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; " + extra + "p=" + base64.StdEncoding.EncodeToString(pub)
	}
	tb.Fatalf("unsupported key %T", pub)
	return ""
}

// testDNS is the key records of a test, served in memory (Resolver
// for ours, a lookup function for go-msgauth) or by resolvertest.
type testDNS struct {
	txt      map[string][]string // by name without trailing dot
	servfail map[string]bool
}

func newTestDNS() *testDNS {
	return &testDNS{txt: map[string][]string{}, servfail: map[string]bool{}}
}

func (d *testDNS) add(name string, txt ...string) *testDNS {
	d.txt[name] = append(d.txt[name], txt...)
	return d
}

// LookupTXT makes testDNS a Resolver.
func (d *testDNS) LookupTXT(_ context.Context, name string) ([]string, bool, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if d.servfail[name] {
		return nil, false, resolver.ErrTemporary
	}
	txt, ok := d.txt[name]
	if !ok {
		return nil, false, resolver.ErrNotFound
	}
	return txt, false, nil
}

// msgauthLookup is the same data for go-msgauth's VerifyOptions.
func (d *testDNS) msgauthLookup(name string) ([]string, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if d.servfail[name] {
		return nil, &net.DNSError{Err: "server failure", Name: name, IsTemporary: true}
	}
	txt, ok := d.txt[name]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return txt, nil
}

// serve starts a resolvertest server with the same data. Long TXT strings
// are split into 255-octet character-strings, as a zone file must.
func (d *testDNS) serve(tb testing.TB) *resolvertest.Server {
	tb.Helper()
	z := resolvertest.NewZone()
	for name, txts := range d.txt {
		for _, txt := range txts {
			z.MustAdd(tb, zoneTXT(name, txt))
		}
	}
	for name := range d.servfail {
		z.SetRcode(name, 0, 2) // SERVFAIL for every type
	}
	return resolvertest.Start(tb, z)
}

func zoneTXT(name, txt string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s. 300 IN TXT", name)
	for len(txt) > 0 {
		n := min(len(txt), 255)
		fmt.Fprintf(&b, " \"%s\"", strings.ReplaceAll(strings.ReplaceAll(txt[:n], `\`, `\\`), `"`, `\"`))
		txt = txt[n:]
	}
	if b.Len() == len(name)+len(". 300 IN TXT") {
		b.WriteString(` ""`)
	}
	return b.String()
}

// testMessage is a small CRLF message with the given body.
func testMessage(body string) []byte {
	return []byte("From: Alice <alice@example.com>\r\n" +
		"To: Bob <bob@example.net>\r\n" +
		"Subject: Hello  there,\r\n\tfolded\r\n" +
		"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n" +
		"Message-ID: <m1@example.com>\r\n" +
		"\r\n" + body)
}

// testSigner describes a signature made by testSign.
type testSigner struct {
	alg      string // a=, e.g. "rsa-sha1"
	key      crypto.Signer
	domain   string
	selector string
	ident    string // i=, optional
	canon    string // c=, e.g. "relaxed/simple"; "" is simple/simple
	headers  string // h=, default "from:to:subject:date"
	bodyLen  int    // l=: -1 none, -2 the canonical body length
	extra    string // more tags, inserted before bh=, e.g. "t=1; x=2; "
	version  string // v=, default "1"
	raw      string // if set, the whole tag list before "bh=" (v=, a=... as given)
}

// testSign signs msg (CRLF) and returns it with the DKIM-Signature
// field prepended. It canonicalizes with plain string code of its own
// (the ref* functions), independent of the verifier's streaming code.
func testSign(tb testing.TB, msg []byte, s testSigner) []byte {
	tb.Helper()
	head, body, ok := strings.Cut(string(msg), "\r\n\r\n")
	if !ok {
		tb.Fatal("testSign: message without body separator")
	}
	head += "\r\n"
	hc, bc, _ := strings.Cut(s.canon, "/")
	if hc == "" {
		hc = "simple"
	}
	if bc == "" {
		bc = "simple"
	}
	_, hashName, _ := strings.Cut(s.alg, "-")
	hash := map[string]crypto.Hash{"sha1": crypto.SHA1, "sha256": crypto.SHA256, "sha512": crypto.SHA512}[hashName]
	cbody := refSimpleBody(body)
	if bc == "relaxed" {
		cbody = refRelaxedBody(body)
	}
	var tags strings.Builder
	if s.raw != "" {
		tags.WriteString(s.raw)
	} else {
		v := s.version
		if v == "" {
			v = "1"
		}
		h := s.headers
		if h == "" {
			h = "from:to:subject:date"
		}
		fmt.Fprintf(&tags, "v=%s; a=%s; c=%s/%s; d=%s; s=%s;\r\n\t", v, s.alg, hc, bc, s.domain, s.selector)
		if s.ident != "" {
			fmt.Fprintf(&tags, "i=%s; ", s.ident)
		}
		switch {
		case s.bodyLen == -2:
			fmt.Fprintf(&tags, "l=%d; ", len(cbody))
		case s.bodyLen >= 0:
			fmt.Fprintf(&tags, "l=%d; ", s.bodyLen)
			cbody = cbody[:min(len(cbody), s.bodyLen)]
		}
		fmt.Fprintf(&tags, "%sh=%s;\r\n\t", s.extra, h)
	}
	hh := hash.New()
	hh.Write([]byte(cbody))
	field := "DKIM-Signature: " + tags.String() + "bh=" + base64.StdEncoding.EncodeToString(hh.Sum(nil)) + ";\r\n\tb="

	fields := refHeaderFields(head)
	used := make([]bool, len(fields))
	hh = hash.New()
	hdrs := regexp.MustCompile(`h=([^;]*)`).FindStringSubmatch(tags.String())[1]
	for _, name := range strings.Split(hdrs, ":") {
		name = strings.TrimSpace(name)
		for i := len(fields) - 1; i >= 0; i-- {
			fname, _, _ := strings.Cut(fields[i], ":")
			if used[i] || !strings.EqualFold(strings.TrimRight(fname, " \t"), name) {
				continue
			}
			used[i] = true
			if hc == "relaxed" {
				hh.Write([]byte(refRelaxedHeader(fields[i])))
			} else {
				hh.Write([]byte(fields[i]))
			}
			break
		}
	}
	if hc == "relaxed" {
		hh.Write([]byte(strings.TrimSuffix(refRelaxedHeader(field+"\r\n"), "\r\n")))
	} else {
		hh.Write([]byte(field))
	}
	digest := hh.Sum(nil)
	var sig []byte
	var err error
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, hash, digest)
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, digest)
	default:
		tb.Fatalf("unsupported key %T", s.key)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(field + base64.StdEncoding.EncodeToString(sig) + "\r\n" + string(msg))
}

// refHeaderFields splits a CRLF header section into fields.
func refHeaderFields(head string) []string {
	var fields []string
	for _, line := range strings.SplitAfter(head, "\r\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] += line
		} else {
			fields = append(fields, line)
		}
	}
	return fields
}

var refWSP = regexp.MustCompile(`[ \t]+`)

// refRelaxedHeader is RFC 6376 §3.4.2, written plainly.
func refRelaxedHeader(field string) string {
	name, value, _ := strings.Cut(field, ":")
	value = strings.ReplaceAll(value, "\r\n", "")
	value = strings.Trim(refWSP.ReplaceAllString(value, " "), " ")
	return strings.ToLower(strings.TrimRight(name, " \t")) + ":" + value + "\r\n"
}

// refLines normalizes line ends (LF alone is CRLF) and splits the body
// into lines; last reports whether the final line had no line end.
func refLines(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	lines := strings.Split(body, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// refSimpleBody is RFC 6376 §3.4.3, written plainly.
func refSimpleBody(body string) string {
	lines := refLines(body)
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return "\r\n"
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// refRelaxedBody is RFC 6376 §3.4.4, written plainly.
func refRelaxedBody(body string) string {
	lines := refLines(body)
	for i, l := range lines {
		lines[i] = strings.TrimRight(refWSP.ReplaceAllString(l, " "), " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// newTestBufReader reads s through a tiny buffer, so that header
// lines longer than it take the ErrBufferFull path.
func newTestBufReader(s string) *bufio.Reader {
	return bufio.NewReaderSize(strings.NewReader(s), 16)
}

func readAllString(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}

// bigBody is n octets of mail-like text: lines of words, single
// spaces, some double spaces, tabs and trailing whitespace, and blank
// lines between paragraphs.
func bigBody(n int) string {
	var b strings.Builder
	words := []string{"lorem", "ipsum", "dolor", "sit", "amet,", "consectetur", "adipiscing", "elit.", "Sed", "do"}
	for i := 0; b.Len() < n; i++ {
		for j := 0; j < 11; j++ {
			b.WriteString(words[(i+j)%len(words)])
			switch {
			case j == 10:
			case (i+j)%17 == 0:
				b.WriteString("  ")
			case (i+j)%29 == 0:
				b.WriteString("\t")
			default:
				b.WriteByte(' ')
			}
		}
		if i%13 == 0 {
			b.WriteString(" ")
		}
		b.WriteString("\r\n")
		if i%7 == 6 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}
