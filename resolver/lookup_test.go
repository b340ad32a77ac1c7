package resolver

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/miekg/dns"
)

func TestLookupTXT(t *testing.T) {
	_, s := serve(t,
		`example.com. TXT "v=spf1 " "ip4:192.0.2.0/24 " "-all"`,
		`multi.example.com. TXT "first"`,
		`multi.example.com. TXT "second"`,
		`escapes.example.com. TXT "quote\" back\\slash caf\195\169 nul\000"`,
		`alias.example.com. CNAME example.com.`,
		`other.example.com. A 192.0.2.1`,
	)
	c := newClient(t, WithNameservers(s.Addr))

	tests := []struct {
		name    string
		want    []string
		wantErr error
	}{
		{"example.com", []string{"v=spf1 ip4:192.0.2.0/24 -all"}, nil},
		{"example.com.", []string{"v=spf1 ip4:192.0.2.0/24 -all"}, nil},
		{"EXAMPLE.com", []string{"v=spf1 ip4:192.0.2.0/24 -all"}, nil},
		{"multi.example.com", []string{"first", "second"}, nil},
		{"escapes.example.com", []string{"quote\" back\\slash café nul\x00"}, nil},
		{"alias.example.com", []string{"v=spf1 ip4:192.0.2.0/24 -all"}, nil},
		{"other.example.com", nil, ErrNoData},
		{"missing.example.com", nil, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, auth, err := c.LookupTXT(ctxT(t), tt.name)
			if tt.wantErr != nil {
				asError(t, err, tt.wantErr)
			} else if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if auth {
				t.Error("authentic without AD")
			}
		})
	}
}

