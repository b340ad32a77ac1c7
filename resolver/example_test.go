package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/mailpolicy/mailpolicy/resolver/resolvertest"
)

// A Resolver with a cache, asking a test server on loopback; in
// production, leave out WithNameservers to use /etc/resolv.conf.
func Example() {
	z, err := resolvertest.ParseZone(`
$ORIGIN example.com.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN MX  20 backup
@    IN MX  10 mail
@    IN TXT "v=spf1 " "mx -all"
`)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := resolvertest.NewServer(z)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	r, err := resolver.New(resolver.WithNameservers(srv.Addr), resolver.WithCache(1000))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	mxs, _, err := r.LookupMX(ctx, "example.com")
	if err != nil {
		log.Fatal(err)
	}
	for _, mx := range mxs {
		fmt.Println("MX", mx.Pref, mx.Host)
	}
	txts, _, err := r.LookupTXT(ctx, "example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("TXT %q\n", txts)

	// NXDOMAIN is an error of its own kind, not a failure.
	_, _, err = r.LookupTXT(ctx, "nowhere.example.com")
	fmt.Println("not found:", errors.Is(err, resolver.ErrNotFound), resolver.IsNoRecord(err))

	// Asked again, all three come from the cache (the denial for the
	// SOA's 60 seconds).
	_, _, _ = r.LookupMX(ctx, "example.com")
	_, _, _ = r.LookupTXT(ctx, "example.com")
	_, _, _ = r.LookupTXT(ctx, "nowhere.example.com")
	st := r.Stats()
	fmt.Println("sent:", st.Queries, "from cache:", st.CacheHits, "held:", st.CacheEntries)
	// Output:
	// MX 10 mail.example.com
	// MX 20 backup.example.com
	// TXT ["v=spf1 mx -all"]
	// not found: true true
	// sent: 3 from cache: 3 held: 3
}

// NullMX recognises a domain that says it takes no mail (RFC 7505).
func ExampleNullMX() {
	z := resolvertest.NewZone()
	if err := z.Add("nomail.example. MX 0 ."); err != nil {
		log.Fatal(err)
	}
	srv, err := resolvertest.NewServer(z)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	r, err := resolver.New(resolver.WithNameservers(srv.Addr))
	if err != nil {
		log.Fatal(err)
	}
	mxs, _, err := r.LookupMX(context.Background(), "nomail.example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mxs[0].Host, resolver.NullMX(mxs))
	// Output:
	// . true
}
