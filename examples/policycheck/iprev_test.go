package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

func TestIPrevCommand(t *testing.T) {
	z := resolvertest.MustParseZone(t, `
1.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com.
mail.example.com.       300 IN A   192.0.2.1
2.2.0.192.in-addr.arpa. 300 IN PTR liar.example.com.
liar.example.com.       300 IN A   198.51.100.1
5.2.0.192.in-addr.arpa. 300 IN PTR evil\(x\)\;smtp.auth=admin.example.com.
5.2.0.192.in-addr.arpa. 300 IN PTR evil.example.com.
evil.example.com.       300 IN A   192.0.2.5
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN PTR mail6.example.com.
mail6.example.com.      300 IN AAAA 2001:db8::1
`)
	z.SetFault("3.2.0.192.in-addr.arpa", 0, resolvertest.FaultServFail)
	z.SetFault("4.2.0.192.in-addr.arpa", 0, resolvertest.FaultRefused)
	ns := resolvertest.Start(t, z).Addr
	for _, tc := range []struct{ ip, want string }{
		{"192.0.2.1", "sender_host_name=mail.example.com\nhost_lookup_failed=0\nhost_lookup_deferred=0\n" +
			"iprev_result=pass\niprev_authresults=iprev=pass (mail.example.com) smtp.remote-ip=192.0.2.1\n"},
		{"192.0.2.2", "sender_host_name=\nhost_lookup_failed=1\nhost_lookup_deferred=0\n" +
			"iprev_result=fail\niprev_authresults=iprev=fail smtp.remote-ip=192.0.2.2\n"},
		{"192.0.2.3", "sender_host_name=\nhost_lookup_failed=0\nhost_lookup_deferred=1\n" +
			"iprev_result=temperror\niprev_authresults=iprev=temperror smtp.remote-ip=192.0.2.3\n"},
		{"192.0.2.4", "sender_host_name=\nhost_lookup_failed=1\nhost_lookup_deferred=0\n" +
			"iprev_result=permerror\niprev_authresults=iprev=permerror smtp.remote-ip=192.0.2.4\n"},
		{"192.0.2.5", "sender_host_name=evil.example.com\nhost_lookup_failed=0\nhost_lookup_deferred=0\n" +
			"iprev_result=pass\niprev_authresults=iprev=pass (evil.example.com) smtp.remote-ip=192.0.2.5\n"},
		// Exim's form: the IPv6 address bare, where authres.FromIPrev
		// quotes it.
		{"2001:db8::1", "sender_host_name=mail6.example.com\nhost_lookup_failed=0\nhost_lookup_deferred=0\n" +
			"iprev_result=pass\niprev_authresults=iprev=pass (mail6.example.com) smtp.remote-ip=2001:db8::1\n"},
		{"::ffff:192.0.2.1", "sender_host_name=mail.example.com\nhost_lookup_failed=0\nhost_lookup_deferred=0\n" +
			"iprev_result=pass\niprev_authresults=iprev=pass (mail.example.com) smtp.remote-ip=192.0.2.1\n"},
	} {
		code, out, errOut := runCLI(t, "iprev", "-ip", tc.ip, "-nameserver", ns, "-timeout", "500ms")
		if code != 0 || out != tc.want {
			t.Errorf("%s: exit %d\n%s(stderr %q), want\n%s", tc.ip, code, out, errOut, tc.want)
		}
	}
	code, out, _ := runCLI(t, "iprev", "-json", "-ip", "192.0.2.1", "-nameserver", ns)
	var m map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["sender_host_name"] != "mail.example.com" {
		t.Errorf("-json: exit %d, %q", code, out)
	}
	code, _, errOut := runCLI(t, "iprev", "-v", "-ip", "192.0.2.4", "-nameserver", ns)
	if code != 0 || !strings.Contains(errOut, "policycheck iprev: permerror: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("-v: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{"iprev"}, {"iprev", "-ip", "x"}, {"iprev", "-ip", "fe80::1%eth0"}, {"iprev", "-ip", "192.0.2.1", "extra"},
		{"iprev", "-ip", "192.0.2.1", "-timeout", "x"}, {"iprev", "-bogus"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
