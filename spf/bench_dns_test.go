package spf_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	blspf "blitiri.com.ar/go/spf"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
	"github.com/mailpolicy/mailpolicy/spf"
)

// benchZoneText is benchZone as a master file, for the benchmarks that
// go through real DNS on loopback. The SOA gives denials a negative TTL,
// so the cache can keep them too.
const benchZoneText = `
$TTL 300
example.               IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
a.example.             IN TXT "v=spf1 include:b.example -all"
b.example.             IN TXT "v=spf1 include:c.example -all"
c.example.             IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mxmix.example.         IN TXT "google-site-verification=abc"
mxmix.example.         IN TXT "v=spf1 a mx -all"
failall.example.       IN TXT "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 ip6:2001:db8::/32 a mx -all"
mxmix.example.         IN A    198.51.100.1
mxmix.example.         IN AAAA 2001:db8:1::1
mx1.mxmix.example.     IN A    198.51.100.11
mx1.mxmix.example.     IN AAAA 2001:db8:1::11
mx2.mxmix.example.     IN A    198.51.100.12
mx2.mxmix.example.     IN AAAA 2001:db8:1::12
mx3.mxmix.example.     IN A    198.51.100.13
mx3.mxmix.example.     IN AAAA 2001:db8:1::13
failall.example.       IN A    198.51.100.50
mx.failall.example.    IN A    198.51.100.51
mxmix.example.         IN MX 10 mx1.mxmix.example.
mxmix.example.         IN MX 20 mx2.mxmix.example.
mxmix.example.         IN MX 30 mx3.mxmix.example.
failall.example.       IN MX 10 mx.failall.example.
`

// BenchmarkCheckDNS is BenchmarkCheck through real DNS: the resolver
// package against resolvertest on 127.0.0.1, without and with its cache,
// and blitiri through Go's own resolver dialling the same server. It
// reports the DNS queries the server saw per check.
func BenchmarkCheckDNS(b *testing.B) {
	ctx := context.Background()
	zone := resolvertest.MustParseZone(b, benchZoneText)
	srv := resolvertest.Start(b, zone)
	newResolver := func(opts ...resolver.Option) *resolver.Resolver {
		r, err := resolver.New(append([]resolver.Option{resolver.WithNameservers(srv.Addr)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	goResolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr)
	}}
	for _, bc := range benchCases {
		ip := netip.MustParseAddr(bc.ip)
		nip := net.ParseIP(bc.ip)
		b.Run(bc.name, func(b *testing.B) {
			for _, mode := range []struct {
				name string
				r    *resolver.Resolver
			}{
				{"mailpolicy", newResolver()},
				{"mailpolicy-cached", newResolver(resolver.WithCache(1000))},
			} {
				b.Run(mode.name, func(b *testing.B) {
					opts := []spf.Option{spf.WithResolver(mode.r), spf.WithReceiver("mx.example.org")}
					if o := spf.Check(ctx, ip, bc.sender, bc.helo, opts...); o.Result.String() != bc.want {
						b.Fatalf("spf.Check = %s (%v), want %s", o.Result, o.Err, bc.want)
					}
					b.ReportAllocs()
					before := zone.Queries()
					for b.Loop() {
						spf.Check(ctx, ip, bc.sender, bc.helo, opts...)
					}
					b.ReportMetric(float64(zone.Queries()-before)/float64(b.N), "queries/op")
				})
			}
			b.Run("blitiri", func(b *testing.B) {
				theirs := []blspf.Option{blspf.WithResolver(goResolver), blspf.WithContext(ctx)}
				if r, err := blspf.CheckHostWithSender(nip, bc.helo, bc.sender, theirs...); string(r) != bc.want {
					b.Fatalf("blitiri = %s (%v), want %s", r, err, bc.want)
				}
				b.ReportAllocs()
				before := zone.Queries()
				for b.Loop() {
					_, _ = blspf.CheckHostWithSender(nip, bc.helo, bc.sender, theirs...)
				}
				b.ReportMetric(float64(zone.Queries()-before)/float64(b.N), "queries/op")
			})
		})
	}
}

// TestCacheSavesQueries is the cache's promise for SPF: after the first
// check, the same check sends nothing, and its outcome is the same.
func TestCacheSavesQueries(t *testing.T) {
	ctx := context.Background()
	zone := resolvertest.MustParseZone(t, benchZoneText)
	srv := resolvertest.Start(t, zone)
	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithCache(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, bc := range benchCases {
		ip := netip.MustParseAddr(bc.ip)
		first := spf.Check(ctx, ip, bc.sender, bc.helo, spf.WithResolver(r))
		sent := zone.Queries()
		again := spf.Check(ctx, ip, bc.sender, bc.helo, spf.WithResolver(r))
		if got := zone.Queries() - sent; got != 0 {
			t.Errorf("%s: %d queries on the second check, want 0", bc.name, got)
		}
		if first.Result.String() != bc.want || again.Result != first.Result || again.Received != first.Received {
			t.Errorf("%s: first %s, again %s (want %s)", bc.name, first.Result, again.Result, bc.want)
		}
	}
	if s := r.Stats(); s.CacheHits == 0 || s.Queries != s.CacheMisses {
		t.Errorf("stats %+v: want hits, and every query sent counted as a miss", s)
	}
}
