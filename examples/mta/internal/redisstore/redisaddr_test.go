//go:build !interop

package redisstore

import (
	"net"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// redisAddr is a Redis to test against, when one listens on
// 127.0.0.1:$REDIS_PORT (6379); the test is skipped otherwise, so that
// the unit tests run on a machine with nothing but Go. The interop
// build (interop_test.go's twin) starts the shared peer instead.
func redisAddr(t testing.TB) string {
	t.Helper()
	addr := "127.0.0.1:" + peertest.Env("REDIS_PORT", "6379")
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		t.Skipf("no Redis on %s (the interop tests start one): %v", addr, err)
	}
	c.Close()
	return addr
}
