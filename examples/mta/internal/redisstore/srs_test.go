package redisstore

// SRS store tests against a real Redis (redisAddr: skipped without
// one in the unit build, the shared peer in the interop build).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSRSPutGet(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	c := testClient(t, addr, prefix)
	s := NewSRS(c, prefix, 2*time.Second)
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
	ctx := context.Background()
	if v := c.Get(ctx, prefix+"KEY1").Val(); v != orig {
		t.Errorf("raw GET: %q", v)
	}
	if ttl := c.PTTL(ctx, prefix+"KEY1").Val(); ttl <= 3500*time.Second || ttl > time.Hour {
		t.Errorf("PTTL: %v", ttl)
	}
	// An error reply is Redis's error, and the client stays usable.
	c.RPush(ctx, prefix+"LIST", "x")
	var re redis.Error
	if _, _, err := s.Get("LIST", time.Now()); !errors.As(err, &re) || !strings.HasPrefix(re.Error(), "WRONGTYPE") {
		t.Errorf("GET of a list: %v", err)
	}
	if got, ok, err := s.Get("KEY1", time.Now()); err != nil || !ok || got != orig {
		t.Errorf("Get after an error reply: %q %v %v", got, ok, err)
	}
}

func TestSRSExpiry(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	s := NewSRS(testClient(t, addr, prefix), prefix, 2*time.Second)
	if err := s.Put("SHORT", "a@b.test", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get("SHORT", time.Now()); err != nil || !ok {
		t.Fatalf("before expiry: %v %v", ok, err)
	}
	time.Sleep(600 * time.Millisecond) // Redis's own expiry, not a clock of ours
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

func TestSRSPrefixIsolation(t *testing.T) {
	addr := redisAddr(t)
	p := testPrefix(t)
	c := testClient(t, addr, p)
	a, b := NewSRS(c, p+"a:", time.Second), NewSRS(c, p+"b:", time.Second)
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

func TestSRSConcurrent(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	s := NewSRS(testClient(t, addr, prefix), prefix, 2*time.Second)
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
}

// Redis drops the client's connections (CLIENT KILL): the next
// operation reconnects without an error.
func TestSRSReconnect(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t)
	c := testClient(t, addr, prefix)
	s := NewSRS(c, prefix, 2*time.Second)
	if err := s.Put("K", "a@b.test", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The other clients of the shared Redis are left alone: only this
	// client's connections carry its name.
	name := fmt.Sprintf("srs-reconnect-%d", time.Now().UnixNano())
	o, _ := Options(addr, 2*time.Second)
	o.ClientName = name
	named := redis.NewClient(o)
	defer named.Close()
	ns := NewSRS(named, prefix, 2*time.Second)
	if _, ok, err := ns.Get("K", time.Now()); err != nil || !ok {
		t.Fatalf("named client: %v %v", ok, err)
	}
	list := c.ClientList(ctx).Val()
	var kill string
	for _, l := range strings.Split(list, "\n") {
		if strings.Contains(l, "name="+name+" ") {
			for _, f := range strings.Fields(l) {
				if v, ok := strings.CutPrefix(f, "id="); ok {
					kill = v
				}
			}
		}
	}
	if kill == "" {
		t.Fatalf("no connection named %s in\n%s", name, list)
	}
	if n := c.Do(ctx, "CLIENT", "KILL", "ID", kill).Val(); n != int64(1) {
		t.Fatalf("CLIENT KILL: %v", n)
	}
	if got, ok, err := ns.Get("K", time.Now()); err != nil || !ok || got != "a@b.test" {
		t.Fatalf("Get after CLIENT KILL: %q %v %v", got, ok, err)
	}
}
