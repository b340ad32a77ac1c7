//go:build interop

// Interop tests that need more than the shared Redis peer's address:
// its unix socket, and a private redis-server (own REDIS_STATE and
// REDIS_PORT, so that stopping it disturbs nobody) taken down and
// brought back mid-test.
//
// MAILPOLICY_INTEROP_REQUIRED=1 turns a missing peer into a failure.

package redisstore

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/ratelimit"
	"github.com/mailpolicy/mailpolicy/internal/peertest"
)

// privateRedis is a redis-server of the test's own, started by the
// shared peer script with a state directory and port of its own.
type privateRedis struct {
	t     *testing.T
	addr  string
	env   []string
	state string
}

func startPrivateRedis(t *testing.T) *privateRedis {
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
	r := &privateRedis{t: t, addr: "127.0.0.1:" + port, state: state,
		env: []string{"REDIS_STATE=" + state, "REDIS_PORT=" + port}}
	t.Cleanup(func() {
		r.stop()
		os.RemoveAll(state)
	})
	r.start()
	return r
}

func (r *privateRedis) start() {
	r.t.Helper()
	if out, err := peertest.Run(peertest.SharedScript("peer-redis.sh"), r.env, "start"); err != nil {
		peertest.Unavailable(r.t, "redis (private)", "%v: %s", err, out)
	}
}

func (r *privateRedis) stop() {
	r.t.Helper()
	peertest.Run(peertest.SharedScript("peer-redis.sh"), r.env, "stop")
	for deadline := time.Now().Add(10 * time.Second); peertest.Listening(r.addr); {
		if time.Now().After(deadline) {
			r.t.Fatalf("private Redis on %s still listening after stop", r.addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Redis goes away mid-test: every store answers with an error, within
// its timeout, not with a result; when Redis is back the same client
// works again without being reopened.
func TestInteropRedisDownAndBack(t *testing.T) {
	r := startPrivateRedis(t)
	const timeout = 500 * time.Millisecond
	c, err := Open("redis://"+r.addr+"/0", timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srs := NewSRS(c, DefaultSRSPrefix, timeout)
	rl := NewRateLimit(c, DefaultPrefix)
	hist := NewHistory(c, DefaultPrefix, timeout)
	ctx := context.Background()
	ev := ratelimit.Event{Now: time.Now(), Count: 1, Period: time.Hour, Limit: 10}
	all := func() []error {
		var errs []error
		errs = append(errs, srs.Put("K", "a@b.test", time.Now().Add(time.Hour)))
		_, _, err := srs.Get("K", time.Now())
		errs = append(errs, err)
		actx, cancel := context.WithTimeout(ctx, timeout)
		_, err = rl.Apply(actx, "k", ev)
		cancel()
		errs = append(errs, err)
		errs = append(errs, hist.Append(historyEntry("j", time.Now())))
		return errs
	}
	for i, err := range all() {
		if err != nil {
			t.Fatalf("with Redis up, operation %d: %v", i, err)
		}
	}
	r.stop()
	start := time.Now()
	for i, err := range all() {
		if err == nil {
			t.Errorf("with Redis down, operation %d succeeded", i)
		}
	}
	if d := time.Since(start); d > 4*timeout+2*time.Second {
		t.Errorf("four failing operations took %s", d)
	}
	r.start()
	for i, err := range all() {
		if err != nil {
			t.Errorf("with Redis back, operation %d: %v", i, err)
		}
	}
}

func TestInteropUnixSocket(t *testing.T) {
	redisAddr(t)
	sock := filepath.Join(peertest.Env("REDIS_STATE", "/tmp/peers/redis"), "redis.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Skipf("no Redis socket: %v", err)
	}
	prefix := testPrefix(t)
	for _, addr := range []string{sock, "unix://" + sock + "?db=0"} {
		c := testClient(t, addr, prefix)
		s := NewSRS(c, prefix, 2*time.Second)
		if err := s.Put("K", "a@b.test", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Get("K", time.Now()); err != nil || !ok || got != "a@b.test" {
			t.Fatalf("%s: Get over the socket: %q %v %v", addr, got, ok, err)
		}
	}
}
