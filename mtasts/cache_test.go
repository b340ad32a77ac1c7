package mtasts

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailpolicy/mailpolicy/resolver"
	"github.com/miekg/dns"
)

// cacheEnv is a Cache over a real DNS server and HTTPS server for
// example.com, with a settable clock.
type cacheEnv struct {
	t     *testing.T
	ca    *testCA
	ps    *policyServer
	swap  *swapResolver
	clock *clock
	c     *Cache
}

const host = "mta-sts.example.com"

func newCacheEnv(t *testing.T, id string) *cacheEnv {
	t.Helper()
	e := &cacheEnv{t: t, ca: newCA(t, "test CA"), ps: startPolicyServer(t), swap: &swapResolver{}, clock: newClock()}
	e.setID(id)
	e.serve(enforceBody)
	e.c = &Cache{Resolver: e.swap, Fetcher: e.ps.fetcher(e.ca), Now: e.clock.Now}
	return e
}

// setID points DNS at a zone where example.com's record has id ("":
// no record).
func (e *cacheEnv) setID(id string) *resolver.Resolver {
	lines := []string{"example.com. A 192.0.2.1"}
	if id != "" {
		lines = append(lines, `_mta-sts.example.com. TXT "v=STSv1; id=`+id+`"`)
	}
	_, r := dnsFor(e.t, lines...)
	e.swap.r.Store(r)
	return r
}

func (e *cacheEnv) serve(body string) {
	e.ps.policy(host, e.ca.issue(e.t, host), body)
}

func (e *cacheEnv) fail() {
	e.ps.set(host, nil, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) })
}

func (e *cacheEnv) get() *Result {
	e.t.Helper()
	r := e.c.Get(context.Background(), "example.com")
	if r.Domain != "example.com" {
		e.t.Fatalf("Result.Domain %q", r.Domain)
	}
	return r
}

func TestCacheUsesIDAndRefreshes(t *testing.T) {
	e := newCacheEnv(t, "1")
	r := e.get()
	if r.Policy == nil || r.Cached || r.Err != nil || r.ID != "1" || !r.Enforce() || r.Testing() || r.FetchFailed() ||
		!r.Expires.Equal(r.Fetched.Add(7*24*time.Hour)) || e.ps.hitCount(host) != 1 {
		t.Fatalf("first Get: %+v, %d fetches", r, e.ps.hitCount(host))
	}

	// Same id: from the cache, with the record looked up each time.
	e.clock.advance(time.Hour)
	if r := e.get(); r.Policy == nil || !r.Cached || r.Err != nil || e.ps.hitCount(host) != 1 {
		t.Fatalf("second Get: %+v, %d fetches", r, e.ps.hitCount(host))
	}

	// A new id: fetched again, the new policy replaces the old.
	e.setID("2")
	e.serve(strings.Replace(enforceBody, "enforce", "testing", 1))
	r = e.get()
	if r.Cached || r.ID != "2" || !r.Testing() || e.ps.hitCount(host) != 2 {
		t.Fatalf("after the id change: %+v, %d fetches", r, e.ps.hitCount(host))
	}

	// A day later, before expiry: refreshed although the id is the same.
	e.clock.advance(DefaultRefreshInterval)
	e.serve(enforceBody)
	r = e.get()
	if r.Cached || !r.Enforce() || e.ps.hitCount(host) != 3 || !r.Fetched.Equal(e.clock.Now()) {
		t.Fatalf("refresh after a day: %+v, %d fetches", r, e.ps.hitCount(host))
	}

	// The refresh fails: the cached policy stays, the failure is said.
	e.clock.advance(DefaultRefreshInterval)
	e.fail()
	r = e.get()
	var fe *FetchError
	if !r.Cached || !r.Enforce() || !errors.As(r.Err, &fe) || fe.Reason != ReasonStatus || !r.FetchFailed() {
		t.Fatalf("failed refresh: %+v", r)
	}

	// Past max_age with the fetch still failing: no policy.
	e.clock.advance(7 * 24 * time.Hour)
	r = e.get()
	if r.Policy != nil || r.Cached || !r.FetchFailed() {
		t.Fatalf("expired: %+v", r)
	}
}

// RFC 8461 §5.1: no record, a broken record or a failed lookup leave an
// unexpired cached policy in force; once it expires there is none.
func TestCacheKeepsPolicyWithoutRecord(t *testing.T) {
	e := newCacheEnv(t, "1")
	if r := e.get(); r.Policy == nil {
		t.Fatal(r.Err)
	}
	for name, set := range map[string]func(){
		"no record": func() { e.setID("") },
		"SERVFAIL": func() {
			z, r := dnsFor(t, "example.com. A 192.0.2.1")
			z.SetRcode("_mta-sts.example.com", dns.TypeTXT, dns.RcodeServerFailure)
			e.swap.r.Store(r)
		},
		"bad record": func() { e.setID("bad-id") },
	} {
		set()
		r := e.get()
		if !r.Cached || !r.Enforce() || r.Err == nil || r.FetchFailed() {
			t.Errorf("%s: %+v", name, r)
		}
	}
	e.setID("")
	e.clock.advance(7*24*time.Hour + time.Second)
	r := e.get()
	if r.Policy != nil || !errors.Is(r.Err, ErrNoRecord) {
		t.Errorf("expired without a record: %+v", r)
	}
	if n := e.ps.hitCount(host); n != 1 {
		t.Errorf("%d fetches, want 1: none without a record", n)
	}
}

