//go:build interop

package redisstore

import (
	"testing"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// redisAddr makes sure the shared Redis peer (../../../../shared/peers
// README.md §6) runs and returns its address; the unit build's twin
// skips instead.
func redisAddr(t testing.TB) string {
	t.Helper()
	addr := "127.0.0.1:" + peertest.Env("REDIS_PORT", "6379")
	peertest.Ensure(t, "redis", addr, peertest.SharedScript("peer-redis.sh"))
	return addr
}
