package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// keyFiles writes an RSA and an Ed25519 key and returns their paths and
// the zone records publishing them as selectors "rsa" and "ed" of
// example.org.
func keyFiles(t *testing.T) (rsaPath, edPath string, rrs []string) {
	t.Helper()
	dir := t.TempDir()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rder, _ := x509.MarshalPKCS8PrivateKey(rk)
	eder, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	rpub, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	rsaTXT := base64.StdEncoding.EncodeToString(rpub)
	rrs = []string{
		`rsa._domainkey.example.org. 300 IN TXT "v=DKIM1; k=rsa; p=` + rsaTXT[:200] + `" "` + rsaTXT[200:] + `"`,
		`ed._domainkey.example.org. 300 IN TXT "v=DKIM1; k=ed25519; p=` + base64.StdEncoding.EncodeToString(edPub) + `"`,
	}
	return write("rsa.pem", rder), write("ed.pem", eder), rrs
}

func TestDKIMSignCommand(t *testing.T) {
	rsaPath, edPath, rrs := keyFiles(t)
	z := resolvertest.NewZone()
	z.MustAdd(t, rrs...)
	ns := resolvertest.Start(t, z).Addr
	in := writeFile(t, []byte(dmarcMessage))

	code, signed, errOut := runCLI(t, "dkim-sign", "-dkim_domain", "example.org", "-dkim_selector", "rsa:ed",
		"-dkim_private_key", rsaPath+":"+edPath, "-dkim_sign_headers", "+From:Subject:To", "-message", in)
	if code != 0 || errOut != "" || !strings.HasSuffix(signed, dmarcMessage) || strings.Count(signed, "DKIM-Signature:") != 2 {
		t.Fatalf("exit %d, stderr %q, output:\n%s", code, errOut, signed)
	}
	for _, line := range strings.Split(signed, "\r\n") {
		if len(line) > 998 || strings.ContainsAny(line, "\r\n") {
			t.Errorf("bad line %q", line)
		}
	}
	_, out, _ := runCLI(t, "dkim-verify", "-nameserver", ns, "-message", writeFile(t, []byte(signed)))
	for _, want := range []string{"dkim_signatures=2\n", "dkim_verify_status_1=pass\n", "dkim_verify_status_2=pass\n",
		"dkim_algo_1=ed25519-sha256\n", "dkim_algo_2=rsa-sha256\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	// Oversigned From: a second From added afterwards breaks both.
	forged := strings.Replace(signed, "From: ", "From: evil@example.net\r\nFrom: ", 1)
	_, out, _ = runCLI(t, "dkim-verify", "-nameserver", ns, "-message", writeFile(t, []byte(forged)))
	if strings.Contains(out, "=pass\n") {
		t.Errorf("an added From still passes:\n%s", out)
	}

	// A selector whose key is "0" signs nothing.
	_, signed, _ = runCLI(t, "dkim-sign", "-dkim_domain", "example.org", "-dkim_selector", "rsa:ed",
		"-dkim_private_key", "0:"+edPath, "-message", in)
	if strings.Count(signed, "DKIM-Signature:") != 1 {
		t.Errorf("key 0 still signed:\n%s", signed)
	}
	// A key that does not parse is a configuration error up front, strict
	// or not (dkim's own tests cover a key going bad between messages).
	bad := writeFile(t, []byte("not a key"))
	for _, strict := range []string{"-dkim_strict=false", "-dkim_strict"} {
		code, out, errOut := runCLI(t, "dkim-sign", "-dkim_domain", "example.org", "-dkim_selector", "ed",
			"-dkim_private_key", bad, strict, "-message", in)
		if code != 2 || out != "" || !strings.Contains(errOut, "neither PEM") {
			t.Errorf("%s bad key: exit %d stderr %q output %q", strict, code, errOut, out)
		}
	}
	for _, args := range [][]string{
		{"dkim-sign", "-message", in},
		{"dkim-sign", "-dkim_domain", "example.org", "-dkim_selector", "a:b:c", "-dkim_private_key", "x:y", "-message", in},
		{"dkim-sign", "-dkim_domain", "example.org", "-dkim_selector", "ed", "-dkim_private_key", edPath, "-dkim_hash", "md5", "-message", in},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
