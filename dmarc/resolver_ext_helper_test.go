package dmarc_test

import (
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/testresolver"
	"github.com/mailpolicy/mailpolicy/resolver"
)

// nsResolver is testresolver.New, under the name the tests use.
func nsResolver(tb testing.TB, addr string, timeout time.Duration) *resolver.Resolver {
	return testresolver.New(tb, addr, timeout)
}
