package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// -rfc9989 evaluates as RFC 9989: a record RFC 7489 refuses (rf= is
// historic there, so a bad value is ignored) is used, t=y applies the
// next weaker policy, and dmarc_ar_header gets policy.dmarc; the
// variables and their words stay Exim's, in the same order.
func TestDMARCRFC9989Flag(t *testing.T) {
	z := resolvertest.NewZone()
	z.MustAdd(t,
		`example.org. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
		`_dmarc.example.org. 300 IN TXT "v=DMARC1; p=reject; t=y; rf=bogus.format"`,
	)
	ns := resolvertest.Start(t, z).Addr
	msg := writeFile(t, []byte(strings.Replace(dmarcMessage, "alice@example.org", "alice@news.example.org", 1)))
	args := []string{"-ip", "203.0.113.9", "-sender", "alice@example.org", "-helo", "h.example", "-message", msg}

	names, vars := dmarcCheck(t, ns, args...)
	for k, w := range map[string]string{
		"dmarc_status": "norecord", "dmarc_status_text": "No DMARC record", "dmarc_domain_policy": "",
	} {
		if vars[k] != w {
			t.Errorf("default (RFC 7489): %s=%q, want %q", k, vars[k], w)
		}
	}
	if ar := vars["dmarc_ar_header"]; !strings.HasSuffix(ar, "; dmarc=none header.from=news.example.org") {
		t.Errorf("default (RFC 7489): dmarc_ar_header=%q", ar)
	}

	names9989, vars := dmarcCheck(t, ns, append([]string{"-rfc9989"}, args...)...)
	if strings.Join(names9989, ",") != strings.Join(names, ",") {
		t.Errorf("-rfc9989 variables %v, want the default's %v", names9989, names)
	}
	for k, w := range map[string]string{
		"dmarc_status": "quarantine", "dmarc_status_text": "Quarantine", "dmarc_used_domain": "example.org",
		"dmarc_domain_policy": "reject", "dmarc_alignment_spf": "no", "dmarc_alignment_dkim": "no", "spf_result": "fail",
	} {
		if vars[k] != w {
			t.Errorf("-rfc9989: %s=%q, want %q", k, vars[k], w)
		}
	}
	if ar := vars["dmarc_ar_header"]; !strings.HasSuffix(ar, "; dmarc=fail header.from=news.example.org policy.dmarc=quarantine") {
		t.Errorf("-rfc9989: dmarc_ar_header=%q", ar)
	}

	// With -json and -tree-walk (implied) as well.
	code, stdout, stderr := policycheck(t, append([]string{"dmarc", "-nameserver", ns, "-timeout", "2s", "-rfc9989", "-tree-walk", "-json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var j map[string]string
	if err := json.Unmarshal([]byte(stdout), &j); err != nil {
		t.Fatalf("-json output %q: %v", stdout, err)
	}
	if j["dmarc_status"] != "quarantine" {
		t.Errorf("-rfc9989 -tree-walk -json: %v", j)
	}
}

func TestDMARCRFC9989Usage(t *testing.T) {
	code, stdout, stderr := policycheck(t, "dmarc", "-h")
	if code != 0 && code != 2 {
		t.Fatalf("dmarc -h: exit %d", code)
	}
	if !strings.Contains(stdout+stderr, "-rfc9989") {
		t.Errorf("dmarc -h does not list -rfc9989:\n%s%s", stdout, stderr)
	}
}
