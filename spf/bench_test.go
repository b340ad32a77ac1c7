package spf_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	blspf "blitiri.com.ar/go/spf"

	"github.com/mailpolicy/mailpolicy/spf"
)

// benchZone is the one in-memory zone every Check benchmark uses, for
// both engines.
var benchZone = newMemZone(memRecords{
	TXT: map[string][]string{
		// include3: a three-level include chain ending in ip4.
		"a.example": {"v=spf1 include:b.example -all"},
		"b.example": {"v=spf1 include:c.example -all"},
		"c.example": {"v=spf1 ip4:192.0.2.0/24 -all"},

		// mxmix: a and mx, the client being the last MX host.
		"mxmix.example": {"google-site-verification=abc", "v=spf1 a mx -all"},

		// failall: nothing matches, -all decides.
		"failall.example": {"v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 ip6:2001:db8::/32 a mx -all"},
	},
	A: map[string][]string{
		"mxmix.example":     {"198.51.100.1", "2001:db8:1::1"},
		"mx1.mxmix.example": {"198.51.100.11", "2001:db8:1::11"},
		"mx2.mxmix.example": {"198.51.100.12", "2001:db8:1::12"},
		"mx3.mxmix.example": {"198.51.100.13", "2001:db8:1::13"},

		"failall.example":    {"198.51.100.50"},
		"mx.failall.example": {"198.51.100.51"},
	},
	MX: map[string][]string{
		"mxmix.example":   {"mx1.mxmix.example", "mx2.mxmix.example", "mx3.mxmix.example"},
		"failall.example": {"mx.failall.example"},
	},
})

type benchCase struct {
	name         string
	ip           string
	sender, helo string
	want         string // result word, the same for both engines
}

var benchCases = []benchCase{
	{"include3", "192.0.2.10", "alice@a.example", "mail.a.example", "pass"},
	{"mxmix", "198.51.100.13", "bob@mxmix.example", "mx3.mxmix.example", "pass"},
	{"failall", "192.0.2.99", "carol@failall.example", "mail.failall.example", "fail"},
}

// BenchmarkCheck compares spf.Check with blitiri's CheckHostWithSender on
// the same in-memory data. Options are built once, outside the loop, for
// both engines.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	ours := []spf.Option{
		spf.WithResolver(memOurs{benchZone}),
		spf.WithReceiver("mx.example.org"),
		spf.WithLocalhostPass(false),
	}
	theirs := []blspf.Option{
		blspf.WithResolver(memBlitiri{benchZone}),
		blspf.WithContext(ctx),
	}
	for _, bc := range benchCases {
		ip := netip.MustParseAddr(bc.ip)
		nip := net.ParseIP(bc.ip)
		b.Run(bc.name, func(b *testing.B) {
			b.Run("mailpolicy", func(b *testing.B) {
				if o := spf.Check(ctx, ip, bc.sender, bc.helo, ours...); o.Result.String() != bc.want {
					b.Fatalf("spf.Check = %s (%v), want %s", o.Result, o.Err, bc.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					spf.Check(ctx, ip, bc.sender, bc.helo, ours...)
				}
			})
			b.Run("blitiri", func(b *testing.B) {
				if r, err := blspf.CheckHostWithSender(nip, bc.helo, bc.sender, theirs...); string(r) != bc.want {
					b.Fatalf("blitiri = %s (%v), want %s", r, err, bc.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					_, _ = blspf.CheckHostWithSender(nip, bc.helo, bc.sender, theirs...)
				}
			})
		})
	}
}

// TestMemZoneNoAlloc keeps the benchmarks honest: the in-memory resolvers
// must not allocate, so their cost is negligible and the same for both
// engines.
func TestMemZoneNoAlloc(t *testing.T) {
	ctx := context.Background()
	var ours spf.Resolver = memOurs{benchZone}
	var theirs blspf.DNSResolver = memBlitiri{benchZone}
	addr := netip.MustParseAddr("198.51.100.13")
	allocs := testing.AllocsPerRun(100, func() {
		_, _, _ = ours.LookupTXT(ctx, "a.example")
		_, _, _ = ours.LookupTXT(ctx, "nx.example")
		_, _, _ = ours.LookupNetIP(ctx, "ip4", "mx3.mxmix.example")
		_, _, _ = ours.LookupNetIP(ctx, "ip6", "failall.example")
		_, _, _ = ours.LookupMX(ctx, "mxmix.example")
		_, _, _ = ours.LookupAddr(ctx, addr)
		_, _ = theirs.LookupTXT(ctx, "a.example")
		_, _ = theirs.LookupTXT(ctx, "nx.example")
		_, _ = theirs.LookupIPAddr(ctx, "mx3.mxmix.example.")
		_, _ = theirs.LookupMX(ctx, "mxmix.example")
		_, _ = theirs.LookupAddr(ctx, "198.51.100.13")
	})
	if allocs != 0 {
		t.Fatalf("in-memory resolvers allocate %v times per round, want 0", allocs)
	}
	// Both adapters see the same data.
	txt, _, err := ours.LookupTXT(ctx, "mxmix.example")
	txt2, err2 := theirs.LookupTXT(ctx, "mxmix.example")
	if err != nil || err2 != nil || len(txt) != 2 || len(txt2) != 2 {
		t.Fatalf("TXT mxmix.example: ours %q %v, blitiri %q %v", txt, err, txt2, err2)
	}
	if _, _, err := ours.LookupNetIP(ctx, "ip6", "failall.example"); err != spf.ErrNoData {
		t.Fatalf("AAAA failall.example: %v, want ErrNoData", err)
	}
	if _, _, err := ours.LookupTXT(ctx, "nx.example"); err != spf.ErrNotFound {
		t.Fatalf("TXT nx.example: %v, want ErrNotFound", err)
	}
}
