package mta

import (
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// nsResolver is a resolver asking only addr, as main builds from
// -nameserver, with the cache the server runs with.
func nsResolver(tb testing.TB, addr string) *resolver.Resolver {
	tb.Helper()
	r, err := resolver.New(resolver.WithNameservers(addr), resolver.WithTimeout(time.Second), resolver.WithCache(DefaultDNSCache))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