func TestCacheWithoutPolicy(t *testing.T) {
	e := newCacheEnv(t, "")
	if r := e.get(); r.Policy != nil || !errors.Is(r.Err, ErrNoRecord) || r.FetchFailed() {
		t.Errorf("no record: %+v", r)
	}
	e.setID("1")
	e.fail()
	if r := e.get(); r.Policy != nil || !r.FetchFailed() {
		t.Errorf("record, fetch failing, nothing cached: %+v", r)
	}
	e.serve("version: STSv1\nmode: enforce\nmax_age: 100\n")
	r := e.get()
	var se *SyntaxError
	if r.Policy != nil || !r.FetchFailed() || !errors.As(r.Err, &se) {
		t.Errorf("invalid policy: %+v", r)
	}
	if r := e.c.Get(context.Background(), "exa mple.com"); r.Policy != nil || !errors.Is(r.Err, ErrInvalidDomain) {
		t.Errorf("invalid domain: %+v", r)
	}
}

// A policy in mode none replaces an enforcing one (RFC 8461 §8.3, how
// a domain withdraws its policy).
func TestCacheModeNone(t *testing.T) {
	e := newCacheEnv(t, "1")
	e.get()
	e.setID("2")
	e.serve("version: STSv1\nmode: none\nmax_age: 86400\n")
	r := e.get()
	if r.Policy == nil || r.Policy.Mode != ModeNone || r.Enforce() || r.Testing() {
		t.Fatalf("%+v", r)
	}
	// max_age 0: used for this delivery, fetched again for the next.
	e.setID("3")
	e.serve(strings.Replace(enforceBody, "604800", "0", 1))
	if r := e.get(); !r.Enforce() || r.Cached {
		t.Fatalf("max_age 0: %+v", r)
	}
	if r := e.get(); r.Cached || e.ps.hitCount(host) != 4 {
		t.Fatalf("max_age 0 again: %+v, %d fetches", r, e.ps.hitCount(host))
	}
}

func TestCachePersists(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mta-sts.json")
	e := newCacheEnv(t, "1")
	var logged []error
	e.c.File, e.c.ErrorLog = file, func(err error) { logged = append(logged, err) }
	e.get()
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}

	// A restart while the policy host is down: the policy is still known.
	e.fail()
	c2 := &Cache{Resolver: e.swap, Fetcher: e.ps.fetcher(e.ca), Now: e.clock.Now, File: file}
	if err := c2.Load(); err != nil {
		t.Fatal(err)
	}
	r := c2.Get(context.Background(), "example.com")
	if !r.Cached || !r.Enforce() || r.ID != "1" || !r.Policy.Match("x.mail.example.com") {
		t.Fatalf("after restart: %+v", r)
	}
	// Expired entries are not read back.
	e.clock.advance(8 * 24 * time.Hour)
	c3 := &Cache{Resolver: e.swap, Fetcher: e.ps.fetcher(e.ca), Now: e.clock.Now, File: file}
	if c3.Len() != 0 {
		t.Errorf("%d expired entries read back", c3.Len())
	}
	if len(logged) != 0 {
		t.Errorf("errors logged: %v", logged)
	}

	// A damaged file: Load says so, the cache works empty, and the next
	// change rewrites the file.
	os.WriteFile(file, []byte(`{"version":1,"entries":[{`), 0o600)
	c4 := &Cache{Resolver: e.swap, Fetcher: e.ps.fetcher(e.ca), Now: e.clock.Now, File: file}
	if err := c4.Load(); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("damaged file: %v", err)
	}
	e.serve(enforceBody)
	if r := c4.Get(context.Background(), "example.com"); r.Cached || r.Policy == nil {
		t.Errorf("after a damaged file: %+v", r)
	}
	c5 := &Cache{Now: e.clock.Now, File: file}
	if err := c5.Load(); err != nil || c5.Len() != 1 {
		t.Errorf("rewritten file: %v, %d entries", err, c5.Len())
	}

	// An entry whose policy does not parse is skipped and reported; a
	// lying expiry is held to max_age; the others are kept.
	now := e.clock.Now().UTC().Format(time.RFC3339)
	later := e.clock.Now().Add(100 * 24 * time.Hour).UTC().Format(time.RFC3339)
	os.WriteFile(file, []byte(`{"version":1,"entries":[
		{"domain":"a.test","id":"1","policy":"version: STSv1\nmode: enforce\nmax_age: 9\n","fetched":"`+now+`","expires":"`+later+`"},
		{"domain":"b.test","id":"1","policy":"version: STSv1\nmode: none\nmax_age: 86400\n","fetched":"`+now+`","expires":"`+later+`"}]}`), 0o600)
	var got []error
	c6 := &Cache{Now: e.clock.Now, File: file, ErrorLog: func(err error) { got = append(got, err) }}
	if c6.Len() != 1 || len(got) != 1 || !strings.Contains(got[0].Error(), "1 entries skipped") {
		t.Errorf("%d entries, errors %v", c6.Len(), got)
	}
	c6.mu.Lock()
	b := c6.entries["b.test"]
	c6.mu.Unlock()
	if b == nil || !b.expires.Equal(b.fetched.Add(24*time.Hour)) {
		t.Errorf("b.test: %+v", b)
	}

	// A file that cannot be written is reported, and the cache goes on.
	var werr []error
	c7 := &Cache{Resolver: e.swap, Fetcher: e.ps.fetcher(e.ca), Now: e.clock.Now,
		File: filepath.Join(t.TempDir(), "missing", "dir", "file"), ErrorLog: func(err error) { werr = append(werr, err) }}
	if r := c7.Get(context.Background(), "example.com"); r.Policy == nil || len(werr) != 1 {
		t.Errorf("unwritable file: %+v, %v", r, werr)
	}
}

