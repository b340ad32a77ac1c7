package resolver

import (
	"context"
	"testing"

	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// benchResolver serves one SPF-sized TXT record and returns a resolver
// for it with opts.
func benchResolver(b *testing.B, opts ...Option) (*Resolver, *resolvertest.Zone) {
	b.Helper()
	z := resolvertest.NewZone()
	z.MustAdd(b, `example.com. 300 TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all"`)
	s := resolvertest.Start(b, z)
	r, err := New(append([]Option{WithNameservers(s.Addr)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return r, z
}

func benchLookup(b *testing.B, r *Resolver) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.LookupTXT(ctx, "example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryUncached is a loopback round trip per lookup.
func BenchmarkQueryUncached(b *testing.B) {
	r, _ := benchResolver(b)
	benchLookup(b, r)
}

// BenchmarkQueryCached is a cache hit per lookup, after one miss.
func BenchmarkQueryCached(b *testing.B) {
	r, z := benchResolver(b, WithCache(1000))
	benchLookup(b, r)
	if z.Queries() != 1 {
		b.Fatalf("%d queries reached the server, want 1", z.Queries())
	}
}

// BenchmarkQueryCachedParallel is cache hits from every P at once: one
// Resolver shared by a whole mail server contends on the cache's lock.
func BenchmarkQueryCachedParallel(b *testing.B) {
	r, _ := benchResolver(b, WithCache(1000))
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.LookupTXT(ctx, "example.com"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
