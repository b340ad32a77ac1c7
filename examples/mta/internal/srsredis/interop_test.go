//go:build interop

// Interop tests of the Redis srs.Store (srsredis.go) against the shared
// redis-server 7.0 peer (../../../shared/peers/README.md §6) on
// 127.0.0.1:$REDIS_PORT, and of SRS database mode end to end through
// the MTA with that store.
//
// MAILPOLICY_INTEROP_REQUIRED=1 turns a missing peer into a failure.

package srsredis

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// redisPeer makes sure the Redis peer runs and returns its address.
func redisPeer(t *testing.T) string {
	t.Helper()
	addr := "127.0.0.1:" + peertest.Env("REDIS_PORT", "6379")
	peertest.Ensure(t, "redis", addr, peertest.SharedScript("peer-redis.sh"))
	return addr
}

// testPrefix is a key prefix of this test alone.
func testPrefix(t *testing.T) string {
	return fmt.Sprintf("mailpolicy:test:%s:%d:", t.Name(), time.Now().UnixNano())
}

func newTestRedisStore(t *testing.T, addr, prefix string) *Store {
	t.Helper()
	s, err := New(addr, prefix, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawRedis is a second, plain connection for checks behind the store's
// back.
type rawRedis struct {
	t *testing.T
	c *redisConn
}

func dialRedis(t *testing.T, addr string) *rawRedis {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawRedis{t: t, c: &redisConn{c: c, br: newRESPReader(c)}}
}

func (r *rawRedis) do(args ...string) respReply {
	r.t.Helper()
	rep, err := r.c.roundTrip(appendCommand(nil, args...), time.Now().Add(2*time.Second))
	if err != nil {
		r.t.Fatalf("%q: %v", args, err)
	}
	return rep
}

func TestRedisStorePutGet(t *testing.T) {
	addr := redisPeer(t)
	prefix := testPrefix(t)
	s := newTestRedisStore(t, addr, prefix)
	orig := "a-long-local-part@a-long-domain.sender.test"
	if err := s.Put("KEY1", orig, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Get("KEY1", time.Now()); err != nil || !ok || got != orig {
		t.Fatalf("Get: %q %v %v", got, ok, err)
	}
	if got, ok, err := s.Get("MISSING", time.Now()); err != nil || ok || got != "" {
		t.Fatalf("Get of a missing key: %q %v %v", got, ok, err)
	}
	bin := "a\r\nb\x00c\xff$-1\r\n"
	if err := s.Put("BIN", bin, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Get("BIN", time.Now()); err != nil || !ok || got != bin {
		t.Fatalf("binary value: %q %v %v", got, ok, err)
	}
	// Behind the store's back: the key is prefix+key, with a TTL.
	raw := dialRedis(t, addr)
	if r := raw.do("GET", prefix+"KEY1"); string(r.str) != orig {
		t.Errorf("raw GET: %+v", r)
	}
	if r := raw.do("PTTL", prefix+"KEY1"); r.kind != ':' || r.n <= 3500*1000 || r.n > 3600*1000 {
		t.Errorf("PTTL: %+v", r)
	}
	// An error reply is a *RedisError and the connection stays usable.
	raw.do("SET", prefix+"LIST", "x")
	raw.do("DEL", prefix+"LIST")
	raw.do("RPUSH", prefix+"LIST", "x")
	var re *RedisError
	if _, _, err := s.Get("LIST", time.Now()); !errors.As(err, &re) || !strings.HasPrefix(re.Msg, "WRONGTYPE") {
		t.Errorf("GET of a list: %v", err)
	}
	if got, ok, err := s.Get("KEY1", time.Now()); err != nil || !ok || got != orig {
		t.Errorf("Get after an error reply: %q %v %v", got, ok, err)
	}
	raw.do("DEL", prefix+"KEY1", prefix+"BIN", prefix+"LIST")
}

func TestRedisStoreExpiry(t *testing.T) {
	s := newTestRedisStore(t, redisPeer(t), testPrefix(t))
	if err := s.Put("SHORT", "a@b.test", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get("SHORT", time.Now()); err != nil || !ok {
		t.Fatalf("before expiry: %v %v", ok, err)
	}
	time.Sleep(600 * time.Millisecond)
	if got, ok, err := s.Get("SHORT", time.Now()); err != nil || ok {
		t.Fatalf("after expiry: %q %v %v", got, ok, err)
	}
	// A non-positive TTL does not store (and removes an older value).
	if err := s.Put("PAST", "a@b.test", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, exp := range []time.Time{time.Now(), time.Now().Add(-time.Hour), {}} {
		if err := s.Put("PAST", "c@d.test", exp); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Get("PAST", time.Now()); err != nil || ok {
			t.Fatalf("Put with expiry %v: %q %v %v", exp, got, ok, err)
		}
	}
}

func TestRedisStorePrefixIsolation(t *testing.T) {
	addr := redisPeer(t)
	p := testPrefix(t)
	a := newTestRedisStore(t, addr, p+"a:")
	b := newTestRedisStore(t, addr, p+"b:")
	if err := a.Put("K", "a@a.test", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.Get("K", time.Now()); err != nil || ok {
		t.Fatalf("b sees a's key: %v %v", ok, err)
	}
	if err := b.Put("K", "b@b.test", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := a.Get("K", time.Now()); got != "a@a.test" {
		t.Errorf("a: %q", got)
	}
	if got, _, _ := b.Get("K", time.Now()); got != "b@b.test" {
		t.Errorf("b: %q", got)
	}
}

func TestRedisStoreConcurrent(t *testing.T) {
	s := newTestRedisStore(t, redisPeer(t), testPrefix(t))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for g := range 50 {
		wg.Go(func() {
			for i := range 20 {
				key := fmt.Sprintf("G%dI%d", g, i)
				want := fmt.Sprintf("user%d.%d@sender.test", g, i)
				if err := s.Put(key, want, time.Now().Add(time.Minute)); err != nil {
					errs <- err
					return
				}
				if got, ok, err := s.Get(key, time.Now()); err != nil || !ok || got != want {
					errs <- fmt.Errorf("%s: %q %v %v", key, got, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.mu.Lock()
	n := len(s.idle)
	s.mu.Unlock()
	if n == 0 || n > redisMaxConns {
		t.Errorf("%d idle connections", n)
	}
}

// Redis drops the store's connection (CLIENT KILL): the next operation
// reconnects without an error.
func TestRedisStoreReconnect(t *testing.T) {
	addr := redisPeer(t)
	s := newTestRedisStore(t, addr, testPrefix(t))
	if err := s.Put("K", "a@b.test", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	if len(s.idle) != 1 {
		s.mu.Unlock()
		t.Fatalf("%d idle connections", len(s.idle))
	}
	local := s.idle[0].c.LocalAddr().String()
	s.mu.Unlock()
	if r := dialRedis(t, addr).do("CLIENT", "KILL", "ADDR", local); r.kind != ':' || r.n != 1 {
		t.Fatalf("CLIENT KILL: %+v", r)
	}
	if got, ok, err := s.Get("K", time.Now()); err != nil || !ok || got != "a@b.test" {
		t.Fatalf("Get after CLIENT KILL: %q %v %v", got, ok, err)
	}
	s.mu.Lock()
	now := s.idle[0].c.LocalAddr().String()
	s.mu.Unlock()
	if now == local {
		t.Error("the killed connection is still in use")
	}
}

func TestRedisStoreUnixSocket(t *testing.T) {
	redisPeer(t)
	sock := filepath.Join(peertest.Env("REDIS_STATE", "/tmp/peers/redis"), "redis.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Skipf("no Redis socket: %v", err)
	}
	s := newTestRedisStore(t, sock, testPrefix(t))
	if err := s.Put("K", "a@b.test", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Get("K", time.Now()); err != nil || !ok || got != "a@b.test" {
		t.Fatalf("Get over the socket: %q %v %v", got, ok, err)
	}
}
