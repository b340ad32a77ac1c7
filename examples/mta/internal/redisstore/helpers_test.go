package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests' failures are the errors the stores return; go-redis's
// own lines about them would only fill the output.
func init() { LogTo(slog.New(slog.DiscardHandler)) }

// testPrefix is a key prefix of this test alone.
func testPrefix(t testing.TB) string {
	return fmt.Sprintf("mailpolicy:test:%s:%d:", strings.ReplaceAll(t.Name(), "/", "."), time.Now().UnixNano())
}

// testClient opens a client on addr, closed at the end of the test,
// and removes the test's keys then.
func testClient(t testing.TB, addr, prefix string) *redis.Client {
	t.Helper()
	c, err := Open(addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, err := c.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return c
}
