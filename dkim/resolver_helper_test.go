package dkim

import (
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/testresolver"
	"github.com/mailpolicy/mailpolicy/resolver"
)

// *resolver.Resolver must satisfy the engine's interface without an
// adapter: that is what lets a server share one resolver.
var (
	_ Resolver = (*resolver.Resolver)(nil)
	_ Resolver = resolver.NetResolver{}
)

// nsResolver is testresolver.New, under the name the tests use.
func nsResolver(tb testing.TB, addr string, timeout time.Duration) *resolver.Resolver {
	return testresolver.New(tb, addr, timeout)
}
