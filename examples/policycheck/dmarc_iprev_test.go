package main

import (
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// TestDMARCIPrev: -iprev adds the iprev method, first, to
// dmarc_ar_header; without it the output is what it always was.
func TestDMARCIPrev(t *testing.T) {
	msg, keyRR := signedMessage(t)
	z := resolvertest.NewZone()
	z.MustAdd(t, dmarcZone...)
	z.MustAdd(t, keyRR,
		`7.2.0.192.in-addr.arpa. 300 IN PTR mail.example.org.`,
		`mail.example.org.       300 IN A   192.0.2.7`,
		`8.2.0.192.in-addr.arpa. 300 IN PTR liar.example.org.`,
		`liar.example.org.       300 IN A   198.51.100.1`,
	)
	z.SetFault("9.2.0.192.in-addr.arpa", 0, resolvertest.FaultServFail)
	ns := resolvertest.Start(t, z).Addr
	file := writeFile(t, msg)
	const rest = "spf=pass smtp.mailfrom=example.org; " +
		"dkim=pass header.d=example.org header.s=sel header.a=ed25519-sha256; dmarc=pass header.from=example.org"

	args := []string{"-ip", "192.0.2.7", "-sender", "alice@example.org", "-helo", "mail.example.org", "-message", file}
	plainNames, plain := dmarcCheck(t, ns, args...)
	if want := "Authentication-Results: mx.test; " + rest; plain["dmarc_ar_header"] != want {
		t.Errorf("without -iprev: dmarc_ar_header=%q, want %q", plain["dmarc_ar_header"], want)
	}
	names, vars := dmarcCheck(t, ns, append([]string{"-iprev"}, args...)...)
	if want := "Authentication-Results: mx.test; iprev=pass (mail.example.org) smtp.remote-ip=192.0.2.7; " + rest; vars["dmarc_ar_header"] != want {
		t.Errorf("-iprev: dmarc_ar_header=%q, want %q", vars["dmarc_ar_header"], want)
	}
	// Only dmarc_ar_header changes: same variables, same order.
	if strings.Join(names, ",") != strings.Join(plainNames, ",") {
		t.Errorf("-iprev variables %v, want %v", names, plainNames)
	}
	for _, n := range names {
		if n != "dmarc_ar_header" && vars[n] != plain[n] {
			t.Errorf("-iprev changed %s: %q, was %q", n, vars[n], plain[n])
		}
	}

	// A PTR name that does not confirm, and a reverse zone that fails.
	for ip, want := range map[string]string{
		"192.0.2.8": "Authentication-Results: mx.test; iprev=fail smtp.remote-ip=192.0.2.8; ",
		"192.0.2.9": "Authentication-Results: mx.test; iprev=temperror smtp.remote-ip=192.0.2.9; ",
	} {
		_, vars := dmarcCheck(t, ns, "-iprev", "-ip", ip, "-sender", "alice@example.org", "-helo", "h.example", "-message", file)
		if !strings.HasPrefix(vars["dmarc_ar_header"], want+"spf=pass") || strings.Count(vars["dmarc_ar_header"], "iprev=") != 1 {
			t.Errorf("-iprev -ip %s: dmarc_ar_header=%q, want prefix %q", ip, vars["dmarc_ar_header"], want)
		}
	}

	// -v names the iprev error on stderr; stdout stays the variables.
	code, _, stderr := policycheck(t, "dmarc", "-nameserver", ns, "-timeout", "2s", "-receiver", "mx.test", "-v", "-iprev",
		"-ip", "192.0.2.9", "-sender", "alice@example.org", "-helo", "h.example", "-message", file)
	if code != 0 || !strings.Contains(stderr, "policycheck dmarc: iprev: temperror: ") {
		t.Errorf("-v: exit %d, stderr %q", code, stderr)
	}
}
