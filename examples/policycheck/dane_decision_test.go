package main

// "policycheck dane" when the host's address lookup does not complete:
// the output must carry the decision the MTA makes (defer the host),
// not an empty action and a -require that has vanished.

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

func TestDANEAddressLookupFailureDecision(t *testing.T) {
	z := resolvertest.NewZone()
	z.MustAdd(t, "ok.example.com. 300 IN A 127.0.0.1")
	z.SetRcode("servfail.example.com", 0, dns.RcodeServerFailure)
	z.SetTimeout("slow.example.com", 0)
	z.SetAuthentic(true)
	ns := resolvertest.Start(t, z).Addr

	tests := []struct {
		name string
		args []string
		want map[string]string
	}{
		{"servfail, require", []string{"-host", "servfail.example.com", "-require"}, map[string]string{
			"dane_action": "defer", "dane_required": "yes", "dane_address": "", "dane_address_dnssec": "no",
			"tls_out_dane": "no", "tls_out_cv": "no", "dane_event": "",
			"dane_message": "host lookup for servfail.example.com did not complete",
		}},
		{"servfail, try", []string{"-host", "servfail.example.com"}, map[string]string{
			"dane_action": "defer", "dane_required": "no",
			"dane_message": "host lookup for servfail.example.com did not complete",
		}},
		{"timeout, require", []string{"-host", "slow.example.com", "-require", "-timeout", "300ms"}, map[string]string{
			"dane_action": "defer", "dane_required": "yes",
			"dane_message": "host lookup for slow.example.com did not complete",
		}},
		// -connect replaces the address, not the lookup: a lookup that
		// did not complete leaves the DNSSEC state unknown, which is a
		// reason to defer, never to fail the addresses for good.
		{"servfail, require, connect", []string{"-host", "servfail.example.com", "-require", "-connect", "127.0.0.1"}, map[string]string{
			"dane_action": "defer", "dane_required": "yes", "dane_address": "127.0.0.1", "dane_event": "",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := daneCheck(t, append([]string{"-nameserver", ns, "-port", "1"}, tc.args...)...)
			for k, v := range tc.want {
				if vars[k] != v {
					t.Errorf("%s=%q, want %q", k, vars[k], v)
				}
			}
			if !strings.HasPrefix(vars["dane_error"], "address lookup: ") {
				t.Errorf("dane_error=%q, want the lookup error", vars["dane_error"])
			}
		})
	}
}
