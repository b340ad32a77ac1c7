//go:build interop

// SRS database mode end to end through the MTA with the Redis store
// (redisstore.SRS),
// against the shared redis-server peer (../../../../shared/peers/README.md §6).

package mta

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/srs"
	"github.com/redis/go-redis/v9"
)

// redisPeer makes sure the Redis peer runs and returns its address.
func redisPeer(t *testing.T) string {
	t.Helper()
	addr := "127.0.0.1:" + peertest.Env("REDIS_PORT", "6379")
	peertest.Ensure(t, "redis", addr, peertest.SharedScript("peer-redis.sh"))
	return addr
}

// SRS database mode through the MTA: a forwarded message whose SRS0
// address would be too long gets a database alias kept in Redis; after
// a restart (new Server, new store, same Redis) a bounce to that alias
// goes back to the original sender.
func TestRedisSRSDatabaseModeEndToEnd(t *testing.T) {
	addr := redisPeer(t)
	prefix := fmt.Sprintf("mailpolicy:test:%s:%d:", t.Name(), time.Now().UnixNano())
	f := startFake(t, &fakeSMTP{}, "127.0.0.2")
	const longDomain = "a-rather-long-subdomain-name.sender.test"
	sender := "a-rather-long-local-part-0123456789@" + longDomain
	zone := append([]string{longDomain + ". MX 10 mx.remote.test."}, remoteZone...)
	var clients []*redis.Client
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	// A store on a client of its own, which close closes (Redis gone,
	// as far as the store can tell).
	newRW := func() (*srs.Rewriter, *redisstore.SRS, func()) {
		rc, err := redisstore.Open(addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, rc)
		st := redisstore.NewSRS(rc, prefix, 2*time.Second)
		rw, err := srs.New(srs.Config{Domain: "example.org", Secrets: []string{"s3cret"}, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return rw, st, func() { rc.Close() }
	}
	mod := func(rw *srs.Rewriter) func(*Config) {
		return func(c *Config) {
			c.RelayFrom = nil
			c.SRS, c.SRSDomain = rw, "example.org"
			c.Forwards = map[string]string{"fwd@example.com": "bob@remote.test"}
		}
	}
	rw, st, closeStore := newRW()
	o := startOut(t, f.port, zone, mod(rw))
	if code, msg := o.send(t, sender, []string{"fwd@example.com"}, "Subject: forward\n\nx\n"); code != 250 {
		t.Fatalf("forward: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "forwarded copy", func() bool { return len(f.messages()) == 1 })
	m := f.messages()[0]
	alias := regexp.MustCompile(`^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=1=([A-Z2-7]{32})@example\.org$`).FindStringSubmatch(m.from)
	if alias == nil || m.rcpts[0] != "bob@remote.test" {
		t.Fatalf("forwarded copy: from %q to %v", m.from, m.rcpts)
	}
	if got, ok, err := st.Get(alias[1], time.Now()); err != nil || !ok || got != sender {
		t.Fatalf("Redis holds %q %v %v under %s", got, ok, err, prefix+alias[1])
	}

	// Restart: the old server and store go away.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.ts.srv.Shutdown(ctx)
	closeStore()
	rw2, st2, closeStore2 := newRW()
	o2 := startOut(t, f.port, zone, mod(rw2))
	// The remote bounces to the alias, with its key in lower case for
	// good measure: it goes back to the original sender.
	lower := strings.Replace(m.from, alias[1], strings.ToLower(alias[1]), 1)
	if code, msg := o2.send(t, "", []string{lower}, "Subject: bounce\n\nx\n"); code != 250 {
		t.Fatalf("bounce to the alias: %d %s", code, msg)
	}
	waitFor(t, 10*time.Second, "bounce relayed", func() bool { return len(f.messages()) == 2 })
	if b := f.messages()[1]; b.from != "" || len(b.rcpts) != 1 || b.rcpts[0] != sender {
		t.Errorf("bounce went %q → %v", b.from, b.rcpts)
	}
	c := dial(t, o2.ts.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<>", 250)
	// An alias whose key is no longer in Redis is refused for good.
	if err := st2.Put(alias[1], sender, time.Now().Add(-time.Second)); err != nil { // an expired Put deletes
		t.Fatal(err)
	}
	if code, msg := c.cmd("RCPT TO:<" + m.from + ">"); code != 550 {
		t.Errorf("unknown alias: %d %s", code, msg)
	}
	// Redis gone (the store closed): 451, not 550.
	closeStore2()
	if code, msg := c.cmd("RCPT TO:<" + m.from + ">"); code != 451 || !strings.Contains(msg, "4.3.0") {
		t.Errorf("alias with the store failing: %d %s", code, msg)
	}
}
