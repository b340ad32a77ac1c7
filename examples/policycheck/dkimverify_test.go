package main

import (
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

func TestDKIMVerifyCommand(t *testing.T) {
	msg, keyRR := signedMessage(t)
	z := resolvertest.NewZone()
	z.MustAdd(t, keyRR)
	ns := resolvertest.Start(t, z).Addr
	good := writeFile(t, msg)
	code, out, errOut := runCLI(t, "dkim-verify", "-nameserver", ns, "-message", good)
	want := "dkim_signers=example.org\ndkim_signatures=1\n" +
		"dkim_cur_signer_1=example.org\ndkim_domain_1=example.org\ndkim_selector_1=sel\ndkim_identity_1=\n" +
		"dkim_algo_1=ed25519-sha256\ndkim_key_length_1=256\ndkim_verify_status_1=pass\ndkim_verify_reason_1=\n"
	if code != 0 || out != want {
		t.Errorf("exit %d\n%s(stderr %q), want\n%s", code, out, errOut, want)
	}

	// A changed body fails; ed25519 left out of the key types drops the
	// signature altogether, as Exim does.
	bad := writeFile(t, []byte(strings.Replace(string(msg), "Hello Bob.", "Hello Eve.", 1)))
	_, out, _ = runCLI(t, "dkim-verify", "-nameserver", ns, "-message", bad)
	if !strings.Contains(out, "dkim_verify_status_1=fail\ndkim_verify_reason_1=bodyhash_mismatch\n") {
		t.Errorf("changed body:\n%s", out)
	}
	_, out, _ = runCLI(t, "dkim-verify", "-nameserver", ns, "-dkim_verify_keytypes", "rsa", "-message", good)
	if out != "dkim_signers=\ndkim_signatures=0\n" {
		t.Errorf("rsa only:\n%s", out)
	}
	for _, args := range [][]string{
		{"dkim-verify"},
		{"dkim-verify", "-message", good, "-dkim_verify_hashes", "md5"},
		{"dkim-verify", "-message", good, "-dkim_verify_min_keysizes", "rsa"},
		{"dkim-verify", "-message", good, "extra"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
