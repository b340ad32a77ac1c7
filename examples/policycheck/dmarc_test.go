package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// dmarcZone: SPF and DMARC for example.org, a DKIM key added per test.
var dmarcZone = []string{
	`example.org. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
	`_dmarc.example.org. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:agg@example.org"`,
}

const dmarcMessage = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: hello\r\n" +
	"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hello Bob.\r\n"

// signedMessage signs dmarcMessage for d=example.org with a fresh
// Ed25519 key and returns the message and the key's TXT record.
func signedMessage(t *testing.T) (msg []byte, keyRR string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = dkim.Sign(&out, strings.NewReader(dmarcMessage), &dkim.SignOptions{
		Domain: "example.org", Selector: "sel", Signer: priv,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rr := `sel._domainkey.example.org. 300 IN TXT "v=DKIM1; k=ed25519; p=` + base64.StdEncoding.EncodeToString(pub) + `"`
	return out.Bytes(), rr
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var dmarcNames = []string{"dmarc_status", "dmarc_status_text", "dmarc_used_domain", "dmarc_domain_policy",
	"dmarc_ar_header", "dmarc_alignment_spf", "dmarc_alignment_dkim"}

func dmarcCheck(t *testing.T, ns string, args ...string) (names []string, vars map[string]string) {
	t.Helper()
	args = append([]string{"dmarc", "-nameserver", ns, "-timeout", "2s", "-receiver", "mx.test"}, args...)
	code, stdout, stderr := policycheck(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d\nstderr: %s", args, code, stderr)
	}
	vars = map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		n, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		names = append(names, n)
		vars[n] = v
	}
	return names, vars
}

func TestDMARCSubcommand(t *testing.T) {
	msg, keyRR := signedMessage(t)
	z := resolvertest.NewZone()
	z.MustAdd(t, dmarcZone...)
	z.MustAdd(t, keyRR)
	ns := resolvertest.Start(t, z).Addr

	// DKIM passes and aligns although SPF fails (forwarded mail).
	names, vars := dmarcCheck(t, ns, "-ip", "203.0.113.9", "-sender", "fwd@forwarder.example", "-helo", "fwd.example", "-message", writeFile(t, msg))
	if want := append(append([]string{}, dmarcNames...), spfNames...); strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("variables %v, want %v", names, want)
	}
	for k, w := range map[string]string{
		"dmarc_status": "accept", "dmarc_status_text": "Accept", "dmarc_used_domain": "example.org",
		"dmarc_domain_policy": "reject", "dmarc_alignment_dkim": "yes", "dmarc_alignment_spf": "no",
		"spf_result": "none",
	} {
		if vars[k] != w {
			t.Errorf("%s=%q, want %q", k, vars[k], w)
		}
	}
	// Package authres's field, unfolded: Exim's dkim property order
	// (d, s, a), where dmarc's own header had a, d, s.
	if ar := vars["dmarc_ar_header"]; ar != "Authentication-Results: mx.test; spf=none smtp.mailfrom=forwarder.example; "+
		"dkim=pass header.d=example.org header.s=sel header.a=ed25519-sha256; dmarc=pass header.from=example.org" {
		t.Errorf("dmarc_ar_header=%q", ar)
	}
	if ar := vars["dmarc_ar_header"]; !strings.HasPrefix(ar, "Authentication-Results: mx.test; spf=none") ||
		!strings.Contains(ar, "dkim=pass") || !strings.Contains(ar, "dmarc=pass header.from=example.org") {
		t.Errorf("dmarc_ar_header=%q", ar)
	}

	// The same message altered in transit, from an unauthorised IP:
	// reject. Read from standard input.
	bad := bytes.Replace(msg, []byte("Hello Bob."), []byte("Pay me."), 1)
	code, stdout, stderr := runWithStdin(t, bad, "dmarc", "-nameserver", ns, "-timeout", "2s", "-ip", "203.0.113.9",
		"-sender", "alice@example.org", "-helo", "h.example", "-message", "-", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var j map[string]string
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatalf("-json output %q: %v", stdout, err)
	}
	if j["dmarc_status"] != "reject" || j["spf_result"] != "fail" || j["dmarc_alignment_dkim"] != "no" {
		t.Errorf("altered message: %v", j)
	}
	if !strings.Contains(j["dmarc_ar_header"], "dkim=fail (body hash mismatch, body probably modified in transit) header.d=example.org") {
		t.Errorf("AR %q lacks dkim=fail", j["dmarc_ar_header"])
	}

	// SPF pass aligned, no signature.
	_, vars = dmarcCheck(t, ns, "-ip", "192.0.2.7", "-sender", "alice@example.org", "-helo", "h.example", "-message", writeFile(t, []byte(dmarcMessage)))
	if vars["dmarc_status"] != "accept" || vars["dmarc_alignment_spf"] != "yes" || vars["spf_result"] != "pass" {
		t.Errorf("spf-aligned: %v", vars)
	}
}

func TestDMARCUsage(t *testing.T) {
	code, _, stderr := policycheck(t, "dmarc", "-ip", "192.0.2.1", "-sender", "a@b.example", "-helo", "h")
	if code != 2 || !strings.Contains(stderr, "-message is required") {
		t.Errorf("missing -message: exit %d %q", code, stderr)
	}
	code, _, stderr = policycheck(t, "dmarc", "-ip", "192.0.2.1", "-sender", "a@b.example", "-helo", "h", "-message", "/nonexistent/x.eml")
	if code != 2 || !strings.Contains(stderr, "-message:") {
		t.Errorf("unreadable -message: exit %d %q", code, stderr)
	}
}

// runWithStdin is policycheck with stdin fed from in.
func runWithStdin(t *testing.T, in []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Stdin = bytes.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.Exited()) {
		t.Fatalf("policycheck %q: %v", args, err)
	}
	if ee != nil {
		code = ee.ExitCode()
	}
	return code, out.String(), errOut.String()
}