func TestLookupNetIP(t *testing.T) {
	_, s := serve(t,
		`both.example. A 192.0.2.1`,
		`both.example. A 192.0.2.2`,
		`both.example. AAAA 2001:db8::1`,
		`v4.example. A 192.0.2.3`,
		`v6.example. AAAA 2001:db8::2`,
		`mapped.example. AAAA ::ffff:192.0.2.9`,
		`alias.example. CNAME v4.example.`,
		`txt.example. TXT "no addresses"`,
	)
	c := newClient(t, WithNameservers(s.Addr))
	addrs := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}

	tests := []struct {
		network, host string
		want          []netip.Addr
		wantErr       error
	}{
		{"ip4", "both.example", addrs("192.0.2.1", "192.0.2.2"), nil},
		{"ip6", "both.example", addrs("2001:db8::1"), nil},
		{"ip", "both.example", addrs("192.0.2.1", "192.0.2.2", "2001:db8::1"), nil},
		{"ip", "v4.example", addrs("192.0.2.3"), nil},
		{"ip", "v6.example", addrs("2001:db8::2"), nil},
		{"ip4", "alias.example", addrs("192.0.2.3"), nil},
		{"ip6", "v4.example", nil, ErrNoData},
		{"ip", "txt.example", nil, ErrNoData},
		{"ip", "missing.example", nil, ErrNotFound},
		{"ip4", "missing.example", nil, ErrNotFound},
		{"tcp", "v4.example", nil, ErrPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.network+"/"+tt.host, func(t *testing.T) {
			got, _, err := c.LookupNetIP(ctxT(t), tt.network, tt.host)
			if tt.wantErr != nil {
				asError(t, err, tt.wantErr)
			} else if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("mapped AAAA stays IPv6", func(t *testing.T) {
		got, _, err := c.LookupNetIP(ctxT(t), "ip6", "mapped.example")
		if err != nil || len(got) != 1 || !got[0].Is4In6() {
			t.Errorf("got %v, %v", got, err)
		}
	})
}

func TestLookupNetIPPartialFailure(t *testing.T) {
	z, s := serve(t, `flaky.example. A 192.0.2.1`, `gone.example. A 192.0.2.2`)
	z.SetRcode("flaky.example", dns.TypeAAAA, dns.RcodeServerFailure)
	z.SetRcode("gone.example", dns.TypeA, dns.RcodeServerFailure)
	c := newClient(t, WithNameservers(s.Addr))

	got, _, err := c.LookupNetIP(ctxT(t), "ip", "flaky.example")
	if err != nil || len(got) != 1 {
		t.Errorf("addresses found must be returned despite the AAAA failure: %v, %v", got, err)
	}
	// The A query failed and AAAA is empty: the failure, not the NODATA,
	// is what the caller needs to hear.
	_, _, err = c.LookupNetIP(ctxT(t), "ip", "gone.example")
	asError(t, err, ErrTemporary)
}

func TestLookupMX(t *testing.T) {
	_, s := serve(t,
		`example.com. MX 20 b.mx.example.com.`,
		`example.com. MX 10 z.mx.example.com.`,
		`example.com. MX 20 a.mx.example.com.`,
		`example.com. MX 5 first.mx.example.com.`,
		`null.example.com. MX 0 .`,
	)
	c := newClient(t, WithNameservers(s.Addr))

	got, _, err := c.LookupMX(ctxT(t), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, mx := range got {
		hosts = append(hosts, mx.Host)
	}
	// Equal preferences keep the server's order: sorting is stable.
	want := []string{"first.mx.example.com", "z.mx.example.com", "b.mx.example.com", "a.mx.example.com"}
	if !reflect.DeepEqual(hosts, want) {
		t.Errorf("got %q, want %q", hosts, want)
	}

	got, _, err = c.LookupMX(ctxT(t), "null.example.com")
	if err != nil || !reflect.DeepEqual(got, []*net.MX{{Host: ".", Pref: 0}}) {
		t.Errorf("null MX: got %v, %v", got, err)
	}

	_, _, err = c.LookupMX(ctxT(t), "missing.example.com")
	asError(t, err, ErrNotFound)
}

func TestLookupAddr(t *testing.T) {
	_, s := serve(t,
		`1.2.0.192.in-addr.arpa. PTR mail.example.com.`,
		`1.2.0.192.in-addr.arpa. PTR alt.example.com.`,
		`1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR v6.example.com.`,
	)
	c := newClient(t, WithNameservers(s.Addr))

	tests := []struct {
		addr    string
		want    []string
		wantErr error
	}{
		{"192.0.2.1", []string{"mail.example.com", "alt.example.com"}, nil},
		{"::ffff:192.0.2.1", []string{"mail.example.com", "alt.example.com"}, nil},
		{"2001:db8::1", []string{"v6.example.com"}, nil},
		{"192.0.2.99", nil, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, _, err := c.LookupAddr(ctxT(t), netip.MustParseAddr(tt.addr))
			if tt.wantErr != nil {
				asError(t, err, tt.wantErr)
			} else if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	_, _, err := c.LookupAddr(ctxT(t), netip.Addr{})
	asError(t, err, ErrPermanent)
}

func TestUnescapeTXT(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`a\"b`, `a"b`},
		{`a\\b`, `a\b`},
		{`caf\195\169`, "café"},
		{`\000\255`, "\x00\xff"},
		{`\256`, "256"}, // not an octet: the backslash just quotes '2'
		{`\12`, "12"},
		{`trailing\`, `trailing\`},
	}
	for _, tt := range tests {
		if got := unescapeTXT(tt.in); got != tt.want {
			t.Errorf("unescapeTXT(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzTXTRoundTrip checks that LookupTXT's unescaping gives back exactly
// the octets of a character-string whatever they are.
func FuzzTXTRoundTrip(f *testing.F) {
	f.Add([]byte("v=spf1 -all"))
	f.Add([]byte("\"\\\x00\xff é"))
	f.Add([]byte(strings.Repeat("0", 255)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 255 {
			data = data[:255]
		}
		// Build the RR from wire form, as a reply would carry it.
		wire := make([]byte, 0, 64+len(data))
		rdlen := len(data) + 1
		wire = append(wire, 1, 'x', 0, 0, 16, 0, 1, 0, 0, 0, 0, byte(rdlen>>8), byte(rdlen), byte(len(data)))
		wire = append(wire, data...)
		rr, _, err := dns.UnpackRR(wire, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s := unescapeTXT(strings.Join(rr.(*dns.TXT).Txt, "")); s != string(data) {
			t.Errorf("got %q, want %q", s, data)
		}
	})
}

func BenchmarkLookupTXT(b *testing.B) {
	z := resolvertest.NewZone()
	z.MustAdd(b, `example.com. TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all"`)
	s := resolvertest.Start(b, z)
	c, err := New(WithNameservers(s.Addr))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.LookupTXT(ctx, "example.com"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
