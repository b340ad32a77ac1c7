package dane

import (
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

const tlsaHex = "1a6652a0c1f4c4a4d3e5d1b3a2c0b6e1f0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b"

func testZone(t *testing.T, authentic bool) (*resolvertest.Zone, string) {
	t.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(t,
		"mx.example.com. 300 IN A 127.0.0.1",
		"_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 "+tlsaHex,
		"_25._tcp.mx.example.com. 300 IN TLSA 0 0 1 "+tlsaHex,
		"alias.example.com. 300 IN CNAME mx.example.net.",
		"mx.example.net. 300 IN A 127.0.0.2",
		"_25._tcp.mx.example.net. 300 IN TLSA 2 1 1 "+tlsaHex,
		"alias2.example.com. 300 IN CNAME mx2.example.net.",
		"mx2.example.net. 300 IN A 127.0.0.3",
		"_25._tcp.alias2.example.com. 300 IN TLSA 3 1 2 "+tlsaHex+tlsaHex,
		"tlsacname.example.com. 300 IN A 127.0.0.4",
		"_25._tcp.tlsacname.example.com. 300 IN CNAME tlsa.example.org.",
		"tlsa.example.org. 300 IN TLSA 3 0 1 "+tlsaHex,
		"notlsa.example.com. 300 IN A 127.0.0.5",
		"bogus.example.com. 300 IN A 127.0.0.6",
		"refused.example.com. 300 IN A 127.0.0.7",
		"slow.example.com. 300 IN A 127.0.0.8",
	)
	z.SetRcode("_25._tcp.bogus.example.com", dns.TypeTLSA, dns.RcodeServerFailure)
	z.SetRcode("_25._tcp.refused.example.com", dns.TypeTLSA, dns.RcodeRefused)
	z.SetTimeout("_25._tcp.slow.example.com", dns.TypeTLSA)
	z.SetAuthentic(authentic)
	s := resolvertest.Start(t, z)
	return z, s.Addr
}

func TestLookupTLSA(t *testing.T) {
	_, ns := testZone(t, true)
	_, nsInsecure := testZone(t, false)
	tests := []struct {
		ns, host string
		state    State
		auth     bool
		base     string
		names    []string
		nrecs    int
		err      error
	}{
		{ns, "mx.example.com", StateSecure, true, "mx.example.com", []string{"mx.example.com"}, 2, nil},
		{ns, "MX.Example.Com.", StateSecure, true, "mx.example.com", []string{"mx.example.com"}, 2, nil},
		{ns, "alias.example.com", StateSecure, true, "mx.example.net", []string{"mx.example.net", "alias.example.com"}, 1, nil},
		{ns, "alias2.example.com", StateSecure, true, "alias2.example.com", []string{"alias2.example.com"}, 1, nil},
		{ns, "tlsacname.example.com", StateSecure, true, "tlsacname.example.com", []string{"tlsacname.example.com"}, 1, nil},
		{ns, "notlsa.example.com", StateNone, true, "notlsa.example.com", []string{"notlsa.example.com"}, 0, nil},
		{ns, "bogus.example.com", StateBogus, false, "bogus.example.com", []string{"bogus.example.com"}, 0, ErrBogus},
		{ns, "refused.example.com", StateFailed, false, "refused.example.com", []string{"refused.example.com"}, 0, ErrPermanent},
		{ns, "slow.example.com", StateTempFail, false, "slow.example.com", []string{"slow.example.com"}, 0, ErrTemporary},
		{nsInsecure, "mx.example.com", StateInsecure, false, "mx.example.com", []string{"mx.example.com"}, 2, nil},
		// No CNAME expansion without DNSSEC: the alias itself has no TLSA.
		{nsInsecure, "alias.example.com", StateNone, false, "alias.example.com", []string{"alias.example.com"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			set, err := LookupTLSA(context.Background(), tc.host, 25, WithResolver(nsResolver(t, tc.ns, 600*time.Millisecond)))
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if set.State != tc.state || set.Authentic != tc.auth || set.BaseDomain != tc.base || len(set.Records) != tc.nrecs {
				t.Errorf("set %+v", set)
			}
			if len(set.Names) != len(tc.names) || set.Names[0] != tc.names[0] {
				t.Errorf("names %v, want %v", set.Names, tc.names)
			}
		})
	}
	if _, err := LookupTLSA(context.Background(), "", 25); err == nil {
		t.Error("empty host accepted")
	}
	if _, err := LookupTLSA(context.Background(), "mx.example.com", 70000); err == nil {
		t.Error("bad port accepted")
	}
	set, _ := LookupTLSA(context.Background(), "mx.example.com", 25, WithResolver(nsResolver(t, ns, 0)))
	want, _ := hex.DecodeString(tlsaHex)
	if string(set.Records[0].Data) != string(want) || set.UsageBits() != 8 {
		t.Errorf("records %v bits %d", set.Records, set.UsageBits())
	}
}

func TestLookupHost(t *testing.T) {
	_, ns := testZone(t, true)
	_, nsInsecure := testZone(t, false)
	addrs, secure, err := LookupHost(context.Background(), "mx.example.com", WithResolver(nsResolver(t, ns, 0)))
	if err != nil || !secure || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("secure: %v %v %v", addrs, secure, err)
	}
	_, secure, err = LookupHost(context.Background(), "mx.example.com", WithResolver(nsResolver(t, nsInsecure, 0)))
	if err != nil || secure {
		t.Errorf("insecure: %v %v", secure, err)
	}
	if _, _, err := LookupHost(context.Background(), "nowhere.example.com", WithResolver(nsResolver(t, ns, 0))); !errors.Is(err, ErrNotFound) {
		t.Errorf("nowhere: %v", err)
	}
}