// Refresh refetches what is due, drops what has expired.
func TestCacheRefresh(t *testing.T) {
	e := newCacheEnv(t, "1")
	e.get()
	if n := e.c.Refresh(context.Background()); n != 0 || e.ps.hitCount(host) != 1 {
		t.Fatalf("nothing due: %d refreshed, %d fetches", n, e.ps.hitCount(host))
	}
	e.clock.advance(25 * time.Hour)
	if n := e.c.Refresh(context.Background()); n != 1 || e.ps.hitCount(host) != 2 {
		t.Fatalf("due: %d refreshed, %d fetches", n, e.ps.hitCount(host))
	}
	e.clock.advance(8 * 24 * time.Hour)
	e.fail()
	if n := e.c.Refresh(context.Background()); n != 0 || e.c.Len() != 0 {
		t.Fatalf("expired: %d refreshed, %d entries", n, e.c.Len())
	}
}

// Concurrent Gets for one domain make one fetch.
func TestCacheOneFetch(t *testing.T) {
	e := newCacheEnv(t, "1")
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	e.ps.set(host, nil, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		textPlain(enforceBody)(w, r)
	})
	const n = 8
	var wg sync.WaitGroup
	results := make([]*Result, n)
	wg.Add(1)
	go func() { defer wg.Done(); results[0] = e.get() }()
	<-entered
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = e.get() }()
	}
	for {
		e.c.mu.Lock()
		w := e.c.flights["example.com"].waiters
		e.c.mu.Unlock()
		if w == n-1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		if !r.Enforce() {
			t.Errorf("Get %d: %+v", i, r)
		}
	}
	if h := e.ps.hitCount(host); h != 1 {
		t.Errorf("%d fetches", h)
	}
	// A waiter whose context ends stops waiting, and says why.
	stuck := &flight{done: make(chan struct{})}
	e.c.mu.Lock()
	e.c.flights["example.com"] = stuck
	e.c.mu.Unlock()
	e.setID("2")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			e.c.mu.Lock()
			w := stuck.waiters
			e.c.mu.Unlock()
			if w == 1 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	r := e.c.Get(ctx, "example.com")
	var fe *FetchError
	if !errors.As(r.Err, &fe) || !errors.Is(r.Err, context.Canceled) || !r.Cached {
		t.Errorf("cancelled waiter: %+v", r)
	}
}

func TestCacheBounded(t *testing.T) {
	ca := newCA(t, "test CA")
	ps := startPolicyServer(t)
	var lines []string
	for _, d := range []string{"a.test", "b.test", "c.test"} {
		lines = append(lines, `_mta-sts.`+d+`. TXT "v=STSv1; id=1"`)
		ps.policy("mta-sts."+d, ca.issue(t, "mta-sts."+d), enforceBody)
	}
	_, r := dnsFor(t, lines...)
	clk := newClock()
	c := &Cache{Resolver: r, Fetcher: ps.fetcher(ca), Now: clk.Now, MaxEntries: 2}
	for _, d := range []string{"a.test", "b.test", "c.test"} {
		c.Get(context.Background(), d)
		clk.advance(time.Minute)
	}
	c.mu.Lock()
	_, hasA := c.entries["a.test"]
	c.mu.Unlock()
	if c.Len() != 2 || hasA {
		t.Errorf("%d entries, a.test kept: %v", c.Len(), hasA)
	}
}
