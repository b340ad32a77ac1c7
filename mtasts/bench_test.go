package mtasts

import (
	"context"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

func BenchmarkParsePolicy(b *testing.B) {
	body := []byte(enforceBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePolicy(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRecord(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRecord("v=STSv1; id=20160831085700Z;"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	p, _ := ParsePolicy([]byte(enforceBody))
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match("mx7.mail.example.com") {
			b.Fatal("no match")
		}
	}
}

// benchCache is a warmed Cache for example.com over a real DNS server;
// dnsCache entries in the resolver's cache (0: none, every Get asks
// the server over UDP).
func benchCache(b *testing.B, dnsCache int) *Cache {
	b.Helper()
	ca := newCA(b, "test CA")
	ps := startPolicyServer(b)
	ps.policy(host, ca.issue(b, host), enforceBody)
	z := resolvertest.NewZone()
	z.MustAdd(b, `_mta-sts.example.com. 300 TXT "v=STSv1; id=1"`, "example.com. 300 SOA ns hostmaster 1 3600 600 86400 60")
	srv := resolvertest.Start(b, z)
	opts := []resolver.Option{resolver.WithNameservers(srv.Addr), resolver.WithTimeout(2 * time.Second)}
	if dnsCache > 0 {
		opts = append(opts, resolver.WithCache(dnsCache))
	}
	r, err := resolver.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	c := &Cache{Resolver: r, Fetcher: ps.fetcher(ca)}
	if res := c.Get(context.Background(), "example.com"); res.Policy == nil {
		b.Fatal(res.Err)
	}
	return c
}

// The lookup a delivery makes: the TXT record from the resolver's TTL
// cache (the MTA's resolver has one), the policy from the Cache.
func BenchmarkCacheGet(b *testing.B) {
	c := benchCache(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Get(ctx, "example.com"); !r.Cached || r.Policy == nil {
			b.Fatal(r.Err)
		}
	}
}

// The same with the TXT query sent to the DNS server each time.
func BenchmarkCacheGetUncachedDNS(b *testing.B) {
	c := benchCache(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Get(ctx, "example.com"); !r.Cached || r.Policy == nil {
			b.Fatal(r.Err)
		}
	}
}
