//go:build interop

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// Instances sharing Redis claim a DMARC interval once: the first gets
// it and keeps it when it asks again (a retry after a crash); another
// host does not; the next interval is a claim of its own.
func TestRedisClaim(t *testing.T) {
	addr := "127.0.0.1:" + peertest.Env("REDIS_PORT", "6379")
	peertest.Ensure(t, "redis", addr, peertest.SharedScript("peer-redis.sh"))
	rc, err := redisstore.Open(addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	prefix := fmt.Sprintf("mailpolicy:test:%s:%d:", t.Name(), time.Now().UnixNano())
	settings := func(host string) config.Settings {
		s := config.Default()
		s.Hostname, s.RedisPrefix = host, prefix
		return s
	}
	mx1, mx2 := redisClaim(rc, settings("mx1.example")), redisClaim(rc, settings("mx2.example"))
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		claim func(context.Context, time.Time, time.Time) (bool, error)
		begin time.Time
		want  bool
	}{
		{"first", mx1, day, true},
		{"other host", mx2, day, false},
		{"first again", mx1, day, true},
		{"next day, other host first", mx2, day.Add(24 * time.Hour), true},
		{"next day, first host", mx1, day.Add(24 * time.Hour), false},
	} {
		got, err := c.claim(ctx, c.begin, c.begin.Add(24*time.Hour))
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
	if ttl := rc.TTL(ctx, prefix+fmt.Sprintf("dmarc-report:%d-%d", day.Unix(), day.Add(24*time.Hour).Unix())).Val(); ttl <= 0 {
		t.Errorf("claim without expiry: %v", ttl)
	}
}
