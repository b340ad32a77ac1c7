package dkim

import (
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// *resolver.Resolver must satisfy the engine's interface without an
// adapter: that is what lets a server share one resolver.
var (
	_ Resolver = (*resolver.Resolver)(nil)
	_ Resolver = resolver.NetResolver{}
)

// nsResolver is a resolver asking only addr, with a whole-query timeout
// (0: the default). tb may be nil where none is at hand: a bad address
// then panics.
func nsResolver(tb testing.TB, addr string, timeout time.Duration) *resolver.Resolver {
	if tb != nil {
		tb.Helper()
	}
	opts := []resolver.Option{resolver.WithNameservers(addr)}
	if timeout > 0 {
		opts = append(opts, resolver.WithTimeout(timeout))
	}
	r, err := resolver.New(opts...)
	if err != nil && tb == nil {
		panic(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
