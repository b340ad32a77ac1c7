//go:build interop

// The shared checks through the MTA with real Redis: two instances
// meeting one rate limit in the shared redis-server peer
// (../../../../shared/peers/README.md §6), and a private redis-server
// (its own REDIS_STATE and REDIS_PORT, so that stopping it disturbs no
// one) stopped mid-test: every check that needs it defers, none passes,
// and the DMARC history's failure does not cost the message.

package mta

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
	"github.com/mailpolicy/mailpolicy/examples/mta/internal/redisstore"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
	"github.com/mailpolicy/mailpolicy/srs"
	"github.com/redis/go-redis/v9"
)

func rlRedisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c, err := redisstore.Open(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Two instances, one client: per_mail 4 / 1h holds for the pair, each
// instance taking some of the four.
func TestInteropRateLimitTwoInstances(t *testing.T) {
	addr := redisPeer(t)
	prefix := fmt.Sprintf("mailpolicy:test:%s:%d:", t.Name(), time.Now().UnixNano())
	var servers []*testServer
	for range 2 {
		st := redisstore.NewRateLimit(rlRedisClient(t, addr), prefix)
		servers = append(servers, start(t, func(c *Config) {
			c.RateLimits = &RateLimits{Limiter: &ratelimit.Limiter{Store: st}, Mail: mustRule(t, "4 / 1h")}
		}))
	}
	var clients []*client
	for _, ts := range servers {
		c := dial(t, ts.addr)
		c.ok("EHLO client.test", 250)
		clients = append(clients, c)
	}
	ok := [2]int{}
	for i := range 10 {
		c := clients[i%2]
		code, msg := c.cmd("MAIL FROM:<a@sender.test>")
		switch {
		case code == 250:
			ok[i%2]++
			c.ok("RSET", 250)
		case code == 451 && msg == "4.7.1 Sender rate exceeds 4 messages per 1h":
		default:
			t.Fatalf("MAIL %d: %d %s", i, code, msg)
		}
	}
	if ok[0]+ok[1] != 4 || ok[0] == 0 || ok[1] == 0 {
		t.Errorf("accepted %v, want 4 in all from both instances", ok)
	}
}

// rlPrivateRedis is a redis-server of the test's own.
type rlPrivateRedis struct {
	t    *testing.T
	addr string
	env  []string
}

func rlStartPrivateRedis(t *testing.T) *rlPrivateRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	state, err := os.MkdirTemp("", "redis-private-")
	if err != nil {
		t.Fatal(err)
	}
	r := &rlPrivateRedis{t: t, addr: "127.0.0.1:" + port, env: []string{"REDIS_STATE=" + state, "REDIS_PORT=" + port}}
	t.Cleanup(func() {
		r.stop()
		os.RemoveAll(state)
	})
	r.start()
	return r
}

func (r *rlPrivateRedis) start() {
	r.t.Helper()
	if out, err := peertest.Run(peertest.SharedScript("peer-redis.sh"), r.env, "start"); err != nil {
		peertest.Unavailable(r.t, "redis (private)", "%v: %s", err, out)
	}
}

