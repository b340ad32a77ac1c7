// Package testresolver builds the resolver.Resolver the engines' tests
// point at a resolvertest server. It cannot live in resolvertest:
// resolver's own tests import resolvertest, so resolvertest must not
// import resolver.
package testresolver

import (
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
)

// New is a resolver asking only addr, with a whole-query timeout (0: the
// default) and the given extra options. tb may be nil where none is at
// hand: a bad address then panics.
func New(tb testing.TB, addr string, timeout time.Duration, extra ...resolver.Option) *resolver.Resolver {
	if tb != nil {
		tb.Helper()
	}
	opts := append([]resolver.Option{resolver.WithNameservers(addr)}, extra...)
	if timeout > 0 {
		opts = append(opts, resolver.WithTimeout(timeout))
	}
	r, err := resolver.New(opts...)
	switch {
	case err != nil && tb == nil:
		panic(err)
	case err != nil:
		tb.Fatal(err)
	}
	return r
}