func (r *rlPrivateRedis) stop() {
	r.t.Helper()
	peertest.Run(peertest.SharedScript("peer-redis.sh"), r.env, "stop")
	for deadline := time.Now().Add(10 * time.Second); peertest.Listening(r.addr); {
		if time.Now().After(deadline) {
			r.t.Fatalf("private Redis on %s still listening after stop", r.addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Redis down: the rate limits defer at connect (421 4.3.0), MAIL and
// RCPT (451 4.3.0), an SRS alias defers at RCPT (451 4.3.0), and a
// message whose DMARC history cannot be stored is delivered, the
// failure counted. Redis back: the same servers work again.
func TestInteropRedisDownDefers(t *testing.T) {
	r := rlStartPrivateRedis(t)
	rc := rlRedisClient(t, "redis://"+r.addr+"/0")
	limiter := &ratelimit.Limiter{Store: redisstore.NewRateLimit(rc, redisstore.DefaultPrefix)}
	history := redisstore.NewHistory(rc, redisstore.DefaultPrefix, time.Second)
	rw, err := srs.New(srs.Config{Domain: "example.org", Secrets: []string{"s3cret"}, Store: redisstore.NewSRS(rc, redisstore.DefaultSRSPrefix, time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	connSrv := start(t, func(c *Config) {
		c.RateLimits = &RateLimits{Limiter: limiter, Conn: mustRule(t, "100 / 1h")}
	})
	txSrv := start(t, func(c *Config) {
		c.RateLimits = &RateLimits{Limiter: limiter, Mail: mustRule(t, "100 / 1h"), Rcpt: mustRule(t, "100 / 1h")}
	})
	m := metrics.New()
	srsSrv := start(t, func(c *Config) {
		c.SRS, c.SRSDomain, c.Spool = rw, "example.org", t.TempDir()
		c.History, c.Metrics = history, m
	})
	// A database alias, stored in Redis.
	alias, err := rw.Forward("a-rather-long-local-part-0123456789@a-rather-long-subdomain-name.sender.test")
	if err != nil || !strings.Contains(alias, "=1=") {
		t.Fatalf("alias %q %v", alias, err)
	}
	up := func(when string) {
		t.Helper()
		if _, _, line := dialFrom(t, "127.0.0.1", connSrv.addr); !strings.HasPrefix(line, "220 ") {
			t.Errorf("%s: connect %q", when, line)
		}
		c := dial(t, txSrv.addr)
		c.ok("EHLO client.test", 250)
		c.ok("MAIL FROM:<a@sender.test>", 250)
		c.ok("RCPT TO:<bob@example.com>", 250)
		c = dial(t, srsSrv.addr)
		c.ok("EHLO client.test", 250)
		c.ok("MAIL FROM:<>", 250)
		c.ok("RCPT TO:<"+alias+">", 250)
	}
	up("Redis up")
	c := dial(t, srsSrv.addr)
	c.ok("EHLO client.test", 250)
	if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Fatalf("message with Redis up: %d %s", code, msg)
	}
	day := time.Now().Add(-time.Hour)
	if es, err := history.Entries(context.Background(), day, time.Now().Add(time.Hour)); err != nil || len(es) != 1 || es[0].From != "sender.test" {
		t.Fatalf("history: %+v %v", es, err)
	}

	r.stop()
	if _, _, line := dialFrom(t, "127.0.0.1", connSrv.addr); line != "421 4.3.0 mx.example Temporary local problem - please try later\r\n" {
		t.Errorf("connect with Redis down: %q", line)
	}
	c = dial(t, txSrv.addr)
	c.ok("EHLO client.test", 250)
	if msg := c.ok("MAIL FROM:<a@sender.test>", 451); !strings.HasPrefix(msg, "4.3.0 ") {
		t.Errorf("MAIL with Redis down: %q", msg)
	}
	c = dial(t, srsSrv.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<>", 250)
	if msg := c.ok("RCPT TO:<"+alias+">", 451); !strings.HasPrefix(msg, "4.3.0 ") {
		t.Errorf("SRS alias with Redis down: %q", msg)
	}
	c.ok("RSET", 250)
	before := len(srsSrv.files(t, ""))
	if code, msg := c.send("alice@sender.test", []string{"bob@example.com"}, signed(t, plainMsg)); code != 250 {
		t.Errorf("message with the history down: %d %s", code, msg)
	}
	if n := len(srsSrv.files(t, "")); n != before+1 {
		t.Errorf("%d messages delivered, want %d", n, before+1)
	}
	if n := sample(t, m, "mta_dmarc_history_failures_total"); n != 1 {
		t.Errorf("history failures: %v", n)
	}
	// With Rcpt only (Mail passing), RCPT itself defers.
	rcptSrv := start(t, func(c *Config) {
		c.RateLimits = &RateLimits{Limiter: limiter, Rcpt: mustRule(t, "100 / 1h")}
	})
	c = dial(t, rcptSrv.addr)
	c.ok("EHLO client.test", 250)
	c.ok("MAIL FROM:<a@sender.test>", 250)
	if msg := c.ok("RCPT TO:<bob@example.com>", 451); !strings.HasPrefix(msg, "4.3.0 ") {
		t.Errorf("RCPT with Redis down: %q", msg)
	}

	r.start()
	up("Redis back")
}
